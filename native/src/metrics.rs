//! Reactor health, readable from any thread: what `/metrics` shows.
//!
//! The reactor thread publishes its counters into atomics every few
//! milliseconds (and when it stops); the inbox depth and the pool's counters
//! are read live. Reading never touches the reactor, so a scrape cannot slow
//! it down.
//!
//! ```
//! use twine_native::{Config, ReactorThread};
//!
//! let (server, ()) = ReactorThread::spawn(Config::default(), |_| Ok(())).unwrap();
//! let snapshot = server.metrics().snapshot();
//! assert_eq!(snapshot.connections_open, 0);
//! assert!(snapshot.to_prometheus().contains("twine_reactor_turns_total"));
//! ```

use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use twine_core::reactor::ReactorStats;
use twine_core::ReactorHandle;

use crate::pool::OsThreadPool;

/// A live view of one reactor's health. Cheap to clone.
#[derive(Clone)]
pub struct Metrics {
    shared: Arc<Shared>,
}

#[derive(Default)]
struct Counters {
    turns: AtomicU64,
    calls: AtomicU64,
    slow_calls: AtomicU64,
    panics: AtomicU64,
    unhandled_errors: AtomicU64,
    timers_pending: AtomicU64,
    connections_open: AtomicU64,
    connections_total: AtomicU64,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
    messages_in: AtomicU64,
    messages_out: AtomicU64,
    buffered_bytes: AtomicU64,
    reading_paused: AtomicU64,
    accept_errors: AtomicU64,
    write_timeouts: AtomicU64,
    refused_per_ip: AtomicU64,
    jobs_in_flight: AtomicU64,
}

struct Shared {
    counters: Counters,
    shutting_down: AtomicBool,
    handle: ReactorHandle,
    pool: OsThreadPool,
}

/// The driver's own counts, published with the reactor's.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct DriverCounts {
    pub(crate) connections_total: u64,
    pub(crate) bytes_in: u64,
    pub(crate) bytes_out: u64,
    pub(crate) messages_in: u64,
    pub(crate) messages_out: u64,
    pub(crate) buffered_bytes: u64,
    pub(crate) reading_paused: u64,
    pub(crate) accept_errors: u64,
    pub(crate) write_timeouts: u64,
    pub(crate) refused_per_ip: u64,
}

/// One reading of [`Metrics`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MetricsSnapshot {
    /// Reactor turns (loop iterations) run.
    pub turns: u64,
    /// Callbacks run: timers, inbox calls, protocol callbacks.
    pub calls: u64,
    /// Callbacks that took longer than the slow threshold (50 ms by default).
    pub slow_calls: u64,
    /// Callbacks that panicked (caught; the reactor went on).
    pub panics: u64,
    /// Deferreds dropped holding an unhandled failure.
    pub unhandled_errors: u64,
    /// Timers waiting to fire.
    pub timers_pending: u64,
    /// Calls waiting in the inbox now.
    pub inbox_depth: u64,
    /// Open connections (TCP and WebSocket).
    pub connections_open: u64,
    /// Connections opened since start.
    pub connections_total: u64,
    /// Bytes read from TCP sockets, and WebSocket message bytes received.
    pub bytes_in: u64,
    /// Bytes written to TCP sockets, and WebSocket message bytes sent.
    pub bytes_out: u64,
    /// WebSocket messages received.
    pub messages_in: u64,
    /// WebSocket messages sent.
    pub messages_out: u64,
    /// Bytes the driver holds for peers that have not taken them yet
    /// (unsent TCP bytes and WebSocket frames).
    pub buffered_bytes: u64,
    /// Connections whose reading is paused (back-pressure).
    pub reading_paused: u64,
    /// Failed `accept` calls (out of file descriptors, most often): each
    /// one pauses its listener for a while (see `twine serve`'s log).
    pub accept_errors: u64,
    /// Connections dropped for taking none of their output for the write timeout.
    pub write_timeouts: u64,
    /// Connections refused at accept: their address had the most it may open.
    pub refused_per_ip: u64,
    /// Jobs handed to the pool whose results have not come back.
    pub jobs_in_flight: u64,
    /// Pool threads alive.
    pub pool_threads: u64,
    /// Jobs waiting for a pool thread.
    pub pool_queued: u64,
    /// Jobs running on pool threads.
    pub pool_busy: u64,
    /// Jobs the pool finished.
    pub pool_completed: u64,
    /// Whether a graceful shutdown is under way.
    pub shutting_down: bool,
}

impl Metrics {
    pub(crate) fn new(handle: ReactorHandle, pool: OsThreadPool) -> Metrics {
        Metrics {
            shared: Arc::new(Shared {
                counters: Counters::default(),
                shutting_down: AtomicBool::new(false),
                handle,
                pool,
            }),
        }
    }

