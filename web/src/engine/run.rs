//! Running a thread: one unit of work at a time, each picking up where
//! the interpreter stopped (a step that takes time, a lock to wait for, the
//! end of a program).

use std::rc::Rc;
use std::time::Duration;

use twine_core::defer::Failure;

use super::choice::Access;
use super::interp::{ActOutcome, Activation, End, Halt, Work};
use super::noise::Noise;
use super::reactor_thread::Phase;
use super::sched::{Block, Burst, BurstOp, Kind, State};
use super::shared::Woken;
use super::{Ev, Simulation};
use crate::program::CounterOp;

/// What a counter step costs on top when the counter was last stepped on
/// on another core. `twine run`, two threads incrementing one counter on
/// the harness's 2 CPUs against one counting alone in the same process
/// (200,000 steps of 50 ns each, 15 runs, 2026-12-05): 16 ns more a step at
/// the median (p10 8, p90 36); the ratio 1.28 (1.12 to 1.81).
const LINE_MOVE_NS: u64 = 16;

impl Simulation {
    /// One unit of work for a running thread at the current instant.
    pub(crate) fn advance(&mut self, tid: u32) {
        self.threads[tid as usize].queued = false;
        if !matches!(self.threads[tid as usize].state, State::Running { .. }) {
            return;
        }
        // A new thread's start-up and an ending thread's exit are the OS's
        // work: they need no GIL (but a Python thread's start-up is
        // CPython's `_bootstrap`, see `spawner`).
        let os_work = match self.threads[tid as usize].work {
            Some(Burst { op: BurstOp::Boot, .. }) => self.sh.py.borrow().is_none(),
            Some(Burst { op: BurstOp::Exit, .. }) => true,
            _ => false,
        };
        if self.gil.on && !self.threads[tid as usize].holds_gil && !os_work && !self.gil_acquire(tid) {
            return;
        }
        if self.threads[tid as usize].work.is_some() {
            self.run_burst(tid);
            return;
        }
        if let Some(since) = self.threads[tid as usize].lock_retry.take() {
            self.retry_lock(tid, since);
            return;
        }
        if self.park_at_visible(tid) {
            return;
        }
        if tid == 0 {
            self.reactor_advance();
        } else {
            self.thread_advance(tid);
        }
    }

    /// Runs the thread's current program on; returns false when it has none.
    pub(crate) fn continue_activation(&mut self, tid: u32) -> bool {
        let t = &mut self.threads[tid as usize];
        // The activation stays in place while it runs: moving it out and back
        // for every step was a measurable share of the simulation's time.
        let Some(act) = t.act.as_mut() else { return false };
        let halt = match t.resume.take() {
            Some(halt) => halt,
            None => super::interp::exec(&self.sh, &self.reactor, tid, act),
        };
        self.apply_current_halt(tid, halt);
        true
    }

    /// Gives `tid` the activation `act`, stopped at `halt`.
    pub(crate) fn apply_halt(&mut self, tid: u32, act: Activation, halt: Halt) {
        self.threads[tid as usize].act = Some(act);
        self.apply_current_halt(tid, halt);
    }

    /// Acts on where the thread's activation stopped.
    fn apply_current_halt(&mut self, tid: u32, halt: Halt) {
        match halt {
            Halt::Done => {
                if let Some(act) = self.threads[tid as usize].act.take() {
                    self.finish_activation(tid, act);
                }
                self.queue_now(tid);
            }
            Halt::Work(work) => self.start_work(tid, work),
            Halt::LockWait(lock, body) if self.spawn_on_caller(tid, lock, &body) => {}
            Halt::LockWait(lock, body) => {
                let t = &mut self.threads[tid as usize];
                t.lock_epoch += 1;
                t.lock_body = Some((lock, body));
                self.sh.wait_lock(lock, tid);
                self.block(tid, Block::Lock);
            }
            Halt::LockWaitFor(lock, ns) => {
                let t = &mut self.threads[tid as usize];
                t.lock_epoch += 1;
                t.lock_body = Some((lock, crate::python::vm::no_steps()));
                let epoch = t.lock_epoch;
                self.sh.wait_lock(lock, tid);
                self.block(tid, Block::Lock);
                // Only Python programs of the full module wait with a
                // deadline: the light module leaves the timer out.
                if crate::python::compile::PARSER {
                    // A timed wait ends late as a sleep does (the timer's latency).
                    let end = self.wait_end(ns);
                    self.schedule(end, Ev::LockTimeout { tid, epoch });
                }
            }
        }
    }

