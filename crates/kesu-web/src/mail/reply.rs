//! Mail kesu sends to customers: the automatic answer with the complaint
//! number, and staff replies from the complaint page. Both go through the
//! outbox (written in the transaction of their cause, sent over SMTP with
//! retries) with a Message-ID chosen here and recorded in `mail_messages`,
//! so the customer's answer threads back by In-Reply-To/References; the
//! subject carries the number in brackets (`[KS-20261123-0001]`) for mail
//! clients that drop those headers.

use jiff::Timestamp;
use kesu_domain::input::{ComplaintNumber, InputError, InputProblem};
use kesu_domain::{Command, ComplaintId, ContactMethod};
use kesu_mail::{AutoAnswer, InboundMail};
use kesu_storage::complaints::{self, ComplaintRow};
use kesu_storage::mail as stored;
use kesu_storage::outbox::{MailHeaders, enqueue_mail};
use kesu_storage::{StorageError, Tx};
use serde::Deserialize;
use utoipa::ToSchema;

use super::file::Refused;
use crate::AppState;
use crate::auth::Staff;
use crate::error::Failure;
use crate::i18n::{Lang, t};
use crate::outbox::Channels;

/// Why the automatic answer is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Occasion {
    /// A mail became a new complaint: the receipt with the number.
    NewComplaint,
    /// A further mail was added, but some of its files were refused.
    Added,
}

/// A fresh Message-ID of the sender's domain (`<kesu.…@domain>`).
fn new_message_id(channels: &Channels) -> Result<String, StorageError> {
    let domain = channels
        .smtp
        .as_ref()
        .and_then(|s| s.from_address.rsplit_once('@').map(|(_, d)| d.to_owned()))
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| "kesu.invalid".to_owned());
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| StorageError::Random(e.to_string()))?;
    Ok(format!("<kesu.{}@{domain}>", hex::encode(bytes)))
}

/// A Message-ID fit for a header (`<…@…>`), or none: a customer's client
/// may write ids that would make the SMTP library refuse the whole mail.
fn header_id(id: &str) -> Option<String> {
    let bare = kesu_mail::normalize_message_id(id)?;
    (bare.contains('@') && !bare.contains(['<', '>']) && !bare.chars().any(char::is_control))
        .then(|| format!("<{bare}>"))
}

/// The subject with the number in brackets, once.
fn with_number(subject: &str, number: &str) -> String {
    if kesu_mail::find_complaint_number(subject).as_deref() == Some(number) {
        subject.to_owned()
    } else {
        format!("{subject} [{number}]").trim_start().to_owned()
    }
}

fn refusal_lines(refused: &[Refused], max_bytes: usize) -> String {
    if refused.is_empty() {
        return String::new();
    }
    let mut out = t(Lang::Zh, "mail.auto_reply.refused_intro")
        .replace("%{max_mb}", &(max_bytes / (1024 * 1024)).to_string());
    for r in refused {
        out.push_str(&format!(
            "\n  - {}（{}）",
            r.filename,
            t(Lang::Zh, &format!("attachment_refusal.{}", r.reason))
        ));
    }
    out.push_str("\n\n");
    out
}

/// Queues the automatic answer to a received mail, when RFC 3834 and the
/// sender allow one (never to auto-replies, bounces, lists, no-reply
/// addresses) and SMTP is set up. Returns whether one was queued.
///
/// # Errors
/// The driver's error.
#[expect(clippy::too_many_arguments, reason = "one answer to one mail")]
pub async fn auto_answer(
    tx: &mut Tx,
    channels: &Channels,
    mail: &InboundMail,
    message_id: &str,
    complaint: ComplaintId,
    number: &ComplaintNumber,
    occasion: Occasion,
    refused: &[Refused],
    max_bytes: usize,
    now: Timestamp,
) -> Result<bool, StorageError> {
    let AutoAnswer::Send { to } = mail.auto_answer() else {
        return Ok(false);
    };
    if channels.smtp.is_none() || kesu_domain::input::email("to", &to.address).is_err() {
        return Ok(false);
    }
    let number = number.as_str();
    let subject = with_number(&t(Lang::Zh, "mail.auto_reply.subject"), number);
    let opening = match occasion {
        Occasion::NewComplaint => "mail.auto_reply.new",
        Occasion::Added => "mail.auto_reply.added",
    };
    let body = format!(
        "{}\n\n{}{}",
        t(Lang::Zh, opening).replace("%{number}", number),
        refusal_lines(refused, max_bytes),
        t(Lang::Zh, "mail.auto_reply.footer"),
    );
    let ours = new_message_id(channels)?;
    let parent = header_id(message_id);
    let mut references: Vec<String> = mail
        .references
        .iter()
        .filter_map(|r| header_id(r))
        .collect();
    references.extend(parent.clone());
    let len = references.len();
    let references = references.split_off(len.saturating_sub(20));
    let headers = MailHeaders {
        message_id: ours.clone(),
        in_reply_to: parent,
        references,
        auto_submitted: true,
    };
    let key = format!("mail-auto-reply:{message_id}");
    let queued = enqueue_mail(tx, &key, &to.address, &subject, &body, &headers, now).await?;
    if queued == 1 {
        let bare = kesu_mail::normalize_message_id(&ours).unwrap_or(ours);
        stored::record_outbound(
            tx,
            &bare,
            "auto_reply",
            complaint,
            &to.address,
            &subject,
            now,
        )
        .await?;
    }
    Ok(queued == 1)
}

