//! The HTTP server under the routes: the accept loop, hyper's HTTP/1
//! connections, and the two limits that keep slow clients from holding
//! the server's file descriptors (Slowloris):
//!
//! - a request's headers must arrive within `header_read_timeout`
//!   (hyper's own timer; it also bounds how long a kept-alive connection
//!   may sit idle between requests), or the connection is closed;
//! - at most `max_http_connections` TCP connections are open at once,
//!   WebSockets included (an upgraded socket keeps its connection's
//!   place); past that, a new connection is closed as soon as it is
//!   accepted, before it is read;
//! - with `per_ip`, at most that many of them from one address; past it a
//!   new connection is answered `429 Too Many Requests` with the reason.
//!
//! `axum::serve` offers neither, so this is its loop with them added. An
//! accept that fails (out of file descriptors, most likely) is retried
//! after a second, as `axum::serve` does, and reported once per retry.

use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::sync::watch;
use tower::ServiceExt;

use super::slots::Slot;
use super::stats::GatewayStats;
use super::{routes, App};
use crate::per_ip::IpPlace;

/// The place a connection holds under `max_http_connections`. Requests on
/// it carry a clone, so that a WebSocket upgrade takes the place along.
#[derive(Clone)]
pub(crate) struct HeldConnection(#[allow(dead_code)] Arc<(Slot, Option<IpPlace>)>);

/// How long to wait after a failed accept (as `axum::serve` does).
const ACCEPT_RETRY: Duration = Duration::from_secs(1);
/// How long a refused connection may take to read its 429 before it is closed.
const REFUSAL_LINGER: Duration = Duration::from_secs(1);
/// At most one "at the connection cap" report per this long.
const REPORT_EVERY: Duration = Duration::from_secs(10);

/// Serves until the shutdown signal, then stops accepting, lets open
/// connections finish their request in flight, and returns when all have closed.
pub(super) async fn serve(listener: tokio::net::TcpListener, app: Arc<App>) {
    let router = routes::router(app.clone());
    let mut shutdown = app.shutdown.clone();
    // Connections hold a receiver: `closed()` resolves once all are gone.
    let (stop, stopped) = watch::channel(false);
    let mut last_cap_report: Option<Instant> = None;
    let mut last_ip_report: Option<Instant> = None;
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) if is_connection_error(&e) => continue,
                Err(e) => {
                    GatewayStats::bump(&app.stats.http_accept_errors);
                    tracing::warn!("the HTTP gateway cannot accept: {e}; retrying in {ACCEPT_RETRY:?}");
                    tokio::select! {
                        () = tokio::time::sleep(ACCEPT_RETRY) => continue,
                        () = super::shutting_down(&mut shutdown) => break,
                    }
                }
            },
            () = super::shutting_down(&mut shutdown) => break,
        };
        let Some(slot) = app.connections.try_acquire() else {
            // Closed unread: the cheapest answer, and one a flood cannot slow.
            drop(tcp);
            GatewayStats::bump(&app.stats.http_refused_capacity);
            if last_cap_report.is_none_or(|at| at.elapsed() >= REPORT_EVERY) {
                last_cap_report = Some(Instant::now());
                tracing::warn!(
                    "{} HTTP connections open (--max-http-connections): closing new ones until some close",
                    app.config.max_http_connections
                );
            }
            continue;
        };
        let place = match &app.config.per_ip {
            Some(limit) => match limit.try_take(peer.ip()) {
                Some(place) => Some(place),
                None => {
                    GatewayStats::bump(&app.stats.refused_per_ip);
                    if last_ip_report.is_none_or(|at| at.elapsed() >= REPORT_EVERY) {
                        last_ip_report = Some(Instant::now());
                        tracing::warn!(
                            "{peer} has {} connections open (--max-connections-per-ip): refusing more with 429",
                            limit.max()
                        );
                    }
                    // It keeps its place under max_http_connections while it lingers.
                    tokio::spawn(refuse(tcp, peer, limit.max(), slot));
                    continue;
                }
            },
            None => None,
        };
        // Small messages go out at once (the reactor batches frames per turn itself).
        let _ = tcp.set_nodelay(true);
        let held = HeldConnection(Arc::new((slot, place)));
        tokio::spawn(connection(tcp, peer, held, router.clone(), app.clone(), stopped.clone()));
    }
    drop(listener);
    let _ = stop.send(true);
    drop(stopped);
    stop.closed().await;
}

