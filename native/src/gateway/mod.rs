//! The WebSocket gateway: an axum server, on a tokio runtime with its own
//! threads, in front of the reactor thread. `twine serve` runs it by
//! default on 127.0.0.1:8080 (`--http ADDR` moves it, `--http off` turns it off).
//!
//! | route | what |
//! |---|---|
//! | `/`, static files | the playground from the `www` directory (`.wasm` as `application/wasm`) |
//! | `/ws` | WebSocket echo: the core [`Echo`](twine_core::protocols::Echo) protocol on the reactor |
//! | `/ws/chat` | the core [`Chat`](twine_core::protocols::Chat) protocol: every message goes to every other member (a member too slow to take them is dropped) |
//! | `/ws/trace` | the reactor's trace events as JSON, live, to any number of viewers ([`trace`](self#the-trace-feed-wstrace)); needs the admin token if one is set |
//! | `/healthz` | `ok` while the server is up, 503 once it is shutting down |
//! | `/metrics` | Prometheus text: the reactor's [metrics](crate::metrics) and the gateway's own; needs the admin token if one is set |
//! | `/api/run` | "Run on this server": `POST` a scenario, get it run for real ([`crate::run`]), metrics and trace as JSON lines ([`run_api`]); one at a time, at most 10 s; needs the admin token if one is set |
//!
//! # WebSockets live in the reactor
//!
//! The gateway answers the upgrade (101), then hands the socket itself,
//! with any bytes hyper read past the request, to the reactor thread; from
//! then on tokio never touches it. On the reactor the socket is one more
//! mio stream whose framing is tungstenite's, run sans-IO over the loop's
//! buffers (see the driver's `websocket` module): frames in,
//! `message_received` out, `send` frames out, on one thread, so a message
//! never crosses threads. Text stays text, binary stays binary. When the
//! client does not read, the stream's write buffer passes its high-water
//! mark, the protocol pauses reading, and the reactor leaves the client's
//! bytes in the kernel: memory stays bounded whatever the client does.
//!
//! Ping/pong, fragmentation, UTF-8 checks and the close handshake are
//! tungstenite's (RFC 6455); protocol errors close with 1002 (1007 for bad
//! UTF-8). Pongs go out with the next flush; a client whose reading is
//! paused by back-pressure gets its pong once the messages it sent before
//! the ping are taken in (TCP keeps the order, and reading past them would
//! mean buffering them without bound). No extensions (permessage-deflate)
//! and no subprotocols are negotiated. `/ws/trace` viewers, which only
//! listen to the reactor, stay on tokio.
//!
//! # Limits
//!
//! [`GatewayConfig`] holds them, with safe defaults: messages over
//! `max_message` are refused with close code 1009; upgrades past
//! `max_connections` get 503; an `Origin` that is not allowed gets 403; a
//! malformed upgrade gets 400 (a `Sec-WebSocket-Version` other than 13
//! gets 426 with `Sec-WebSocket-Version: 13`, as RFC 6455 asks); clients
//! silent for `idle_timeout` are closed (1000, "idle timeout"; trace
//! viewers, which only listen, are exempt). Under all of these, a TCP
//! connection past `max_http_connections` (WebSockets included) is closed
//! as soon as it is accepted, and one whose request headers take longer
//! than `header_read_timeout` is closed: slow clients cannot hold the
//! server's file descriptors (Slowloris). Static files never leave `www`,
//! whatever symbolic links inside it point to (404). With `per_ip` set, an
//! address past its share of connections gets 429 (a clear refusal; the
//! others carry on). A WebSocket hands its
//! protocol at most `messages_per_turn` messages per reactor turn (the rest
//! wait behind the other connections), light clients are read before heavy
//! ones, and a turn's heavy reads stop at the reactor's turn budget, so a
//! flood of small messages cannot hold a reactor, nor delay a light
//! client's message by more than one short turn. On a graceful shutdown every WebSocket is closed with 1001.
//!
//! # The trace feed (`/ws/trace`)
//!
//! The server speaks first, then sends events as they happen. Every message
//! is one JSON object with a `type`:
//!
//! ```text
//! server: {"type":"hello","schema":"twine-trace","version":1,"kinds":["turn_start",...],"max_rate":2000,"buffer_events":8192,"reactors":2}
//! client: {"type":"subscribe","kinds":["call","message_received"],"max_rate":500}   (both fields optional)
//! server: {"type":"subscribed","kinds":["call","message_received"],"max_rate":500}
//! server: {"type":"event","reactor":1,"seq":41,"t":1500000,"kind":"message_received","conn":3,"len":5}
//! server: {"type":"dropped","count":120,"reason":"lagged","total":120}
//! server: {"type":"error","message":"unknown event kind \"cal\""}
//! ```
//!
//! An event is a [`TraceRecord`](twine_core::trace::TraceRecord) in the
//! [trace schema](twine_core::trace) with `type`, `reactor` and `seq` in
//! front. `reactor` says which of the server's reactors (0 to `reactors` - 1,
//! from the hello) produced it, each a lane of its own; `seq` counts every
//! event that reactor produced, so a gap in it shows what was missed. `t`
//! is nanoseconds on the reactors' one clock (`twine serve` gives them all
//! one origin, [`Config::clock_origin`](crate::Config::clock_origin)), so
//! events of different reactors can be drawn on one time axis.
//! `"kinds":"all"` subscribes to every kind. `max_rate` is events per second
//! (1 to 1,000,000; default 2,000). Events over the rate are dropped with
//! reason `"rate"`; a viewer that reads too slowly loses events with reason
//! `"lagged"`: the reactor never waits for a viewer.
//!
//! # Embedding
//!
//! ```no_run
//! use twine_native::gateway::{Gateway, GatewayConfig, GatewayLink};
//! use twine_native::{Config, ReactorThread};
//!
//! let (server, link) = ReactorThread::spawn(Config::default(), |setup| Ok(GatewayLink::install(setup))).unwrap();
//! let config = GatewayConfig { addr: "127.0.0.1:0".parse().unwrap(), ..GatewayConfig::default() };
//! let gateway = Gateway::start(config, link).unwrap();
//! println!("serving on http://{}", gateway.local_addr());
//! server.shutdown(); // or SIGTERM with Config::handle_signals
//! server.join();
//! gateway.join(std::time::Duration::from_secs(3));
//! ```

