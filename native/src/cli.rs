//! The `twine` command line: `twine serve`, and `twine run` (an experiment
//! executed for real; see [`crate::run`]).
//!
//! ```text
//! twine serve [--tcp ADDR|off] [--http ADDR|off] [--www DIR] [--threads N] [--log FILTER]
//!             [--max-message SIZE] [--max-connections N] [--allowed-origin ORIGIN]...
//!             [--idle-timeout DURATION] [--http-threads N] [--ws-read-buffer SIZE]
//! twine run EXPERIMENT.json [--variant V] [--seed N] [--metrics] [--trace FILE] [--allow-long]
//! ```
//!
//! With no options it serves everything on loopback: `--tcp` (default
//! 127.0.0.1:1234) is Twisted's classic line echo (`reactor.listenTCP(1234,
//! EchoFactory())` with a `LineReceiver`), and `--http` (default
//! 127.0.0.1:8080) is the [WebSocket gateway](crate::gateway): the
//! playground, `/ws`, `/ws/chat`, `/ws/trace`, `/healthz`, `/metrics`.
//! `off` turns either one off. The
//! bound addresses are printed on stdout, one line per listener
//! (`tcp line echo listening on 127.0.0.1:1234`,
//! `http gateway listening on http://127.0.0.1:8080`), so scripts can start
//! it on port 0 and read the port. SIGINT or SIGTERM shut it down
//! gracefully (WebSockets are closed with 1001); the exit status is 0.

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::str::FromStr;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use twine_core::protocol::{factory, FnFactory};
use twine_core::protocols::{Echo, LineEcho};

use crate::fd_limit;
use crate::gateway::{default_www_dir, Gateway, GatewayConfig, GatewayLink};
use crate::{Config, PerIpLimit, ReactorThread};

/// An address to listen on, or `off`.
///
/// ```
/// use twine_native::cli::Listen;
///
/// assert_eq!("off".parse::<Listen>(), Ok(Listen(None)));
/// assert_eq!("127.0.0.1:0".parse::<Listen>(), Ok(Listen(Some("127.0.0.1:0".parse().unwrap()))));
/// assert!("8080".parse::<Listen>().unwrap_err().contains("IP:PORT"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Listen(pub Option<SocketAddr>);

impl FromStr for Listen {
    type Err = String;

    fn from_str(text: &str) -> Result<Listen, String> {
        match text.trim() {
            "off" | "none" => Ok(Listen(None)),
            addr => addr
                .parse()
                .map(|a| Listen(Some(a)))
                .map_err(|_| format!("expected IP:PORT (like 127.0.0.1:8080) or `off`, got {addr:?}")),
        }
    }
}

/// How long the gateway waits for WebSockets to finish their close handshakes at exit.
const GATEWAY_GRACE: Duration = Duration::from_secs(2);

/// Parses a byte size: `1048576`, `64KiB`, `16MiB`, `1GiB` (`K`, `M`, `G`, `KB`, `MB`, `GB` are binary too).
///
/// ```
/// use twine_native::cli::parse_size;
///
/// assert_eq!(parse_size("64KiB"), Ok(64 * 1024));
/// assert_eq!(parse_size("16M"), Ok(16 << 20));
/// assert!(parse_size("0").is_err());
/// ```
pub fn parse_size(text: &str) -> Result<usize, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: usize = digits.parse().map_err(|_| format!("{text:?} is not a size (try 16MiB or 1048576)"))?;
    let scale: usize = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => return Err(format!("{text:?}: unknown unit {unit:?} (use KiB, MiB or GiB)")),
    };
    match n.checked_mul(scale) {
        Some(0) => Err("the size must be at least 1 byte".to_owned()),
        Some(size) => Ok(size),
        None => Err(format!("{text:?} is too large")),
    }
}

