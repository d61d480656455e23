//! The mailbox kesu polls (set by the admin); filled in below.
