//! `kesu generate`: fills an empty desk with realistic complaints for
//! benchmarks and demonstrations (a million in minutes), and `kesu bench
//! search`: the latency of full-text searches on what is there.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::bail;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use jiff::{SignedDuration, Timestamp, tz::TimeZone};
use kesu_domain::{Channel, Severity, State};
use kesu_storage::Db;
use kesu_storage::bulk::GeneratedComplaint;
use kesu_storage::complaints::{CustomerInput, ListFilter};

use crate::fake::{Rng, complaint};

#[derive(Args)]
pub struct GenerateArgs {
    /// How many complaints.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=20_000_000))]
    pub count: u64,
    /// Spread over this many days up to now.
    #[arg(long, default_value_t = 1095, value_parser = clap::value_parser!(u64).range(1..=7300))]
    pub days: u64,
    /// Seed (the same seed gives the same complaints).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Complaints per transaction.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(1..=50_000))]
    pub batch: u64,
    /// Every complaint open, with running clocks due from an hour ago to
    /// `--clocks-within` minutes ahead (the deadline-sweep benchmark).
    #[arg(long)]
    pub open_with_clocks: bool,
    #[arg(long, default_value_t = 60)]
    pub clocks_within: i64,
}

const CATEGORIES: &[(&str, u64)] = &[
    ("product_quality", 24),
    ("service_attitude", 18),
    ("delay", 14),
    ("pricing", 9),
    ("repair_quality", 9),
    ("refund_return", 10),
    ("false_advertising", 5),
    ("environment", 4),
    ("safety", 2),
    ("privacy", 1),
    ("other", 4),
];

/// Open states of recent complaints, with weights.
const RECENT_STATES: &[(State, u64)] = &[
    (State::Received, 4),
    (State::Registered, 12),
    (State::Dispatched, 14),
    (State::InProgress, 24),
    (State::Proposed, 10),
    (State::AwaitingApproval, 3),
    (State::Executing, 10),
    (State::FedBack, 7),
    (State::FollowUp, 6),
    (State::Reopened, 2),
    (State::Closed, 8),
];

const OLD_STATES: &[(State, u64)] = &[
    (State::Closed, 90),
    (State::Withdrawn, 4),
    (State::Rejected, 2),
    (State::Merged, 1),
    (State::FollowUp, 2),
    (State::InProgress, 1),
];

fn weighted<T: Copy>(rng: &mut Rng, items: &[(T, u64)]) -> T {
    let total: u64 = items.iter().map(|(_, w)| w).sum();
    let mut x = rng.range(0, total - 1);
    for (item, w) in items {
        if x < *w {
            return *item;
        }
        x -= w;
    }
    items[0].0
}

fn text(v: &serde_json::Value, key: &str) -> Option<String> {
    v[key].as_str().map(str::to_owned)
}

