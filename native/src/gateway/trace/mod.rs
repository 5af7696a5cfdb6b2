//! `/ws/trace`: every reactor's trace events, live, to any number of viewers.
//!
//! While at least one viewer is connected, a sink on each reactor thread
//! serializes each event once, into a batch, and publishes the batch on one
//! bounded broadcast ring when the turn ends with nothing more waiting in
//! the inbox (or the batch is full). Each event names its reactor and
//! carries that reactor's sequence number. Publishing never waits: a viewer
//! that falls more than the ring behind loses the oldest batches, sees the
//! gap in a reactor's sequence numbers, and is told how many events it
//! lost. With no viewer the sinks are removed and tracing costs each
//! reactor one branch.
//!
//! The JSON messages are described in the [gateway docs](super#the-trace-feed-wstrace).

mod kinds;
pub(crate) mod viewer;

use std::io::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::{broadcast, oneshot};
use twine_core::trace::{TraceEvent, TraceRecord, TraceSink};
use twine_core::{Reactor, ReactorHandle};

use super::stats::GatewayStats;

/// Events per batch at most.
const MAX_BATCH_EVENTS: usize = 256;
/// Bytes of JSON per batch, roughly at most.
const MAX_BATCH_BYTES: usize = 32 * 1024;

/// Events serialized once, for every viewer.
pub(crate) struct TraceBatch {
    /// The reactor the events come from (its index among the gateway's).
    pub(crate) reactor: usize,
    /// The sequence number of the first event, in that reactor's count.
    pub(crate) first_seq: u64,
    /// The events' JSON, one after the other.
    pub(crate) text: Bytes,
    pub(crate) events: Vec<EventSpan>,
}

/// Where one event's JSON is in [`TraceBatch::text`], and its kind.
#[derive(Clone, Copy)]
pub(crate) struct EventSpan {
    pub(crate) start: u32,
    pub(crate) end: u32,
    pub(crate) kind: u8,
}

/// The fan-out point between the reactor's sink and the viewers. Cheap to clone.
#[derive(Clone)]
pub(crate) struct TraceHub {
    shared: Arc<HubShared>,
}

struct HubShared {
    tx: broadcast::Sender<Arc<TraceBatch>>,
    reactors: Vec<Traced>,
    stats: Arc<GatewayStats>,
    viewers: AtomicUsize,
    buffer_events: usize,
}

/// One reactor's side of the hub.
struct Traced {
    handle: ReactorHandle,
    /// Touched on the reactor thread only.
    installed: AtomicBool,
    next_seq: AtomicU64,
}

/// A viewer's place on the ring. Leaving (drop) removes the sink after the last viewer.
pub(crate) struct Subscription {
    pub(crate) rx: broadcast::Receiver<Arc<TraceBatch>>,
    hub: TraceHub,
}

impl TraceHub {
    pub(crate) fn new(handles: Vec<ReactorHandle>, buffer_events: usize, stats: Arc<GatewayStats>) -> TraceHub {
        let batches = (buffer_events / MAX_BATCH_EVENTS).max(2);
        let (tx, _) = broadcast::channel(batches);
        let reactors = handles
            .into_iter()
            .map(|handle| Traced { handle, installed: AtomicBool::new(false), next_seq: AtomicU64::new(0) })
            .collect();
        TraceHub {
            shared: Arc::new(HubShared {
                tx,
                reactors,
                stats,
                viewers: AtomicUsize::new(0),
                buffer_events: batches * MAX_BATCH_EVENTS,
            }),
        }
    }

    /// How many reactors the feed shows.
    pub(crate) fn reactors(&self) -> usize {
        self.shared.reactors.len()
    }

    /// Events the ring holds at most.
    pub(crate) fn buffer_events(&self) -> usize {
        self.shared.buffer_events
    }

