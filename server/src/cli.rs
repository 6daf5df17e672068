//! The command line (DESIGN §5): `serve` (the default), `migrate`, `demo`,
//! `invites create`, `letters create|replace|revoke`, `staff create`, `backup` and `export`. Flags also read `BERAAD_*` variables;
//! everything is checked before anything starts, with a message that says what to fix.

use std::io::{BufRead, IsTerminal, Write};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::domain::Role;
use crate::http::{self, AppState, HttpSettings};
use crate::service::clock::SystemClock;
use crate::service::export::{ExportFormat, Separator, write_invitations_csv};
use crate::service::invitations::IssuedBatch;
use crate::service::limits::LoginLimits;
use crate::service::panels::StaffGrant;
use crate::service::{AuditContext, Service, ServiceSettings};
use crate::store::{Store, is_postgres_url};

/// Beraad: a deliberation forum engine for resident panels.
#[derive(Parser, Debug)]
#[command(name = "beraad", version, args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Option<Command>,
    /// Options of `serve` when no command is given.
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Args, Debug, Clone)]
struct GlobalArgs {
    /// Database: a `sqlite://` path (default, created on first start) or a
    /// `postgres://` URL.
    #[arg(
        long,
        env = "BERAAD_DATABASE_URL",
        default_value = "sqlite://data/beraad.db",
        global = true
    )]
    database_url: String,
    /// Log format.
    #[arg(
        long,
        env = "BERAAD_LOG_FORMAT",
        value_enum,
        default_value = "text",
        global = true
    )]
    log_format: LogFormat,
}

/// How logs are written.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

#[derive(Subcommand, Debug)]
#[allow(
    clippy::large_enum_variant,
    reason = "parsed once at start-up; the server's settings are the large variant"
)]
enum Command {
    /// Run the server (the default).
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Seed demo data (two municipalities, eight cases) into an empty database.
    Demo,
    /// Invitations for panelists.
    Invites {
        #[command(subcommand)]
        command: InvitesCommand,
    },
    /// Invitation letters: a batch as a PDF to print, a new code for a lost one, revoking
    /// a code. Codes are written only to the files of the run that made them.
    Letters {
        #[command(subcommand)]
        command: LettersCommand,
    },
    /// Staff accounts.
    Staff {
        #[command(subcommand)]
        command: StaffCommand,
    },
    /// The draw of a case's panel from its pool.
    Draw {
        #[command(subcommand)]
        command: DrawCommand,
    },
    /// The replay list of erasures (residents who left the panel), for restores.
    Erasures {
        #[command(subcommand)]
        command: ErasuresCommand,
    },
    /// Ask the node on this machine whether it is ready (exit 0) or not (exit 1): a
    /// container health check for images without curl.
    Probe {
        /// The node's listen address (its BERAAD_BIND); 0.0.0.0 and :: mean this machine.
        #[arg(long, env = "BERAAD_BIND", default_value = "127.0.0.1:8080")]
        bind: String,
        /// The path to ask: `/readyz` (ready to serve) or `/healthz` (alive).
        #[arg(long, default_value = "/readyz")]
        path: String,
    },
    /// Copy the SQLite database, while it serves, to a new file (PostgreSQL: pg_dump).
    Backup {
        /// The file to write; it must not exist yet.
        file: std::path::PathBuf,
    },
    /// Export a case's thread to standard output.
    Export {
        /// Case id.
        #[arg(long = "case")]
        case_id: i64,
        /// `jsonl` or `csv`.
        #[arg(long, default_value = "jsonl")]
        format: String,
    },
}

#[derive(Subcommand, Debug)]
enum ErasuresCommand {
    /// Write every erasure (panelist id, when, what became of the posts) to standard
    /// output as JSON Lines, to keep apart from the database backups.
    Export,
    /// After restoring a backup: apply again every erasure of the list that the restored
    /// database does not hold yet.
    Replay {
        /// The list written by `erasures export`.
        #[arg(long)]
        file: std::path::PathBuf,
    },
}

#[derive(Subcommand, Debug)]
enum InvitesCommand {
    /// Create N panelists with fresh codes; CSV for the mail merge on standard output.
    Create {
        /// Panel slug.
        #[arg(long)]
        panel: String,
        /// How many.
        #[arg(long)]
        count: u32,
        /// Cell separator: `semicolon` (Dutch spreadsheet programs) or `comma`.
        #[arg(long, default_value = "comma")]
        separator: String,
        /// The address people log in at, for the login columns (default: BERAAD_PUBLIC_URL,
        /// else http://localhost:8080).
        #[arg(long, env = "BERAAD_PUBLIC_URL")]
        public_url: Option<String>,
    },
}

/// Where a run's letters go.
#[derive(Args, Debug)]
struct LetterFiles {
    /// The letters as PDF (one A4 page each); the file must not exist yet.
    #[arg(long)]
    out: std::path::PathBuf,
    /// Also the sheet for the mail merge; the file must not exist yet.
    #[arg(long)]
    csv: Option<std::path::PathBuf>,
    /// Cell separator of the sheet: `semicolon` or `comma`.
    #[arg(long, default_value = "semicolon")]
    separator: String,
    /// The address people log in at, printed on the letters and in their QR codes.
    #[arg(long, env = "BERAAD_PUBLIC_URL")]
    public_url: Option<String>,
}

