//! Evaluation against a labelled corpus (the format of the corpus SCHEMA):
//! top-1 and top-3 category accuracy, per-category precision and recall, the
//! confusion between categories, major recall and precision, per-signal
//! recall and precision.

use std::collections::BTreeMap;

use kesu_domain::{Channel, Severity, Signal};
use serde::{Deserialize, Serialize};

use crate::{Engine, Example, History};

/// One labelled complaint (the corpus SCHEMA; `industry`, `amount_yuan` and
/// `note` are accepted and not used).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Labelled {
    #[serde(default)]
    pub id: Option<String>,
    pub channel: Channel,
    pub text: String,
    pub category: String,
    pub severity: Severity,
    #[serde(default)]
    pub signals: Vec<Signal>,
    #[serde(default)]
    pub industry: Option<String>,
    #[serde(default)]
    pub amount_yuan: Option<f64>,
    #[serde(default)]
    pub note: Option<String>,
}

impl Labelled {
    pub fn example(&self) -> Example {
        Example {
            text: self.text.clone(),
            channel: self.channel,
            category: self.category.clone(),
        }
    }
}

/// A line of a corpus that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorpusError {
    /// 1-based line number.
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for CorpusError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for CorpusError {}

/// Reads a JSON Lines corpus; blank lines are skipped.
pub fn parse_corpus(text: &str) -> Result<Vec<Labelled>, CorpusError> {
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_start_matches('\u{feff}');
        if line.trim().is_empty() {
            continue;
        }
        let row: Labelled = serde_json::from_str(line).map_err(|e| CorpusError {
            line: i + 1,
            message: e.to_string(),
        })?;
        rows.push(row);
    }
    Ok(rows)
}

/// Precision and recall of one category.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoryStats {
    /// Share of the complaints proposed as this category (top-1) that are it;
    /// none if it was never proposed.
    pub precision: Option<f64>,
    /// Share of the complaints of this category proposed as it (top-1);
    /// none if there are none.
    pub recall: Option<f64>,
    /// Complaints labelled with it.
    pub support: usize,
    /// Complaints proposed as it.
    pub predicted: usize,
}

/// The figures of one evaluation. Fractions are 0–1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub complaints: usize,
    pub top1: f64,
    pub top3: f64,
    /// Share of the major complaints proposed as major (none without any).
    pub major_recall: Option<f64>,
    /// Share of the proposed majors that are major (none if none proposed).
    pub major_precision: Option<f64>,
    pub majors: usize,
    pub proposed_majors: usize,
    /// Per signal present in the labels: share of the complaints carrying it where it fired.
    pub signal_recall: BTreeMap<String, f64>,
    /// Per signal that fired: share of its firings the labels agree with.
    pub signal_precision: BTreeMap<String, f64>,
    pub signal_support: BTreeMap<String, usize>,
    pub per_category: BTreeMap<String, CategoryStats>,
    /// Labelled category → proposed category (top-1) → count.
    pub confusion: BTreeMap<String, BTreeMap<String, usize>>,
    /// Ids (or line positions) of the major complaints proposed as general.
    pub missed_majors: Vec<String>,
}

/// Classifies every complaint and compares. `progress` is called after each.
pub fn evaluate(engine: &Engine, rows: &[Labelled], mut progress: impl FnMut(usize)) -> Report {
    let mut top1 = 0usize;
    let mut top3 = 0usize;
    let (mut major_tp, mut majors, mut proposed_majors) = (0usize, 0usize, 0usize);
    let mut sig_tp: BTreeMap<Signal, usize> = BTreeMap::new();
    let mut sig_support: BTreeMap<Signal, usize> = BTreeMap::new();
    let mut sig_fired: BTreeMap<Signal, usize> = BTreeMap::new();
    let mut confusion: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let mut missed_majors = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let p = engine.classify(&row.text, row.channel, History::default());
        let best = p.category().to_owned();
        if best == row.category {
            top1 += 1;
        }
        if p.categories.iter().any(|c| c.code == row.category) {
            top3 += 1;
        }
        *confusion
            .entry(row.category.clone())
            .or_default()
            .entry(best)
            .or_default() += 1;
        let is_major = row.severity == Severity::Major;
        let said_major = p.severity == Severity::Major;
        majors += usize::from(is_major);
        proposed_majors += usize::from(said_major);
        major_tp += usize::from(is_major && said_major);
        if is_major && !said_major {
            missed_majors.push(row.id.clone().unwrap_or_else(|| format!("#{}", i + 1)));
        }
        for s in &row.signals {
            *sig_support.entry(*s).or_default() += 1;
            if p.has(*s) {
                *sig_tp.entry(*s).or_default() += 1;
            }
        }
        for h in &p.signals {
            *sig_fired.entry(h.signal).or_default() += 1;
        }
        progress(i + 1);
    }
    let n = rows.len();
    let frac = |a: usize, b: usize| {
        if b == 0 {
            None
        } else {
            Some(a as f64 / b as f64)
        }
    };
    let mut per_category: BTreeMap<String, CategoryStats> = BTreeMap::new();
    let codes: std::collections::BTreeSet<&String> = confusion
        .keys()
        .chain(confusion.values().flat_map(|m| m.keys()))
        .collect();
    for code in codes {
        let support: usize = confusion.get(code).map_or(0, |m| m.values().sum());
        let predicted: usize = confusion.values().filter_map(|m| m.get(code)).sum();
        let tp = confusion
            .get(code)
            .and_then(|m| m.get(code))
            .copied()
            .unwrap_or(0);
        per_category.insert(
            code.clone(),
            CategoryStats {
                precision: frac(tp, predicted),
                recall: frac(tp, support),
                support,
                predicted,
            },
        );
    }
    let tp_of = |s: &Signal| sig_tp.get(s).copied().unwrap_or(0);
    Report {
        complaints: n,
        top1: frac(top1, n).unwrap_or(0.0),
        top3: frac(top3, n).unwrap_or(0.0),
        major_recall: frac(major_tp, majors),
        major_precision: frac(major_tp, proposed_majors),
        majors,
        proposed_majors,
        signal_recall: sig_support
            .iter()
            .map(|(s, sup)| (s.to_string(), tp_of(s) as f64 / *sup as f64))
            .collect(),
        signal_precision: sig_fired
            .iter()
            .map(|(s, fired)| (s.to_string(), tp_of(s) as f64 / *fired as f64))
            .collect(),
        signal_support: sig_support
            .iter()
            .map(|(s, n)| (s.to_string(), *n))
            .collect(),
        per_category,
        confusion,
        missed_majors,
    }
}
