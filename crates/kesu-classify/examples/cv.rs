//! Cross-validation over a labelled corpus (corpus SCHEMA format).
//!
//! ```sh
//! cargo run --release -p kesu-classify --example cv -- /work/shared/corpus/dev.jsonl \
//!     [--folds 5] [--seed 20261123] [--write DIR] [--holdout FILE] [--errors]
//! ```
//!
//! The corpus is split into stratified folds (per category, shuffled with a
//! fixed seed); each fold is evaluated with a model trained on the other
//! folds plus the shipped complaints (`data/train.jsonl`). `--write DIR`
//! also writes `foldN-test.jsonl` / `foldN-train.jsonl`, so that the same
//! split can be evaluated with `kesu classify eval`. `--holdout FILE`
//! evaluates a model trained on the shipped complaints plus the whole corpus
//! on FILE as well. `--errors` lists the misread complaints.

use std::collections::BTreeMap;
use std::time::Instant;

use kesu_classify::eval::{Labelled, Report, evaluate, parse_corpus};
use kesu_classify::{
    CategoryModel, Engine, Example, History, SignalConfig, Taxonomy, TrainOptions,
};
use kesu_domain::Severity;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut file = None;
    let mut folds = 5usize;
    let mut seed = 20_261_123u64;
    let mut write = None;
    let mut holdout = None;
    let mut errors = false;
    let mut check = None;
    let mut opts = TrainOptions::default();
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--folds" => {
                i += 1;
                folds = args[i].parse().expect("--folds N");
            }
            "--seed" => {
                i += 1;
                seed = args[i].parse().expect("--seed N");
            }
            "--write" => {
                i += 1;
                write = Some(args[i].clone());
            }
            "--holdout" => {
                i += 1;
                holdout = Some(args[i].clone());
            }
            "--errors" => errors = true,
            "--check" => {
                i += 1;
                check = Some(args[i].clone());
            }
            "--epochs" => {
                i += 1;
                opts.epochs = args[i].parse().expect("--epochs N");
            }
            "--lr" => {
                i += 1;
                opts.learning_rate = args[i].parse().expect("--lr X");
            }
            "--l2" => {
                i += 1;
                opts.l2 = args[i].parse().expect("--l2 X");
            }
            "--rule-weight" => {
                i += 1;
                opts.rule_weight = args[i].parse().expect("--rule-weight X");
            }
            "--min-count" => {
                i += 1;
                opts.min_count = args[i].parse().expect("--min-count N");
            }
            "--nb-weight" => {
                i += 1;
                opts.nb_weight = args[i].parse().expect("--nb-weight X");
            }
            "--balance" => opts.balance_classes = true,
            "--max-features" => {
                i += 1;
                opts.max_features = args[i].parse().expect("--max-features N");
            }
            "--min-bigram-count" => {
                i += 1;
                opts.min_bigram_count = args[i].parse().expect("--min-bigram-count N");
            }
            other => file = Some(other.to_owned()),
        }
        i += 1;
    }
    let file = file.expect(
        "usage: cv CORPUS.jsonl [--folds N] [--seed N] [--write DIR] [--holdout FILE] [--errors]",
    );
    let rows = read(&file);
    if let Some(c) = check {
        // Not for the blind holdout: lists every misread complaint of FILE.
        let extra: Vec<Example> = rows.iter().map(Labelled::example).collect();
        let engine = trained(&extra, &opts);
        let test = read(&c);
        let r = evaluate(&engine, &test, |_| {});
        println!(
            "{c}: {} complaints  top-1 {:5.1}%  top-3 {:5.1}%  major recall {:5.1}%  precision {:5.1}%",
            r.complaints,
            r.top1 * 100.0,
            r.top3 * 100.0,
            r.major_recall.unwrap_or(0.0) * 100.0,
            r.major_precision.unwrap_or(0.0) * 100.0
        );
        print_errors(&engine, &test);
        return;
    }
    let split = split(&rows, folds, seed);
    let mut reports = Vec::new();
    for (k, test_idx) in split.iter().enumerate() {
        let test: Vec<Labelled> = test_idx.iter().map(|&i| rows[i].clone()).collect();
        let train: Vec<Labelled> = (0..rows.len())
            .filter(|i| !test_idx.contains(i))
            .map(|i| rows[i].clone())
            .collect();
        if let Some(dir) = &write {
            std::fs::create_dir_all(dir).expect("creates the directory");
            write_rows(&format!("{dir}/fold{}-test.jsonl", k + 1), &test);
            write_rows(&format!("{dir}/fold{}-train.jsonl", k + 1), &train);
        }
        let extra: Vec<Example> = train.iter().map(Labelled::example).collect();
        let started = Instant::now();
        let engine = trained(&extra, &opts);
        let took = started.elapsed();
        let r = evaluate(&engine, &test, |_| {});
        println!(
            "fold {}: {:>3} complaints  top-1 {:5.1}%  top-3 {:5.1}%  major recall {:5.1}%  precision {:5.1}%  (training {:.2} s)",
            k + 1,
            r.complaints,
            r.top1 * 100.0,
            r.top3 * 100.0,
            r.major_recall.unwrap_or(0.0) * 100.0,
            r.major_precision.unwrap_or(0.0) * 100.0,
            took.as_secs_f64()
        );
        if errors {
            print_errors(&engine, &test);
        }
        reports.push(r);
    }
    let n = reports.len() as f64;
    let mean = |f: &dyn Fn(&Report) -> f64| reports.iter().map(f).sum::<f64>() / n;
    println!(
        "mean:              top-1 {:5.1}%  top-3 {:5.1}%  major recall {:5.1}%  precision {:5.1}%",
        mean(&|r| r.top1) * 100.0,
        mean(&|r| r.top3) * 100.0,
        mean(&|r| r.major_recall.unwrap_or(0.0)) * 100.0,
        mean(&|r| r.major_precision.unwrap_or(0.0)) * 100.0
    );
    // Pooled confusion and signals over all folds.
    let mut confusion: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    for r in &reports {
        for (a, m) in &r.confusion {
            for (b, c) in m {
                *confusion
                    .entry(a.clone())
                    .or_default()
                    .entry(b.clone())
                    .or_default() += c;
            }
        }
    }
    println!("confusion (pooled; rows labelled, columns proposed):");
    let codes: Vec<&String> = confusion.keys().collect();
    print!("{:<18}", "");
    for c in &codes {
        print!(" {:>5}", c.chars().take(5).collect::<String>());
    }
    println!();
    for a in &codes {
        print!("{a:<18}");
        for b in &codes {
            let c = confusion[*a].get(*b).copied().unwrap_or(0);
            if c == 0 {
                print!(" {:>5}", ".");
            } else {
                print!(" {c:>5}");
            }
        }
        println!();
    }
    {
        let extra: Vec<Example> = rows.iter().map(Labelled::example).collect();
        let started = Instant::now();
        let e = trained(&extra, &opts);
        let took = started.elapsed();
        let m = e.model();
        let words = m.features().iter().filter(|k| k.starts_with("w:")).count();
        let bigrams = m.features().iter().filter(|k| k.starts_with("b:")).count();
        println!("  features: {words} words, {bigrams} bigrams");
        println!(
            "model on shipped + whole corpus: {} examples, {} features, JSON {} bytes, trained in {:.2} s",
            m.examples,
            m.features().len(),
            m.to_json().len(),
            took.as_secs_f64()
        );
    }
    if let Some(h) = holdout {
        let hold = read(&h);
        let extra: Vec<Example> = rows.iter().map(Labelled::example).collect();
        for (name, engine) in [
            ("shipped complaints only", trained(&[], &opts)),
            ("shipped + whole corpus", trained(&extra, &opts)),
        ] {
            let r = evaluate(&engine, &hold, |_| {});
            println!(
                "holdout {h}, trained on {name}: {} complaints  top-1 {:5.1}%  top-3 {:5.1}%  major recall {:5.1}%  precision {:5.1}%",
                r.complaints,
                r.top1 * 100.0,
                r.top3 * 100.0,
                r.major_recall.unwrap_or(0.0) * 100.0,
                r.major_precision.unwrap_or(0.0) * 100.0
            );
        }
    }
}