#[derive(Subcommand, Debug)]
enum LettersCommand {
    /// Make a batch of letters for a panel: N new panelists with codes, numbered.
    Create {
        /// Panel slug.
        #[arg(long)]
        panel: String,
        /// How many.
        #[arg(long)]
        count: u32,
        #[command(flatten)]
        files: LetterFiles,
    },
    /// Give the panelist of an invitation a new code (the old one stops working; posts
    /// and profile stay) and write its letter.
    Replace {
        /// Municipality slug.
        #[arg(long)]
        municipality: String,
        /// Invitation number, e.g. 2026-003-0142.
        #[arg(long)]
        number: String,
        #[command(flatten)]
        files: LetterFiles,
    },
    /// Revoke an invitation: its code logs nobody in any more.
    Revoke {
        /// Municipality slug.
        #[arg(long)]
        municipality: String,
        /// Invitation number, e.g. 2026-003-0142.
        #[arg(long)]
        number: String,
    },
}

#[derive(Subcommand, Debug)]
enum DrawCommand {
    /// Draw the panel of a case that has not opened yet; prints the report as JSON.
    Make {
        /// Case id.
        #[arg(long = "case")]
        case_id: i64,
        /// Seats.
        #[arg(long)]
        size: u32,
        /// The seed recorded and announced beforehand.
        #[arg(long)]
        seed: String,
        /// Seats a value may be off its target either way.
        #[arg(long, default_value_t = 2)]
        tolerance: u32,
        /// Balance on a feature with the municipality's population figures
        /// (`age_band`, `district`, `wmo_experience`); repeatable.
        #[arg(long)]
        balance: Vec<String>,
        /// A JSON file with targets: `[{"feature":"age_band","shares":{"18-34":0.25,…}},…]`.
        #[arg(long)]
        targets: Option<std::path::PathBuf>,
    },
    /// Print a case's draw report as JSON.
    Show {
        /// Case id.
        #[arg(long = "case")]
        case_id: i64,
    },
    /// Redo a case's draw from its stored inputs; exits with 1 when it differs.
    Verify {
        /// Case id.
        #[arg(long = "case")]
        case_id: i64,
    },
    /// Replace drawn panelists who never logged in within DAYS of being drawn.
    TopUp {
        /// Case id.
        #[arg(long = "case")]
        case_id: i64,
        /// Days.
        #[arg(long)]
        days: u32,
    },
}

#[derive(Subcommand, Debug)]
enum StaffCommand {
    /// Create a staff account (or add a role to one that works in the municipality; an
    /// account elsewhere is invited and must accept with the printed code). The password
    /// of a new account comes from BERAAD_STAFF_PASSWORD or standard input, never from
    /// a flag.
    Create {
        /// Municipality slug.
        #[arg(long)]
        municipality: String,
        /// E-mail address (the login).
        #[arg(long)]
        email: String,
        /// Role in that municipality.
        #[arg(long, value_parser = ["admin", "moderator", "analyst"])]
        role: String,
        /// Display name (defaults to the e-mail address).
        #[arg(long, default_value = "")]
        name: String,
    },
}

