//! Running work that would otherwise nest once per link of a chain (a drop
//! inside a drop) one job after another instead, so chains of any length
//! stay within a bounded native stack.

use std::cell::RefCell;
use std::thread::LocalKey;

type Job = Box<dyn FnOnce()>;

/// Jobs queued by jobs running on this thread; `None` when no loop runs.
pub(super) type Queue = RefCell<Option<Vec<Job>>>;

thread_local! {
    /// Drops of chains' links and cancellers.
    pub(super) static DROPS: Queue = const { RefCell::new(None) };
}

/// Runs `job` now, or, while a job of the same `queue` runs on this thread,
/// queues it for that job's loop: the caller must not rely on `job` having
/// run when this returns, so use it only for work in tail position.
pub(super) fn run_flat(queue: &'static LocalKey<Queue>, job: Job) {
    match queue.try_with(|q| q.borrow().is_some()) {
        Ok(true) => {
            queue.with(|q| q.borrow_mut().as_mut().expect("a loop is running").push(job));
            return;
        }
        Ok(false) => {}
        // The thread is exiting and its locals are gone: run it in place.
        Err(_) => return job(),
    }
    queue.with(|q| *q.borrow_mut() = Some(Vec::new()));
    // Cleared even if a job panics, so later jobs are not queued forever.
    struct Reset(&'static LocalKey<Queue>);
    impl Drop for Reset {
        fn drop(&mut self) {
            let _ = self.0.try_with(|q| q.borrow_mut().take());
        }
    }
    let _reset = Reset(queue);
    job();
    while let Some(next) = queue.with(|q| q.borrow_mut().as_mut().and_then(Vec::pop)) {
        next();
    }
}
