//! State that reactor callbacks reach while the reactor runs them.
//!
//! The engine calls into the real reactor (`run_next_call`,
//! `handle_message`), which calls back into the simulation's closures:
//! timer callbacks, the server protocol, Deferred callbacks, the pool's
//! `submit`. Those closures hold an `Rc<Shared>` and touch only what is here,
//! each borrow short, so the engine never re-enters itself. Anything that
//! needs the engine (a thread to wake, a continuation that takes virtual
//! time) is queued here and picked up as soon as the reactor returns, at the
//! same virtual instant.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::{Arc, Mutex, PoisonError};

use twine_core::defer::Failure;
use twine_core::protocol::{Message, Protocol, Transport};
use twine_core::task::LoopingCall;
use twine_core::threads::{Job, PoolRefused, PoolStats, ThreadPool};
use twine_core::trace::TraceEvent;
use twine_core::{Reactor, ReactorHandle, Time};

use super::interp::{run_top, Activation, Ctx, Halt, Request};
use super::store::TraceStore;
use crate::explain::lost::{Lost, Races, Var};
use crate::program::{Program, Seq, Text, TextEnv};

/// A job's program, handed to the pool as its cost hint. The engine runs the
/// steps on a simulated pool thread; a `fail` among them is left in
/// `failure` for the job's work closure to return.
pub(crate) struct JobProgram {
    pub body: Seq,
    pub failure: Arc<Mutex<Option<String>>>,
}

impl JobProgram {
    pub fn take_failure(slot: &Mutex<Option<String>>) -> Option<String> {
        slot.lock().unwrap_or_else(PoisonError::into_inner).take()
    }
}

#[derive(Default)]
pub(crate) struct CounterState {
    pub value: i64,
    /// Increments and writes done: what the value would be with no lost update.
    pub intended: u64,
    /// The core whose cache holds its line: the last to step on it.
    pub line: Option<u32>,
}

#[derive(Default)]
pub(crate) struct LockState {
    /// First come, first served: a release hands the lock to the longest
    /// waiter. Otherwise (CPython's `threading.Lock`, an OS mutex) a release
    /// frees it and wakes one waiter to try again, so a thread that goes on
    /// running, the releasing one above all, can take it first (barging).
    pub fair: bool,
    /// Taken and let go outside any visible operation (a JSON lock step,
    /// an `Event`): an explorer cannot see who races for it.
    pub hidden: bool,
    /// The engine's own, not the program's (a `start()` waiting for its
    /// thread): no trace events, not in the metrics.
    pub internal: bool,
    /// Its new holder was blocked in the OS and runs a wake-up's latency
    /// after the hand-over (a thread's `join`, CPython's wait on the
    /// finished thread's lock): see [`Shared::wake_late`].
    pub wakes_late: bool,
    pub holder: Option<u32>,
    pub waiters: VecDeque<(u32, Time)>,
    pub acquisitions: u64,
    pub contended: u64,
    pub wait_ns: u64,
    pub max_wait_ns: u64,
}

impl LockState {
    /// Counts one acquisition, after a wait of `waited` ns.
    fn count_acquisition(&mut self, waited: u64) {
        self.acquisitions += 1;
        self.wait_ns += waited;
        self.max_wait_ns = self.max_wait_ns.max(waited);
    }
}

/// A lock waiter the engine must wake.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LockWake {
    pub thread: u32,
    pub lock: u32,
    pub how: Woken,
}

/// How a lock's waiter is woken.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Woken {
    /// The lock was handed to it (a fair lock).
    Handed,
    /// It must try again, having waited since then (an unfair lock).
    Retry(Time),
    /// The wait is over, with no lock to hold (an event set): the waiter
    /// was `place` from the front of the line and had waited `waited` ns.
    Notified { place: u32, waited: u64 },
}

pub(crate) struct LoopInstance {
    /// What the metrics call it: its scenario step, or `LoopingCall(f)`.
    pub step: String,
    pub lc: LoopingCall,
    /// Times its body ran (a Python `withCount` call with nothing to count is not one).
    pub calls: u64,
}

/// A printed line.
#[derive(Clone, Debug)]
pub(crate) struct Printed {
    pub t: Time,
    pub thread: u32,
    pub text: String,
    pub stream: twine_scenario::metrics::Stream,
}

