//! The signature WeChat puts on every request to the endpoint, as its
//! developer documentation (接入指南 / 验证消息的确来自微信服务器) gives it:
//! the token the admin set, the `timestamp` and the `nonce` of the query,
//! sorted as strings, joined without a separator, SHA-1, lower-case hex —
//! compared with the query's `signature`. In plaintext mode (明文模式) the
//! body is not signed; the timestamp is checked against the clock so an
//! overheard request cannot be replayed later.

use jiff::Timestamp;
use sha1::{Digest, Sha1};

/// How far WeChat's timestamp may be from the desk's clock.
pub const MAX_SKEW_SECS: i64 = 300;

/// `sha1(sort([token, timestamp, nonce]).join(""))`, lower-case hex.
pub fn sign(token: &str, timestamp: &str, nonce: &str) -> String {
    let mut parts = [token, timestamp, nonce];
    parts.sort_unstable();
    hex::encode(Sha1::digest(parts.concat().as_bytes()))
}

/// The signed part of a request's query.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SignedQuery {
    pub signature: String,
    pub timestamp: String,
    pub nonce: String,
    /// `GET` only: the string to answer.
    pub echostr: Option<String>,
    /// `POST` in plaintext mode: the sender.
    pub openid: Option<String>,
    /// `aes` when the account encrypts (safe mode, not supported).
    pub encrypt_type: Option<String>,
}

impl SignedQuery {
    /// Reads the query string (missing fields are empty and fail [`Self::verify`]).
    pub fn parse(raw: Option<&str>) -> SignedQuery {
        let mut q = SignedQuery::default();
        for (k, v) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
            match k.as_ref() {
                "signature" => q.signature = v.into_owned(),
                "timestamp" => q.timestamp = v.into_owned(),
                "nonce" => q.nonce = v.into_owned(),
                "echostr" => q.echostr = Some(v.into_owned()),
                "openid" => q.openid = Some(v.into_owned()),
                "encrypt_type" => q.encrypt_type = Some(v.into_owned()),
                _ => {}
            }
        }
        q
    }

    /// Whether the request comes from WeChat: a signature that matches
    /// `token`, and a timestamp within [`MAX_SKEW_SECS`] of `now`.
    pub fn verify(&self, token: &str, now: Timestamp) -> bool {
        let Ok(at) = self.timestamp.parse::<i64>() else {
            return false;
        };
        if token.is_empty()
            || self.nonce.is_empty()
            || self.nonce.len() > 64
            || (now.as_second() - at).abs() > MAX_SKEW_SECS
        {
            return false;
        }
        let expected = sign(token, &self.timestamp, &self.nonce);
        let given = self.signature.to_ascii_lowercase();
        // Compared in constant time: the difference says nothing of the token.
        expected.len() == given.len()
            && expected
                .bytes()
                .zip(given.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_the_sorted_concatenation() {
        // sorted: "1409304348" < "xxxxxx"(nonce) < "yourtoken"
        let expected = hex::encode(Sha1::digest(b"1409304348xxxxxxyourtoken"));
        assert_eq!(sign("yourtoken", "1409304348", "xxxxxx"), expected);
        assert_eq!(sign("yourtoken", "1409304348", "xxxxxx").len(), 40);
    }

    #[test]
    fn refuses_a_wrong_signature_and_a_stale_timestamp() {
        let now = Timestamp::from_second(1_409_304_348).unwrap_or(Timestamp::UNIX_EPOCH);
        let mut q = SignedQuery {
            signature: sign("tok", "1409304348", "n1"),
            timestamp: "1409304348".into(),
            nonce: "n1".into(),
            ..SignedQuery::default()
        };
        assert!(q.verify("tok", now));
        assert!(!q.verify("other", now));
        assert!(!q.verify("tok", now + jiff::SignedDuration::from_secs(301)));
        q.signature.replace_range(0..1, "x");
        assert!(!q.verify("tok", now));
    }
}