    /// Whether `tid` still waits in the lock wait numbered `epoch` (neither
    /// handed the lock nor gone on to another wait).
    pub(crate) fn lock_wait_current(&self, tid: u32, epoch: u64) -> bool {
        let t = &self.threads[tid as usize];
        t.lock_epoch == epoch && t.state == State::Blocked(Block::Lock) && t.lock_body.is_some()
    }

    /// A timed lock wait ran out: the thread leaves the lock's queue (or
    /// forgets the retry an unfair release gave it) and runs again without
    /// the lock, its task told it timed out.
    pub(crate) fn lock_timed_out(&mut self, tid: u32) {
        let t = &mut self.threads[tid as usize];
        let Some((lock, _)) = t.lock_body.take() else { return };
        t.lock_retry = None;
        // The retry's wake-up, if one is scheduled, is stale now.
        t.gen += 1;
        if let Some(task) = t.act.as_mut().and_then(|a| a.py.as_mut()) {
            task.time_out();
        }
        self.sh.leave_lock_queue(lock, tid);
        self.make_ready(tid);
    }

    fn start_work(&mut self, tid: u32, work: Work) {
        if let Some(watch) = self.sh.watch() {
            match work {
                // The interpreter stopped before a visible operation.
                Work::Py { .. } if watch.stopped.get() == Some(tid) => {
                    watch.stopped.set(None);
                    self.threads[tid as usize].at_visible = true;
                }
                // A counter step is one: it waits for its turn first.
                Work::Counter(op, counter) if !watch.take_grant(tid) => {
                    let key: Rc<str> = format!("#{counter}").into();
                    watch.note_access(
                        tid,
                        match op {
                            CounterOp::Read => Access::Read(key),
                            CounterOp::Write | CounterOp::Increment => Access::Write(key),
                        },
                    );
                    let t = &mut self.threads[tid as usize];
                    t.at_visible = true;
                    t.resume = Some(Halt::Work(work));
                    self.queue_now(tid);
                    return;
                }
                _ => {}
            }
        }
        match work {
            Work::Cpu(ns) => {
                let ns = self.cpu_time(tid, ns);
                if ns == 0 {
                    self.queue_now(tid);
                } else {
                    self.threads[tid as usize].work =
                        Some(Burst { left: ns, since: self.now, op: BurstOp::Cpu, fresh: true });
                    self.run_burst(tid);
                }
            }
            Work::Counter(op, counter) => {
                let ns = self.machine_cpu(tid, self.program.machine.counter_op) + self.line_move(tid, counter);
                if ns == 0 {
                    self.counter_step(tid, op, counter, None);
                    self.queue_now(tid);
                } else {
                    let op = BurstOp::Counter { op, counter, read: None };
                    // A GIL switch may come before it only right after an
                    // eval-breaker point, as in CPython (`Op::eval_breaker`).
                    let t = &mut self.threads[tid as usize];
                    let fresh = t.act.as_ref().is_none_or(|a| a.counter_at_breaker);
                    t.work = Some(Burst { left: ns, since: self.now, op, fresh });
                    self.run_burst(tid);
                }
            }
            Work::Py { ns, yield_gil } => {
                let ns = self.machine_cpu(tid, ns);
                if ns == 0 {
                    if yield_gil {
                        self.py_yield(tid);
                    } else {
                        self.queue_now(tid);
                    }
                } else {
                    let op = BurstOp::Py { yield_gil };
                    self.threads[tid as usize].work = Some(Burst { left: ns, since: self.now, op, fresh: true });
                    self.run_burst(tid);
                }
            }
            Work::Io(ns) | Work::Sleep(ns) => {
                let why = if matches!(work, Work::Io(_)) { Block::Io } else { Block::Sleep };
                let end = self.wait_end(ns);
                self.block(tid, why);
                let gen = self.threads[tid as usize].gen;
                self.schedule(end, Ev::Thread { tid, gen });
            }
        }
    }

