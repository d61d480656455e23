//! `/api/v1/sites`, `departments`, `users`, `categories` and `customers`:
//! reading is open to staff, changing is for admins (R-OR-1, R-GV-1).

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::routing::get;
use kesu_domain::input::{InputError, InputProblem};
use kesu_domain::{DepartmentId, Role, SiteId};
use kesu_storage::catalog::Category;
use kesu_storage::complaints::CustomerMatch;
use kesu_storage::org::{Department, NewUser, Site, User};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::{Staff, hash_password};
use crate::error::Failure;
use crate::input;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sites", get(list_sites).post(create_site))
        .route(
            "/departments",
            get(list_departments).post(create_department),
        )
        .route("/users", get(list_users).post(create_user))
        .route("/users/{username}", axum::routing::patch(update_user))
        .route("/categories", get(list_categories).post(create_category))
        .route("/customers", get(find_customers))
}

fn invalid(field: &'static str, p: InputProblem) -> Failure {
    Failure::Invalid(InputError::new(field, p))
}

/// A code: 1–40 of `a-z 0-9 _ -`.
///
/// # Errors
/// 422.
pub fn parse_code(field: &'static str, raw: Option<&str>) -> Result<String, Failure> {
    let c = raw.map(str::trim).unwrap_or("");
    if c.is_empty() {
        return Err(invalid(field, InputProblem::Missing));
    }
    if c.len() > 40
        || !c
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
    {
        return Err(invalid(field, InputProblem::BadCode));
    }
    Ok(c.to_owned())
}

#[derive(Serialize, ToSchema)]
pub struct SiteView {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub time_zone: String,
    pub is_group: bool,
}

impl From<Site> for SiteView {
    fn from(s: Site) -> Self {
        SiteView {
            id: s.id,
            code: s.code,
            name: s.name,
            time_zone: s.time_zone,
            is_group: s.is_group,
        }
    }
}