/// Options of the server.
#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "BERAAD_BIND", default_value = "127.0.0.1:8080")]
    bind: String,
    /// The address people use to reach this server, e.g. https://beraad.example.nl
    /// (default: http://<bind>).
    #[arg(long, env = "BERAAD_PUBLIC_URL")]
    public_url: Option<String>,
    /// Further origins allowed to write and open WebSockets (comma separated).
    #[arg(long, env = "BERAAD_ALLOWED_ORIGINS", value_delimiter = ',')]
    allowed_origins: Vec<String>,
    /// Redis for several nodes: pub/sub between them (e.g. redis://127.0.0.1:6379).
    #[arg(long, env = "BERAAD_REDIS_URL")]
    redis_url: Option<String>,
    /// Milliseconds between sweeps of the case logs' heads, which deliver what a lost
    /// Redis message missed (100 to 600000).
    #[arg(long, env = "BERAAD_SWEEP_INTERVAL_MS", default_value_t = 1000)]
    sweep_interval_ms: u64,
    /// Seed demo data first if the database is empty.
    #[arg(long, env = "BERAAD_DEMO")]
    demo: bool,
    /// Reverse proxies whose X-Forwarded-For is believed, as addresses or networks
    /// (comma separated, e.g. `127.0.0.1,::1` for a proxy on this machine). The client
    /// is the rightmost forwarded address that is not one of them; requests from any
    /// other peer are taken as they come.
    #[arg(long, env = "BERAAD_TRUSTED_PROXIES", default_value = "")]
    trusted_proxies: String,
    /// Replaced by BERAAD_TRUSTED_PROXIES: `true` is refused at start.
    #[arg(long, env = "BERAAD_TRUST_PROXY", hide = true)]
    trust_proxy: bool,
    /// Hours a session lives without use.
    #[arg(long, env = "BERAAD_SESSION_TTL_HOURS", default_value_t = 12)]
    session_ttl_hours: u32,
    /// Largest number of database connections.
    #[arg(long, env = "BERAAD_DB_MAX_CONNECTIONS", default_value_t = 16)]
    db_max_connections: u32,
    #[command(flatten)]
    limits: LimitArgs,
    /// Login attempts allowed per minute from one address.
    #[arg(long, env = "BERAAD_LOGIN_PER_IP_PER_MINUTE", default_value_t = 10)]
    login_per_ip_per_minute: u32,
    /// Rates per panelist: `post=10/3,reply=5/5,weighing=1/30,flag=30/5` (seconds per
    /// action / burst); actions not named keep these defaults.
    #[arg(long, env = "BERAAD_RATE_LIMITS", default_value = "")]
    rate_limits: String,
    /// Login attempts allowed per second from everyone together.
    #[arg(long, env = "BERAAD_LOGIN_GLOBAL_PER_SECOND", default_value_t = 50)]
    login_global_per_second: u32,
    /// Bearer token for `/metrics` (`Authorization: Bearer TOKEN`); without one,
    /// `/metrics` answers 404.
    #[arg(long, env = "BERAAD_METRICS_TOKEN", hide_env_values = true)]
    metrics_token: Option<String>,
    /// The mail server for notifications: `smtp://host:port` (plain, for a relay on
    /// this machine), `smtp://host:587?tls=required` (STARTTLS) or
    /// `smtps://user:password@host` (TLS). Without it (and BERAAD_MAIL_FROM) the
    /// outbox is kept and nothing is sent.
    #[arg(long, env = "BERAAD_SMTP_URL", hide_env_values = true)]
    smtp_url: Option<String>,
    /// The sender of notifications, e.g. `Beraad <beraad@gemeente.nl>`.
    #[arg(long, env = "BERAAD_MAIL_FROM")]
    mail_from: Option<String>,
    /// How often the mail worker looks at the outbox, in milliseconds.
    #[arg(long, env = "BERAAD_MAIL_POLL_MS", default_value_t = 2000)]
    mail_poll_ms: u64,
    /// How long a node's claim on a message holds, in seconds: another node takes over
    /// a message claimed by a node that died once this has passed.
    #[arg(long, env = "BERAAD_MAIL_LEASE_SECS", default_value_t = 120)]
    mail_lease_secs: u32,
    /// A listen address of its own for `/metrics`, without a token (e.g. 0.0.0.0:9090 in
    /// a container, or a private interface): for Prometheus only, never for the public.
    #[arg(long, env = "BERAAD_METRICS_ADDR")]
    metrics_addr: Option<String>,
}

/// Caps and time-outs of the door (defaults: [`http::ServerLimits::default`]).
#[derive(Args, Debug, Clone)]
struct LimitArgs {
    /// Open connections in all (WebSockets included); keep it under the open-file limit.
    #[arg(long, env = "BERAAD_MAX_CONNECTIONS", default_value_t = http::ServerLimits::default().max_connections)]
    max_connections: usize,
    /// Open connections from one client address (IPv6: per /64); not applied to the
    /// proxies in BERAAD_TRUSTED_PROXIES, which carry many clients.
    #[arg(long, env = "BERAAD_MAX_CONNECTIONS_PER_ADDRESS", default_value_t = http::ServerLimits::default().max_connections_per_address)]
    max_connections_per_address: usize,
    /// Open WebSockets per session.
    #[arg(long, env = "BERAAD_SOCKETS_PER_SESSION", default_value_t = http::ServerLimits::default().sockets_per_session)]
    sockets_per_session: usize,
    /// Open WebSockets per client address.
    #[arg(long, env = "BERAAD_SOCKETS_PER_ADDRESS", default_value_t = http::ServerLimits::default().sockets_per_address)]
    sockets_per_address: usize,
    /// Topics one WebSocket may follow at once.
    #[arg(long, env = "BERAAD_TOPICS_PER_SOCKET", default_value_t = http::ServerLimits::default().topics_per_socket)]
    topics_per_socket: usize,
    /// Seconds a connection has to send a request's headers (also the keep-alive idle time).
    #[arg(long, env = "BERAAD_HEADER_READ_TIMEOUT_SECS", default_value_t = http::ServerLimits::default().header_read_timeout.as_secs())]
    header_read_timeout_secs: u64,
    /// Seconds from a request's headers to its answer.
    #[arg(long, env = "BERAAD_REQUEST_TIMEOUT_SECS", default_value_t = http::ServerLimits::default().request_timeout.as_secs())]
    request_timeout_secs: u64,
    /// Seconds a WebSocket write may take before the client counts as not keeping up.
    #[arg(long, env = "BERAAD_SOCKET_WRITE_TIMEOUT_SECS", default_value_t = http::ServerLimits::default().socket_write_timeout.as_secs())]
    socket_write_timeout_secs: u64,
    /// Seconds open requests get to finish after SIGTERM or Ctrl-C.
    #[arg(long, env = "BERAAD_SHUTDOWN_TIMEOUT_SECS", default_value_t = http::ServerLimits::default().shutdown_timeout.as_secs())]
    shutdown_timeout_secs: u64,
    /// Seconds after SIGTERM during which the node serves on while `/readyz` answers
    /// 503 and new WebSockets are refused, so that a balancer polling readiness moves
    /// away first; then it stops accepting and closes WebSockets with 1012 (0: at once).
    /// The process exits within this plus BERAAD_SHUTDOWN_TIMEOUT_SECS.
    #[arg(long, env = "BERAAD_DRAIN_DELAY_SECS", default_value_t = http::ServerLimits::default().drain_delay.as_secs())]
    drain_delay_secs: u64,
}