/// The `i`-th of `count` complaints, received in order over the span.
#[expect(
    clippy::too_many_arguments,
    reason = "the generator's state, passed as is"
)]
fn one(
    rng: &mut Rng,
    i: u64,
    count: u64,
    start: Timestamp,
    span: SignedDuration,
    departments: &[i64],
    day_seq: &mut HashMap<u32, i64>,
    clocks_within: Option<i64>,
) -> GeneratedComplaint {
    let body = complaint(rng);
    let step = span.as_secs_f64() / count as f64;
    let offset = step * i as f64 + step * (rng.range(0, 999) as f64 / 1000.0);
    let received_at = start
        .checked_add(SignedDuration::from_secs_f64(offset))
        .unwrap_or(start);
    let zoned = received_at.to_zoned(TimeZone::get("Asia/Shanghai").unwrap_or(TimeZone::UTC));
    let day = u32::try_from(
        i32::from(zoned.year()) * 10_000 + i32::from(zoned.month()) * 100 + i32::from(zoned.day()),
    )
    .unwrap_or(19_700_101);
    let seq = day_seq.entry(day).or_insert(0);
    *seq += 1;
    let age_days = (Timestamp::now().as_second() - received_at.as_second()) / 86_400;
    let state = if clocks_within.is_some() {
        loop {
            let s = weighted(rng, RECENT_STATES);
            if s != State::Closed {
                break s;
            }
        }
    } else if age_days > 14 {
        weighted(rng, OLD_STATES)
    } else {
        weighted(rng, RECENT_STATES)
    };
    let mut clocks = Vec::new();
    if let Some(within) = clocks_within {
        let now = Timestamp::now();
        for kind in ["initial_reply", "resolve", "first_contact"] {
            let offset = i64::try_from(rng.range(0, u64::try_from(within + 60).unwrap_or(60) * 60))
                .unwrap_or(0)
                - 3600;
            let due = now
                .checked_add(SignedDuration::from_secs(offset))
                .unwrap_or(now);
            let started = due
                .checked_sub(SignedDuration::from_hours(2))
                .unwrap_or(due);
            let warn = due
                .checked_sub(SignedDuration::from_mins(30))
                .unwrap_or(due);
            clocks.push((kind, started, due, Some(warn)));
        }
    }
    let channel = body["channel"]
        .as_str()
        .and_then(|c| c.parse().ok())
        .unwrap_or(Channel::Phone);
    let registered = state != State::Received;
    let dispatched = !matches!(state, State::Received | State::Registered);
    let major = rng.chance(7);
    let closed_at = (state == State::Closed).then(|| {
        received_at
            .checked_add(SignedDuration::from_hours(
                i64::try_from(rng.range(4, 200)).unwrap_or(24),
            ))
            .unwrap_or(received_at)
    });
    let customer = CustomerInput {
        name: text(&body["customer"], "name").unwrap_or_default(),
        phone: text(&body["customer"], "phone"),
        email: None,
        wechat_openid: None,
    };
    let description = text(&body, "description").unwrap_or_default();
    let subject = text(&body, "subject");
    let order_ref = text(&body, "order_ref");
    let plate = text(&body, "plate");
    let event_place = text(&body, "event_place");
    let terms = kesu_classify::search::index_document(
        [
            Some(description.as_str()),
            subject.as_deref(),
            order_ref.as_deref(),
            plate.as_deref(),
            event_place.as_deref(),
            Some(customer.name.as_str()),
            customer.phone.as_deref(),
        ]
        .into_iter()
        .flatten(),
    );
    GeneratedComplaint {
        number: kesu_domain::input::ComplaintNumber::new(day, *seq)
            .as_str()
            .to_owned(),
        day,
        seq: *seq,
        state,
        channel,
        received_at,
        customer,
        description,
        subject,
        order_ref,
        plate,
        event_place,
        urgent: body["urgent"].as_bool().unwrap_or(false),
        category: registered.then(|| weighted(rng, CATEGORIES).to_owned()),
        severity: if major {
            Severity::Major
        } else {
            Severity::General
        },
        department_id: if dispatched && !departments.is_empty() {
            Some(departments[(rng.next() % departments.len() as u64) as usize])
        } else {
            None
        },
        closed_at,
        satisfaction_score: closed_at.map(|_| i64::try_from(rng.range(3, 5)).unwrap_or(5)),
        terms,
        clocks,
    }
}

/// `kesu generate`.
pub async fn generate(db: &Db, args: &GenerateArgs) -> anyhow::Result<()> {
    let existing = db.complaint_count().await?;
    if existing > 0 {
        bail!("kesu generate fills an empty desk only; this database holds {existing} complaints");
    }
    let departments: Vec<i64> = db.departments().await?.iter().map(|d| d.id).collect();
    let now = Timestamp::now();
    let span = SignedDuration::from_hours(i64::try_from(args.days).unwrap_or(1) * 24);
    let start = now.checked_sub(span).unwrap_or(now);
    let bar = ProgressBar::new(args.count).with_style(
        ProgressStyle::with_template(
            "{spinner} {bar:40} {pos}/{len} complaints  {per_sec}  eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let began = Instant::now();
    let mut rng = Rng::new(args.seed);
    let mut day_seq = HashMap::new();
    let mut i = 0;
    // Cutting the words is the CPU-heavy part: one batch is cut on a second
    // thread while the previous one is written.
    let mut pending: Option<tokio::task::JoinHandle<kesu_storage::Result<()>>> = None;
    while i < args.count {
        let n = args.batch.min(args.count - i);
        let mut batch = Vec::with_capacity(usize::try_from(n).unwrap_or(0));
        for k in i..i + n {
            batch.push(one(
                &mut rng,
                k,
                args.count,
                start,
                span,
                &departments,
                &mut day_seq,
                args.open_with_clocks.then_some(args.clocks_within),
            ));
        }
        if let Some(p) = pending.take() {
            p.await??;
        }
        let db = db.clone();
        let bar2 = bar.clone();
        pending = Some(tokio::spawn(async move {
            db.insert_generated(&batch).await?;
            bar2.inc(batch.len() as u64);
            Ok(())
        }));
        i += n;
    }
    if let Some(p) = pending.take() {
        p.await??;
    }
    bar.finish_and_clear();
    db.analyze().await?;
    println!(
        "generated {} complaints in {:.1} s ({})",
        args.count,
        began.elapsed().as_secs_f64(),
        db.backend()
    );
    Ok(())
}

#[derive(Args)]
pub struct BenchSearchArgs {
    /// Words to search for, one query each, used in turn.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "退款,刹车,态度,发票,过期,延误,异响,排队"
    )]
    pub words: Vec<String>,
    /// The state filter (as on the list).
    #[arg(long, default_value = "in_progress")]
    pub state: String,
    /// Queries to time.
    #[arg(long, default_value_t = 200)]
    pub runs: u32,
}

