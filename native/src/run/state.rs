//! What every thread of a run shares: the clock, counters, locks, printed
//! output, the thread table. All of it is real shared memory behind the
//! synchronisation a Rust program would use, except the counters, which are
//! read and written separately on purpose (see [`Run::counter`]).

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use twine_core::ReactorHandle;
use twine_scenario::program::{CounterOp, Program, Text, TextEnv};

use super::gil::Gil;
use super::work::{self, Spin};

/// The reactor thread's number, as in the simulation.
pub(crate) const REACTOR_TID: u32 = 0;

/// A thread of the run, as the metrics list it.
#[derive(Clone, Debug)]
pub(crate) struct ThreadRec {
    pub name: Arc<str>,
    pub kind: &'static str,
    pub cpu_ns: u64,
    pub started_ns: Option<u64>,
    pub finished_ns: Option<u64>,
}

/// A printed line.
#[derive(Clone, Debug)]
pub(crate) struct Printed {
    pub t_ns: u64,
    pub tid: u32,
    pub name: Arc<str>,
    pub text: String,
}

/// A named lock: a real OS mutex, and what waiting for it cost.
#[derive(Default)]
pub(crate) struct LockState {
    pub mutex: Mutex<()>,
    pub stats: Mutex<LockStats>,
}

#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct LockStats {
    pub acquisitions: u64,
    pub contended: u64,
    pub wait_ns: u64,
    pub max_wait_ns: u64,
}

/// Who is running a step: its thread number and name.
#[derive(Clone, Debug)]
pub(crate) struct Me {
    pub tid: u32,
    pub name: Arc<str>,
}

/// One run's shared state.
pub(crate) struct Run {
    pub program: Arc<Program>,
    /// Time zero: the reactor's clock and every printed line count from it.
    pub epoch: OnceLock<Instant>,
    pub spin: Spin,
    /// The global interpreter lock, when the machine has one.
    pub gil: Option<Gil>,
    pub handle: OnceLock<ReactorHandle>,
    counters: Vec<AtomicI64>,
    /// Writes each counter was meant to make: the count a correct program
    /// reaches. Each thread tallies its own ([`WRITES`]) and adds them here
    /// when it stops counting (see [`Run::flush_writes`]).
    counter_writes: Vec<AtomicU64>,
    /// How long a counter step spins: what is left of the scenario's
    /// `counter_op_ns` after the step's bookkeeping ([`super::exec::counter_spin_ns`]).
    counter_spin_ns: u64,
    pub locks: Vec<LockState>,
    output: Mutex<Vec<Printed>>,
    pub threads: Mutex<Vec<ThreadRec>>,
    /// Plain threads not yet finished.
    pub threads_alive: AtomicU32,
    /// Set when the run is over: threads stop at their next step.
    pub abort: AtomicBool,
    /// Pool threads that ran a job.
    pub pool_started: AtomicU32,
    /// Errors no errback handled.
    pub unhandled: AtomicU64,
    /// Each `looping_call` started: its label, calls, skipped intervals and worst lag (ns).
    pub loops: Mutex<Vec<(String, u64, u64, u64)>>,
}

thread_local! {
    /// This thread's register per counter, for `read` / `write`.
    static REGISTERS: RefCell<HashMap<u32, i64>> = RefCell::new(HashMap::new());
    /// The writes this thread made per counter and has not yet added to
    /// the run's count. A shared count bumped at every write would be
    /// bookkeeping the simulated step does not have, and a costly one:
    /// threads counting at once fight over its cache line (~30 ns a write
    /// with two threads on this 2-CPU machine).
    static WRITES: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}

/// One more write to counter `c` in this thread's tally.
fn tally_write(c: u32) {
    WRITES.with(|w| {
        let mut w = w.borrow_mut();
        let c = c as usize;
        if w.len() <= c {
            w.resize(c + 1, 0);
        }
        w[c] += 1;
    });
}

