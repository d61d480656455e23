//! Subcommands (SPEC "Interfaces"): serve, migrate, user add, token create.

use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use kesu_domain::{DepartmentId, Role};
use kesu_storage::Db;
use kesu_storage::org::NewUser;
use kesu_web::{AppState, SystemClock, WebConfig};

use crate::classify_cmd::ClassifyCommand;

#[derive(Parser)]
#[command(name = "kesu", version, about = "kesu 客诉 — customer-complaint desk")]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args)]
pub struct Global {
    /// Where kesu keeps its SQLite database.
    #[arg(
        long,
        global = true,
        env = "KESU_DATA_DIR",
        default_value = "./kesu-data"
    )]
    pub data_dir: PathBuf,
    /// Database URL (`postgres://…`); default: the SQLite file in the data directory.
    #[arg(long, global = true, env = "KESU_DATABASE_URL")]
    pub database: Option<String>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the web desk and the API.
    Serve {
        /// Address to listen on.
        #[arg(long, env = "KESU_LISTEN", default_value = "127.0.0.1:8080")]
        listen: String,
        /// Behind a reverse proxy that overwrites it: the header carrying the
        /// client's address (e.g. x-real-ip), which the portal's limits count by.
        #[arg(long, env = "KESU_CLIENT_IP_HEADER")]
        client_ip_header: Option<String>,
    },
    /// Create or update the database schema.
    Migrate,
    /// File one e-mail read from standard input (for an MTA pipe, e.g.
    /// Postfix `kesu unix - n n - - pipe … argv=kesu mail-in`). Prints one
    /// line: what the mail became and the complaint number. Exit 0 when
    /// filed (or filed before), 65 (EX_DATAERR) for input that is not a
    /// mail kesu can file, 75 (EX_TEMPFAIL) when the database is
    /// unavailable, so the MTA keeps the mail and tries again.
    MailIn,
    /// Manage staff accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Keys of the website, the app and mini programs for the intake API.
    Integration {
        #[command(subcommand)]
        command: IntegrationCommand,
    },
    /// Industry templates: starting departments for a car dealer, a supermarket …
    Template {
        #[command(subcommand)]
        command: TemplateCommand,
    },
    /// The classification engine: evaluate, time, try (no database needed).
    Classify {
        #[command(subcommand)]
        command: ClassifyCommand,
    },
    /// Fill an empty desk with realistic generated complaints (benchmarks, demonstrations).
    Generate(crate::generate::GenerateArgs),
    /// Time kesu's work on the data that is there.
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
}

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Full-text search with a state filter: p50/p95/p99 of the first page.
    Search(crate::generate::BenchSearchArgs),
    /// The deadline sweep: a catch-up pass, then passes at the sweep interval.
    Sweep(crate::generate::BenchSweepArgs),
}

#[derive(Subcommand)]
pub enum TemplateCommand {
    /// Load a template (car_dealer, supermarket); adds only what is missing.
    Load { name: String },
    /// List the templates.
    List,
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create a user; prints a generated password unless --password-stdin.
    Add {
        username: String,
        /// agent, manager, gm, supervisor or admin (repeat or comma-separate).
        #[arg(long = "role", required = true, value_delimiter = ',')]
        roles: Vec<String>,
        /// Department code.
        #[arg(long)]
        department: Option<String>,
        /// Display name (default: the username).
        #[arg(long)]
        name: Option<String>,
        /// Read the password from standard input.
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Create an API token for a user; prints only the token.
    Create {
        #[arg(long)]
        user: String,
    },
}

#[derive(Subcommand)]
pub enum IntegrationCommand {
    /// Create an integration key (may only file complaints); prints only the key.
    Create {
        /// A name unique among the integrations (e.g. "官网").
        #[arg(long)]
        name: String,
        /// The channel its complaints carry: web, app or wechat (a mini program).
        #[arg(long)]
        channel: String,
    },
    /// List the integrations with their last use.
    List,
}

async fn open(global: &Global) -> anyhow::Result<Db> {
    let url = match &global.database {
        Some(u) => u.clone(),
        None => {
            std::fs::create_dir_all(&global.data_dir).with_context(|| {
                format!("cannot create data directory {}", global.data_dir.display())
            })?;
            kesu_storage::sqlite_url(&global.data_dir)
        }
    };
    let db = Db::connect(&url)
        .await
        .with_context(|| format!("cannot open database {}", redact(&url)))?;
    db.migrate().await.context("database migration failed")?;
    db.bootstrap(jiff::Timestamp::now())
        .await
        .context("database set-up failed")?;
    Ok(db)
}

/// A URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://…@{}", &url[..s], &url[at + 1..]),
        _ => url.to_owned(),
    }
}

