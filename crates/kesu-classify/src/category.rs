//! Category proposal: the keyword rules of the taxonomy plus a small
//! statistical model, a multinomial logistic regression over jieba word
//! segments, character bigrams, the rule scores, the detected signals and the
//! channel.
//!
//! The rules are both an offset added to the model's scores
//! (`rule_weight × keyword score`) and features the model weighs itself, so an
//! untrained model proposes by the rules alone and a trained one corrects them
//! where the desk's own labels disagree. The model is plain data
//! ([`CategoryModel`], serde JSON) so that it can be stored and shared.

use std::collections::{BTreeMap, HashMap};

use kesu_domain::{Channel, Signal};
use serde::{Deserialize, Serialize};

use crate::matcher::Matcher;
use crate::normalize::{Normalized, is_han};
use crate::taxonomy::Taxonomy;

/// Only the first this many characters are used for the category (a complaint
/// says what it is about early; the signals still read the whole text).
pub const CATEGORY_TEXT_LIMIT: usize = 20_000;

/// One labelled complaint to learn from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Example {
    pub text: String,
    pub channel: Channel,
    pub category: String,
}

/// Training settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrainOptions {
    pub epochs: usize,
    pub learning_rate: f32,
    pub l2: f32,
    /// Weight of the keyword-rule offset.
    pub rule_weight: f32,
    /// Features seen in fewer examples are dropped.
    pub min_count: usize,
    /// Weight of the naive Bayes scores added to the regression (0: none).
    pub nb_weight: f32,
    /// Weigh examples so that every category counts as much as the others
    /// (a training set with many examples of one category then does not
    /// make the model propose it more often).
    pub balance_classes: bool,
    /// Character bigrams seen in fewer examples are dropped (most bigrams
    /// are seen once; the words carry what they would say).
    #[serde(default = "default_min_bigram_count")]
    pub min_bigram_count: usize,
    /// At most this many words and bigrams are kept, the most frequent
    /// (0: no limit). Bounds the size of the model.
    #[serde(default = "default_max_features")]
    pub max_features: usize,
}

fn default_max_features() -> usize {
    12_000
}

fn default_min_bigram_count() -> usize {
    2
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            epochs: 30,
            learning_rate: 0.3,
            l2: 1e-4,
            rule_weight: 0.5,
            min_count: 1,
            nb_weight: 1.0,
            balance_classes: false,
            min_bigram_count: default_min_bigram_count(),
            max_features: default_max_features(),
        }
    }
}

/// A trained category model.
///
/// It is stored compactly: the feature names once, the weights quantised to
/// one byte each (a scale per table), base64 in the JSON. A model trained
/// here is already quantised, so [`CategoryModel::to_json`] and
/// [`CategoryModel::from_json`] give back exactly the same model and the same
/// proposals. Format 1 (the weights as JSON maps) is still read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(into = "Wire", try_from = "Wire")]
pub struct CategoryModel {
    /// Category codes, in the order of the weights.
    pub labels: Vec<String>,
    pub rule_weight: f32,
    pub bias: Vec<f32>,
    /// How many examples it learned from.
    pub examples: usize,
    /// Weight of the naive Bayes scores added to the regression.
    pub nb_weight: f32,
    /// Feature names, in the order of the rows below.
    features: Vec<String>,
    /// Feature name → row.
    index: HashMap<String, u32>,
    /// Regression weights: one row of `labels.len()` per feature, times `weight_scale`.
    weight_scale: f32,
    weights: Vec<i8>,
    /// Naive Bayes log-likelihood ratios (centred per feature), the same
    /// layout times `nb_scale`; empty without naive Bayes.
    nb_scale: f32,
    nb: Vec<i8>,
}

