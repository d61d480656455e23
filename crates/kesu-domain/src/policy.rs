//! Process settings an admin can change; the seeds' numbers are the defaults.

use serde::{Deserialize, Serialize};

/// The configurable parts of the lifecycle rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// Compensation above this amount (in fen, 分) needs the general manager's
    /// approval even for a general complaint (R-HD-7). Major complaints always
    /// need it. Default 500 yuan.
    pub approval_limit_fen: i64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            approval_limit_fen: 50_000,
        }
    }
}