mod files;
mod http;
mod origin;
mod reactors;
mod routes;
pub mod run_api;
mod slots;
pub(crate) mod stats;
pub mod trace;
mod trim;
mod upgrade;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use twine_core::ReactorHandle;

use crate::driver::{Handoff, WsSettings};
use crate::metrics::Metrics;
use crate::Setup;
use reactors::Reactors;

pub use http::StreamServer;
pub use origin::OriginPolicy;
pub use stats::GatewayStatsSnapshot;

use slots::Slots;
use stats::GatewayStats;
use trace::TraceHub;

/// The gateway's settings. Start from `GatewayConfig::default()`:
///
/// ```
/// use twine_native::gateway::GatewayConfig;
///
/// let config = GatewayConfig { max_connections: 100, ..GatewayConfig::default() };
/// assert_eq!(config.max_message, 16 * 1024 * 1024);
/// ```
#[derive(Clone, Debug)]
pub struct GatewayConfig {
    /// Where to listen (port 0 picks a free port).
    pub addr: SocketAddr,
    /// The static files served at `/` (the playground). Missing files are 404s.
    pub www: PathBuf,
    /// The largest message (and frame) a client may send, in bytes; past it
    /// the connection is closed with 1009.
    pub max_message: usize,
    /// Open WebSockets (all routes) past which upgrades get 503.
    pub max_connections: usize,
    /// Open TCP connections (HTTP requests in progress or kept alive, and
    /// WebSockets) past which new ones are closed as soon as they are
    /// accepted. Keep it above `max_connections`, so that an upgrade past
    /// that still gets its 503, and below the process's file-descriptor limit.
    pub max_http_connections: usize,
    /// Close a connection whose request headers have not all arrived this
    /// long after it began sending them (or after its previous request:
    /// this also bounds a kept-alive connection's silence). `None` (or
    /// zero) waits for ever.
    pub header_read_timeout: Option<Duration>,
    /// Origins allowed besides the server's own host (`*` allows any); empty
    /// means loopback origins. See [`OriginPolicy`].
    pub allowed_origins: Vec<String>,
    /// Close a client that sent nothing for this long; `None` (or zero) never does.
    pub idle_timeout: Option<Duration>,
    /// How long to wait for a client's close reply (and its last writes)
    /// before dropping it.
    pub close_timeout: Duration,
    /// tokio worker threads serving HTTP and WebSockets. The default, 2,
    /// measured best for many busy small-message connections on a 2-core
    /// machine even with the reactor on a third thread (64 connections of
    /// 64 B echoes: 5-10% more messages per second and 4-7% less CPU per
    /// message than 1 worker); 1 worker is about 15% cheaper per message for
    /// a single connection waiting on each echo.
    pub http_threads: usize,
    /// Bytes tungstenite's frame buffer takes in per step; per connection.
    /// Socket reads go through the reactor's one 64 KiB read buffer
    /// whatever this is, so a small buffer does not mean small reads.
    pub read_buffer: usize,
    /// Bytes of frames a `/ws/trace` viewer gathers before writing them out.
    /// (Echo and chat frames go out once per reactor turn.)
    pub write_buffer: usize,
    /// Trace events the `/ws/trace` ring holds for viewers that fall behind.
    pub trace_buffer_events: usize,
    /// Messages one WebSocket hands its protocol per reactor turn at most
    /// (as `Config::read_budget` bounds bytes): what the client sent past
    /// them waits for the next turn, after the other connections, so a
    /// flood of small messages cannot hold the reactor. At least 1.
    pub messages_per_turn: usize,
    /// When set, `/ws/trace` and `/metrics` answer 401 unless the request
    /// carries this token: `Authorization: Bearer TOKEN` (Prometheus'
    /// `authorization` setting), or `?token=TOKEN` in the URL (browsers
    /// cannot set headers on a WebSocket). `None` leaves them open, which
    /// `twine serve` allows beyond loopback only when told to
    /// (`--admin-token off`).
    pub admin_token: Option<String>,
    /// TCP connections one client address may hold open at once
    /// (WebSockets included), counted with whatever else shares the limit
    /// (`twine serve` gives its line echo the same one). Past it a new
    /// connection is answered 429 with the reason and closed. `None`: no
    /// limit beyond `max_http_connections`.
    pub per_ip: Option<crate::PerIpLimit>,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 8080)),
            www: default_www_dir(),
            max_message: 16 * 1024 * 1024,
            max_connections: 10_000,
            max_http_connections: 10_240,
            header_read_timeout: Some(Duration::from_secs(10)),
            allowed_origins: Vec::new(),
            idle_timeout: Some(Duration::from_secs(300)),
            close_timeout: Duration::from_secs(2),
            http_threads: 2,
            read_buffer: 2048,
            write_buffer: 64 * 1024,
            trace_buffer_events: 8192,
            messages_per_turn: 64,
            admin_token: None,
            per_ip: None,
        }
    }
}