/// A staff reply to the customer by e-mail.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ReplyIn {
    /// The message to the customer (plain text).
    pub text: Option<String>,
}

/// Sends a staff reply to the complaint's customer by e-mail: recorded as
/// a contact by e-mail (`contact_logged`, so it counts as contacting the
/// customer) and queued in the outbox in the same transaction, answering
/// the customer's last mail (In-Reply-To, References) with the number in
/// the subject. `expected_version` as in [`crate::actions::perform`].
///
/// # Errors
/// 404 unknown or invisible; 403/409 as logging a contact; 422 without
/// text, when the customer has no e-mail address or SMTP is not set up.
pub async fn reply_by_mail(
    state: &AppState,
    staff: &Staff,
    number: &str,
    expected_version: Option<i64>,
    input: ReplyIn,
) -> Result<ComplaintRow, Failure> {
    let text =
        kesu_domain::input::required_text("text", input.text.as_deref(), crate::actions::LONG)?;
    let number = ComplaintNumber::parse(number)?;
    let channels = Channels::load(state).await?;
    if channels.smtp.is_none() {
        return Err(Failure::InvalidText(t(staff.lang, "mail.reply.no_smtp")));
    }
    let now = state.now();
    let policy = state.db.policy().await?;
    let mut tx = state.db.begin().await?;
    let row = crate::actions::load_visible(state, staff, &mut tx, &number).await?;
    if expected_version.is_some_and(|v| v != row.version) {
        return Err(Failure::VersionConflict);
    }
    let Some(to) = row.customer_email.clone() else {
        return Err(Failure::Invalid(InputError::new(
            "customer.email",
            InputProblem::Missing,
        )));
    };
    let complaint = row.to_domain()?;
    let command = Command::LogContact {
        method: ContactMethod::Email,
        summary: text.clone(),
    };
    let events = complaint.decide(command, &staff.actor, now, &policy)?;
    complaints::record(&mut tx, &complaint, &events, Some(staff.actor.user_id), now).await?;
    let mails = state.db.complaint_mails(complaint.id).await?;
    let last_in = mails.iter().rev().find(|m| m.direction == "in");
    let subject = match last_in.map(|m| m.subject.trim()).filter(|s| !s.is_empty()) {
        Some(s) if s.to_lowercase().starts_with("re:") || s.starts_with("回复") => s.to_owned(),
        Some(s) => format!("Re: {s}"),
        None => t(Lang::Zh, "mail.reply.subject"),
    };
    let subject = with_number(&subject, number.as_str());
    let mut references: Vec<String> = mails
        .iter()
        .filter_map(|m| header_id(&m.message_id))
        .collect();
    let len = references.len();
    let references = references.split_off(len.saturating_sub(20));
    let ours = new_message_id(&channels)?;
    let headers = MailHeaders {
        message_id: ours.clone(),
        in_reply_to: last_in.and_then(|m| header_id(&m.message_id)),
        references,
        auto_submitted: false,
    };
    let key = format!("mail-staff-reply:{ours}");
    enqueue_mail(&mut tx, &key, &to, &subject, &text, &headers, now).await?;
    let bare = kesu_mail::normalize_message_id(&ours).unwrap_or(ours);
    stored::record_outbound(
        &mut tx,
        &bare,
        "staff_reply",
        complaint.id,
        &to,
        &subject,
        now,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(complaint.number = %number, "reply queued by e-mail");
    state
        .db
        .complaint(&row.number)
        .await?
        .ok_or(Failure::NotFound)
}
