//! Settings for admins: sites, departments, staff, categories and the
//! approval limit. The forms reuse the API's validation.

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use kesu_domain::{DepartmentId, Role, UserId};
use serde_json::{Value, json};

use super::forms::{ActionForm, Field, FieldKind, Opt};
use super::{Ctx, render};
use crate::AppState;
use crate::api::org;
use crate::auth::Staff;
use crate::error::Failure;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin", get(admin_page))
        .route("/admin/sites", post(add_site))
        .route("/admin/departments", post(add_department))
        .route("/admin/users", post(add_user))
        .route("/admin/users/edit", post(edit_user))
        .route("/admin/categories", post(add_category))
        .route("/admin/policy", post(set_policy))
        .route("/admin/templates/{code}", post(load_template))
        .route("/admin/departments/{id}/toggle", post(toggle_department))
        .route("/admin/users/{id}/toggle", post(toggle_user))
        .route("/admin/categories/{code}/toggle", post(toggle_category))
        .route("/admin/categories/{code}/keywords", post(set_keywords))
}

pub struct DeptRow {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub site: String,
    pub active: bool,
}
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub roles: String,
    pub department: String,
    pub active: bool,
}
pub struct CategoryRow {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub parent: String,
    pub active: bool,
    /// A sub-category's keyword phrases, joined by 、 (editable).
    pub keywords: Option<String>,
}

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage {
    ctx: Ctx,
    /// Industry templates (code, name) offered while no department exists.
    templates: Vec<(String, String)>,
    notice: Option<String>,
    sites: Vec<kesu_storage::org::Site>,
    departments: Vec<DeptRow>,
    users: Vec<UserRow>,
    categories: Vec<CategoryRow>,
    forms: Vec<ActionForm>,
}

fn form(ctx: &Ctx, key: &str, title: &str, fields: Vec<Field>, open: bool) -> ActionForm {
    ActionForm {
        key: key.to_owned(),
        title: ctx.t(title),
        url: format!("/admin/{key}"),
        submit: ctx.t("common.save"),
        fields,
        multipart: false,
        open,
    }
}