/// The repository's `www/` directory, where `cargo xtask serve` builds the
/// playground: the default for [`GatewayConfig::www`].
pub fn default_www_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../www"))
}

/// The gateway's hold on the reactor, made on the reactor thread in
/// [`ReactorThread::spawn`](crate::ReactorThread::spawn)'s setup closure
/// (it installs the shutdown hook there) and handed to [`Gateway::start`].
pub struct GatewayLink {
    handle: ReactorHandle,
    handoff: Handoff,
    metrics: Metrics,
    shutdown: Arc<watch::Sender<bool>>,
}

impl GatewayLink {
    /// Installs the gateway's shutdown hook: when a graceful shutdown begins,
    /// the HTTP server stops accepting and trace viewers are closed with
    /// 1001 (the reactor closes its WebSockets itself, with 1001).
    pub fn install(setup: &mut Setup<'_>) -> GatewayLink {
        let shutdown = Arc::new(watch::Sender::new(false));
        let hook = shutdown.clone();
        setup.on_shutdown(move |_| {
            hook.send_replace(true);
        });
        GatewayLink { handle: setup.handle(), handoff: setup.handoff(), metrics: setup.metrics().clone(), shutdown }
    }
}

impl std::fmt::Debug for GatewayLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayLink").finish_non_exhaustive()
    }
}

