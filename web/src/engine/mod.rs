//! The simulated driver: a discrete-event scheduler with a virtual clock
//! that drives the real [`twine_core::Reactor`].
//!
//! The engine is a driver like the native one: it supplies the time (the
//! reactor's clock reads the virtual clock, so `reactor.seconds()` is live
//! inside long handlers), the connections (simulated clients over message
//! connections; a Python program's own `listenTCP` ports and `connectTCP`
//! clients over byte streams, see `loopback`), and the thread pool (simulated pool threads behind core's
//! [`ThreadPool`](twine_core::threads::ThreadPool) contract). Around the
//! reactor it simulates N cores, an OS scheduler, the reactor thread, plain
//! and pool threads, an optional GIL, named locks and shared counters.
//!
//! Time is charged where it is spent. The reactor thread runs the reactor's
//! loop step by step (`begin_turn`, then `run_next_call` one call at a
//! time). When a callback needs time (`cpu`, `io`, a contended lock), the
//! rest of it runs as the reactor thread's work, in slices that compete for
//! a core and the GIL like any thread's, and the reactor starts no other
//! call until it is done: its writes and new timers happen at the virtual
//! time the work completes. Client requests are delivered only when the
//! reactor thread is back in its poll phase, between turns, as natively.
//!
//! Same scenario and seed, same trace and metrics, byte for byte.
//!
//! ```
//! use twine_web::{scenario::Scenario, Simulation};
//!
//! let scenario = Scenario::from_json(r#"{
//!     "threads": [{"name": "sleeper", "count": 3, "steps": [{"sleep": 500}, {"print": "{thread} woke at {time}"}]}]
//! }"#).unwrap();
//! let mut sim = Simulation::new(&scenario, None);
//! sim.run();
//! let metrics = sim.metrics();
//! assert_eq!(metrics.output.len(), 3);
//! // Each a little after 500 ms (the OS's wake-up latency), in an order
//! // the seed decides (threads started together begin apart).
//! assert!(metrics.output.iter().all(|line| line.text.ends_with("woke at 0.500")));
//! ```

pub(crate) mod agenda;
pub(crate) mod choice;
pub(crate) mod clients;
pub(crate) mod epoll;
pub(crate) mod gil;
pub(crate) mod interp;
pub(crate) mod loopback;
pub(crate) mod noise;
pub(crate) mod pool;
pub(crate) mod reactor_thread;
pub(crate) mod run;
pub(crate) mod sched;
pub(crate) mod shared;
pub(crate) mod spawner;
pub(crate) mod store;

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use twine_core::reactor::Effect;
use twine_core::{ReactorDriver, Time};

use crate::program::Program;
use crate::scenario::{Scenario, ScenarioError};
use agenda::{Agenda, Ev};
use choice::Choices;
#[cfg(any(feature = "lab", not(target_arch = "wasm32")))]
use choice::{Chooser, Watch};
use clients::ClientState;
use gil::Gil;
use interp::{Activation, Ctx, End};
use noise::{Noise, StartCosts};
use pool::PoolState;
use reactor_thread::ReactorLoop;
use sched::{Block, Core, Kind, State, Thread};
use shared::{ServerProtocol, Shared, SimPool};
use store::{StoreSink, TraceStore};
use twine_scenario::rng::Rng;

/// The shortest `twine.cpu` burn twine.py times by the thread's CPU clock
/// (`_COUNTED_S`); shorter ones are counted loops. A 280 ms burn took
/// 280.02-280.3 ms of wall time in 19 of 20 rounds under CPython 3.11 on
/// the harness's machine (2026-12-06; one took 285.5), where a lone
/// thread's 10 µs burns took 3.4 % longer than their median on average:
/// the clock counts the moments the thread is interrupted as its own.
const TIMED_BURN_NS: u64 = 50_000;

pub use twine_scenario::metrics::EndReason;