/// The stored form of a [`CategoryModel`].
#[derive(Serialize, Deserialize)]
struct Wire {
    format: u32,
    labels: Vec<String>,
    rule_weight: f32,
    bias: Vec<f32>,
    examples: usize,
    #[serde(default)]
    nb_weight: f32,
    /// Format 2: feature names separated by `\n`.
    #[serde(default)]
    features: Option<String>,
    #[serde(default)]
    weight_scale: f32,
    /// Format 2: base64 of the quantised weights; format 1: feature → weights.
    weights: WireWeights,
    #[serde(default)]
    nb_scale: f32,
    #[serde(default)]
    nb: Option<WireWeights>,
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum WireWeights {
    Packed(String),
    Map(BTreeMap<String, Vec<f32>>),
}

const FORMAT: u32 = 2;

impl From<CategoryModel> for Wire {
    fn from(m: CategoryModel) -> Wire {
        Wire {
            format: FORMAT,
            labels: m.labels,
            rule_weight: m.rule_weight,
            bias: m.bias,
            examples: m.examples,
            nb_weight: m.nb_weight,
            features: Some(m.features.join("\n")),
            weight_scale: m.weight_scale,
            weights: WireWeights::Packed(base64::encode(&to_bytes(&m.weights))),
            nb_scale: m.nb_scale,
            nb: Some(WireWeights::Packed(base64::encode(&to_bytes(&m.nb)))),
        }
    }
}

impl TryFrom<Wire> for CategoryModel {
    type Error = String;

