//! A real global interpreter lock: CPython 3.11's protocol, on OS threads.
//!
//! With `"gil": true` every thread of a run (the reactor, pool threads,
//! plain threads) runs its steps holding this lock, as a Python thread runs
//! bytecode holding CPython's. The protocol is `Python/ceval_gil.h`'s:
//!
//! - one holder; a thread that wants it waits on a condition variable for
//!   up to the switch interval (`machine.switch_interval_ms`, default 5 ms,
//!   `sys.setswitchinterval`). If it timed out and nobody took the lock in
//!   the meantime, it sets the drop request and waits again;
//! - the holder looks at the drop request at its eval-breaker points
//!   ([`Gil::checkpoint`]): where CPython would, before a step that stands
//!   for a call and at the end of each `repeat` iteration
//!   (`twine_scenario::program::Op::eval_breaker` has the table; never
//!   between a `read` and the `write` right after it), every few
//!   microseconds of a `cpu` step's busy loop (a backward jump in CPython)
//!   and at its end. If set, it drops the lock and takes it back;
//! - FORCE_SWITCHING: a holder that drops on request waits until another
//!   thread has taken the lock, so it cannot take it straight back;
//! - `io`, `sleep` and a lock wait run without it ([`Gil::allow_threads`],
//!   `Py_BEGIN_ALLOW_THREADS`), and take it back after;
//! - which waiter gets it is the C library's and the OS's choice: a dropped
//!   lock signals one waiter of the condition variable, and any thread whose
//!   timed wait ends at that moment may take it first. No queue. The mutex
//!   and condition variables are the C library's, as CPython's are
//!   (`pthread.rs`): `std`'s futex wakes waiters first come, first
//!   served, and with it the lock changed hands in another order than
//!   CPython's.
//!
//! ```
//! use std::time::Duration;
//! use twine_native::run::gil::Gil;
//!
//! let gil = Gil::new(Duration::from_millis(5));
//! let answer = gil.hold(1, || {
//!     gil.checkpoint(); // nobody asked: carries on holding it
//!     gil.allow_threads(|| std::thread::sleep(Duration::from_millis(1))) // released while asleep
//! });
//! assert_eq!(answer, ());
//! assert_eq!(gil.stats().switches, 1); // thread 1 took it once
//! ```

use std::cell::Cell;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::pthread::{Condvar, Mutex};

/// The lock, its waiters' condition variables and its statistics.
pub struct Gil {
    interval: Duration,
    state: Mutex<State>,
    /// Signalled when the lock is dropped (CPython's `gil->cond`).
    dropped: Condvar,
    /// Signalled when the lock is taken (`gil->switch_cond`), for FORCE_SWITCHING.
    taken: Condvar,
    /// `gil_drop_request`: read without the mutex at every checkpoint.
    drop_request: AtomicBool,
}

#[derive(Default)]
struct State {
    locked: bool,
    /// The thread holding it or that held it last (`gil->last_holder`).
    last_holder: Option<u32>,
    /// Changes of holder (`gil->switch_number`).
    switch_number: u64,
    /// The last holder dropped it on request, and nobody has taken it since.
    forced_drop: bool,
    forced_switches: u64,
    held_since: Option<Instant>,
    /// Per thread: nanoseconds held and waited.
    per_thread: BTreeMap<u32, (u64, u64)>,
}

/// What the lock did over a run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GilStats {
    /// Times a thread took it after another thread had held it (the first
    /// take counts too, as CPython's `switch_number`).
    pub switches: u64,
    /// Of those, switches a waiter forced with a drop request.
    pub forced_switches: u64,
    /// Per thread number: (nanoseconds held, nanoseconds waited).
    pub per_thread: BTreeMap<u32, (u64, u64)>,
}

thread_local! {
    /// This thread's hold on a GIL: its thread number and how many nested
    /// [`Gil::hold`]s it is inside (the reactor re-enters its step runner).
    static HELD: Cell<Option<(u32, u32)>> = const { Cell::new(None) };
}

/// Drops the lock when a [`Gil::hold`] ends, even by a panic, so the other
/// threads are not left waiting for a thread that is gone.
struct Holding<'a> {
    gil: &'a Gil,
    tid: u32,
}

impl Drop for Holding<'_> {
    fn drop(&mut self) {
        match HELD.get() {
            Some((tid, depth)) if depth > 1 => HELD.set(Some((tid, depth - 1))),
            _ => {
                HELD.set(None);
                self.gil.drop_gil(self.tid);
            }
        }
    }
}