/// A running simulation of one scenario with one seed.
pub struct Simulation {
    scenario: Scenario,
    pub(crate) program: Arc<Program>,
    seed: u64,
    pub(crate) reactor: ReactorDriver,
    pub(crate) sh: Rc<Shared>,
    pub(crate) store: Rc<RefCell<TraceStore>>,
    clock: Rc<Cell<Time>>,
    pub(crate) now: Time,
    agenda: Agenda,
    pub(crate) ready_now: VecDeque<u32>,
    pub(crate) threads: Vec<Thread>,
    pub(crate) cores: Vec<Core>,
    pub(crate) run_queue: VecDeque<u32>,
    pub(crate) gil: Gil,
    pub(crate) rl: ReactorLoop,
    /// Twisted's read and write order, for a Python program's server.
    pub(crate) ready: epoll::ReadyList,
    pub(crate) pool: PoolState,
    pub(crate) clients: ClientState,
    /// The program's own ports and connections to them.
    pub(crate) net: loopback::Loopback,
    rng: Rng,
    pub(crate) noise: Noise,
    /// Starts the program's threads, one spawn call after another.
    spawner: spawner::Spawner,
    end: Option<EndReason>,
    actions: u64,
    /// Who makes the scheduling decisions (see `choice`).
    pub(crate) choices: Choices,
    /// How to start this run over (a replayed schedule must be replayed
    /// again); `None`: the same scenario and seed.
    pub(crate) restart: Option<Rc<dyn Fn() -> Simulation>>,
}

impl Simulation {
    /// A simulation of `scenario` at time zero; `seed` overrides the scenario's.
    pub fn new(scenario: &Scenario, seed: Option<u64>) -> Simulation {
        Simulation::build(scenario, seed, Choices::default())
    }

    /// A simulation whose scheduling decisions `chooser` makes (see
    /// [`crate::choice`]); one that always answers 0 runs as [`Simulation::new`].
    #[cfg(any(feature = "lab", not(target_arch = "wasm32")))]
    pub fn with_chooser(scenario: &Scenario, seed: Option<u64>, chooser: Box<dyn Chooser>) -> Simulation {
        let chooser: choice::SharedChooser = Rc::new(RefCell::new(chooser));
        Simulation::build(scenario, seed, Choices { chooser: Some(chooser), ..Choices::default() })
    }

    /// A simulation for exploring: `scenario` must be made for it (one
    /// core, no noise, see `explore`); `watch` says what is visible.
    #[cfg(any(feature = "lab", not(target_arch = "wasm32")))]
    pub(crate) fn exploring(scenario: &Scenario, watch: Rc<Watch>, chooser: Box<dyn Chooser>) -> Simulation {
        let chooser: choice::SharedChooser = Rc::new(RefCell::new(chooser));
        let choices = Choices { chooser: Some(chooser), ..Choices::default() };
        let _ = choices.watch.set(watch);
        Simulation::build(scenario, None, choices)
    }

