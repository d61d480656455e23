//! The tracking code (查询码): the secret that, with the complaint number,
//! lets the customer follow their complaint on the portal.
//!
//! Eight characters from an alphabet without look-alikes (no 0/O, 1/I/L):
//! 31⁸ ≈ 8.5 × 10¹¹ codes, about 40 bits. The number is not secret (it is
//! sequential and may be read out on the phone), the code is: shown once
//! at filing, stored only as a hash, and wrong guesses are limited per
//! address, so guessing one is hopeless. The last digits of a phone number
//! would not be: ten thousand guesses at most.

use crate::error::Failure;

/// The characters of a code.
const ALPHABET: &[u8; 31] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
/// How many characters a code has.
pub const LENGTH: usize = 8;

/// A tracking code in its canonical form (upper case, no separators).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackingCode(String);

impl TrackingCode {
    /// A new random code from the operating system's randomness.
    ///
    /// # Errors
    /// [`Failure::Internal`] when the system has no randomness.
    pub fn generate() -> Result<TrackingCode, Failure> {
        let mut code = String::with_capacity(LENGTH);
        // Rejection sampling: bytes of 248 and above would favour the first
        // characters of the alphabet.
        let limit = u8::try_from(ALPHABET.len() * 8).unwrap_or(u8::MAX);
        while code.len() < LENGTH {
            let mut bytes = [0u8; 16];
            getrandom::fill(&mut bytes).map_err(|e| Failure::Internal(format!("random: {e}")))?;
            for b in bytes {
                if b < limit && code.len() < LENGTH {
                    code.push(char::from(ALPHABET[usize::from(b) % ALPHABET.len()]));
                }
            }
        }
        Ok(TrackingCode(code))
    }

    /// A code as the customer types it: any case, with spaces or dashes.
    /// `None` when it cannot be a code (the caller answers neutrally).
    pub fn parse(raw: &str) -> Option<TrackingCode> {
        let code: String = raw
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        (code.len() == LENGTH && code.bytes().all(|b| ALPHABET.contains(&b)))
            .then_some(TrackingCode(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// For reading aloud and writing down: `ABCD-EFGH`.
    pub fn display(&self) -> String {
        format!("{}-{}", &self.0[..LENGTH / 2], &self.0[LENGTH / 2..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_code_has_eight_unambiguous_characters_and_reads_back() {
        let Ok(code) = TrackingCode::generate() else {
            panic!("no randomness")
        };
        assert_eq!(code.as_str().len(), LENGTH);
        assert!(!code.as_str().contains(['0', 'O', '1', 'I', 'L']));
        assert_eq!(TrackingCode::parse(&code.display()), Some(code.clone()));
        assert_eq!(
            TrackingCode::parse(&code.as_str().to_lowercase()),
            Some(code)
        );
    }

    #[test]
    fn two_codes_differ() {
        let a = TrackingCode::generate().ok();
        let b = TrackingCode::generate().ok();
        assert!(a.is_some() && a != b);
    }

    #[test]
    fn typed_codes_are_forgiven_spaces_dashes_and_case_but_not_look_alikes() {
        assert_eq!(
            TrackingCode::parse(" k7qm-3xpa "),
            Some(TrackingCode("K7QM3XPA".into()))
        );
        assert_eq!(TrackingCode::parse("K7QM 3XP"), None, "too short");
        assert_eq!(TrackingCode::parse("K7QM3XP0"), None, "0 is never used");
        assert_eq!(TrackingCode::parse("查询码查询码查询"), None);
    }
}
