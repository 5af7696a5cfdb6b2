//! The mio driver: runs a twine-core reactor over real sockets.
//!
//! One loop on the reactor thread, in Twisted's order:
//!
//! 1. a reactor turn at the current time (inbox, then due timers), then the
//!    effects it asked for (writes, closes, listens, connects, ...);
//! 2. `mio::Poll` until the next timer, I/O, or the inbox's
//!    [`mio::Waker`] (rung only on the inbox's empty-to-non-empty edge, and
//!    only while the loop sleeps: it looks at the inbox before it does);
//! 3. I/O: accepts, reads, writes. Light connections (an interactive
//!    client's few messages) are read first, as their events come; heavy
//!    ones after them, in turn, each until the kernel has nothing more or
//!    its per-turn budget is spent: bytes (`Config::read_budget`) and
//!    messages (`Config::lines_per_turn` for byte streams,
//!    `messages_per_turn` for WebSockets), until the turn's budget
//!    (`Config::turn_budget`) is spent; the rest wait for the next turn
//!    ([`fairness`]). So one busy client cannot starve the rest, nor delay a
//!    light client's message by more than one short turn.
//!
//! Past their limits: a connection whose address has `Config::per_ip`
//! open already is told why and closed at accept; one whose output does
//! not move for `Config::write_timeout` is dropped ([`write_timeout`]).
//!
//! Writes: the reactor coalesces a callback's writes into one
//! [`Effect::Write`]; the driver sends it with one `write` call. What the
//! kernel does not take waits in the connection's buffer until the socket is
//! writable again; past the high-water mark the protocol hears
//! `WaterMark::High` (by default it pauses reading that peer), below the
//! low-water mark `WaterMark::Low`. Sent buffers go back to the reactor with
//! [`ReactorDriver::recycle_buffer`](twine_core::ReactorDriver::recycle_buffer), so the steady state allocates nothing.

mod backoff;
mod clock;
mod connect;
mod fairness;
mod io;
mod listen;
mod shutdown;
mod sources;
mod ticker;
mod websocket;
mod write_timeout;

use std::collections::VecDeque;
use std::io::ErrorKind;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::{Events, Interest, Poll, Token};
use twine_core::protocol::ConnectionId;
use twine_core::reactor::{Effect, ListenerId};
use twine_core::{Reactor, ReactorDriver, ReactorHandle, Time};

use crate::config::Config;
use crate::metrics::{DriverCounts, Metrics};
use crate::pool::OsThreadPool;

use clock::LoopClock;
pub use shutdown::ShutdownReport;
pub(crate) use sources::IdMap;
use sources::{Source, Sources};
pub(crate) use websocket::{Adopted, BuildProtocol, Handoff, WsSettings};

/// Runs on the reactor thread when a graceful shutdown begins.
pub(crate) type ShutdownHook = Box<dyn FnOnce(&Reactor)>;

const WAKER: Token = Token(usize::MAX);
const SIGNALS: Token = Token(usize::MAX - 1);
const TICKER: Token = Token(usize::MAX - 2);

/// How often at most a busy loop (one that polls without sleeping)
/// publishes its counters to [`Metrics`]: how stale they may be meanwhile.
/// A loop about to sleep publishes first.
const PUBLISH_EVERY: Duration = Duration::from_millis(5);

/// What other threads use to poke the loop.
pub(crate) struct Control {
    pub(crate) shutdown: AtomicBool,
    pub(crate) waker: mio::Waker,
    /// The loop is in (or about to enter) `mio::Poll::poll`: only then does
    /// the inbox's empty-edge wake need the waker's system call. While the
    /// loop is awake, it looks at the inbox before it sleeps.
    pub(crate) sleeping: AtomicBool,
    /// WebSockets the gateway handed over, waiting to be adopted.
    pub(crate) handoffs: websocket::Handoffs,
}

impl Control {
    pub(crate) fn request_shutdown(&self) {
        self.shutdown.store(true, Ordering::Release);
        let _ = self.waker.wake();
    }
}

