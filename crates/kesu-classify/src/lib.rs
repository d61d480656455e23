//! Reads a complaint like a senior agent (R-CL-1, R-CL-2): proposes the three
//! most likely categories with a confidence, the severity, and the signals
//! that make it major, each with the phrase that fired it. Money amounts are
//! read in every usual form ([`amount`]).
//!
//! This crate is pure: it does **no I/O and never reads the clock**. Models
//! come in and go out as values ([`CategoryModel`], serde JSON), training data
//! as [`Example`]s; the caller stores and loads them.
//!
//! ```
//! use kesu_classify::{Engine, History};
//! use kesu_domain::{Channel, Severity, Signal};
//!
//! let p = Engine::shipped().classify("再不处理就打12315，我不要赔偿，只要退款", Channel::Phone, History::default());
//! assert_eq!(p.severity, Severity::Major);
//! assert_eq!(p.signals.len(), 1);
//! assert_eq!(p.signals[0].signal, Signal::Regulator);
//! assert_eq!(p.signals[0].phrase, "12315");
//! ```
//!
//! The shipped model is trained on first use from the labelled complaints in
//! `data/train.jsonl` (compiled in), so a fresh clone proposes categories
//! without any database; a desk's own model is trained with
//! [`CategoryModel::train`] and used with [`Engine::with_model`].

pub mod amount;
pub mod category;
pub mod eval;
pub mod keywords;
mod matcher;
mod normalize;
pub mod search;
pub mod signals;
mod t2s;
pub mod taxonomy;

use std::sync::LazyLock;

use kesu_domain::{Channel, Severity, Signal};
use serde::{Deserialize, Serialize};

pub use category::{CategoryModel, Example, TrainOptions};
pub use signals::{History, SignalConfig, SignalHit, Source, Span};
pub use taxonomy::{Category, OTHER, Taxonomy};

use crate::category::Rules;
use crate::normalize::{Normalized, is_han};

/// The labelled complaints the shipped model learns from (corpus SCHEMA format).
pub const SHIPPED_TRAINING_DATA: &str = include_str!("../data/train.jsonl");

/// The blind holdout (never trained on), for measuring a trained model.
pub const SHIPPED_HOLDOUT_DATA: &str = include_str!("../data/holdout.jsonl");

static JIEBA: LazyLock<jieba_rs::Jieba> = LazyLock::new(jieba_rs::Jieba::new);

/// The segmenter, built once (its dictionary is embedded).
pub(crate) fn jieba() -> &'static jieba_rs::Jieba {
    &JIEBA
}

static SHIPPED: LazyLock<Engine> = LazyLock::new(|| {
    let taxonomy = Taxonomy::default_taxonomy();
    let examples = shipped_examples();
    let model = CategoryModel::train(&taxonomy, &examples, &TrainOptions::default());
    Engine::with_model(taxonomy, model, SignalConfig::default())
});

/// The shipped training examples.
pub fn shipped_examples() -> Vec<Example> {
    eval::parse_corpus(SHIPPED_TRAINING_DATA)
        .map(|rows| rows.into_iter().map(|r| r.example()).collect())
        .unwrap_or_default()
}

/// A proposed category with its confidence (0–1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoryScore {
    pub code: String,
    pub confidence: f32,
}

/// What the engine proposes for one complaint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Proposal {
    /// The three most likely categories, best first (fewer only if the
    /// taxonomy has fewer). Confidences add up to at most 1.
    pub categories: Vec<CategoryScore>,
    /// Major when any signal fired.
    pub severity: Severity,
    /// The signals that fired, each with its phrase, in the order of `Signal::ALL`.
    pub signals: Vec<SignalHit>,
    /// The text says nothing the engine can read (empty, only emoji, only
    /// English, only control characters): the category is `other` and the
    /// text fired no signal (the channel and the history still may).
    pub cannot_tell: bool,
}

impl Proposal {
    /// The best category's code.
    pub fn category(&self) -> &str {
        self.categories.first().map_or(OTHER, |c| c.code.as_str())
    }

    pub fn has(&self, signal: Signal) -> bool {
        self.signals.iter().any(|h| h.signal == signal)
    }
}

/// Classification and signal detection with one taxonomy, model and settings.
#[derive(Debug, Clone)]
pub struct Engine {
    taxonomy: Taxonomy,
    rules: Rules,
    model: CategoryModel,
    config: SignalConfig,
}