    pub(crate) fn publish(&self, stats: &ReactorStats, jobs_in_flight: usize, driver: &DriverCounts) {
        let c = &self.shared.counters;
        let set = |a: &AtomicU64, v: u64| a.store(v, Ordering::Relaxed);
        set(&c.turns, stats.turns);
        set(&c.calls, stats.calls);
        set(&c.slow_calls, stats.slow_calls);
        set(&c.panics, stats.panics);
        set(&c.unhandled_errors, stats.unhandled_errors);
        set(&c.timers_pending, stats.timers_pending);
        set(&c.connections_open, stats.connections);
        set(&c.connections_total, driver.connections_total);
        set(&c.bytes_in, driver.bytes_in);
        set(&c.bytes_out, driver.bytes_out);
        set(&c.messages_in, driver.messages_in);
        set(&c.messages_out, driver.messages_out);
        set(&c.buffered_bytes, driver.buffered_bytes);
        set(&c.reading_paused, driver.reading_paused);
        set(&c.accept_errors, driver.accept_errors);
        set(&c.write_timeouts, driver.write_timeouts);
        set(&c.refused_per_ip, driver.refused_per_ip);
        set(&c.jobs_in_flight, jobs_in_flight as u64);
    }

    pub(crate) fn set_shutting_down(&self) {
        self.shared.shutting_down.store(true, Ordering::Relaxed);
    }

    /// Whether a graceful shutdown has begun (one atomic load): a gateway
    /// closing a client says "going away" (WebSocket 1001) when this is true.
    pub fn is_shutting_down(&self) -> bool {
        self.shared.shutting_down.load(Ordering::Relaxed)
    }

    /// Reads every counter now.
    pub fn snapshot(&self) -> MetricsSnapshot {
        let c = &self.shared.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let pool = self.shared.pool.stats();
        MetricsSnapshot {
            turns: get(&c.turns),
            calls: get(&c.calls),
            slow_calls: get(&c.slow_calls),
            panics: get(&c.panics),
            unhandled_errors: get(&c.unhandled_errors),
            timers_pending: get(&c.timers_pending),
            inbox_depth: self.shared.handle.inbox_depth() as u64,
            connections_open: get(&c.connections_open),
            connections_total: get(&c.connections_total),
            bytes_in: get(&c.bytes_in),
            bytes_out: get(&c.bytes_out),
            messages_in: get(&c.messages_in),
            messages_out: get(&c.messages_out),
            buffered_bytes: get(&c.buffered_bytes),
            reading_paused: get(&c.reading_paused),
            accept_errors: get(&c.accept_errors),
            write_timeouts: get(&c.write_timeouts),
            refused_per_ip: get(&c.refused_per_ip),
            jobs_in_flight: get(&c.jobs_in_flight),
            pool_threads: pool.threads as u64,
            pool_queued: pool.queued as u64,
            pool_busy: pool.busy as u64,
            pool_completed: pool.completed,
            shutting_down: self.shared.shutting_down.load(Ordering::Relaxed),
        }
    }
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.snapshot().fmt(f)
    }
}

impl MetricsSnapshot {
    /// Several reactors' snapshots added up (shutting down if any is).
    ///
    /// ```
    /// use twine_native::metrics::MetricsSnapshot;
    ///
    /// let a = MetricsSnapshot { connections_open: 2, ..MetricsSnapshot::default() };
    /// let b = MetricsSnapshot { connections_open: 3, shutting_down: true, ..MetricsSnapshot::default() };
    /// let total = MetricsSnapshot::sum(&[a, b]);
    /// assert_eq!(total.connections_open, 5);
    /// assert!(total.shutting_down);
    /// ```
    pub fn sum(snapshots: &[MetricsSnapshot]) -> MetricsSnapshot {
        let mut t = MetricsSnapshot::default();
        for s in snapshots {
            t.turns += s.turns;
            t.calls += s.calls;
            t.slow_calls += s.slow_calls;
            t.panics += s.panics;
            t.unhandled_errors += s.unhandled_errors;
            t.timers_pending += s.timers_pending;
            t.inbox_depth += s.inbox_depth;
            t.connections_open += s.connections_open;
            t.connections_total += s.connections_total;
            t.bytes_in += s.bytes_in;
            t.bytes_out += s.bytes_out;
            t.messages_in += s.messages_in;
            t.messages_out += s.messages_out;
            t.buffered_bytes += s.buffered_bytes;
            t.reading_paused += s.reading_paused;
            t.accept_errors += s.accept_errors;
            t.write_timeouts += s.write_timeouts;
            t.refused_per_ip += s.refused_per_ip;
            t.jobs_in_flight += s.jobs_in_flight;
            t.pool_threads += s.pool_threads;
            t.pool_queued += s.pool_queued;
            t.pool_busy += s.pool_busy;
            t.pool_completed += s.pool_completed;
            t.shutting_down |= s.shutting_down;
        }
        t
    }

