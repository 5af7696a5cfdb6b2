//! A snapshot of the simulation's queues at the current virtual time: what
//! the reactor has waiting (inbox, due timers, I/O), the pool's queue, each
//! thread's state, the cores, the GIL and the locks. For the playground's
//! queues panel as the user steps and seeks.

use serde::Serialize;

use crate::engine::sched::{Burst, BurstOp, State};
use crate::engine::Simulation;
use crate::metrics::{ms, t_ms};

/// The most timers listed (the count is always complete).
pub const TIMERS_LISTED: usize = 50;

/// Everything waiting, now.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Queues {
    /// The virtual time.
    pub t_ms: f64,
    /// The reactor's own queues.
    pub reactor: ReactorQueues,
    /// The thread pool.
    pub pool: PoolQueues,
    /// Every thread.
    pub threads: Vec<ThreadView>,
    /// Which thread each core runs (`null` when idle).
    pub cores: Vec<Option<u32>>,
    /// Threads ready to run and waiting for a core, in order.
    pub run_queue: Vec<u32>,
    /// The GIL, when it is on.
    pub gil: Option<GilView>,
    /// Named locks.
    pub locks: Vec<LockView>,
    /// Shared counters.
    pub counters: Vec<CounterView>,
    /// Simulated clients.
    pub clients: ClientView,
}

/// The reactor's queues.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReactorQueues {
    /// `main`, `poll`, `turn` or `stopped`.
    pub phase: &'static str,
    /// Whether a call is running (its steps taking time).
    pub in_call: bool,
    /// How long the running call has taken so far.
    pub call_ms: Option<f64>,
    /// Calls waiting in the inbox (`call_from_thread`, job results).
    pub inbox: u64,
    /// Requests and connections that arrived and wait for the poll phase.
    pub pending_io: usize,
    /// Timers due now or overdue.
    pub due_timers: Vec<TimerView>,
    /// Pending timers in firing order (the first [`TIMERS_LISTED`]).
    pub timers: Vec<TimerView>,
    /// How many timers are pending.
    pub timers_pending: usize,
    /// Turns run so far.
    pub turns: u64,
    /// Calls run so far.
    pub calls: u64,
}

/// A pending timer.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TimerView {
    /// Its id, as trace events know it.
    pub id: u64,
    /// When it is due.
    pub due_ms: f64,
    /// The callback's name.
    pub name: String,
}

/// The pool.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PoolQueues {
    /// Size limit.
    pub max_threads: u32,
    /// Threads started.
    pub threads: usize,
    /// Threads waiting for work.
    pub idle: usize,
    /// Threads with a job.
    pub busy: usize,
    /// Jobs finished.
    pub completed: u64,
    /// Jobs waiting for a thread, oldest first.
    pub queue: Vec<JobView>,
}

/// A queued job.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct JobView {
    /// Its id, as trace events know it.
    pub id: u64,
    /// Its name.
    pub name: String,
}

/// One thread.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ThreadView {
    /// Its number.
    pub id: u32,
    /// Its name.
    pub name: String,
    /// `reactor`, `pool` or `thread`.
    pub kind: &'static str,
    /// `not_started`, `running`, `ready`, `blocked` or `exited`.
    pub state: &'static str,
    /// Why it is blocked: `io`, `sleep`, `lock`, `gil`, `poll` or `idle`.
    pub reason: Option<&'static str>,
    /// The core it runs on.
    pub core: Option<u32>,
    /// Whether it holds the GIL.
    pub holds_gil: bool,
    /// What it is doing, e.g. `cpu 10 ms`.
    pub doing: Option<String>,
    /// CPU time left in its current step.
    pub cpu_left_ms: Option<f64>,
    /// Where it is in the Python program, `function:line` (only while it
    /// runs Python code).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
}

/// The GIL.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GilView {
    /// Who holds it.
    pub holder: Option<u32>,
    /// Who waits for it, in order.
    pub waiters: Vec<u32>,
    /// Whether a waiter asked the holder to drop it.
    pub drop_requested: bool,
}

/// A named lock.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LockView {
    /// Its name.
    pub name: String,
    /// Who holds it.
    pub holder: Option<u32>,
    /// Who waits for it, in order.
    pub waiters: Vec<u32>,
}

/// A shared counter.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CounterView {
    /// Its name.
    pub name: String,
    /// Its value now.
    pub value: i64,
}

/// Simulated clients.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClientView {
    /// Requests sent.
    pub sent: usize,
    /// Requests answered.
    pub answered: usize,
    /// Sent and not answered.
    pub in_flight: usize,
}

