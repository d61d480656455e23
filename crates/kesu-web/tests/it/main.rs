//! kesu-web integration tests: the real router on a local port, driven over
//! HTTP, on SQLite and on PostgreSQL (`both_backends!`).
//!
//! `helpers` starts an app with a small organisation; the other modules are
//! grouped by what they check. Set `KESU_SKIP_POSTGRES=1` to skip the
//! PostgreSQL half on a machine without it.

mod admin_deadlines;
mod api_access;
mod api_bad_input;
mod api_lifecycle;
mod browser;
mod customer_messages;
mod helpers;
mod intake;
mod mail;
mod notify;
mod pages;
mod portal;
mod sms_peer;
mod taxonomy;
mod two_nodes;
mod wechat;