    fn build(scenario: &Scenario, seed: Option<u64>, choices: Choices) -> Simulation {
        let program = Arc::clone(&scenario.program);
        let seed = seed.unwrap_or(program.seed);
        let clock = Rc::new(Cell::new(Time::ZERO));
        let store = Rc::new(RefCell::new(TraceStore::default()));
        let reactor = ReactorDriver::new();
        let c = Rc::clone(&clock);
        reactor.set_clock(move || c.get());
        reactor.set_trace_sink(StoreSink(Rc::clone(&store)));
        let sh = Rc::new(Shared::new(Arc::clone(&program), Rc::clone(&clock), Rc::clone(&store), &reactor));
        if let Some(watch) = choices.watch.get() {
            let _ = sh.watch.set(Rc::clone(watch));
        }
        if let Some(chooser) = &choices.chooser {
            let _ = sh.chooser.set(Rc::clone(chooser));
        }
        reactor.set_thread_pool(SimPool(Rc::clone(&sh)));

        let mut threads = vec![Thread::new("reactor".into(), Kind::Reactor)];
        for def in &program.threads {
            for i in 1..=def.count {
                let name = if def.count == 1 { def.name.clone() } else { format!("{}-{i}", def.name) };
                threads.push(Thread::new(name.into(), Kind::Plain));
            }
        }
        *sh.thread_names.borrow_mut() = threads.iter().map(|t| Rc::clone(&t.name)).collect();
        let cores = (0..program.machine.cores).map(|_| Core::default()).collect();
        // A JSON scenario's GIL is `twine run`'s; a Python program's, CPython's.
        let asker_takes = if program.python.is_some() { gil::CPYTHON_ASKER_TAKES } else { gil::TWINE_RUN_ASKER_TAKES };
        let gil = Gil::new(program.machine.gil, seed, asker_takes);
        let clients = ClientState::new(program.clients, seed);
        let mut sim = Simulation {
            scenario: scenario.clone(),
            program: Arc::clone(&program),
            seed,
            reactor,
            sh,
            store,
            clock,
            now: Time::ZERO,
            agenda: Agenda::default(),
            ready_now: VecDeque::new(),
            threads,
            cores,
            run_queue: VecDeque::new(),
            gil,
            rl: ReactorLoop::default(),
            ready: epoll::ReadyList::new(program.python.is_some()),
            pool: PoolState::default(),
            clients,
            net: loopback::Loopback::default(),
            rng: Rng::new(seed),
            // A JSON scenario's threads are what `twine run` starts, Rust's;
            // a Python program's, CPython's.
            noise: Noise::new(
                seed,
                program.machine.noise,
                if program.python.is_some() { StartCosts::CPYTHON } else { StartCosts::RUST },
            ),
            spawner: spawner::Spawner::default(),
            end: None,
            actions: 0,
            choices,
            restart: None,
        };
        sim.reactor.make_current();
        sim.note_pool_free();
        sim.threads[0].act = Some(sim.main_activation());
        sim.spawn(0);
        // The threads are started one after another, as `twine run` (or a
        // Rust program) starts them in a loop: see `spawner`.
        let mut starts = Vec::new();
        for def in &program.threads {
            for _ in 0..def.count {
                let tid = starts.len() as u32 + 1;
                sim.threads[tid as usize].act = Some(Activation::new(def.body.clone(), Ctx::default(), End::Thread));
                starts.push((tid, def.start));
            }
        }
        sim.start_threads(starts);
        sim.start_clients();
        sim
    }

    fn main_activation(&mut self) -> Activation {
        if let Some(py) = &self.program.python {
            match crate::python::Runtime::new(&py.file, &py.source, py.variant.as_deref(), self.seed) {
                Ok((rt, task)) => {
                    *self.sh.py.borrow_mut() = Some(rt);
                    return Activation::python(task, End::Main);
                }
                // A scenario is compiled once before, so this does not happen.
                Err(e) => self.sh.say_err(0, e.to_string()),
            }
        }
        Activation::new(self.program.main.clone(), Ctx::default(), End::Main)
    }

    /// The error that ended a Python program (`FILE:LINE:COL: ValueError: ...`
    /// and the traceback), if one did.
    pub fn python_error(&self) -> Option<String> {
        self.sh.py.borrow().as_ref().and_then(|rt| rt.error_message())
    }