pub(crate) struct Shared {
    pub program: Arc<Program>,
    pub clock: Rc<Cell<Time>>,
    pub store: Rc<RefCell<TraceStore>>,
    /// Taken out when the simulation is dropped, to break the cycle
    /// reactor -> callbacks -> Shared -> reactor.
    reactor: RefCell<Option<Reactor>>,
    pub handle: ReactorHandle,
    /// Reactor-thread work that needs virtual time, queued by callbacks.
    pub requests: RefCell<VecDeque<Request>>,
    /// Calls sent to the reactor thread (a scenario's `call_from_thread`
    /// bodies, a Python program's `reactor.callFromThread`), in order: not
    /// `Send`, so they wait here while a marker for each goes through the
    /// reactor's real inbox ([`call_from_thread_local`](Self::call_from_thread_local)),
    /// which orders them with the pool's results as Twisted's
    /// `threadCallQueue` does.
    local_mail: RefCell<VecDeque<LocalCall>>,
    /// The markers the reactor ran whose calls have not run yet.
    local_ready: Arc<Mutex<usize>>,
    /// Set when something went into the reactor's inbox: wake the reactor.
    pub inbox_pushed: Cell<bool>,
    pub pool_queue: RefCell<VecDeque<Job>>,
    pub pool_stats: Cell<PoolStats>,
    /// What the pool has for new jobs (`Simulation::note_pool_free`).
    pub pool_free: Cell<PoolFree>,
    pub counters: RefCell<Vec<CounterState>>,
    pub locks: RefCell<Vec<LockState>>,
    /// Lock waiters to wake.
    pub wakeups: RefCell<Vec<LockWake>>,
    pub output: RefCell<Vec<Printed>>,
    pub loops: RefCell<Vec<LoopInstance>>,
    /// Failures nobody handled in reactor callbacks (Twisted logs them).
    pub unhandled: Cell<u64>,
    pub thread_names: RefCell<Vec<Rc<str>>>,
    /// Each thread's CPU time so far, in ns (`time.thread_time`, the metrics).
    cpu: RefCell<Vec<u64>>,
    /// The locks' names: the scenario's, then those a Python program makes.
    pub lock_names: RefCell<Vec<Arc<str>>>,
    /// Mirrors the GIL's drop request, which a Python thread honours at its
    /// next eval-breaker point.
    pub gil_drop: Cell<bool>,
    /// The Python program's interpreter, when the experiment is one.
    pub py: RefCell<Option<Rc<crate::python::Runtime>>>,
    /// Who read which shared variable last, to name lost updates.
    pub races: RefCell<Races>,
    /// Updates lost so far, summed over every `lost_update` event (net of
    /// the ones a later stale write restored).
    pub lost_total: Cell<i64>,
    /// Set when exploring: what counts as visible, who stopped before one.
    pub watch: std::cell::OnceCell<Rc<super::choice::Watch>>,
    /// The simulation's chooser, if it has one: it picks which waiter a
    /// released lock goes to.
    pub chooser: std::cell::OnceCell<super::choice::SharedChooser>,
    /// Connections dropped because their protocol's `dataReceived` raised:
    /// Twisted closes such a socket in order (`_closeSocket(orderly=True)`),
    /// so the peer reads a clean end, though the unsent writes are gone.
    pub dropped_conns: RefCell<Vec<twine_core::reactor::ConnectionId>>,
}

impl Shared {
    pub fn new(
        program: Arc<Program>,
        clock: Rc<Cell<Time>>,
        store: Rc<RefCell<TraceStore>>,
        reactor: &Reactor,
    ) -> Shared {
        let counters = program.counters.iter().map(|_| CounterState::default()).collect();
        let locks = (0..program.locks.len())
            .map(|i| LockState {
                fair: program.fair_locks.get(i).copied().unwrap_or(false),
                hidden: true,
                ..LockState::default()
            })
            .collect();
        let lock_names = RefCell::new(program.locks.clone());
        Shared {
            program,
            clock,
            store,
            reactor: RefCell::new(Some(reactor.clone())),
            handle: reactor.handle(),
            requests: RefCell::default(),
            local_mail: RefCell::default(),
            local_ready: Arc::default(),
            inbox_pushed: Cell::new(false),
            pool_queue: RefCell::default(),
            pool_stats: Cell::new(PoolStats::default()),
            pool_free: Cell::new(PoolFree::default()),
            counters: RefCell::new(counters),
            locks: RefCell::new(locks),
            wakeups: RefCell::default(),
            output: RefCell::default(),
            loops: RefCell::default(),
            unhandled: Cell::new(0),
            thread_names: RefCell::default(),
            cpu: RefCell::default(),
            lock_names,
            gil_drop: Cell::new(false),
            py: RefCell::new(None),
            races: RefCell::default(),
            lost_total: Cell::new(0),
            watch: std::cell::OnceCell::new(),
            chooser: std::cell::OnceCell::new(),
            dropped_conns: RefCell::default(),
        }
    }

