//! `/api/run`: "Run on this server". The playground sends the experiment it
//! simulates; the server runs it for real ([`crate::run::run`], as `twine
//! run` does) and answers with the measured metrics and the real reactor's
//! trace, so the page can put prediction and measurement side by side.
//!
//! `GET /api/run` says what the server allows (the page shows the button
//! only when it answers):
//!
//! ```text
//! {"max_real_time_ms":10000,"max_trace_events":100000,"busy":false,"needs_token":false}
//! ```
//!
//! `POST /api/run` takes `{"scenario": TEXT or OBJECT, "variant": NAME,
//! "seed": N}` (the JSON scenario `twine run` and `twine-sim` read; only
//! `scenario` is required) and streams JSON lines (`application/x-ndjson`)
//! as the run goes: `started` at once; every [`PROGRESS_EVERY`] the trace
//! events the real reactor made since the last report (at most
//! [`CHUNK`] a line; the earliest [`MAX_TRACE_EVENTS`] in all, and none
//! while [`MAX_PENDING_BYTES`] wait for a page that is not reading) and a
//! `progress` line with the real time elapsed and the events made so far
//! (sent or not); when the run is over, its `metrics` and `done`:
//!
//! ```text
//! {"type":"started","scenario":"pool-saturation","max_real_time_ms":10000,"max_trace_events":100000}
//! {"type":"trace","events":[{"t":0,"kind":"turn_start",...},...]}
//! {"type":"progress","elapsed_ms":100.2,"events":412}
//! ...
//! {"type":"metrics","metrics":{...the fields of twine-sim --metrics...}}
//! {"type":"done","events":1234,"sent":1234}
//! ```
//!
//! or, when the run could not start, `{"type":"error","field":..,"message":..}`
//! in place of `metrics` and `done`. The events of a `trace` line are in
//! the order the reactor recorded them, which is not always time order: a
//! pool thread records when it took a job itself, and the reactor hears of
//! it a little later.
//!
//! Refusals come before the run, as one JSON object `{"error": TEXT,
//! "field": FIELD}` with a status: 400 for a request that is not one, 422
//! for a scenario the checks refuse (its field named, as `twine run` names
//! it) or one asking for more than [`MAX_REAL_TIME`] of real time, 429
//! while another run is going (one at a time per server: a run measures the
//! machine, and two would measure each other), 403 for an origin that is
//! not allowed, 401 without the admin token when one is set. A server that
//! listens beyond loopback without an admin token refuses runs (403): a run
//! is seconds of the server's CPU on request.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Value};
use twine_scenario::Scenario;

use super::routes::{authorized, unauthorized};
use super::App;
use crate::run::{check, run_observed, RunOptions};

/// The longest run the server makes for a page: a scenario asking for more
/// is refused naming the field, and one that does not end by itself is
/// cut off here (`end_reason: "duration"`).
pub const MAX_REAL_TIME: Duration = Duration::from_secs(10);

/// Trace events sent back at most (the earliest; `done` says how many there
/// were). About 100 bytes each as JSON.
pub const MAX_TRACE_EVENTS: usize = 100_000;

/// Bytes of the answer that may wait for a page that reads slowly (or not
/// at all). The run never waits for the page: past this, trace lines are
/// left out (`done`'s `sent` counts the events that went), while the lines
/// that say how the run goes and how it ended always go (a few KiB).
pub const MAX_PENDING_BYTES: usize = 4 << 20;

/// Trace events per line of the answer, at most.
pub const CHUNK: usize = 5_000;

/// How often a run reports how it goes (a `progress` line, and the trace
/// events made meanwhile).
pub const PROGRESS_EVERY: Duration = Duration::from_millis(100);

/// The largest request body: a scenario is a few KiB.
pub(super) const MAX_BODY: usize = 1 << 20;

/// What a page sends.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RunRequest {
    /// The scenario, as its JSON text or as the object itself.
    scenario: Value,
    variant: Option<String>,
    seed: Option<u64>,
}