/// Parses a duration: `300` (seconds), `90s`, `5m`, `500ms`, `0`.
///
/// ```
/// use std::time::Duration;
/// use twine_native::cli::parse_duration;
///
/// assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
/// assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
/// assert!(parse_duration("1 fortnight").is_err());
/// ```
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: u64 = digits.parse().map_err(|_| format!("{text:?} is not a duration (try 300s, 5m or 500ms)"))?;
    match unit.trim() {
        "" | "s" => Ok(Duration::from_secs(n)),
        "ms" => Ok(Duration::from_millis(n)),
        "m" | "min" => n.checked_mul(60).map(Duration::from_secs).ok_or_else(|| format!("{text:?} is too long")),
        "h" => n.checked_mul(3600).map(Duration::from_secs).ok_or_else(|| format!("{text:?} is too long")),
        other => Err(format!("{text:?}: unknown unit {other:?} (use ms, s, m or h)")),
    }
}

/// twine: Twisted's model of concurrency in Rust.
#[derive(Debug, Parser)]
#[command(name = "twine", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server: the WebSocket gateway with the playground, and the TCP line echo.
    Serve(ServeArgs),
    /// Run an experiment scenario for real (reactor, threads, clients on loopback) and measure it.
    Run(crate::run::command::RunArgs),
}

/// `twine serve` options.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Serve the TCP line echo on this address (port 0 picks a free port), or `off`.
    #[arg(long, value_name = "ADDR|off", default_value = "127.0.0.1:1234")]
    pub tcp: Listen,

    /// Serve the HTTP / WebSocket gateway on this address (port 0 picks a free port), or `off`.
    #[arg(long, value_name = "ADDR|off", default_value = "127.0.0.1:8080")]
    pub http: Listen,

    /// The playground's static files, served by the gateway at `/` (default:
    /// the repository's www/).
    #[arg(long, value_name = "DIR")]
    pub www: Option<PathBuf>,

    /// The largest WebSocket message a client may send (bytes, or with a
    /// KiB/MiB/GiB suffix); larger ones close the connection with 1009.
    #[arg(long, value_name = "SIZE", default_value = "16MiB", value_parser = parse_size)]
    pub max_message: usize,

    /// Open WebSockets past which upgrades are refused with 503.
    #[arg(long, value_name = "N", default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,

    /// Open TCP connections to the gateway (HTTP and WebSockets) past which
    /// new ones are closed at accept. Default: 10240, or less if the
    /// file-descriptor limit (`ulimit -n`, raised to its hard limit at
    /// start) leaves room for fewer, with an eighth of it kept in reserve.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_http_connections: Option<u32>,

    /// TCP connections one client address may hold open at once: HTTP,
    /// WebSockets and the line echo together. Past it, HTTP gets 429 and
    /// the line echo a line saying why, then the connection closes; other
    /// addresses carry on. `0`: no limit beyond the others.
    #[arg(long, value_name = "N", default_value_t = 256)]
    pub max_connections_per_ip: u32,

    /// Drop a connection that takes none of its pending output for this
    /// long (a client that stopped reading), logging why (`60s`, `500ms`;
    /// `0` waits for ever).
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    pub write_timeout: Duration,

    /// Messages (WebSocket messages, echo lines) one connection hands the
    /// reactor per turn at most; what it sent past them waits behind the
    /// other connections, so a flooding client gets its share of a turn.
    /// Smaller is fairer per turn but costs more turns (system calls) per
    /// message: on a busy machine that costs everyone (native/bench/flood.sh).
    #[arg(long, value_name = "N", default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..))]
    pub messages_per_turn: u32,

    /// Messages one reactor turn hands out to heavy connections, all of
    /// them together, before the rest wait for the next turn. Light
    /// clients (a few messages at a time) are read first: one that sends
    /// during a flood waits for at most this many of the flood's messages.
    #[arg(long, value_name = "N", default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..))]
    pub turn_budget: u32,

    /// Close an HTTP connection whose request headers take longer than this
    /// to arrive, or that stays silent this long between requests (`10s`,
    /// `500ms`; `0` waits for ever).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub header_timeout: Duration,

    /// A browser origin allowed to open WebSockets (`https://host[:port]`,
    /// or `*` for any); repeat for more. Default: loopback origins. The
    /// server's own address is always allowed.
    #[arg(long = "allowed-origin", value_name = "ORIGIN")]
    pub allowed_origins: Vec<String>,

    /// Close WebSockets with no message either way for this long (`300`,
    /// `90s`, `5m`, `500ms`; `0` never closes them).
    #[arg(long, value_name = "DURATION", default_value = "300s", value_parser = parse_duration)]
    pub idle_timeout: Duration,

    /// Bytes each WebSocket keeps to read frames into, for its whole life:
    /// the main cost of an idle connection (larger reads go through a
    /// per-thread read-ahead buffer).
    #[arg(long, value_name = "SIZE", default_value = "2KiB", value_parser = parse_size)]
    pub ws_read_buffer: usize,

    /// Threads of the gateway's tokio runtime.
    #[arg(long, value_name = "N", default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub http_threads: u16,

    /// Threads in the pool behind defer_to_thread (Twisted's default: 10).
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=4096))]
    pub threads: u16,

    /// Reactor threads, each its own mio loop: WebSockets go to the least
    /// loaded on upgrade, the TCP line echo's connections are spread by the
    /// kernel (SO_REUSEPORT). Default: the number of cores.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub reactors: Option<u16>,

    /// A token that `/ws/trace` and `/metrics` require (`Authorization:
    /// Bearer TOKEN`, or `?token=TOKEN`), at least 16 characters; or `off`
    /// to leave them open. Default: open on a loopback --http, and on any
    /// other address twine refuses to start without this flag (or the
    /// TWINE_ADMIN_TOKEN environment variable, which `ps` does not show).
    #[arg(long, value_name = "TOKEN|off")]
    pub admin_token: Option<String>,

    /// What to log, as a tracing env-filter (for example `info`, `twine_native=debug`).
    #[arg(long, value_name = "FILTER", default_value = "info")]
    pub log: String,
}

