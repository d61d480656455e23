//! Filing one received mail.
//!
//! Where it goes: a mail that answers a Message-ID kesu received or sent,
//! or whose subject carries a complaint number and whose sender is that
//! complaint's customer (or has mailed in on it), continues that complaint
//! as a `customer_wrote` event. Another sender naming a number gets a
//! complaint of its own that names it. A merged complaint passes the mail on to the
//! complaint it was merged into. A closed complaint is done: a real desk
//! opens a new complaint for a customer who writes again after the close
//! (the matter came back, or it is a new one) and names the earlier number
//! in it, rather than changing a closed record. Withdrawn and rejected
//! complaints still take the customer's mail (they may disagree).
//!
//! Auto-replies, bounces and list mail never open a complaint and are
//! never answered; they are recorded (linked to their complaint when they
//! thread) so that a second delivery is recognised.
//!
//! Attachments pass the same checks as staff uploads (size, type judged by
//! content, count); one that fails does not lose the mail: the complaint is
//! filed, the refusal is an `attachment_refused` event in its history and
//! the automatic answer tells the customer.

use kesu_domain::input::ComplaintNumber;
use kesu_domain::{Acting, AttachmentId, Channel, Command, Event};
use kesu_mail::{InboundMail, Limits, MailKind, ThreadKey};
use kesu_storage::complaints;
use kesu_storage::mail as stored;
use sha2::Digest;

use super::reply;
use crate::AppState;
use crate::actions::{self, CustomerIn, FileIn, NewComplaintIn};
use crate::error::Failure;
use crate::i18n::{Lang, t};

/// The largest message read at all (a mail with a 30 MB file is read, and
/// the file refused by the attachment limit, so the complaint is not lost).
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024 * 1024;

/// What a mail became.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A new complaint (channel e-mail).
    NewComplaint,
    /// A `customer_wrote` event on an existing complaint.
    Added,
    IgnoredAutoReply,
    IgnoredBounce,
    /// List or bulk mail.
    IgnoredBulk,
    /// Filed before (the same Message-ID, or the same bytes without one):
    /// what it became then.
    Duplicate(String),
}

impl Outcome {
    /// The code stored in `mail_messages.outcome` (and printed by `kesu mail-in`).
    pub fn as_str(&self) -> &str {
        match self {
            Outcome::NewComplaint => "new_complaint",
            Outcome::Added => "added",
            Outcome::IgnoredAutoReply => "ignored_auto_reply",
            Outcome::IgnoredBounce => "ignored_bounce",
            Outcome::IgnoredBulk => "ignored_bulk",
            Outcome::Duplicate(_) => "duplicate",
        }
    }
}

/// A file that came with the mail and was not kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub filename: String,
    /// `too_large`, `unsupported_type`, `empty` or `too_many`.
    pub reason: &'static str,
}

/// The result of filing one mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filed {
    /// Without angle brackets; `raw-sha256:…` for a mail without one.
    pub message_id: String,
    pub outcome: Outcome,
    /// The complaint it became or joined (or, ignored, threads to).
    pub number: Option<String>,
    pub refused: Vec<Refused>,
    /// An automatic answer was queued.
    pub answered: bool,
}

/// Why a mail could not be filed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilingError {
    /// The bytes are not a mail kesu can file (no sender, garbage, over
    /// [`MAX_MESSAGE_BYTES`], a sender address that is not one): trying
    /// again will not help.
    #[error("{0}")]
    Unreadable(String),
    /// The database failed: nothing was written; try again later.
    #[error("{0}")]
    Unavailable(String),
}

impl From<Failure> for FilingError {
    fn from(f: Failure) -> Self {
        match f {
            Failure::Invalid(e) => {
                FilingError::Unreadable(Failure::Invalid(e).describe(Lang::En).1)
            }
            Failure::InvalidText(s) | Failure::Malformed(s) => FilingError::Unreadable(s),
            other => FilingError::Unavailable(format!("{other:?}")),
        }
    }
}

