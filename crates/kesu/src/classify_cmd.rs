//! `kesu classify …`: developer commands for the classification engine
//! (`kesu-classify`): evaluate it on a labelled corpus, time it, or read one
//! complaint. They need no database.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Subcommand;
use kesu_classify::eval::{Labelled, Report, evaluate, parse_corpus};
use kesu_classify::{Engine, Example, History, SignalConfig};
use kesu_domain::Channel;

#[derive(Subcommand)]
pub enum ClassifyCommand {
    /// Evaluate on a labelled corpus (JSON Lines, corpus SCHEMA format).
    ///
    /// Without --train the shipped model is used (trained on first use from
    /// the complaints shipped in kesu-classify/data/train.jsonl). With --train
    /// a model is trained on the shipped complaints plus the given files.
    Eval {
        /// The complaints to evaluate on.
        file: PathBuf,
        /// Labelled complaints to train on as well (repeatable).
        #[arg(long)]
        train: Vec<PathBuf>,
        /// With --train: leave the shipped complaints out of the training.
        #[arg(long, requires = "train")]
        no_shipped: bool,
        /// Print one JSON object instead of tables.
        #[arg(long)]
        json: bool,
    },
    /// Time classification plus signal detection of one ~500-character complaint.
    Bench {
        /// Number of timed runs.
        #[arg(long, default_value_t = 20_000)]
        iterations: usize,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Read one complaint and print the proposal as JSON.
    Text {
        text: String,
        /// The channel it came in by (phone, web, regulator, media …).
        #[arg(long, default_value = "phone")]
        channel: String,
        /// The same customer complained about the same product recently.
        #[arg(long)]
        repeat: bool,
    },
}

pub fn run(command: ClassifyCommand) -> anyhow::Result<()> {
    match command {
        ClassifyCommand::Eval {
            file,
            train,
            no_shipped,
            json,
        } => eval(&file, &train, no_shipped, json),
        ClassifyCommand::Bench { iterations, json } => bench(iterations, json),
        ClassifyCommand::Text {
            text,
            channel,
            repeat,
        } => {
            let channel: Channel = channel
                .parse()
                .map_err(|e| anyhow::anyhow!("{e} (use phone, walk_in, email, web, app, wechat, weibo, letter, regulator or media)"))?;
            let p = Engine::shipped().classify(
                &text,
                channel,
                History {
                    same_product_recently: repeat,
                },
            );
            println!("{}", serde_json::to_string_pretty(&p)?);
            Ok(())
        }
    }
}

fn read_corpus(path: &Path) -> anyhow::Result<Vec<Labelled>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let rows = parse_corpus(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    if rows.is_empty() {
        bail!("{} has no complaints", path.display());
    }
    Ok(rows)
}

fn eval(file: &Path, train: &[PathBuf], no_shipped: bool, json: bool) -> anyhow::Result<()> {
    let rows = read_corpus(file)?;
    let mut extra: Vec<Example> = Vec::new();
    for t in train {
        extra.extend(read_corpus(t)?.iter().map(Labelled::example));
    }
    let started = Instant::now();
    let trained;
    let engine = if train.is_empty() {
        Engine::shipped()
    } else {
        trained = Engine::trained_with(&extra, !no_shipped, SignalConfig::default());
        &trained
    };
    // A progress bar only when it takes more than a moment.
    let mut bar: Option<indicatif::ProgressBar> = None;
    let total = rows.len() as u64;
    let report = evaluate(engine, &rows, |done| {
        if bar.is_none() && started.elapsed() > Duration::from_secs(1) && (done as u64) < total {
            let b = indicatif::ProgressBar::new(total);
            b.set_style(
                indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} complaints")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar = Some(b);
        }
        if let Some(b) = &bar {
            b.set_position(done as u64);
        }
    });
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    if json {
        emit(&format!("{}\n", serde_json::to_string(&report)?))
    } else {
        emit(&render_report(&report, train, no_shipped))
    }
}

/// Writes to standard output; a closed pipe (`| head`) is not an error.
fn emit(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(anyhow::Error::new(e).context("cannot write the report"))
        }
        _ => Ok(()),
    }
}

fn pct(x: Option<f64>) -> String {
    x.map_or_else(|| "-".to_owned(), |v| format!("{:.1}%", v * 100.0))
}