    /// Joins as a viewer: once this returns, every event each reactor
    /// produces reaches the subscription (or is counted as lost). `None`
    /// when a reactor is gone.
    pub(crate) async fn join(&self) -> Option<Subscription> {
        let rx = self.shared.tx.subscribe();
        self.shared.viewers.fetch_add(1, Ordering::AcqRel);
        GatewayStats::bump(&self.shared.stats.trace_viewers);
        let subscription = Subscription { rx, hub: self.clone() };
        let mut waits = Vec::with_capacity(self.shared.reactors.len());
        for (index, traced) in self.shared.reactors.iter().enumerate() {
            let (done, installed) = oneshot::channel();
            let shared = self.shared.clone();
            let sent = traced.handle.call_from_thread(move |reactor| {
                install(reactor, &shared, index);
                let _ = done.send(());
            });
            if !sent {
                return None; // dropping `subscription` undoes the count
            }
            waits.push(installed);
        }
        for installed in waits {
            installed.await.ok()?;
        }
        Some(subscription)
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let shared = &self.hub.shared;
        shared.stats.trace_viewers.fetch_sub(1, Ordering::Relaxed);
        if shared.viewers.fetch_sub(1, Ordering::AcqRel) == 1 {
            for (index, traced) in shared.reactors.iter().enumerate() {
                let shared = shared.clone();
                traced.handle.call_from_thread(move |reactor| {
                    let traced = &shared.reactors[index];
                    if shared.viewers.load(Ordering::Acquire) == 0 && traced.installed.swap(false, Ordering::AcqRel) {
                        drop(reactor.take_trace_sink());
                    }
                });
            }
        }
    }
}

fn install(reactor: &Reactor, shared: &Arc<HubShared>, index: usize) {
    let traced = &shared.reactors[index];
    if shared.viewers.load(Ordering::Acquire) > 0 && !traced.installed.swap(true, Ordering::AcqRel) {
        let seq = traced.next_seq.load(Ordering::Acquire);
        reactor.set_trace_sink(HubSink {
            shared: shared.clone(),
            reactor: index,
            seq,
            first_seq: seq,
            text: Vec::with_capacity(4096),
            events: Vec::new(),
            scratch: Vec::with_capacity(256),
        });
    }
}

/// The sink on the reactor thread.
struct HubSink {
    shared: Arc<HubShared>,
    /// Which reactor this sink is on.
    reactor: usize,
    seq: u64,
    first_seq: u64,
    text: Vec<u8>,
    events: Vec<EventSpan>,
    scratch: Vec<u8>,
}

impl HubSink {
    fn publish(&mut self) {
        if self.events.is_empty() {
            return;
        }
        let batch = TraceBatch {
            reactor: self.reactor,
            first_seq: self.first_seq,
            text: Bytes::from(std::mem::replace(&mut self.text, Vec::with_capacity(4096))),
            events: std::mem::take(&mut self.events),
        };
        self.shared.stats.trace_events.fetch_add(batch.events.len() as u64, Ordering::Relaxed);
        self.first_seq = self.seq;
        self.shared.reactors[self.reactor].next_seq.store(self.seq, Ordering::Release);
        // Err only when no viewer is subscribed: nobody to lose anything.
        let _ = self.shared.tx.send(Arc::new(batch));
    }
}

impl TraceSink for HubSink {
    fn record(&mut self, record: &TraceRecord) {
        self.scratch.clear();
        if serde_json::to_writer(&mut self.scratch, record).is_err() || self.scratch.first() != Some(&b'{') {
            return;
        }
        let start = self.text.len();
        let _ = write!(self.text, "{{\"type\":\"event\",\"reactor\":{},\"seq\":{},", self.reactor, self.seq);
        self.text.extend_from_slice(&self.scratch[1..]);
        self.events.push(EventSpan {
            start: start as u32,
            end: self.text.len() as u32,
            kind: kinds::kind_of_json(&self.scratch),
        });
        self.seq += 1;
        let full = self.events.len() >= MAX_BATCH_EVENTS || self.text.len() >= MAX_BATCH_BYTES;
        // At the end of a turn with nothing waiting, the loop may go to sleep: publish now.
        let idle = matches!(record.event, TraceEvent::TurnEnd { .. })
            && self.shared.reactors[self.reactor].handle.inbox_depth() == 0;
        if full || idle {
            self.publish();
        }
    }
}

impl Drop for HubSink {
    fn drop(&mut self) {
        self.publish();
    }
}

pub(crate) use kinds::KindSet;
