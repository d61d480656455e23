//! The mailbox kesu polls: the admin's settings (`mailbox`, a
//! [`kesu_mail::ImapConfig`] plus `enabled`) and one poll — fetch the unseen
//! mail, file each one, then mark them seen. A crash between filing and
//! marking re-reads the mail at the next poll and filing it again changes
//! nothing (the Message-ID is known), so nothing is lost or filed twice.
//! The result of the last poll is kept in `mailbox_status` for the admin;
//! a failing mailbox is logged and retried, never fatal.

use kesu_mail::{ImapConfig, fetch_unseen, mark_seen};
use kesu_storage::StorageError;
use kesu_storage::mail::{MAILBOX_KEY, MAILBOX_STATUS_KEY};
use serde::{Deserialize, Serialize};

use super::{FilingError, file_mail};
use crate::AppState;

/// The mailbox as the admin set it up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailboxSettings {
    /// Polled only when on.
    #[serde(default)]
    pub enabled: bool,
    #[serde(flatten)]
    pub imap: ImapConfig,
}

impl MailboxSettings {
    /// The saved mailbox, if any (unreadable settings are logged and ignored).
    ///
    /// # Errors
    /// The driver's error.
    pub async fn load(state: &AppState) -> Result<Option<MailboxSettings>, StorageError> {
        Ok(state
            .db
            .setting(MAILBOX_KEY)
            .await?
            .and_then(|raw| match serde_json::from_str(&raw) {
                Ok(s) => Some(s),
                Err(e) => {
                    tracing::warn!(error = %e, "mailbox settings unreadable; not polling");
                    None
                }
            }))
    }

    /// Saves the mailbox.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn save(&self, state: &AppState) -> Result<(), StorageError> {
        let json = serde_json::to_string(self).map_err(|e| StorageError::Corrupt(e.to_string()))?;
        state.db.set_setting(MAILBOX_KEY, &json).await
    }
}

/// What the last poll did (shown to the admin).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollStatus {
    /// When it ran (Unix milliseconds).
    pub at: i64,
    pub fetched: usize,
    /// Filed (new complaint, added, ignored or filed before).
    pub filed: usize,
    /// Not a mail kesu can file: logged and marked seen (it stays in the mailbox).
    pub unreadable: usize,
    /// Why the poll failed, if it did.
    pub error: Option<String>,
}

impl PollStatus {
    /// The last poll's result, if any.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn load(state: &AppState) -> Result<Option<PollStatus>, StorageError> {
        Ok(state
            .db
            .setting(MAILBOX_STATUS_KEY)
            .await?
            .and_then(|raw| serde_json::from_str(&raw).ok()))
    }
}

/// Polls the mailbox once, when one is set up and on; `None` otherwise.
///
/// # Errors
/// The driver's error when the status cannot be saved (a failing mailbox
/// is a status, not an error).
pub async fn poll_once(state: &AppState) -> Result<Option<PollStatus>, StorageError> {
    let Some(settings) = MailboxSettings::load(state).await? else {
        return Ok(None);
    };
    if !settings.enabled {
        return Ok(None);
    }
    let mut status = PollStatus {
        at: state.now().as_millisecond(),
        ..PollStatus::default()
    };
    match fetch_unseen(&settings.imap, 50).await {
        Err(e) => status.error = Some(e.to_string()),
        Ok(fetched) => {
            status.fetched = fetched.len();
            let mut done = Vec::new();
            for m in &fetched {
                match file_mail(state, &m.raw).await {
                    Ok(_) => {
                        status.filed += 1;
                        done.push(m.uid);
                    }
                    Err(FilingError::Unreadable(e)) => {
                        tracing::warn!(mail.uid = m.uid, error = %e, "mail in the mailbox not filed");
                        status.unreadable += 1;
                        done.push(m.uid);
                    }
                    // The database failed: leave it unseen for the next poll.
                    Err(FilingError::Unavailable(e)) => {
                        status.error = Some(e);
                        break;
                    }
                }
            }
            if let Some(first) = fetched.first()
                && let Err(e) = mark_seen(&settings.imap, first.uid_validity, &done).await
            {
                status.error = Some(e.to_string());
            }
        }
    }
    if let Some(e) = &status.error {
        tracing::warn!(error = %e, "polling the mailbox failed; trying again at the next poll");
    }
    let json = serde_json::to_string(&status).map_err(|e| StorageError::Corrupt(e.to_string()))?;
    state.db.set_setting(MAILBOX_STATUS_KEY, &json).await?;
    Ok(Some(status))
}
