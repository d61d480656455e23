//! Process settings an admin can change; the seeds' numbers are the defaults.

use serde::{Deserialize, Serialize};

/// The configurable parts of the lifecycle rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// Compensation above this amount (in fen, 分) needs the general manager's
    /// approval even for a general complaint (R-HD-7). Major complaints always
    /// need it. Default 500 yuan.
    pub approval_limit_fen: i64,
    /// The same customer back about the same vehicle or order within this
    /// many days is a repeated fault (R-CL-2 repeat_fault). Default 90.
    #[serde(default = "default_repeat_window_days")]
    pub repeat_window_days: i64,
    /// At registration the same customer's complaints of this many days and
    /// open complaints with similar words are proposed as possible
    /// duplicates (R-IN-3). Default 30.
    #[serde(default = "default_duplicate_window_days")]
    pub duplicate_window_days: i64,
}

fn default_repeat_window_days() -> i64 {
    90
}

fn default_duplicate_window_days() -> i64 {
    30
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            approval_limit_fen: 50_000,
            repeat_window_days: default_repeat_window_days(),
            duplicate_window_days: default_duplicate_window_days(),
        }
    }
}
