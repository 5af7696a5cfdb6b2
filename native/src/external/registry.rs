//! The reactor side of external message connections.
//!
//! Calls from the external side arrive as inbox closures that see only the
//! [`Reactor`], and the driver applies effects outside any closure; both
//! reach the open connections through this per-thread registry. Nothing
//! here holds a registry borrow while calling into the reactor, since
//! protocol callbacks may run there.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::Waker;

use twine_core::defer::{Failure, FailureKind};
use twine_core::protocol::{ConnectionId, ConnectionKind, Message, Protocol};
use twine_core::reactor::{Effect, WaterMark};
use twine_core::Reactor;

use super::queues::Shared;
use super::Outgoing;
use crate::driver::IdMap;
use crate::metrics::DriverCounts;

struct Entry {
    shared: Arc<Shared>,
    overflow: VecDeque<Outgoing>,
    overflow_bytes: usize,
    above_high: bool,
}

impl Entry {
    /// Keeps `item` in the overflow, behind what is there.
    fn hold(&mut self, item: Outgoing, counts: &mut DriverCounts) {
        let weight = item.weight();
        self.overflow.push_back(item);
        self.overflow_bytes += weight;
        counts.buffered_bytes += weight as u64;
    }
}

#[derive(Default)]
struct Registry {
    entries: IdMap<ConnectionId, Entry>,
    /// What external connections add to the driver's metrics (their
    /// overflow counts as `buffered_bytes`).
    counts: DriverCounts,
    shutting_down: bool,
}

thread_local! {
    static REGISTRY: RefCell<Registry> = RefCell::default();
    /// Consumers to wake once the effects being applied are all queued.
    static WAKES: RefCell<Vec<Waker>> = const { RefCell::new(Vec::new()) };
}

/// Wakes `waker` at the next [`wake_consumers`] (the driver calls it after
/// applying effects), so a consumer is woken once per batch of items rather
/// than racing the reactor for the first one. Off the reactor thread, where
/// no driver will call it, wakes at once.
pub(super) fn defer_wake(waker: Waker) {
    if crate::blocking::is_reactor_thread() {
        WAKES.with(|w| w.borrow_mut().push(waker));
    } else {
        waker.wake();
    }
}

/// Wakes the consumers that items were queued for since the last call.
pub(crate) fn wake_consumers() {
    // Take the list out first: a waker may run arbitrary code.
    let mut wakes = WAKES.with(|w| std::mem::take(&mut *w.borrow_mut()));
    if wakes.is_empty() {
        return;
    }
    for waker in wakes.drain(..) {
        waker.wake();
    }
    // Keep the capacity for the next turn.
    WAKES.with(|w| {
        let mut w = w.borrow_mut();
        if w.is_empty() {
            *w = wakes;
        }
    });
}

fn with<R>(f: impl FnOnce(&mut Registry) -> R) -> R {
    REGISTRY.with(|r| f(&mut r.borrow_mut()))
}

/// The counts for metrics.
pub(crate) fn counts() -> DriverCounts {
    with(|r| r.counts)
}

/// From now on, new connections are closed as soon as they open.
pub(crate) fn set_shutting_down() {
    with(|r| r.shutting_down = true);
}

pub(super) fn open(reactor: &Reactor, shared: &Arc<Shared>, build: impl FnOnce() -> Box<dyn Protocol>) {
    if with(|r| r.shutting_down) {
        let _ = shared.try_push(Outgoing::Close);
        shared.close_queues();
        return;
    }
    let protocol = match catch_unwind(AssertUnwindSafe(build)) {
        Ok(protocol) => protocol,
        Err(payload) => {
            let failure = Failure::from_panic(payload);
            tracing::error!("building the protocol of a message connection panicked: {failure}");
            shared.abort();
            shared.close_queues();
            return;
        }
    };
    let now = reactor.seconds();
    let options = &shared.options;
    // The entry must exist before `open_connection` runs `connection_made`,
    // whose sends the driver applies through this registry.
    let id = reactor.open_connection(now, protocol, ConnectionKind::Message, options.peer, options.local);
    shared.conn.store(id.0, Ordering::Release);
    with(|r| {
        r.counts.connections_total += 1;
        r.entries.insert(
            id,
            Entry { shared: shared.clone(), overflow: VecDeque::new(), overflow_bytes: 0, above_high: false },
        )
    });
}