pub(crate) struct Driver {
    pub(crate) reactor: ReactorDriver,
    /// The reactor's own handle, to look at its inbox before sleeping.
    inbox: ReactorHandle,
    poll: Poll,
    sources: Sources,
    conns: IdMap<ConnectionId, usize>,
    listeners: IdMap<ListenerId, usize>,
    pub(crate) listen_errors: IdMap<ListenerId, std::io::Error>,
    /// Heavy sources waiting for their read (and listeners for their
    /// accepts), in turn: (index, id). See [`fairness`].
    carry: VecDeque<(usize, u64)>,
    /// Streams whose writes were all sent: the reactor hears of each once,
    /// after the events of this pass (a producer resumed then may write
    /// again, and is told again on the next pass, as Twisted resumes it
    /// from a later `doWrite`).
    drained: Vec<(usize, u64)>,
    /// Streams with output waiting, watched by the write timeout: (index, id).
    stalled: Vec<(usize, u64)>,
    /// When the write timeout next looks at them.
    write_next_sweep: Instant,
    /// When a refusal under the per-address limit was last logged, and
    /// how many came since.
    per_ip_report: Option<Instant>,
    per_ip_refused_since_report: u64,
    /// Connection attempts in progress and their deadlines.
    connecting: Vec<(Instant, ConnectionId)>,
    read_buf: Vec<u8>,
    config: Config,
    epoch: Instant,
    /// Reads the time since `epoch`.
    loop_clock: LoopClock,
    now: Time,
    counts: DriverCounts,
    pub(crate) metrics: Metrics,
    pub(crate) pool: OsThreadPool,
    pub(crate) control: Arc<Control>,
    signals: Option<signal_hook_mio::v1_0::Signals>,
    shutdown: Option<shutdown::Shutdown>,
    report: ShutdownReport,
    pub(crate) shutdown_hooks: Vec<ShutdownHook>,
    /// When the loop last published its counters.
    last_publish: Time,
    /// Something happened since then that metrics readers have not seen.
    unpublished: bool,
    /// WebSockets with frames not yet handed to their streams.
    ws_dirty: Vec<(usize, ConnectionId)>,
    /// Byte streams written to this turn, sent at its end: (index, id).
    turn_writes: Vec<(usize, u64)>,
    /// WebSockets open.
    ws_open: usize,
    /// How often idle and close timeouts are checked, and when next.
    ws_sweep_every: Duration,
    ws_next_sweep: Instant,
    /// Wakes the loop for the WebSocket sweeps while any is open.
    ticker: ticker::Ticker,
}

impl Driver {
    pub(crate) fn new(config: Config) -> std::io::Result<Driver> {
        let poll = Poll::new()?;
        let waker = mio::Waker::new(poll.registry(), WAKER)?;
        let ticker = ticker::Ticker::new(poll.registry(), TICKER)?;
        let control = Arc::new(Control {
            shutdown: AtomicBool::new(false),
            waker,
            sleeping: AtomicBool::new(true),
            handoffs: websocket::Handoffs::default(),
        });
        let reactor = ReactorDriver::new();
        let epoch = config.clock_origin.unwrap_or_else(Instant::now);
        let clock = LoopClock::new(epoch);
        reactor.set_clock(move || clock.now());
        // Pool threads time the jobs they take on the same clock.
        reactor.share_clock(move || clock.now());
        reactor.set_slow_call_threshold(config.slow_call_threshold);
        let wake = control.clone();
        reactor.set_waker(move || {
            // Pairs with the fence in `sleep`: either the loop sees the new
            // call before it sleeps, or this sees it sleeping and wakes it.
            std::sync::atomic::fence(Ordering::SeqCst);
            if wake.sleeping.load(Ordering::Relaxed) {
                let _ = wake.waker.wake();
            }
        });
        let pool = OsThreadPool::new(config.threads, config.max_queued_jobs);
        reactor.set_thread_pool(pool.clone());
        let metrics = Metrics::new(reactor.handle(), pool.clone());
        let signals = if config.handle_signals {
            let mut signals =
                signal_hook_mio::v1_0::Signals::new([signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM])?;
            poll.registry().register(&mut signals, SIGNALS, Interest::READABLE)?;
            Some(signals)
        } else {
            None
        };
        Ok(Driver {
            inbox: reactor.handle(),
            reactor,
            poll,
            sources: Sources::default(),
            conns: IdMap::default(),
            listeners: IdMap::default(),
            listen_errors: IdMap::default(),
            carry: VecDeque::new(),
            drained: Vec::new(),
            stalled: Vec::new(),
            write_next_sweep: epoch,
            per_ip_report: None,
            per_ip_refused_since_report: 0,
            connecting: Vec::new(),
            read_buf: vec![0; config.read_buffer.max(1024)],
            config,
            epoch,
            loop_clock: clock,
            now: Time::ZERO,
            counts: DriverCounts::default(),
            metrics,
            pool,
            control,
            signals,
            shutdown: None,
            report: ShutdownReport::default(),
            shutdown_hooks: Vec::new(),
            last_publish: Time::ZERO,
            unpublished: true,
            ws_dirty: Vec::new(),
            turn_writes: Vec::new(),
            ws_open: 0,
            ws_sweep_every: Duration::from_secs(1),
            ws_next_sweep: epoch,
            ticker,
        })
    }

    fn clock(&mut self) -> Time {
        self.now = self.loop_clock.now();
        self.now
    }

