//! The thread that starts a program's threads.
//!
//! Starting a thread is work for the thread that starts it: each spawn
//! call holds a core for microseconds (`Noise::spawn_cost`), so
//! threads started in a loop appear one call apart, and while the loop
//! runs its core is not the workers'. `twine run` starts a scenario's
//! threads from its main thread in such a loop (native/src/run/mod.rs), a
//! Python program from the thread that calls `Thread.start()`, and the pool
//! its new threads from the thread that hands it a job. A Python
//! `Thread.start()` makes its thread on the caller's own core, under the
//! GIL, as CPython does (`spawn_on_caller`); every other start goes
//! through a starter that is the engine's own: it is no thread of the
//! program, so it has no number, no trace events and no metrics row, only
//! the core time it takes (in the cores' busy time) and the order and
//! times it starts threads at. With noise off starting costs nothing and threads start at
//! once, as before.

use std::collections::VecDeque;
use std::time::Duration;

use twine_core::Time;

use super::sched::{Burst, BurstOp};
use super::{Ev, Simulation};

/// Threads waiting to be started, and the core the starter holds.
#[derive(Default)]
pub(crate) struct Spawner {
    /// In order: the thread, and the scenario's `start` (ns) it then sleeps until.
    queue: VecDeque<(u32, u64)>,
    /// The core it holds, and since when.
    core: Option<(u32, Time)>,
    /// Waiting for a core to free up.
    waiting: bool,
    /// The thread whose start-up it waits for before the next spawn call.
    awaiting: Option<u32>,
    /// A Python thread whose spawn call makes the pool's next new thread
    /// (a `deferToThread` that starts one: `spawn_on_caller`).
    pub(super) pool_caller: Option<u32>,
}

impl Simulation {
    /// Starts `threads` (each with its `start` time) one after another.
    pub(crate) fn start_threads(&mut self, threads: impl IntoIterator<Item = (u32, u64)>) {
        self.spawner.queue.extend(threads);
        if self.spawner.core.is_none() && !self.spawner.waiting {
            self.spawner_go();
        }
    }

    /// The starter's next call: on its core, or waiting for one; when
    /// the queue is empty it gives its core back.
    pub(super) fn spawner_go(&mut self) {
        // Waiting for a thread to start takes no core, as a blocked thread.
        if self.spawner.queue.is_empty() || self.spawner.awaiting.is_some() {
            if let Some((core, since)) = self.spawner.core.take() {
                let c = &mut self.cores[core as usize];
                c.busy_ns += self.now.saturating_since(since).as_nanos() as u64;
                c.reserved = false;
                self.fill_core(core);
            }
            return;
        }
        if !self.noise.on() {
            while let Some((tid, start)) = self.spawner.queue.pop_front() {
                self.thread_created(tid, start);
            }
            return;
        }
        if self.spawner.core.is_none() {
            match self.cores.iter().position(|c| c.is_free()) {
                Some(core) => self.spawner_takes(core as u32),
                None => self.spawner.waiting = true,
            }
            return;
        }
        let cost = self.noise.spawn_cost();
        self.schedule(self.now + Duration::from_nanos(cost), Ev::SpawnCall);
    }

    /// The starter runs its next spawn call on `core`.
    fn spawner_takes(&mut self, core: u32) {
        self.cores[core as usize].reserved = true;
        self.spawner.core = Some((core, self.now));
        self.spawner.waiting = false;
        self.spawner_go();
    }

    /// `core` is free: the starter takes it if it is waiting for one.
    /// Returns whether it did.
    pub(super) fn spawner_wants(&mut self, core: u32) -> bool {
        if !self.spawner.waiting {
            return false;
        }
        self.spawner_takes(core);
        true
    }

    /// A spawn call returned: its thread exists.
    pub(super) fn spawn_call_done(&mut self) {
        if let Some((tid, start)) = self.spawner.queue.pop_front() {
            self.thread_created(tid, start);
        }
        self.spawner_go();
    }

    /// Thread `tid`'s start-up is done: a starter waiting for it goes on.
    pub(super) fn spawner_booted(&mut self, tid: u32) {
        if self.spawner.awaiting == Some(tid) {
            self.spawner.awaiting = None;
            if self.spawner.core.is_none() && !self.spawner.waiting {
                self.spawner_go();
            }
        }
    }

