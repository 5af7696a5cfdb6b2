//! The gateway's own counters, and `/metrics` rendering.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

use super::slots::Slots;
use crate::metrics::write_prometheus;

/// Counters the gateway keeps beside the reactor's metrics.
#[derive(Default)]
pub(crate) struct GatewayStats {
    pub(crate) ws_total: AtomicU64,
    pub(crate) refused_origin: AtomicU64,
    pub(crate) refused_capacity: AtomicU64,
    pub(crate) refused_malformed: AtomicU64,
    pub(crate) closed_too_big: AtomicU64,
    pub(crate) closed_idle: AtomicU64,
    pub(crate) protocol_errors: AtomicU64,
    pub(crate) trace_viewers: AtomicU64,
    pub(crate) trace_events: AtomicU64,
    pub(crate) trace_dropped: AtomicU64,
    pub(crate) http_refused_capacity: AtomicU64,
    pub(crate) refused_per_ip: AtomicU64,
    pub(crate) http_header_timeouts: AtomicU64,
    pub(crate) http_accept_errors: AtomicU64,
}

/// One reading of the gateway's counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GatewayStatsSnapshot {
    /// WebSockets open now (all routes).
    pub ws_open: u64,
    /// WebSockets accepted since start.
    pub ws_total: u64,
    /// Upgrades refused for their `Origin` (403).
    pub refused_origin: u64,
    /// Upgrades refused because `max_connections` were open (503).
    pub refused_capacity: u64,
    /// Malformed upgrade requests (400).
    pub refused_malformed: u64,
    /// WebSockets closed with 1009 for a message over the limit.
    pub closed_too_big: u64,
    /// WebSockets closed for being idle.
    pub closed_idle: u64,
    /// WebSockets failed for a protocol error (bad frame, bad UTF-8, ...).
    pub protocol_errors: u64,
    /// `/ws/trace` viewers connected now.
    pub trace_viewers: u64,
    /// Trace events the reactor produced while viewers were connected.
    pub trace_events: u64,
    /// Trace events viewers lost (too slow, or over their rate), summed over viewers.
    pub trace_dropped: u64,
    /// TCP connections open now (HTTP requests and WebSockets).
    pub http_open: u64,
    /// TCP connections closed at accept because `max_http_connections` were open.
    pub http_refused_capacity: u64,
    /// TCP connections answered 429: their address had `per_ip` open.
    pub http_refused_per_ip: u64,
    /// Connections closed because a request's headers took longer than `header_read_timeout`.
    pub http_header_timeouts: u64,
    /// Failed accepts (out of file descriptors, most likely), each followed by a 1 s pause.
    pub http_accept_errors: u64,
}

impl GatewayStats {
    pub(crate) fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// The counters, with the WebSockets (`slots`) and TCP connections open now.
    pub(crate) fn snapshot(&self, slots: &Slots, connections: &Slots) -> GatewayStatsSnapshot {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        GatewayStatsSnapshot {
            ws_open: slots.open() as u64,
            ws_total: get(&self.ws_total),
            refused_origin: get(&self.refused_origin),
            refused_capacity: get(&self.refused_capacity),
            refused_malformed: get(&self.refused_malformed),
            closed_too_big: get(&self.closed_too_big),
            closed_idle: get(&self.closed_idle),
            protocol_errors: get(&self.protocol_errors),
            trace_viewers: get(&self.trace_viewers),
            trace_events: get(&self.trace_events),
            trace_dropped: get(&self.trace_dropped),
            http_open: connections.open() as u64,
            http_refused_capacity: get(&self.http_refused_capacity),
            http_refused_per_ip: get(&self.refused_per_ip),
            http_header_timeouts: get(&self.http_header_timeouts),
            http_accept_errors: get(&self.http_accept_errors),
        }
    }
}

impl GatewayStatsSnapshot {
    /// The counters in Prometheus' text format, prefixed `twine_`, to
    /// append to the reactor's.
    pub fn to_prometheus(&self) -> String {
        let mut out = String::with_capacity(2048);
        let mut row =
            |name: &str, kind: &str, help: &str, value: u64| write_prometheus(&mut out, name, kind, help, value);
        row("ws_connections_open", "gauge", "WebSockets open now.", self.ws_open);
        row("ws_connections_total", "counter", "WebSockets accepted.", self.ws_total);
        row(
            "ws_closed_too_big_total",
            "counter",
            "WebSockets closed with 1009 (message too big).",
            self.closed_too_big,
        );
        row("ws_closed_idle_total", "counter", "WebSockets closed for being idle.", self.closed_idle);
        row("ws_protocol_errors_total", "counter", "WebSockets failed on a protocol error.", self.protocol_errors);
        row("trace_viewers", "gauge", "Viewers of /ws/trace connected now.", self.trace_viewers);
        row("trace_events_total", "counter", "Trace events produced while viewers were connected.", self.trace_events);
        row(
            "trace_dropped_events_total",
            "counter",
            "Trace events viewers lost (slow or over rate).",
            self.trace_dropped,
        );
        row(
            "http_connections_open",
            "gauge",
            "TCP connections open to the gateway (WebSockets included).",
            self.http_open,
        );
        row(
            "http_refused_total",
            "counter",
            "Connections closed at accept: max-http-connections were open.",
            self.http_refused_capacity,
        );
        row(
            "http_refused_per_ip_total",
            "counter",
            "Connections answered 429: their address had max-connections-per-ip open.",
            self.http_refused_per_ip,
        );
        row(
            "http_header_timeouts_total",
            "counter",
            "Connections closed: request headers too slow.",
            self.http_header_timeouts,
        );
        row("http_accept_errors_total", "counter", "Failed accepts on the gateway.", self.http_accept_errors);
        let _ = writeln!(out, "# HELP twine_ws_refused_total WebSocket upgrades refused, by reason.");
        let _ = writeln!(out, "# TYPE twine_ws_refused_total counter");
        for (reason, value) in [
            ("origin", self.refused_origin),
            ("capacity", self.refused_capacity),
            ("malformed", self.refused_malformed),
        ] {
            let _ = writeln!(out, "twine_ws_refused_total{{reason=\"{reason}\"}} {value}");
        }
        if let Some(rss) = resident_bytes() {
            let _ = writeln!(out, "# HELP twine_process_resident_bytes Resident memory of the server process.");
            let _ = writeln!(out, "# TYPE twine_process_resident_bytes gauge\ntwine_process_resident_bytes {rss}");
        }
        out
    }
}

/// The process's resident set size, from `/proc/self/statm` (Linux).
fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}