/// Poison is not an error here: a panicking step already failed the run.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Run {
    /// A run of `program` whose counter steps spin `counter_spin_ns`.
    pub(crate) fn new(program: Arc<Program>, spin: Spin, gil: bool, counter_spin_ns: u64) -> Run {
        let counters = program.counters.iter().map(|_| AtomicI64::new(0)).collect();
        let counter_writes = program.counters.iter().map(|_| AtomicU64::new(0)).collect();
        let locks = program.locks.iter().map(|_| LockState::default()).collect();
        let gil = gil.then(|| Gil::new(Duration::from_nanos(program.machine.switch_interval)));
        let reactor =
            ThreadRec { name: "reactor".into(), kind: "reactor", cpu_ns: 0, started_ns: Some(0), finished_ns: None };
        Run {
            program,
            epoch: OnceLock::new(),
            spin,
            gil,
            handle: OnceLock::new(),
            counters,
            counter_writes,
            counter_spin_ns,
            locks,
            output: Mutex::new(Vec::new()),
            threads: Mutex::new(vec![reactor]),
            threads_alive: AtomicU32::new(0),
            pool_started: AtomicU32::new(0),
            abort: AtomicBool::new(false),
            unhandled: AtomicU64::new(0),
            loops: Mutex::new(Vec::new()),
        }
    }

    /// Runs `f` as thread `tid` holding the GIL, if the machine has one.
    pub(crate) fn holding<R>(&self, tid: u32, f: impl FnOnce() -> R) -> R {
        match &self.gil {
            Some(gil) => gil.hold(tid, f),
            None => f(),
        }
    }

    /// An eval-breaker point: gives the GIL up here if a waiter asked.
    pub(crate) fn checkpoint(&self) {
        if let Some(gil) = &self.gil {
            gil.checkpoint();
        }
    }

    /// Runs a blocking call without the GIL (`io`, `sleep`, a lock wait).
    pub(crate) fn blocking<R>(&self, f: impl FnOnce() -> R) -> R {
        // As in a long `cpu` step: counted before a wait that may outlast the run.
        self.flush_writes();
        match &self.gil {
            Some(gil) => gil.allow_threads(f),
            None => f(),
        }
    }

    /// A `cpu` step: `ns` of this thread's CPU time, with eval-breaker points.
    pub(crate) fn cpu(&self, ns: u64) {
        // A thread in a long step may be left behind at the deadline: its
        // writes so far are counted first.
        self.flush_writes();
        self.spin.burn(ns, || self.checkpoint());
        // Its last check: CPython's `CALL` checks when a C call (the loop's
        // clock) returns, so a request made during the work is honoured
        // before the next step, even a counter step.
        self.checkpoint();
    }

    /// An `io` or `sleep` step: a real sleep, without the GIL.
    pub(crate) fn sleep(&self, ns: u64) {
        self.blocking(|| work::block(ns));
    }

    /// Nanoseconds since time zero.
    pub(crate) fn now_ns(&self) -> u64 {
        self.epoch.get().map_or(0, |e| e.elapsed().as_nanos() as u64)
    }

    /// Adds a thread to the table and returns who it is.
    pub(crate) fn add_thread(&self, name: Arc<str>, kind: &'static str) -> Me {
        let mut threads = lock(&self.threads);
        let tid = threads.len() as u32;
        threads.push(ThreadRec { name: Arc::clone(&name), kind, cpu_ns: 0, started_ns: None, finished_ns: None });
        Me { tid, name }
    }

    pub(crate) fn update_thread(&self, tid: u32, f: impl FnOnce(&mut ThreadRec)) {
        if let Some(t) = lock(&self.threads).get_mut(tid as usize) {
            f(t);
        }
    }

    /// A counter step, for real: `increment` reads and then writes, as
    /// `c += 1` compiles to, so two threads can both read 41 and both write
    /// 42. Atomics make each access well defined (no undefined behaviour)
    /// without making the pair atomic; the lost update is the real one.
    ///
    /// A step costs the machine's `counter_op_ns` of CPU in all, as
    /// simulated: the spin is what is left of it after the step's own
    /// bookkeeping (the interpreter's turn, the load, the store, the tally),
    /// measured at start-up. An increment reads, tallies, spins, then
    /// writes, so nearly all of the step is its race window, as in the
    /// simulation; a read or a write takes effect when its work ends. No
    /// eval-breaker point inside.
    pub(crate) fn counter(&self, op: CounterOp, c: u32) {
        let cell = &self.counters[c as usize];
        let work = || self.spin.burn(self.counter_spin_ns, || {});
        match op {
            CounterOp::Increment => {
                let seen = cell.load(Ordering::Relaxed);
                tally_write(c);
                work();
                cell.store(seen + 1, Ordering::Relaxed);
            }
            CounterOp::Read => {
                work();
                let seen = cell.load(Ordering::Relaxed);
                REGISTERS.with(|r| r.borrow_mut().insert(c, seen));
            }
            CounterOp::Write => {
                work();
                let seen = REGISTERS.with(|r| r.borrow().get(&c).copied().unwrap_or(0));
                tally_write(c);
                cell.store(seen + 1, Ordering::Relaxed);
            }
        }
    }

    /// Adds this thread's tally of writes to the run's count. Called where
    /// a thread stops counting: at the end of its steps (a thread, a pool
    /// job, a reactor callback) and before a `cpu` step or a wait.
    pub(crate) fn flush_writes(&self) {
        WRITES.with(|w| {
            for (count, n) in self.counter_writes.iter().zip(w.borrow_mut().drain(..)) {
                if n > 0 {
                    count.fetch_add(n, Ordering::Relaxed);
                }
            }
        });
    }

    /// A counter's value and the writes it was meant to count.
    pub(crate) fn counter_value(&self, c: usize) -> (i64, u64) {
        (self.counters[c].load(Ordering::Relaxed), self.counter_writes[c].load(Ordering::Relaxed))
    }

    /// Runs `body` holding the named lock (a real mutex: a waiter blocks in
    /// the OS, and whoever the OS wakes first gets it). As `threading.Lock`
    /// under the GIL: a free lock is taken holding the GIL, a wait for a
    /// held one releases the GIL, so a thread that just released the lock
    /// usually takes it again before a woken waiter gets the GIL back.
    pub(crate) fn with_lock<R>(&self, l: u32, body: impl FnOnce() -> R) -> R {
        let state = &self.locks[l as usize];
        let (guard, waited) = match state.mutex.try_lock() {
            Ok(guard) => (guard, None),
            Err(_) => {
                let started = Instant::now();
                let guard = self.blocking(|| lock(&state.mutex));
                (guard, Some(started.elapsed().as_nanos() as u64))
            }
        };
        {
            let mut s = lock(&state.stats);
            s.acquisitions += 1;
            if let Some(ns) = waited {
                s.contended += 1;
                s.wait_ns += ns;
                s.max_wait_ns = s.max_wait_ns.max(ns);
            }
        }
        let out = body();
        drop(guard);
        out
    }

    /// Prints a line: renders the placeholders now, timestamps it, keeps it.
    pub(crate) fn print(&self, me: &Me, text: &Text, error: Option<&str>, count: u64) {
        let counter = |c: u32| self.counters[c as usize].load(Ordering::Relaxed);
        let mut out = lock(&self.output);
        // Timestamped under the lock, so the lines are in time order.
        let t_ns = self.now_ns();
        let env = TextEnv { thread: &me.name, time_ns: t_ns, error, count, counter: &counter };
        let text = text.render(&env);
        out.push(Printed { t_ns, tid: me.tid, name: Arc::clone(&me.name), text });
    }

    /// A `fail` step's message, its placeholders filled in as a print's are.
    pub(crate) fn render(&self, me: &Me, text: &Text, error: Option<&str>, count: u64) -> String {
        let counter = |c: u32| self.counters[c as usize].load(Ordering::Relaxed);
        text.render(&TextEnv { thread: &me.name, time_ns: self.now_ns(), error, count, counter: &counter })
    }

    pub(crate) fn output(&self) -> Vec<Printed> {
        lock(&self.output).clone()
    }

    pub(crate) fn lock_stats(&self) -> Vec<LockStats> {
        self.locks.iter().map(|l| *lock(&l.stats)).collect()
    }

    pub(crate) fn loops(&self) -> MutexGuard<'_, Vec<(String, u64, u64, u64)>> {
        lock(&self.loops)
    }

    /// Records the calling thread's CPU time as `tid`'s.
    pub(crate) fn record_cpu(&self, tid: u32) {
        let cpu = work::thread_cpu_ns();
        self.update_thread(tid, |t| t.cpu_ns = cpu);
    }
}