    /// A Python `Thread.start()` about to wait on `lock` (the new thread's
    /// `_started`) makes its thread first, as CPython 3.11 does: the spawn
    /// call (`_start_new_thread`) is the caller's CPU with the GIL held
    /// (`thread_PyThread_start_new_thread` does not let it go), and only
    /// then does the caller wait. The new thread comes up on a free core
    /// while the caller still holds the GIL or has just let it go, and asks
    /// for it, often before the waiter that release woke is back on a core
    /// (`gil_woken`): then it runs first. Ten threads started in a loop
    /// while the started ones count (`web/tests/python_threads.rs`): in
    /// CPython the new thread ran before the thread the caller had taken
    /// the GIL from in 35 of 54 starts, the model now in 30 of 54; when the
    /// engine's own starter made it after the caller let go, 8 of 54, and a thread
    /// switched out between a read and a write had the GIL back a
    /// millisecond later where CPython's waited a switch interval or more
    /// (counter-race.py's lost updates per stale write: 229 against
    /// CPython's 647 at the median).
    /// Returns false (the engine's starter spawns) with noise off, where
    /// starting costs nothing, or when this wait is no `start()`'s.
    ///
    /// A `deferToThread` that starts a pool thread waits the same way
    /// (Twisted's pool calls `Thread.start()` in the caller): its call
    /// makes the thread the pool then creates for the job (`dispatch_pool`).
    pub(crate) fn spawn_on_caller(&mut self, tid: u32, lock: u32, body: &crate::program::Seq) -> bool {
        let (threads, pool) = match self.sh.py.borrow().as_ref() {
            Some(rt) => (!rt.spawns.borrow().is_empty(), rt.pool_spawn.replace(false)),
            None => (false, false),
        };
        if !self.noise.on() || !(threads || pool) {
            return false;
        }
        if pool {
            self.spawner.pool_caller = Some(tid);
        }
        let cost = self.noise.spawn_cost();
        let new = self.python_spawns();
        let t = &mut self.threads[tid as usize];
        t.resume = Some(super::interp::Halt::LockWait(lock, body.clone()));
        t.spawning = new;
        t.work = Some(Burst { left: cost, since: self.now, op: BurstOp::Spawn, fresh: true });
        self.run_burst(tid);
        true
    }

    /// `tid`'s spawn call returned: its new threads come up, each on a
    /// core once the OS puts it on one (a wake-up's latency).
    pub(super) fn spawn_call_returned(&mut self, tid: u32) {
        if self.spawner.pool_caller == Some(tid) {
            self.spawner.pool_caller = None;
        }
        for new in std::mem::take(&mut self.threads[tid as usize].spawning) {
            let boot = self.noise.thread_boot();
            self.threads[new as usize].work =
                Some(Burst { left: boot, since: self.now, op: BurstOp::Boot, fresh: true });
            let at = self.now + Duration::from_nanos(self.noise.wake_latency());
            self.schedule(at, Ev::Spawn { tid: new });
        }
    }

    /// A new thread starts up on a core, then runs its steps. It goes
    /// where Linux puts it (`Simulation::fork_target`): a free core, else
    /// the starter's own unless that one has more queued, and it waits
    /// there even when another core frees first. Ten threads started in a
    /// loop, each asleep right after its start-up, so start up 6/4 or 7/3
    /// on 2 cores at most seeds, as `twine run`'s do (when they queued for
    /// any core, 7/3 to 9/1, and fewer counted at once). One with a
    /// later `start` starts up now and then sleeps until then, as `twine
    /// run`'s threads do: so it queues, when it wakes, on the core it
    /// started up on (`Simulation::timer_woke`), and wakes on a timer, with
    /// its slack. (Ten of them woken together on 2 CPUs ran on the CPU they
    /// had started up on in 187 of 200 cases, 2 to 5 of them on one CPU.)
    ///
    /// In a Python program the next thread waits until this one has started:
    /// CPython's `Thread.start()` returns only then (it waits on the new
    /// thread's `_started` event), and Twisted's pool starts its threads
    /// with it, one after another, each handed its first job. So jobs
    /// handed to new pool threads at once begin in the order given, as in
    /// CPython, not in the order of their threads' start-up noise.
    fn thread_created(&mut self, tid: u32, start: u64) {
        let boot = self.noise.thread_boot();
        let later = (start > self.now.as_nanos()).then_some(start);
        if boot > 0 {
            self.threads[tid as usize].work =
                Some(Burst { left: boot, since: self.now, op: BurstOp::Boot, fresh: true });
            self.threads[tid as usize].start_at = later;
            if self.sh.py.borrow().is_some() {
                self.spawner.awaiting = Some(tid);
            }
        }
        let parent = self.spawner.core.map(|(core, _)| core);
        self.spawn_near(tid, parent);
        if let (0, Some(start)) = (boot, later) {
            self.sleep_until(tid, start);
        }
    }
}
