//! The `twine` command line: `twine serve`.
//!
//! ```text
//! twine serve [--tcp ADDR] [--http ADDR] [--threads N] [--log FILTER]
//! ```
//!
//! `--tcp` serves Twisted's classic line echo (`reactor.listenTCP(1234,
//! EchoFactory())` with a `LineReceiver`); the bound address is printed on
//! stdout, one line per listener (`tcp line echo listening on 127.0.0.1:1234`),
//! so scripts can start it on port 0 and read the port. SIGINT or SIGTERM
//! shut it down gracefully; the exit status is 0.

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use twine_core::protocol::{factory, FnFactory};
use twine_core::protocols::{Echo, LineEcho};

use crate::{Config, ReactorThread};

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
    /// Run the server: the TCP line echo (and, once built, the WebSocket gateway).
    Serve(ServeArgs),
}

/// `twine serve` options.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Serve the TCP line echo on this address (port 0 picks a free port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:1234")]
    pub tcp: SocketAddr,

    /// Serve the HTTP / WebSocket gateway on this address.
    #[arg(long, value_name = "ADDR")]
    pub http: Option<SocketAddr>,

    /// The playground's static files, served by the gateway (with `--http`).
    #[arg(long, value_name = "DIR")]
    pub www: Option<PathBuf>,

    /// Threads in the pool behind defer_to_thread (Twisted's default: 10).
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=4096))]
    pub threads: u16,

    /// What to log, as a tracing env-filter (for example `info`, `twine_native=debug`).
    #[arg(long, value_name = "FILTER", default_value = "info")]
    pub log: String,
}

/// The protocol `--tcp` serves: Twisted's `LineReceiver` echo.
pub fn line_echo_factory() -> FnFactory {
    factory(|| LineEcho::new(Echo))
}

/// Parses the command line and runs it.
pub fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Serve(args) => serve(args),
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
    if let Some(http) = args.http {
        eprintln!("twine: --http {http}: the WebSocket gateway is not built yet; serving TCP only");
    } else if let Some(www) = &args.www {
        eprintln!("twine: --www {}: the gateway that serves it is not built yet; serving TCP only", www.display());
    }
    let config = Config { threads: usize::from(args.threads), handle_signals: true, ..Config::default() };
    let tcp = args.tcp;
    let spawned = ReactorThread::spawn(config, move |setup| setup.listen_tcp(tcp, line_echo_factory()));
    let (server, bound) = match spawned {
        Ok(started) => started,
        Err(e) => {
            eprintln!("twine: tcp line echo: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "tcp line echo listening on {bound}");
    let _ = stdout.flush();
    drop(stdout);
    let report = server.join();
    eprintln!(
        "twine: stopped; {} connection(s) aborted, {} job(s) cancelled, {} pool thread(s) left running",
        report.aborted_connections, report.cancelled_jobs, report.threads_left_running
    );
    ExitCode::SUCCESS
}