/// Sites (stores, dealerships, branches).
#[utoipa::path(get, path = "/api/v1/sites", tag = "organisation", responses((status = 200, body = Vec<SiteView>)))]
pub async fn list_sites(
    State(state): State<AppState>,
    _staff: Staff,
) -> Result<Json<Vec<SiteView>>, Failure> {
    Ok(Json(
        state
            .db
            .sites()
            .await?
            .into_iter()
            .map(SiteView::from)
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct SiteIn {
    pub code: Option<String>,
    pub name: Option<String>,
    /// IANA zone, default `Asia/Shanghai`.
    pub time_zone: Option<String>,
    /// The group (集团) level: its staff see every site.
    #[serde(default, deserialize_with = "crate::input::flex::bool")]
    pub is_group: bool,
}

/// Create a site (admin).
#[utoipa::path(post, path = "/api/v1/sites", tag = "organisation", request_body = SiteIn, responses((status = 201, body = SiteView), (status = 409, description = "code taken")))]
pub async fn create_site(
    State(state): State<AppState>,
    staff: Staff,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<SiteView>), Failure> {
    staff.require_admin()?;
    let i: SiteIn = input::json(&input::body(body)?)?;
    let site = create_site_from(&state, i).await?;
    Ok((StatusCode::CREATED, Json(site.into())))
}

/// Validates and creates a site (shared with the admin page).
///
/// # Errors
/// 422 for bad fields, 409 for a taken code.
pub async fn create_site_from(state: &AppState, i: SiteIn) -> Result<Site, Failure> {
    let code = parse_code("code", i.code.as_deref())?;
    let name = kesu_domain::input::required_text("name", i.name.as_deref(), 100)?;
    let tz = i
        .time_zone
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or("Asia/Shanghai");
    if jiff::tz::TimeZone::get(tz).is_err() {
        return Err(invalid("time_zone", InputProblem::UnknownValue));
    }
    let id = state.db.create_site(&code, &name, tz, state.now()).await?;
    if i.is_group {
        state.db.set_site_group(id, true).await?;
    }
    Ok(Site {
        id: id.0,
        code,
        name,
        time_zone: tz.to_owned(),
        is_group: i.is_group,
    })
}

#[derive(Serialize, ToSchema)]
pub struct DepartmentView {
    pub id: i64,
    pub site_id: i64,
    pub code: String,
    pub name: String,
    pub active: bool,
}

impl From<Department> for DepartmentView {
    fn from(d: Department) -> Self {
        DepartmentView {
            id: d.id,
            site_id: d.site_id,
            code: d.code,
            name: d.name,
            active: d.active,
        }
    }
}

/// Departments.
#[utoipa::path(get, path = "/api/v1/departments", tag = "organisation", responses((status = 200, body = Vec<DepartmentView>)))]
pub async fn list_departments(
    State(state): State<AppState>,
    _staff: Staff,
) -> Result<Json<Vec<DepartmentView>>, Failure> {
    Ok(Json(
        state
            .db
            .departments()
            .await?
            .into_iter()
            .map(DepartmentView::from)
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct DepartmentIn {
    pub code: Option<String>,
    pub name: Option<String>,
    /// Site code; default the first site.
    pub site: Option<String>,
}

/// Create a department (admin).
#[utoipa::path(post, path = "/api/v1/departments", tag = "organisation", request_body = DepartmentIn, responses((status = 201, body = DepartmentView), (status = 409, description = "code taken")))]
pub async fn create_department(
    State(state): State<AppState>,
    staff: Staff,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<DepartmentView>), Failure> {
    staff.require_admin()?;
    let i: DepartmentIn = input::json(&input::body(body)?)?;
    Ok((
        StatusCode::CREATED,
        Json(create_department_from(&state, i).await?.into()),
    ))
}

/// Validates and creates a department (shared with the admin page).
///
/// # Errors
/// 422 for bad fields, 409 for a taken code.
pub async fn create_department_from(
    state: &AppState,
    i: DepartmentIn,
) -> Result<Department, Failure> {
    let code = parse_code("code", i.code.as_deref())?;
    let name = kesu_domain::input::required_text("name", i.name.as_deref(), 100)?;
    let sites = state.db.sites().await?;
    let site = match i.site.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(c) => sites
            .into_iter()
            .find(|s| s.code == c)
            .ok_or_else(|| invalid("site", InputProblem::UnknownValue))?,
        None => sites
            .into_iter()
            .next()
            .ok_or_else(|| invalid("site", InputProblem::Missing))?,
    };
    let id = state
        .db
        .create_department(SiteId(site.id), &code, &name, state.now())
        .await?;
    Ok(Department {
        id: id.0,
        site_id: site.id,
        code,
        name,
        active: true,
    })
}

#[derive(Serialize, ToSchema)]
pub struct UserView {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub roles: Vec<String>,
    pub department_id: Option<i64>,
    pub active: bool,
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        UserView {
            roles: u
                .role_list()
                .iter()
                .map(|r| r.as_str().to_owned())
                .collect(),
            id: u.id,
            username: u.username,
            display_name: u.display_name,
            department_id: u.department_id,
            active: u.active,
        }
    }
}

/// Staff members.
#[utoipa::path(get, path = "/api/v1/users", tag = "organisation", responses((status = 200, body = Vec<UserView>)))]
pub async fn list_users(
    State(state): State<AppState>,
    _staff: Staff,
) -> Result<Json<Vec<UserView>>, Failure> {
    Ok(Json(
        state
            .db
            .users()
            .await?
            .into_iter()
            .map(UserView::from)
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct UserIn {
    pub username: Option<String>,
    pub display_name: Option<String>,
    /// At least 8 characters.
    pub password: Option<String>,
    /// Role codes: agent, manager, gm, supervisor, admin.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Department code.
    pub department: Option<String>,
}

/// Create a user (admin).
#[utoipa::path(post, path = "/api/v1/users", tag = "organisation", request_body = UserIn, responses((status = 201, body = UserView), (status = 409, description = "username taken")))]
pub async fn create_user(
    State(state): State<AppState>,
    staff: Staff,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<UserView>), Failure> {
    staff.require_admin()?;
    let i: UserIn = input::json(&input::body(body)?)?;
    let user = create_user_from(&state, i).await?;
    Ok((StatusCode::CREATED, Json(user.into())))
}

/// A username: 2–40 of `a-z 0-9 . _ -`.
///
/// # Errors
/// 422.
pub fn parse_username(raw: Option<&str>) -> Result<String, Failure> {
    let u = raw.map(str::trim).unwrap_or("").to_ascii_lowercase();
    if u.is_empty() {
        return Err(invalid("username", InputProblem::Missing));
    }
    if !(2..=40).contains(&u.len())
        || !u
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
    {
        return Err(invalid("username", InputProblem::BadCode));
    }
    Ok(u)
}

/// Roles from codes; at least one.
///
/// # Errors
/// 422.
pub fn parse_roles(raw: &[String]) -> Result<Vec<Role>, Failure> {
    let roles = raw
        .iter()
        .filter(|r| !r.trim().is_empty())
        .map(|r| {
            r.trim()
                .parse::<Role>()
                .map_err(|_| invalid("roles", InputProblem::UnknownValue))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if roles.is_empty() {
        Err(invalid("roles", InputProblem::Missing))
    } else {
        Ok(roles)
    }
}

/// Validates and creates a user (shared with the admin page).
///
/// # Errors
/// 422 for bad fields, 409 for a taken username.
pub async fn create_user_from(state: &AppState, i: UserIn) -> Result<User, Failure> {
    let username = parse_username(i.username.as_deref())?;
    let display_name =
        kesu_domain::input::text("display_name", i.display_name.as_deref(), 100, false)?
            .unwrap_or_else(|| username.clone());
    let password = i.password.unwrap_or_default();
    if password.chars().count() < 8 {
        return Err(invalid("password", InputProblem::TooShort { min: 8 }));
    }
    if password.len() > 200 {
        return Err(invalid("password", InputProblem::TooLong { max: 200 }));
    }
    let roles = parse_roles(&i.roles)?;
    let department = match i
        .department
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(code) => Some(
            state
                .db
                .department_by_code(code)
                .await?
                .ok_or_else(|| invalid("department", InputProblem::UnknownValue))?,
        ),
        None => None,
    };
    if roles.contains(&Role::Manager) && department.is_none() {
        return Err(invalid("department", InputProblem::Missing));
    }
    let hash = hash_password(&password)?;
    let new = NewUser {
        username: &username,
        display_name: &display_name,
        password_hash: Some(&hash),
        roles: &roles,
        department_id: department.as_ref().map(|d| DepartmentId(d.id)),
    };
    let id = state.db.create_user(&new, state.now()).await?;
    // The admin chose this password for someone else: they replace it first.
    state.db.require_password_change(id).await?;
    state
        .db
        .user(id)
        .await?
        .ok_or(Failure::Internal("created user vanished".into()))
}

#[derive(Serialize, ToSchema)]
pub struct CategoryView {
    pub code: String,
    pub parent_code: Option<String>,
    pub name_zh: String,
    pub name_en: String,
    pub active: bool,
    /// A sub-category's keyword phrases (empty for the shipped categories,
    /// whose rules come with the classification engine).
    pub keywords: Vec<String>,
}

impl From<Category> for CategoryView {
    fn from(c: Category) -> Self {
        CategoryView {
            keywords: c.keyword_list(),
            code: c.code,
            parent_code: c.parent_code,
            name_zh: c.name_zh,
            name_en: c.name_en,
            active: c.active,
        }
    }
}

/// The category tree (R-CL-1).
#[utoipa::path(get, path = "/api/v1/categories", tag = "organisation", responses((status = 200, body = Vec<CategoryView>)))]
pub async fn list_categories(
    State(state): State<AppState>,
    _staff: Staff,
) -> Result<Json<Vec<CategoryView>>, Failure> {
    Ok(Json(
        state
            .db
            .categories()
            .await?
            .into_iter()
            .map(CategoryView::from)
            .collect(),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct CategoryIn {
    pub code: Option<String>,
    /// Parent category code, for a sub-category: one of the shipped
    /// categories (the tree is one level deep).
    pub parent: Option<String>,
    pub name_zh: Option<String>,
    pub name_en: Option<String>,
    /// A sub-category's keyword phrases (required with `parent`): a list,
    /// or one text with a phrase per line (or separated by `,`, `，`, `、`).
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>)]
    pub keywords: Option<serde_json::Value>,
}

/// The most keyword phrases a sub-category has, and their length.
const MAX_KEYWORDS: usize = 40;
const KEYWORD_CHARS: usize = 20;

/// A sub-category's keyword phrases: a JSON list or a text (one per line,
/// or separated by commas or 、), trimmed, without repeats.
///
/// # Errors
/// 422 naming `keywords`: none, too many, one too long or with control
/// characters, or not text.
pub fn parse_keywords(raw: Option<&serde_json::Value>) -> Result<Vec<String>, Failure> {
    use serde_json::Value;
    let pieces: Vec<String> = match raw {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => s
            .split(['\n', ',', '，', '、', ';', '；'])
            .map(str::to_owned)
            .collect(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| invalid("keywords", InputProblem::UnknownValue))
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(invalid("keywords", InputProblem::UnknownValue)),
    };
    let mut out: Vec<String> = Vec::new();
    for p in pieces {
        let Some(p) = kesu_domain::input::text("keywords", Some(&p), KEYWORD_CHARS, false)? else {
            continue;
        };
        if p.contains(['\n', '\t']) {
            return Err(invalid("keywords", InputProblem::ControlCharacters));
        }
        if !out.contains(&p) {
            out.push(p);
        }
    }
    if out.is_empty() {
        return Err(invalid("keywords", InputProblem::Missing));
    }
    if out.len() > MAX_KEYWORDS {
        return Err(invalid(
            "keywords",
            InputProblem::TooLong { max: MAX_KEYWORDS },
        ));
    }
    Ok(out)
}

/// The parent a new sub-category may have: an active shipped category.
///
/// # Errors
/// 422 naming `parent`.
async fn parse_parent(state: &AppState, raw: &str) -> Result<String, Failure> {
    if !kesu_storage::taxonomy::is_shipped_root(raw) {
        return Err(invalid("parent", InputProblem::UnknownValue));
    }
    state
        .db
        .category(raw)
        .await?
        .filter(|c| c.active)
        .map(|c| c.code)
        .ok_or_else(|| invalid("parent", InputProblem::UnknownValue))
}

/// Add a category (admin).
#[utoipa::path(post, path = "/api/v1/categories", tag = "organisation", request_body = CategoryIn, responses((status = 201, body = CategoryView), (status = 409, description = "code taken")))]
pub async fn create_category(
    State(state): State<AppState>,
    staff: Staff,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<CategoryView>), Failure> {
    staff.require_admin()?;
    let i: CategoryIn = input::json(&input::body(body)?)?;
    Ok((
        StatusCode::CREATED,
        Json(create_category_from(&state, i).await?.into()),
    ))
}

/// Validates and creates a category (shared with the admin page).
///
/// # Errors
/// 422 for bad fields, 409 for a taken code.
pub async fn create_category_from(state: &AppState, i: CategoryIn) -> Result<Category, Failure> {
    let code = parse_code("code", i.code.as_deref())?;
    let name_zh = kesu_domain::input::required_text("name_zh", i.name_zh.as_deref(), 60)?;
    let name_en = kesu_domain::input::text("name_en", i.name_en.as_deref(), 60, false)?
        .unwrap_or_else(|| name_zh.clone());
    let (parent, keywords) = match i.parent.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(p) => (
            Some(parse_parent(state, p).await?),
            parse_keywords(i.keywords.as_ref())?,
        ),
        None => (None, Vec::new()),
    };
    // A taken code is refused by name, before anything is written.
    let taken = || Failure::Duplicate("code".to_owned());
    if state.db.category(&code).await?.is_some() {
        return Err(taken());
    }
    let created = match &parent {
        Some(p) => {
            state
                .db
                .create_subcategory(&code, p, &name_zh, &name_en, &keywords)
                .await
        }
        None => {
            state
                .db
                .create_category(&code, None, &name_zh, &name_en)
                .await
        }
    };
    let id = created.map_err(|e| match e {
        kesu_storage::StorageError::Duplicate(_) => taken(),
        e => e.into(),
    })?;
    Ok(Category {
        id,
        code,
        parent_code: parent,
        name_zh,
        name_en,
        active: true,
        keywords: keywords.join("\n"),
    })
}

/// Replaces a sub-category's keyword phrases (shared with the admin page).
///
/// # Errors
/// 404 for a code that is no sub-category, 422 for bad phrases.
pub async fn set_keywords_from(
    state: &AppState,
    code: &str,
    raw: Option<&serde_json::Value>,
) -> Result<Category, Failure> {
    let mut category = state
        .db
        .category(code)
        .await?
        .filter(|c| c.parent_code.is_some())
        .ok_or(Failure::NotFound)?;
    let keywords = parse_keywords(raw)?;
    state.db.set_category_keywords(code, &keywords).await?;
    category.keywords = keywords.join("\n");
    Ok(category)
}

#[derive(Serialize, ToSchema)]
pub struct CustomerMatchView {
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub complaints: i64,
    pub open_complaints: i64,
}

impl From<CustomerMatch> for CustomerMatchView {
    fn from(c: CustomerMatch) -> Self {
        CustomerMatchView {
            name: c.name,
            phone: c.phone,
            email: c.email,
            complaints: c.complaints,
            open_complaints: c.open_complaints,
        }
    }
}

/// Known customers by phone number, for registration (`?phone=…`).
#[utoipa::path(get, path = "/api/v1/customers", tag = "customers", params(("phone" = String, Query)), responses((status = 200, body = Vec<CustomerMatchView>)))]
pub async fn find_customers(
    State(state): State<AppState>,
    staff: Staff,
    RawQuery(q): RawQuery,
) -> Result<Json<Vec<CustomerMatchView>>, Failure> {
    if !crate::view::sees_contacts(&staff.actor) {
        return Err(Failure::Forbidden);
    }
    #[derive(Deserialize, Default)]
    struct Q {
        phone: Option<String>,
    }
    let q: Q = serde_urlencoded::from_str(q.as_deref().unwrap_or("")).unwrap_or_default();
    let phone = kesu_domain::input::phone("phone", q.phone.as_deref().unwrap_or(""))?;
    let found = state.db.customers_by_phone(&phone).await?;
    for c in &found {
        state
            .db
            .log_personal_data_view(staff.actor.user_id, c.id, None, "lookup", state.now())
            .await?;
    }
    Ok(Json(
        found.into_iter().map(CustomerMatchView::from).collect(),
    ))
}

/// Changes to a user; what is left out stays as it is.
#[derive(Deserialize, ToSchema, Default)]
pub struct UserPatch {
    pub display_name: Option<String>,
    /// The complete new set of role codes.
    pub roles: Option<Vec<String>>,
    /// Department code; an empty string removes the department.
    pub department: Option<String>,
    #[serde(default, deserialize_with = "crate::input::flex::opt_bool")]
    pub active: Option<bool>,
}

/// Change a user's name, roles, department or whether they may log in (admin).
#[utoipa::path(patch, path = "/api/v1/users/{username}", tag = "organisation", request_body = UserPatch,
    params(("username" = String, Path)), responses((status = 200, body = UserView), (status = 404, description = "unknown user")))]
pub async fn update_user(
    State(state): State<AppState>,
    staff: Staff,
    axum::extract::Path(username): axum::extract::Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<UserView>, Failure> {
    staff.require_admin()?;
    let patch: UserPatch = input::json(&input::body(body)?)?;
    Ok(Json(
        update_user_from(&state, &staff, &username, patch)
            .await?
            .into(),
    ))
}

/// Validates and applies a user change (shared with the admin page). An
/// admin cannot take away their own admin role or lock themselves out.
///
/// # Errors
/// 404 unknown user, 422 bad fields, 403 for self-lockout.
pub async fn update_user_from(
    state: &AppState,
    staff: &Staff,
    username: &str,
    patch: UserPatch,
) -> Result<User, Failure> {
    let user = state
        .db
        .user_by_username(username.trim())
        .await?
        .ok_or(Failure::NotFound)?;
    let display_name = match kesu_domain::input::text(
        "display_name",
        patch.display_name.as_deref(),
        100,
        false,
    )? {
        Some(n) => n,
        None => user.display_name.clone(),
    };
    let roles = match &patch.roles {
        Some(r) => parse_roles(r)?,
        None => user.role_list(),
    };
    let department = match patch.department.as_deref().map(str::trim) {
        None => user.department_id.map(DepartmentId),
        Some("") => None,
        Some(code) => Some(DepartmentId(
            state
                .db
                .department_by_code(code)
                .await?
                .ok_or_else(|| invalid("department", InputProblem::UnknownValue))?
                .id,
        )),
    };
    if roles.contains(&Role::Manager) && department.is_none() {
        return Err(invalid("department", InputProblem::Missing));
    }
    let active = patch.active.unwrap_or(user.active);
    if user.id == staff.user.id && (!active || !roles.contains(&Role::Admin)) {
        return Err(Failure::Forbidden);
    }
    state
        .db
        .update_user(
            kesu_domain::UserId(user.id),
            &display_name,
            &roles,
            department,
            active,
        )
        .await?;
    state
        .db
        .user(kesu_domain::UserId(user.id))
        .await?
        .ok_or(Failure::NotFound)
}