    fn try_from(w: Wire) -> Result<CategoryModel, String> {
        let k = w.labels.len();
        if w.bias.len() != k {
            return Err(format!("{} biases for {k} labels", w.bias.len()));
        }
        let packed = |table: WireWeights| -> Result<Vec<i8>, String> {
            match table {
                WireWeights::Packed(text) => base64::decode(&text)
                    .map(|bytes| bytes.into_iter().map(|b| b as i8).collect())
                    .ok_or_else(|| "the weights are not base64".to_owned()),
                WireWeights::Map(_) => Err("format 2 keeps its weights packed".to_owned()),
            }
        };
        let mut m = match (w.format, w.weights) {
            (1, WireWeights::Map(weights)) => {
                let nb = match w.nb {
                    Some(WireWeights::Map(nb)) => nb,
                    _ => BTreeMap::new(),
                };
                CategoryModel::from_tables(
                    w.labels,
                    w.rule_weight,
                    w.bias,
                    w.examples,
                    w.nb_weight,
                    &weights,
                    &nb,
                )
            }
            (FORMAT, weights) => {
                let features: Vec<String> = match w.features.as_deref() {
                    None | Some("") => Vec::new(),
                    Some(text) => text.split('\n').map(str::to_owned).collect(),
                };
                let weights = packed(weights)?;
                let nb = match w.nb {
                    Some(table) => packed(table)?,
                    None => Vec::new(),
                };
                if weights.len() != features.len() * k
                    || !(nb.is_empty() || nb.len() == weights.len())
                {
                    return Err("the weights do not match the features and labels".to_owned());
                }
                CategoryModel {
                    labels: w.labels,
                    rule_weight: w.rule_weight,
                    bias: w.bias,
                    examples: w.examples,
                    nb_weight: w.nb_weight,
                    features,
                    index: HashMap::new(),
                    weight_scale: w.weight_scale,
                    weights,
                    nb_scale: w.nb_scale,
                    nb,
                }
            }
            (format, _) => return Err(format!("unknown model format {format}")),
        };
        m.index = index_of(&m.features);
        Ok(m)
    }
}

fn index_of(features: &[String]) -> HashMap<String, u32> {
    features
        .iter()
        .enumerate()
        .map(|(i, f)| (f.clone(), i as u32))
        .collect()
}

fn to_bytes(values: &[i8]) -> Vec<u8> {
    values.iter().map(|v| *v as u8).collect()
}

/// Quantises a table to one signed byte per value: (values, scale).
fn quantise(values: &[f32]) -> (Vec<i8>, f32) {
    let max = values.iter().fold(0.0_f32, |m, v| m.max(v.abs()));
    if max == 0.0 || !max.is_finite() {
        return (vec![0; values.len()], 0.0);
    }
    let scale = max / 127.0;
    let q = values
        .iter()
        .map(|v| (v / scale).round().clamp(-127.0, 127.0) as i8)
        .collect();
    (q, scale)
}

/// Category codes with scores, best first.
pub type Ranked = Vec<(String, f32)>;

/// The keyword rules of a taxonomy, compiled.
#[derive(Debug, Clone)]
pub struct Rules {
    labels: Vec<String>,
    matcher: Matcher<(usize, f32)>,
}

impl Rules {
    pub fn new(taxonomy: &Taxonomy) -> Rules {
        let labels: Vec<String> = taxonomy.codes().map(str::to_owned).collect();
        let mut patterns = Vec::new();
        for (i, c) in taxonomy.categories.iter().enumerate() {
            for (w, weight) in &c.keywords {
                let w: String = w.chars().map(crate::normalize::normalize_char).collect();
                patterns.push((w, (i, *weight)));
            }
        }
        Rules {
            labels,
            matcher: Matcher::new(patterns),
        }
    }

    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// Keyword score per label (each keyword counted once).
    pub fn scores(&self, normalized: &str) -> Vec<f32> {
        let mut scores = vec![0.0_f32; self.labels.len()];
        let mut seen: Vec<&str> = Vec::new();
        for f in self.matcher.find_all(normalized) {
            if seen.contains(&f.pattern) {
                continue;
            }
            seen.push(f.pattern);
            let (i, w) = *f.payload;
            scores[i] += w;
        }
        scores
    }
}

/// The features of one complaint: name → value.
pub(crate) fn features(
    n: &Normalized,
    rule_scores: &[f32],
    labels: &[String],
    signals: &[Signal],
    channel: Channel,
) -> Vec<(String, f32)> {
    let text = n.slice_chars(0, n.char_len().min(CATEGORY_TEXT_LIMIT));
    let mut seen: HashMap<String, ()> = HashMap::new();
    let mut add = |key: String| {
        seen.entry(key).or_insert(());
    };
    // Words.
    for t in crate::jieba().cut(text, false) {
        let w = t.word;
        if w.chars()
            .all(|c| c.is_whitespace() || c.is_ascii_punctuation() || !c.is_alphanumeric())
        {
            continue;
        }
        if w.chars().all(|c| c.is_ascii_digit() || c == '.') {
            add("w:<num>".to_owned());
            continue;
        }
        add(format!("w:{w}"));
    }
    // Character bigrams within runs of Han characters.
    let mut prev: Option<char> = None;
    for c in text.chars() {
        if is_han(c) {
            if let Some(p) = prev {
                let mut key = String::with_capacity(10);
                key.push_str("b:");
                key.push(p);
                key.push(c);
                add(key);
            }
            prev = Some(c);
        } else {
            prev = None;
        }
    }
    let n_text = seen.len().max(1) as f32;
    let scale = 1.0 / n_text.sqrt();
    let mut out: Vec<(String, f32)> = seen.into_keys().map(|k| (k, scale)).collect();
    // Rule scores, signals and channel at a fixed scale.
    for (label, score) in labels.iter().zip(rule_scores) {
        if *score > 0.0 {
            out.push((format!("r:{label}"), score.min(6.0) / 3.0));
        }
    }
    for s in signals {
        out.push((format!("s:{s}"), 1.0));
    }
    out.push((format!("c:{channel}"), 1.0));
    out
}

impl CategoryModel {
    /// A model that knows nothing: proposals come from the rules alone.
    pub fn untrained(taxonomy: &Taxonomy) -> CategoryModel {
        let labels: Vec<String> = taxonomy.codes().map(str::to_owned).collect();
        CategoryModel {
            bias: vec![0.0; labels.len()],
            labels,
            rule_weight: 1.0,
            examples: 0,
            nb_weight: 0.0,
            features: Vec::new(),
            index: HashMap::new(),
            weight_scale: 0.0,
            weights: Vec::new(),
            nb_scale: 0.0,
            nb: Vec::new(),
        }
    }