/// Answers a connection past its address's limit with 429 and the reason,
/// without reading its request, then closes it. The request is read and
/// dropped meanwhile (up to [`REFUSAL_LINGER`]): closing with it unread
/// would reset the connection and could lose the answer.
async fn refuse(mut tcp: tokio::net::TcpStream, peer: SocketAddr, max: usize, _slot: Slot) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let body = format!(
        "too many connections from {} (at most {max} at once, --max-connections-per-ip); close one and try again\n",
        peer.ip()
    );
    let response = format!(
        "HTTP/1.1 429 Too Many Requests\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: {}\r\n\
         retry-after: 1\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = tokio::time::timeout(REFUSAL_LINGER, async {
        tcp.write_all(response.as_bytes()).await?;
        tcp.shutdown().await?;
        let mut sink = [0u8; 1024];
        while tcp.read(&mut sink).await? > 0 {}
        Ok::<(), std::io::Error>(())
    })
    .await;
}

/// Errors of one pending connection, not of the listener: accept the next.
fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(e.kind(), ConnectionRefused | ConnectionAborted | ConnectionReset | Interrupted | WouldBlock)
}

/// Serves HTTP connections that do not come from the gateway's listener
/// (an in-memory pipe, for tests and fuzzing) the way the accept loop
/// serves a TCP connection: the same routes, hyper settings, header
/// timeout and `max_http_connections` place (the per-address cap is the
/// listener's and does not apply). A WebSocket upgrade is answered as over
/// TCP, with 101, but then dropped: a reactor adopts TCP sockets only.
/// Made by [`Gateway::stream_server`](super::Gateway::stream_server).
pub struct StreamServer {
    router: Router,
    app: Arc<App>,
    /// Never sent: these connections end with their streams.
    stop: (watch::Sender<bool>, watch::Receiver<bool>),
}

impl StreamServer {
    pub(super) fn new(app: Arc<App>) -> StreamServer {
        StreamServer { router: routes::router(app.clone()), app, stop: watch::channel(false) }
    }

    /// Serves one HTTP connection over `io`, as from `peer`, until either
    /// side closes it. Run it on a tokio runtime (the caller's).
    pub fn serve<IO>(&self, io: IO, peer: SocketAddr) -> impl std::future::Future<Output = ()> + Send + 'static
    where
        IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let slot = self.app.connections.try_acquire();
        let (router, app, stop) = (self.router.clone(), self.app.clone(), self.stop.1.clone());
        async move {
            // Past max_http_connections: closed unread, as at accept.
            let Some(slot) = slot else { return };
            connection(io, peer, HeldConnection(Arc::new((slot, None))), router, app, stop).await
        }
    }
}

impl std::fmt::Debug for StreamServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamServer").finish_non_exhaustive()
    }
}

async fn connection<IO>(
    tcp: IO,
    peer: SocketAddr,
    held: HeldConnection,
    router: Router,
    app: Arc<App>,
    mut stop: watch::Receiver<bool>,
) where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let mut request = request.map(Body::new);
        request.extensions_mut().insert(ConnectInfo(peer));
        request.extensions_mut().insert(held.clone());
        router.clone().oneshot(request)
    });
    let mut builder = http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(app.config.header_read_timeout.filter(|d| !d.is_zero()));
    let mut conn = pin!(builder.serve_connection(TokioIo::new(tcp), service).with_upgrades());
    let served = tokio::select! {
        served = conn.as_mut() => served,
        () = stopping(&mut stop) => {
            // Finish the request in flight, then close.
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = served {
        if e.is_timeout() {
            GatewayStats::bump(&app.stats.http_header_timeouts);
        }
        tracing::trace!("HTTP connection from {peer}: {e}");
    }
}

/// Resolves once the server stops accepting.
async fn stopping(rx: &mut watch::Receiver<bool>) {
    // The guard `wait_for` returns is not Send: drop it here.
    let _ = rx.wait_for(|stop| *stop).await.is_ok();
}