/// What the request handlers share.
pub(crate) struct App {
    /// Where upgraded echo and chat sockets go: the reactors.
    pub(crate) reactors: Reactors,
    /// What every WebSocket on a reactor shares: limits, counters.
    pub(crate) ws: Arc<WsSettings>,
    pub(crate) stats: Arc<GatewayStats>,
    pub(crate) slots: Slots,
    /// The one run `/api/run` may have going at a time.
    pub(crate) runs: Slots,
    /// TCP connections, against `max_http_connections`.
    pub(crate) connections: Slots,
    pub(crate) origins: OriginPolicy,
    pub(crate) trace: TraceHub,
    pub(crate) shutdown: watch::Receiver<bool>,
    pub(crate) local: SocketAddr,
    pub(crate) config: GatewayConfig,
}

/// Resolves once the gateway is shutting down.
pub(crate) async fn shutting_down(rx: &mut watch::Receiver<bool>) {
    // The guard `wait_for` returns is not Send: drop it here.
    let _ = rx.wait_for(|down| *down).await.is_ok();
}

/// A running gateway: the tokio runtime and the HTTP server on it.
pub struct Gateway {
    runtime: Option<tokio::runtime::Runtime>,
    server: Option<tokio::task::JoinHandle<()>>,
    app: Arc<App>,
    shutdown: Arc<watch::Sender<bool>>,
}

impl Gateway {
    /// Binds `config.addr` and starts serving on a new tokio runtime. Errs
    /// when the address cannot be bound or the settings are invalid (an
    /// allowed origin that is not an origin, say).
    pub fn start(config: GatewayConfig, link: GatewayLink) -> std::io::Result<Gateway> {
        Gateway::start_many(config, vec![link])
    }