fn refusal(status: StatusCode, field: &str, error: impl Into<String>) -> Response {
    let body = json!({ "error": error.into(), "field": field }).to_string() + "\n";
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// Why this request may not start a run, before its body is looked at.
fn forbidden(app: &App, headers: &HeaderMap, uri: &Uri) -> Option<Response> {
    let origin = headers.get(header::ORIGIN).map(|v| v.to_str().unwrap_or("\u{fffd}"));
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    if !app.origins.allows(origin, host) {
        let shown = origin.unwrap_or_default().chars().take(200).collect::<String>();
        return Some(refusal(
            StatusCode::FORBIDDEN,
            "",
            format!("origin {shown:?} is not allowed (see twine serve --allowed-origin)"),
        ));
    }
    if refuses_runs(app.config.admin_token.is_some(), app.local) {
        return Some(refusal(
            StatusCode::FORBIDDEN,
            "",
            "this server listens beyond loopback without an admin token, so it runs no experiments for pages: \
             start it with --admin-token (runs then need the token)",
        ));
    }
    if !authorized(app, headers, uri) {
        return Some(unauthorized());
    }
    None
}

/// Whether a server listening on `local` refuses every run: beyond
/// loopback without an admin token (a run is seconds of its CPU on request).
fn refuses_runs(needs_token: bool, local: SocketAddr) -> bool {
    !needs_token && !local.ip().is_loopback()
}

/// Who may ask a gateway listening on `local` for runs, in words, for
/// `twine serve`'s start-up lines: the rule `POST /api/run` applies.
///
/// ```
/// use twine_native::gateway::run_api::who_may_run;
///
/// assert!(who_may_run(true, "0.0.0.0:8080".parse().unwrap()).contains("needs the admin token"));
/// assert!(who_may_run(false, "127.0.0.1:8080".parse().unwrap()).contains("this machine"));
/// assert!(who_may_run(false, "0.0.0.0:8080".parse().unwrap()).starts_with("refused"));
/// ```
pub fn who_may_run(needs_token: bool, local: SocketAddr) -> &'static str {
    if needs_token {
        "needs the admin token"
    } else if refuses_runs(needs_token, local) {
        "refused: this server listens beyond loopback without an admin token"
    } else {
        "open to this machine (loopback)"
    }
}

/// `GET /api/run`: what the server allows.
pub(super) async fn info(State(app): State<Arc<App>>) -> Response {
    let body = json!({
        "max_real_time_ms": MAX_REAL_TIME.as_millis() as u64,
        "max_trace_events": MAX_TRACE_EVENTS,
        "busy": app.runs.open() > 0,
        "needs_token": app.config.admin_token.is_some(),
    });
    ([(header::CONTENT_TYPE, "application/json")], body.to_string() + "\n").into_response()
}

