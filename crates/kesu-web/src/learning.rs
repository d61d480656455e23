//! The desk learns its own categories (R-CL-1): staff's confirmed and
//! corrected classifications train the category model again, once enough
//! new ones have come in (or when an admin asks on `/admin/classifier`);
//! the model is stored in the database (settings) with what it was trained
//! on and how it did on the shipped blind holdout, so every node proposes
//! with the same one, and each node picks up a new version within a sweep
//! interval. One training runs at a time: a lease in settings, taken by
//! compare-and-set.
//!
//! Below the model's best category, [`propose_subcategory`] proposes the
//! desk's sub-category (an industry template's or the admin's) whose
//! keyword phrases the complaint's words match best. A confirmed
//! sub-category trains the model as its shipped parent.

use std::sync::{Arc, RwLock};

use jiff::Timestamp;
use kesu_classify::{CategoryModel, Engine, Example, SignalConfig, Taxonomy};
use kesu_domain::complaint::ProposedSubcategory;
use kesu_storage::StorageError;
use serde::{Deserialize, Serialize};

use crate::AppState;

const MODEL_KEY: &str = "classifier_model";
const VERSION_KEY: &str = "classifier_model_version";
const EXAMPLES_KEY: &str = "classifier_model_examples";
const LEASE_KEY: &str = "classifier_training_lease";
const INFO_KEY: &str = "classifier_model_info";
const ERROR_KEY: &str = "classifier_training_error";

/// A training holds the lease this long (a node that dies mid-training
/// frees it when it runs out).
const LEASE_MS: i64 = 600_000;

/// The model is retrained after this many new confirmations.
pub const RETRAIN_EVERY: i64 = 50;

/// The desk's examples count this many times against one shipped example:
/// the desk's own words and habits should weigh.
const DESK_WEIGHT: usize = 3;
/// At most this many of the desk's newest confirmations are learned from.
const MAX_DESK_EXAMPLES: u32 = 5000;

/// The shipped engine, shared (cloning an engine copies its model).
static SHIPPED: std::sync::LazyLock<Arc<Engine>> =
    std::sync::LazyLock::new(|| Arc::new(Engine::shipped().clone()));

/// A stored model's version and the engine built from it.
type Versioned = (String, Arc<Engine>);

/// The model a node proposes with: the desk's own when one was trained.
#[derive(Clone, Default)]
pub struct Learned {
    inner: Arc<RwLock<Option<Versioned>>>,
}

impl Learned {
    /// The engine to propose with now.
    pub fn engine(&self) -> Arc<Engine> {
        self.inner
            .read()
            .ok()
            .and_then(|g| g.as_ref().map(|(_, e)| e.clone()))
            .unwrap_or_else(|| SHIPPED.clone())
    }

    /// The version of the desk's model in use, if any.
    pub fn version(&self) -> Option<String> {
        self.inner
            .read()
            .ok()
            .and_then(|g| g.as_ref().map(|(v, _)| v.clone()))
    }
}

/// Loads the stored model when its version differs from the one in use.
///
/// # Errors
/// The driver's error.
pub async fn refresh(state: &AppState) -> Result<bool, StorageError> {
    let Some(version) = state.db.setting(VERSION_KEY).await? else {
        return Ok(false);
    };
    if state.learned.version().as_deref() == Some(version.as_str()) {
        return Ok(false);
    }
    let Some(json) = state.db.setting(MODEL_KEY).await? else {
        return Ok(false);
    };
    let model = tokio::task::spawn_blocking(move || CategoryModel::from_json(&json))
        .await
        .map_err(|e| StorageError::Corrupt(e.to_string()))?;
    match model {
        Ok(model) => {
            let engine =
                Engine::with_model(Taxonomy::default_taxonomy(), model, SignalConfig::default());
            if let Ok(mut g) = state.learned.inner.write() {
                *g = Some((version, Arc::new(engine)));
            }
            Ok(true)
        }
        Err(e) => {
            tracing::warn!(error = %e, "stored classification model unreadable; keeping the one in use");
            Ok(false)
        }
    }
}

/// What the stored model was trained on and how it did, kept with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// 1 for the desk's first model, one more with each training.
    pub version: u64,
    /// Unix milliseconds.
    pub trained_at: i64,
    pub shipped_examples: usize,
    /// The desk's confirmations learned from (each counted
    /// [`DESK_WEIGHT`] times).
    pub desk_examples: usize,
    /// Confirmed classifications on the desk when it was trained.
    pub confirmations: i64,
    /// Asked for by an admin (not the automatic retraining).
    #[serde(default)]
    pub manual: bool,
    pub holdout: Option<Figures>,
}

/// Figures on the shipped blind holdout (fractions 0–1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    pub complaints: usize,
    pub top1: f64,
    pub top3: f64,
    pub major_recall: Option<f64>,
}