    /// Like [`start`](Self::start), in front of several reactors (one
    /// [`GatewayLink`] from each): each WebSocket goes to the reactor with
    /// the fewest open, `/ws/chat` spans them all, `/metrics` shows their
    /// totals and each one, and a shutdown of any stops the gateway.
    /// `/ws/trace` shows every reactor, each event naming its own.
    pub fn start_many(config: GatewayConfig, links: Vec<GatewayLink>) -> std::io::Result<Gateway> {
        let invalid = |e: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, e);
        if config.admin_token.as_deref().is_some_and(str::is_empty) {
            return Err(invalid("the admin token must not be empty".into()));
        }
        if config.max_http_connections == 0 {
            return Err(invalid("max_http_connections must be at least 1".into()));
        }
        if config.max_message == 0 {
            return Err(invalid("the max message size must be at least 1 byte".into()));
        }
        let std_listener = std::net::TcpListener::bind(config.addr)
            .map_err(|e| std::io::Error::new(e.kind(), format!("cannot listen on {}: {e}", config.addr)))?;
        std_listener.set_nonblocking(true)?;
        let local = std_listener.local_addr()?;
        let origins = OriginPolicy::new(&config.allowed_origins, local).map_err(invalid)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(config.http_threads.max(1))
            .thread_name("twine-http")
            .enable_all()
            .build()?;
        let Some(first) = links.first() else {
            return Err(invalid("a gateway needs at least one reactor".into()));
        };
        let shutdown = first.shutdown.clone();
        for other in &links[1..] {
            // Whichever reactor starts shutting down (they all hear the
            // signal) stops the gateway.
            let (mut down, shutdown) = (other.shutdown.subscribe(), shutdown.clone());
            runtime.spawn(async move {
                shutting_down(&mut down).await;
                shutdown.send_replace(true);
            });
        }
        let stats = Arc::new(GatewayStats::default());
        let trace =
            TraceHub::new(links.iter().map(|l| l.handle.clone()).collect(), config.trace_buffer_events, stats.clone());
        let reactors = Reactors::new(links.into_iter().map(|l| (l.handle, l.handoff, l.metrics)).collect());
        let ws = Arc::new(WsSettings {
            max_message: config.max_message,
            read_buffer: config.read_buffer,
            // `Some(0)` from an embedder means never, as `None` does.
            idle_timeout: config.idle_timeout.filter(|d| !d.is_zero()),
            close_timeout: config.close_timeout,
            messages_per_turn: config.messages_per_turn.max(1),
            stats: stats.clone(),
        });
        let app = Arc::new(App {
            reactors,
            ws,
            slots: Slots::new(config.max_connections),
            runs: Slots::new(1),
            connections: Slots::new(config.max_http_connections),
            stats,
            origins,
            trace,
            shutdown: shutdown.subscribe(),
            local,
            config,
        });
        let listener = {
            let _enter = runtime.enter();
            tokio::net::TcpListener::from_std(std_listener)?
        };
        let server = runtime.spawn(http::serve(listener, app.clone()));
        runtime.spawn(trim::give_back_memory(app.clone()));
        Ok(Gateway { runtime: Some(runtime), server: Some(server), app, shutdown })
    }

    /// The address the gateway listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.app.local
    }

    /// A server of HTTP connections over other streams than the listener's
    /// (an in-memory pipe), with this gateway's routes and limits: how the
    /// fuzzer feeds requests to the real router without a socket per input.
    ///
    /// ```no_run
    /// # use twine_native::gateway::{Gateway, GatewayConfig, GatewayLink};
    /// # use twine_native::{Config, ReactorThread};
    /// # let (server, link) = ReactorThread::spawn(Config::default(), |setup| Ok(GatewayLink::install(setup))).unwrap();
    /// # let gateway = Gateway::start(GatewayConfig { addr: "127.0.0.1:0".parse().unwrap(), ..GatewayConfig::default() }, link).unwrap();
    /// use tokio::io::{AsyncReadExt, AsyncWriteExt};
    ///
    /// let streams = gateway.stream_server();
    /// let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    /// runtime.block_on(async {
    ///     let (mut client, server) = tokio::io::duplex(4096);
    ///     tokio::spawn(streams.serve(server, "127.0.0.1:5000".parse().unwrap()));
    ///     client.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").await.unwrap();
    ///     let mut answer = String::new();
    ///     client.read_to_string(&mut answer).await.unwrap();
    ///     assert!(answer.starts_with("HTTP/1.1 200 OK"));
    /// });
    /// ```
    pub fn stream_server(&self) -> StreamServer {
        StreamServer::new(self.app.clone())
    }

    /// The gateway's own counters (WebSockets, refusals, trace viewers).
    pub fn stats(&self) -> GatewayStatsSnapshot {
        self.app.stats.snapshot(&self.app.slots, &self.app.connections)
    }

    /// Stops accepting and closes trace viewers with 1001, as the reactor's
    /// shutdown does; the reactor closes its WebSockets itself. Idempotent.
    pub fn shutdown(&self) {
        self.shutdown.send_replace(true);
    }

    /// Waits (up to `grace`) for the HTTP server and every WebSocket to
    /// finish after a shutdown, then stops the runtime, dropping whatever is
    /// left. Returns how many WebSockets were still open at the end. Call it
    /// from a plain thread (it blocks), typically after
    /// [`ReactorThread::join`](crate::ReactorThread::join).
    pub fn join(mut self, grace: Duration) -> usize {
        self.shutdown();
        let left = match (self.runtime.as_ref(), self.server.take()) {
            (Some(runtime), Some(server)) => {
                let slots = self.app.slots.clone();
                runtime.block_on(async move {
                    let deadline = tokio::time::Instant::now() + grace;
                    let _ = tokio::time::timeout_at(deadline, server).await;
                    let _ = tokio::time::timeout_at(deadline, slots.all_closed()).await;
                    slots.open()
                })
            }
            _ => 0,
        };
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
        left
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.shutdown.send_replace(true);
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway").field("addr", &self.app.local).finish_non_exhaustive()
    }
}
