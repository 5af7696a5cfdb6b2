//! Threads and cores: the OS scheduler.
//!
//! A thread needs a core to execute anything. A thread that becomes ready
//! takes a free core or waits in the run queue; a running thread whose time
//! slice ends while others wait goes to the back of it (round robin). With
//! the machine's noise on, the queue is Linux's per-CPU queues: a thread its
//! own timer woke, a preempted one and a new one (`fork_target`) wait for
//! one core, which another takes from only after `STEAL_AFTER_NS`; with
//! noise off every queued thread is any free core's, the lowest numbered
//! first. CPU work runs in bursts that end when the work is done, the slice
//! ends, or the GIL is taken away (see `gil`).

use std::borrow::Cow;
use std::rc::Rc;
use std::time::Duration;

use twine_core::threads::Job;
use twine_core::trace::TraceEvent;
use twine_core::Time;

use super::interp::{Activation, Halt};
use super::{Ev, Simulation};
use crate::explain::lost::Var;
use crate::program::{CounterOp, Seq};

/// How long a thread waits on one core's queue before an idle core takes it
/// (`Simulation::enqueue`).
const STEAL_AFTER_NS: u64 = 4_000_000;

/// What kind of thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Reactor,
    Pool,
    Plain,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Reactor => "reactor",
            Kind::Pool => "pool",
            Kind::Plain => "thread",
        }
    }
}

/// Why a thread is not running.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Block {
    Io,
    Sleep,
    Lock,
    Gil,
    Poll,
    Idle,
}