impl ServeArgs {
    /// The gateway's settings for these options, listening on `addr`, in
    /// a process allowed `fd_limit` file descriptors (`None`: unknown).
    fn gateway_config(&self, addr: SocketAddr, fd_limit: Option<u64>) -> GatewayConfig {
        let default_cap = GatewayConfig::default().max_http_connections as u64;
        let max_http_connections = match (self.max_http_connections, fd_limit) {
            (Some(n), _) => u64::from(n),
            (None, Some(limit)) => fd_limit::connection_cap(limit, default_cap),
            (None, None) => default_cap,
        };
        GatewayConfig {
            addr,
            www: self.www.clone().unwrap_or_else(default_www_dir),
            max_message: self.max_message,
            max_connections: self.max_connections as usize,
            max_http_connections: max_http_connections as usize,
            header_read_timeout: Some(self.header_timeout).filter(|d| !d.is_zero()),
            allowed_origins: self.allowed_origins.clone(),
            idle_timeout: Some(self.idle_timeout).filter(|d| !d.is_zero()),
            http_threads: usize::from(self.http_threads),
            read_buffer: self.ws_read_buffer,
            messages_per_turn: self.messages_per_turn as usize,
            ..GatewayConfig::default()
        }
    }
}

impl ServeArgs {
    /// The per-address limit every listener shares, if there is one.
    fn per_ip_limit(&self) -> Option<PerIpLimit> {
        (self.max_connections_per_ip > 0).then(|| PerIpLimit::new(self.max_connections_per_ip as usize))
    }
}

/// The shortest admin token accepted.
pub const MIN_ADMIN_TOKEN: usize = 16;