fn random_password() -> anyhow::Result<String> {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no random numbers: {e}"))?;
    Ok(bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect())
}

/// A failure with its own exit status (sysexits.h), for callers such as
/// an MTA that read the status.
#[derive(Debug)]
pub struct Exit {
    pub code: u8,
    pub message: String,
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Exit {}

/// sysexits.h: the input data was incorrect.
const EX_DATAERR: u8 = 65;
/// sysexits.h: a temporary failure; the caller should try again later.
const EX_TEMPFAIL: u8 = 75;

async fn mail_in(global: &Global) -> anyhow::Result<()> {
    let max = kesu_web::mail::file::MAX_MESSAGE_BYTES;
    let mut raw = Vec::new();
    std::io::stdin()
        .lock()
        .take(u64::try_from(max).unwrap_or(u64::MAX) + 1)
        .read_to_end(&mut raw)
        .map_err(|e| Exit {
            code: EX_TEMPFAIL,
            message: format!("cannot read the mail from standard input: {e}"),
        })?;
    if raw.len() > max {
        return Err(Exit {
            code: EX_DATAERR,
            message: format!("the mail is larger than {} MiB", max / (1024 * 1024)),
        }
        .into());
    }
    let db = open(global).await.map_err(|e| Exit {
        code: EX_TEMPFAIL,
        message: format!("{e:#}"),
    })?;
    let state = AppState::new(db.clone(), Arc::new(SystemClock), WebConfig::default());
    if let Err(e) = kesu_web::learning::refresh(&state).await {
        tracing::warn!(error = %e, "loading the classification model failed; using the shipped one");
    }
    let filed = kesu_web::mail::file_mail(&state, &raw).await;
    db.close().await;
    let filed = filed.map_err(|e| {
        let code = match e {
            kesu_web::mail::FilingError::Unreadable(_) => EX_DATAERR,
            kesu_web::mail::FilingError::Unavailable(_) => EX_TEMPFAIL,
        };
        Exit {
            code,
            message: format!("mail not filed: {e}"),
        }
    })?;
    let mut line = format!(
        "{} {}",
        filed.outcome.as_str(),
        filed.number.as_deref().unwrap_or("-")
    );
    if let kesu_web::mail::Outcome::Duplicate(before) = &filed.outcome {
        line.push_str(&format!(" (filed before: {before})"));
    }
    if !filed.refused.is_empty() {
        line.push_str(&format!(" ({} attachment(s) refused)", filed.refused.len()));
    }
    println!("{line}");
    Ok(())
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::MailIn => mail_in(&cli.global).await,
        Command::Migrate => {
            let db = open(&cli.global).await?;
            println!("database is up to date ({})", db.backend());
            Ok(())
        }
        Command::Serve {
            listen,
            client_ip_header,
        } => serve(&cli.global, &listen, client_ip_header).await,
        Command::Classify { command } => crate::classify_cmd::run(command),
        Command::Generate(args) => {
            let db = open(&cli.global).await?;
            crate::generate::generate(&db, &args).await
        }
        Command::Bench {
            command: BenchCommand::Search(args),
        } => {
            let db = open(&cli.global).await?;
            crate::generate::bench_search(&db, &args).await
        }
        Command::Bench {
            command: BenchCommand::Sweep(args),
        } => {
            let db = open(&cli.global).await?;
            crate::generate::bench_sweep(&db, &args).await
        }
        Command::User {
            command:
                UserCommand::Add {
                    username,
                    roles,
                    department,
                    name,
                    password_stdin,
                },
        } => {
            let db = open(&cli.global).await?;
            let roles = roles
                .iter()
                .map(|r| {
                    r.trim().parse::<Role>().map_err(|_| {
                        anyhow::anyhow!(
                            "unknown role {r:?} (use agent, manager, gm, supervisor or admin)"
                        )
                    })
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            let department = match department {
                Some(code) => Some(DepartmentId(
                    db.department_by_code(&code)
                        .await?
                        .with_context(|| format!("no department with code {code:?}"))?
                        .id,
                )),
                None => None,
            };
            if roles.contains(&Role::Manager) && department.is_none() {
                bail!("a manager needs --department");
            }
            let (password, generated) = if password_stdin {
                let mut s = String::new();
                std::io::stdin()
                    .read_to_string(&mut s)
                    .context("cannot read the password from standard input")?;
                (s.trim_end_matches(['\n', '\r']).to_owned(), false)
            } else {
                (random_password()?, true)
            };
            if password.chars().count() < 8 {
                bail!("the password must have at least 8 characters");
            }
            let hash =
                kesu_web::auth::hash_password(&password).map_err(|e| anyhow::anyhow!("{e:?}"))?;
            let username = username.trim().to_ascii_lowercase();
            let display = name.unwrap_or_else(|| username.clone());
            let new = NewUser {
                username: &username,
                display_name: &display,
                password_hash: Some(&hash),
                roles: &roles,
                department_id: department,
            };
            match db.create_user(&new, jiff::Timestamp::now()).await {
                // A generated password is handed out: the user replaces it first.
                Ok(id) if generated => db.require_password_change(id).await?,
                Ok(_) => {}
                Err(kesu_storage::StorageError::Duplicate(_)) => {
                    bail!("user {username:?} already exists")
                }
                Err(e) => return Err(e.into()),
            }
            if generated {
                println!("created user {username}; password: {password}");
            } else {
                println!("created user {username}");
            }
            Ok(())
        }
        Command::Template {
            command: TemplateCommand::List,
        } => {
            for t in kesu_storage::templates::TEMPLATES {
                println!("{}\t{} / {}", t.code, t.name_zh, t.name_en);
            }
            Ok(())
        }
        Command::Template {
            command: TemplateCommand::Load { name },
        } => {
            if !kesu_storage::templates::TEMPLATES
                .iter()
                .any(|t| t.code == name)
            {
                let names: Vec<_> = kesu_storage::templates::TEMPLATES
                    .iter()
                    .map(|t| t.code)
                    .collect();
                bail!(
                    "unknown template {name:?} (available: {})",
                    names.join(", ")
                );
            }
            let db = open(&cli.global).await?;
            let added = db.load_template(&name, jiff::Timestamp::now()).await?;
            println!(
                "template {name} loaded: {} departments and {} sub-categories added",
                added.departments, added.subcategories
            );
            Ok(())
        }
        Command::Integration {
            command: IntegrationCommand::Create { name, channel },
        } => {
            let allowed = kesu_web::pages::integrations::INTEGRATION_CHANNELS;
            if !allowed.iter().any(|c| c.as_str() == channel.trim()) {
                let names: Vec<&str> = allowed.iter().map(|c| c.as_str()).collect();
                bail!("--channel must be one of {}", names.join(", "));
            }
            let (name, channel) =
                kesu_web::pages::integrations::parse_integration(Some(&name), Some(&channel))
                    .map_err(|e| anyhow::anyhow!("{}", e.describe(kesu_web::i18n::Lang::En).1))?;
            let db = open(&cli.global).await?;
            let (_, key) = match db
                .create_integration(&name, channel, None, jiff::Timestamp::now())
                .await
            {
                Err(kesu_storage::StorageError::Duplicate(_)) => {
                    bail!("an integration named {name:?} exists already")
                }
                other => other?,
            };
            println!("{key}");
            Ok(())
        }
        Command::Integration {
            command: IntegrationCommand::List,
        } => {
            let db = open(&cli.global).await?;
            for i in db.integrations().await? {
                let last = i
                    .last_used_at
                    .and_then(|t| jiff::Timestamp::from_millisecond(t).ok())
                    .map_or_else(|| "never used".to_owned(), |t| format!("last used {t}"));
                let revoked = if i.revoked_at.is_some() {
                    ", revoked"
                } else {
                    ""
                };
                println!("{}\t{}\t{last}{revoked}", i.name, i.channel);
            }
            Ok(())
        }
        Command::Token {
            command: TokenCommand::Create { user },
        } => {
            let db = open(&cli.global).await?;
            let u = db
                .user_by_username(&user.trim().to_ascii_lowercase())
                .await?
                .filter(|u| u.active)
                .with_context(|| format!("no active user {user:?}"))?;
            let token = db
                .create_api_token(kesu_domain::UserId(u.id), jiff::Timestamp::now())
                .await?;
            println!("{token}");
            Ok(())
        }
    }
}

async fn serve(
    global: &Global,
    listen: &str,
    client_ip_header: Option<String>,
) -> anyhow::Result<()> {
    let db = open(global).await?;
    if db.user_count().await? == 0 {
        let password = random_password()?;
        let hash =
            kesu_web::auth::hash_password(&password).map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let new = NewUser {
            username: "admin",
            display_name: "管理员",
            password_hash: Some(&hash),
            roles: &[Role::Admin],
            department_id: None,
        };
        let id = db.create_user(&new, jiff::Timestamp::now()).await?;
        db.require_password_change(id).await?;
        println!("first start: created the admin account");
        println!("  username: admin");
        println!(
            "  password: {password}   (shown once: log in and change it under the account page)"
        );
    }
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    println!(
        "kesu is running at http://{addr}/  (database: {})",
        db.backend()
    );
    let config = WebConfig {
        client_ip_header: client_ip_header
            .map(|h| h.trim().to_ascii_lowercase())
            .filter(|h| !h.is_empty()),
        ..WebConfig::default()
    };
    let state = AppState::new(db.clone(), Arc::new(SystemClock), config);
    let sweeper = tokio::spawn(sweep_sessions(db.clone()));
    let indexer = tokio::spawn(index_unindexed(db.clone()));
    let periodic = tokio::spawn(periodic_work(state.clone(), sweep_every()));
    let mailbox = tokio::spawn(poll_mailbox(state.clone(), mail_poll_every()));
    // Train the shipped classification model now, not on the first registration.
    tokio::task::spawn_blocking(|| {
        kesu_classify::Engine::shipped();
    });
    kesu_web::serve(listener, state)
        .await
        .context("server failed")?;
    sweeper.abort();
    indexer.abort();
    periodic.abort();
    mailbox.abort();
    db.close().await;
    Ok(())
}

/// An interval in seconds from the environment variable `name`, within
/// `1..=max`, else `default`.
fn seconds_from_env(name: &str, default: u64, max: u64) -> std::time::Duration {
    let secs = std::env::var(name)
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .filter(|s| (1..=max).contains(s))
        .unwrap_or(default);
    std::time::Duration::from_secs(secs)
}

/// How often the deadline sweep runs: `KESU_SWEEP_SECONDS` (default 15).
fn sweep_every() -> std::time::Duration {
    seconds_from_env("KESU_SWEEP_SECONDS", 15, 3600)
}

/// At start and then every `every`: picks up a newly trained classification
/// model (and retrains every ten minutes when enough confirmations came in);
/// sweeps the deadlines — warnings, breaches, escalations (R-NT-2), so a
/// deadline that passed while kesu was down fires at start — queues the
/// customer messages of the events since the last pass, and sends what
/// that queued (e-mail, SMS, WeCom, DingTalk). Any number of nodes may run it:
/// each clock and each message is claimed by one node.
async fn periodic_work(state: AppState, every: std::time::Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_training_check = None::<std::time::Instant>;
    loop {
        tick.tick().await;
        let now = jiff::Timestamp::now();
        // The desk's own classification model: retrained every 50 new
        // confirmations (checked every ten minutes), picked up by every node.
        if last_training_check.is_none_or(|t| t.elapsed() >= std::time::Duration::from_secs(600)) {
            last_training_check = Some(std::time::Instant::now());
            if let Err(e) =
                kesu_web::learning::retrain_if_due(&state, now, kesu_web::learning::RETRAIN_EVERY)
                    .await
            {
                tracing::warn!(error = %e, "retraining the classification model failed");
            }
        }
        if let Err(e) = kesu_web::learning::refresh(&state).await {
            tracing::warn!(error = %e, "loading the classification model failed");
        }
        match kesu_web::outbox::sweep(&state, now).await {
            Ok(r) if r.notices > 0 || r.breaches > 0 => tracing::info!(
                clocks = r.clocks,
                warnings = r.warnings,
                breaches = r.breaches,
                notices = r.notices,
                "deadline sweep"
            ),
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "deadline sweep failed; retrying at the next tick")
            }
        }
        // Customer messages (R-NT-1): the events since the last pass.
        match kesu_web::customer_messages::queue_pass(&state, now).await {
            Ok(r) if r.queued > 0 || r.started => {
                tracing::info!(queued = r.queued, started = r.started, "customer messages")
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = ?e, "queueing customer messages failed; retrying at the next tick")
            }
        }
        match kesu_web::outbox::deliver(&state, now).await {
            Ok(r) if r.sent + r.retrying + r.gave_up > 0 => tracing::info!(
                sent = r.sent,
                retrying = r.retrying,
                gave_up = r.gave_up,
                "notifications"
            ),
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "sending notifications failed; retrying at the next tick")
            }
        }
    }
}