impl From<kesu_storage::StorageError> for FilingError {
    fn from(e: kesu_storage::StorageError) -> Self {
        FilingError::Unavailable(e.to_string())
    }
}

/// Where a mail goes.
enum Target {
    /// A new complaint; `earlier` is a closed complaint the mail continues,
    /// `mentions` one whose number it names but whose correspondent it is
    /// not.
    New {
        earlier: Option<String>,
        mentions: Option<String>,
    },
    Open(String),
}

/// Whether `address` is the complaint's customer or has mailed in on it
/// before.
async fn known_sender(
    state: &AppState,
    row: &kesu_storage::complaints::ComplaintRow,
    address: &str,
) -> Result<bool, FilingError> {
    let same = |a: &str| a.trim().eq_ignore_ascii_case(address.trim());
    if row.customer_email.as_deref().is_some_and(same) {
        return Ok(true);
    }
    let mails = state
        .db
        .complaint_mails(kesu_domain::ComplaintId(row.id))
        .await?;
    Ok(mails
        .iter()
        .any(|m| m.direction == "in" && m.outcome != "ignored_bounce" && same(&m.address)))
}

/// Files one raw mail. Idempotent: the same mail again returns
/// [`Outcome::Duplicate`] and writes nothing.
///
/// # Errors
/// [`FilingError::Unreadable`] for input that is not a mail kesu can file,
/// [`FilingError::Unavailable`] when the database failed (nothing written).
#[tracing::instrument(skip_all, fields(mail.size = raw.len()))]
pub async fn file_mail(state: &AppState, raw: &[u8]) -> Result<Filed, FilingError> {
    let limits = Limits {
        max_message_bytes: MAX_MESSAGE_BYTES,
        max_attachment_bytes: MAX_MESSAGE_BYTES,
    };
    let mail = kesu_mail::parse_with_limits(raw, &limits)
        .map_err(|e| FilingError::Unreadable(e.to_string()))?;
    let message_id = mail
        .message_id
        .as_deref()
        .and_then(kesu_mail::normalize_message_id)
        .filter(|id| id.len() <= 500)
        .unwrap_or_else(|| format!("raw-sha256:{}", hex::encode(sha2::Sha256::digest(raw))));
    if let Some(before) = state.db.mail_message(&message_id).await? {
        return duplicate(state, before).await;
    }
    let target = find_target(state, &mail).await?;
    let ignored = match (&mail.kind, &mail.bulk) {
        (MailKind::Bounce { .. }, _) => Some(Outcome::IgnoredBounce),
        (MailKind::AutoReply { .. }, _) => Some(Outcome::IgnoredAutoReply),
        (MailKind::Normal, Some(_)) => Some(Outcome::IgnoredBulk),
        (MailKind::Normal, None) => None,
    };
    if let Some(outcome) = ignored {
        return ignore(state, &mail, message_id, target, outcome).await;
    }
    let (files, refused) = screen(state, &mail);
    match target {
        Target::Open(number) => add_to(state, &mail, message_id, &number, files, refused).await,
        Target::New { earlier, mentions } => {
            new_complaint(state, &mail, message_id, earlier, mentions, files, refused).await
        }
    }
}

async fn duplicate(state: &AppState, before: stored::MailMessageRow) -> Result<Filed, FilingError> {
    let number = match before.complaint_id {
        Some(id) => state.db.complaint_number(id).await?,
        None => None,
    };
    Ok(Filed {
        message_id: before.message_id,
        outcome: Outcome::Duplicate(before.outcome),
        number,
        refused: Vec::new(),
        answered: false,
    })
}

