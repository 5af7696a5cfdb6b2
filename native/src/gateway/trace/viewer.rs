//! One `/ws/trace` viewer: hello, subscriptions, events within its rate,
//! and the count of what it lost.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::{Error as WsError, Message as WsMessage, Utf8Bytes};
use twine_core::trace::{TraceEvent, SCHEMA_VERSION};

use super::{KindSet, TraceBatch};
use crate::gateway::upgrade::Socket;
use crate::gateway::{shutting_down, App};
use crate::ws_framing::{close_frame, code};

/// Events per second a viewer gets unless it asks otherwise.
pub const DEFAULT_MAX_RATE: u32 = 2_000;
/// The most events per second a viewer may ask for.
pub const MAX_RATE: u32 = 1_000_000;
/// How often at most a viewer hears about events dropped for its rate.
const RATE_REPORT_EVERY: Duration = Duration::from_millis(250);

/// What a viewer sends.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Subscribe {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    kinds: Option<KindsSpec>,
    #[serde(default)]
    max_rate: Option<u32>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum KindsSpec {
    All(String),
    List(Vec<String>),
}

/// What a viewer asked for, and how much of its rate is left.
struct Filter {
    kinds: KindSet,
    max_rate: u32,
    tokens: f64,
    refilled: Instant,
}

impl Filter {
    fn new() -> Filter {
        Filter {
            kinds: KindSet::ALL,
            max_rate: DEFAULT_MAX_RATE,
            tokens: f64::from(DEFAULT_MAX_RATE),
            refilled: Instant::now(),
        }
    }

    /// Applies a subscribe message; errs with what is wrong, changing nothing.
    fn apply(&mut self, text: &str) -> Result<(), String> {
        let sub: Subscribe = serde_json::from_str(text).map_err(|e| format!("not a subscribe message: {e}"))?;
        if sub.kind != "subscribe" {
            return Err(format!("unknown message type {:?} (expected \"subscribe\")", sub.kind));
        }
        let kinds = match sub.kinds {
            None => self.kinds,
            Some(KindsSpec::All(all)) if all == "all" => KindSet::ALL,
            Some(KindsSpec::All(other)) => {
                return Err(format!("kinds must be \"all\" or a list of kinds, not {other:?}"))
            }
            Some(KindsSpec::List(list)) => KindSet::of(list.iter().map(String::as_str))?,
        };
        let max_rate = sub.max_rate.unwrap_or(self.max_rate);
        if !(1..=MAX_RATE).contains(&max_rate) {
            return Err(format!("max_rate must be between 1 and {MAX_RATE} events per second, not {max_rate}"));
        }
        self.kinds = kinds;
        self.max_rate = max_rate;
        self.tokens = self.tokens.min(f64::from(max_rate));
        Ok(())
    }

    fn refill(&mut self, now: Instant) {
        let rate = f64::from(self.max_rate);
        self.tokens = (self.tokens + now.duration_since(self.refilled).as_secs_f64() * rate).min(rate);
        self.refilled = now;
    }

    fn take(&mut self) -> bool {
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    fn describe(&self) -> ToViewer<'static> {
        let kinds = match self.kinds.names() {
            None => KindsOut::All("all"),
            Some(names) => KindsOut::List(names),
        };
        ToViewer::Subscribed { kinds, max_rate: self.max_rate }
    }
}

/// What a viewer lost and has not been told yet.
#[derive(Default)]
struct Losses {
    /// Per reactor: the sequence number the next batch should start at.
    next_seq: Vec<Option<u64>>,
    lagged: u64,
    rate: u64,
    total: u64,
    rate_reported: Option<Instant>,
}

/// What the server sends besides events, `type` first.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ToViewer<'a> {
    Hello {
        schema: &'static str,
        version: u32,
        kinds: &'a [&'static str],
        max_rate: u32,
        buffer_events: usize,
        reactors: usize,
    },
    Subscribed {
        kinds: KindsOut,
        max_rate: u32,
    },
    Dropped {
        count: u64,
        reason: &'a str,
        total: u64,
    },
    Error {
        message: String,
    },
}

