//! The OpenAPI 3 document, generated from the handlers' annotations.

use axum::Json;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

use super::{complaints as c, intake as i, org as o};

#[derive(OpenApi)]
#[openapi(
    info(title = "kesu 客诉 API", description = "Customer-complaint desk: register, classify, dispatch, handle, resolve, follow up and close complaints. \
        Authenticate with `Authorization: Bearer <token>` (`kesu token create --user NAME`). Errors are `application/problem+json` (RFC 9457). \
        The intake API (`/api/v1/intake/…`, for the website, the app and mini programs) takes an integration key (`Bearer ki_…`, created by an admin), which no other route accepts."),
    paths(
        super::get_health,
        c::create_complaint, c::list_complaints, c::get_complaint, c::get_history, c::list_personal_data_views, c::list_proposals, c::list_tasks,
        c::list_attachments, c::download_attachment, c::upload_attachment,
        c::register, c::classify, c::dispatch, c::log_contact, c::add_note, c::propose, c::answer_proposal, c::approve, c::take_over,
        c::record_execution, c::create_task, c::complete_task, c::feed_back, c::follow_up, c::close, c::reopen, c::merge, c::link_complaint, c::withdraw, c::reject, c::amend, c::send_reply,
        o::list_sites, o::create_site, o::list_departments, o::create_department, o::list_users, o::create_user, o::update_user,
        o::list_categories, o::create_category, o::find_customers,
        i::create_intake_complaint, i::get_intake_complaint,
    ),
    modifiers(&Security),
    security(("bearer" = []))
)]
pub struct ApiDoc;

struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// `GET /api/openapi.json`
pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