    pub fn now(&self) -> Time {
        self.clock.get()
    }

    /// Counts `ns` more of thread `tid`'s CPU time.
    pub fn charge_cpu(&self, tid: u32, ns: u64) {
        let mut cpu = self.cpu.borrow_mut();
        if cpu.len() <= tid as usize {
            cpu.resize(tid as usize + 1, 0);
        }
        cpu[tid as usize] += ns;
    }

    /// Thread `tid`'s CPU time so far, in ns.
    pub fn cpu_ns(&self, tid: u32) -> u64 {
        self.cpu.borrow().get(tid as usize).copied().unwrap_or(0)
    }

    /// Every thread's CPU time so far, in ns (`time.process_time`).
    pub fn process_cpu_ns(&self) -> u64 {
        self.cpu.borrow().iter().sum()
    }

    pub fn reactor(&self) -> Option<Reactor> {
        self.reactor.borrow().clone()
    }

    /// Breaks the reference cycles through the reactor's callbacks.
    pub fn shut(&self) {
        self.reactor.borrow_mut().take();
        self.requests.borrow_mut().clear();
        let loops = std::mem::take(&mut *self.loops.borrow_mut());
        drop(loops);
        self.pool_queue.borrow_mut().clear();
    }

    pub fn emit(&self, event: TraceEvent) {
        self.store.borrow_mut().push(self.now(), event);
    }

    pub fn print(&self, thread: u32, text: &Text, ctx: &Ctx) {
        let line = self.render(thread, text, ctx);
        self.say(thread, line);
    }

    /// A print's or a `fail`'s text with its placeholders filled in.
    pub fn render(&self, thread: u32, text: &Text, ctx: &Ctx) -> String {
        let name = self.thread_names.borrow().get(thread as usize).cloned().unwrap_or_else(|| "?".into());
        let counters = |c: u32| self.counters.borrow().get(c as usize).map_or(0, |s| s.value);
        text.render(&TextEnv {
            thread: &name,
            time_ns: self.now().as_nanos(),
            error: ctx.error.as_deref(),
            count: ctx.count,
            counter: &counters,
        })
    }

    /// Records a printed line: the program's output and a trace event.
    pub fn say(&self, thread: u32, text: String) {
        self.say_to(twine_scenario::metrics::Stream::Stdout, thread, text);
    }

    /// Records a line of an error report, which goes to stderr (a thread's
    /// uncaught exception, Twisted's logged failures).
    pub fn say_err(&self, thread: u32, text: String) {
        self.say_to(twine_scenario::metrics::Stream::Stderr, thread, text);
    }

    fn say_to(&self, stream: twine_scenario::metrics::Stream, thread: u32, text: String) {
        self.emit(TraceEvent::Print { thread, text: text.clone() });
        self.output.borrow_mut().push(Printed { t: self.now(), thread, text, stream });
    }

    /// A failure reached the end of a reactor callback with nobody to handle
    /// it; Twisted logs "Unhandled Error" and the loop goes on.
    pub fn unhandled_error(&self, failure: &Failure) {
        self.unhandled.set(self.unhandled.get() + 1);
        self.say_err(0, format!("Unhandled Error: {}", failure.message()));
    }

    /// `thread` read `value` from the shared variable.
    pub fn shared_read(&self, var: &Var, thread: u32, value: i64) {
        self.races.borrow_mut().read(var, thread, value, self.now());
    }

    /// `thread` wrote `wrote` over `before`, computed from `base` (`None`:
    /// from its last read); a write that erased other threads' updates
    /// becomes a `lost_update` event.
    pub fn shared_write(&self, var: &Var, name: &str, thread: u32, base: Option<i64>, before: i64, wrote: i64) {
        let lost = self.races.borrow_mut().write(var, thread, base, before, wrote, self.now());
        if let Some(Lost { thread, read, read_at, wrote, overwritten }) = lost {
            self.lost_total.set(self.lost_total.get() + overwritten);
            self.emit(TraceEvent::LostUpdate {
                name: name.to_owned().into(),
                thread,
                read,
                read_at,
                wrote,
                overwritten,
            });
        }
    }