impl LimitArgs {
    /// The limits, each checked to be at least 1.
    fn limits(&self) -> anyhow::Result<http::ServerLimits> {
        let counts = [
            ("BERAAD_MAX_CONNECTIONS", self.max_connections),
            (
                "BERAAD_MAX_CONNECTIONS_PER_ADDRESS",
                self.max_connections_per_address,
            ),
            ("BERAAD_SOCKETS_PER_SESSION", self.sockets_per_session),
            ("BERAAD_SOCKETS_PER_ADDRESS", self.sockets_per_address),
            ("BERAAD_TOPICS_PER_SOCKET", self.topics_per_socket),
        ];
        let secs = [
            (
                "BERAAD_HEADER_READ_TIMEOUT_SECS",
                self.header_read_timeout_secs,
            ),
            ("BERAAD_REQUEST_TIMEOUT_SECS", self.request_timeout_secs),
            (
                "BERAAD_SOCKET_WRITE_TIMEOUT_SECS",
                self.socket_write_timeout_secs,
            ),
            ("BERAAD_SHUTDOWN_TIMEOUT_SECS", self.shutdown_timeout_secs),
        ];
        for (name, value) in counts.map(|(n, v)| (n, v as u64)).iter().chain(&secs) {
            if *value == 0 {
                bail!("{name} must be at least 1");
            }
        }
        if self.drain_delay_secs > 300 {
            bail!("BERAAD_DRAIN_DELAY_SECS must be at most 300");
        }
        Ok(http::ServerLimits {
            max_connections: self.max_connections,
            max_connections_per_address: self.max_connections_per_address,
            sockets_per_session: self.sockets_per_session,
            sockets_per_address: self.sockets_per_address,
            topics_per_socket: self.topics_per_socket,
            header_read_timeout: Duration::from_secs(self.header_read_timeout_secs),
            request_timeout: Duration::from_secs(self.request_timeout_secs),
            socket_write_timeout: Duration::from_secs(self.socket_write_timeout_secs),
            shutdown_timeout: Duration::from_secs(self.shutdown_timeout_secs),
            drain_delay: Duration::from_secs(self.drain_delay_secs),
        })
    }
}

/// Warns when `max_connections` could run the process out of file descriptors (Linux:
/// the soft limit in `/proc/self/limits`), which would make accepting fail for everyone.
fn check_open_files(max_connections: usize) {
    let Ok(limits) = std::fs::read_to_string("/proc/self/limits") else {
        return;
    };
    let soft = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|v| v.parse::<usize>().ok());
    // The database pool, the listener, logs and Redis need a few more.
    if let Some(soft) = soft
        && max_connections + 256 > soft
    {
        tracing::warn!(
            max_connections,
            open_files_limit = soft,
            "BERAAD_MAX_CONNECTIONS is close to or above the open-file limit; raise the \
             limit (LimitNOFILE) or lower BERAAD_MAX_CONNECTIONS"
        );
    }
}

fn check_database_url(url: &str) -> anyhow::Result<()> {
    if is_postgres_url(url) || url.starts_with("sqlite:") {
        Ok(())
    } else {
        bail!(
            "BERAAD_DATABASE_URL / --database-url must start with sqlite:// or postgres://, got '{}'",
            url.split('@').next_back().unwrap_or_default()
        )
    }
}

/// Origin (`scheme://host[:port]`) of a URL.
fn origin_of(url: &str) -> anyhow::Result<String> {
    let (scheme, rest) = url
        .split_once("://")
        .filter(|(s, _)| *s == "http" || *s == "https")
        .with_context(|| format!("'{url}' is not an http:// or https:// address"))?;
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty() {
        bail!("'{url}' has no host");
    }
    Ok(format!("{scheme}://{host}"))
}

