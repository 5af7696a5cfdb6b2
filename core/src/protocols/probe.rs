//! A latency probe: a client that times round trips through an echo.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::rc::{Rc, Weak};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::defer::{Deferred, Failure};
use crate::protocol::{Message, Protocol, Transport};
use crate::reactor::DelayedCall;
use crate::time::Time;

/// How a [`LatencyProbe`] runs.
///
/// ```
/// use std::time::Duration;
/// use twine_core::protocols::ProbeConfig;
///
/// // 100 probes, one every 10 ms whatever the echoes do (open loop), each 64 bytes:
/// let config = ProbeConfig {
///     count: Some(100),
///     interval: Some(Duration::from_millis(10)),
///     size: 64,
///     ..ProbeConfig::default()
/// };
/// assert_eq!(config.timeout, Duration::from_secs(5));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProbeConfig {
    /// Probes to send; `None` keeps going until [`ProbeReport::stop`] or the
    /// connection closes. Default 10.
    pub count: Option<u64>,
    /// `None` (the default): send the next probe as soon as the previous
    /// one's echo is back, one in flight at a time (closed loop).
    /// `Some(interval)`: send one every `interval` whatever the echoes do
    /// (open loop), so a slow server shows queueing.
    pub interval: Option<Duration>,
    /// Pad each probe to at least this many bytes. Default 0 (no padding).
    pub size: usize,
    /// How long to wait for an echo, counted from the latest probe sent,
    /// before giving up on what is unanswered. Default 5 s.
    pub timeout: Duration,
    /// Close the connection once done. Default `true`.
    pub close_when_done: bool,
    /// Send nothing on its own: probes go out only through
    /// [`ProbeReport::send`] (an interactive echo console), and the probe
    /// runs until stopped or the connection closes. Default `false`.
    pub manual: bool,
}

impl Default for ProbeConfig {
    fn default() -> Self {
        ProbeConfig {
            count: Some(10),
            interval: None,
            size: 0,
            timeout: Duration::from_secs(5),
            close_when_done: true,
            manual: false,
        }
    }
}

/// Round-trip statistics of a [`LatencyProbe`]. Times are zero when no echo came back.
///
/// ```
/// use twine_core::protocols::LatencySummary;
///
/// let s = LatencySummary::from_samples(3, &[3, 1, 2].map(std::time::Duration::from_millis));
/// assert_eq!((s.sent, s.received, s.lost), (3, 3, 0));
/// assert_eq!(s.min.as_millis(), 1);
/// assert_eq!(s.p50.as_millis(), 2);
/// assert_eq!(s.max.as_millis(), 3);
/// assert_eq!(s.mean.as_millis(), 2);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LatencySummary {
    /// Probes sent.
    pub sent: u64,
    /// Echoes matched to a probe.
    pub received: u64,
    /// Probes with no echo (yet, while the probe runs).
    pub lost: u64,
    /// Echoes that matched no outstanding probe (duplicated or garbled).
    pub unexpected: u64,
    /// Fastest round trip.
    pub min: Duration,
    /// Mean round trip.
    pub mean: Duration,
    /// Median round trip (nearest rank).
    pub p50: Duration,
    /// 90th percentile round trip (nearest rank).
    pub p90: Duration,
    /// 99th percentile round trip (nearest rank).
    pub p99: Duration,
    /// Slowest round trip.
    pub max: Duration,
}

impl LatencySummary {
    /// Statistics of `samples` (round trips) out of `sent` probes.
    pub fn from_samples(sent: u64, samples: &[Duration]) -> LatencySummary {
        let received = samples.len() as u64;
        let mut summary =
            LatencySummary { sent, received, lost: sent.saturating_sub(received), ..LatencySummary::default() };
        if samples.is_empty() {
            return summary;
        }
        let mut sorted = samples.to_vec();
        sorted.sort_unstable();
        let rank = |p: f64| sorted[((p / 100.0 * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1];
        let total: u128 = sorted.iter().map(Duration::as_nanos).sum();
        summary.min = sorted[0];
        summary.max = sorted[sorted.len() - 1];
        summary.mean = Duration::from_nanos((total / sorted.len() as u128) as u64);
        summary.p50 = rank(50.0);
        summary.p90 = rank(90.0);
        summary.p99 = rank(99.0);
        summary
    }
}

impl fmt::Display for LatencySummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        write!(
            f,
            "{} sent, {} received, {} lost; rtt min {:.3} / p50 {:.3} / p90 {:.3} / p99 {:.3} / max {:.3} ms",
            self.sent,
            self.received,
            self.lost,
            ms(self.min),
            ms(self.p50),
            ms(self.p90),
            ms(self.p99),
            ms(self.max)
        )
    }
}