/// A model trained on the shipped complaints plus `extra`.
fn trained(extra: &[Example], opts: &TrainOptions) -> Engine {
    let taxonomy = Taxonomy::default_taxonomy();
    let mut examples = kesu_classify::shipped_examples();
    examples.extend_from_slice(extra);
    let model = CategoryModel::train(&taxonomy, &examples, opts);
    Engine::with_model(taxonomy, model, SignalConfig::default())
}

fn print_errors(engine: &Engine, rows: &[Labelled]) {
    for row in rows {
        let p = engine.classify(&row.text, row.channel, History::default());
        let got: Vec<String> = p
            .signals
            .iter()
            .map(|h| format!("{}({})", h.signal, h.phrase))
            .collect();
        let want: Vec<String> = row.signals.iter().map(ToString::to_string).collect();
        let cat_wrong = p.category() != row.category;
        let sig_wrong = (p.severity == Severity::Major) != (row.severity == Severity::Major)
            || row.signals.iter().any(|s| !p.has(*s))
            || p.signals.iter().any(|h| !row.signals.contains(&h.signal));
        if cat_wrong || sig_wrong {
            let top: Vec<String> = p
                .categories
                .iter()
                .map(|c| format!("{}:{:.2}", c.code, c.confidence))
                .collect();
            println!(
                "  {} [{}] {}{} | want {} {:?} got {:?} | {}",
                row.id.as_deref().unwrap_or("?"),
                row.category,
                if cat_wrong { "CAT " } else { "" },
                if sig_wrong { "SIG" } else { "" },
                row.category,
                want,
                got,
                top.join(" ")
            );
            println!("      {}", row.text.replace('\n', " "));
        }
    }
}

fn read(path: &str) -> Vec<Labelled> {
    let text = std::fs::read_to_string(path).expect("reads the corpus");
    parse_corpus(&text).expect("parses the corpus")
}

fn write_rows(path: &str, rows: &[Labelled]) {
    let mut out = String::new();
    for r in rows {
        out.push_str(&serde_json::to_string(r).expect("serialises"));
        out.push('\n');
    }
    std::fs::write(path, out).expect("writes");
}

/// Stratified folds: per category (in order of first appearance), the rows
/// are shuffled with the seed and dealt out in turn, continuing where the
/// previous category stopped.
fn split(rows: &[Labelled], folds: usize, seed: u64) -> Vec<Vec<usize>> {
    let mut by_cat: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, r) in rows.iter().enumerate() {
        by_cat.entry(r.category.as_str()).or_default().push(i);
    }
    let mut state = seed | 1;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut out = vec![Vec::new(); folds];
    let mut at = 0;
    for idx in by_cat.values_mut() {
        for i in (1..idx.len()).rev() {
            let j = (next() % (i as u64 + 1)) as usize;
            idx.swap(i, j);
        }
        for &i in idx.iter() {
            out[at % folds].push(i);
            at += 1;
        }
    }
    for f in &mut out {
        f.sort_unstable();
    }
    out
}
