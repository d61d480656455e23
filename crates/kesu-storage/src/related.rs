//! One record per problem (R-IN-3): the complaints a new one may repeat —
//! the same customer's (by phone, e-mail or WeChat openid) within a window, and open
//! complaints whose words are much alike — and the links people made
//! between complaints, and what was merged into a complaint.

use std::collections::HashSet;

use jiff::Timestamp;
use kesu_domain::{Actor, ComplaintId, UserId};
use serde::Serialize;

use crate::complaints::visibility_sql;
use crate::{Db, Result, StorageError, ms, on_db};

/// Another complaint shown beside this one.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct RelatedRow {
    pub id: i64,
    pub number: String,
    pub state: String,
    pub received_at: i64,
    pub description: String,
    pub customer_name: String,
    pub customer_phone: Option<String>,
    pub customer_email: Option<String>,
}

/// Why a complaint is proposed as a possible duplicate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// The same customer (phone, e-mail or WeChat openid) complained within the window.
    SameCustomer,
    /// An open complaint with much the same words.
    SimilarWords,
}

impl Reason {
    pub const fn as_str(self) -> &'static str {
        match self {
            Reason::SameCustomer => "same_customer",
            Reason::SimilarWords => "similar_words",
        }
    }
}

const RELATED_SELECT: &str = "SELECT c.id, c.number, c.state, c.received_at, c.description, cu.name AS customer_name, \
    cu.phone AS customer_phone, cu.email AS customer_email \
    FROM complaints c JOIN customers cu ON cu.id = c.customer_id";

/// How many open complaints of the window are compared by their words.
const SIMILAR_CANDIDATES: i64 = 500;
/// Words in common (of two characters or more) that make complaints alike,
/// and the share of the shorter complaint's words they must be.
const SIMILAR_MIN_SHARED: usize = 3;
const SIMILAR_MIN_SHARE: f64 = 0.5;

/// The words of a complaint that tell it apart: two characters or more.
fn words(terms: &str) -> HashSet<&str> {
    terms
        .split(' ')
        .filter(|w| w.chars().count() >= 2)
        .collect()
}

/// `AND` the actor's visibility, or nothing for those who see everything.
fn visible_to(actor: &Actor) -> String {
    visibility_sql(actor).map_or_else(String::new, |v| format!(" AND {v}"))
}

/// Whether two sets of words are much alike.
fn alike(a: &HashSet<&str>, b: &HashSet<&str>) -> bool {
    let shared = a.intersection(b).count();
    let smaller = a.len().min(b.len());
    #[expect(
        clippy::cast_precision_loss,
        reason = "word counts of one complaint are small"
    )]
    let share = if smaller == 0 {
        0.0
    } else {
        shared as f64 / smaller as f64
    };
    shared >= SIMILAR_MIN_SHARED && share >= SIMILAR_MIN_SHARE
}