struct ProbeState {
    config: ProbeConfig,
    transport: Option<Transport>,
    next_seq: u64,
    /// Probes in flight: sequence number and when each was sent.
    outstanding: VecDeque<(u64, Time)>,
    samples: Vec<Duration>,
    unexpected: u64,
    tick: Option<DelayedCall>,
    deadline: Option<DelayedCall>,
    done: bool,
    waiters: Vec<Deferred<LatencySummary>>,
    on_round_trip: Option<RoundTripCallback>,
}

type RoundTripCallback = Rc<RefCell<dyn FnMut(RoundTrip)>>;

/// One measured round trip, as [`ProbeReport::on_round_trip`] reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoundTrip {
    /// The probe's sequence number.
    pub seq: u64,
    /// Time from sending the probe to its echo's arrival.
    pub rtt: Duration,
    /// The text the probe carried after its header (see [`ProbeReport::send`]).
    pub text: String,
}

impl ProbeState {
    fn summary(&self) -> LatencySummary {
        let mut summary = LatencySummary::from_samples(self.next_seq, &self.samples);
        summary.unexpected = self.unexpected;
        summary
    }

    /// Whether the probe has nothing more to send on its own.
    fn all_sent(&self) -> bool {
        self.config.manual || self.config.count.is_some_and(|count| self.next_seq >= count)
    }
}

/// The shared view of a [`LatencyProbe`]'s results: keep it while the probe
/// itself goes to the reactor. Cheap to clone.
///
/// ```
/// use std::time::Duration;
/// use twine_core::protocol::ConnectionKind;
/// use twine_core::protocols::{LatencyProbe, ProbeConfig};
/// use twine_core::testing::MemoryReactor;
///
/// let memory = MemoryReactor::new();
/// let (probe, report) = LatencyProbe::new(ProbeConfig { count: None, ..ProbeConfig::default() });
/// let ws = memory.open_connection(probe, ConnectionKind::Message);
/// let done = report.when_done();
/// memory.advance(Duration::from_millis(4));
/// let probe_message = memory.take_messages(ws).remove(0);
/// memory.deliver_message(ws, probe_message); // the echo
/// report.stop();
/// done.add_callback(|summary| {
///     assert_eq!((summary.sent, summary.received, summary.lost), (2, 1, 1));
///     assert_eq!(summary.max, Duration::from_millis(4));
///     summary
/// });
/// ```
#[derive(Clone)]
pub struct ProbeReport {
    state: Rc<RefCell<ProbeState>>,
}

impl ProbeReport {
    /// The statistics so far.
    pub fn summary(&self) -> LatencySummary {
        self.state.borrow().summary()
    }

    /// Every round trip measured, in the order the echoes came back.
    pub fn samples(&self) -> Vec<Duration> {
        self.state.borrow().samples.clone()
    }

    /// Whether the probe finished (all answered, timed out, stopped, or the connection closed).
    pub fn is_done(&self) -> bool {
        self.state.borrow().done
    }

    /// Fires with the final statistics when the probe finishes.
    pub fn when_done(&self) -> Deferred<LatencySummary> {
        let mut state = self.state.borrow_mut();
        if state.done {
            return crate::defer::succeed(state.summary());
        }
        let d = Deferred::with_label("LatencyProbe.when_done");
        state.waiters.push(d.clone());
        d
    }

    /// Stops probing now; what is unanswered counts as lost.
    pub fn stop(&self) {
        finish(&self.state);
    }