    /// A built-in the Python program called that the playground's light
    /// module leaves out (the last such call), if any: the page runs such a
    /// program in the full module. The light module runs only the shipped
    /// presets, so none of them may call one (a test checks).
    pub fn python_full_only(&self) -> Option<&'static str> {
        self.sh.py.borrow().as_ref().and_then(|rt| rt.full_only.get())
    }

    /// Python instructions executed so far (zero for a JSON scenario).
    pub fn python_instructions(&self) -> u64 {
        self.sh.py.borrow().as_ref().map_or(0, |rt| rt.instructions())
    }

    /// Threads a Python program started since the last action become simulated threads.
    fn spawn_python_threads(&mut self) {
        let threads = self.python_spawns();
        // Their `start()` calls spawn them as any thread is spawned (and
        // return once they have run, see `python::builtins`).
        self.start_threads(threads.into_iter().map(|tid| (tid, 0)));
    }

    /// The threads the program's `start()` calls asked for since the last
    /// look, as threads not yet started.
    pub(crate) fn python_spawns(&mut self) -> Vec<u32> {
        let spawns = match self.sh.py.borrow().as_ref() {
            Some(rt) => std::mem::take(&mut *rt.spawns.borrow_mut()),
            None => return Vec::new(),
        };
        let mut tids = Vec::with_capacity(spawns.len());
        for (name, task) in spawns {
            let tid = self.threads.len() as u32;
            if let Some(rt) = self.sh.py.borrow().as_ref() {
                rt.names.borrow_mut().insert(tid, Rc::clone(&name));
            }
            if let Some(t) = &task.thread {
                t.tid.set(Some(tid));
            }
            let mut t = Thread::new(Rc::clone(&name), Kind::Plain);
            t.act = Some(Activation::python(task, End::Thread));
            self.threads.push(t);
            self.sh.thread_names.borrow_mut().push(name);
            tids.push(tid);
        }
        tids
    }

    /// Parses `json` and starts a simulation of it.
    pub fn from_json(json: &str, seed: Option<u64>) -> Result<Simulation, ScenarioError> {
        Ok(Simulation::new(&Scenario::from_json(json)?, seed))
    }

    /// The scenario being simulated.
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// The seed in use.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The virtual time.
    pub fn now(&self) -> Time {
        self.now
    }

    /// Whether the simulation has ended.
    pub fn is_finished(&self) -> bool {
        self.end.is_some()
    }

    /// Why it ended, once it has.
    pub fn end_reason(&self) -> Option<EndReason> {
        self.end
    }

    /// Scheduler actions taken so far (a thread's slice, a reactor call, an
    /// arrival, ...). Each produces zero or more trace events.
    pub fn actions(&self) -> u64 {
        self.actions
    }

    /// Takes one scheduler action. Returns false once the simulation has
    /// ended, or stopped before a choice its chooser waits to be told
    /// ([`crate::choice::Chooser::waits`]).
    pub fn step(&mut self) -> bool {
        if self.end.is_some() || self.choices.waiting.is_some() {
            return false;
        }
        self.reactor.make_current();
        if let Some(tid) = self.ready_now.pop_front() {
            self.advance(tid);
        } else if self.unpark() {
            // Exploring: a thread stopped before a visible operation goes
            // on, or the chooser stopped the run to wait for a player.
            if self.choices.waiting.is_some() {
                return false;
            }
        } else {
            self.drop_stale();
            match self.agenda.pop() {
                None => {
                    self.finish_quiet();
                    return false;
                }
                Some((t, ev)) => {
                    if t.as_nanos() > self.program.duration {
                        self.set_now(Time::from_nanos(self.program.duration));
                        self.finish(EndReason::Duration);
                        return false;
                    }
                    self.set_now(t);
                    self.handle(ev);
                }
            }
        }
        self.after_action();
        self.actions += 1;
        if self.python_error().is_some() {
            self.finish(EndReason::Error);
        } else if self.python_exits() {
            self.finish_exit(false);
        }
        if self.store.borrow().records.len() as u64 >= self.program.max_events {
            self.finish(EndReason::EventLimit);
        }
        true
    }

    /// Runs until at least `n` more trace events are visible, or the end.
    /// Returns how many became visible.
    pub fn step_events(&mut self, n: usize) -> usize {
        let start = self.event_count();
        while self.event_count() < start + n && self.step() {}
        self.event_count() - start
    }

    /// Runs to the end.
    pub fn run(&mut self) {
        while self.step() {}
    }

    /// Runs everything that happens up to and including time `t`, then sets
    /// the clock to `t` (unless the simulation ended earlier).
    pub fn run_until(&mut self, t: Time) {
        while self.end.is_none() && self.next_time().is_none_or(|next| next <= t) {
            if !self.step() {
                // Stopped for a player's choice (`choice::Chooser::waits`).
                return;
            }
        }
        if self.end.is_none() && t > self.now {
            self.set_now(t);
        }
    }

    /// Moves to time `t`: forward by running, backward by replaying from the
    /// start with the same seed (which gives the same run).
    pub fn seek(&mut self, t: Time) {
        if t < self.now {
            *self = match &self.restart {
                Some(restart) => restart(),
                None => Simulation::new(&self.scenario, Some(self.seed)),
            };
        }
        self.run_until(t);
    }

    // ------------------------------------------------------------------
    // The event loop
    // ------------------------------------------------------------------

    fn set_now(&mut self, t: Time) {
        if t > self.now {
            self.now = t;
            self.clock.set(t);
        }
    }

    /// How long a `cpu` step of `ns` takes thread `tid` this time: the
    /// scenario's `jitter`, then the moments the thread is off its core.
    /// A `cpu` step burns CPU time, not a fixed amount of work: `twine run`
    /// and twine.py's `cpu` both time their busy loops, so the machine's
    /// speed changes how much they compute, not how long. `twine run`'s
    /// loop counts a stretch it was interrupted in at its work, so an
    /// interruption lengthens it; twine.py counts a burn of
    /// [`TIMED_BURN_NS`] or more by the thread's CPU clock, which the
    /// interruptions are part of, so they do not.
    pub(crate) fn cpu_time(&mut self, tid: u32, ns: u64) -> u64 {
        let ns = self.rng.jitter(ns, self.program.jitter);
        if self.program.python.is_some() && ns >= TIMED_BURN_NS {
            return ns;
        }
        ns + self.interrupted(tid, ns)
    }

    /// How long `ns` of thread `tid`'s work (a counter step, Python
    /// instructions) takes: the machine's speed this time, then the
    /// moments the thread is off its core.
    pub(crate) fn machine_cpu(&mut self, tid: u32, ns: u64) -> u64 {
        let ns = self.noise.cpu(ns);
        ns + self.interrupted(tid, ns)
    }

    /// How long thread `tid` is off its core during `ns` of its CPU time
    /// (`Noise::interruptions`): it lengthens the step, but is not the
    /// thread's CPU time.
    fn interrupted(&mut self, tid: u32, ns: u64) -> u64 {
        let gil_waiters = if self.gil.on { self.gil.waiters.len() } else { 0 };
        let off = self.noise.interruptions(tid, ns, gil_waiters);
        self.threads[tid as usize].off_core_ns += off;
        off
    }

    /// When a timed wait of `ns` that starts now lets its thread run again:
    /// `jitter` and the OS's timer latency only ever lengthen it.
    pub(crate) fn wait_end(&mut self, ns: u64) -> Time {
        let ns = self.rng.lengthen(ns, self.program.jitter);
        self.now + Duration::from_nanos(ns.saturating_add(self.noise.timer_latency()))
    }

    fn handle(&mut self, ev: Ev) {
        match ev {
            Ev::Thread { tid, gen } => {
                let t = &self.threads[tid as usize];
                if t.gen != gen {
                    return;
                }
                match t.state {
                    State::Running { .. } if t.work.is_some() => self.burst_tick(tid),
                    // A lock's waiter woken to try again (`lock_handoffs`) as well.
                    State::Blocked(Block::Io | Block::Sleep) => self.timer_woke(tid),
                    State::Blocked(Block::Poll | Block::Lock) => self.make_ready(tid),
                    _ => {}
                }
            }
            Ev::Spawn { tid } => self.spawn(tid),
            Ev::SpawnCall => self.spawn_call_done(),
            Ev::Arrive { tid, core } => self.arrived(tid, core),
            Ev::Gil { tid, .. } => self.gil_timed_out(tid),
            Ev::GilRewait { tid, .. } => self.gil_start_period(tid),
            Ev::GilWoken { tid } => self.gil_woken(tid),
            Ev::LockTimeout { tid, epoch } => {
                // Only the full module schedules these (`Halt::LockWaitFor`):
                // the light one leaves the handling out too.
                if crate::python::compile::PARSER && self.lock_wait_current(tid, epoch) {
                    self.lock_timed_out(tid);
                }
            }
            Ev::Client(ev) => self.client_event(ev),
            Ev::Balance => self.balance(),
        }
    }

    /// What the reactor and its callbacks left for the driver.
    fn after_action(&mut self) {
        self.spawn_python_threads();
        self.print_dropped_failures();
        if !self.sh.wakeups.borrow().is_empty() {
            self.lock_handoffs();
        }
        if !self.sh.pool_queue.borrow().is_empty() {
            self.dispatch_pool();
        }
        while let Some(effect) = self.reactor.poll_effect() {
            match self.loopback_effect(effect) {
                // Held until the reactor's iteration ends (`reactor_thread`).
                Some(Effect::Send { conn, message }) => {
                    self.rl.outbox.push((conn, message));
                    if self.ready.on {
                        self.epoll_buffered(conn);
                    }
                }
                Some(Effect::Write { data, .. }) => self.reactor.recycle_buffer(data),
                Some(Effect::Close { conn }) => self.client_closed(conn, false),
                Some(Effect::Abort { conn }) => self.client_closed(conn, true),
                _ => {}
            }
        }
        if self.sh.inbox_pushed.replace(false) {
            self.sh.note_hidden_sync(true);
            self.wake_reactor();
        }
    }

    /// A scenario's Deferred dropped holding a failure: Twisted logs it when
    /// the Deferred is collected, as these two lines. (A Python program's
    /// are printed with their traceback by its runtime.)
    fn print_dropped_failures(&mut self) {
        let dropped = std::mem::take(&mut self.store.borrow_mut().dropped_failures);
        if self.sh.py.borrow().is_some() {
            return;
        }
        for message in dropped {
            self.sh.say_err(0, "Unhandled error in Deferred:".to_owned());
            self.sh.say_err(0, format!("Failure: {message}"));
        }
    }

    fn finish_quiet(&mut self) {
        let stuck = self.threads.iter().any(|t| t.state == State::Blocked(Block::Lock));
        self.finish_exit(stuck);
    }

    /// Whether the Python program's process exits with daemon threads still
    /// running (they are killed wherever they wait). A reactor that was
    /// stopped finishes stopping first, as `reactor.run()` returns after it.
    fn python_exits(&self) -> bool {
        // Daemon threads are parsed programs' only (a constant in the light module).
        if !crate::python::compile::PARSER {
            return false;
        }
        let py = self.sh.py.borrow();
        let Some(rt) = py.as_ref() else { return false };
        rt.only_daemons_left() && (!rt.shut_down.get() || self.reactor.is_stopped())
    }

    /// The program ended, `stuck` if threads wait for locks nobody will release.
    fn finish_exit(&mut self, stuck: bool) {
        let reason = if stuck {
            EndReason::Deadlock
        } else if self.reactor.is_stopped() {
            EndReason::Stopped
        } else {
            EndReason::Quiet
        };
        if reason != EndReason::Deadlock {
            // The program ended as a process does: what it still held is collected.
            let rt = self.sh.py.borrow().clone();
            if let Some(rt) = rt {
                crate::python::unhandled::collect_at_exit(&self.sh, &rt);
            }
        }
        self.finish(reason);
    }

    fn finish(&mut self, reason: EndReason) {
        // Failures CPython's collector would report, whatever ended the run.
        let rt = self.sh.py.borrow().clone();
        if let Some(rt) = rt {
            crate::python::unhandled::report_cycles(&self.sh, &rt);
        }
        if let Some(call) = self.rl.open_call.take() {
            self.close_call(call);
        }
        self.end = Some(reason);
    }
}

impl Drop for Simulation {
    fn drop(&mut self) {
        self.sh.shut();
    }
}

impl std::fmt::Debug for Simulation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulation")
            .field("now", &self.now)
            .field("seed", &self.seed)
            .field("events", &self.event_count())
            .field("end", &self.end)
            .finish()
    }
}