/// The token `/ws/trace` and `/metrics` need, from `--admin-token` (or
/// `TWINE_ADMIN_TOKEN`) and the address the gateway binds: `None` leaves
/// them open. Beyond loopback they show what the server does to anyone
/// who can connect, so there an explicit choice is required: a token, or
/// `off`.
///
/// ```
/// use twine_native::cli::admin_token;
///
/// let lan = "0.0.0.0:8080".parse().unwrap();
/// let local = "127.0.0.1:8080".parse().unwrap();
/// assert_eq!(admin_token(local, None), Ok(None));
/// assert!(admin_token(lan, None).unwrap_err().contains("--admin-token"));
/// assert_eq!(admin_token(lan, Some("off")), Ok(None));
/// assert_eq!(admin_token(lan, Some("0123456789abcdef")), Ok(Some("0123456789abcdef".to_owned())));
/// assert!(admin_token(local, Some("short")).is_err());
/// ```
pub fn admin_token(http: SocketAddr, given: Option<&str>) -> Result<Option<String>, String> {
    match given.map(str::trim) {
        Some("off") => Ok(None),
        Some(token) if token.chars().count() < MIN_ADMIN_TOKEN || token.chars().any(|c| !c.is_ascii_graphic()) => {
            Err(format!(
                "the admin token must be at least {MIN_ADMIN_TOKEN} printable ASCII characters without spaces \
                 (try `openssl rand -hex 16`), or `off`"
            ))
        }
        Some(token) => Ok(Some(token.to_owned())),
        None if http.ip().is_loopback() => Ok(None),
        None => Err(format!(
            "--http {http} is reachable beyond this machine, and /ws/trace and /metrics show what the server \
             does: protect them with --admin-token TOKEN (or TWINE_ADMIN_TOKEN=TOKEN), or leave them open with \
             --admin-token off"
        )),
    }
}

/// The protocol `--tcp` serves: Twisted's `LineReceiver` echo.
pub fn line_echo_factory() -> FnFactory {
    factory(|| LineEcho::new(Echo))
}

/// Parses the command line and runs it.
pub fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Serve(args) => serve(args),
        Command::Run(args) => crate::run::command::main(&args),
    }
}