impl Block {
    pub fn reason(self) -> &'static str {
        match self {
            Block::Io => "io",
            Block::Sleep => "sleep",
            Block::Lock => "lock",
            Block::Gil => "gil",
            Block::Poll => "poll",
            Block::Idle => "idle",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum State {
    NotStarted,
    Blocked(Block),
    Ready,
    Running { core: u32, since: Time, slice_end: Time },
    Exited,
}

/// CPU work in progress.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Burst {
    pub left: u64,
    /// When the current stretch on a core began.
    pub since: Time,
    pub op: BurstOp,
    /// Not begun yet, so a GIL switch may still come before it: any `cpu`
    /// work, and a counter step right after an eval-breaker point (never
    /// one inside `seen = hits; hits = seen + 1`, as in CPython).
    pub fresh: bool,
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum BurstOp {
    Cpu,
    /// A counter step; `read` is what an increment read when it began.
    Counter {
        op: CounterOp,
        counter: u32,
        read: Option<i64>,
    },
    /// Python instructions: no GIL switch inside; with `yield_gil`, a
    /// requested switch happens at its end.
    Py {
        yield_gil: bool,
    },
    /// A new thread's own start-up (`Noise::thread_boot`), before its
    /// first step: OS work, done without the GIL; in a Python program,
    /// CPython's `_bootstrap`, with it.
    Boot,
    /// An ending thread's exit (`Noise::thread_exit`), after its last step.
    Exit,
    /// A Python `Thread.start()`'s spawn call (`Noise::spawn_cost`) on the
    /// caller's core, with the GIL held; the threads in `Thread::spawning`
    /// exist once it ends.
    Spawn,
}

pub(crate) struct Thread {
    pub name: Rc<str>,
    pub kind: Kind,
    pub state: State,
    pub act: Option<Activation>,
    /// A halt to apply before running more steps (work a callback queued).
    pub resume: Option<Halt>,
    /// The threads its running spawn call (`BurstOp::Spawn`) makes.
    pub spawning: Vec<u32>,
    pub work: Option<Burst>,
    /// Bumped to invalidate this thread's scheduled event.
    pub gen: u64,
    /// In the engine's run-now queue.
    pub queued: bool,
    pub holds_gil: bool,
    pub lock_body: Option<(u32, Seq)>,
    /// Woken by an unfair lock's release: try for the lock (waiting since
    /// then) before anything else.
    pub lock_retry: Option<Time>,
    /// Bumped at each lock wait the program starts, so that a timed wait's
    /// deadline (`Ev::LockTimeout`) applies to that wait only.
    pub lock_epoch: u64,
    pub job: Option<Job>,
    /// Values read by `read` steps, per counter.
    pub registers: Vec<(u32, i64)>,
    /// Of its current work's length, time it spends off its core
    /// (`Noise::interruptions`): not charged as its CPU time.
    pub off_core_ns: u64,
    pub gil_hold_ns: u64,
    pub gil_wait_ns: u64,
    pub gil_since: Time,
    /// Waiting for the GIL: bumped to cancel this waiter's switch-interval timer.
    pub gil_timer: u64,
    /// Waiting for the GIL: the switch count when its current timed wait began.
    pub gil_seen: u64,
    /// When its current timed wait for the GIL began: its place on the
    /// condition variable's queue (a wait that times out rejoins at the back).
    pub gil_period_from: Time,
    pub spawned: Option<Time>,
    /// Its last step done (`finished_ms`); it exits a little later.
    pub finished: Option<Time>,
    pub exited: Option<Time>,
    /// Exploring: stopped before a visible operation, not yet let through.
    pub at_visible: bool,
    /// The core it last ran on.
    pub last_core: Option<u32>,
    /// Queued: the core whose queue it is on (None: any core's).
    pub queued_for: Option<u32>,
    /// When it last joined the run queue.
    pub queued_since: Time,
    /// The scenario's later `start` (ns) it sleeps until once started up.
    pub start_at: Option<u64>,
}

/// Of `ran` ns a thread's work held a core, its own CPU time: less the
/// moments it was off its core (`off_core`, which this uses up).
pub(crate) fn own_cpu(off_core: &mut u64, ran: u64) -> u64 {
    let off = ran.min(*off_core);
    *off_core -= off;
    ran - off
}

impl Thread {
    pub fn new(name: Rc<str>, kind: Kind) -> Thread {
        Thread {
            name,
            kind,
            state: State::NotStarted,
            act: None,
            resume: None,
            spawning: Vec::new(),
            work: None,
            gen: 0,
            queued: false,
            holds_gil: false,
            lock_body: None,
            lock_retry: None,
            lock_epoch: 0,
            job: None,
            registers: Vec::new(),
            off_core_ns: 0,
            gil_hold_ns: 0,
            gil_wait_ns: 0,
            gil_since: Time::ZERO,
            gil_timer: 0,
            gil_seen: 0,
            gil_period_from: Time::ZERO,
            spawned: None,
            finished: None,
            exited: None,
            at_visible: false,
            last_core: None,
            queued_for: None,
            queued_since: Time::ZERO,
            start_at: None,
        }
    }
}

#[derive(Default)]
pub(crate) struct Core {
    pub thread: Option<u32>,
    pub busy_ns: u64,
    /// Held by the engine's thread starter (`spawner`).
    pub reserved: bool,
    /// Idle, and waking up for a new thread placed on it (`Ev::Arrive`).
    pub waking: bool,
}

impl Core {
    pub fn is_free(&self) -> bool {
        self.thread.is_none() && !self.reserved && !self.waking
    }
}

impl Simulation {
    pub(crate) fn emit(&self, event: TraceEvent) {
        self.store.borrow_mut().push(self.now, event);
    }

    /// Runs `tid` at the current instant, after whatever is already queued.
    pub(crate) fn queue_now(&mut self, tid: u32) {
        let t = &mut self.threads[tid as usize];
        if !t.queued {
            t.queued = true;
            self.ready_now.push_back(tid);
        }
    }

    pub(crate) fn spawn(&mut self, tid: u32) {
        self.spawn_near(tid, None);
    }

    /// As [`spawn`](Simulation::spawn), made by a starter on `parent`'s
    /// core: with noise on, it goes where Linux puts a new thread (see
    /// [`fork_target`](Simulation::fork_target)).
    pub(super) fn spawn_near(&mut self, tid: u32, parent: Option<u32>) {
        let name = self.threads[tid as usize].name.to_string();
        self.threads[tid as usize].spawned = Some(self.now);
        self.emit(TraceEvent::ThreadSpawned { thread: tid, name });
        if self.threads[tid as usize].kind == Kind::Pool {
            self.pool_thread_created(tid);
        }
        match parent.filter(|_| self.noise.on()) {
            Some(parent) => {
                self.threads[tid as usize].state = State::Ready;
                let core = self.fork_target(parent);
                if self.cores[core as usize].is_free() {
                    // The idle core wakes for it first (`arrived`).
                    self.cores[core as usize].waking = true;
                    let at = self.now + Duration::from_nanos(self.noise.wake_latency());
                    self.schedule(at, Ev::Arrive { tid, core });
                } else {
                    self.enqueue(tid, Some(core));
                }
            }
            None => self.make_ready(tid),
        }
    }

    /// The idle core `core`, woken for new thread `tid`, runs it.
    pub(super) fn arrived(&mut self, tid: u32, core: u32) {
        self.cores[core as usize].waking = false;
        self.put_on_core(tid, core);
    }

    /// The core a thread started from `parent`'s goes to: the one with the
    /// fewest threads running, queued or arriving on it, the parent's on a
    /// tie. This is Linux's fork balancing (`sched_balance_find_dst_cpu`)
    /// on a machine of one cache domain: an idle CPU first, then a CPU
    /// whose queue is not yet longer than its one running thread, the
    /// starter's own before another's. So a thread started while the last
    /// one still starts up on the other core waits for the starter's core,
    /// even when the other frees first, and the next goes to the other core
    /// again. An idle core the thread is placed on runs it only after a
    /// wake-up's latency (an idle CPU is woken by an interrupt), and counts
    /// as taken meanwhile.
    fn fork_target(&self, parent: u32) -> u32 {
        let load = |core: u32| {
            let c = &self.cores[core as usize];
            let queued = self.run_queue.iter().filter(|&&t| self.threads[t as usize].queued_for == Some(core)).count();
            usize::from(!c.is_free()) + queued
        };
        (0..self.cores.len() as u32).min_by_key(|&core| (load(core), core != parent, core)).unwrap_or(parent)
    }

    /// `tid` can run: on a free core (with noise on, the one it last ran
    /// on if that one is free, as Linux places a woken thread), else it
    /// queues for whichever core frees first.
    pub(crate) fn make_ready(&mut self, tid: u32) {
        self.make_ready_for(tid, None);
    }

    /// `tid`'s own timer ended its sleep or I/O wait: as [`make_ready`],
    /// but if every core is busy it waits for the one it last ran on.
    ///
    /// On Linux a sleeping thread's timer fires on the CPU it went to sleep
    /// on, which wakes it there, and a thread woken while every CPU is busy
    /// joins that CPU's queue; a CPU that falls idle does not take it from
    /// there at once. Measured on the harness's machine (2 CPUs, Linux 6.18,
    /// 2026-12-05; counter-race's ten threads started up, asleep, then woken
    /// together, 20 runs): 187 of 200 ran on the CPU they had started up on,
    /// none moved while it ran, so an idle CPU left the other's queue alone
    /// for the whole run (up to 0.9 ms; in a C program with 1 ms threads,
    /// 2 ms). Another core takes it only once it has waited
    /// [`STEAL_AFTER_NS`] (Linux's periodic balancing; how soon is not
    /// measured, only that it is not within 2 ms). A thread woken by another
    /// (a lock, an event, the GIL) queues for any core: where Linux puts it
    /// then is not measured.
    ///
    /// [`make_ready`]: Simulation::make_ready
    pub(crate) fn timer_woke(&mut self, tid: u32) {
        let last = self.threads[tid as usize].last_core.filter(|_| self.noise.on());
        self.make_ready_for(tid, last);
    }

    fn make_ready_for(&mut self, tid: u32, home: Option<u32>) {
        self.threads[tid as usize].state = State::Ready;
        let last =
            self.threads[tid as usize].last_core.filter(|&c| self.noise.on() && self.cores[c as usize].is_free());
        match last.or_else(|| self.cores.iter().position(Core::is_free).map(|c| c as u32)) {
            Some(core) => self.put_on_core(tid, core),
            None => self.enqueue(tid, home),
        }
    }

    /// `tid` waits for `home`, or for any core.
    fn enqueue(&mut self, tid: u32, home: Option<u32>) {
        let t = &mut self.threads[tid as usize];
        t.queued_since = self.now;
        t.queued_for = home;
        self.run_queue.push_back(tid);
        if home.is_some() {
            self.schedule(self.now + Duration::from_nanos(STEAL_AFTER_NS), Ev::Balance);
        }
    }

    /// Whether `core` may run the queued `tid` now.
    pub(super) fn may_run_on(&self, tid: u32, core: u32) -> bool {
        let t = &self.threads[tid as usize];
        t.queued_for.is_none_or(|c| c == core)
            || self.now.saturating_since(t.queued_since).as_nanos() as u64 >= STEAL_AFTER_NS
    }

    /// Whether a thread is queued that `core` may run now.
    fn any_ready_for(&self, core: u32) -> bool {
        self.run_queue.iter().any(|&tid| self.may_run_on(tid, core))
    }

    /// Linux's periodic balancing: each free core takes a thread that has
    /// waited long enough on another's queue.
    pub(super) fn balance(&mut self) {
        for core in 0..self.cores.len() as u32 {
            self.fill_core(core);
        }
    }

    /// `tid` sleeps until `start` (a scenario thread's later start, after
    /// its start-up), and wakes as any sleeper: on a timer, with its slack.
    pub(super) fn sleep_until(&mut self, tid: u32, start: u64) {
        self.run_queue.retain(|&t| t != tid);
        self.block(tid, Block::Sleep);
        let at = Time::from_nanos(start.max(self.now.as_nanos()) + self.noise.timer_latency());
        let gen = self.threads[tid as usize].gen;
        self.schedule(at, Ev::Thread { tid, gen });
    }

    /// When a time slice that starts now ends.
    fn slice_end(&self) -> Time {
        self.now + Duration::from_nanos(self.program.machine.time_slice)
    }

    pub(super) fn put_on_core(&mut self, tid: u32, core: u32) {
        self.cores[core as usize].thread = Some(tid);
        let slice_end = self.slice_end();
        self.threads[tid as usize].state = State::Running { core, since: self.now, slice_end };
        self.threads[tid as usize].last_core = Some(core);
        self.emit(TraceEvent::ThreadRun { thread: tid, core });
        self.queue_now(tid);
    }

    fn running_core(&self, tid: u32) -> Option<u32> {
        match self.threads[tid as usize].state {
            State::Running { core, .. } => Some(core),
            _ => None,
        }
    }

    /// Takes `tid` off its core, accounting the core's busy time. Returns the core.
    pub(super) fn off_core(&mut self, tid: u32) -> Option<u32> {
        let State::Running { core, since, .. } = self.threads[tid as usize].state else { return None };
        let c = &mut self.cores[core as usize];
        c.busy_ns += self.now.saturating_since(since).as_nanos() as u64;
        c.thread = None;
        Some(core)
    }

    pub(super) fn fill_core(&mut self, core: u32) {
        if self.cores[core as usize].is_free() && !self.spawner_wants(core) {
            if let Some(next) = self.pick_ready(core) {
                self.put_on_core(next, core);
            }
        }
    }

    /// `tid` blocks: off its core, the GIL released (except when it is the
    /// GIL it waits for), the core given to the next ready thread.
    pub(crate) fn block(&mut self, tid: u32, why: Block) {
        let core = self.off_core(tid);
        if core.is_some() {
            self.emit(TraceEvent::ThreadBlock { thread: tid, reason: Cow::Borrowed(why.reason()) });
        }
        self.threads[tid as usize].state = State::Blocked(why);
        self.threads[tid as usize].gen += 1;
        if self.threads[tid as usize].holds_gil {
            self.gil_release(tid);
        }
        if let Some(core) = core {
            self.fill_core(core);
        }
    }

    pub(crate) fn exit_thread(&mut self, tid: u32) {
        let core = self.off_core(tid);
        let t = &mut self.threads[tid as usize];
        t.state = State::Exited;
        t.exited = Some(self.now);
        t.gen += 1;
        self.emit(TraceEvent::ThreadExit { thread: tid });
        if self.threads[tid as usize].holds_gil {
            self.gil_release(tid);
        }
        if let Some(core) = core {
            self.fill_core(core);
        }
    }

    /// The time slice ran out and others wait: to the back of the run queue.
    pub(super) fn preempt(&mut self, tid: u32) {
        let Some(core) = self.off_core(tid) else { return };
        self.emit(TraceEvent::ThreadPreempt { thread: tid, core });
        let t = &mut self.threads[tid as usize];
        t.state = State::Ready;
        t.gen += 1;
        // Linux keeps a preempted thread on its CPU's queue.
        let home = self.noise.on().then_some(core);
        self.enqueue(tid, home);
        self.fill_core(core);
    }

    /// Starts or resumes the thread's CPU burst on its core. A pending GIL
    /// drop request is honoured here, before computing: between steps, or in
    /// the middle of `cpu` work, never inside a counter step.
    pub(crate) fn run_burst(&mut self, tid: u32) {
        let State::Running { core, since, mut slice_end } = self.threads[tid as usize].state else { return };
        if self.gil.on && self.gil.drop_requested && !self.gil.waiters.is_empty() {
            let t = &self.threads[tid as usize];
            let splittable = t
                .work
                .is_some_and(|b| (b.fresh && !matches!(b.op, BurstOp::Py { .. })) || matches!(b.op, BurstOp::Cpu));
            if t.holds_gil && splittable {
                self.gil_forced_drop(tid);
                return;
            }
        }
        if slice_end <= self.now {
            if self.any_ready_for(core) {
                self.preempt(tid);
                return;
            }
            slice_end = self.slice_end();
            self.threads[tid as usize].state = State::Running { core, since, slice_end };
        }
        let now = self.now;
        let counters = &self.sh.counters;
        let t = &mut self.threads[tid as usize];
        let Some(burst) = t.work.as_mut() else { return };
        if let BurstOp::Counter { op: CounterOp::Increment, counter, read: read @ None } = &mut burst.op {
            let value = counters.borrow()[*counter as usize].value;
            *read = Some(value);
            self.sh.shared_read(&Var::Counter(*counter), tid, value);
        }
        burst.since = now;
        burst.fresh = false;
        let end = (now + Duration::from_nanos(burst.left)).min(slice_end);
        t.gen += 1;
        let gen = t.gen;
        self.schedule(end, Ev::Thread { tid, gen });
    }

    /// The thread's burst reached its scheduled end: done, or slice over.
    pub(crate) fn burst_tick(&mut self, tid: u32) {
        let now = self.now;
        let t = &mut self.threads[tid as usize];
        let Some(burst) = t.work.as_mut() else { return };
        let ran = now.saturating_since(burst.since).as_nanos() as u64;
        burst.left = burst.left.saturating_sub(ran);
        burst.since = now;
        // A thread's CPU time ends with its last step, as `twine run`
        // measures it: its exit is the core's time, not the thread's.
        if !matches!(burst.op, BurstOp::Exit) {
            self.sh.charge_cpu(tid, own_cpu(&mut t.off_core_ns, ran));
        }
        if burst.left == 0 {
            let op = burst.op;
            t.work = None;
            if let BurstOp::Boot = op {
                self.spawner_booted(tid);
                if let Some(start) = self.threads[tid as usize].start_at.take() {
                    self.sleep_until(tid, start);
                    return;
                }
            }
            if let BurstOp::Exit = op {
                self.exit_thread(tid);
                return;
            }
            if let BurstOp::Spawn = op {
                self.spawn_call_returned(tid);
            }
            if let BurstOp::Counter { op, counter, read } = op {
                self.counter_step(tid, op, counter, read);
            }
            if let BurstOp::Py { yield_gil: true } = op {
                self.py_yield(tid);
                return;
            }
            // Nothing else is queued at this instant (events are handled only
            // when the run-now queue is empty): go straight on.
            self.advance(tid);
        } else if self.running_core(tid).is_some_and(|core| self.any_ready_for(core)) {
            self.preempt(tid);
        } else {
            let State::Running { core, since, .. } = self.threads[tid as usize].state else { return };
            let slice_end = self.slice_end();
            self.threads[tid as usize].state = State::Running { core, since, slice_end };
            self.run_burst(tid);
        }
    }

    /// A Python thread at an eval-breaker point: it drops the GIL if a
    /// switch was asked for, as CPython's eval loop does; otherwise it goes on.
    pub(crate) fn py_yield(&mut self, tid: u32) {
        let t = &self.threads[tid as usize];
        if self.gil.on && self.gil.drop_requested && !self.gil.waiters.is_empty() && t.holds_gil {
            self.gil_forced_drop(tid);
        } else {
            self.sh.gil_drop.set(self.gil.drop_requested && !self.gil.waiters.is_empty());
            self.queue_now(tid);
        }
    }

    /// A counter step's effect, at its end.
    pub(crate) fn counter_step(&mut self, tid: u32, op: CounterOp, counter: u32, read: Option<i64>) {
        let t = &mut self.threads[tid as usize];
        let mut counters = self.sh.counters.borrow_mut();
        let state = &mut counters[counter as usize];
        let before = state.value;
        // The value the write is computed from.
        let base = match op {
            CounterOp::Read => {
                match t.registers.iter_mut().find(|(c, _)| *c == counter) {
                    Some(slot) => slot.1 = before,
                    None => t.registers.push((counter, before)),
                }
                drop(counters);
                self.sh.shared_read(&Var::Counter(counter), tid, before);
                return;
            }
            CounterOp::Increment => read.unwrap_or(before),
            CounterOp::Write => t.registers.iter().find(|(c, _)| *c == counter).map_or(before, |(_, v)| *v),
        };
        let value = base + 1;
        state.value = value;
        state.intended += 1;
        drop(counters);
        let name = &*self.program.counters[counter as usize];
        self.sh.shared_write(&Var::Counter(counter), name, tid, Some(base), before, value);
        self.emit(TraceEvent::Counter { name: Cow::Owned(name.to_owned()), value });
    }
}