async fn admin_page(
    State(state): State<AppState>,
    staff: Staff,
    RawQuery(raw): RawQuery,
) -> Result<Response, Failure> {
    staff.require_admin()?;
    let ctx = Ctx::new(&staff, "admin", "/admin");
    let sites = state.db.sites().await?;
    let departments = state.db.departments().await?;
    let users = state.db.users().await?;
    let categories = state.db.categories().await?;
    let policy = state.db.policy().await?;
    let dept_name = |id: Option<i64>| {
        id.and_then(|id| departments.iter().find(|d| d.id == id))
            .map(|d| d.name.clone())
            .unwrap_or_default()
    };
    let site_name = |id: i64| {
        sites
            .iter()
            .find(|s| s.id == id)
            .map(|s| s.name.clone())
            .unwrap_or_default()
    };
    let dept_opts: Vec<Opt> = departments
        .iter()
        .filter(|d| d.active)
        .map(|d| Opt::new(d.code.clone(), d.name.clone()))
        .collect();
    let forms = vec![
        form(
            &ctx,
            "departments",
            "admin.add_department",
            vec![
                Field::new("code", ctx.t("field.code"), FieldKind::Text).required(),
                Field::new("name", ctx.t("field.name"), FieldKind::Text).required(),
                Field::new("site", ctx.t("field.site"), FieldKind::Select)
                    .required()
                    .options(
                        sites
                            .iter()
                            .map(|s| Opt::new(s.code.clone(), s.name.clone()))
                            .collect(),
                    ),
            ],
            departments.is_empty(),
        ),
        form(
            &ctx,
            "users",
            "admin.add_user",
            vec![
                Field::new("username", ctx.t("field.username"), FieldKind::Text).required(),
                Field::new("display_name", ctx.t("field.display_name"), FieldKind::Text).required(),
                Field::new(
                    "password",
                    format!(
                        "{} ({})",
                        ctx.t("field.password"),
                        ctx.t("admin.password_hint")
                    ),
                    FieldKind::Text,
                )
                .required(),
                Field::new("roles", ctx.t("field.roles"), FieldKind::Checks).options(
                    Role::ALL
                        .iter()
                        .map(|r| Opt::new(r.as_str(), ctx.label("role", r.as_str())))
                        .collect(),
                ),
                Field::new("department", ctx.t("field.department"), FieldKind::Select)
                    .options(dept_opts.clone()),
            ],
            !departments.is_empty() && users.len() <= 1,
        ),
        {
            let mut f = form(
                &ctx,
                "edit-user",
                "admin.edit_user",
                vec![
                    Field::new("username", ctx.t("field.username"), FieldKind::Select)
                        .required()
                        .options(
                            users
                                .iter()
                                .map(|u| {
                                    Opt::new(
                                        u.username.clone(),
                                        format!("{} ({})", u.display_name, u.username),
                                    )
                                })
                                .collect(),
                        ),
                    Field::new("display_name", ctx.t("field.display_name"), FieldKind::Text),
                    Field::new("roles", ctx.t("field.roles"), FieldKind::Checks).options(
                        Role::ALL
                            .iter()
                            .map(|r| Opt::new(r.as_str(), ctx.label("role", r.as_str())))
                            .collect(),
                    ),
                    Field::new("department", ctx.t("field.department"), FieldKind::Select)
                        .options(dept_opts),
                ],
                false,
            );
            f.url = "/admin/users/edit".to_owned();
            f
        },
        form(
            &ctx,
            "categories",
            "admin.add_category",
            vec![
                Field::new("code", ctx.t("field.code"), FieldKind::Text).required(),
                Field::new("name_zh", ctx.t("field.name_zh"), FieldKind::Text).required(),
                Field::new("name_en", ctx.t("field.name_en"), FieldKind::Text),
                // One level deep: a sub-category goes below an active
                // shipped category, which the engine's model knows.
                Field::new("parent", ctx.t("field.parent"), FieldKind::Select).options(
                    categories
                        .iter()
                        .filter(|c| c.active && kesu_storage::taxonomy::is_shipped_root(&c.code))
                        .map(|c| Opt::new(c.code.clone(), c.name_zh.clone()))
                        .collect(),
                ),
                Field::new(
                    "keywords",
                    format!(
                        "{} ({})",
                        ctx.t("field.keywords"),
                        ctx.t("classifier.keywords_hint")
                    ),
                    FieldKind::TextArea,
                ),
            ],
            false,
        ),
        form(
            &ctx,
            "sites",
            "admin.add_site",
            vec![
                Field::new("code", ctx.t("field.code"), FieldKind::Text).required(),
                Field::new("name", ctx.t("field.name"), FieldKind::Text).required(),
                Field::new("time_zone", ctx.t("field.time_zone"), FieldKind::Text)
                    .value("Asia/Shanghai"),
                Field::new("is_group", ctx.t("admin.group_site"), FieldKind::Checkbox),
            ],
            false,
        ),
        form(
            &ctx,
            "policy",
            "admin.policy",
            vec![
                Field::new(
                    "approval_limit_yuan",
                    ctx.t("field.approval_limit_yuan"),
                    FieldKind::Number,
                )
                .required()
                .value(format!("{}", policy.approval_limit_fen / 100)),
            ],
            false,
        ),
    ];
    let templates = if departments.is_empty() {
        kesu_storage::templates::TEMPLATES
            .iter()
            .map(|t| {
                (
                    t.code.to_owned(),
                    if ctx.lang == crate::i18n::Lang::En {
                        t.name_en
                    } else {
                        t.name_zh
                    }
                    .to_owned(),
                )
            })
            .collect()
    } else {
        Vec::new()
    };
    let page = AdminPage {
        templates,
        notice: raw
            .as_deref()
            .filter(|r| r.contains("saved"))
            .map(|_| ctx.t("admin.saved")),
        departments: departments
            .iter()
            .map(|d| DeptRow {
                id: d.id,
                code: d.code.clone(),
                name: d.name.clone(),
                site: site_name(d.site_id),
                active: d.active,
            })
            .collect(),
        users: users
            .iter()
            .map(|u| UserRow {
                id: u.id,
                username: u.username.clone(),
                display_name: u.display_name.clone(),
                roles: u
                    .role_list()
                    .iter()
                    .map(|r| ctx.label("role", r.as_str()))
                    .collect::<Vec<_>>()
                    .join("、"),
                department: dept_name(u.department_id),
                active: u.active,
            })
            .collect(),
        categories: categories
            .iter()
            .map(|c| CategoryRow {
                code: c.code.clone(),
                name_zh: c.name_zh.clone(),
                name_en: c.name_en.clone(),
                parent: c.parent_code.clone().unwrap_or_default(),
                active: c.active,
                keywords: c.parent_code.as_ref().map(|_| c.keyword_list().join("、")),
            })
            .collect(),
        sites,
        forms,
        ctx,
    };
    render(&page)
}

