//! `kesu-load`: a load generator for a running kesu server.
//!
//! `kesu-load register --url http://127.0.0.1:8080 --token TOKEN --clients 8 --duration 20s`
//! runs N clients, each POSTing realistic, varied Chinese complaints to
//! `/api/v1/complaints` in a loop, one request at a time. Only `201 Created`
//! counts as a success. Requests started during the warm-up are not counted;
//! requests started in the measured window are, and the window ends when the
//! last of them has been answered. Latency covers every counted request.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{Value, json};

#[path = "../fake.rs"]
mod fake;
use fake::{Rng, complaint};

#[derive(Parser)]
#[command(
    name = "kesu-load",
    version,
    about = "Load generator for a running kesu server"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Register complaints through `POST /api/v1/complaints` as fast as the server allows.
    Register(RegisterArgs),
}

#[derive(clap::Args)]
struct RegisterArgs {
    /// Base URL of the kesu server.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// API token of a user who may take complaints in (e.g. an agent); see `kesu token create`.
    #[arg(long, env = "KESU_TOKEN", hide_env_values = true)]
    token: String,
    /// Concurrent clients, each with its own connection and one request in flight.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=4096))]
    clients: u32,
    /// Measured duration (e.g. 20s, 500ms, 2m, 1m30s).
    #[arg(long, default_value = "20s", value_parser = parse_duration)]
    duration: Duration,
    /// Unmeasured warm-up before the measured window (0s for none).
    #[arg(long, default_value = "3s", value_parser = parse_duration)]
    warmup: Duration,
    /// Per-request timeout.
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    timeout: Duration,
    /// Seed for the test data (default: random).
    #[arg(long)]
    seed: Option<u64>,
    /// Print one JSON object on stdout (the plain summary goes to stderr) and no progress bar.
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    kesu_notify::install_crypto_provider();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.command {
        Command::Register(args) => runtime.block_on(register(args)),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `20s`, `500ms`, `2m`, `1h`, `1m30s`, `1.5s`; a bare number is seconds.
fn parse_duration(raw: &str) -> Result<Duration, String> {
    let s = raw.trim();
    if s.is_empty() {
        return Err("empty duration".into());
    }
    if let Ok(secs) = s.parse::<f64>() {
        return Duration::try_from_secs_f64(secs).map_err(|e| format!("bad duration {raw:?}: {e}"));
    }
    let mut total = 0.0_f64;
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_len == 0 {
            return Err(format!("bad duration {raw:?} (use e.g. 20s, 500ms, 2m)"));
        }
        let value: f64 = rest[..num_len]
            .parse()
            .map_err(|_| format!("bad number in duration {raw:?}"))?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let factor = match &rest[..unit_len] {
            "ms" => 0.001,
            "s" | "sec" => 1.0,
            "m" | "min" => 60.0,
            "h" => 3600.0,
            other => {
                return Err(format!(
                    "unknown unit {other:?} in duration {raw:?} (use ms, s, m or h)"
                ));
            }
        };
        rest = &rest[unit_len..];
        total += value * factor;
    }
    Duration::try_from_secs_f64(total).map_err(|e| format!("bad duration {raw:?}: {e}"))
}

/// What one client saw in the measured window.
#[derive(Default)]
struct ClientStats {
    requests: u64,
    ok: u64,
    errors: BTreeMap<String, u64>,
    latencies_us: Vec<u64>,
    last_done: Option<Instant>,
}

/// Live counters for the progress bar.
#[derive(Default)]
struct Live {
    ok: AtomicU64,
    errors: AtomicU64,
}

async fn register(args: RegisterArgs) -> anyhow::Result<ExitCode> {
    let base = args.url.trim_end_matches('/').to_owned();
    if !(base.starts_with("http://") || base.starts_with("https://")) {
        bail!("--url must start with http:// (got {:?})", args.url);
    }
    let endpoint = format!("{base}/api/v1/complaints");
    preflight(&base, &args.token, args.timeout).await?;

    let seed = match args.seed {
        Some(s) => s,
        None => {
            let mut b = [0u8; 8];
            getrandom::fill(&mut b).map_err(|e| anyhow::anyhow!("no random numbers: {e}"))?;
            u64::from_le_bytes(b)
        }
    };

    let show_bar = !args.json && std::io::stderr().is_terminal();
    let total_ms = u64::try_from((args.warmup + args.duration).as_millis()).unwrap_or(u64::MAX);
    let bar = if show_bar {
        ProgressBar::with_draw_target(Some(total_ms), ProgressDrawTarget::stderr())
    } else {
        ProgressBar::hidden()
    };
    if let Ok(style) = ProgressStyle::with_template("{spinner} {elapsed:>4} [{wide_bar}] {msg}") {
        bar.set_style(style.progress_chars("=> "));
    }

    let live = Arc::new(Live::default());
    let start = Instant::now();
    let measure_from = start + args.warmup;
    let stop_at = measure_from + args.duration;

    let mut handles = Vec::new();
    for i in 0..args.clients {
        let client = reqwest::Client::builder()
            .no_proxy()
            .tcp_nodelay(true)
            .pool_max_idle_per_host(1)
            .timeout(args.timeout)
            .build()
            .context("cannot build the HTTP client")?;
        let rng = Rng::new(seed ^ u64::from(i).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let w = Worker {
            client,
            endpoint: endpoint.clone(),
            auth: format!("Bearer {}", args.token.trim()),
            rng,
            measure_from,
            stop_at,
            live: live.clone(),
        };
        handles.push(tokio::spawn(w.run()));
    }

    // Progress ticker.
    let ticker = {
        let bar = bar.clone();
        let live = live.clone();
        tokio::spawn(async move {
            let mut last = (Instant::now(), 0u64);
            loop {
                tokio::time::sleep(Duration::from_millis(250)).await;
                let now = Instant::now();
                bar.set_position(
                    u64::try_from(now.duration_since(start).as_millis()).unwrap_or(u64::MAX),
                );
                let ok = live.ok.load(Ordering::Relaxed);
                let err = live.errors.load(Ordering::Relaxed);
                let rate =
                    (ok - last.1) as f64 / now.duration_since(last.0).as_secs_f64().max(1e-3);
                last = (now, ok);
                let phase = if now < measure_from {
                    "warm-up"
                } else {
                    "measuring"
                };
                bar.set_message(format!("{phase}  ok {ok}  errors {err}  {rate:.0}/s"));
                if now >= stop_at {
                    break;
                }
            }
        })
    };

    let mut total = ClientStats::default();
    for h in handles {
        let s = h.await.context("a client task failed")?;
        total.requests += s.requests;
        total.ok += s.ok;
        for (k, v) in s.errors {
            *total.errors.entry(k).or_default() += v;
        }
        total.latencies_us.extend(s.latencies_us);
        total.last_done = total.last_done.max(s.last_done);
    }
    ticker.abort();
    bar.finish_and_clear();

    let window = total
        .last_done
        .map_or(args.duration, |t| t.saturating_duration_since(measure_from))
        .max(args.duration);
    let report = Report::new(&args, &base, seed, &mut total, window);
    if args.json {
        eprintln!("{}", report.plain());
        println!("{}", report.json());
    } else {
        println!("{}", report.plain());
    }
    Ok(if total.ok == 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Checks that the server answers and takes the token, with one clear line if not.
async fn preflight(base: &str, token: &str, timeout: Duration) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(timeout.min(Duration::from_secs(10)))
        .build()
        .context("cannot build the HTTP client")?;
    let health = format!("{base}/api/v1/health");
    match client.get(&health).send().await {
        Ok(r) if r.status().is_success() => {}
        Ok(r) => bail!("{health} answered {} — is the server healthy?", r.status()),
        Err(e) if e.is_connect() => bail!(
            "cannot connect to {base}: connection refused or unreachable (is `kesu serve` running there?)"
        ),
        Err(e) if e.is_timeout() => bail!("{health} did not answer within {timeout:?}"),
        Err(e) => bail!("cannot reach {health}: {e}"),
    }
    let probe = format!("{base}/api/v1/complaints?per_page=1");
    match client.get(&probe).bearer_auth(token.trim()).send().await {
        Ok(r) if r.status() == reqwest::StatusCode::UNAUTHORIZED => bail!(
            "the server refused the token (401); create one with `kesu token create --user NAME`"
        ),
        Ok(_) => Ok(()),
        Err(e) => bail!("cannot reach {probe}: {e}"),
    }
}

struct Worker {
    client: reqwest::Client,
    endpoint: String,
    auth: String,
    rng: Rng,
    measure_from: Instant,
    stop_at: Instant,
    live: Arc<Live>,
}

impl Worker {
    async fn run(mut self) -> ClientStats {
        let mut stats = ClientStats::default();
        loop {
            let body = complaint(&mut self.rng);
            let sent = Instant::now();
            if sent >= self.stop_at {
                break;
            }
            let outcome = self.post(body).await;
            let done = Instant::now();
            let failed_to_connect = matches!(&outcome, Err(k) if k == "connect");
            match &outcome {
                Ok(()) => self.live.ok.fetch_add(1, Ordering::Relaxed),
                Err(_) => self.live.errors.fetch_add(1, Ordering::Relaxed),
            };
            if sent >= self.measure_from {
                stats.requests += 1;
                stats
                    .latencies_us
                    .push(u64::try_from(done.duration_since(sent).as_micros()).unwrap_or(u64::MAX));
                stats.last_done = Some(done);
                match outcome {
                    Ok(()) => stats.ok += 1,
                    Err(kind) => *stats.errors.entry(kind).or_default() += 1,
                }
            }
            if failed_to_connect {
                // The server went away: do not spin.
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        stats
    }

    /// `Ok` for 201; otherwise the status code or the kind of transport failure.
    async fn post(&self, body: Value) -> Result<(), String> {
        let res = self
            .client
            .post(&self.endpoint)
            .header(reqwest::header::AUTHORIZATION, &self.auth)
            .json(&body)
            .send()
            .await
            .map_err(|e| transport_kind(&e))?;
        let status = res.status();
        // Read the whole answer: the request is done when the body is.
        res.bytes().await.map_err(|e| transport_kind(&e))?;
        if status == reqwest::StatusCode::CREATED {
            Ok(())
        } else {
            Err(status.as_u16().to_string())
        }
    }
}

fn transport_kind(e: &reqwest::Error) -> String {
    if e.is_connect() {
        "connect"
    } else if e.is_timeout() {
        "timeout"
    } else if e.is_body() || e.is_decode() {
        "body"
    } else {
        "transport"
    }
    .to_owned()
}

struct Report {
    base: String,
    clients: u32,
    warmup_s: f64,
    seed: u64,
    requests: u64,
    ok: u64,
    errors: BTreeMap<String, u64>,
    duration_s: f64,
    throughput: f64,
    p50: f64,
    p90: f64,
    p99: f64,
    max: f64,
}

impl Report {
    fn new(
        args: &RegisterArgs,
        base: &str,
        seed: u64,
        total: &mut ClientStats,
        window: Duration,
    ) -> Report {
        total.latencies_us.sort_unstable();
        let l = &total.latencies_us;
        let duration_s = window.as_secs_f64();
        Report {
            base: base.to_owned(),
            clients: args.clients,
            warmup_s: args.warmup.as_secs_f64(),
            seed,
            requests: total.requests,
            ok: total.ok,
            errors: total.errors.clone(),
            duration_s,
            throughput: if duration_s > 0.0 {
                total.ok as f64 / duration_s
            } else {
                0.0
            },
            p50: percentile_ms(l, 50.0),
            p90: percentile_ms(l, 90.0),
            p99: percentile_ms(l, 99.0),
            max: l.last().map_or(0.0, |&us| us as f64 / 1000.0),
        }
    }

    fn plain(&self) -> String {
        let errors: u64 = self.errors.values().sum();
        let detail = if self.errors.is_empty() {
            String::new()
        } else {
            format!(
                "  ({})",
                self.errors
                    .iter()
                    .map(|(k, v)| format!("{k}: {v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        format!(
            "kesu-load register: {} clients, {:.1} s measured after {:.1} s warm-up, against {}\n\
             requests     {}\n\
             ok (201)     {}\n\
             errors       {errors}{detail}\n\
             throughput   {:.1} registrations/s\n\
             latency ms   p50 {:.2}   p90 {:.2}   p99 {:.2}   max {:.2}",
            self.clients,
            self.duration_s,
            self.warmup_s,
            self.base,
            self.requests,
            self.ok,
            self.throughput,
            self.p50,
            self.p90,
            self.p99,
            self.max
        )
    }

    fn json(&self) -> Value {
        json!({
            "requests": self.requests,
            "ok": self.ok,
            "errors": self.errors,
            "duration_s": round(self.duration_s, 3),
            "throughput_per_s": round(self.throughput, 1),
            "latency_ms": { "p50": round(self.p50, 2), "p90": round(self.p90, 2), "p99": round(self.p99, 2), "max": round(self.max, 2) },
            "clients": self.clients,
            "warmup_s": round(self.warmup_s, 3),
            "seed": self.seed,
        })
    }
}

/// Nearest-rank percentile of sorted microseconds, in milliseconds.
fn percentile_ms(sorted_us: &[u64], p: f64) -> f64 {
    if sorted_us.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted_us.len() as f64).ceil() as usize;
    sorted_us[rank.clamp(1, sorted_us.len()) - 1] as f64 / 1000.0
}

fn round(x: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (x * f).round() / f
}

// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("20s"), Ok(Duration::from_secs(20)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
        assert!(parse_duration("20x").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("s").is_err());
    }

    #[test]
    fn percentiles_use_nearest_rank() {
        let v: Vec<u64> = (1..=100).map(|i| i * 1000).collect();
        assert!((percentile_ms(&v, 50.0) - 50.0).abs() < 1e-9);
        assert!((percentile_ms(&v, 99.0) - 99.0).abs() < 1e-9);
        assert!((percentile_ms(&[], 99.0)).abs() < 1e-9);
    }
}