pub(super) fn drain_incoming(reactor: &Reactor, shared: &Arc<Shared>) {
    let (messages, more) = shared.take_incoming(shared.options.messages_per_turn);
    if more {
        // The rest next turn, after the other connections' calls.
        let s = shared.clone();
        reactor.handle().call_from_thread(move |reactor| drain_incoming(reactor, &s));
    }
    deliver(reactor, shared, messages);
}

/// Hands `messages` to the protocol, in order, while the connection lasts.
fn deliver(reactor: &Reactor, shared: &Arc<Shared>, messages: VecDeque<Message>) {
    // The reader may be waiting for the queue to shrink below its limit.
    shared.wake_reader();
    let id = ConnectionId(shared.conn.load(Ordering::Acquire));
    let (n, bytes) = (messages.len() as u64, messages.iter().map(|m| m.len() as u64).sum::<u64>());
    with(|r| {
        r.counts.messages_in += n;
        r.counts.bytes_in += bytes;
    });
    // One clock reading for the batch: they all arrived together.
    let now = reactor.seconds();
    for message in messages {
        if !with(|r| r.entries.contains_key(&id)) {
            return; // closed meanwhile (by the protocol or the peer)
        }
        reactor.handle_message(now, id, message);
    }
}

pub(super) fn peer_closed(reactor: &Reactor, shared: &Arc<Shared>, error: Option<String>) {
    // Messages left over from a budgeted drain go first: the protocol sees
    // everything the client sent before it left.
    let (left, _) = shared.take_incoming(usize::MAX);
    deliver(reactor, shared, left);
    let id = ConnectionId(shared.conn.load(Ordering::Acquire));
    let Some(entry) = with(|r| r.entries.remove(&id)) else { return };
    forget(&entry);
    shared.close_queues();
    let reason = match error {
        None => Failure::new(FailureKind::ConnectionDone, "the client closed the connection"),
        Some(e) => Failure::new(FailureKind::ConnectionLost, e),
    };
    reactor.handle_closed(reactor.seconds(), id, reason);
}

/// The consumer made room: move the overflow into the queue.
pub(super) fn flush(reactor: &Reactor, shared: &Arc<Shared>) {
    let id = ConnectionId(shared.conn.load(Ordering::Acquire));
    let outcome = with(|r| {
        let entry = r.entries.get_mut(&id)?;
        let mut finished = None;
        while let Some(item) = entry.overflow.pop_front() {
            let weight = item.weight();
            let ending = ending_of(&item);
            match entry.shared.try_push(item) {
                Ok(()) => {
                    entry.overflow_bytes -= weight;
                    r.counts.buffered_bytes -= weight as u64;
                    if ending.is_some() {
                        finished = ending;
                        break;
                    }
                }
                Err(item) => {
                    entry.overflow.push_front(item);
                    break;
                }
            }
        }
        let resumed = entry.overflow.is_empty() && std::mem::take(&mut entry.above_high);
        Some((finished, resumed))
    });
    let Some((finished, resumed)) = outcome else { return };
    if let Some(reason) = finished {
        finish(reactor, id, reason);
    } else if resumed {
        reactor.handle_write_buffer(reactor.seconds(), id, WaterMark::Low);
    }
}

fn ending_of(item: &Outgoing) -> Option<Failure> {
    match item {
        Outgoing::Message(_) => None,
        Outgoing::Close => Some(Failure::new(FailureKind::ConnectionDone, "connection closed")),
        Outgoing::Abort => Some(Failure::new(FailureKind::ConnectionLost, "connection aborted")),
    }
}

/// The reactor's side of the connection is over: tell the protocol once.
fn finish(reactor: &Reactor, id: ConnectionId, reason: Failure) {
    let Some(entry) = with(|r| r.entries.remove(&id)) else { return };
    forget(&entry);
    entry.shared.close_queues();
    reactor.handle_closed(reactor.seconds(), id, reason);
}

