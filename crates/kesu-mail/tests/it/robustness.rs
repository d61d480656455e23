//! No input makes parsing panic; limits give a clear error.

use kesu_mail::{Limits, MailError, Oversized, parse, parse_with_limits};

use crate::{all_fixtures, fixture};

#[test]
fn every_truncation_of_every_fixture_is_an_answer_not_a_panic() {
    for (name, raw) in all_fixtures() {
        for end in 0..raw.len() {
            // Ok (a partial mail) or Err: both are answers.
            let _ = parse(&raw[..end]);
        }
        // Chopped from the front, too: the header block is gone or cut.
        for start in (1..raw.len()).step_by(7) {
            let _ = parse(&raw[start..]);
        }
        assert!(parse(&raw).is_ok(), "{name}");
    }
}

#[test]
fn cut_headers_are_malformed() {
    let raw = fixture("gb2312_base64.eml");
    for end in [0, 1, 10, 20] {
        assert!(
            matches!(parse(&raw[..end]), Err(MailError::Malformed(_))),
            "cut at {end}"
        );
    }
}

#[test]
fn garbage_is_malformed() {
    // A fixed pseudo-random sequence (xorshift), so failures reproduce.
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for len in [1usize, 2, 17, 100, 1000, 10_000] {
        let bytes: Vec<u8> = (0..len).map(|_| (next() & 0xff) as u8).collect();
        let _ = parse(&bytes);
    }
    for junk in [
        &b""[..],
        b"   \r\n\r\n",
        b"\x00\x01\x02\xff\xfe",
        b"hello world, not a mail",
        b"\r\n\r\nbody without headers",
        b"Subject: no sender\r\n\r\nbody",
        b"From: \r\n\r\nbody",
        b"From: <>\r\n\r\n",
    ] {
        assert!(
            matches!(parse(junk), Err(MailError::Malformed(_))),
            "{:?}",
            String::from_utf8_lossy(junk)
        );
    }
}

#[test]
fn deep_nesting_and_broken_mime_do_not_panic() {
    let mut raw = String::from("From: a@example.com\r\nSubject: nest\r\n");
    for i in 0..200 {
        raw.push_str(&format!(
            "Content-Type: multipart/mixed; boundary=b{i}\r\n\r\n--b{i}\r\n"
        ));
    }
    raw.push_str("Content-Type: text/plain\r\n\r\ninside\r\n");
    let _ = parse(raw.as_bytes());
    let broken = "From: a@example.com\r\nContent-Type: multipart/mixed; boundary=\"\r\n\
                  Content-Transfer-Encoding: base64\r\n\r\n--\r\n=?x?q?=?=\r\n%%%\r\n";
    let _ = parse(broken.as_bytes());
    let bad_charset = b"From: a@example.com\r\nSubject: =?no-such-charset?B?////?=\r\n\
                        Content-Type: text/plain; charset=no-such-charset\r\n\r\n\xff\xfe\r\n";
    assert!(parse(bad_charset).is_ok());
}

#[test]
fn a_message_over_the_limit_is_too_large() {
    let raw = fixture("attachments.eml");
    let limits = Limits {
        max_message_bytes: 1000,
        ..Limits::default()
    };
    assert_eq!(
        parse_with_limits(&raw, &limits),
        Err(MailError::TooLarge {
            what: Oversized::Message,
            size: raw.len(),
            limit: 1000
        })
    );
}

#[test]
fn an_attachment_over_the_limit_is_too_large() {
    let raw = fixture("attachments.eml");
    let limits = Limits {
        max_attachment_bytes: 100,
        ..Limits::default()
    };
    let err = parse_with_limits(&raw, &limits).expect_err("too large");
    assert_eq!(
        err,
        MailError::TooLarge {
            what: Oversized::Attachment("破损照片.jpg".into()),
            size: 278,
            limit: 100
        }
    );
    assert_eq!(
        err.to_string(),
        "the attachment \"破损照片.jpg\" is 278 bytes, more than the limit of 100 bytes"
    );
}