/// `kesu bench search`: the latency of a first page of search results as
/// the desk's list shows it (all sites, a state filter, 25 per page).
pub async fn bench_search(db: &Db, args: &BenchSearchArgs) -> anyhow::Result<()> {
    let Ok(state) = args.state.parse::<State>() else {
        bail!("unknown state {}", args.state);
    };
    if args.words.is_empty() || args.runs == 0 {
        bail!("nothing to time: give --words and --runs");
    }
    let actor = kesu_domain::Actor {
        user_id: kesu_domain::UserId(0),
        roles: vec![kesu_domain::Role::Admin],
        department_id: None,
        site_id: None,
    };
    let complaints = db.complaint_count().await?;
    // Warm the caches once per word.
    let mut hits = Vec::new();
    for w in &args.words {
        let f = ListFilter {
            text: Some(w.clone()),
            state: Some(state),
            page: 1,
            per_page: 25,
            ..ListFilter::default()
        };
        hits.push(db.list_complaints(&actor, &f).await?.items.len());
    }
    let mut times: Vec<Duration> = Vec::new();
    for r in 0..args.runs {
        let w = &args.words[r as usize % args.words.len()];
        let f = ListFilter {
            text: Some(w.clone()),
            state: Some(state),
            page: 1,
            per_page: 25,
            ..ListFilter::default()
        };
        let t = Instant::now();
        db.list_complaints(&actor, &f).await?;
        times.push(t.elapsed());
    }
    times.sort();
    let pct = |p: f64| {
        let i = ((p / 100.0) * times.len() as f64).ceil() as usize;
        times[i.clamp(1, times.len()) - 1].as_secs_f64() * 1000.0
    };
    println!(
        "search on {} with {complaints} complaints, state {}, {} queries over {:?}",
        db.backend(),
        state.as_str(),
        args.runs,
        args.words
    );
    println!("first page sizes: {hits:?}");
    println!(
        "latency ms  p50 {:.2}  p95 {:.2}  p99 {:.2}  max {:.2}",
        pct(50.0),
        pct(95.0),
        pct(99.0),
        pct(100.0)
    );
    Ok(())
}

#[derive(Args)]
pub struct BenchSweepArgs {
    /// Passes to time after the first (catch-up) one.
    #[arg(long, default_value_t = 20)]
    pub passes: u32,
    /// Seconds of simulated time between passes (the sweep interval).
    #[arg(long, default_value_t = 15)]
    pub every: i64,
}

/// `kesu bench sweep`: the deadline sweep on the clocks that are there — the
/// first pass catches up with everything already due, then passes follow
/// at the sweep interval of simulated time (each finds what came due since).
pub async fn bench_sweep(db: &Db, args: &BenchSweepArgs) -> anyhow::Result<()> {
    let outbound = kesu_storage::deadlines::Outbound::bell_only();
    let running = db.running_clock_count().await?;
    let start = Timestamp::now();
    let report = |label: String, t: Duration, r: kesu_storage::deadlines::SweepReport| {
        println!(
            "{label:<12} {:>8.1} ms  clocks {:>6}  warnings {:>6}  breaches {:>6}  notices {:>6}",
            t.as_secs_f64() * 1000.0,
            r.clocks,
            r.warnings,
            r.breaches,
            r.notices
        );
    };
    println!("sweep on {} with {running} running clocks", db.backend());
    let pass = |now: Timestamp| {
        let db = db.clone();
        let outbound = &outbound;
        async move {
            let t = Instant::now();
            let mut total = kesu_storage::deadlines::SweepReport::default();
            loop {
                let r = db.sweep_deadlines(now, 500, outbound).await?;
                total.clocks += r.clocks;
                total.warnings += r.warnings;
                total.breaches += r.breaches;
                total.notices += r.notices;
                if r.clocks < 500 {
                    break;
                }
            }
            anyhow::Ok((t.elapsed(), total))
        }
    };
    let (t, r) = pass(start).await?;
    report("catch-up".to_owned(), t, r);
    let mut times = Vec::new();
    for i in 1..=args.passes {
        let now = start
            .checked_add(SignedDuration::from_secs(args.every * i64::from(i)))
            .unwrap_or(start);
        let (t, r) = pass(now).await?;
        report(format!("+{}s", args.every * i64::from(i)), t, r);
        times.push(t);
    }
    times.sort();
    if let Some(median) = times.get(times.len() / 2) {
        println!(
            "interval passes: median {:.1} ms, max {:.1} ms",
            median.as_secs_f64() * 1000.0,
            times.last().map_or(0.0, |m| m.as_secs_f64() * 1000.0)
        );
    }
    Ok(())
}