/// Takes an entry's share out of the counts.
fn forget(entry: &Entry) {
    with(|r| {
        r.counts.buffered_bytes -= entry.overflow_bytes as u64;
        if entry.shared.reading_paused.load(Ordering::Acquire) {
            r.counts.reading_paused = r.counts.reading_paused.saturating_sub(1);
        }
    });
}

/// Applies an effect meant for an external connection. Gives it back when
/// `conn` is not one.
pub(crate) fn apply_effect(reactor: &Reactor, effect: Effect) -> Option<Effect> {
    let (Effect::Send { conn, .. }
    | Effect::Write { conn, .. }
    | Effect::Close { conn }
    | Effect::Abort { conn }
    | Effect::PauseReading { conn }
    | Effect::ResumeReading { conn }) = &effect
    else {
        return Some(effect);
    };
    let id = *conn;
    let known = with(|r| r.entries.contains_key(&id));
    if !known {
        return Some(effect);
    }
    match effect {
        Effect::Send { message, .. } => push(reactor, id, Outgoing::Message(message)),
        Effect::Write { data, .. } => {
            let message = twine_core::protocol::Message::binary(data);
            push(reactor, id, Outgoing::Message(message));
        }
        Effect::Close { .. } => push(reactor, id, Outgoing::Close),
        Effect::Abort { .. } => {
            let entry = with(|r| {
                let entry = r.entries.get_mut(&id)?;
                r.counts.buffered_bytes -= entry.overflow_bytes as u64;
                entry.overflow.clear();
                entry.overflow_bytes = 0;
                Some(entry.shared.clone())
            });
            if let Some(shared) = entry {
                shared.abort();
                finish(reactor, id, Failure::new(FailureKind::ConnectionLost, "connection aborted"));
            }
        }
        Effect::PauseReading { .. } | Effect::ResumeReading { .. } => {
            let paused = matches!(effect, Effect::PauseReading { .. });
            with(|r| {
                if let Some(entry) = r.entries.get(&id) {
                    if entry.shared.reading_paused.load(Ordering::Acquire) != paused {
                        entry.shared.set_reading_paused(paused);
                        if paused {
                            r.counts.reading_paused += 1;
                        } else {
                            r.counts.reading_paused -= 1;
                        }
                    }
                }
            });
        }
        _ => {}
    }
    None
}

/// Where [`push`] put an item.
enum Pushed {
    /// In the queue: the consumer has it.
    Queued,
    /// In the overflow, behind others.
    Held,
    /// In the overflow, which it starts: the protocol must hear `WaterMark::High`.
    Overflowed,
}

/// Queues an item for the consumer, keeping the order behind any overflow.
fn push(reactor: &Reactor, id: ConnectionId, item: Outgoing) {
    let ending = ending_of(&item);
    let pushed = with(|r| {
        let entry = r.entries.get_mut(&id)?;
        if let Outgoing::Message(m) = &item {
            r.counts.messages_out += 1;
            r.counts.bytes_out += m.len() as u64;
        }
        if !entry.overflow.is_empty() {
            entry.hold(item, &mut r.counts);
            return Some(Pushed::Held);
        }
        match entry.shared.try_push(item) {
            Ok(()) => Some(Pushed::Queued),
            Err(item) => {
                entry.hold(item, &mut r.counts);
                let was_high = std::mem::replace(&mut entry.above_high, true);
                Some(if was_high { Pushed::Held } else { Pushed::Overflowed })
            }
        }
    });
    match (pushed, ending) {
        (Some(Pushed::Queued), Some(reason)) => finish(reactor, id, reason),
        (Some(Pushed::Overflowed), _) => reactor.handle_write_buffer(reactor.seconds(), id, WaterMark::High),
        _ => {}
    }
}

/// The driver is leaving: tell every external side its connection is over,
/// and the protocols that they lost it.
pub(crate) fn close_all(reactor: &Reactor) {
    let ids: Vec<ConnectionId> = with(|r| r.entries.keys().copied().collect());
    for id in ids {
        let shared = with(|r| r.entries.get(&id).map(|e| e.shared.clone()));
        if let Some(shared) = shared {
            shared.abort();
        }
        finish(reactor, id, Failure::new(FailureKind::ConnectionLost, "the reactor stopped"));
    }
}