fn init_tracing(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new("info,sqlx=warn,sea_orm=warn,sea_orm_migration=warn")
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

async fn open_store(url: &str, max_connections: u32) -> anyhow::Result<Store> {
    check_database_url(url)?;
    let store = Store::connect(url, max_connections)
        .await
        .with_context(|| "cannot open the database (check BERAAD_DATABASE_URL)")?;
    let ran = store.migrate().await.context("database migration failed")?;
    if ran > 0 {
        tracing::info!(migrations = ran, "database migrated");
    }
    Ok(store)
}

/// Parses the command line and runs the command.
pub async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_tracing(cli.global.log_format);
    let db_url = cli.global.database_url.clone();
    match cli.command {
        None => serve(&db_url, cli.serve).await,
        Some(Command::Serve(args)) => serve(&db_url, args).await,
        Some(Command::Migrate) => {
            let store = open_store(&db_url, 2).await?;
            store.close().await?;
            println!("Database is up to date.");
            Ok(())
        }
        Some(Command::Backup { file }) => backup(&db_url, &file).await,
        Some(Command::Probe { bind, path }) => probe(&bind, &path).await,
        Some(Command::Demo) => {
            let store = open_store(&db_url, 4).await?;
            let summary = crate::demo::seed(&store).await?;
            match summary {
                Some(s) => print!("{}", s.render(None)),
                None => println!("The database already holds data; demo not seeded."),
            }
            store.close().await?;
            Ok(())
        }
        Some(Command::Invites {
            command:
                InvitesCommand::Create {
                    panel,
                    count,
                    separator,
                    public_url,
                },
        }) => {
            let separator =
                Separator::parse(&separator).context("--separator must be semicolon or comma")?;
            let public_url = match public_url {
                Some(url) => origin_of(&url).context("BERAAD_PUBLIC_URL / --public-url")?,
                None => "http://localhost:8080".to_owned(),
            };
            let service = cli_service(&db_url).await?;
            let invitations = service
                .create_invites(&panel, count, &AuditContext::cli())
                .await?;
            // The same sheet as the staff page's download: no cell runs as a formula.
            write_invitations_csv(
                &invitations,
                &public_url,
                separator,
                std::io::stdout().lock(),
            )?
            .flush()?;
            eprintln!(
                "{} invitations created for panel '{panel}'.",
                invitations.len()
            );
            Ok(())
        }
        Some(Command::Letters { command }) => letters(&db_url, command).await,
        Some(Command::Staff {
            command:
                StaffCommand::Create {
                    municipality,
                    email,
                    role,
                    name,
                },
        }) => {
            let role = Role::parse(&role).context("role must be admin, moderator or analyst")?;
            let password = read_password()?;
            let service = cli_service(&db_url).await?;
            let grant = service
                .create_staff(
                    &municipality,
                    &email,
                    &name,
                    role,
                    &password,
                    &AuditContext::cli(),
                )
                .await?;
            match grant {
                StaffGrant::Created(staff) => println!(
                    "Staff account {} ({}) created with role {role} in '{municipality}'.",
                    staff.email, staff.id
                ),
                StaffGrant::Granted(staff) => println!(
                    "Staff account {} ({}) already worked in '{municipality}' and now also has \
                     role {role}; its password is unchanged.",
                    staff.email, staff.id
                ),
                StaffGrant::Invited {
                    email,
                    code,
                    expires_at,
                } => println!(
                    "{email} already has an account, which does not work in '{municipality}'. \
                     Nothing was granted and its password is unchanged. The role {role} takes \
                     effect once its holder, logged in with a password of their own, accepts \
                     it at /uitnodigingen with this code (valid until {}): {code}\n\
                     Give the code to the person yourself.",
                    expires_at.format("%Y-%m-%d %H:%M UTC")
                ),
            }
            Ok(())
        }
        Some(Command::Draw { command }) => draw(&db_url, command).await,
        Some(Command::Erasures { command }) => erasures(&db_url, command).await,
        Some(Command::Export { case_id, format }) => {
            let format = ExportFormat::parse(&format).context("--format must be jsonl or csv")?;
            let service = cli_service(&db_url).await?;
            let mut out = std::io::BufWriter::new(std::io::stdout());
            let n = service
                .export_case(None, case_id, format, &AuditContext::cli(), &mut out)
                .await?;
            out.flush()?;
            eprintln!("{n} posts exported.");
            Ok(())
        }
    }
}

async fn erasures(db_url: &str, command: ErasuresCommand) -> anyhow::Result<()> {
    use crate::service::privacy::Erasure;
    let service = cli_service(db_url).await?;
    match command {
        ErasuresCommand::Export => {
            let mut out = std::io::BufWriter::new(std::io::stdout());
            let list = service.erasures().await?;
            for e in &list {
                writeln!(out, "{}", serde_json::to_string(e)?)?;
            }
            out.flush()?;
            eprintln!("{} erasures written.", list.len());
        }
        ErasuresCommand::Replay { file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let list = text
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(serde_json::from_str::<Erasure>)
                .collect::<Result<Vec<_>, _>>()
                .with_context(|| format!("{} is not a list of erasures", file.display()))?;
            let n = service.replay_erasures(&list, &AuditContext::cli()).await?;
            println!(
                "{n} of {} erasures applied again; the others were already in the database.",
                list.len()
            );
        }
    }
    Ok(())
}

