//! The one place that reads the system clock; tests use [`MockClock`].

use std::sync::Mutex;

use jiff::{SignedDuration, Timestamp};

pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

/// The real clock.
#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that stands still until told to move.
#[derive(Debug)]
pub struct MockClock(Mutex<Timestamp>);

impl MockClock {
    pub fn new(at: Timestamp) -> Self {
        MockClock(Mutex::new(at))
    }

    pub fn advance(&self, by: SignedDuration) {
        if let Ok(mut t) = self.0.lock() {
            *t = t.saturating_add(by).unwrap_or(*t);
        }
    }
}

impl Clock for MockClock {
    fn now(&self) -> Timestamp {
        self.0.lock().map(|t| *t).unwrap_or(Timestamp::UNIX_EPOCH)
    }
}
