//! The C library's mutex and condition variable, which CPython's GIL is
//! built on (`Python/condvar.h`: `pthread_mutex_t`, and `pthread_cond_t`
//! timed on `CLOCK_MONOTONIC`), and so `twine run`'s GIL too: which waiter a
//! dropped GIL wakes is then decided by the same code as in CPython.
//!
//! `std::sync::Condvar` is not the same primitive: on Linux it is a bare
//! futex, whose waiters the kernel wakes first come, first served, while
//! glibc's condition variable signals a waiter of its older group, and a
//! waiter whose timed wait ends joins the newer one. It shows in who gets
//! the GIL: counter-race/gil-read-then-write, where a thread switched out
//! between its read and its write loses what the others counted until it
//! has the GIL back, lost 2830 updates at the median of 300 runs with
//! `std`'s, 2145 (150 runs) with the C library's; CPython 1549 (2026-12-05).

use std::cell::UnsafeCell;
use std::ops::{Deref, DerefMut};
use std::time::Duration;

/// The clock timed waits count on, as CPython's (where the platform lets a
/// condition variable choose its clock).
#[cfg(not(target_vendor = "apple"))]
const CLOCK: libc::clockid_t = libc::CLOCK_MONOTONIC;
#[cfg(target_vendor = "apple")]
const CLOCK: libc::clockid_t = libc::CLOCK_REALTIME;

/// A `pthread_mutex_t` guarding a `T`.
pub(crate) struct Mutex<T> {
    // Boxed: a pthread mutex must not move once in use.
    raw: Box<UnsafeCell<libc::pthread_mutex_t>>,
    data: UnsafeCell<T>,
}

// SAFETY: `data` is only reached through a `Guard`, which holds the mutex.
unsafe impl<T: Send> Send for Mutex<T> {}
// SAFETY: as above: the mutex serialises every access to `data`.
unsafe impl<T: Send> Sync for Mutex<T> {}

/// Holds a [`Mutex`] until dropped.
pub(crate) struct Guard<'a, T> {
    mutex: &'a Mutex<T>,
}

impl<T> Mutex<T> {
    pub(crate) fn new(data: T) -> Mutex<T> {
        Mutex { raw: Box::new(UnsafeCell::new(libc::PTHREAD_MUTEX_INITIALIZER)), data: UnsafeCell::new(data) }
    }

    pub(crate) fn lock(&self) -> Guard<'_, T> {
        // SAFETY: `raw` is an initialised mutex that never moves; a default
        // mutex locked by a thread that does not hold it cannot fail.
        unsafe { libc::pthread_mutex_lock(self.raw.get()) };
        Guard { mutex: self }
    }
}

impl<T> Drop for Mutex<T> {
    fn drop(&mut self) {
        // SAFETY: nobody holds it: a guard borrows the mutex.
        unsafe { libc::pthread_mutex_destroy(self.raw.get()) };
    }
}

impl<T> Deref for Guard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: this guard holds the mutex.
        unsafe { &*self.mutex.data.get() }
    }
}

impl<T> DerefMut for Guard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: this guard holds the mutex, and `&mut self` is unique.
        unsafe { &mut *self.mutex.data.get() }
    }
}

impl<T> Drop for Guard<'_, T> {
    fn drop(&mut self) {
        // SAFETY: this thread locked it when it made the guard.
        unsafe { libc::pthread_mutex_unlock(self.mutex.raw.get()) };
    }
}

/// A `pthread_cond_t` whose timed waits count on [`CLOCK`].
pub(crate) struct Condvar {
    raw: Box<UnsafeCell<libc::pthread_cond_t>>,
}

// SAFETY: a condition variable is made to be shared between threads.
unsafe impl Send for Condvar {}
// SAFETY: as above.
unsafe impl Sync for Condvar {}

impl Condvar {
    pub(crate) fn new() -> Condvar {
        let cond = Condvar { raw: Box::new(UnsafeCell::new(libc::PTHREAD_COND_INITIALIZER)) };
        // SAFETY: `attr` is initialised before use and destroyed after; the
        // condition variable is initialised once, in place, where it stays.
        unsafe {
            let mut attr = std::mem::MaybeUninit::<libc::pthread_condattr_t>::uninit();
            libc::pthread_condattr_init(attr.as_mut_ptr());
            #[cfg(not(target_vendor = "apple"))]
            libc::pthread_condattr_setclock(attr.as_mut_ptr(), CLOCK);
            libc::pthread_cond_init(cond.raw.get(), attr.as_ptr());
            libc::pthread_condattr_destroy(attr.as_mut_ptr());
        }
        cond
    }

    /// Waits until signalled (or woken spuriously).
    pub(crate) fn wait<'a, T>(&self, guard: Guard<'a, T>) -> Guard<'a, T> {
        // SAFETY: the guard holds the mutex, which the wait releases and
        // takes back before returning.
        unsafe { libc::pthread_cond_wait(self.raw.get(), guard.mutex.raw.get()) };
        guard
    }

    /// Waits until signalled or `timeout` has passed; says whether it timed out.
    pub(crate) fn wait_timeout<'a, T>(&self, guard: Guard<'a, T>, timeout: Duration) -> (Guard<'a, T>, bool) {
        let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: `now` is a valid, writable timespec.
        unsafe { libc::clock_gettime(CLOCK, &mut now) };
        let nanos = now.tv_nsec as u64 + timeout.subsec_nanos() as u64;
        let deadline = libc::timespec {
            tv_sec: now.tv_sec.saturating_add((timeout.as_secs() + nanos / 1_000_000_000) as libc::time_t),
            tv_nsec: (nanos % 1_000_000_000) as _,
        };
        // SAFETY: as in `wait`; `deadline` is a valid timespec on the condition's clock.
        let rc = unsafe { libc::pthread_cond_timedwait(self.raw.get(), guard.mutex.raw.get(), &deadline) };
        (guard, rc == libc::ETIMEDOUT)
    }

    /// Wakes one waiter, the one the C library picks.
    pub(crate) fn notify_one(&self) {
        // SAFETY: an initialised condition variable.
        unsafe { libc::pthread_cond_signal(self.raw.get()) };
    }

    /// Wakes every waiter.
    pub(crate) fn notify_all(&self) {
        // SAFETY: an initialised condition variable.
        unsafe { libc::pthread_cond_broadcast(self.raw.get()) };
    }
}

impl Drop for Condvar {
    fn drop(&mut self) {
        // SAFETY: nobody waits on it: a waiter borrows it.
        unsafe { libc::pthread_cond_destroy(self.raw.get()) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Instant;

    #[test]
    fn a_timed_wait_nobody_signals_times_out_after_its_timeout() {
        let (m, c) = (Mutex::new(0), Condvar::new());
        let started = Instant::now();
        let (_guard, timed_out) = c.wait_timeout(m.lock(), Duration::from_millis(20));
        assert!(timed_out);
        assert!(started.elapsed() >= Duration::from_millis(20));
    }

    #[test]
    fn a_signal_wakes_a_waiter_with_the_value_it_waits_for() {
        let shared = Arc::new((Mutex::new(false), Condvar::new()));
        let other = Arc::clone(&shared);
        let waiter = std::thread::spawn(move || {
            let (m, c) = &*other;
            let mut ready = m.lock();
            while !*ready {
                ready = c.wait_timeout(ready, Duration::from_secs(10)).0;
            }
        });
        std::thread::sleep(Duration::from_millis(10));
        *shared.0.lock() = true;
        shared.1.notify_all();
        waiter.join().unwrap();
    }
}
