//! kesu-mail's integration tests: one binary.
//!
//! - `fixtures`: the .eml files written by tests/fixtures/make_fixtures.py
//!   (Python's own encoders), decoded text asserted exactly.
//! - `detection`: auto-reply, bounce, list and no-reply rules one by one.
//! - `robustness`: truncated and garbage input, size limits.
//! - `imap`: fetch and mark against a real Dovecot started per test
//!   (`dovecot.rs`); Debian's `dovecot-imapd` must be installed
//!   (scripts/test installs it). Without it these tests fail, they do not skip.

mod detection;
mod dovecot;
mod fixtures;
mod imap;
mod robustness;

use std::path::Path;

/// A fixture's bytes.
pub fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every .eml fixture, by name.
pub fn all_fixtures() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("fixtures dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".eml"))
        .collect();
    names.sort();
    assert!(names.len() >= 11, "fixtures missing: {names:?}");
    names
        .into_iter()
        .map(|n| {
            let raw = fixture(&n);
            (n, raw)
        })
        .collect()
}