impl Gil {
    /// A free lock whose waiters ask for it after `switch_interval`.
    pub fn new(switch_interval: Duration) -> Gil {
        Gil {
            interval: switch_interval.max(Duration::from_micros(1)),
            state: Mutex::new(State::default()),
            dropped: Condvar::new(),
            taken: Condvar::new(),
            drop_request: AtomicBool::new(false),
        }
    }

    /// Runs `f` holding the lock as thread `tid`, taking it first unless
    /// this thread already holds it.
    pub fn hold<R>(&self, tid: u32, f: impl FnOnce() -> R) -> R {
        let _holding = match HELD.get() {
            Some((held_by, depth)) => {
                HELD.set(Some((held_by, depth + 1)));
                Holding { gil: self, tid: held_by }
            }
            None => {
                self.take_gil(tid);
                HELD.set(Some((tid, 1)));
                Holding { gil: self, tid }
            }
        };
        f()
    }

    /// An eval-breaker point: if a waiter asked, drop the lock (waiting
    /// until another thread has it) and take it back. Costs one relaxed
    /// atomic load when nobody asked; does nothing on a thread not holding it.
    pub fn checkpoint(&self) {
        if !self.drop_request.load(Ordering::Relaxed) {
            return;
        }
        if let Some((tid, _)) = HELD.get() {
            self.drop_gil(tid);
            // Other threads may run now.
            self.take_gil(tid);
        }
    }

    /// Runs `f` without the lock (a blocking call: `io`, `sleep`, a lock
    /// wait) and takes it back after. On a thread not holding it, just `f`.
    pub fn allow_threads<R>(&self, f: impl FnOnce() -> R) -> R {
        let Some((tid, depth)) = HELD.get() else { return f() };
        HELD.set(None);
        self.drop_gil(tid);
        // Taken back even if `f` panics, so the enclosing hold drops it once.
        struct Retake<'a>(&'a Gil, u32, u32);
        impl Drop for Retake<'_> {
            fn drop(&mut self) {
                self.0.take_gil(self.1);
                HELD.set(Some((self.1, self.2)));
            }
        }
        let _retake = Retake(self, tid, depth);
        f()
    }

    /// What the lock did so far.
    pub fn stats(&self) -> GilStats {
        let s = self.state.lock();
        GilStats { switches: s.switch_number, forced_switches: s.forced_switches, per_thread: s.per_thread.clone() }
    }

    /// `take_gil`: wait for the lock, asking the holder to drop it after
    /// each switch interval in which nobody else got it.
    fn take_gil(&self, tid: u32) {
        let started = Instant::now();
        let mut s = self.state.lock();
        while s.locked {
            let saved_switch_number = s.switch_number;
            let (guard, timed_out) = self.dropped.wait_timeout(s, self.interval);
            s = guard;
            if timed_out && s.locked && s.switch_number == saved_switch_number {
                self.drop_request.store(true, Ordering::Relaxed);
            }
        }
        s.locked = true;
        let now = Instant::now();
        s.held_since = Some(now);
        if s.last_holder != Some(tid) {
            s.last_holder = Some(tid);
            s.switch_number += 1;
            if s.forced_drop {
                s.forced_switches += 1;
            }
        }
        s.forced_drop = false;
        s.per_thread.entry(tid).or_default().1 += (now - started).as_nanos() as u64;
        // The thread that dropped it on request may go on now.
        self.taken.notify_all();
        // A request made before we got it was answered by our taking it.
        self.drop_request.store(false, Ordering::Relaxed);
    }

    /// `drop_gil`: release, wake a waiter, and if a waiter asked for the
    /// switch, wait until some other thread has taken it (FORCE_SWITCHING).
    fn drop_gil(&self, tid: u32) {
        let mut s = self.state.lock();
        s.locked = false;
        if let Some(since) = s.held_since.take() {
            s.per_thread.entry(tid).or_default().0 += since.elapsed().as_nanos() as u64;
        }
        self.dropped.notify_one();
        if self.drop_request.load(Ordering::Relaxed) && s.last_holder == Some(tid) {
            self.drop_request.store(false, Ordering::Relaxed);
            s.forced_drop = true;
            // The waiter that asked is in take_gil and takes it; the loop
            // only guards against spurious wake-ups.
            while s.last_holder == Some(tid) {
                s = self.taken.wait(s);
            }
        }
    }
}