fn serve(args: ServeArgs) -> ExitCode {
    let filter = match tracing_subscriber::EnvFilter::try_new(&args.log) {
        Ok(filter) => filter,
        Err(e) => {
            eprintln!("twine: invalid --log filter {:?}: {e}", args.log);
            return ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let (Listen(tcp), Listen(http)) = (args.tcp, args.http);
    if tcp.is_none() && http.is_none() {
        eprintln!("twine: --tcp off and --http off: nothing to serve");
        return ExitCode::from(2);
    }
    let from_env = std::env::var("TWINE_ADMIN_TOKEN").ok().filter(|t| !t.is_empty());
    let token = match http.map(|addr| admin_token(addr, args.admin_token.as_deref().or(from_env.as_deref()))) {
        Some(Err(e)) => {
            eprintln!("twine: {e}");
            return ExitCode::from(2);
        }
        Some(Ok(token)) => token,
        None => None,
    };
    // Every connection is a descriptor: take what the hard limit allows.
    let fds = fd_limit::raise();
    let reactors = args
        .reactors
        .map(usize::from)
        .unwrap_or_else(|| std::thread::available_parallelism().map(std::num::NonZeroUsize::get).unwrap_or(1));
    let mut servers = Vec::with_capacity(reactors);
    let mut links = Vec::with_capacity(reactors);
    // One count for every listener: the line echo on each reactor and the gateway.
    let per_ip = args.per_ip_limit();
    let mut bound = None;
    // One clock for every reactor: /ws/trace draws them on one time axis.
    let clock_origin = Some(std::time::Instant::now());
    for k in 0..reactors {
        let config = Config {
            threads: usize::from(args.threads),
            handle_signals: true,
            reuse_port: reactors > 1,
            thread_name: if reactors > 1 { format!("twine-reactor-{k}") } else { "twine-reactor".to_owned() },
            lines_per_turn: args.messages_per_turn as usize,
            turn_budget: args.turn_budget as usize,
            write_timeout: Some(args.write_timeout).filter(|d| !d.is_zero()),
            per_ip: per_ip.clone(),
            clock_origin,
            ..Config::default()
        };
        // The first reactor binds the line echo (port 0 picks one); the
        // others bind the same port beside it.
        let addr = if k == 0 { tcp } else { bound };
        let spawned = ReactorThread::spawn(config, move |setup| {
            let bound = addr.map(|addr| setup.listen_tcp(addr, line_echo_factory())).transpose()?;
            Ok((bound, http.map(|_| GatewayLink::install(setup))))
        });
        match spawned {
            Ok((server, (here, link))) => {
                bound = bound.or(here);
                servers.push(server);
                links.extend(link);
            }
            Err(e) => {
                eprintln!("twine: tcp line echo: {e}{}", in_use_hint(&e, "--tcp"));
                for server in servers {
                    server.shutdown();
                    server.join();
                }
                return ExitCode::FAILURE;
            }
        }
    }
    let mut stdout = std::io::stdout().lock();
    if let Some(bound) = bound {
        let _ = writeln!(stdout, "tcp line echo listening on {bound}");
    }
    let gateway = match http {
        Some(addr) if !links.is_empty() => {
            let config = GatewayConfig { admin_token: token, per_ip: per_ip.clone(), ..args.gateway_config(addr, fds) };
            if let (Some(n), Some(limit)) = (args.max_http_connections, fds) {
                if u64::from(n) > limit.saturating_sub(fd_limit::reserve(limit)) {
                    eprintln!(
                        "twine: warning: --max-http-connections {n} is more than the file-descriptor limit \
                         ({limit}) leaves room for: at the limit, accepts fail and pause instead of closing \
                         extra connections cleanly (raise `ulimit -n`)"
                    );
                }
            }
            let protected = config.admin_token.is_some();
            let config_summary = (config.max_http_connections, config.header_read_timeout);
            let page = page_problem(&config.www);
            match Gateway::start_many(config, links) {
                Ok(gateway) => {
                    let at = gateway.local_addr();
                    let _ = writeln!(stdout, "http gateway listening on http://{at}");
                    match page {
                        None => {
                            let _ = writeln!(stdout, "  playground  http://{at}/");
                        }
                        Some(problem) => eprintln!("twine: warning: {problem}"),
                    }
                    let _ =
                        writeln!(stdout, "  websockets  ws://{at}/ws (echo)  ws://{at}/ws/chat  ws://{at}/ws/trace");
                    let _ = writeln!(stdout, "  health      http://{at}/healthz  http://{at}/metrics");
                    let _ = writeln!(
                        stdout,
                        "  runs        http://{at}/api/run (POST runs an experiment for real, one at a time, at most {} s; {})",
                        crate::gateway::run_api::MAX_REAL_TIME.as_secs(),
                        crate::gateway::run_api::who_may_run(protected, at),
                    );
                    let admin = if protected {
                        "/ws/trace and /metrics need the admin token (Authorization: Bearer TOKEN, or ?token=TOKEN)"
                    } else if at.ip().is_loopback() {
                        "/ws/trace and /metrics are open to this machine (loopback); --admin-token TOKEN protects them"
                    } else {
                        "/ws/trace and /metrics are open to anyone who can connect (--admin-token off)"
                    };
                    let _ = writeln!(stdout, "  admin       {admin}");
                    let fds = fds.map(|n| format!(" (fd limit {n})")).unwrap_or_default();
                    let headers = match config_summary.1 {
                        Some(t) => format!("request headers within {t:?}"),
                        None => "no request header timeout".to_owned(),
                    };
                    let per_ip = match &per_ip {
                        Some(limit) => format!(", {} per address", limit.max()),
                        None => String::new(),
                    };
                    let writes = match args.write_timeout {
                        t if t.is_zero() => "no write timeout".to_owned(),
                        t => format!("clients that read nothing for {t:?} dropped"),
                    };
                    let _ = writeln!(
                        stdout,
                        "  limits      {} connections{fds}{per_ip}; {headers}; {writes}",
                        config_summary.0
                    );
                    Some(gateway)
                }
                Err(e) => {
                    eprintln!("twine: http gateway: {e}{}", in_use_hint(&e, "--http"));
                    for server in servers {
                        server.shutdown();
                        server.join();
                    }
                    return ExitCode::FAILURE;
                }
            }
        }
        _ => None,
    };
    let _ = stdout.flush();
    drop(stdout);
    // Every reactor hears SIGTERM itself; each drains its own connections.
    let reports: Vec<_> = servers.into_iter().map(ReactorThread::join).collect();
    if let Some(gateway) = gateway {
        let left = gateway.join(GATEWAY_GRACE);
        if left > 0 {
            eprintln!("twine: {left} WebSocket(s) did not finish closing in {GATEWAY_GRACE:?}; dropped");
        }
    }
    let total = |f: fn(&crate::ShutdownReport) -> usize| reports.iter().map(f).sum::<usize>();
    eprintln!(
        "twine: stopped; {} connection(s) aborted, {} job(s) cancelled, {} pool thread(s) left running",
        total(|r| r.aborted_connections),
        total(|r| r.cancelled_jobs),
        total(|r| r.threads_left_running)
    );
    ExitCode::SUCCESS
}

/// Why the playground cannot be served from `www`, if it cannot.
fn page_problem(www: &std::path::Path) -> Option<String> {
    if !www.join("index.html").is_file() {
        Some(format!("no playground: {} has no index.html (--www names the directory)", www.display()))
    } else if !www.join("pkg").join("twine_web.js").is_file() {
        Some(format!(
            "the playground will not run: {} is missing its generated wasm (`cargo xtask serve` builds it)",
            www.display()
        ))
    } else {
        None
    }
}

/// What to do about a port another process holds.
fn in_use_hint(e: &std::io::Error, flag: &str) -> String {
    if e.kind() == std::io::ErrorKind::AddrInUse {
        format!(" (another server, or another twine, has it: choose one with {flag} 127.0.0.1:PORT, or {flag} off)")
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_take_binary_units_and_refuse_nonsense() {
        assert_eq!(parse_size("16MiB"), Ok(16 << 20));
        assert_eq!(parse_size("64k"), Ok(64 << 10));
        assert_eq!(parse_size("1048576"), Ok(1 << 20));
        assert!(parse_size("0").is_err());
        assert!(parse_size("12 parsecs").unwrap_err().contains("parsecs"));
        assert!(parse_size("MiB").is_err());
    }

    #[test]
    fn durations_take_units_and_default_to_seconds() {
        assert_eq!(parse_duration("300"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert!(parse_duration("1 fortnight").unwrap_err().contains("fortnight"));
    }

    /// The flags' defaults are written out for `--help`; they must say what
    /// embedding the library gets.
    #[test]
    fn serve_without_options_gets_the_librarys_defaults() {
        let Command::Serve(args) = Cli::try_parse_from(["twine", "serve"]).unwrap().command else {
            panic!("`twine serve` parses as serve")
        };
        let library = GatewayConfig::default();
        assert_eq!(args.http, Listen(Some(library.addr)));
        assert_eq!(usize::from(args.threads), Config::default().threads);
        let config = args.gateway_config(library.addr, None);
        assert_eq!(config.www, library.www);
        assert_eq!(config.max_message, library.max_message);
        assert_eq!(config.max_connections, library.max_connections);
        assert_eq!(config.max_http_connections, library.max_http_connections);
        // Under a low fd limit, the default cap fits inside it.
        assert_eq!(args.gateway_config(library.addr, Some(1024)).max_http_connections, 896);
        assert_eq!(config.header_read_timeout, library.header_read_timeout);
        assert_eq!(config.allowed_origins, library.allowed_origins);
        assert_eq!(config.idle_timeout, library.idle_timeout);
        assert_eq!(config.http_threads, library.http_threads);
        assert_eq!(config.read_buffer, library.read_buffer);
    }
}
