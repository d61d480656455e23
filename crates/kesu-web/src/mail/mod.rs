//! E-mail in and out for complaints.
//!
//! - [`file`]: one received mail (from `kesu mail-in` or the IMAP poller)
//!   becomes a new complaint (channel `email`, state `received`, the
//!   customer found or created by address), a `customer_wrote` event on the
//!   complaint it answers, or an ignored auto-reply, bounce or list mail —
//!   in one transaction with its attachments, its `mail_messages` row and
//!   the automatic answer in the outbox; the same mail twice files once.
//! - [`reply`]: the automatic answer with the number, and staff replies
//!   from the complaint page, threaded by In-Reply-To/References.
//! - [`poll`]: the mailbox the admin set up, polled by `kesu serve`.
//!
//! Text kesu writes to customers is Chinese (the desk's language), from
//! the `mail.*` keys of `locales/mail.yml`.

pub mod file;
pub mod poll;
pub mod reply;

pub use file::{Filed, FilingError, Outcome, file_mail};