/// The last training that failed, until one succeeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingError {
    pub at: i64,
    pub message: String,
}

/// What the classifier status page shows.
#[derive(Debug, Clone)]
pub struct Status {
    /// The desk's stored model, `None` while the shipped one is used.
    pub stored: Option<ModelInfo>,
    /// The version this node proposes with (`None`: the shipped model).
    pub in_use: Option<String>,
    pub confirmations: i64,
    /// Confirmations since the model in the database was trained.
    pub since_training: i64,
    /// A training holds the lease (since when, Unix milliseconds).
    pub running_since: Option<i64>,
    pub last_error: Option<TrainingError>,
}

/// Reads the state of learning for the status page.
///
/// # Errors
/// The driver's error.
pub async fn status(state: &AppState, now: Timestamp) -> Result<Status, StorageError> {
    let confirmations = state.db.confirmed_classification_count().await?;
    let stored: Option<ModelInfo> = state
        .db
        .setting(INFO_KEY)
        .await?
        .and_then(|v| serde_json::from_str(&v).ok());
    let learned_from: i64 = state
        .db
        .setting(EXAMPLES_KEY)
        .await?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let lease: i64 = state
        .db
        .setting(LEASE_KEY)
        .await?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let last_error = state
        .db
        .setting(ERROR_KEY)
        .await?
        .and_then(|v| serde_json::from_str(&v).ok());
    Ok(Status {
        stored,
        in_use: state.learned.version(),
        confirmations,
        since_training: (confirmations - learned_from).max(0),
        running_since: (lease > now.as_millisecond()).then_some(lease - LEASE_MS),
        last_error,
    })
}

/// The shipped model's figures on the holdout, measured once per process.
static SHIPPED_FIGURES: tokio::sync::OnceCell<Figures> = tokio::sync::OnceCell::const_new();

/// The shipped model's figures on the holdout (measured on first ask).
///
/// # Errors
/// When the measuring task fails.
pub async fn shipped_figures() -> Result<Figures, StorageError> {
    SHIPPED_FIGURES
        .get_or_try_init(|| async {
            tokio::task::spawn_blocking(|| measure(&SHIPPED))
                .await
                .map_err(|e| StorageError::Corrupt(e.to_string()))
        })
        .await
        .cloned()
}

/// The engine's figures on the shipped blind holdout.
fn measure(engine: &Engine) -> Figures {
    let rows =
        kesu_classify::eval::parse_corpus(kesu_classify::SHIPPED_HOLDOUT_DATA).unwrap_or_default();
    let r = kesu_classify::eval::evaluate(engine, &rows, |_| {});
    Figures {
        complaints: r.complaints,
        top1: r.top1,
        top3: r.top3,
        major_recall: r.major_recall,
    }
}

/// The desk's active sub-category below `root` whose keyword phrases the
/// complaint's words match best, `None` when none matches.
///
/// # Errors
/// The driver's error.
pub async fn propose_subcategory(
    state: &AppState,
    root: Option<&str>,
    description: &str,
    restatement: Option<&str>,
) -> Result<Option<ProposedSubcategory>, StorageError> {
    let Some(root) = root else {
        return Ok(None);
    };
    let subs = state.db.active_subcategories(root).await?;
    if subs.is_empty() {
        return Ok(None);
    }
    let text = match restatement {
        Some(r) => format!("{description}\n{r}"),
        None => description.to_owned(),
    };
    let phrases: Vec<Vec<String>> = subs.iter().map(|c| c.keyword_list()).collect();
    Ok(kesu_classify::keywords::best_match(
        &text,
        phrases.iter().map(|p| p.iter().map(String::as_str)),
    )
    .and_then(|m| {
        subs.get(m.index).map(|c| ProposedSubcategory {
            code: c.code.clone(),
            phrases: m.phrases,
        })
    }))
}

/// Trains the model again when at least `min_new` classifications were
/// confirmed since the last training and no other training runs; stores it
/// for every node. Returns the number of the desk's examples learned from,
/// when it trained.
///
/// # Errors
/// The driver's error (also recorded for the status page).
pub async fn retrain_if_due(
    state: &AppState,
    now: Timestamp,
    min_new: i64,
) -> Result<Option<usize>, StorageError> {
    let confirmed = state.db.confirmed_classification_count().await?;
    let learned_from: i64 = state
        .db
        .setting(EXAMPLES_KEY)
        .await?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if confirmed < learned_from + min_new.max(1) {
        return Ok(None);
    }
    let ms = now.as_millisecond();
    if !state.db.take_lease(LEASE_KEY, ms, ms + LEASE_MS).await? {
        return Ok(None);
    }
    train_holding_lease(state, now, false).await.map(Some)
}

/// What asking for a training now did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retrain {
    /// A training started in the background.
    Started,
    /// One is running already (on this node or another): no second one.
    AlreadyRunning,
}

