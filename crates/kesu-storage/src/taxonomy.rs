//! Sub-categories with their keyword phrases (R-CL-1) and the lease that
//! lets one node at a time retrain the classification model.
//!
//! The tree is one level deep: a sub-category's parent is one of the
//! shipped categories ([`crate::catalog::DEFAULT_CATEGORIES`]), which the
//! engine's model knows; sub-categories are proposed by their phrases.

use crate::catalog::{Category, DEFAULT_CATEGORIES};
use crate::{Db, Result, on_db};

/// Whether `code` is one of the shipped (root) categories.
pub fn is_shipped_root(code: &str) -> bool {
    DEFAULT_CATEGORIES.iter().any(|(c, _, _)| *c == code)
}

/// Keyword phrases as stored: one per line.
fn keyword_text(keywords: &[String]) -> String {
    keywords.join("\n")
}

impl Db {
    /// Adds a sub-category below `parent` with its keyword phrases (the
    /// caller checks them; the code is unique).
    ///
    /// # Errors
    /// [`crate::StorageError::Duplicate`] when the code exists.
    pub async fn create_subcategory(
        &self,
        code: &str,
        parent: &str,
        name_zh: &str,
        name_en: &str,
        keywords: &[String],
    ) -> Result<i64> {
        let sql = "INSERT INTO categories (code, parent_code, name_zh, name_en, position, keywords) VALUES ($1, $2, $3, $4, 1000, $5) RETURNING id";
        let words = keyword_text(keywords);
        Ok(on_db!(self, p => sqlx::query_scalar(sql)
            .bind(code)
            .bind(parent)
            .bind(name_zh)
            .bind(name_en)
            .bind(&words)
            .fetch_one(p)
            .await)?)
    }

    /// Replaces a category's keyword phrases; whether it exists.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn set_category_keywords(&self, code: &str, keywords: &[String]) -> Result<bool> {
        let sql = "UPDATE categories SET keywords = $1 WHERE code = $2";
        let words = keyword_text(keywords);
        Ok(
            on_db!(self, p => sqlx::query(sql).bind(&words).bind(code).execute(p).await.map(|r| r.rows_affected()))?
                == 1,
        )
    }

    /// The active sub-categories below `parent`, in their order.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn active_subcategories(&self, parent: &str) -> Result<Vec<Category>> {
        let sql = "SELECT id, code, parent_code, name_zh, name_en, active, keywords FROM categories WHERE parent_code = $1 AND active ORDER BY position, id";
        Ok(on_db!(self, p => sqlx::query_as(sql).bind(parent).fetch_all(p).await)?)
    }

    /// Takes the lease stored in setting `key` (milliseconds until which it
    /// is held) when it has run out at `now_ms`, holding it until
    /// `until_ms`. A compare-and-set on the value read: of two nodes (or two
    /// requests) asking at once, one gets it.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn take_lease(&self, key: &str, now_ms: i64, until_ms: i64) -> Result<bool> {
        let seed =
            "INSERT INTO settings (key, value) VALUES ($1, '0') ON CONFLICT (key) DO NOTHING";
        on_db!(self, p => sqlx::query(seed).bind(key).execute(p).await.map(|r| r.rows_affected()))?;
        let Some(held) = self.setting(key).await? else {
            return Ok(false);
        };
        if held.trim().parse::<i64>().unwrap_or(0) > now_ms {
            return Ok(false);
        }
        let sql = "UPDATE settings SET value = $1 WHERE key = $2 AND value = $3";
        let taken = on_db!(self, p => sqlx::query(sql)
            .bind(until_ms.to_string())
            .bind(key)
            .bind(&held)
            .execute(p)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(taken == 1)
    }
}