    /// What a counter step pays for the counter's cache line: nothing on
    /// the core that stepped on it last, [`LINE_MOVE_NS`] on another (the
    /// line moves between the CPUs' caches). So two threads counting on
    /// one counter on two cores at once each count slower than alone, and
    /// lose fewer updates per microsecond they overlap. With noise off a
    /// step costs `counter_op_ns` wherever it runs.
    fn line_move(&mut self, tid: u32, counter: u32) -> u64 {
        let State::Running { core, .. } = self.threads[tid as usize].state else { return 0 };
        let mut counters = self.sh.counters.borrow_mut();
        let line = &mut counters[counter as usize].line;
        let moved = line.is_some_and(|c| c != core);
        *line = Some(core);
        if moved && self.noise.on() {
            LINE_MOVE_NS
        } else {
            0
        }
    }

    /// Wakes the waiters of locks released since the last action: a fair
    /// lock's new holder at once (a `join`'s after the OS's wake-up
    /// latency: [`Shared::wake_late`](super::shared::Shared::wake_late)),
    /// an unfair lock's waiter after that latency, to try again (by then
    /// the releasing thread, which never stopped running, may have taken
    /// the lock back), and a set event's waiters in the order they waited
    /// (`Noise::notify_latency`), holding nothing.
    pub(crate) fn lock_handoffs(&mut self) {
        let woken = std::mem::take(&mut *self.sh.wakeups.borrow_mut());
        for wake in woken {
            let tid = wake.thread;
            match wake.how {
                Woken::Handed => {}
                Woken::Retry(since) => {
                    self.threads[tid as usize].lock_retry = Some(since);
                    self.wake_after_latency(tid);
                    continue;
                }
                Woken::Notified { place, waited } => {
                    self.threads[tid as usize].lock_body = None;
                    self.wake_after(tid, |noise| noise.notify_latency(place, waited));
                    continue;
                }
            }
            let t = &mut self.threads[tid as usize];
            if let (Some(act), Some((waited_for, body))) = (t.act.as_mut(), t.lock_body.take()) {
                debug_assert_eq!(waited_for, wake.lock);
                act.enter_lock(wake.lock, body);
            }
            if t.state == State::Blocked(Block::Lock) {
                if self.noise.on() && self.sh.locks.borrow()[wake.lock as usize].wakes_late {
                    self.wake_after(tid, Noise::wake_latency);
                } else {
                    self.make_ready(tid);
                }
            }
        }
    }

    /// Lock waiter `tid` runs again once the OS has woken it.
    fn wake_after_latency(&mut self, tid: u32) {
        self.wake_after(tid, Noise::wake_latency);
    }

    /// Lock waiter `tid` runs again after the latency `latency` draws.
    fn wake_after(&mut self, tid: u32, latency: impl FnOnce(&mut Noise) -> u64) {
        if self.threads[tid as usize].state == State::Blocked(Block::Lock) {
            let at = self.now + Duration::from_nanos(latency(&mut self.noise));
            let gen = self.threads[tid as usize].gen;
            self.schedule(at, Ev::Thread { tid, gen });
        }
    }

    /// A woken waiter of an unfair lock, running again: it takes the lock
    /// and enters its body, or waits again.
    fn retry_lock(&mut self, tid: u32, since: twine_core::Time) {
        let Some((lock, body)) = self.threads[tid as usize].lock_body.take() else {
            self.queue_now(tid);
            return;
        };
        if self.sh.try_lock_again(lock, tid, since) {
            if let Some(act) = self.threads[tid as usize].act.as_mut() {
                act.enter_lock(lock, body);
            }
            self.queue_now(tid);
        } else {
            self.threads[tid as usize].lock_body = Some((lock, body));
            self.block(tid, Block::Lock);
        }
    }