impl Engine {
    /// The shipped taxonomy and model with the default settings.
    pub fn shipped() -> &'static Engine {
        &SHIPPED
    }

    /// An engine with a given model (e.g. the desk's own, loaded from the database).
    pub fn with_model(taxonomy: Taxonomy, model: CategoryModel, config: SignalConfig) -> Engine {
        Engine {
            rules: Rules::new(&taxonomy),
            taxonomy,
            model,
            config,
        }
    }

    /// Trains a model on the shipped examples plus `extra` and returns an
    /// engine using it.
    pub fn trained_with(extra: &[Example], include_shipped: bool, config: SignalConfig) -> Engine {
        let taxonomy = Taxonomy::default_taxonomy();
        let mut examples = if include_shipped {
            shipped_examples()
        } else {
            Vec::new()
        };
        examples.extend_from_slice(extra);
        let model = CategoryModel::train(&taxonomy, &examples, &TrainOptions::default());
        Engine::with_model(taxonomy, model, config)
    }

    pub fn taxonomy(&self) -> &Taxonomy {
        &self.taxonomy
    }

    pub fn model(&self) -> &CategoryModel {
        &self.model
    }

    pub fn config(&self) -> &SignalConfig {
        &self.config
    }

    /// Reads one complaint.
    pub fn classify(&self, text: &str, channel: Channel, history: History) -> Proposal {
        let n = Normalized::new(text);
        let chars: Vec<char> = n.as_str().chars().collect();
        let readable = chars.iter().any(|c| is_han(*c));
        let signals = if readable {
            signals::detect_normalized(text, &n, &chars, channel, history, &self.config)
        } else {
            // Channel and history still speak for an unreadable text.
            signals::detect_normalized(
                "",
                &Normalized::new(""),
                &[],
                channel,
                history,
                &self.config,
            )
        };
        let severity = if signals.is_empty() {
            Severity::General
        } else {
            Severity::Major
        };
        let categories = if readable {
            let text_signals: Vec<Signal> = signals
                .iter()
                .filter(|h| h.source == Source::Text)
                .map(|h| h.signal)
                .collect();
            self.rank(&n, &text_signals, channel)
        } else {
            self.cannot_tell_categories()
        };
        Proposal {
            categories,
            severity,
            signals,
            cannot_tell: !readable,
        }
    }

    fn rank(&self, n: &Normalized, signals: &[Signal], channel: Channel) -> Vec<CategoryScore> {
        let head = n.slice_chars(0, n.char_len().min(category::CATEGORY_TEXT_LIMIT));
        let rule_scores = self.rules.scores(head);
        let labels = self.rules.labels();
        // The model's labels may differ from the taxonomy's (a model trained
        // on another taxonomy): map its probabilities by code.
        let feats = category::features(n, &rule_scores, labels, signals, channel);
        let model_rule_scores: Vec<f32> = self
            .model
            .labels
            .iter()
            .map(|l| {
                labels
                    .iter()
                    .position(|x| x == l)
                    .map_or(0.0, |i| rule_scores[i])
            })
            .collect();
        let probs = self.model.predict(&feats, &model_rule_scores);
        let mut ranked: Vec<CategoryScore> = self
            .model
            .labels
            .iter()
            .zip(probs)
            .filter(|(l, _)| self.taxonomy.get(l).is_some())
            .map(|(l, p)| CategoryScore {
                code: l.clone(),
                confidence: p,
            })
            .collect();
        ranked.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
        ranked.truncate(3);
        ranked
    }

    fn cannot_tell_categories(&self) -> Vec<CategoryScore> {
        let mut out = vec![CategoryScore {
            code: OTHER.to_owned(),
            confidence: 1.0,
        }];
        out.extend(
            self.taxonomy
                .codes()
                .filter(|c| *c != OTHER)
                .take(2)
                .map(|c| CategoryScore {
                    code: c.to_owned(),
                    confidence: 0.0,
                }),
        );
        out
    }
}

/// Reads one complaint with the shipped engine.
pub fn classify(text: &str, channel: Channel, history: History) -> Proposal {
    Engine::shipped().classify(text, channel, history)
}

#[cfg(test)]
mod tests;