/// `POST /api/run`: checks, then runs on a thread of its own and streams the result.
pub(super) async fn start(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    uri: Uri,
    body: Body,
) -> Response {
    if let Some(refused) = forbidden(&app, &headers, &uri) {
        return refused;
    }
    // The body is bounded in time as the headers are (`header_read_timeout`,
    // which hyper applies to headers only): a client that announces a body
    // and never sends it must not hold its connection for ever.
    let read = axum::body::to_bytes(body, MAX_BODY);
    let body = match app.config.header_read_timeout.filter(|d| !d.is_zero()) {
        Some(limit) => match tokio::time::timeout(limit, read).await {
            Ok(read) => read,
            Err(_) => return refusal(StatusCode::REQUEST_TIMEOUT, "", "the request body did not arrive in time"),
        },
        None => read.await,
    };
    let body = match body {
        Ok(body) => body,
        Err(e) => {
            return refusal(StatusCode::PAYLOAD_TOO_LARGE, "", format!("the request body could not be read ({e})"))
        }
    };
    if *app.shutdown.borrow() || app.reactors.is_shutting_down() {
        return refusal(StatusCode::SERVICE_UNAVAILABLE, "", "the server is shutting down");
    }
    let request: RunRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return refusal(
                StatusCode::BAD_REQUEST,
                "",
                format!("the request must be {{\"scenario\": ..., \"variant\": ..., \"seed\": ...}} ({e})"),
            )
        }
    };
    let (scenario, options) = match load(&request) {
        Ok(loaded) => loaded,
        Err((field, message)) => return refusal(StatusCode::UNPROCESSABLE_ENTITY, &field, message),
    };
    let Some(slot) = app.runs.try_acquire() else {
        return refusal(
            StatusCode::TOO_MANY_REQUESTS,
            "",
            "busy: this server is running another experiment (one at a time, so each measures the machine alone); try again when it ends",
        );
    };
    let name = scenario.spec().name.clone().unwrap_or_default();
    tracing::info!(%peer, scenario = %name, "running an experiment for a page (/api/run)");
    // The run never waits for the page; what waits for the page is bounded in bytes.
    let (outbox, rx) = Outbox::new(MAX_PENDING_BYTES);
    let started = line(&json!({
        "type": "started",
        "scenario": name,
        "max_real_time_ms": MAX_REAL_TIME.as_millis() as u64,
        "max_trace_events": MAX_TRACE_EVENTS,
    }));
    let spawned = std::thread::Builder::new().name("twine-api-run".into()).spawn(move || {
        // The run's place is given back when the run ends, whether or not
        // the page is still there to read its result.
        let _slot = slot;
        outbox.send(started, Line::Required);
        // A page that went away stops nothing: the run ends at its bound.
        answer(&scenario, &options, |chunk, kind| outbox.send(chunk, kind));
    });
    if let Err(e) = spawned {
        return refusal(StatusCode::SERVICE_UNAVAILABLE, "", format!("cannot start the run: {e}"));
    }
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (Ok::<_, std::convert::Infallible>(chunk), rx))
    });
    ([(header::CONTENT_TYPE, "application/x-ndjson"), (header::CACHE_CONTROL, "no-store")], Body::from_stream(stream))
        .into_response()
}

/// The scenario with its variant applied, checked against the server's bound.
fn load(request: &RunRequest) -> Result<(Scenario, RunOptions), (String, String)> {
    let text = match &request.scenario {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    let text = match &request.variant {
        Some(v) => twine_scenario::variant_json(&text, v).map_err(|e| (e.field.clone(), e.to_string()))?,
        None => text,
    };
    let scenario = Scenario::from_json(&text).map_err(|e| (e.field.clone(), e.to_string()))?;
    let options = RunOptions {
        seed: request.seed,
        max_real_time: Some(MAX_REAL_TIME),
        trace_cap: MAX_TRACE_EVENTS,
        ..RunOptions::default()
    };
    check(&scenario, &options).map_err(|e| (e.field.clone(), e.to_string()))?;
    Ok((scenario, options))
}

/// Runs the scenario (blocking, up to [`MAX_REAL_TIME`]) and hands `send`
/// the lines that tell how it goes, as it goes; `send` says whether it took
/// a line (it may refuse a [`Line::Trace`]).
fn answer(scenario: &Scenario, options: &RunOptions, mut send: impl FnMut(Bytes, Line) -> bool) {
    let mut sent = 0usize;
    let observed = run_observed(scenario, options, PROGRESS_EVERY, |p| {
        for events in p.trace.chunks(CHUNK) {
            if send(line(&json!({ "type": "trace", "events": events })), Line::Trace) {
                sent += events.len();
            }
        }
        let elapsed_ms = (p.elapsed.as_secs_f64() * 1e4).round() / 10.0;
        send(line(&json!({ "type": "progress", "elapsed_ms": elapsed_ms, "events": p.events })), Line::Required);
    });
    match observed {
        Ok(metrics) => {
            let events = metrics.events;
            send(line(&json!({ "type": "metrics", "metrics": metrics })), Line::Required);
            send(line(&json!({ "type": "done", "events": events, "sent": sent })), Line::Required);
        }
        Err(e) => {
            send(line(&json!({ "type": "error", "field": e.field, "message": e.to_string() })), Line::Required);
        }
    }
}

/// Whether a line of the answer may be left out when the page is behind.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Line {
    /// Trace events: left out past [`MAX_PENDING_BYTES`].
    Trace,
    /// `started`, `progress`, `metrics`, `done`, `error`: always sent.
    Required,
}

