//! The full-text index (R-FB-6): one row of words per complaint in
//! `complaint_search`, written in the transaction that changes the complaint,
//! so every node searches the same, current index.
//!
//! The words come from [`kesu_classify::search`] (jieba, normalised). SQLite
//! finds them with FTS5 (`complaint_fts`, kept in step by triggers),
//! PostgreSQL with a GIN index over the words as lexemes. A query matches a
//! complaint that has all its words.

use std::collections::HashSet;

use kesu_classify::search::{index_document, index_terms};
use kesu_domain::ids::ComplaintId;

use crate::{Db, Result, Tx, on_db, on_tx};

/// Writes the first search row of a complaint.
pub(crate) async fn index_new<'a>(
    tx: &mut Tx,
    id: ComplaintId,
    texts: impl IntoIterator<Item = &'a str>,
) -> Result<()> {
    let terms = index_document(texts);
    let sql = "INSERT INTO complaint_search (complaint_id, terms) VALUES ($1, $2) \
               ON CONFLICT (complaint_id) DO UPDATE SET terms = excluded.terms";
    on_tx!(tx, c => sqlx::query(sql).bind(id.0).bind(&terms).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Adds the words of new texts (a note, the customer's answer, a corrected
/// detail) to a complaint's search row; words it already has are not
/// written again.
pub(crate) async fn index_more(tx: &mut Tx, id: ComplaintId, texts: &[&str]) -> Result<()> {
    if texts.is_empty() {
        return Ok(());
    }
    let existing: Option<String> = on_tx!(tx, c => sqlx::query_scalar("SELECT terms FROM complaint_search WHERE complaint_id = $1")
        .bind(id.0)
        .fetch_optional(c)
        .await)?;
    let Some(existing) = existing else {
        // Not indexed yet (a complaint from before the index): the start-up
        // backfill writes its whole row, including these words.
        return Ok(());
    };
    let mut seen: HashSet<&str> = existing.split(' ').filter(|t| !t.is_empty()).collect();
    let mut added = String::new();
    let new_terms: Vec<String> = texts.iter().flat_map(|t| index_terms(t)).collect();
    for term in &new_terms {
        if seen.insert(term) {
            added.push(' ');
            added.push_str(term);
        }
    }
    if added.is_empty() {
        return Ok(());
    }
    let terms = if existing.is_empty() {
        added.trim_start().to_owned()
    } else {
        format!("{existing}{added}")
    };
    on_tx!(tx, c => sqlx::query("UPDATE complaint_search SET terms = $1 WHERE complaint_id = $2")
        .bind(&terms)
        .bind(id.0)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// The query clause for the words of a search, for the backend at hand: a
/// condition with one `?` (SQLite's joins `complaint_fts f`, see
/// `list_complaints`) and the argument to bind there.
pub(crate) fn match_clause(db: &Db, terms: &[String]) -> (String, String) {
    match db {
        Db::Sqlite(..) => {
            // Terms hold only letters, digits and Han characters: quoting
            // each makes it one FTS5 string, and all must be present.
            let q = terms
                .iter()
                .map(|t| format!("\"{t}\""))
                .collect::<Vec<_>>()
                .join(" AND ");
            // The caller joins `complaint_fts f` (see `list_complaints`).
            ("f.complaint_fts MATCH ?".to_owned(), q)
        }
        Db::Pg(_) => {
            let q = terms
                .iter()
                .map(|t| format!("'{t}'"))
                .collect::<Vec<_>>()
                .join(" & ");
            (
                "c.id IN (SELECT s.complaint_id FROM complaint_search s \
                 WHERE array_to_tsvector(string_to_array(s.terms, ' ')) @@ ?::tsquery)"
                    .to_owned(),
                q,
            )
        }
    }
}

/// A complaint's whole search text as the index builds it at registration.
pub(crate) const DOCUMENT_SELECT: &str = "SELECT c.id, c.description, c.restatement, c.subject, c.order_ref, c.plate, \
     c.event_place, c.people_involved, cu.name, cu.phone, cu.email \
     FROM complaints c JOIN customers cu ON cu.id = c.customer_id";

type DocumentRow = (
    i64,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
);

impl Db {
    /// Indexes complaints that have no search row yet (those registered
    /// before the index existed), up to `batch` of them, with the words of
    /// their history. Returns how many were indexed; call until 0.
    ///
    /// # Errors
    /// The driver's error.
    pub async fn index_unindexed(&self, batch: u32) -> Result<usize> {
        let sql = format!(
            "{DOCUMENT_SELECT} WHERE NOT EXISTS (SELECT 1 FROM complaint_search s WHERE s.complaint_id = c.id) \
             ORDER BY c.id LIMIT {batch}"
        );
        let rows: Vec<DocumentRow> = on_db!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).fetch_all(p).await)?;
        if rows.is_empty() {
            return Ok(0);
        }
        let mut tx = self.begin().await?;
        for row in &rows {
            let id = ComplaintId(row.0);
            let payloads: Vec<String> = on_tx!(&mut tx, c => sqlx::query_scalar("SELECT payload FROM complaint_events WHERE complaint_id = $1 ORDER BY seq")
                .bind(id.0)
                .fetch_all(c)
                .await)?;
            let events: Vec<kesu_domain::complaint::Event> = payloads
                .iter()
                .filter_map(|p| serde_json::from_str(p).ok())
                .collect();
            let mut texts: Vec<&str> = document_texts(row);
            for e in &events {
                texts.extend(e.searchable_text());
            }
            index_new(&mut tx, id, texts).await?;
        }
        tx.commit().await?;
        Ok(rows.len())
    }
}

fn document_texts(row: &DocumentRow) -> Vec<&str> {
    let mut texts = vec![row.1.as_str(), row.8.as_str()];
    texts.extend(
        [
            &row.2, &row.3, &row.4, &row.5, &row.6, &row.7, &row.9, &row.10,
        ]
        .into_iter()
        .flatten()
        .map(String::as_str),
    );
    texts
}