    /// A model from weight tables (feature → one value per label), quantised.
    fn from_tables(
        labels: Vec<String>,
        rule_weight: f32,
        bias: Vec<f32>,
        examples: usize,
        nb_weight: f32,
        weights: &BTreeMap<String, Vec<f32>>,
        nb: &BTreeMap<String, Vec<f32>>,
    ) -> CategoryModel {
        let k = labels.len();
        let features: Vec<String> = weights
            .keys()
            .chain(nb.keys())
            .filter(|f| !f.contains('\n'))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .cloned()
            .collect();
        let row = |table: &BTreeMap<String, Vec<f32>>, f: &String| -> Vec<f32> {
            let mut r = table.get(f).cloned().unwrap_or_default();
            r.resize(k, 0.0);
            r
        };
        let w: Vec<f32> = features.iter().flat_map(|f| row(weights, f)).collect();
        let (weights, weight_scale) = quantise(&w);
        let (nb, nb_scale) = if nb.is_empty() {
            (Vec::new(), 0.0)
        } else {
            quantise(
                &features
                    .iter()
                    .flat_map(|f| row(nb, f))
                    .collect::<Vec<f32>>(),
            )
        };
        CategoryModel {
            labels,
            rule_weight,
            bias,
            examples,
            nb_weight,
            index: index_of(&features),
            features,
            weight_scale,
            weights,
            nb_scale,
            nb,
        }
    }

    /// The features the model knows (words `w:`, character bigrams `b:`,
    /// rule scores `r:`, signals `s:`, channels `c:`).
    pub fn features(&self) -> &[String] {
        &self.features
    }

    /// The regression weights of a feature, one per label.
    pub fn weights_of(&self, feature: &str) -> Option<Vec<f32>> {
        let k = self.labels.len();
        let i = *self.index.get(feature)? as usize;
        Some(
            self.weights[i * k..i * k + k]
                .iter()
                .map(|q| f32::from(*q) * self.weight_scale)
                .collect(),
        )
    }

    /// Scores (probabilities) per label for prepared features and rule scores.
    pub(crate) fn predict(&self, feats: &[(String, f32)], rule_scores: &[f32]) -> Vec<f32> {
        let k = self.labels.len();
        let mut logits: Vec<f32> = (0..k)
            .map(|j| self.bias[j] + self.rule_weight * rule_scores.get(j).copied().unwrap_or(0.0))
            .collect();
        let mut lr = vec![0.0_f32; k];
        let mut nb_scores = vec![0.0_f32; k];
        let mut nb_n = 0usize;
        let use_nb = self.nb_weight > 0.0 && !self.nb.is_empty();
        // In the order of the rows, so that the sums (and the proposals)
        // do not depend on the order the features come in.
        let mut hits: Vec<(u32, f32, bool)> = feats
            .iter()
            .filter_map(|(name, v)| {
                let i = *self.index.get(name)?;
                Some((i, *v, use_nb && is_text_feature(name)))
            })
            .collect();
        hits.sort_unstable_by_key(|h| h.0);
        for (i, v, text) in hits {
            let row = i as usize * k..i as usize * k + k;
            for (acc, q) in lr.iter_mut().zip(&self.weights[row.clone()]) {
                *acc += f32::from(*q) * v;
            }
            if text {
                nb_n += 1;
                for (acc, q) in nb_scores.iter_mut().zip(&self.nb[row]) {
                    *acc += f32::from(*q);
                }
            }
        }
        for j in 0..k {
            logits[j] += self.weight_scale * lr[j];
        }
        if nb_n > 0 {
            let scale = self.nb_weight * self.nb_scale / (nb_n as f32).sqrt();
            for j in 0..k {
                logits[j] += scale * nb_scores[j];
            }
        }
        softmax(&mut logits);
        logits
    }

