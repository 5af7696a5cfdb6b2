//! The routes: the WebSocket upgrade checks, health, metrics, runs for the
//! page (`/api/run`), static files.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Extension;
use axum::Router;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tower_http::set_header::SetResponseHeaderLayer;

use super::files::{percent_decode, ConfinedDir};
use super::http::HeldConnection;
use super::stats::GatewayStats;
use super::upgrade::{Rejected, WsUpgrade};
use super::{run_api, trace, App};
use crate::driver::Adopted;

/// The routes, for [`http::serve`](super::http::serve).
pub(super) fn router(app: Arc<App>) -> Router {
    let files = ConfinedDir::new(&app.config.www);
    Router::new()
        .route("/ws", get(ws_echo))
        .route("/ws/chat", get(ws_chat))
        .route("/ws/trace", get(ws_trace))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/api/run", get(run_api::info).post(run_api::start))
        .fallback(move |request: Request| files.clone().serve(request))
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

/// Whether a request may see `/ws/trace` and `/metrics`: no admin token
/// is set, or it carries the token (a bearer token, or `?token=`).
pub(super) fn authorized(app: &App, headers: &HeaderMap, uri: &Uri) -> bool {
    let Some(expected) = app.config.admin_token.as_deref() else { return true };
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(|t| t.trim().to_owned());
    let query = uri.query().into_iter().flat_map(|q| q.split('&')).find_map(|pair| {
        let value = pair.strip_prefix("token=")?;
        percent_decode(value)
    });
    [bearer, query].into_iter().flatten().any(|given| same_secret(given.as_bytes(), expected.as_bytes()))
}

/// Compares without stopping at the first difference, so the time taken
/// does not tell how much of a guess was right.
fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    given.len() == expected.len() && given.iter().zip(expected).fold(0u8, |diff, (a, b)| diff | (a ^ b)) == 0
}

pub(super) fn unauthorized() -> Response {
    let message =
        "this needs the admin token: Authorization: Bearer TOKEN, or ?token=TOKEN (twine serve --admin-token)\n";
    (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, "Bearer")], message).into_response()
}

async fn metrics(State(app): State<Arc<App>>, headers: HeaderMap, uri: Uri) -> Response {
    if !authorized(&app, &headers, &uri) {
        return unauthorized();
    }
    let mut body = app.reactors.to_prometheus();
    body.push_str(&app.stats.snapshot(&app.slots, &app.connections).to_prometheus());
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
    Extension(held): Extension<HeldConnection>,
    headers: HeaderMap,
    upgrade: Upgrade,
) -> Response {
    accept(app, held, Route::Echo, peer, &headers, upgrade)
}

async fn ws_chat(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Extension(held): Extension<HeldConnection>,
    headers: HeaderMap,
    upgrade: Upgrade,
) -> Response {
    accept(app, held, Route::Chat, peer, &headers, upgrade)
}

async fn ws_trace(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Extension(held): Extension<HeldConnection>,
    headers: HeaderMap,
    uri: Uri,
    upgrade: Upgrade,
) -> Response {
    if !authorized(&app, &headers, &uri) {
        return unauthorized();
    }
    accept(app, held, Route::Trace, peer, &headers, upgrade)
}

/// The checks every WebSocket upgrade passes, in order: a well-formed
/// upgrade (400), an allowed origin (403), a free slot (503).
fn accept(
    app: Arc<App>,
    held: HeldConnection,
    route: Route,
    peer: SocketAddr,
    headers: &HeaderMap,
    upgrade: Upgrade,
) -> Response {
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
                // Its WebSocket place, and its TCP connection's place, until it closes.
                let _places = (slot, held);
                trace::viewer::run(socket, app).await
            });
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
            // Its WebSocket place, and its TCP connection's place, until it closes.
            guard: Box::new((slot, held)),
        });
    })
}
