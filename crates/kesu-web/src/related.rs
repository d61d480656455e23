//! One record per problem (R-IN-3), for the complaint page and the API: the
//! complaints a complaint may repeat ("可能重复": the same customer's within
//! the policy's `duplicate_window_days`, open ones with much the same
//! words), the complaints people linked to it, and those merged into it.
//! Linking records a relation seen on both complaints; merging is the
//! lifecycle's `merge` action (the merged complaint keeps its history and
//! customer and names the survivor, which lists it).

use kesu_domain::Actor;
use kesu_storage::related::{Reason, RelatedRow};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::Staff;
use crate::error::Failure;
use crate::view::{CustomerView, contact_for, rfc3339};

/// Another complaint shown beside this one.
#[derive(Debug, Serialize, ToSchema)]
pub struct RelatedView {
    pub number: String,
    pub state: String,
    pub received_at: String,
    /// The start of the customer's words.
    pub summary: String,
    /// Its customer (contacts masked for readers who see them masked).
    pub customer: CustomerView,
    /// For a possible duplicate: `same_customer` or `similar_words`.
    pub reason: Option<String>,
}

/// The complaints related to one complaint.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct Related {
    /// Proposed at registration as possible duplicates, to link or merge.
    pub possible_duplicates: Vec<RelatedView>,
    /// Linked by a person as about the same problem.
    pub linked: Vec<RelatedView>,
    /// Merged into this complaint.
    pub merged_from: Vec<RelatedView>,
}

fn view(state: &AppState, actor: &Actor, row: &RelatedRow, reason: Option<Reason>) -> RelatedView {
    RelatedView {
        number: row.number.clone(),
        state: row.state.clone(),
        received_at: rfc3339(row.received_at, &state.config.time_zone),
        summary: row.description.chars().take(60).collect(),
        customer: CustomerView {
            name: row.customer_name.clone(),
            phone: contact_for(actor, row.customer_phone.as_deref()),
            email: contact_for(actor, row.customer_email.as_deref()),
        },
        reason: reason.map(|r| r.as_str().to_owned()),
    }
}

/// What is related to complaint `id`, as `actor` may see it. Possible
/// duplicates are proposed while the complaint is open.
///
/// # Errors
/// The driver's error.
pub async fn related(
    state: &AppState,
    actor: &Actor,
    id: i64,
    open: bool,
) -> Result<Related, Failure> {
    let id = kesu_domain::ComplaintId(id);
    let possible = if open {
        let window = state.db.policy().await?.duplicate_window_days;
        state.db.possible_duplicates(actor, id, window).await?
    } else {
        Vec::new()
    };
    let list = |rows: Vec<RelatedRow>| {
        rows.iter()
            .map(|r| view(state, actor, r, None))
            .collect::<Vec<_>>()
    };
    Ok(Related {
        possible_duplicates: possible
            .iter()
            .map(|(r, why)| view(state, actor, r, Some(*why)))
            .collect(),
        linked: list(state.db.linked_complaints(actor, id).await?),
        merged_from: list(state.db.merged_into(actor, id).await?),
    })
}

/// A link to make.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct LinkIn {
    /// The number of the other complaint.
    pub number: Option<String>,
}

/// Links complaint `number` with another the person may see (R-IN-3).
/// Those who take complaints in (customer service) and supervisors link.
///
/// # Errors
/// 404 for a complaint not visible, 403 for others, 422 for a missing
/// number or the complaint itself.
pub async fn link(
    state: &AppState,
    staff: &Staff,
    number: &str,
    input: LinkIn,
) -> Result<kesu_storage::complaints::ComplaintRow, Failure> {
    use kesu_domain::input::{InputError, InputProblem};
    let row = crate::actions::visible(state, staff, number).await?;
    if !(staff.actor.may_take_in() || staff.actor.has(kesu_domain::Role::Supervisor)) {
        return Err(Failure::Forbidden);
    }
    let other_number = input
        .number
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .ok_or(Failure::Invalid(InputError::new(
            "number",
            InputProblem::Missing,
        )))?;
    let other = crate::actions::visible(state, staff, other_number).await?;
    if other.id == row.id {
        return Err(Failure::Invalid(InputError::new(
            "number",
            InputProblem::UnknownValue,
        )));
    }
    state
        .db
        .link_complaints(
            kesu_domain::ComplaintId(row.id),
            kesu_domain::ComplaintId(other.id),
            kesu_domain::UserId(staff.user.id),
            state.now(),
        )
        .await?;
    Ok(row)
}