/// The run's end of the answer: lines wait in a channel for the page, and
/// the bytes waiting are counted (the page's end takes them off as it
/// reads), so a page that does not read holds at most `limit` bytes of
/// trace, whatever the run makes.
struct Outbox {
    tx: tokio::sync::mpsc::UnboundedSender<Bytes>,
    waiting: Arc<AtomicUsize>,
    limit: usize,
}

/// The page's end of an [`Outbox`].
struct Inbox {
    rx: tokio::sync::mpsc::UnboundedReceiver<Bytes>,
    waiting: Arc<AtomicUsize>,
}

impl Outbox {
    fn new(limit: usize) -> (Outbox, Inbox) {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let waiting = Arc::new(AtomicUsize::new(0));
        (Outbox { tx, waiting: waiting.clone(), limit }, Inbox { rx, waiting })
    }

    /// Queues `chunk` unless it is a trace line that would take what waits
    /// past the limit (or the page is gone); returns whether it was queued.
    fn send(&self, chunk: Bytes, kind: Line) -> bool {
        let len = chunk.len();
        if kind == Line::Trace && self.waiting.load(Ordering::Acquire) + len > self.limit {
            return false;
        }
        self.waiting.fetch_add(len, Ordering::AcqRel);
        if self.tx.send(chunk).is_err() {
            self.waiting.fetch_sub(len, Ordering::AcqRel);
            return false;
        }
        true
    }
}

impl Inbox {
    async fn recv(&mut self) -> Option<Bytes> {
        let chunk = self.rx.recv().await?;
        self.waiting.fetch_sub(chunk.len(), Ordering::AcqRel);
        Some(chunk)
    }
}

fn line(value: &Value) -> Bytes {
    let mut text = value.to_string();
    text.push('\n');
    Bytes::from(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(json: &str) -> RunRequest {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn a_variant_is_applied_and_a_bad_one_names_the_variants() {
        let scenario = r#"{"duration_ms": 100, "variants": [{"name": "long", "patch": {"duration_ms": 20000}}]}"#;
        let text = serde_json::to_string(scenario).unwrap();
        assert!(load(&request(&format!(r#"{{"scenario": {text}}}"#))).is_ok());
        let (field, message) = load(&request(&format!(r#"{{"scenario": {text}, "variant": "long"}}"#))).unwrap_err();
        assert_eq!(field, "duration_ms");
        assert!(message.contains("longer than 10 s"), "{message}");
        let (field, message) = load(&request(&format!(r#"{{"scenario": {text}, "variant": "short"}}"#))).unwrap_err();
        assert_eq!(field, "variant");
        assert!(message.contains("this scenario has: long"), "{message}");
    }

    /// A page that reads nothing holds at most the limit of trace lines;
    /// the lines that say how the run ends still go; what the page reads
    /// makes room again.
    #[test]
    fn trace_lines_past_the_byte_limit_are_left_out_and_the_ending_is_not() {
        let (outbox, mut inbox) = Outbox::new(1000);
        let trace = Bytes::from(vec![b'x'; 300]);
        let taken = (0..10).filter(|_| outbox.send(trace.clone(), Line::Trace)).count();
        assert_eq!(taken, 3, "three 300-byte lines fit in 1000 bytes");
        assert!(outbox.send(Bytes::from_static(b"{\"type\":\"done\"}\n"), Line::Required));
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let first = rt.block_on(inbox.recv()).unwrap();
        assert_eq!(first.len(), 300);
        assert!(outbox.send(trace.clone(), Line::Trace), "a line read makes room for another");
        assert!(!outbox.send(trace, Line::Trace));
        drop(outbox);
        let mut rest = Vec::new();
        while let Some(chunk) = rt.block_on(inbox.recv()) {
            rest.push(chunk.len());
        }
        assert_eq!(rest, [300, 300, 16, 300]);
    }

    #[test]
    fn the_scenario_may_be_an_object() {
        let (scenario, options) = load(&request(r#"{"scenario": {"main": [{"print": "hi"}]}, "seed": 7}"#)).unwrap();
        assert_eq!(scenario.spec().main.len(), 1);
        assert_eq!(options.seed, Some(7));
    }
}