    /// Whether `conn` was dropped because its protocol raised (and forgets it).
    pub fn take_dropped(&self, conn: twine_core::reactor::ConnectionId) -> bool {
        let mut dropped = self.dropped_conns.borrow_mut();
        let at = dropped.iter().position(|c| *c == conn);
        at.map(|i| dropped.swap_remove(i)).is_some()
    }

    /// Takes the lock if it is free.
    pub fn try_lock(&self, lock: u32, thread: u32) -> bool {
        let mut locks = self.locks.borrow_mut();
        let state = &mut locks[lock as usize];
        self.note_hidden_sync(state.hidden);
        if state.holder.is_some() {
            return false;
        }
        state.holder = Some(thread);
        state.acquisitions += 1;
        let internal = state.internal;
        drop(locks);
        if !internal {
            let name = self.lock_names.borrow()[lock as usize].to_string();
            self.emit(TraceEvent::LockAcquire { lock: name.into(), thread, waited: 0 });
        }
        true
    }

    /// Queues `thread` behind the lock's holder.
    pub fn wait_lock(&self, lock: u32, thread: u32) {
        let internal = {
            let mut locks = self.locks.borrow_mut();
            let state = &mut locks[lock as usize];
            self.note_hidden_sync(state.hidden);
            state.waiters.push_back((thread, self.now()));
            state.contended += 1;
            state.internal
        };
        if internal {
            return;
        }
        let name = self.lock_names.borrow()[lock as usize].to_string();
        self.emit(TraceEvent::LockWait { lock: name.into(), thread });
    }

    /// A waiter whose timed wait ran out leaves the lock's queue (if a
    /// release has not taken it out already).
    pub fn leave_lock_queue(&self, lock: u32, thread: u32) {
        let (left, internal) = {
            let mut locks = self.locks.borrow_mut();
            let state = &mut locks[lock as usize];
            let before = state.waiters.len();
            state.waiters.retain(|(t, _)| *t != thread);
            (state.waiters.len() < before, state.internal)
        };
        // Its `lock_wait` ends here, not in a `lock_acquire`.
        if left && !internal {
            let name = self.lock_names.borrow()[lock as usize].to_string();
            self.emit(TraceEvent::LockTimeout { lock: name.into(), thread });
        }
    }

    /// Releases the lock. A fair lock goes to its longest waiter (or the
    /// one the chooser picks), woken holding it; any other is freed and that
    /// waiter woken to try again (`try_lock_again`).
    pub fn release_lock(&self, lock: u32, thread: u32) {
        let name = Arc::clone(&self.lock_names.borrow()[lock as usize]);
        let internal = self.locks.borrow()[lock as usize].internal;
        if !internal {
            self.emit(TraceEvent::LockRelease { lock: name.to_string().into(), thread });
        }
        let now = self.now();
        let wake = {
            let mut locks = self.locks.borrow_mut();
            let state = &mut locks[lock as usize];
            state.holder = None;
            let next = match self.chooser() {
                Some(chooser) if state.waiters.len() > 1 => {
                    let options: Vec<u32> = state.waiters.iter().map(|(t, _)| *t).collect();
                    state.waiters.remove(super::choice::ask(chooser, super::choice::ChoiceKind::Lock, &options, now))
                }
                _ => state.waiters.pop_front(),
            };
            match next {
                Some((next, since)) if state.fair => {
                    let waited = now.saturating_since(since).as_nanos() as u64;
                    state.holder = Some(next);
                    state.count_acquisition(waited);
                    if !internal {
                        self.emit(TraceEvent::LockAcquire { lock: name.to_string().into(), thread: next, waited });
                    }
                    Some(LockWake { thread: next, lock, how: Woken::Handed })
                }
                Some((next, since)) => Some(LockWake { thread: next, lock, how: Woken::Retry(since) }),
                None => None,
            }
        };
        if let Some(wake) = wake {
            self.wakeups.borrow_mut().push(wake);
        }
    }

