//! The desk learns its own categories (R-CL-1): staff's confirmed and
//! corrected classifications train the category model again, once enough
//! new ones have come in; the model is stored in the database (settings),
//! so every node proposes with the same one, and each node picks up a new
//! version within a sweep interval.

use std::sync::{Arc, RwLock};

use jiff::Timestamp;
use kesu_classify::{CategoryModel, Engine, Example, SignalConfig, Taxonomy};
use kesu_storage::StorageError;

use crate::AppState;

const MODEL_KEY: &str = "classifier_model";
const VERSION_KEY: &str = "classifier_model_version";
const EXAMPLES_KEY: &str = "classifier_model_examples";
const LEASE_KEY: &str = "classifier_training_lease";

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

/// Trains the model again when at least `min_new` classifications were
/// confirmed since the last training; stores it for every node. Returns the
/// number of the desk's examples learned from, when it trained.
///
/// # Errors
/// The driver's error.
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
    // One node trains at a time: a ten-minute lease.
    let lease: i64 = state
        .db
        .setting(LEASE_KEY)
        .await?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if lease > now.as_millisecond() {
        return Ok(None);
    }
    state
        .db
        .set_setting(LEASE_KEY, &(now.as_millisecond() + 600_000).to_string())
        .await?;
    let rows = state.db.confirmed_examples(MAX_DESK_EXAMPLES).await?;
    let n = rows.len();
    let mut extra = Vec::with_capacity(n * DESK_WEIGHT);
    for (text, channel, category) in rows {
        let channel = channel.parse().unwrap_or(kesu_domain::Channel::Phone);
        for _ in 0..DESK_WEIGHT {
            extra.push(Example {
                text: text.clone(),
                channel,
                category: category.clone(),
            });
        }
    }
    let json = tokio::task::spawn_blocking(move || {
        Engine::trained_with(&extra, true, SignalConfig::default())
            .model()
            .to_json()
    })
    .await
    .map_err(|e| StorageError::Corrupt(e.to_string()))?;
    state.db.set_setting(MODEL_KEY, &json).await?;
    state
        .db
        .set_setting(EXAMPLES_KEY, &confirmed.to_string())
        .await?;
    state
        .db
        .set_setting(
            VERSION_KEY,
            &format!("{}-{confirmed}", now.as_millisecond()),
        )
        .await?;
    state.db.set_setting(LEASE_KEY, "0").await?;
    tracing::info!(
        examples = n,
        "classification model retrained from the desk's confirmations"
    );
    Ok(Some(n))
}