    /// The loop's last clock reading as an `Instant`, for the driver's own
    /// deadlines: no clock read of its own (the loop reads the clock before
    /// its turn, before it works out how long to sleep, and after polling).
    fn loop_instant(&self) -> Instant {
        self.epoch + self.now.saturating_since(Time::ZERO)
    }

    /// Runs the loop until the reactor stops, then winds everything down.
    pub(crate) fn run(mut self) -> ShutdownReport {
        let mut events = Events::with_capacity(1024);
        loop {
            let now = self.clock();
            self.reactor.handle_timeout(now);
            self.apply_effects();
            self.flush_outputs();
            // Before deciding how long to sleep: only a producer that wrote
            // again when resumed leaves something for a zero-timeout poll.
            self.run_drained();
            // What the resumed producers wrote leaves before the sleep.
            self.flush_outputs();
            if self.reactor.is_stopped() {
                break;
            }
            let timeout = self.poll_timeout();
            let timeout = self.publish(timeout);
            if let Err(e) = self.sleep(&mut events, timeout) {
                if e.kind() != ErrorKind::Interrupted {
                    tracing::error!("the reactor's poll failed: {e}; stopping");
                    let _ = self.reactor.stop();
                }
                continue;
            }
            self.clock();
            self.unpublished = true;
            // Light connections are read as their events come, heavy ones
            // after them, in turn, up to the turn budget ([`fairness`]).
            for event in events.iter() {
                match event.token() {
                    WAKER => {}
                    SIGNALS => self.on_signals(),
                    TICKER => self.on_tick(),
                    Token(i) => self.on_event(i, event),
                }
            }
            // The light pass's answers leave before the heavy pass reads
            // the floods: an interactive client waits for its own turn's
            // reads, never for a turn budget of flood messages. (Within a
            // pass, writes still wait for every read, as in Twisted.)
            self.flush_outputs();
            self.run_carried();
            self.run_drained();
            self.adopt_websockets();
            self.ws_timers();
            self.write_timers();
            self.flush_outputs();
            self.retry_accepts();
            self.expire_connects();
            if self.control.shutdown.load(Ordering::Acquire) {
                self.begin_shutdown("shutdown requested");
            }
            self.shutdown_step();
        }
        self.finish()
    }

    /// Sends what this turn's callbacks wrote: byte streams' writes and
    /// WebSockets' frames.
    fn flush_outputs(&mut self) {
        self.flush_turn_writes();
        self.flush_websockets();
    }

    /// Polls for I/O, sleeping up to `timeout`, unless the inbox has calls
    /// (then it only looks). Inbox wakes ring the waker only meanwhile.
    pub(crate) fn sleep(&mut self, events: &mut Events, timeout: Option<Duration>) -> std::io::Result<()> {
        self.control.sleeping.store(true, Ordering::Relaxed);
        std::sync::atomic::fence(Ordering::SeqCst);
        let timeout = if self.inbox.inbox_depth() > 0 { Some(Duration::ZERO) } else { timeout };
        let polled = self.poll.poll(events, timeout);
        self.control.sleeping.store(false, Ordering::Relaxed);
        polled
    }

    fn poll_timeout(&mut self) -> Option<Duration> {
        if !self.carry.is_empty() || !self.drained.is_empty() {
            return Some(Duration::ZERO);
        }
        // Measured from a clock reading taken now, after the turn, as
        // Twisted's mainLoop asks `timeout()` after `runUntilCurrent()`: a
        // turn's slow callback (280 ms of work) would otherwise add its own
        // length to the sleep, and a timer that fell due meanwhile would run
        // that much later again.
        self.clock();
        let now = self.loop_instant();
        let mut timeout = self.reactor.poll_timeout().map(|due| due.saturating_since(self.now));
        let mut cap = |d: Duration| timeout = Some(timeout.map_or(d, |t| t.min(d)));
        if let Some(deadline) = self.next_connect_deadline() {
            cap(deadline.saturating_duration_since(now));
        }
        if let Some(due) = self.ws_timer_due() {
            cap(due.saturating_duration_since(now));
        }
        if let Some(due) = self.write_timer_due() {
            cap(due.saturating_duration_since(now));
        }
        if let Some(retry) = self.next_accept_retry() {
            cap(retry.saturating_duration_since(now));
        }
        if let Some(s) = &self.shutdown {
            // Check often while draining: the last close ends the wait.
            cap(s.deadline.saturating_duration_since(now).min(Duration::from_millis(50)));
        }
        timeout
    }

    fn on_event(&mut self, i: usize, event: &mio::event::Event) {
        match self.sources.slots.get(i) {
            Some(Some(Source::Listener(_))) => self.accept(i),
            Some(Some(Source::Stream(_))) => self.stream_event(i, event),
            _ => {}
        }
    }

