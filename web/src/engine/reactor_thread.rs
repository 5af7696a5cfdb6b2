//! The reactor thread: the native driver's loop, one call at a time.
//!
//! ```text
//! main program (before reactor.run())
//! loop {
//!     write what the last iteration's calls wrote
//!     deliver the I/O that had arrived when the iteration began, one protocol callback each
//!     begin_turn(now); run_next_call() until the turn ends
//!     if the reactor stopped: exit
//!     nothing ready? block in poll until a timer is due, I/O arrives or the inbox fills
//! }
//! ```
//!
//! Writes leave when the iteration ends, as in the native driver (and
//! roughly as in Twisted, whose `write` buffers until the next poll finds
//! the socket writable): the answers to requests read in one batch leave
//! together, after the whole batch was handled. A Python program's server
//! runs on Twisted's reactor, where epoll's ready list orders the reads and
//! writes of an iteration: see `epoll`, which replaces the batch there.
//!
//! Every call runs inside the reactor; when its steps need virtual time the
//! rest comes back as requests and this thread works them off before the
//! next call, so a slow handler blocks the whole loop exactly as in Twisted.

use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use twine_core::defer::{Failure, FailureKind};
use twine_core::protocol::{ConnectionId, ConnectionKind, Message, Protocol};
use twine_core::trace::{TraceEvent, TraceRecord};
use twine_core::Time;

use super::interp::{Request, REACTOR_THREAD};
use super::sched::{Block, State};
use super::{Ev, ServerProtocol, Simulation};

/// A call that takes longer than this counts as slow (asyncio's debug default
/// is 100 ms, twine-core's 50 ms).
pub(crate) const SLOW_CALL_NS: u64 = 50_000_000;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Running the main program.
    #[default]
    Main,
    /// Between turns: delivering I/O, or blocked in poll.
    Poll,
    /// Inside a turn.
    Turn,
    /// The reactor stopped.
    Stopped,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::Main => "main",
            Phase::Poll => "poll",
            Phase::Turn => "turn",
            Phase::Stopped => "stopped",
        }
    }
}

/// I/O that arrived for the reactor and waits for its poll phase.
#[derive(Clone, Copy, Debug)]
pub(crate) enum IoEvent {
    /// A client connects.
    Open { client: u32 },
    /// A request message arrived at `at`.
    Request { client: u32, req: u64, at: Time },
    /// The loopback network's next event (see `loopback`).
    Net,
    /// The server closed a simulated client's connection (`clean`: not aborted).
    Closed { conn: ConnectionId, clean: bool },
}

#[derive(Default)]
pub(crate) struct ReactorLoop {
    pub phase: Phase,
    /// I/O was delivered: run a turn before blocking again.
    pub turn_due: bool,
    /// The call whose steps are still running: its record and start.
    pub open_call: Option<(usize, Time)>,
    pub pending_io: VecDeque<IoEvent>,
    /// How many of `pending_io` this iteration still delivers (those that
    /// had arrived when it began); later arrivals wait for the next one.
    pub batch_left: usize,
    /// Answers written in this iteration, sent when it ends.
    pub outbox: Vec<(ConnectionId, Message)>,
    pub busy_ns: u64,
    pub slow_calls: u64,
    pub longest_call_ns: u64,
    /// (when delivered, how long the I/O waited for the reactor).
    pub io_lag: Vec<(Time, u64)>,
}

impl Simulation {
    pub(crate) fn reactor_advance(&mut self) {
        if self.continue_activation(REACTOR_THREAD) {
            return;
        }
        let request = self.sh.requests.borrow_mut().pop_front();
        if let Some(Request { activation, halt }) = request {
            self.apply_halt(REACTOR_THREAD, activation, halt);
            return;
        }
        if let Some(call) = self.rl.open_call.take() {
            self.close_call(call);
        }
        match self.rl.phase {
            Phase::Main | Phase::Poll => self.poll_phase(),
            Phase::Turn => {
                let more = self.reactor.run_next_call();
                self.after_reactor_call();
                if !more {
                    self.rl.phase = Phase::Poll;
                }
                self.queue_now(REACTOR_THREAD);
            }
            Phase::Stopped => {}
        }
    }