impl Simulation {
    /// What is waiting where, at the current virtual time.
    ///
    /// ```
    /// use twine_core::Time;
    /// use twine_web::{presets, Simulation};
    ///
    /// // Twelve 100 ms jobs on a pool of four threads.
    /// let scenario = presets::find("pool-saturation").unwrap().scenario(None).unwrap();
    /// let mut sim = Simulation::new(&scenario, None);
    /// sim.seek(Time::from_millis(150));
    /// let q = sim.queues();
    /// assert_eq!((q.pool.busy, q.pool.queue.len()), (4, 4));
    /// assert_eq!(q.reactor.phase, "poll");
    /// ```
    pub fn queues(&self) -> Queues {
        let now = self.now;
        let timers = self.reactor.pending_timers();
        let view = |t: &twine_core::reactor::PendingTimer| TimerView {
            id: t.id,
            due_ms: t_ms(t.due),
            name: t.name.to_string(),
        };
        let stats = self.reactor.stats();
        let reactor = ReactorQueues {
            phase: self.rl.phase.name(),
            in_call: self.rl.open_call.is_some(),
            call_ms: self.rl.open_call.map(|(_, start)| ms(now.saturating_since(start).as_nanos() as u64)),
            inbox: stats.inbox_depth,
            pending_io: self.rl.pending_io.len() + self.ready.unread(),
            due_timers: timers.iter().filter(|t| t.due <= now).take(TIMERS_LISTED).map(view).collect(),
            timers: timers.iter().take(TIMERS_LISTED).map(view).collect(),
            timers_pending: timers.len(),
            turns: stats.turns,
            calls: stats.calls,
        };
        let pool = PoolQueues {
            max_threads: self.program.pool_threads,
            threads: self.pool.workers.len(),
            idle: self.pool.idle.len(),
            busy: self.busy_workers(),
            completed: self.pool.completed,
            queue: self
                .sh
                .pool_queue
                .borrow()
                .iter()
                .map(|j| JobView { id: j.id(), name: j.name().to_owned() })
                .collect(),
        };
        let store = self.store.borrow();
        let threads = self
            .threads
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let (state, reason, core) = match t.state {
                    State::NotStarted => ("not_started", None, None),
                    State::Running { core, .. } => ("running", None, Some(core)),
                    State::Ready => ("ready", None, None),
                    State::Blocked(why) => ("blocked", Some(why.reason()), None),
                    State::Exited => ("exited", None, None),
                };
                let cpu_left = t.work.map(|Burst { left, since, .. }| {
                    let ran = if core.is_some() { now.saturating_since(since).as_nanos() as u64 } else { 0 };
                    left.saturating_sub(ran)
                });
                let doing = match t.work {
                    Some(Burst { op: BurstOp::Counter { op, .. }, .. }) => Some(op.name().to_owned()),
                    _ => t.act.as_ref().and_then(|a| a.describe()),
                };
                ThreadView {
                    id: i as u32,
                    name: t.name.to_string(),
                    kind: t.kind.name(),
                    state,
                    reason,
                    core,
                    holds_gil: t.holds_gil,
                    doing: if state == "exited" { None } else { doing },
                    cpu_left_ms: cpu_left.map(ms),
                    at: if state == "exited" { None } else { store.position_of(i as u32) },
                }
            })
            .collect();
        let gil = self.gil.on.then(|| GilView {
            holder: self.gil.holder,
            waiters: self.gil.waiters.iter().copied().collect(),
            drop_requested: self.gil.drop_requested,
        });
        let locks = self
            .sh
            .locks
            .borrow()
            .iter()
            .zip(self.sh.lock_names.borrow().iter())
            .map(|(l, name)| LockView {
                name: name.to_string(),
                holder: l.holder,
                waiters: l.waiters.iter().map(|&(t, _)| t).collect(),
            })
            .collect();
        let counters = self
            .sh
            .counters
            .borrow()
            .iter()
            .zip(&self.program.counters)
            .map(|(c, name)| CounterView { name: name.to_string(), value: c.value })
            .collect();
        let sent = self.clients.requests.len();
        let answered = self.clients.answered();
        Queues {
            t_ms: t_ms(now),
            reactor,
            pool,
            threads,
            cores: self.cores.iter().map(|c| c.thread).collect(),
            run_queue: self.run_queue.iter().copied().collect(),
            gil,
            locks,
            counters,
            clients: ClientView { sent, answered, in_flight: sent - answered },
        }
    }
}