/// Starts a training in the background now (an admin's "retrain now"),
/// under the same lease as the automatic one; this node uses the new model
/// as soon as it is stored.
///
/// # Errors
/// The driver's error.
pub async fn retrain_now(state: &AppState, now: Timestamp) -> Result<Retrain, StorageError> {
    let ms = now.as_millisecond();
    if !state.db.take_lease(LEASE_KEY, ms, ms + LEASE_MS).await? {
        return Ok(Retrain::AlreadyRunning);
    }
    let state = state.clone();
    tokio::spawn(async move {
        match train_holding_lease(&state, now, true).await {
            Ok(_) => {
                if let Err(e) = refresh(&state).await {
                    tracing::warn!(error = %e, "loading the new classification model failed");
                }
            }
            Err(e) => tracing::warn!(error = %e, "retraining the classification model failed"),
        }
    });
    Ok(Retrain::Started)
}

/// Trains while holding the lease; frees it however it ends and records a
/// failure for the status page.
async fn train_holding_lease(
    state: &AppState,
    now: Timestamp,
    manual: bool,
) -> Result<usize, StorageError> {
    match train(state, now, manual).await {
        Ok(n) => Ok(n),
        Err(e) => {
            let error = serde_json::to_string(&TrainingError {
                at: now.as_millisecond(),
                message: e.to_string(),
            })
            .unwrap_or_default();
            if let Err(e2) = state
                .db
                .set_settings(&[(ERROR_KEY, error.as_str()), (LEASE_KEY, "0")])
                .await
            {
                tracing::warn!(error = %e2, "recording the failed training failed");
            }
            Err(e)
        }
    }
}

/// The desk's confirmations as training examples: a sub-category counts as
/// its shipped parent; a category the model does not know (an admin's own
/// top-level one, a code no longer in the tree) is left out.
async fn desk_examples(state: &AppState) -> Result<Vec<Example>, StorageError> {
    let taxonomy = Taxonomy::default_taxonomy();
    let tree = state.db.categories().await?;
    let root_of = |code: &str| -> Option<String> {
        if taxonomy.get(code).is_some() {
            return Some(code.to_owned());
        }
        tree.iter()
            .find(|c| c.code == code)
            .and_then(|c| c.parent_code.as_deref())
            .filter(|p| taxonomy.get(p).is_some())
            .map(str::to_owned)
    };
    let rows = state.db.confirmed_examples(MAX_DESK_EXAMPLES).await?;
    let mut examples = Vec::with_capacity(rows.len());
    for (text, channel, category) in rows {
        let Some(category) = root_of(&category) else {
            continue;
        };
        examples.push(Example {
            text,
            channel: channel.parse().unwrap_or(kesu_domain::Channel::Phone),
            category,
        });
    }
    Ok(examples)
}

async fn train(state: &AppState, now: Timestamp, manual: bool) -> Result<usize, StorageError> {
    let confirmed = state.db.confirmed_classification_count().await?;
    let previous: Option<ModelInfo> = state
        .db
        .setting(INFO_KEY)
        .await?
        .and_then(|v| serde_json::from_str(&v).ok());
    let desk = desk_examples(state).await?;
    let n = desk.len();
    let mut extra = Vec::with_capacity(n * DESK_WEIGHT);
    for example in desk {
        for _ in 0..DESK_WEIGHT {
            extra.push(example.clone());
        }
    }
    let (json, figures, shipped) = tokio::task::spawn_blocking(move || {
        let engine = Engine::trained_with(&extra, true, SignalConfig::default());
        let figures = measure(&engine);
        (
            engine.model().to_json(),
            figures,
            kesu_classify::shipped_examples().len(),
        )
    })
    .await
    .map_err(|e| StorageError::Corrupt(format!("training stopped: {e}")))?;
    let info = ModelInfo {
        version: previous.map_or(0, |p| p.version) + 1,
        trained_at: now.as_millisecond(),
        shipped_examples: shipped,
        desk_examples: n,
        confirmations: confirmed,
        manual,
        holdout: Some(figures),
    };
    let info_json =
        serde_json::to_string(&info).map_err(|e| StorageError::Corrupt(e.to_string()))?;
    let version = info.version.to_string();
    let confirmed = confirmed.to_string();
    // The model, what it was trained on and its version in one transaction,
    // the lease freed and an earlier failure forgotten.
    state
        .db
        .set_settings(&[
            (MODEL_KEY, json.as_str()),
            (INFO_KEY, info_json.as_str()),
            (EXAMPLES_KEY, confirmed.as_str()),
            (VERSION_KEY, version.as_str()),
            (ERROR_KEY, ""),
            (LEASE_KEY, "0"),
        ])
        .await?;
    tracing::info!(
        examples = n,
        version = info.version,
        "classification model retrained from the desk's confirmations"
    );
    Ok(n)
}