/// The complaint a mail continues: the number in the subject, else the
/// Message-IDs it answers; a merged complaint's target; a closed one is
/// only named in a new complaint.
async fn find_target(state: &AppState, mail: &InboundMail) -> Result<Target, FilingError> {
    let by_ids = |key: ThreadKey| async move {
        match key {
            ThreadKey::MessageIds(ids) => state.db.complaint_by_message_ids(&ids).await,
            _ => Ok(None),
        }
    };
    let mut number = match mail.thread_key() {
        ThreadKey::ComplaintNumber(n) => match state.db.complaint(&n).await? {
            // Numbers are sequential, so anyone can write one in a subject:
            // only the complaint's own correspondents continue it that way
            // (an answer to a Message-ID kesu sent proves itself). Another
            // sender's mail becomes a complaint of its own naming the number,
            // which staff may link or merge; nothing is added to a stranger's
            // record.
            Some(row) if !known_sender(state, &row, &mail.from.address).await? => {
                let answered = by_ids(kesu_mail::thread_key(
                    None,
                    &mail.in_reply_to,
                    &mail.references,
                ))
                .await?;
                if answered.is_none() {
                    return Ok(Target::New {
                        earlier: None,
                        mentions: Some(n),
                    });
                }
                answered
            }
            Some(_) => Some(n),
            // A number that is not ours (or mistyped): the ids may know.
            None => {
                by_ids(kesu_mail::thread_key(
                    None,
                    &mail.in_reply_to,
                    &mail.references,
                ))
                .await?
            }
        },
        key => by_ids(key).await?,
    };
    for _ in 0..5 {
        let Some(n) = number.take() else { break };
        let Some(row) = state.db.complaint(&n).await? else {
            break;
        };
        match row.state.as_str() {
            "merged" => number = row.merged_into_number,
            "closed" => {
                return Ok(Target::New {
                    earlier: Some(n),
                    mentions: None,
                });
            }
            _ => return Ok(Target::Open(n)),
        }
    }
    Ok(Target::New {
        earlier: None,
        mentions: None,
    })
}

async fn ignore(
    state: &AppState,
    mail: &InboundMail,
    message_id: String,
    target: Target,
    outcome: Outcome,
) -> Result<Filed, FilingError> {
    let number = match target {
        // Nothing is added for these: naming the complaint only links the
        // record (a bounce of kesu's answer names its number).
        Target::Open(n)
        | Target::New {
            earlier: Some(n), ..
        }
        | Target::New {
            mentions: Some(n), ..
        } => Some(n),
        Target::New { .. } => None,
    };
    let complaint = match &number {
        Some(n) => state
            .db
            .complaint(n)
            .await?
            .map(|c| kesu_domain::ComplaintId(c.id)),
        None => None,
    };
    let detail = match &mail.kind {
        MailKind::AutoReply { reason } | MailKind::Bounce { reason } => Some(reason.clone()),
        MailKind::Normal => mail.bulk.clone(),
    };
    let mut tx = state.db.begin().await?;
    if !stored::claim_inbound(
        &mut tx,
        &message_id,
        &mail.from.address,
        &subject(mail),
        state.now(),
    )
    .await?
    {
        drop(tx);
        return duplicate_of(state, &message_id).await;
    }
    stored::set_inbound_outcome(
        &mut tx,
        &message_id,
        outcome.as_str(),
        complaint,
        detail.as_deref().map(|d| cut(d, 200)).as_deref(),
    )
    .await?;
    // A bounce of mail to the customer: whoever handles the complaint must
    // reach them another way, so they are told (once per bounce).
    if let (Outcome::IgnoredBounce, Some(id)) = (&outcome, complaint) {
        kesu_storage::notices::notify_handlers(
            &mut tx,
            id.0,
            &format!("bounce:{message_id}"),
            "mail_bounced",
            state.now(),
        )
        .await?;
    }
    tx.commit().await?;
    tracing::info!(mail.outcome = outcome.as_str(), "mail ignored");
    Ok(Filed {
        message_id,
        outcome,
        number,
        refused: Vec::new(),
        answered: false,
    })
}

async fn duplicate_of(state: &AppState, message_id: &str) -> Result<Filed, FilingError> {
    let before = state
        .db
        .mail_message(message_id)
        .await?
        .ok_or_else(|| FilingError::Unavailable("a claimed mail vanished".into()))?;
    duplicate(state, before).await
}

/// The subject as stored: decoded, at most 200 characters.
fn subject(mail: &InboundMail) -> String {
    cut(&mail.subject, 200)
}