    /// The main figures of each reactor, in Prometheus' text format, as
    /// `twine_per_reactor_*{reactor="K"}` beside the totals.
    pub fn per_reactor_prometheus(snapshots: &[MetricsSnapshot]) -> String {
        type Field = fn(&MetricsSnapshot) -> u64;
        let rows: [(&str, &str, &str, Field); 8] = [
            ("connections_open", "gauge", "Open connections, by reactor.", |s| s.connections_open),
            ("connections_total", "counter", "Connections opened, by reactor.", |s| s.connections_total),
            ("messages_in_total", "counter", "Messages received, by reactor.", |s| s.messages_in),
            ("messages_out_total", "counter", "Messages sent, by reactor.", |s| s.messages_out),
            ("turns_total", "counter", "Reactor turns run, by reactor.", |s| s.turns),
            ("inbox_depth", "gauge", "Calls waiting in the inbox, by reactor.", |s| s.inbox_depth),
            ("buffered_bytes", "gauge", "Bytes waiting for slow peers, by reactor.", |s| s.buffered_bytes),
            ("reading_paused", "gauge", "Connections with reading paused, by reactor.", |s| s.reading_paused),
        ];
        let mut out = String::with_capacity(1024);
        for (name, kind, help, field) in rows {
            let _ = writeln!(out, "# HELP twine_per_reactor_{name} {help}\n# TYPE twine_per_reactor_{name} {kind}");
            for (k, s) in snapshots.iter().enumerate() {
                let _ = writeln!(out, "twine_per_reactor_{name}{{reactor=\"{k}\"}} {}", field(s));
            }
        }
        out
    }

    /// The snapshot in Prometheus' text exposition format, every name
    /// prefixed `twine_`. A gateway appends its own lines.
    pub fn to_prometheus(&self) -> String {
        let rows: [(&str, &str, &str, u64); 23] = [
            ("reactor_turns_total", "counter", "Reactor turns run.", self.turns),
            ("reactor_calls_total", "counter", "Callbacks run on the reactor thread.", self.calls),
            ("reactor_slow_calls_total", "counter", "Callbacks slower than the slow threshold.", self.slow_calls),
            ("reactor_panics_total", "counter", "Callbacks that panicked.", self.panics),
            ("reactor_unhandled_errors_total", "counter", "Unhandled errors in Deferreds.", self.unhandled_errors),
            ("reactor_timers_pending", "gauge", "Timers waiting to fire.", self.timers_pending),
            ("reactor_inbox_depth", "gauge", "Calls waiting in the reactor inbox.", self.inbox_depth),
            ("connections_open", "gauge", "Open connections.", self.connections_open),
            ("connections_total", "counter", "Connections opened.", self.connections_total),
            ("bytes_in_total", "counter", "Bytes received.", self.bytes_in),
            ("bytes_out_total", "counter", "Bytes sent.", self.bytes_out),
            ("messages_in_total", "counter", "Messages received on message connections.", self.messages_in),
            ("messages_out_total", "counter", "Messages sent on message connections.", self.messages_out),
            ("buffered_bytes", "gauge", "Bytes waiting for slow peers.", self.buffered_bytes),
            ("reading_paused", "gauge", "Connections with reading paused.", self.reading_paused),
            (
                "accept_errors_total",
                "counter",
                "Failed accepts (each pauses its listener a while).",
                self.accept_errors,
            ),
            (
                "write_timeouts_total",
                "counter",
                "Connections dropped for reading nothing for the write timeout.",
                self.write_timeouts,
            ),
            (
                "refused_per_ip_total",
                "counter",
                "Connections refused: their address had the most it may open.",
                self.refused_per_ip,
            ),
            ("jobs_in_flight", "gauge", "Pool jobs whose results are pending.", self.jobs_in_flight),
            ("pool_threads", "gauge", "Pool threads alive.", self.pool_threads),
            ("pool_queued", "gauge", "Jobs waiting for a pool thread.", self.pool_queued),
            ("pool_busy", "gauge", "Jobs running on pool threads.", self.pool_busy),
            ("pool_completed_total", "counter", "Jobs the pool finished.", self.pool_completed),
        ];
        let mut out = String::with_capacity(2048);
        for (name, kind, help, value) in rows {
            write_prometheus(&mut out, name, kind, help, value);
        }
        out
    }
}

/// Appends one metric, `twine_{name}`, in Prometheus' text format: its
/// help, its type (`counter` or `gauge`) and its value.
pub(crate) fn write_prometheus(out: &mut String, name: &str, kind: &str, help: &str, value: u64) {
    let _ = writeln!(out, "# HELP twine_{name} {help}\n# TYPE twine_{name} {kind}\ntwine_{name} {value}");
}
