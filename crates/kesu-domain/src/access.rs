//! Who is acting, and what they may see.

use crate::codes::Role;
use crate::ids::{DepartmentId, SiteId, UserId};

/// The person acting, as the process sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: UserId,
    pub roles: Vec<Role>,
    pub department_id: Option<DepartmentId>,
    /// The site this person works for; `None` for the group (集团) level,
    /// which sees every site.
    pub site_id: Option<SiteId>,
}

/// Which complaints a person may see in lists and open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// Group-level customer service, general manager and supervisors, and
    /// admins, see every complaint.
    All,
    /// Customer service, the general manager and supervisors of a site see
    /// that site's complaints (R-OR-1).
    Site(SiteId),
    /// A department manager sees the complaints dispatched to their department
    /// or asking it for input (R-OR-1).
    Department(DepartmentId),
    /// Someone with no role that sees complaints.
    Nothing,
}

/// Who acts on a complaint: a member of staff, or the customer themself.
///
/// The customer acts only through the portal (客户（网上）), after proving
/// with the complaint's tracking code that it is theirs. They hold no role,
/// no user id and no staff permission: the rules let them answer a proposal
/// waiting for them (R-HD-8) and the follow-up survey (R-FB-3), nothing else.
/// A `&Actor` converts into [`Acting::Staff`], so staff callers pass their
/// actor as before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acting<'a> {
    Staff(&'a Actor),
    Customer,
}

impl<'a> From<&'a Actor> for Acting<'a> {
    fn from(actor: &'a Actor) -> Self {
        Acting::Staff(actor)
    }
}

impl<'a> Acting<'a> {
    /// The staff member, if it is one.
    pub fn staff(self) -> Option<&'a Actor> {
        match self {
            Acting::Staff(actor) => Some(actor),
            Acting::Customer => None,
        }
    }

    pub fn is_customer(self) -> bool {
        self == Acting::Customer
    }
}

impl Actor {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// What this person may see.
    pub fn visibility(&self) -> Visibility {
        if self.has(Role::Admin) {
            Visibility::All
        } else if self
            .roles
            .iter()
            .any(|r| matches!(r, Role::Agent | Role::Gm | Role::Supervisor))
        {
            self.site_id.map_or(Visibility::All, Visibility::Site)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(roles: &[Role], dept: Option<i64>, site: Option<i64>) -> Actor {
        Actor {
            user_id: UserId(1),
            roles: roles.to_vec(),
            department_id: dept.map(DepartmentId),
            site_id: site.map(SiteId),
        }
    }

    #[test]
    fn the_group_sees_every_site_a_store_its_own_and_a_manager_their_department() {
        assert_eq!(
            actor(&[Role::Agent], Some(1), None).visibility(),
            Visibility::All
        );
        assert_eq!(
            actor(&[Role::Agent], Some(1), Some(2)).visibility(),
            Visibility::Site(SiteId(2))
        );
        assert_eq!(actor(&[Role::Gm], None, None).visibility(), Visibility::All);
        assert_eq!(
            actor(&[Role::Manager], Some(7), Some(2)).visibility(),
            Visibility::Department(DepartmentId(7))
        );
        assert_eq!(
            actor(&[Role::Manager], None, None).visibility(),
            Visibility::Nothing
        );
        assert_eq!(
            actor(&[Role::Admin], Some(7), Some(2)).visibility(),
            Visibility::All
        );
        assert_eq!(actor(&[], None, None).visibility(), Visibility::Nothing);
    }
}