    /// Sends one probe carrying `text` now, whatever the configuration, and
    /// returns its sequence number; `None` when not connected or done. Its
    /// echo is timed like any other and reported to
    /// [`on_round_trip`](Self::on_round_trip) with the text.
    ///
    /// ```
    /// use std::time::Duration;
    /// use twine_core::protocol::ConnectionKind;
    /// use twine_core::protocols::{LatencyProbe, ProbeConfig};
    /// use twine_core::testing::MemoryReactor;
    ///
    /// let memory = MemoryReactor::new();
    /// let (probe, report) = LatencyProbe::new(ProbeConfig { manual: true, ..ProbeConfig::default() });
    /// let ws = memory.open_connection(probe, ConnectionKind::Message);
    /// let trips = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    /// let t = trips.clone();
    /// report.on_round_trip(move |trip| t.borrow_mut().push(trip));
    /// assert_eq!(report.send("hello, twine"), Some(0));
    /// memory.advance(Duration::from_millis(3));
    /// for echo in memory.take_messages(ws) {
    ///     memory.deliver_message(ws, echo);
    /// }
    /// let trip = trips.borrow()[0].clone();
    /// assert_eq!((trip.seq, trip.text.as_str(), trip.rtt), (0, "hello, twine", Duration::from_millis(3)));
    /// assert!(!report.is_done()); // a manual probe runs until stopped
    /// ```
    pub fn send(&self, text: &str) -> Option<u64> {
        let mut state = self.state.borrow_mut();
        let transport = state.transport.clone().filter(Transport::is_connected)?;
        if state.done {
            return None;
        }
        let seq = state.next_seq;
        let sent = now(&transport);
        state.next_seq += 1;
        state.outstanding.push_back((seq, sent));
        drop(state);
        transport.send(Message::text(format!("probe {seq} {} {text}", sent.as_nanos())));
        Some(seq)
    }

    /// Calls `f` with every round trip measured from now on.
    pub fn on_round_trip(&self, f: impl FnMut(RoundTrip) + 'static) {
        self.state.borrow_mut().on_round_trip = Some(Rc::new(RefCell::new(f)));
    }
}

impl fmt::Debug for ProbeReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProbeReport").field("done", &self.is_done()).field("summary", &self.summary()).finish()
    }
}

/// A client that measures round trips through an echo server.
///
/// Each probe is a text message `probe <seq> <sent>` (the sequence number
/// and the reactor time in nanoseconds, padded to
/// [`ProbeConfig::size`]). Echoes are matched to probes by sequence number;
/// the round trip is the reactor time between sending and the echo's
/// arrival. It runs over any transport: as it is on a message connection (a
/// WebSocket to the gateway's echo), in a
/// [`LineReceiver`](crate::protocols::basic::LineReceiver) over TCP (to
/// [`LineEcho`](crate::protocols::LineEcho)).
///
/// ```
/// use std::time::Duration;
/// use twine_core::protocol::factory;
/// use twine_core::protocols::{basic::LineReceiver, Echo, LatencyProbe, LineEcho, ProbeConfig};
/// use twine_core::testing::MemoryReactor;
///
/// let memory = MemoryReactor::new();
/// memory.set_latency(Duration::from_millis(5)); // each way
/// let reactor = memory.reactor();
/// reactor.listen_tcp("127.0.0.1:7".parse().unwrap(), factory(|| LineEcho::new(Echo)));
///
/// let (probe, report) = LatencyProbe::new(ProbeConfig { count: Some(3), ..ProbeConfig::default() });
/// let mut probe = Some(probe);
/// reactor.connect_tcp(
///     "127.0.0.1:7".parse().unwrap(),
///     factory(move || LineReceiver::new(probe.take().expect("one connection"))),
///     Duration::from_secs(1),
/// );
/// memory.advance(Duration::from_secs(1));
/// let summary = report.summary();
/// assert_eq!((summary.sent, summary.received), (3, 3));
/// assert_eq!(summary.max, Duration::from_millis(10));
/// assert!(report.is_done());
/// ```
pub struct LatencyProbe {
    state: Rc<RefCell<ProbeState>>,
}

impl LatencyProbe {
    /// A probe and the report to read its results from.
    pub fn new(config: ProbeConfig) -> (LatencyProbe, ProbeReport) {
        let state = Rc::new(RefCell::new(ProbeState {
            config,
            transport: None,
            next_seq: 0,
            outstanding: VecDeque::new(),
            samples: Vec::new(),
            unexpected: 0,
            tick: None,
            deadline: None,
            done: false,
            waiters: Vec::new(),
            on_round_trip: None,
        }));
        (LatencyProbe { state: state.clone() }, ProbeReport { state })
    }

    /// Another handle on this probe's results.
    pub fn report(&self) -> ProbeReport {
        ProbeReport { state: self.state.clone() }
    }
}

impl fmt::Debug for LatencyProbe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("LatencyProbe").field(&self.report()).finish()
    }
}

fn now(transport: &Transport) -> Time {
    transport.reactor().map_or(Time::ZERO, |r| r.seconds())
}

fn encode(seq: u64, sent: Time, size: usize) -> String {
    let mut text = format!("probe {seq} {}", sent.as_nanos());
    if text.len() < size {
        text.push(' ');
        text.extend(std::iter::repeat_n('x', size - text.len()));
    }
    text
}

