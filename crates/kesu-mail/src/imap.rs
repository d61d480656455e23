//! Polling a mailbox over IMAP (RFC 3501) with async-imap.
//!
//! Each call opens its own connection, does its work and logs out: a poll
//! every minute or so needs no connection kept alive, and a server restart
//! between polls costs nothing.
//!
//! **Fetch, store, then mark.** [`fetch_unseen`] reads with `BODY.PEEK[]`
//! (in a read-only `EXAMINE`), so fetching changes nothing on the server.
//! The caller files each mail and commits, and only then calls
//! [`mark_seen`] with the UIDs it stored. A crash in between means the
//! mails are fetched again at the next poll, never lost: file them
//! idempotently (by Message-ID, or by UIDVALIDITY + UID).

use futures_util::TryStreamExt;
use tokio::time::timeout;

mod config;
mod connect;
mod error;
mod stream;

pub use config::{ImapConfig, Security};
use connect::{Access, connect, open};
pub use error::ImapError;

type Session = async_imap::Session<stream::MailStream>;

/// One unseen message as the server holds it.
#[derive(Clone, PartialEq, Eq)]
pub struct FetchedMail {
    /// The message's UID in the mailbox: what [`mark_seen`] takes.
    pub uid: u32,
    /// The mailbox's UIDVALIDITY when it was fetched: a UID means this
    /// message only while it is unchanged (0 if the server gave none).
    pub uid_validity: u32,
    /// The whole message, for [`parse`](crate::parse).
    pub raw: Vec<u8>,
}

impl std::fmt::Debug for FetchedMail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FetchedMail")
            .field("uid", &self.uid)
            .field("uid_validity", &self.uid_validity)
            .field("size", &self.raw.len())
            .finish()
    }
}

/// Fetches up to `limit` unseen messages, oldest first, without marking
/// them seen.
///
/// # Errors
/// [`ImapError`]: connection, TLS, login, mailbox, timeout or protocol.
pub async fn fetch_unseen(
    config: &ImapConfig,
    limit: usize,
) -> Result<Vec<FetchedMail>, ImapError> {
    let mut session = connect(config).await?;
    let result = fetch_in(&mut session, config, limit).await;
    logout(session, config).await;
    result
}

async fn fetch_in(
    session: &mut Session,
    config: &ImapConfig,
    limit: usize,
) -> Result<Vec<FetchedMail>, ImapError> {
    let mailbox = open(session, config, Access::ReadOnly).await?;
    let uid_validity = mailbox.uid_validity.unwrap_or(0);
    let found = step(config, "UID SEARCH", session.uid_search("UNSEEN")).await?;
    let mut uids: Vec<u32> = found.into_iter().collect();
    uids.sort_unstable();
    uids.truncate(limit);
    if uids.is_empty() {
        return Ok(Vec::new());
    }
    let set = uid_set(&uids);
    let mut fetches = step(
        config,
        "UID FETCH",
        session.uid_fetch(&set, "(UID BODY.PEEK[])"),
    )
    .await?;
    let mut mails = Vec::with_capacity(uids.len());
    while let Some(fetch) = step(config, "UID FETCH", fetches.try_next()).await? {
        if let (Some(uid), Some(body)) = (fetch.uid, fetch.body()) {
            mails.push(FetchedMail {
                uid,
                uid_validity,
                raw: body.to_vec(),
            });
        }
    }
    mails.sort_by_key(|m| m.uid);
    tracing::debug!(imap.mailbox = %config.mailbox, imap.fetched = mails.len(), "fetched unseen mail");
    Ok(mails)
}

/// Marks messages seen (`\Seen`), after the caller stored them. UIDs the
/// mailbox no longer holds are ignored by the server.
///
/// # Errors
/// [`ImapError::UidValidityChanged`] when `uid_validity` is not the
/// mailbox's any more (nothing is marked); otherwise as [`fetch_unseen`].
pub async fn mark_seen(
    config: &ImapConfig,
    uid_validity: u32,
    uids: &[u32],
) -> Result<(), ImapError> {
    if uids.is_empty() {
        return Ok(());
    }
    let mut session = connect(config).await?;
    let result = mark_in(&mut session, config, uid_validity, uids).await;
    logout(session, config).await;
    result
}

async fn mark_in(
    session: &mut Session,
    config: &ImapConfig,
    uid_validity: u32,
    uids: &[u32],
) -> Result<(), ImapError> {
    let mailbox = open(session, config, Access::ReadWrite).await?;
    let found = mailbox.uid_validity.unwrap_or(0);
    if found != uid_validity {
        return Err(ImapError::UidValidityChanged {
            expected: uid_validity,
            found,
        });
    }
    let mut sorted = uids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let updates = step(
        config,
        "UID STORE",
        session.uid_store(uid_set(&sorted), "+FLAGS.SILENT (\\Seen)"),
    )
    .await?;
    let mut updates = std::pin::pin!(updates);
    while step(config, "UID STORE", updates.try_next())
        .await?
        .is_some()
    {}
    tracing::debug!(imap.mailbox = %config.mailbox, imap.marked = sorted.len(), "marked mail seen");
    Ok(())
}

/// Runs one command (or waits for one answer) within the command timeout.
async fn step<T>(
    config: &ImapConfig,
    command: &'static str,
    fut: impl Future<Output = Result<T, async_imap::error::Error>>,
) -> Result<T, ImapError> {
    timeout(config.command_timeout(), fut)
        .await
        .map_err(|_| ImapError::Timeout {
            step: command,
            secs: config.command_timeout_secs,
        })?
        .map_err(|source| ImapError::Protocol { command, source })
}

/// Best effort: the work is done, a failed LOGOUT changes nothing.
async fn logout(mut session: Session, config: &ImapConfig) {
    if let Err(e) = step(config, "LOGOUT", session.logout()).await {
        tracing::debug!(error = %e, "IMAP logout failed");
    }
}

/// A UID set in IMAP syntax, runs folded: `[1, 2, 3, 7]` → `1:3,7`.
fn uid_set(sorted: &[u32]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < sorted.len() {
        let start = sorted[i];
        let mut end = start;
        while i + 1 < sorted.len() && sorted[i + 1] == end.saturating_add(1) {
            i += 1;
            end = sorted[i];
        }
        parts.push(if start == end {
            start.to_string()
        } else {
            format!("{start}:{end}")
        });
        i += 1;
    }
    parts.join(",")
}

#[cfg(test)]
mod tests {
    use super::uid_set;

    #[test]
    fn uid_sets_fold_runs() {
        assert_eq!(uid_set(&[1, 2, 3, 7, 9, 10]), "1:3,7,9:10");
        assert_eq!(uid_set(&[5]), "5");
        assert_eq!(uid_set(&[]), "");
    }
}