async fn draw(db_url: &str, command: DrawCommand) -> anyhow::Result<()> {
    use crate::service::draws::{DrawFeature, DrawRequest, FeatureTargets};
    let service = cli_service(db_url).await?;
    let ctx = AuditContext::cli();
    match command {
        DrawCommand::Make {
            case_id,
            size,
            seed,
            tolerance,
            balance,
            targets,
        } => {
            let mut features: Vec<FeatureTargets> = match targets {
                Some(path) => serde_json::from_slice(&std::fs::read(&path)?)
                    .with_context(|| format!("{} is not a list of targets", path.display()))?,
                None => Vec::new(),
            };
            for name in balance {
                let feature = DrawFeature::parse(&name).with_context(|| {
                    format!("--balance takes age_band, district or wmo_experience, not '{name}'")
                })?;
                features.push(FeatureTargets {
                    feature,
                    shares: Default::default(),
                });
            }
            let request = DrawRequest {
                size,
                seed,
                tolerance,
                features,
            };
            let report = service.make_draw(None, case_id, request, &ctx).await?;
            print_json(&report)?;
            eprintln!(
                "{} of {} pool members drawn; smallest chance {:.4}.",
                report.seated, report.pool, report.min_probability
            );
        }
        DrawCommand::Show { case_id } => print_json(&service.draw_report(None, case_id).await?)?,
        DrawCommand::Verify { case_id } => {
            let check = service.verify_draw(None, case_id).await?;
            print_json(&check)?;
            if !(check.inputs_match && check.selection_matches) {
                bail!("the draw does not come out the same from its stored inputs");
            }
        }
        DrawCommand::TopUp { case_id, days } => {
            let result = service.top_up_draw(None, case_id, days, &ctx).await?;
            print_json(&result)?;
        }
    }
    Ok(())
}

/// Prints a report as pretty JSON on standard output.
fn print_json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// Runs `beraad letters …`.
async fn letters(db_url: &str, command: LettersCommand) -> anyhow::Result<()> {
    let service = cli_service(db_url).await?;
    let ctx = AuditContext::cli();
    let (batch, files) = match command {
        LettersCommand::Create {
            panel,
            count,
            files,
        } => {
            files.check()?;
            if !(1..=10_000).contains(&count) {
                bail!("--count must lie between 1 and 10000");
            }
            let codes: Vec<String> = (0..count)
                .map(|_| crate::domain::secrets::new_invite_code())
                .collect();
            let batch = service
                .create_batch_with_codes(&panel, &codes, &ctx)
                .await?;
            (batch, files)
        }
        LettersCommand::Replace {
            municipality,
            number,
            files,
        } => {
            files.check()?;
            let batch = service
                .replace_invitation_unchecked(&municipality, &number, &ctx)
                .await?;
            (batch, files)
        }
        LettersCommand::Revoke {
            municipality,
            number,
        } => {
            let view = service
                .revoke_invitation_unchecked(&municipality, &number, &ctx)
                .await?;
            println!(
                "Invitation {} is revoked; its code logs nobody in any more.",
                view.number
            );
            return Ok(());
        }
    };
    files.write(&batch)?;
    let first = batch.invitations.first().map(|i| i.number.as_str());
    let last = batch.invitations.last().map(|i| i.number.as_str());
    println!(
        "Batch {}: {} letters ({} to {}) written to {}.",
        batch.number,
        batch.invitations.len(),
        first.unwrap_or("-"),
        last.unwrap_or("-"),
        files.out.display()
    );
    Ok(())
}

impl LetterFiles {
    /// Everything that can be wrong before codes are made: the codes exist only in
    /// this run, so a run that could not write them must not make them.
    fn check(&self) -> anyhow::Result<()> {
        let Some(url) = &self.public_url else {
            bail!("set BERAAD_PUBLIC_URL or --public-url: the address printed on the letters");
        };
        origin_of(url).context("BERAAD_PUBLIC_URL / --public-url")?;
        Separator::parse(&self.separator).context("--separator must be semicolon or comma")?;
        for path in std::iter::once(&self.out).chain(self.csv.as_ref()) {
            if path.exists() {
                bail!("{} exists already; choose a new file", path.display());
            }
        }
        Ok(())
    }

    /// Writes the letters (and the sheet), readable by the owner only.
    fn write(&self, batch: &IssuedBatch) -> anyhow::Result<()> {
        let public_url = origin_of(self.public_url.as_deref().unwrap_or_default())?;
        let separator = Separator::parse(&self.separator).unwrap_or_default();
        write_private(
            &self.out,
            &crate::web::letters::batch_pdf(batch, &public_url),
        )?;
        if let Some(csv) = &self.csv {
            let sheet =
                write_invitations_csv(&batch.invitations, &public_url, separator, Vec::new())?;
            write_private(csv, &sheet)?;
        }
        Ok(())
    }
}

/// Writes a new file only its owner can read (it holds codes).
fn write_private(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(())
}

async fn cli_service(db_url: &str) -> anyhow::Result<Service> {
    let store = open_store(db_url, 2).await?;
    Ok(Service::new(
        store,
        Arc::new(SystemClock),
        ServiceSettings::default(),
    ))
}