    /// Sets an event whose waiters wait on `lock`: every one of them is
    /// woken, none holding it, and the lock is left free.
    ///
    /// CPython's `Event.set` is `Condition.notify_all`: it releases the
    /// waiters' own locks one by one, in the order they waited, so each
    /// is told its place in that line (the engine wakes it that much later,
    /// `Noise::notify_latency`), and they reach the GIL mostly in that order.
    /// Handing the lock down the line instead, one waiter per GIL turn,
    /// made counter-race.py's threads take turns two by two (3.1 other
    /// threads' turns between a thread's turns, against CPython's 5.4).
    pub fn wake_all(&self, lock: u32) {
        let now = self.now();
        let name = Arc::clone(&self.lock_names.borrow()[lock as usize]);
        let (woken, internal) = {
            let mut locks = self.locks.borrow_mut();
            let state = &mut locks[lock as usize];
            self.note_hidden_sync(state.hidden);
            state.holder = None;
            let woken: Vec<(u32, u64)> =
                state.waiters.drain(..).map(|(t, since)| (t, now.saturating_since(since).as_nanos() as u64)).collect();
            for &(_, waited) in &woken {
                state.count_acquisition(waited);
            }
            (woken, state.internal)
        };
        for (place, (thread, waited)) in (0u32..).zip(woken) {
            if !internal {
                // Its wait ends here, and it holds nothing after.
                self.emit(TraceEvent::LockAcquire { lock: name.to_string().into(), thread, waited });
                self.emit(TraceEvent::LockRelease { lock: name.to_string().into(), thread });
            }
            self.wakeups.borrow_mut().push(LockWake { thread, lock, how: Woken::Notified { place, waited } });
        }
    }

    /// A woken waiter of an unfair lock tries again: takes it if it is free
    /// (accounting the wait since `since`), else waits again without
    /// counting a second contended acquisition.
    pub fn try_lock_again(&self, lock: u32, thread: u32, since: Time) -> bool {
        let now = self.now();
        let name = self.lock_names.borrow()[lock as usize].to_string();
        let mut locks = self.locks.borrow_mut();
        let state = &mut locks[lock as usize];
        let internal = state.internal;
        if state.holder.is_some() {
            state.waiters.push_back((thread, since));
            drop(locks);
            if !internal {
                self.emit(TraceEvent::LockWait { lock: name.into(), thread });
            }
            return false;
        }
        let waited = now.saturating_since(since).as_nanos() as u64;
        state.holder = Some(thread);
        state.count_acquisition(waited);
        drop(locks);
        if !internal {
            self.emit(TraceEvent::LockAcquire { lock: name.into(), thread, waited });
        }
        true
    }

    /// A new lock, free: unfair as a Python `threading.Lock`, or `fair` (a
    /// thread's join, a `start()` waiting for its thread: the one waiter it
    /// is released for gets it). An event's waiters wait on one too, and
    /// its `set()` wakes them all (`wake_all`).
    pub fn new_lock(&self, name: &str, fair: bool) -> u32 {
        let mut names = self.lock_names.borrow_mut();
        names.push(name.into());
        self.locks.borrow_mut().push(LockState { fair, ..LockState::default() });
        names.len() as u32 - 1
    }

    /// Marks the lock as the engine's own: no trace events, not in the metrics.
    pub fn make_internal(&self, lock: u32) {
        self.locks.borrow_mut()[lock as usize].internal = true;
    }

    /// Marks a fair lock whose new holder runs only once the OS has woken
    /// it, as a thread's `join()` does: CPython's joiner waits on the
    /// finished thread's lock, released at its exit while the GIL's next
    /// waiter is woken too, and the two race for the GIL. Handed over with
    /// no latency, the joiner always won: five threads released at a gate,
    /// 1 ms each, never ran in start order (CPython: 21 of 60 runs), each
    /// exit's woken waiter going to the back of the GIL's line.
    pub fn wake_late(&self, lock: u32) {
        self.locks.borrow_mut()[lock as usize].wakes_late = true;
    }

    /// Marks the lock as one taken outside visible operations (an `Event`'s).
    pub fn hide_lock(&self, lock: u32) {
        self.locks.borrow_mut()[lock as usize].hidden = true;
    }

    /// The watch, when exploring (see [`super::choice::CHOOSES`]).
    pub fn watch(&self) -> Option<&Rc<super::choice::Watch>> {
        if super::choice::CHOOSES {
            self.watch.get()
        } else {
            None
        }
    }

    /// The chooser, if the simulation has one (see [`super::choice::CHOOSES`]).
    pub fn chooser(&self) -> Option<&super::choice::SharedChooser> {
        if super::choice::CHOOSES {
            self.chooser.get()
        } else {
            None
        }
    }

    /// Exploring: tells the watch that threads synchronised where it cannot
    /// see (a hidden lock, the reactor's inbox, the pool's queue), so that
    /// no two of their operations may be taken to commute.
    pub fn note_hidden_sync(&self, hidden: bool) {
        if let (true, Some(watch)) = (hidden, self.watch()) {
            watch.note_hidden_sync();
        }
    }

