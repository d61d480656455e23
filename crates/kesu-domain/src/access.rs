//! Who is acting, and what they may see.

use crate::codes::Role;
use crate::ids::{DepartmentId, UserId};

/// The person acting, as the process sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: UserId,
    pub roles: Vec<Role>,
    pub department_id: Option<DepartmentId>,
}

/// Which complaints a person may see in lists and open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// Customer service, the general manager, supervisors and admins see every complaint.
    All,
    /// A department manager sees the complaints dispatched to their department
    /// or asking it for input (R-OR-1).
    Department(DepartmentId),
    /// Someone with no role that sees complaints.
    Nothing,
}

impl Actor {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// What this person may see.
    pub fn visibility(&self) -> Visibility {
        if self
            .roles
            .iter()
            .any(|r| matches!(r, Role::Agent | Role::Gm | Role::Supervisor | Role::Admin))
        {
            Visibility::All
        } else if self.has(Role::Manager) {
            self.department_id
                .map_or(Visibility::Nothing, Visibility::Department)
        } else {
            Visibility::Nothing
        }
    }

    /// Whether this person may register complaints at all (any staff but a
    /// pure admin: other departments forward what they receive, R-IN-5).
    pub fn may_take_in(&self) -> bool {
        self.roles.iter().any(|r| !matches!(r, Role::Admin))
    }

    /// Whether this person configures the organisation.
    pub fn is_admin(&self) -> bool {
        self.has(Role::Admin)
    }
}