/// `probe <seq> <sent> [text]` into its parts.
fn decode(bytes: &[u8]) -> Option<(u64, u64, &str)> {
    let text = std::str::from_utf8(bytes).ok()?;
    let mut fields = text.splitn(4, ' ');
    if fields.next()? != "probe" {
        return None;
    }
    Some((fields.next()?.parse().ok()?, fields.next()?.parse().ok()?, fields.next().unwrap_or("")))
}

/// Sends the next probe if there is one to send; arms the deadline when the
/// probe now waits on echoes alone.
fn send_next(state_rc: &Rc<RefCell<ProbeState>>) -> bool {
    let mut state = state_rc.borrow_mut();
    let Some(transport) = state.transport.clone() else { return false };
    if state.done || state.all_sent() || !transport.is_connected() {
        return false;
    }
    let seq = state.next_seq;
    let sent = now(&transport);
    state.next_seq += 1;
    state.outstanding.push_back((seq, sent));
    transport.send(Message::text(encode(seq, sent, state.config.size)));
    if state.config.interval.is_none() || state.all_sent() {
        if let Some(old) = state.deadline.take() {
            let _ = old.cancel();
        }
        if let Some(reactor) = transport.reactor() {
            let weak = Rc::downgrade(state_rc);
            state.deadline = Some(reactor.call_later(state.config.timeout, move |_| {
                if let Some(state) = weak.upgrade() {
                    state.borrow_mut().deadline = None;
                    finish(&state);
                }
            }));
        }
    }
    true
}

fn schedule_tick(state_rc: &Rc<RefCell<ProbeState>>, interval: Duration) {
    let mut state = state_rc.borrow_mut();
    let Some(reactor) = state.transport.as_ref().and_then(Transport::reactor) else { return };
    if state.done || state.all_sent() {
        return;
    }
    let weak: Weak<RefCell<ProbeState>> = Rc::downgrade(state_rc);
    state.tick = Some(reactor.call_later(interval, move |_| {
        if let Some(state) = weak.upgrade() {
            state.borrow_mut().tick = None;
            if send_next(&state) {
                schedule_tick(&state, interval);
            }
        }
    }));
}

fn finish(state_rc: &Rc<RefCell<ProbeState>>) {
    let (waiters, summary, close) = {
        let mut state = state_rc.borrow_mut();
        if state.done {
            return;
        }
        state.done = true;
        for call in [state.tick.take(), state.deadline.take()].into_iter().flatten() {
            let _ = call.cancel();
        }
        let close = state.config.close_when_done.then(|| state.transport.clone()).flatten();
        (std::mem::take(&mut state.waiters), state.summary(), close)
    };
    if let Some(transport) = close {
        transport.lose_connection();
    }
    for waiter in waiters {
        let _ = waiter.callback(summary);
    }
}

impl Protocol for LatencyProbe {
    fn connection_made(&mut self, transport: &Transport) {
        self.state.borrow_mut().transport = Some(transport.clone());
        send_next(&self.state);
        let interval = self.state.borrow().config.interval;
        if let Some(interval) = interval {
            schedule_tick(&self.state, interval);
        }
    }

    fn message_received(&mut self, transport: &Transport, message: Message) {
        let (finished, measured) = {
            let mut state = self.state.borrow_mut();
            if state.done {
                return;
            }
            let arrived = now(transport);
            let mut measured = None;
            let matched = decode(message.as_bytes()).and_then(|(seq, sent, text)| {
                let at = state.outstanding.iter().position(|&(s, t)| s == seq && t.as_nanos() == sent)?;
                state.outstanding.remove(at).map(|found| (found, text))
            });
            match matched {
                Some(((seq, sent), text)) => {
                    let rtt = arrived.saturating_since(sent);
                    state.samples.push(rtt);
                    if let Some(callback) = state.on_round_trip.clone() {
                        measured = Some((callback, RoundTrip { seq, rtt, text: text.to_owned() }));
                    }
                }
                None => state.unexpected += 1,
            }
            (!state.config.manual && state.all_sent() && state.outstanding.is_empty(), measured)
        };
        // Outside the borrow: the callback may read the report.
        if let Some((callback, round_trip)) = measured {
            (callback.borrow_mut())(round_trip);
        }
        if finished {
            finish(&self.state);
        } else if self.state.borrow().config.interval.is_none() && self.state.borrow().outstanding.is_empty() {
            send_next(&self.state);
        }
    }

    fn connection_lost(&mut self, _transport: &Transport, _reason: &Failure) {
        finish(&self.state);
    }
}