    pub(crate) fn finish_activation(&mut self, tid: u32, mut act: Activation) {
        if let Some(task) = act.py.take() {
            self.finish_python(tid, *task, act.end);
            return;
        }
        let outcome = act.outcome();
        match std::mem::replace(&mut act.end, End::Call) {
            End::Call => {
                if let ActOutcome::Failed(failure) = outcome {
                    self.sh.unhandled_error(&failure);
                }
            }
            End::Link(link) => match outcome {
                ActOutcome::Ok => {
                    let _ = link.callback(());
                }
                ActOutcome::Failed(failure) => {
                    let _ = link.errback(failure);
                }
                ActOutcome::Pending(d) => {
                    d.add_both(move |result| {
                        let _ = link.fire(result);
                        Ok::<(), Failure>(())
                    });
                }
            },
            End::Main => {
                if let ActOutcome::Failed(failure) = outcome {
                    self.sh.unhandled_error(&failure);
                }
                self.rl.phase = Phase::Poll;
            }
            End::Job(slot) => {
                if let (ActOutcome::Failed(failure), Some(slot)) = (outcome, slot) {
                    *slot.lock().unwrap_or_else(std::sync::PoisonError::into_inner) =
                        Some(failure.message().to_owned());
                }
                if let Some(job) = self.threads[tid as usize].job.take() {
                    // The result goes back through the reactor's inbox, as from a real pool.
                    job.run(tid);
                    self.sh.inbox_pushed.set(true);
                    self.pool.completed += 1;
                    self.update_pool_stats();
                }
            }
            End::Thread | End::PyLink(_) | End::PyJob(_) => {}
        }
    }

    /// A Python activation ended: deliver its result where it was due.
    fn finish_python(&mut self, tid: u32, mut task: crate::python::vm::Task, end: End) {
        use crate::python::twisted;
        let Some(rt) = self.sh.py.borrow().clone() else { return };
        let result = task.result.take().unwrap_or(Ok(crate::python::value::Value::None));
        match end {
            End::Main => self.rl.phase = Phase::Poll,
            End::PyLink(link) => match twisted::outcome_of(&rt, result) {
                twine_core::defer::Outcome::Value(v) => {
                    let _ = link.callback(v);
                }
                twine_core::defer::Outcome::Failure(f) => {
                    let _ = link.errback(f);
                }
                twine_core::defer::Outcome::Deferred(d) => {
                    d.add_both(move |r| {
                        let _ = link.fire(r);
                        Ok::<_, Failure>(crate::python::value::Value::None)
                    });
                }
            },
            End::PyJob(slot) => {
                let r = match result {
                    Ok(v) => Ok(rt.store_value(v)),
                    Err(e) => {
                        let text = e.value.type_name().to_string();
                        Err((rt.store_value(e.value), text))
                    }
                };
                *slot.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(r);
                if let Some(job) = self.threads[tid as usize].job.take() {
                    job.run(tid);
                    self.sh.inbox_pushed.set(true);
                    self.pool.completed += 1;
                    self.update_pool_stats();
                }
            }
            End::Call => {
                if let Err(e) = result {
                    let f = match twisted::outcome_of(&rt, Err(e)) {
                        twine_core::defer::Outcome::Failure(f) => f,
                        _ => return,
                    };
                    twisted::report_unhandled(&self.sh, &rt, "Unhandled Error", &f);
                }
            }
            End::Thread | End::Link(_) | End::Job(_) => {}
        }
    }

    pub(crate) fn thread_advance(&mut self, tid: u32) {
        if self.continue_activation(tid) {
            return;
        }
        match self.threads[tid as usize].kind {
            Kind::Pool => {
                let next = if self.reactor.is_stopped() { None } else { self.sh.pool_queue.borrow_mut().pop_front() };
                match next {
                    Some(job) => {
                        self.assign_job(tid, job);
                        self.note_pool_depth();
                        self.queue_now(tid);
                    }
                    None if self.reactor.is_stopped() => self.exit_thread(tid),
                    None => {
                        self.block(tid, Block::Idle);
                        self.pool.idle.push_back(tid);
                        self.update_pool_stats();
                        self.note_pool_free();
                    }
                }
            }
            Kind::Plain => self.end_thread(tid),
            Kind::Reactor => self.exit_thread(tid),
        }
    }

    /// A thread past its last step: it is done (its `finished_ms`), but
    /// its exit holds its core a little longer (`Noise::thread_exit`),
    /// without the GIL, which it lets go first, as `twine run`'s threads do.
    fn end_thread(&mut self, tid: u32) {
        self.threads[tid as usize].finished = Some(self.now);
        let ns = self.noise.thread_exit();
        if ns == 0 {
            self.exit_thread(tid);
            return;
        }
        if self.threads[tid as usize].holds_gil {
            self.gil_release(tid);
        }
        self.threads[tid as usize].work = Some(Burst { left: ns, since: self.now, op: BurstOp::Exit, fresh: false });
        self.run_burst(tid);
    }
}
