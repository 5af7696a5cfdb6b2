//! The HTTP side: routes, the upgrade checks, static files.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::serve::ListenerExt;
use axum::Router;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tower_http::compression::Compression;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

use super::stats::GatewayStats;
use super::upgrade::{Rejected, WsUpgrade};
use super::{trace, App};
use crate::driver::Adopted;

/// Serves until the shutdown signal, then stops accepting.
pub(super) async fn serve(listener: tokio::net::TcpListener, app: Arc<App>) {
    let mut shutdown = app.shutdown.clone();
    let listener = listener.tap_io(|tcp| {
        // Small messages go out at once (the reactor batches frames per turn itself).
        let _ = tcp.set_nodelay(true);
    });
    let service = router(app).into_make_service_with_connect_info::<SocketAddr>();
    let served = axum::serve(listener, service)
        .with_graceful_shutdown(async move {
            super::shutting_down(&mut shutdown).await;
        })
        .await;
    if let Err(e) = served {
        tracing::error!("the HTTP server stopped: {e}");
    }
}

fn router(app: Arc<App>) -> Router {
    // The build writes brotli and gzip copies of the large generated files
    // (wasm, bundles) at full strength; everything else is gzipped as it is
    // sent. Only the files: a WebSocket upgrade must not be touched.
    let files =
        ServeDir::new(&app.config.www).append_index_html_on_directories(true).precompressed_br().precompressed_gzip();
    let files = Compression::new(files);
    Router::new()
        .route("/ws", get(ws_echo))
        .route("/ws/chat", get(ws_chat))
        .route("/ws/trace", get(ws_trace))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .fallback_service(files)
        // The playground is developed live: always check for a newer file.
        .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-cache")))
        .with_state(app)
}

async fn healthz(State(app): State<Arc<App>>) -> Response {
    if *app.shutdown.borrow() || app.reactors.is_shutting_down() {
        (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n").into_response()
    } else {
        "ok\n".into_response()
    }
}

async fn metrics(State(app): State<Arc<App>>) -> Response {
    let mut body = app.reactors.to_prometheus();
    body.push_str(&app.stats.snapshot(&app.slots).to_prometheus());
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], body).into_response()
}

#[derive(Clone, Copy, Debug)]
enum Route {
    Echo,
    Chat,
    Trace,
}

type Upgrade = Result<WsUpgrade, Rejected>;

async fn ws_echo(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    upgrade: Upgrade,
) -> Response {
    accept(app, Route::Echo, peer, &headers, upgrade)
}

async fn ws_chat(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    upgrade: Upgrade,
) -> Response {
    accept(app, Route::Chat, peer, &headers, upgrade)
}

async fn ws_trace(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    upgrade: Upgrade,
) -> Response {
    accept(app, Route::Trace, peer, &headers, upgrade)
}

/// The checks every WebSocket upgrade passes, in order: a well-formed
/// upgrade (400), an allowed origin (403), a free slot (503).
fn accept(app: Arc<App>, route: Route, peer: SocketAddr, headers: &HeaderMap, upgrade: Upgrade) -> Response {
    let upgrade = match upgrade {
        Ok(upgrade) => upgrade,
        Err(rejection) => {
            GatewayStats::bump(&app.stats.refused_malformed);
            return rejection.into_response();
        }
    };
    // An Origin that is not text is not an origin anyone can list: refused.
    let origin = headers.get(header::ORIGIN).map(|v| v.to_str().unwrap_or("\u{fffd}"));
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    if !app.origins.allows(origin, host) {
        GatewayStats::bump(&app.stats.refused_origin);
        let shown = origin.unwrap_or_default().chars().take(200).collect::<String>();
        let message = format!("origin {shown:?} is not allowed (see twine serve --allowed-origin)\n");
        return (StatusCode::FORBIDDEN, message).into_response();
    }
    if *app.shutdown.borrow() || app.reactors.is_shutting_down() {
        return (StatusCode::SERVICE_UNAVAILABLE, "the server is shutting down\n").into_response();
    }
    let Some(slot) = app.slots.try_acquire() else {
        GatewayStats::bump(&app.stats.refused_capacity);
        let message = format!("too many connections (at most {})\n", app.config.max_connections);
        return (StatusCode::SERVICE_UNAVAILABLE, [(header::RETRY_AFTER, "1")], message).into_response();
    };
    GatewayStats::bump(&app.stats.ws_total);
    let c = &app.config;
    let config = WebSocketConfig::default()
        .read_buffer_size(c.read_buffer)
        .write_buffer_size(c.write_buffer)
        // A whole message can wait in the write buffer (tungstenite copies it
        // there), but no more: past this a write fails rather than grows.
        .max_write_buffer_size(c.max_message.saturating_add(c.write_buffer).saturating_add(1024))
        .max_message_size(Some(c.max_message))
        .max_frame_size(Some(c.max_message));
    let chat = match route {
        Route::Trace => {
            return upgrade.accept(config, move |socket| async move {
                let _slot = slot;
                trace::viewer::run(socket, app).await
            })
        }
        Route::Echo => false,
        Route::Chat => true,
    };
    // Echo and chat live in the reactors: the socket goes to one after the 101.
    upgrade.hand_off(move |sock, early| {
        let local = sock.local_addr().unwrap_or(app.local);
        app.reactors.adopt(|k| Adopted {
            sock,
            early,
            peer,
            local,
            settings: app.ws.clone(),
            build: app.reactors.build(chat, k),
            guard: Box::new(slot),
        });
    })
}
