//! Sites, departments and users (R-OR-1, R-GV-1).

use jiff::Timestamp;
use kesu_domain::{Actor, DepartmentId, Role, SiteId, UserId};
use serde::Serialize;

use crate::{Db, Result, ms, on_db};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Site {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub time_zone: String,
    /// The group (集团) level: its staff see every site.
    pub is_group: bool,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Department {
    pub id: i64,
    pub site_id: i64,
    pub code: String,
    pub name: String,
    pub active: bool,
}

/// A staff member as stored (without the password hash).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    /// Comma-separated role codes.
    pub roles: String,
    pub department_id: Option<i64>,
    pub active: bool,
    /// The password was handed out and must be replaced at the next login.
    pub must_change_password: bool,
    /// The site scoping what the user sees; `None` at the group level.
    pub site_id: Option<i64>,
}

impl User {
    /// The roles this user holds; unknown codes in storage are skipped.
    pub fn role_list(&self) -> Vec<Role> {
        self.roles
            .split(',')
            .filter_map(|r| r.trim().parse().ok())
            .collect()
    }

    /// The user as the process sees them.
    pub fn actor(&self) -> Actor {
        Actor {
            user_id: UserId(self.id),
            roles: self.role_list(),
            department_id: self.department_id.map(DepartmentId),
            site_id: self.site_id.map(SiteId),
        }
    }
}

/// A user to create.
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub password_hash: Option<&'a str>,
    pub roles: &'a [Role],
    pub department_id: Option<DepartmentId>,
}