/// How often the mailbox is polled: `KESU_MAIL_POLL_SECONDS` (default 60).
fn mail_poll_every() -> std::time::Duration {
    seconds_from_env("KESU_MAIL_POLL_SECONDS", 60, 86_400)
}

/// Polls the mailbox the admin set up, at start and then every `every`:
/// files each unseen mail, then marks it seen. Any number of nodes may
/// poll: a mail filed twice is filed once. Failures are logged and shown
/// on the admin page; they never stop the server.
async fn poll_mailbox(state: AppState, every: std::time::Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match kesu_web::mail::poll::poll_once(&state).await {
            Ok(Some(s)) if s.fetched > 0 => tracing::info!(
                fetched = s.fetched,
                filed = s.filed,
                unreadable = s.unreadable,
                "mailbox polled"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "polling the mailbox failed"),
        }
    }
}

/// Adds complaints registered before the search index existed (an upgraded
/// database) to it, a batch at a time, so that search soon finds them all.
/// Every node may run it: a complaint indexed twice gets the same row.
async fn index_unindexed(db: Db) {
    // Complaints are indexed as they are registered: once the older ones
    // are in, no start needs to look again (at a million complaints the
    // look is a scan).
    const DONE: &str = "search_backfilled";
    if matches!(db.setting(DONE).await, Ok(Some(_))) {
        return;
    }
    let mut total = 0;
    loop {
        match db.index_unindexed(500).await {
            Ok(0) => {
                if let Err(e) = db.set_setting(DONE, "1").await {
                    tracing::warn!(error = %e, "could not note the search backfill as done");
                }
                break;
            }
            Ok(n) => total += n,
            Err(e) => {
                tracing::warn!(error = %e, "search indexing failed; retrying in a minute");
                tokio::time::sleep(std::time::Duration::from_secs(60)).await;
            }
        }
    }
    if total > 0 {
        tracing::info!(
            complaints = total,
            "older complaints added to the search index"
        );
    }
}

/// Hourly housekeeping (any node may do it; it is idempotent): removes
/// expired sessions and the intake API's `Idempotency-Key`s past their
/// 24-hour window.
async fn sweep_sessions(db: Db) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        every.tick().await;
        let now = jiff::Timestamp::now();
        match db.delete_expired_sessions(now).await {
            Ok(n) if n > 0 => tracing::info!(sessions.removed = n, "expired sessions removed"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "session sweep failed"),
        }
        match db.forget_idempotency_keys(now).await {
            Ok(n) if n > 0 => tracing::info!(keys.removed = n, "expired idempotency keys removed"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "idempotency key sweep failed"),
        }
    }
}