    /// Applies every effect the reactor has asked for, including those the
    /// effects themselves cause (a close runs `connection_lost`, which may write).
    pub(crate) fn apply_effects(&mut self) {
        while let Some(effect) = self.reactor.poll_effect() {
            self.apply(effect);
        }
    }

    fn apply(&mut self, effect: Effect) {
        let conn = match &effect {
            Effect::Write { conn, .. }
            | Effect::Send { conn, .. }
            | Effect::Close { conn }
            | Effect::Abort { conn }
            | Effect::PauseReading { conn }
            | Effect::ResumeReading { conn }
            | Effect::ReportDrained { conn, .. } => *conn,
            Effect::Listen { listener, addr } => return self.listen(*listener, *addr),
            Effect::StopListening { listener } => return self.stop_listening(*listener),
            Effect::Connect { conn, addr, timeout } => return self.connect(*conn, *addr, *timeout),
        };
        let Some(&i) = self.conns.get(&conn) else {
            // Already closed.
            if let Effect::Write { data, .. } = effect {
                self.reactor.recycle_buffer(data);
            }
            return;
        };
        let websocket = self.sources.stream(i).is_some_and(|s| s.ws.is_some());
        match effect {
            Effect::Write { data, .. } => self.write_at_turn_end(i, data),
            Effect::Send { message, .. } if websocket => self.ws_send(i, message),
            Effect::Send { message, .. } => self.write_at_turn_end(i, message.as_bytes().to_vec()),
            Effect::Close { .. } if websocket => self.ws_close(i),
            Effect::Close { .. } => self.close_when_flushed(i),
            Effect::Abort { .. } => self.abort(i),
            Effect::PauseReading { .. } => self.set_read_paused(i, true),
            Effect::ResumeReading { .. } => self.set_read_paused(i, false),
            Effect::ReportDrained { on, .. } => self.set_report_drained(i, on),
            _ => {}
        }
    }

    /// Before polling with `timeout`: publishes the counters for metrics
    /// readers when the loop is about to sleep on counts they have not
    /// seen, and while it is busy (polling without sleeping) at most once
    /// per [`PUBLISH_EVERY`]. Returns the timeout to poll with, unchanged.
    ///
    /// Publishing before each sleep costs about 100 user instructions (a
    /// message at 1x1 costs 3,000 to 4,000). The sleep shortened to publish
    /// at the end of the period, as this did before, armed a kernel timer
    /// per sleep, which costs far more: the server's CPU per message at
    /// 1x1 was 1.07x what it is now (native/bench/RESULTS-ws.md, 2026-12-03).
    fn publish(&mut self, timeout: Option<Duration>) -> Option<Duration> {
        if !self.unpublished {
            return timeout;
        }
        let busy = timeout == Some(Duration::ZERO);
        // The loop's last clock reading is recent enough to pace this by.
        if !busy || self.now.saturating_since(self.last_publish) >= PUBLISH_EVERY {
            self.publish_now();
        }
        timeout
    }

    /// Lets metrics readers see where things stand now.
    fn publish_now(&mut self) {
        self.last_publish = self.now;
        self.unpublished = false;
        self.metrics.publish(&self.reactor.stats(), self.reactor.jobs_in_flight(), &self.counts);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;
    use std::time::Instant;

    use super::*;
    use crate::ReactorThread;

    /// The waker is skipped while the loop is awake; no call may be left
    /// waiting for a wake that never comes. Bursts with pauses between
    /// them let the loop fall asleep at every point of its cycle.
    #[test]
    fn calls_from_other_threads_all_run_whether_the_loop_is_awake_or_asleep() {
        let (server, ()) = ReactorThread::spawn(Config::default(), |_| Ok(())).unwrap();
        let ran = Arc::new(AtomicUsize::new(0));
        let senders: Vec<_> = (0..4)
            .map(|t| {
                let handle = server.handle().clone();
                let ran = ran.clone();
                std::thread::spawn(move || {
                    for i in 0..2000 {
                        let ran = ran.clone();
                        handle.call_from_thread(move |_| {
                            ran.fetch_add(1, Ordering::Relaxed);
                        });
                        if i % (50 + t) == 0 {
                            std::thread::sleep(Duration::from_micros(200));
                        }
                    }
                })
            })
            .collect();
        for s in senders {
            s.join().unwrap();
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while ran.load(Ordering::Relaxed) < 8000 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(ran.load(Ordering::Relaxed), 8000);
        // The last call was not left for a later wake: a single call gets through too.
        let (tx, rx) = std::sync::mpsc::channel();
        server.handle().call_from_thread(move |_| tx.send(()).unwrap());
        assert!(rx.recv_timeout(Duration::from_secs(5)).is_ok());
        server.shutdown();
        server.join();
    }
}
