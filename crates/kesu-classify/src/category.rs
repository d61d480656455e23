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
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            epochs: 30,
            learning_rate: 0.3,
            l2: 1e-4,
            rule_weight: 0.5,
            min_count: 1,
            nb_weight: 0.75,
            balance_classes: false,
        }
    }
}

/// A trained category model (serialisable).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoryModel {
    /// Format version of this structure.
    pub format: u32,
    /// Category codes, in the order of the weights.
    pub labels: Vec<String>,
    pub rule_weight: f32,
    pub bias: Vec<f32>,
    /// Feature → weights, one per label.
    pub weights: BTreeMap<String, Vec<f32>>,
    /// How many examples it learned from.
    pub examples: usize,
    /// Naive Bayes log-likelihood ratios per word/bigram feature (centred per feature).
    #[serde(default)]
    pub nb: BTreeMap<String, Vec<f32>>,
    #[serde(default)]
    pub nb_weight: f32,
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
            format: 1,
            bias: vec![0.0; labels.len()],
            labels,
            rule_weight: 1.0,
            weights: BTreeMap::new(),
            examples: 0,
            nb: BTreeMap::new(),
            nb_weight: 0.0,
        }
    }

    /// Scores (probabilities) per label for prepared features and rule scores.
    pub(crate) fn predict(&self, feats: &[(String, f32)], rule_scores: &[f32]) -> Vec<f32> {
        let k = self.labels.len();
        let mut logits: Vec<f32> = (0..k)
            .map(|j| self.bias[j] + self.rule_weight * rule_scores.get(j).copied().unwrap_or(0.0))
            .collect();
        let mut nb_scores = vec![0.0_f32; k];
        let mut nb_n = 0usize;
        for (name, v) in feats {
            if let Some(w) = self.weights.get(name) {
                for j in 0..k {
                    logits[j] += w[j] * v;
                }
            }
            if self.nb_weight > 0.0
                && let Some(w) = self.nb.get(name)
            {
                nb_n += 1;
                for j in 0..k {
                    nb_scores[j] += w[j];
                }
            }
        }
        if nb_n > 0 {
            let scale = self.nb_weight / (nb_n as f32).sqrt();
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
        let mut vocab: Vec<&str> = counts
            .iter()
            .filter(|(name, c)| **c >= options.min_count || !name.starts_with(['w', 'b']))
            .map(|(name, _)| *name)
            .collect();
        vocab.sort_unstable();
        let index: HashMap<&str, usize> = vocab.iter().enumerate().map(|(i, n)| (*n, i)).collect();
        let encoded: Vec<Encoded> = docs
            .iter()
            .map(|(y, feats, scores)| {
                let xs = feats
                    .iter()
                    .filter_map(|(n, v)| index.get(n.as_str()).map(|i| (*i, *v)))
                    .collect();
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
        let weights = vocab
            .iter()
            .enumerate()
            .filter_map(|(i, name)| {
                let row: Vec<f32> = w[i * k..i * k + k]
                    .iter()
                    .map(|x| (x * 10_000.0).round() / 10_000.0)
                    .collect();
                row.iter()
                    .any(|x| *x != 0.0)
                    .then(|| ((*name).to_owned(), row))
            })
            .collect();
        // Naive Bayes over the text features (binary, Laplace smoothing).
        let mut nb = BTreeMap::new();
        if options.nb_weight > 0.0 {
            let mut class_total = vec![0.0_f32; k];
            let mut per: HashMap<usize, Vec<f32>> = HashMap::new();
            for (y, xs, _) in &encoded {
                for (f, _) in xs {
                    if vocab[*f].starts_with(['w', 'b']) {
                        per.entry(*f).or_insert_with(|| vec![0.0; k])[*y] += 1.0;
                        class_total[*y] += 1.0;
                    }
                }
            }
            let v = per.len() as f32;
            for (f, counts) in per {
                let mut row: Vec<f32> = (0..k)
                    .map(|j| ((counts[j] + 0.5) / (class_total[j] + 0.5 * v)).ln())
                    .collect();
                let mean = row.iter().sum::<f32>() / k as f32;
                for x in &mut row {
                    *x = ((*x - mean) * 1000.0).round() / 1000.0;
                }
                nb.insert(vocab[f].to_owned(), row);
            }
        }
        CategoryModel {
            format: 1,
            labels,
            rule_weight: options.rule_weight,
            bias: b,
            weights,
            examples: encoded.len(),
            nb,
            nb_weight: options.nb_weight,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(json: &str) -> Result<CategoryModel, serde_json::Error> {
        serde_json::from_str(json)
    }
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