pub fn roles_text(roles: &[Role]) -> String {
    roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// A user's columns, with the site that scopes them (none at the group level).
pub(crate) const USER_FIELDS: &str = "u.id, u.username, u.display_name, u.roles, u.department_id, u.active, u.must_change_password, \
    CASE WHEN st.is_group THEN NULL ELSE st.id END AS site_id";
/// The tables [`USER_FIELDS`] come from (`u` is the user).
pub(crate) const USER_JOINS: &str =
    "LEFT JOIN departments dp ON dp.id = u.department_id LEFT JOIN sites st ON st.id = dp.site_id";

impl Db {
    /// # Errors
    /// [`crate::StorageError::Duplicate`] when the code exists.
    pub async fn create_site(
        &self,
        code: &str,
        name: &str,
        time_zone: &str,
        now: Timestamp,
    ) -> Result<SiteId> {
        let sql = "INSERT INTO sites (code, name, time_zone, created_at) VALUES ($1, $2, $3, $4) RETURNING id";
        let id: i64 = on_db!(self, p => sqlx::query_scalar(sql).bind(code).bind(name).bind(time_zone).bind(ms(now)).fetch_one(p).await)?;
        Ok(SiteId(id))
    }

    /// Marks a site as the group level (or not).
    ///
    /// # Errors
    /// The driver's error.
    pub async fn set_site_group(&self, id: SiteId, is_group: bool) -> Result<bool> {
        let sql = "UPDATE sites SET is_group = $1 WHERE id = $2";
        Ok(
            on_db!(self, p => sqlx::query(sql).bind(is_group).bind(id.0).execute(p).await.map(|r| r.rows_affected()))?
                == 1,
        )
    }

    /// # Errors
    /// The driver's error.
    pub async fn sites(&self) -> Result<Vec<Site>> {
        let sql = "SELECT id, code, name, time_zone, is_group FROM sites ORDER BY id";
        Ok(on_db!(self, p => sqlx::query_as(sql).fetch_all(p).await)?)
    }

    /// # Errors
    /// [`crate::StorageError::Duplicate`] when the code exists.
    pub async fn create_department(
        &self,
        site: SiteId,
        code: &str,
        name: &str,
        now: Timestamp,
    ) -> Result<DepartmentId> {
        let sql = "INSERT INTO departments (site_id, code, name, created_at) VALUES ($1, $2, $3, $4) RETURNING id";
        let id: i64 = on_db!(self, p => sqlx::query_scalar(sql).bind(site.0).bind(code).bind(name).bind(ms(now)).fetch_one(p).await)?;
        Ok(DepartmentId(id))
    }

    /// All departments, active first.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn departments(&self) -> Result<Vec<Department>> {
        let sql =
            "SELECT id, site_id, code, name, active FROM departments ORDER BY active DESC, id";
        Ok(on_db!(self, p => sqlx::query_as(sql).fetch_all(p).await)?)
    }

    /// # Errors
    /// The driver's error.
    pub async fn department(&self, id: DepartmentId) -> Result<Option<Department>> {
        let sql = "SELECT id, site_id, code, name, active FROM departments WHERE id = $1";
        Ok(on_db!(self, p => sqlx::query_as(sql).bind(id.0).fetch_optional(p).await)?)
    }

    /// # Errors
    /// The driver's error.
    pub async fn department_by_code(&self, code: &str) -> Result<Option<Department>> {
        let sql = "SELECT id, site_id, code, name, active FROM departments WHERE code = $1";
        Ok(on_db!(self, p => sqlx::query_as(sql).bind(code).fetch_optional(p).await)?)
    }

    /// # Errors
    /// The driver's error.
    pub async fn set_department_active(&self, id: DepartmentId, active: bool) -> Result<bool> {
        let sql = "UPDATE departments SET active = $1 WHERE id = $2";
        let n = on_db!(self, p => sqlx::query(sql).bind(active).bind(id.0).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// # Errors
    /// [`crate::StorageError::Duplicate`] when the username is taken.
    pub async fn create_user(&self, user: &NewUser<'_>, now: Timestamp) -> Result<UserId> {
        let sql = "INSERT INTO users (username, display_name, password_hash, roles, department_id, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";
        let roles = roles_text(user.roles);
        let id: i64 = on_db!(self, p => sqlx::query_scalar(sql)
            .bind(user.username)
            .bind(user.display_name)
            .bind(user.password_hash)
            .bind(&roles)
            .bind(user.department_id.map(|d| d.0))
            .bind(ms(now))
            .fetch_one(p)
            .await)?;
        Ok(UserId(id))
    }

    /// # Errors
    /// The driver's error.
    pub async fn user(&self, id: UserId) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_FIELDS} FROM users u {USER_JOINS} WHERE u.id = $1");
        Ok(
            on_db!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(id.0).fetch_optional(p).await)?,
        )
    }

    /// # Errors
    /// The driver's error.
    pub async fn user_by_username(&self, username: &str) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_FIELDS} FROM users u {USER_JOINS} WHERE u.username = $1");
        Ok(
            on_db!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(username).fetch_optional(p).await)?,
        )
    }

    /// The stored password hash of an active user, for login.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn password_hash(&self, username: &str) -> Result<Option<(User, Option<String>)>> {
        let sql = format!(
            "SELECT {USER_FIELDS}, u.password_hash FROM users u {USER_JOINS} WHERE u.username = $1 AND u.active = TRUE"
        );
        let row: Option<UserWithHash> = on_db!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(username).fetch_optional(p).await)?;
        Ok(row.map(|r| (r.user, r.password_hash)))
    }

    /// # Errors
    /// The driver's error.
    pub async fn set_password_hash(&self, id: UserId, hash: &str) -> Result<bool> {
        let sql = "UPDATE users SET password_hash = $1, must_change_password = FALSE WHERE id = $2";
        Ok(
            on_db!(self, p => sqlx::query(sql).bind(hash).bind(id.0).execute(p).await.map(|r| r.rows_affected()))?
                == 1,
        )
    }

    /// Changes roles, department and whether the user may log in. A
    /// deactivated user's sessions end.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn update_user(
        &self,
        id: UserId,
        display_name: &str,
        roles: &[Role],
        department_id: Option<DepartmentId>,
        active: bool,
    ) -> Result<bool> {
        let mut tx = self.begin().await?;
        let sql = "UPDATE users SET display_name = $1, roles = $2, department_id = $3, active = $4 WHERE id = $5";
        let roles = roles_text(roles);
        let n = crate::on_tx!(&mut tx, c => sqlx::query(sql).bind(display_name).bind(&roles).bind(department_id.map(|d| d.0)).bind(active).bind(id.0).execute(c).await.map(|r| r.rows_affected()))?;
        if !active {
            crate::on_tx!(&mut tx, c => sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(id.0).execute(c).await.map(|r| r.rows_affected()))?;
        }
        tx.commit().await?;
        Ok(n == 1)
    }

    /// Marks a handed-out password that the user must replace.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn require_password_change(&self, id: UserId) -> Result<()> {
        let sql = "UPDATE users SET must_change_password = TRUE WHERE id = $1";
        on_db!(self, p => sqlx::query(sql).bind(id.0).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// All users, by department then name.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn users(&self) -> Result<Vec<User>> {
        let sql = format!(
            "SELECT {USER_FIELDS} FROM users u {USER_JOINS} ORDER BY u.active DESC, u.department_id, u.username"
        );
        Ok(on_db!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).fetch_all(p).await)?)
    }

    /// How many users exist (zero on a fresh install).
    ///
    /// # Errors
    /// The driver's error.
    pub async fn user_count(&self) -> Result<i64> {
        Ok(on_db!(self, p => sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(p).await)?)
    }
}

#[derive(sqlx::FromRow)]
struct UserWithHash {
    #[sqlx(flatten)]
    user: User,
    password_hash: Option<String>,
}