fn render_report(r: &Report, train: &[PathBuf], no_shipped: bool) -> String {
    let mut o = String::new();
    let model = if train.is_empty() {
        "shipped model".to_owned()
    } else {
        let files: Vec<String> = train.iter().map(|p| p.display().to_string()).collect();
        format!(
            "trained on {}{}",
            if no_shipped {
                ""
            } else {
                "the shipped complaints + "
            },
            files.join(" + ")
        )
    };
    let _ = writeln!(o, "{} complaints, {model}", r.complaints);
    let _ = writeln!(
        o,
        "category  top-1 {}   top-3 {}",
        pct(Some(r.top1)),
        pct(Some(r.top3))
    );
    let hit = (r.major_recall.unwrap_or(0.0) * r.majors as f64).round() as usize;
    let _ = writeln!(
        o,
        "major     recall {} ({hit}/{})   precision {} ({hit}/{})",
        pct(r.major_recall),
        r.majors,
        pct(r.major_precision),
        r.proposed_majors
    );
    let _ = writeln!(o);
    let _ = writeln!(
        o,
        "{:<18} {:>9} {:>7} {:>8} {:>10}",
        "category", "precision", "recall", "support", "proposed"
    );
    for (code, s) in &r.per_category {
        let _ = writeln!(
            o,
            "{:<18} {:>9} {:>7} {:>8} {:>10}",
            code,
            pct(s.precision),
            pct(s.recall),
            s.support,
            s.predicted
        );
    }
    let _ = writeln!(o);
    let _ = writeln!(
        o,
        "{:<18} {:>7} {:>9} {:>8}",
        "signal", "recall", "precision", "support"
    );
    let mut signals: Vec<&String> = r
        .signal_support
        .keys()
        .chain(r.signal_precision.keys())
        .collect();
    signals.sort();
    signals.dedup();
    for s in signals {
        let _ = writeln!(
            o,
            "{:<18} {:>7} {:>9} {:>8}",
            s,
            pct(r.signal_recall.get(s).copied()),
            pct(r.signal_precision.get(s).copied()),
            r.signal_support.get(s).copied().unwrap_or(0)
        );
    }
    let _ = writeln!(o);
    let _ = writeln!(o, "confusion (rows: labelled, columns: proposed)");
    let mut codes: Vec<&String> = r.per_category.keys().collect();
    codes.sort();
    let short = |c: &str| c.chars().take(6).collect::<String>();
    let _ = write!(o, "{:<18}", "");
    for c in &codes {
        let _ = write!(o, " {:>6}", short(c));
    }
    let _ = writeln!(o);
    for row in &codes {
        let _ = write!(o, "{row:<18}");
        for col in &codes {
            let n = r
                .confusion
                .get(*row)
                .and_then(|m| m.get(*col))
                .copied()
                .unwrap_or(0);
            if n == 0 {
                let _ = write!(o, " {:>6}", ".");
            } else {
                let _ = write!(o, " {n:>6}");
            }
        }
        let _ = writeln!(o);
    }
    if !r.missed_majors.is_empty() {
        let _ = writeln!(o);
        let _ = writeln!(
            o,
            "major complaints proposed as general: {}",
            r.missed_majors.join(", ")
        );
    }
    o
}

/// A realistic complaint of about 500 characters (a letter with an amount,
/// a repair history and a conditional threat).
pub const BENCH_COMPLAINT: &str = "尊敬的售后经理：您好！我是贵店的老客户，2022年在贵店购买了一辆SUV，之后的保养一直都在贵店做，\
以前对贵店的服务还是比较满意的。今年九月开始，车辆在低速行驶时变速箱出现明显顿挫，挂挡的时候还有“咔哒”的异响。\
我九月十二日第一次到店检修，服务顾问说是变速箱油该换了，换油花了一千二百元；十月初问题再次出现，技师说要刷新程序，\
刷完好了不到两周；十一月又回店，这次说是阀体有问题需要订配件，等了十八天才装上，结果上周五在高速上又开始顿挫，\
而且仪表提示变速箱过热，我只能降速开回来，路上非常害怕。三个月里我为了这个问题请了五天假，来回打车、借车的费用也有两千多元。\
我不想再这样一次次地修了，也不接受“再观察一下”的答复。家里老人每周都要去做理疗，全靠这辆车接送，现在只能打车，很不方便。我的诉求是：第一，请厂家技术人员对变速箱做全面检测并出具书面报告；\
第二，如确认是变速箱质量问题，请为我更换变速箱总成；第三，请承担我多次往返产生的误工和交通费用。\
希望贵店在一周内给我明确答复，如果还是推来推去，我只能向市场监管局投诉，必要时通过法律途径解决。谢谢！车主 刘先生 139****2761";

fn bench(iterations: usize, json: bool) -> anyhow::Result<()> {
    if iterations == 0 {
        bail!("--iterations must be at least 1");
    }
    let engine = Engine::shipped(); // trains the shipped model and builds the segmenter
    let text = BENCH_COMPLAINT;
    // Warm up caches and lazily built tables.
    for _ in 0..200.min(iterations) {
        std::hint::black_box(engine.classify(text, Channel::Letter, History::default()));
    }
    let mut times: Vec<Duration> = Vec::with_capacity(iterations);
    let all = Instant::now();
    for _ in 0..iterations {
        let t = Instant::now();
        let p = engine.classify(
            std::hint::black_box(text),
            Channel::Letter,
            History::default(),
        );
        times.push(t.elapsed());
        std::hint::black_box(p);
    }
    let wall = all.elapsed();
    times.sort_unstable();
    let at = |q: f64| times[((times.len() as f64 * q).ceil() as usize).clamp(1, times.len()) - 1];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let chars = text.chars().count();
    if json {
        println!(
            "{}",
            serde_json::json!({
                "chars": chars,
                "iterations": iterations,
                "median_ms": ms(at(0.5)),
                "p99_ms": ms(at(0.99)),
                "max_ms": ms(times[times.len() - 1]),
                "mean_ms": ms(wall) / iterations as f64,
            })
        );
    } else {
        println!("one complaint of {chars} characters, {iterations} runs on one thread");
        println!(
            "median {:.3} ms   p99 {:.3} ms   max {:.3} ms   mean {:.3} ms",
            ms(at(0.5)),
            ms(at(0.99)),
            ms(times[times.len() - 1]),
            ms(wall) / iterations as f64
        );
    }
    Ok(())
}
