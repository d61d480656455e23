//! Configuration the admin edits: the category tree (R-CL-1) and settings
//! such as the approval limit (R-HD-7).

use kesu_domain::Policy;
use serde::Serialize;

use crate::{Db, Result, on_db};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Category {
    pub id: i64,
    pub code: String,
    pub parent_code: Option<String>,
    pub name_zh: String,
    pub name_en: String,
    pub active: bool,
    /// A sub-category's keyword phrases, one per line (empty for the
    /// shipped categories, whose rules live in kesu-classify).
    pub keywords: String,
}

impl Category {
    /// The keyword phrases, in order.
    pub fn keyword_list(&self) -> Vec<String> {
        self.keywords
            .lines()
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

/// The shipped default taxonomy (corpus SCHEMA): code, 中文, English.
pub const DEFAULT_CATEGORIES: &[(&str, &str, &str)] = &[
    ("product_quality", "产品质量", "Product quality"),
    ("service_attitude", "服务态度", "Service attitude"),
    ("delay", "交付或等待延误", "Delay"),
    ("pricing", "价格收费", "Pricing and charges"),
    ("repair_quality", "维修质量", "Repair quality"),
    ("refund_return", "退换货", "Refund and return"),
    ("false_advertising", "虚假宣传", "False advertising"),
    ("environment", "环境卫生", "Environment"),
    ("safety", "安全", "Safety"),
    ("privacy", "个人信息", "Personal data"),
    ("other", "其他", "Other"),
];

const POLICY_KEY: &str = "policy";

impl Db {
    /// Inserts the default taxonomy where its codes are missing.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn seed_categories(&self) -> Result<()> {
        let sql = "INSERT INTO categories (code, name_zh, name_en, position) VALUES ($1, $2, $3, $4) ON CONFLICT (code) DO NOTHING";
        for (i, (code, zh, en)) in DEFAULT_CATEGORIES.iter().enumerate() {
            let pos = i64::try_from(i).unwrap_or(0);
            on_db!(self, p => sqlx::query(sql).bind(*code).bind(*zh).bind(*en).bind(pos).execute(p).await.map(|r| r.rows_affected()))?;
        }
        Ok(())
    }

    /// # Errors
    /// The driver's error.
    pub async fn categories(&self) -> Result<Vec<Category>> {
        let sql = "SELECT id, code, parent_code, name_zh, name_en, active, keywords FROM categories ORDER BY active DESC, position, id";
        Ok(on_db!(self, p => sqlx::query_as(sql).fetch_all(p).await)?)
    }

    /// # Errors
    /// The driver's error.
    pub async fn category(&self, code: &str) -> Result<Option<Category>> {
        let sql = "SELECT id, code, parent_code, name_zh, name_en, active, keywords FROM categories WHERE code = $1";
        Ok(on_db!(self, p => sqlx::query_as(sql).bind(code).fetch_optional(p).await)?)
    }

    /// Adds a category, optionally below a parent.
    ///
    /// # Errors
    /// [`crate::StorageError::Duplicate`] when the code exists.
    pub async fn create_category(
        &self,
        code: &str,
        parent: Option<&str>,
        name_zh: &str,
        name_en: &str,
    ) -> Result<i64> {
        let sql = "INSERT INTO categories (code, parent_code, name_zh, name_en, position) VALUES ($1, $2, $3, $4, 1000) RETURNING id";
        Ok(
            on_db!(self, p => sqlx::query_scalar(sql).bind(code).bind(parent).bind(name_zh).bind(name_en).fetch_one(p).await)?,
        )
    }

    /// # Errors
    /// The driver's error.
    pub async fn set_category_active(&self, code: &str, active: bool) -> Result<bool> {
        let sql = "UPDATE categories SET active = $1 WHERE code = $2";
        Ok(
            on_db!(self, p => sqlx::query(sql).bind(active).bind(code).execute(p).await.map(|r| r.rows_affected()))?
                == 1,
        )
    }

    /// The process policy, or the default when none was saved.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn policy(&self) -> Result<Policy> {
        let raw: Option<String> = on_db!(self, p => sqlx::query_scalar("SELECT value FROM settings WHERE key = $1").bind(POLICY_KEY).fetch_optional(p).await)?;
        Ok(raw
            .and_then(|r| serde_json::from_str(&r).ok())
            .unwrap_or_default())
    }

    /// # Errors
    /// The driver's error.
    pub async fn set_policy(&self, policy: &Policy) -> Result<()> {
        let value = serde_json::to_string(policy)
            .map_err(|e| crate::StorageError::Corrupt(e.to_string()))?;
        let sql = "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value";
        on_db!(self, p => sqlx::query(sql).bind(POLICY_KEY).bind(&value).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}