impl Db {
    /// The complaints complaint `id` may repeat, with why: the same
    /// customer's (by phone, e-mail or WeChat openid) received within `window_days` before
    /// or after it, and open complaints of that window with much the same
    /// words; only those `actor` may see. Complaints already linked to it,
    /// merged into it or it was merged into are left out. Newest first.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn possible_duplicates(
        &self,
        actor: &Actor,
        id: ComplaintId,
        window_days: i64,
    ) -> Result<Vec<(RelatedRow, Reason)>> {
        let visible = visible_to(actor);
        let sql = "SELECT c.received_at, cu.phone, cu.email, cu.wechat_openid, COALESCE(s.terms, '') FROM complaints c \
                   JOIN customers cu ON cu.id = c.customer_id LEFT JOIN complaint_search s ON s.complaint_id = c.id WHERE c.id = $1";
        /// Received at, phone, e-mail, WeChat openid, search terms.
        type Own = (i64, Option<String>, Option<String>, Option<String>, String);
        let Some((received_at, phone, email, openid, terms)): Option<Own> =
            on_db!(self, p => sqlx::query_as(sql).bind(id.0).fetch_optional(p).await)?
        else {
            return Ok(Vec::new());
        };
        let window = 24 * 3_600_000 * window_days.clamp(0, 3650);
        let (from, to) = (received_at - window, received_at + window);
        let unrelated = "c.id <> $1 \
            AND NOT EXISTS (SELECT 1 FROM complaint_links l WHERE (l.a_id = $1 AND l.b_id = c.id) OR (l.b_id = $1 AND l.a_id = c.id)) \
            AND (c.merged_into_id IS NULL OR c.merged_into_id <> $1) \
            AND c.id <> COALESCE((SELECT m.merged_into_id FROM complaints m WHERE m.id = $1), 0)";
        let unrelated = format!("{unrelated}{visible}");
        let sql = format!(
            "{RELATED_SELECT} WHERE {unrelated} AND c.received_at BETWEEN $2 AND $3 \
             AND c.customer_id IN (SELECT x.id FROM customers x WHERE x.phone = $4 UNION SELECT x.id FROM customers x WHERE x.email = $5 \
             UNION SELECT x.id FROM customers x WHERE x.wechat_openid = $6) \
             ORDER BY c.received_at DESC LIMIT 50"
        );
        let same: Vec<RelatedRow> = on_db!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(id.0).bind(from).bind(to).bind(&phone).bind(&email).bind(&openid)
            .fetch_all(p).await)?;
        let mut found: Vec<(RelatedRow, Reason)> = same
            .into_iter()
            .map(|r| (r, Reason::SameCustomer))
            .collect();
        let mine = words(&terms);
        if mine.len() >= SIMILAR_MIN_SHARED {
            let sql = format!(
                "SELECT c.id, COALESCE(s.terms, '') FROM complaints c JOIN complaint_search s ON s.complaint_id = c.id \
                 WHERE {unrelated} AND c.received_at BETWEEN $2 AND $3 \
                 AND c.state NOT IN ('closed','merged','withdrawn','rejected') \
                 ORDER BY c.received_at DESC LIMIT {SIMILAR_CANDIDATES}"
            );
            let candidates: Vec<(i64, String)> = on_db!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(id.0).bind(from).bind(to)
                .fetch_all(p).await)?;
            let alike_ids: Vec<i64> = candidates
                .iter()
                .filter(|(other, t)| {
                    !found.iter().any(|(r, _)| r.id == *other) && alike(&mine, &words(t))
                })
                .map(|(other, _)| *other)
                .take(20)
                .collect();
            if !alike_ids.is_empty() {
                let ids: Vec<String> = alike_ids.iter().map(i64::to_string).collect();
                let sql = format!("{RELATED_SELECT} WHERE c.id IN ({})", ids.join(","));
                let rows: Vec<RelatedRow> = on_db!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).fetch_all(p).await)?;
                found.extend(rows.into_iter().map(|r| (r, Reason::SimilarWords)));
            }
        }
        found.sort_by_key(|(r, _)| std::cmp::Reverse(r.received_at));
        Ok(found)
    }

    /// Links two complaints about one problem (R-IN-3); linking them again
    /// changes nothing.
    ///
    /// # Errors
    /// [`StorageError::Corrupt`] for a complaint linked to itself; the driver's error.
    pub async fn link_complaints(
        &self,
        a: ComplaintId,
        b: ComplaintId,
        by: UserId,
        now: Timestamp,
    ) -> Result<bool> {
        if a == b {
            return Err(StorageError::Corrupt("a complaint linked to itself".into()));
        }
        let (low, high) = if a.0 < b.0 { (a, b) } else { (b, a) };
        let sql = "INSERT INTO complaint_links (a_id, b_id, linked_by, linked_at) VALUES ($1, $2, $3, $4) ON CONFLICT (a_id, b_id) DO NOTHING";
        let n = on_db!(self, p => sqlx::query(sql).bind(low.0).bind(high.0).bind(by.0).bind(ms(now)).execute(p).await.map(|r| r.rows_affected()))?;
        Ok(n > 0)
    }

    /// The complaints linked to complaint `id` that `actor` may see, newest
    /// first.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn linked_complaints(
        &self,
        actor: &Actor,
        id: ComplaintId,
    ) -> Result<Vec<RelatedRow>> {
        let sql = format!(
            "{RELATED_SELECT} WHERE c.id IN (SELECT b_id FROM complaint_links WHERE a_id = $1 UNION SELECT a_id FROM complaint_links WHERE b_id = $1){} \
             ORDER BY c.received_at DESC",
            visible_to(actor)
        );
        Ok(
            on_db!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(id.0).fetch_all(p).await)?,
        )
    }

    /// The complaints merged into complaint `id` (their histories and
    /// customers stay with them) that `actor` may see, newest first.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn merged_into(&self, actor: &Actor, id: ComplaintId) -> Result<Vec<RelatedRow>> {
        let sql = format!(
            "{RELATED_SELECT} WHERE c.merged_into_id = $1{} ORDER BY c.received_at DESC",
            visible_to(actor)
        );
        Ok(
            on_db!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(id.0).fetch_all(p).await)?,
        )
    }
}
