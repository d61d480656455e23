//! Newtypes for database ids, so that a department id is never passed where a
//! user id is meant.

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    )*};
}

id_type!(
    /// A complaint's internal id (the customer sees its number instead).
    ComplaintId,
    /// A staff member.
    UserId,
    /// A department within a site.
    DepartmentId,
    /// A site: a store, a 4S dealership, a branch.
    SiteId,
    /// One resolution proposal of a complaint (R-HD-6).
    ProposalId,
    /// A sub-task asked of another department (R-HD-10).
    TaskId,
    /// A stored file attached to a complaint.
    AttachmentId,
);