    /// Names a Python lock after the variable it is first stored in
    /// (`hits_lock = threading.Lock()`), so waits and deadlocks read as the
    /// program does; a lock already named keeps its name.
    pub fn name_lock(&self, lock: u32, name: &str) {
        let mut names = self.lock_names.borrow_mut();
        let Some(slot) = names.get_mut(lock as usize) else { return };
        let default = slot.strip_prefix("RLock-").or_else(|| slot.strip_prefix("Lock-"));
        if default.is_some_and(|n| n.parse::<u32>().is_ok()) {
            *slot = name.into();
        }
    }

    /// How many locks exist.
    pub fn lock_count(&self) -> usize {
        self.lock_names.borrow().len()
    }

    /// Marks the lock held by no thread (a thread not yet finished, an
    /// event not yet set): waiters queue until it is released.
    pub fn hold_for_nobody(&self, lock: u32) {
        self.locks.borrow_mut()[lock as usize].holder = Some(u32::MAX);
    }

    /// The lock's holder.
    pub fn lock_holder(&self, lock: u32) -> Option<u32> {
        self.locks.borrow()[lock as usize].holder
    }

    /// `call_from_thread` of a scenario's body from a simulated thread: the
    /// engine runs it on the reactor thread when the inbox reaches it.
    pub fn call_from_thread(&self, body: Seq) {
        self.call_from_thread_local(Box::new(move |sh| run_top(sh, body, Ctx::default())));
    }

    /// `call_from_thread` of any call, `Send` or not: it runs on the reactor
    /// thread (in `run_mail`) when the inbox reaches its marker.
    pub fn call_from_thread_local(&self, call: LocalCall) {
        self.local_mail.borrow_mut().push_back(call);
        let ready = Arc::clone(&self.local_ready);
        self.handle.call_from_thread(move |_| *ready.lock().unwrap_or_else(PoisonError::into_inner) += 1);
        self.inbox_pushed.set(true);
    }

    /// Runs the `call_from_thread` calls the last inbox calls delivered.
    pub fn run_mail(self: &Rc<Self>) {
        let ready = std::mem::take(&mut *self.local_ready.lock().unwrap_or_else(PoisonError::into_inner));
        for _ in 0..ready {
            let next = self.local_mail.borrow_mut().pop_front();
            if let Some(call) = next {
                call(self);
            }
        }
    }

    /// Queues reactor-thread work that takes virtual time.
    pub fn request(&self, activation: Activation, halt: Halt) {
        self.requests.borrow_mut().push_back(Request { activation, halt });
    }
}

/// The pool's threads free for new jobs: `idle` ones, and `room` for that
/// many more before it reaches its size.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct PoolFree {
    pub idle: u32,
    pub room: u32,
}

impl Shared {
    /// Whether a job handed to the pool now gets a thread started for it:
    /// the jobs handed over before it, still queued, take the idle threads
    /// first, and the pool may still grow.
    pub fn next_job_starts_a_thread(&self) -> bool {
        let free = self.pool_free.get();
        let ahead = self.pool_queue.borrow().len() as u32;
        ahead >= free.idle && ahead - free.idle < free.room
    }
}

/// A call [`Shared::call_from_thread_local`] queues.
pub(crate) type LocalCall = Box<dyn FnOnce(&Rc<Shared>)>;

/// The pool the simulated reactor sees: jobs wait here until the engine
/// hands them to simulated pool threads.
pub(crate) struct SimPool(pub Rc<Shared>);

impl ThreadPool for SimPool {
    fn submit(&self, job: Job) -> Result<(), PoolRefused> {
        self.0.note_hidden_sync(true);
        self.0.pool_queue.borrow_mut().push_back(job);
        Ok(())
    }

    fn stats(&self) -> PoolStats {
        let mut stats = self.0.pool_stats.get();
        stats.queued = self.0.pool_queue.borrow().len();
        stats
    }
}

/// A scenario's server protocol: each message is a request whose id is its
/// text; `message_received` runs the scenario's handler on the reactor
/// thread. (A Python program's server is its own protocol, built by its
/// factory: `python::net::client_protocol`.)
pub(crate) struct ServerProtocol(pub Rc<Shared>);

impl Protocol for ServerProtocol {
    fn message_received(&mut self, transport: &Transport, message: Message) {
        let Some(handler) = self.0.program.handler.clone() else { return };
        let id = message.as_text().and_then(|t| t.parse().ok()).unwrap_or(0);
        run_top(&self.0, handler, Ctx { request: Some((transport.id(), id)), ..Ctx::default() });
    }
}