    /// Learns from labelled examples. Labels not in the taxonomy are skipped.
    pub fn train(
        taxonomy: &Taxonomy,
        examples: &[Example],
        options: &TrainOptions,
    ) -> CategoryModel {
        let rules = Rules::new(taxonomy);
        let labels: Vec<String> = rules.labels().to_vec();
        let k = labels.len();
        let config = crate::signals::SignalConfig::default();
        // Prepare every example once.
        let mut docs: Vec<Prepared> = Vec::with_capacity(examples.len());
        for ex in examples {
            let Some(y) = labels.iter().position(|l| *l == ex.category) else {
                continue;
            };
            let n = Normalized::new(&ex.text);
            let chars: Vec<char> = n.as_str().chars().collect();
            let signals: Vec<Signal> = crate::signals::detect_normalized(
                &ex.text,
                &n,
                &chars,
                Channel::Phone,
                Default::default(),
                &config,
            )
            .into_iter()
            .map(|h| h.signal)
            .collect();
            let scores = rules.scores(n.as_str());
            let feats = features(&n, &scores, &labels, &signals, ex.channel);
            docs.push((y, feats, scores));
        }
        // Vocabulary: features seen in at least `min_count` examples.
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for (_, feats, _) in &docs {
            for (name, _) in feats {
                *counts.entry(name.as_str()).or_default() += 1;
            }
        }
        let keep = |name: &str, c: usize| {
            if name.contains('\n') {
                false // names are stored one per line
            } else if name.starts_with("b:") {
                c >= options.min_count.max(options.min_bigram_count)
            } else {
                c >= options.min_count || !name.starts_with("w:")
            }
        };
        let mut vocab: Vec<&str> = counts
            .iter()
            .filter(|(name, c)| keep(name, **c))
            .map(|(name, _)| *name)
            .collect();
        // At most `max_features` words and bigrams, the most frequent, so
        // that a model retrained on many complaints stays small.
        if options.max_features > 0 {
            vocab.sort_unstable_by(|a, b| counts[b].cmp(&counts[a]).then(a.cmp(b)));
            let mut text = 0usize;
            vocab.retain(|name| {
                if is_text_feature(name) {
                    text += 1;
                    text <= options.max_features
                } else {
                    true
                }
            });
        }
        vocab.sort_unstable();
        let index: HashMap<&str, usize> = vocab.iter().enumerate().map(|(i, n)| (*n, i)).collect();
        let encoded: Vec<Encoded> = docs
            .iter()
            .map(|(y, feats, scores)| {
                let mut xs: Vec<(usize, f32)> = feats
                    .iter()
                    .filter_map(|(n, v)| index.get(n.as_str()).map(|i| (*i, *v)))
                    .collect();
                // A fixed order: the same examples train the same model.
                xs.sort_unstable_by_key(|x| x.0);
                (*y, xs, scores)
            })
            .collect();

        // Softmax regression, AdaGrad, deterministic order shuffles.
        let mut w = vec![0.0_f32; vocab.len() * k];
        let mut g2 = vec![1e-6_f32; vocab.len() * k];
        let mut b = vec![0.0_f32; k];
        let mut bg2 = vec![1e-6_f32; k];
        let mut order: Vec<usize> = (0..encoded.len()).collect();
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut logits = vec![0.0_f32; k];
        let mut per_class = vec![0usize; k];
        for (y, _, _) in &encoded {
            per_class[*y] += 1;
        }
        let present = per_class.iter().filter(|n| **n > 0).count().max(1);
        let class_weight: Vec<f32> = per_class
            .iter()
            .map(|n| {
                if options.balance_classes && *n > 0 {
                    encoded.len() as f32 / (present as f32 * *n as f32)
                } else {
                    1.0
                }
            })
            .collect();
        for _ in 0..options.epochs {
            for i in (1..order.len()).rev() {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let j = (seed % (i as u64 + 1)) as usize;
                order.swap(i, j);
            }
            for &d in &order {
                let (y, xs, scores) = &encoded[d];
                for j in 0..k {
                    logits[j] = b[j] + options.rule_weight * scores[j];
                }
                for (f, v) in xs {
                    let row = &w[f * k..f * k + k];
                    for j in 0..k {
                        logits[j] += row[j] * v;
                    }
                }
                softmax(&mut logits);
                let cw = class_weight[*y];
                for j in 0..k {
                    let err = cw * (logits[j] - if j == *y { 1.0 } else { 0.0 });
                    bg2[j] += err * err;
                    b[j] -= options.learning_rate * err / bg2[j].sqrt();
                    for (f, v) in xs {
                        let at = f * k + j;
                        let g = err * v + options.l2 * w[at];
                        g2[at] += g * g;
                        w[at] -= options.learning_rate * g / g2[at].sqrt();
                    }
                }
            }
        }
        // Naive Bayes over the text features (binary, Laplace smoothing).
        let mut nb = Vec::new();
        if options.nb_weight > 0.0 {
            nb = vec![0.0_f32; vocab.len() * k];
            let mut class_total = vec![0.0_f32; k];
            let mut seen = vec![false; vocab.len()];
            for (y, xs, _) in &encoded {
                for (f, _) in xs {
                    if is_text_feature(vocab[*f]) {
                        nb[f * k + y] += 1.0;
                        class_total[*y] += 1.0;
                        seen[*f] = true;
                    }
                }
            }
            let v = seen.iter().filter(|s| **s).count() as f32;
            for (f, _) in seen.iter().enumerate().filter(|(_, s)| **s) {
                let row = &mut nb[f * k..f * k + k];
                for (j, x) in row.iter_mut().enumerate() {
                    *x = ((*x + 0.5) / (class_total[j] + 0.5 * v)).ln();
                }
                let mean = row.iter().sum::<f32>() / k as f32;
                for x in row.iter_mut() {
                    *x -= mean;
                }
            }
        }
        let features: Vec<String> = vocab.iter().map(|f| (*f).to_owned()).collect();
        let (weights, weight_scale) = quantise(&w);
        let (nb, nb_scale) = if nb.is_empty() {
            (Vec::new(), 0.0)
        } else {
            quantise(&nb)
        };
        CategoryModel {
            labels,
            rule_weight: options.rule_weight,
            bias: b,
            examples: encoded.len(),
            nb_weight: options.nb_weight,
            index: index_of(&features),
            features,
            weight_scale,
            weights,
            nb_scale,
            nb,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(json: &str) -> Result<CategoryModel, serde_json::Error> {
        serde_json::from_str(json)
    }
}

/// Words and character bigrams (the naive Bayes reads only these).
fn is_text_feature(name: &str) -> bool {
    name.starts_with("w:") || name.starts_with("b:")
}

/// An example ready for training: label, named features, rule scores.
type Prepared = (usize, Vec<(String, f32)>, Vec<f32>);
/// The same with feature indexes.
type Encoded<'a> = (usize, Vec<(usize, f32)>, &'a Vec<f32>);

fn softmax(xs: &mut [f32]) {
    let max = xs.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for x in xs.iter_mut() {
        *x = (*x - max).exp();
        sum += *x;
    }
    if sum > 0.0 {
        for x in xs.iter_mut() {
            *x /= sum;
        }
    }
}

/// Standard base64 (RFC 4648, with padding), enough for the stored weights.
mod base64 {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    pub fn encode(bytes: &[u8]) -> String {
        let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
        for chunk in bytes.chunks(3) {
            let b = [
                chunk[0],
                chunk.get(1).copied().unwrap_or(0),
                chunk.get(2).copied().unwrap_or(0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }

    pub fn decode(text: &str) -> Option<Vec<u8>> {
        let text = text.as_bytes();
        if !text.len().is_multiple_of(4) {
            return None;
        }
        let value = |c: u8| -> Option<u32> {
            Some(match c {
                b'A'..=b'Z' => c - b'A',
                b'a'..=b'z' => c - b'a' + 26,
                b'0'..=b'9' => c - b'0' + 52,
                b'+' => 62,
                b'/' => 63,
                _ => return None,
            } as u32)
        };
        let mut out = Vec::with_capacity(text.len() / 4 * 3);
        for (q, chunk) in text.chunks(4).enumerate() {
            let last = q + 1 == text.len() / 4;
            let pad = chunk.iter().rev().take_while(|c| **c == b'=').count();
            if pad > 2 || (pad > 0 && !last) {
                return None;
            }
            let mut n = 0u32;
            for &c in &chunk[..4 - pad] {
                n = (n << 6) | value(c)?;
            }
            n <<= 6 * pad as u32;
            let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
            out.extend_from_slice(&bytes[..3 - pad]);
        }
        Some(out)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn round_trips_and_matches_the_standard() {
            assert_eq!(encode(b""), "");
            assert_eq!(encode(b"f"), "Zg==");
            assert_eq!(encode(b"fo"), "Zm8=");
            assert_eq!(encode(b"foo"), "Zm9v");
            assert_eq!(encode(b"foobar"), "Zm9vYmFy");
            for len in 0..40u8 {
                let bytes: Vec<u8> = (0..len)
                    .map(|i| i.wrapping_mul(97).wrapping_add(200))
                    .collect();
                assert_eq!(decode(&encode(&bytes)).as_deref(), Some(&bytes[..]));
            }
            assert_eq!(decode("Zm9"), None);
            assert_eq!(decode("Zm=v"), None);
            assert_eq!(decode("Zm9v!!!!"), None);
        }
    }
}