fn saved() -> Response {
    Redirect::to("/admin?saved=1").into_response()
}

async fn admin_form(
    staff: &Staff,
    body: Result<Bytes, BytesRejection>,
    lists: &[&str],
) -> Result<serde_json::Map<String, Value>, Failure> {
    staff.require_admin()?;
    super::posted_form(staff, body, lists)
}

async fn add_site(
    State(state): State<AppState>,
    staff: Staff,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    let f = admin_form(&staff, body, &[]).await?;
    org::create_site_from(&state, crate::input::from_value(Value::Object(f))?).await?;
    Ok(saved())
}

async fn add_department(
    State(state): State<AppState>,
    staff: Staff,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    let f = admin_form(&staff, body, &[]).await?;
    org::create_department_from(&state, crate::input::from_value(Value::Object(f))?).await?;
    Ok(saved())
}

async fn add_user(
    State(state): State<AppState>,
    staff: Staff,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    let f = admin_form(&staff, body, &["roles"]).await?;
    org::create_user_from(&state, crate::input::from_value(Value::Object(f))?).await?;
    Ok(saved())
}

async fn add_category(
    State(state): State<AppState>,
    staff: Staff,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    let f = admin_form(&staff, body, &[]).await?;
    org::create_category_from(&state, crate::input::from_value(Value::Object(f))?).await?;
    Ok(saved())
}

async fn set_policy(
    State(state): State<AppState>,
    staff: Staff,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    let f = admin_form(&staff, body, &[]).await?;
    #[derive(serde::Deserialize)]
    struct P {
        #[serde(default, deserialize_with = "crate::input::flex::opt_f64")]
        approval_limit_yuan: Option<f64>,
    }
    let p: P = crate::input::from_value(json!(f))?;
    let fen = kesu_domain::input::yuan_to_fen(
        "approval_limit_yuan",
        p.approval_limit_yuan.unwrap_or(0.0),
    )?;
    let mut policy = state.db.policy().await?;
    policy.approval_limit_fen = fen;
    state.db.set_policy(&policy).await?;
    Ok(saved())
}

async fn toggle_department(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    admin_form(&staff, body, &[]).await?;
    let id: i64 = id.parse().map_err(|_| Failure::NotFound)?;
    let d = state
        .db
        .department(DepartmentId(id))
        .await?
        .ok_or(Failure::NotFound)?;
    state
        .db
        .set_department_active(DepartmentId(id), !d.active)
        .await?;
    Ok(saved())
}

async fn toggle_user(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    admin_form(&staff, body, &[]).await?;
    let id: i64 = id.parse().map_err(|_| Failure::NotFound)?;
    let u = state.db.user(UserId(id)).await?.ok_or(Failure::NotFound)?;
    if u.id == staff.user.id {
        return Err(Failure::Forbidden);
    }
    state
        .db
        .update_user(
            UserId(id),
            &u.display_name,
            &u.role_list(),
            u.department_id.map(DepartmentId),
            !u.active,
        )
        .await?;
    Ok(saved())
}

async fn toggle_category(
    State(state): State<AppState>,
    staff: Staff,
    Path(code): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    admin_form(&staff, body, &[]).await?;
    let c = state.db.category(&code).await?.ok_or(Failure::NotFound)?;
    state.db.set_category_active(&code, !c.active).await?;
    Ok(saved())
}

async fn set_keywords(
    State(state): State<AppState>,
    staff: Staff,
    Path(code): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    let f = admin_form(&staff, body, &[]).await?;
    org::set_keywords_from(&state, &code, f.get("keywords")).await?;
    Ok(saved())
}

async fn load_template(
    State(state): State<AppState>,
    staff: Staff,
    Path(code): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    admin_form(&staff, body, &[]).await?;
    if !kesu_storage::templates::TEMPLATES
        .iter()
        .any(|t| t.code == code)
    {
        return Err(Failure::NotFound);
    }
    state.db.load_template(&code, state.now()).await?;
    Ok(saved())
}

async fn edit_user(
    State(state): State<AppState>,
    staff: Staff,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    let mut f = admin_form(&staff, body, &["roles"]).await?;
    let username = f
        .remove("username")
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    // An empty name keeps the current one; the form always sends roles and department.
    if f.get("display_name")
        .and_then(Value::as_str)
        .is_some_and(|v| v.trim().is_empty())
    {
        f.remove("display_name");
    }
    let patch: org::UserPatch = crate::input::from_value(Value::Object(f))?;
    org::update_user_from(&state, &staff, &username, patch).await?;
    Ok(saved())
}