    fn poll_phase(&mut self) {
        self.rl.phase = Phase::Poll;
        if self.rl.batch_left == 0 && self.ready.plan.is_empty() {
            if self.ready.on {
                // Twisted's reactor: the ready list orders reads and writes (`epoll`).
                self.epoll_wait();
            } else {
                // An iteration ends: its writes leave; the next reads what has arrived.
                self.flush_outbox();
            }
            self.loopback_flush();
            self.rl.batch_left = self.rl.pending_io.len();
        }
        if self.reactor.is_stopped() {
            // Answers still buffered leave, so a stop loses none the run counts.
            self.flush_outbox();
            self.rl.phase = Phase::Stopped;
            self.exit_thread(REACTOR_THREAD);
            self.on_reactor_stopped();
            return;
        }
        // As `reactor.run()`: the startup triggers and `callWhenRunning`
        // calls run in the first turn, before any I/O is read.
        let started = self.reactor.lifecycle() != twine_core::reactor::Lifecycle::NotStarted;
        if !started {
            self.rl.turn_due = true;
        } else if let Some(io) = self.rl.pending_io.pop_front() {
            self.rl.batch_left = self.rl.batch_left.saturating_sub(1);
            self.deliver_io(io);
            self.after_reactor_call();
            self.rl.turn_due = true;
            self.queue_now(REACTOR_THREAD);
            return;
        } else if self.epoll_dispatch() {
            self.after_reactor_call();
            self.rl.turn_due = true;
            self.queue_now(REACTOR_THREAD);
            return;
        }
        let due = self.reactor.poll_timeout();
        if self.rl.turn_due || due.is_some_and(|t| t <= self.now) {
            self.rl.turn_due = false;
            self.reactor.begin_turn(self.now);
            self.rl.phase = Phase::Turn;
            self.queue_now(REACTOR_THREAD);
            return;
        }
        self.block(REACTOR_THREAD, Block::Poll);
        if let Some(t) = due {
            // The poll's timeout wakes the thread late, as a real one's timer does.
            let t = t + Duration::from_nanos(self.noise.timer_latency());
            let gen = self.threads[REACTOR_THREAD as usize].gen;
            self.schedule(t, Ev::Thread { tid: REACTOR_THREAD, gen });
        }
    }

    fn flush_outbox(&mut self) {
        for (conn, message) in std::mem::take(&mut self.rl.outbox) {
            self.on_response(conn, message);
        }
    }

    /// After the reactor ran a call: run `call_from_thread` bodies it
    /// delivered, and if the call left work that takes time, hold its trace
    /// record until the work is done.
    pub(crate) fn after_reactor_call(&mut self) {
        self.sh.run_mail();
        if self.rl.open_call.is_none() && !self.sh.requests.borrow().is_empty() {
            let mut store = self.store.borrow_mut();
            if let Some(index) = store.last_call {
                store.hold_from = Some(index);
                drop(store);
                self.rl.open_call = Some((index, self.now));
            }
        }
    }

    /// The held call finished: its record gets its real duration.
    pub(crate) fn close_call(&mut self, (index, start): (usize, Time)) {
        let dur = self.now.saturating_since(start).as_nanos() as u64;
        let mut store = self.store.borrow_mut();
        if let Some(TraceRecord { event: TraceEvent::Call { dur: d, .. }, .. }) = store.records.get_mut(index) {
            *d = dur;
        }
        store.hold_from = None;
        store.clear_position(REACTOR_THREAD);
        self.rl.busy_ns += dur;
        self.rl.longest_call_ns = self.rl.longest_call_ns.max(dur);
        if dur > SLOW_CALL_NS {
            self.rl.slow_calls += 1;
        }
    }

    /// I/O the reactor handles before anything else still waiting, within
    /// its current iteration: a connection dropped because its protocol
    /// raised hears `connectionLost` at once, as Twisted calls it within
    /// the same read.
    pub(crate) fn io_next(&mut self, io: IoEvent) {
        self.rl.pending_io.push_front(io);
        if self.rl.phase == Phase::Poll || self.rl.batch_left > 0 {
            self.rl.batch_left += 1;
        }
        self.wake_reactor();
    }

    /// Something for the reactor: wake it if it sleeps in poll.
    pub(crate) fn wake_reactor(&mut self) {
        let t = &mut self.threads[REACTOR_THREAD as usize];
        if t.state == State::Blocked(Block::Poll) {
            t.gen += 1;
            self.make_ready(REACTOR_THREAD);
        }
    }

    pub(crate) fn deliver_io(&mut self, io: IoEvent) {
        match io {
            IoEvent::Open { client } => {
                let host = client + 1;
                let peer = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, (host >> 8) as u8, host as u8)), 40000);
                let local = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 1, 0, 1)), 8000);
                let protocol: Box<dyn Protocol> = if self.sh.py.borrow().is_some() {
                    // The program's server: its port's factory builds the protocol.
                    match crate::python::net::client_protocol(&self.sh, peer) {
                        Some(p) => p,
                        None => return,
                    }
                } else {
                    Box::new(ServerProtocol(std::rc::Rc::clone(&self.sh)))
                };
                let conn = self.reactor.open_connection(self.now, protocol, ConnectionKind::Message, peer, local);
                self.clients.connected(client, conn);
            }
            IoEvent::Closed { conn, clean } => {
                let reason = if clean {
                    Failure::new(FailureKind::ConnectionDone, super::loopback::DONE)
                } else {
                    Failure::new(FailureKind::ConnectionLost, super::loopback::LOST)
                };
                self.reactor.handle_closed(self.now, conn, reason);
            }
            IoEvent::Request { client, req, at } => {
                if let Some(conn) = self.clients.conn_of(client) {
                    self.rl.io_lag.push((self.now, self.now.saturating_since(at).as_nanos() as u64));
                    self.reactor.handle_message(self.now, conn, Message::text(req.to_string()));
                }
            }
            IoEvent::Net => self.deliver_net(),
        }
    }

    fn on_reactor_stopped(&mut self) {
        self.clients.stopped = true;
        let idle: Vec<u32> = self.pool.idle.drain(..).collect();
        for tid in idle {
            self.exit_thread(tid);
        }
    }
}