fn read_password() -> anyhow::Result<String> {
    if let Ok(p) = std::env::var("BERAAD_STAFF_PASSWORD") {
        return Ok(p);
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("Password: ");
        std::io::stderr().flush()?;
    }
    let mut line = String::new();
    stdin.lock().read_line(&mut line)?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        bail!("no password given: set BERAAD_STAFF_PASSWORD or pass it on standard input");
    }
    Ok(password)
}

/// `beraad probe`: one HTTP/1.0 GET of `path` on the node listening at `bind`, within
/// two seconds; fine when the answer is 200.
async fn probe(bind: &str, path: &str) -> anyhow::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut addr: std::net::SocketAddr = bind
        .parse()
        .with_context(|| format!("BERAAD_BIND / --bind must be host:port, got '{bind}'"))?;
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr {
            std::net::SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            std::net::SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    if !path.starts_with('/') || path.chars().any(|c| c.is_whitespace() || c.is_control()) {
        bail!("--path must be a path such as /readyz");
    }
    let ask = async {
        let mut tcp = tokio::net::TcpStream::connect(addr).await?;
        tcp.write_all(format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").as_bytes())
            .await?;
        let mut answer = Vec::new();
        tcp.take(64 * 1024).read_to_end(&mut answer).await?;
        Ok::<_, std::io::Error>(answer)
    };
    let answer = tokio::time::timeout(Duration::from_secs(2), ask)
        .await
        .map_err(|_| anyhow::anyhow!("{addr}{path} did not answer within 2 seconds"))?
        .with_context(|| format!("cannot reach {addr}{path}"))?;
    let answer = String::from_utf8_lossy(&answer);
    let status = answer.lines().next().unwrap_or_default();
    if status.split_whitespace().nth(1) == Some("200") {
        println!("{path}: {status}");
        Ok(())
    } else {
        let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
        bail!("{path}: {status} {body}")
    }
}

/// `beraad backup FILE`: an online copy of a SQLite database; PostgreSQL is refused
/// with the way to do it there.
async fn backup(db_url: &str, file: &std::path::Path) -> anyhow::Result<()> {
    check_database_url(db_url)?;
    if is_postgres_url(db_url) {
        bail!(
            "beraad backup copies a SQLite database; for PostgreSQL use pg_dump, e.g. \
             pg_dump --format=custom --file=beraad.dump \"$BERAAD_DATABASE_URL\" \
             (restore with pg_restore; see docs/operations.md)"
        );
    }
    let source = crate::store::sqlite_file(db_url);
    if source.is_empty() || !std::path::Path::new(source).is_file() {
        bail!("there is no SQLite database at '{source}' (check BERAAD_DATABASE_URL)");
    }
    if file.exists() {
        bail!(
            "{} exists already; choose a new file name (a backup never overwrites)",
            file.display()
        );
    }
    // Neither migrate nor create anything: the copy is of the database as it is.
    let store = Store::connect(db_url, 1)
        .await
        .context("cannot open the database (check BERAAD_DATABASE_URL)")?;
    store
        .backup_into(file)
        .await
        .with_context(|| format!("backup to {} failed", file.display()))?;
    store.close().await?;
    let bytes = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
    println!("Backup written to {} ({bytes} bytes).", file.display());
    Ok(())
}

async fn serve(db_url: &str, args: ServeArgs) -> anyhow::Result<()> {
    let bind: std::net::SocketAddr = args.bind.parse().with_context(|| {
        format!(
            "BERAAD_BIND / --bind must be host:port, e.g. 127.0.0.1:8080, got '{}'",
            args.bind
        )
    })?;
    let public_url = args
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{bind}"));
    let mut allowed_origins = vec![origin_of(&public_url).context("BERAAD_PUBLIC_URL")?];
    if args.public_url.is_none() && bind.ip().is_loopback() {
        allowed_origins.push(format!("http://localhost:{}", bind.port()));
    }
    for o in &args.allowed_origins {
        allowed_origins.push(origin_of(o.trim()).context("BERAAD_ALLOWED_ORIGINS")?);
    }
    let limits = args.limits.limits()?;
    if args.trust_proxy {
        bail!(
            "BERAAD_TRUST_PROXY is replaced by BERAAD_TRUSTED_PROXIES, the addresses of the \
             proxies whose X-Forwarded-For is believed, e.g. BERAAD_TRUSTED_PROXIES=127.0.0.1,::1 \
             for a proxy on this machine; remove BERAAD_TRUST_PROXY"
        );
    }
    let trusted_proxies = http::extract::TrustedProxies::parse(&args.trusted_proxies)
        .map_err(|e| anyhow::anyhow!("BERAAD_TRUSTED_PROXIES / --trusted-proxies: {e}"))?;
    if args.session_ttl_hours == 0 {
        bail!("BERAAD_SESSION_TTL_HOURS must be at least 1");
    }
    if args
        .metrics_token
        .as_deref()
        .is_some_and(|t| t.trim().is_empty())
    {
        bail!(
            "BERAAD_METRICS_TOKEN / --metrics-token must not be empty (leave it unset to close /metrics)"
        );
    }
    let metrics_addr: Option<std::net::SocketAddr> = args
        .metrics_addr
        .as_deref()
        .map(|a| {
            a.parse().with_context(|| {
                format!("BERAAD_METRICS_ADDR / --metrics-addr must be host:port, e.g. 127.0.0.1:9090, got '{a}'")
            })
        })
        .transpose()?;
    if metrics_addr == Some(bind) {
        bail!("BERAAD_METRICS_ADDR must differ from BERAAD_BIND");
    }
    let rate_limits = crate::service::ratelimit::RateLimits::parse(&args.rate_limits)
        .map_err(|e| anyhow::anyhow!("BERAAD_RATE_LIMITS / --rate-limits: {e}"))?;
    let mailer = match (&args.smtp_url, &args.mail_from) {
        (Some(url), Some(from)) if !url.trim().is_empty() && !from.trim().is_empty() => {
            let mut s = crate::mail::MailSettings::new(url.trim(), from.trim(), &public_url);
            if !(100..=600_000).contains(&args.mail_poll_ms) {
                bail!("BERAAD_MAIL_POLL_MS must lie between 100 and 600000");
            }
            s.poll = Duration::from_millis(args.mail_poll_ms);
            if !(1..=3600).contains(&args.mail_lease_secs) {
                bail!("BERAAD_MAIL_LEASE_SECS must lie between 1 and 3600");
            }
            s.lease = chrono::Duration::seconds(i64::from(args.mail_lease_secs));
            Some(crate::mail::Mailer::new(s)?)
        }
        (None, None) => None,
        _ => {
            bail!("set both BERAAD_SMTP_URL and BERAAD_MAIL_FROM to send notifications, or neither")
        }
    };
    let store = open_store(db_url, args.db_max_connections.max(2)).await?;
    let demo = if args.demo {
        crate::demo::seed(&store).await?
    } else {
        None
    };
    let settings = ServiceSettings {
        session_ttl: chrono::Duration::hours(i64::from(args.session_ttl_hours)),
        login_limits: LoginLimits {
            per_ip_per_minute: args.login_per_ip_per_minute,
            global_per_second: args.login_global_per_second,
            ..LoginLimits::default()
        },
        rate_limits,
    };
    let mut service = Service::new(store.clone(), Arc::new(SystemClock), settings);
    if let Some(url) = &args.redis_url {
        // With several nodes the per-panelist limits hold across all of them.
        let limiter = crate::service::ratelimit::RedisLimiter::new(url, rate_limits)?;
        service.set_action_limiter(Arc::new(limiter));
    }
    let service = Arc::new(service);
    if !(100..=600_000).contains(&args.sweep_interval_ms) {
        bail!("BERAAD_SWEEP_INTERVAL_MS must lie between 100 and 600000");
    }
    let hub_settings = crate::realtime::HubSettings {
        sweep_interval: Duration::from_millis(args.sweep_interval_ms),
        ..Default::default()
    };
    let (hub, redis) =
        crate::realtime::start_with(service.clone(), args.redis_url.as_deref(), hub_settings)?;
    let state = AppState {
        hub: Some(hub),
        redis,
        service: service.clone(),
        settings: Arc::new(HttpSettings {
            limits,
            allowed_origins,
            secure_cookies: public_url.starts_with("https://"),
            trusted_proxies,
            hsts: public_url.starts_with("https://"),
            metrics_token: args.metrics_token.clone(),
        }),
    };
    let metrics_listener = match metrics_addr {
        Some(addr) => Some(
            tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen on {addr} (BERAAD_METRICS_ADDR)"))?,
        ),
        None => None,
    };
    let server = http::Server::bind(&bind.to_string(), state.clone())
        .await
        .with_context(|| format!("cannot listen on {bind}"))?;
    let metrics_task = metrics_listener.map(|l| http::spawn_metrics_listener(l, state.clone()));
    let pool_probe = http::spawn_pool_probe(service.clone());
    check_open_files(limits.max_connections);
    let mail_worker = match mailer {
        Some(m) => Some(crate::mail::spawn(service.clone(), m)),
        None => {
            tracing::info!(
                "no mail server configured (BERAAD_SMTP_URL, BERAAD_MAIL_FROM); notifications wait in the outbox"
            );
            None
        }
    };
    let housekeeping = http::spawn_housekeeping(service, Duration::from_secs(5));
    let addr = server.local_addr()?;
    tracing::info!(%addr, engine = ?store.engine(), "beraad listening");
    println!("Beraad draait op {public_url}");
    if let Some(summary) = demo {
        print!("{}", summary.render(Some(&public_url)));
    }
    server.run(http::shutdown_signal()).await?;
    housekeeping.abort();
    if let Some(w) = mail_worker {
        w.abort();
    }
    pool_probe.abort();
    if let Some(task) = metrics_task {
        task.abort();
    }
    store.close().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_taken_from_urls() {
        assert_eq!(
            origin_of("https://beraad.example.nl/x").unwrap(),
            "https://beraad.example.nl"
        );
        assert!(origin_of("ftp://x").is_err());
        assert!(check_database_url("mysql://x").is_err());
        assert!(check_database_url("sqlite://data/b.db").is_ok());
    }
}