fn cut(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// Text as a complaint field takes it: no control characters but line
/// breaks and tabs.
fn clean_text(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .collect::<String>()
        .trim()
        .to_owned()
}

/// Splits the mail's files into those the desk keeps and those it refuses,
/// by the checks of staff uploads (`actions::checked_files`). Inline text
/// parts are the body, not files.
fn screen(state: &AppState, mail: &InboundMail) -> (Vec<FileIn>, Vec<Refused>) {
    let mut files = Vec::new();
    let mut refused = Vec::new();
    for a in &mail.attachments {
        if a.inline && a.content_type.starts_with("text/") {
            continue;
        }
        let filename = actions::clean_filename(&a.filename);
        let reason = if a.data.is_empty() {
            Some("empty")
        } else if a.data.len() > state.config.max_attachment_bytes {
            Some("too_large")
        } else if actions::sniff(&filename, &a.data).is_none() {
            Some("unsupported_type")
        } else if files.len() >= actions::MAX_FILES - 1 {
            // One place is kept for the full text of a very long mail.
            Some("too_many")
        } else {
            None
        };
        match reason {
            Some(reason) => refused.push(Refused { filename, reason }),
            None => files.push(FileIn {
                kind: "evidence".into(),
                filename,
                data: a.data.clone(),
            }),
        }
    }
    (files, refused)
}

fn refusal_events(refused: &[Refused]) -> Vec<Event> {
    refused
        .iter()
        .map(|r| Event::AttachmentRefused {
            filename: r.filename.clone(),
            reason: r.reason.to_owned(),
        })
        .collect()
}

async fn new_complaint(
    state: &AppState,
    mail: &InboundMail,
    message_id: String,
    earlier: Option<String>,
    mentions: Option<String>,
    mut files: Vec<FileIn>,
    refused: Vec<Refused>,
) -> Result<Filed, FilingError> {
    let now = state.now();
    let name = mail
        .from
        .name
        .as_deref()
        .map(clean_text)
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| {
            mail.from
                .address
                .split('@')
                .next()
                .unwrap_or_default()
                .to_owned()
        });
    let mut description = String::new();
    if let Some(n) = &earlier {
        description.push_str(&t(Lang::Zh, "mail.earlier_complaint").replace("%{number}", n));
        description.push_str("\n\n");
    }
    if let Some(n) = &mentions {
        description.push_str(&t(Lang::Zh, "mail.mentions_complaint").replace("%{number}", n));
        description.push_str("\n\n");
    }
    let subject = clean_text(&mail.subject);
    if !subject.is_empty() {
        description.push_str(&t(Lang::Zh, "mail.subject_line").replace("%{subject}", &subject));
        description.push_str("\n\n");
    }
    let text = clean_text(&mail.text);
    description.push_str(if text.is_empty() { "-" } else { text.as_str() });
    // A very long mail: the complaint keeps the beginning, the whole text
    // is kept as a file.
    if description.chars().count() > actions::DESCRIPTION_MAX {
        files.push(FileIn {
            kind: "evidence".into(),
            filename: "mail.txt".into(),
            data: description.clone().into_bytes(),
        });
        let mut short = cut(&description, actions::DESCRIPTION_MAX - 200);
        short.push_str("\n…\n");
        short.push_str(&t(Lang::Zh, "mail.full_text_attached"));
        description = short;
    }
    let input = NewComplaintIn {
        channel: Some(Channel::Email.as_str().to_owned()),
        customer: CustomerIn {
            name: Some(cut(&name, 100)),
            phone: None,
            email: Some(mail.from.address.clone()),
        },
        description: Some(description),
        ..NewComplaintIn::default()
    };
    let new = actions::intake(state, None, input, files, now).await?;
    let channels = crate::outbox::Channels::load(state).await?;
    let mut tx = state.db.begin().await?;
    if !stored::claim_inbound(
        &mut tx,
        &message_id,
        &mail.from.address,
        &subject_of(mail),
        now,
    )
    .await?
    {
        drop(tx);
        return duplicate_of(state, &message_id).await;
    }
    let (id, number) = complaints::create_complaint_in(&mut tx, &new, None, now).await?;
    if !refused.is_empty() {
        let row = complaints::load(&mut tx, number.as_str())
            .await?
            .ok_or_else(|| FilingError::Unavailable("a new complaint vanished".into()))?;
        let complaint = row.to_domain()?;
        complaints::record(&mut tx, &complaint, &refusal_events(&refused), None, now).await?;
    }
    stored::set_inbound_outcome(
        &mut tx,
        &message_id,
        Outcome::NewComplaint.as_str(),
        Some(id),
        None,
    )
    .await?;
    let answered = reply::auto_answer(
        &mut tx,
        &channels,
        mail,
        &message_id,
        id,
        &number,
        reply::Occasion::NewComplaint,
        &refused,
        state.config.max_attachment_bytes,
        now,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(complaint.number = %number, "mail filed as a new complaint");
    Ok(Filed {
        message_id,
        outcome: Outcome::NewComplaint,
        number: Some(number.to_string()),
        refused,
        answered,
    })
}

fn subject_of(mail: &InboundMail) -> String {
    subject(mail)
}

async fn add_to(
    state: &AppState,
    mail: &InboundMail,
    message_id: String,
    number: &str,
    files: Vec<FileIn>,
    refused: Vec<Refused>,
) -> Result<Filed, FilingError> {
    let now = state.now();
    let files = actions::checked_files(state, files)?;
    let text = clean_text(&mail.text);
    let text = if text.chars().count() > actions::DESCRIPTION_MAX {
        let mut short = cut(&text, actions::DESCRIPTION_MAX);
        short.push('…');
        short
    } else {
        text
    };
    let subject = Some(clean_text(&mail.subject)).filter(|s| !s.is_empty());
    let channels = crate::outbox::Channels::load(state).await?;
    let policy = state.db.policy().await?;
    let number = ComplaintNumber::parse(number).map_err(Failure::from)?;
    let mut tx = state.db.begin().await?;
    if !stored::claim_inbound(
        &mut tx,
        &message_id,
        &mail.from.address,
        &subject_of(mail),
        now,
    )
    .await?
    {
        drop(tx);
        return duplicate_of(state, &message_id).await;
    }
    let row = complaints::load(&mut tx, number.as_str())
        .await?
        .ok_or(Failure::NotFound)?;
    let complaint = row.to_domain()?;
    let command = Command::CustomerWrite {
        channel: Channel::Email,
        subject: subject.map(|s| cut(&s, 200)),
        text,
    };
    let mut events = complaint
        .decide(command, Acting::Customer, now, &policy)
        .map_err(Failure::from)?;
    for f in &files {
        let id = complaints::store_attachment(
            &mut tx,
            complaint.id,
            f.kind.as_str(),
            &f.filename,
            &f.content_type,
            &f.data,
            None,
            now,
        )
        .await?;
        events.push(Event::AttachmentAdded {
            attachment_id: AttachmentId(id),
            attachment_kind: f.kind,
            filename: f.filename.clone(),
            size: i64::try_from(f.data.len()).unwrap_or(i64::MAX),
        });
    }
    events.extend(refusal_events(&refused));
    complaints::record(&mut tx, &complaint, &events, None, now).await?;
    stored::set_inbound_outcome(
        &mut tx,
        &message_id,
        Outcome::Added.as_str(),
        Some(complaint.id),
        None,
    )
    .await?;
    // A further mail is answered only when a file of it was refused: the
    // customer must know to send it again.
    let answered = if refused.is_empty() {
        false
    } else {
        reply::auto_answer(
            &mut tx,
            &channels,
            mail,
            &message_id,
            complaint.id,
            &number,
            reply::Occasion::Added,
            &refused,
            state.config.max_attachment_bytes,
            now,
        )
        .await?
    };
    tx.commit().await?;
    tracing::info!(complaint.number = %number, "mail added to a complaint");
    Ok(Filed {
        message_id,
        outcome: Outcome::Added,
        number: Some(number.to_string()),
        refused,
        answered,
    })
}