#[derive(Serialize)]
#[serde(untagged)]
enum KindsOut {
    All(&'static str),
    List(Vec<&'static str>),
}

fn text(message: &ToViewer<'_>) -> WsMessage {
    // Serializing these plain values cannot fail.
    WsMessage::Text(Utf8Bytes::from(serde_json::to_string(message).unwrap_or_default()))
}

/// Serves one viewer until it leaves, the reactor goes, or the server shuts down.
pub(crate) async fn run(mut ws: Socket, app: Arc<App>) {
    let Some(mut sub) = app.trace.join().await else {
        let frame = close_frame(code::GOING_AWAY, "the reactor is gone");
        let _ = ws.send(WsMessage::Close(Some(frame))).await;
        return;
    };
    let mut filter = Filter::new();
    let hello = ToViewer::Hello {
        schema: "twine-trace",
        version: SCHEMA_VERSION,
        kinds: TraceEvent::KINDS,
        max_rate: DEFAULT_MAX_RATE,
        buffer_events: app.trace.buffer_events(),
        reactors: app.trace.reactors(),
    };
    if ws.send(text(&hello)).await.is_err() {
        return;
    }
    let mut shutdown = app.shutdown.clone();
    let mut losses = Losses::default();
    loop {
        let batch = tokio::select! {
            biased;
            _ = shutting_down(&mut shutdown) => {
                let frame = close_frame(code::GOING_AWAY, "server shutting down");
                let _ = tokio::time::timeout(app.config.close_timeout, ws.send(WsMessage::Close(Some(frame)))).await;
                return;
            }
            message = ws.next() => {
                match message {
                    Some(Ok(WsMessage::Text(t))) => {
                        let reply = match filter.apply(t.as_str()) {
                            Ok(()) => filter.describe(),
                            Err(message) => ToViewer::Error { message },
                        };
                        if ws.send(text(&reply)).await.is_err() {
                            return;
                        }
                    }
                    Some(Ok(WsMessage::Binary(_))) => {
                        let reply = ToViewer::Error { message: "send subscribe messages as text".to_owned() };
                        if ws.send(text(&reply)).await.is_err() {
                            return;
                        }
                    }
                    Some(Ok(_)) => {}
                    // The client left (its close was answered), or broke the protocol.
                    None | Some(Err(_)) => return,
                }
                continue;
            }
            batch = sub.rx.recv() => match batch {
                Ok(batch) => batch,
                // Lost batches show as a gap in the next one's sequence numbers.
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return,
            },
        };
        let sent = tokio::select! {
            biased;
            _ = shutting_down(&mut shutdown) => continue,
            sent = send_batch(&mut ws, &batch, &mut filter, &mut losses, &app) => sent,
        };
        if sent.is_err() {
            return;
        }
    }
}

async fn send_batch(
    ws: &mut Socket,
    batch: &TraceBatch,
    filter: &mut Filter,
    losses: &mut Losses,
    app: &App,
) -> Result<(), WsError> {
    if losses.next_seq.len() <= batch.reactor {
        losses.next_seq.resize(batch.reactor + 1, None);
    }
    let next_seq = &mut losses.next_seq[batch.reactor];
    let expected = *next_seq.get_or_insert(batch.first_seq);
    if batch.first_seq > expected {
        losses.lagged += batch.first_seq - expected;
    }
    *next_seq = Some(batch.first_seq + batch.events.len() as u64);
    if losses.lagged > 0 {
        let count = std::mem::take(&mut losses.lagged);
        report(ws, losses, app, count, "lagged").await?;
    }
    let now = Instant::now();
    filter.refill(now);
    let mut wrote = false;
    for event in &batch.events {
        if !filter.kinds.contains(event.kind) {
            continue;
        }
        if !filter.take() {
            losses.rate += 1;
            continue;
        }
        let json = batch.text.slice(event.start as usize..event.end as usize);
        if let Ok(json) = Utf8Bytes::try_from(json) {
            ws.feed(WsMessage::Text(json)).await?;
            wrote = true;
        }
    }
    if losses.rate > 0 && losses.rate_reported.is_none_or(|at| now.duration_since(at) >= RATE_REPORT_EVERY) {
        losses.rate_reported = Some(now);
        let count = std::mem::take(&mut losses.rate);
        report(ws, losses, app, count, "rate").await?;
    } else if wrote {
        ws.flush().await?;
    }
    Ok(())
}

async fn report(ws: &mut Socket, losses: &mut Losses, app: &App, count: u64, reason: &str) -> Result<(), WsError> {
    losses.total += count;
    app.stats.trace_dropped.fetch_add(count, Ordering::Relaxed);
    ws.send(text(&ToViewer::Dropped { count, reason, total: losses.total })).await
}

#[cfg(test)]
mod tests {
    use super::*;

    use serde_json::json;

    fn described(f: &Filter) -> serde_json::Value {
        serde_json::from_str(&serde_json::to_string(&f.describe()).unwrap()).unwrap()
    }

    #[test]
    fn messages_to_viewers_start_with_their_type() {
        let dropped = serde_json::to_string(&ToViewer::Dropped { count: 3, reason: "lagged", total: 7 }).unwrap();
        assert_eq!(dropped, r#"{"type":"dropped","count":3,"reason":"lagged","total":7}"#);
        let hello = ToViewer::Hello {
            schema: "twine-trace",
            version: 1,
            kinds: &["call"],
            max_rate: 5,
            buffer_events: 9,
            reactors: 2,
        };
        assert_eq!(
            serde_json::to_string(&hello).unwrap(),
            r#"{"type":"hello","schema":"twine-trace","version":1,"kinds":["call"],"max_rate":5,"buffer_events":9,"reactors":2}"#
        );
    }

    #[test]
    fn subscribe_messages_change_the_filter_or_say_what_is_wrong() {
        let mut f = Filter::new();
        f.apply(r#"{"type":"subscribe","kinds":["call"],"max_rate":10}"#).unwrap();
        assert_eq!(described(&f), json!({"type":"subscribed","kinds":["call"],"max_rate":10}));
        f.apply(r#"{"type":"subscribe","max_rate":20}"#).unwrap();
        assert_eq!(described(&f)["kinds"], json!(["call"]), "omitted fields stay");
        f.apply(r#"{"type":"subscribe","kinds":"all"}"#).unwrap();
        assert_eq!(described(&f)["kinds"], json!("all"));
        for (bad, says) in [
            (r#"{"type":"subscribe","kinds":["cal"]}"#, "\"cal\""),
            (r#"{"type":"subscribe","max_rate":0}"#, "max_rate"),
            (r#"{"type":"unsubscribe"}"#, "unknown message type"),
            (r#"{"type":"subscribe","kinds":"some"}"#, "\"some\""),
            ("not json", "not a subscribe message"),
            (r#"{"type":"subscribe","rate":3}"#, "rate"),
        ] {
            let err = f.apply(bad).unwrap_err();
            assert!(err.contains(says), "{bad}: {err}");
        }
        assert_eq!(described(&f), json!({"type":"subscribed","kinds":"all","max_rate":20}), "errors change nothing");
    }

    #[test]
    fn the_rate_limit_lets_through_at_most_its_rate() {
        let mut f = Filter::new();
        f.apply(r#"{"type":"subscribe","max_rate":5}"#).unwrap();
        f.refill(Instant::now());
        let passed = (0..100).filter(|_| f.take()).count();
        assert!(passed <= 5, "{passed}");
    }
}
