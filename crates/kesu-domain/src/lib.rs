//! kesu's complaint process, as plain data and functions.
//!
//! This crate owns what a complaint desk *means*: the lifecycle states and
//! which transitions are legal for which role ([`complaint`]), who may see and
//! do what ([`access`]), and the parsed input types that can only exist when
//! valid ([`input`]).
//!
//! It must never depend on a database, a network, a runtime or the system
//! clock: time, ids and randomness are arguments. Handlers load a
//! [`complaint::Complaint`], call [`complaint::Complaint::decide`] and store the
//! returned events; nothing here performs an effect.

pub mod access;
pub mod codes;
pub mod complaint;
pub mod deadlines;
pub mod ids;
pub mod input;
pub mod policy;

pub use access::{Acting, Actor};
pub use codes::{
    Channel, ClockKind, ContactMethod, FollowUpOutcome, ForwardingBody, Role, Rung, Severity,
    Signal, State, Trigger,
};
pub use complaint::{Action, Command, Complaint, Event, Refusal};
pub use ids::{AttachmentId, ComplaintId, DepartmentId, ProposalId, SiteId, TaskId, UserId};
pub use policy::Policy;
