//! Waiting on the reactor from another thread: Twisted's `blockingCallFromThread`.
//!
//! A pool worker (or any thread that is not the reactor's) sometimes needs a
//! value only the reactor has: a connection count, a result computed by a
//! protocol. [`blocking_call_from_thread`] queues the call through the
//! reactor's inbox and waits for its result. Called on the reactor thread it
//! would wait for itself forever, so there it returns an error at once.
//!
//! ```
//! use twine_native::blocking::blocking_call_from_thread;
//! use twine_native::{Config, ReactorThread};
//!
//! let (server, ()) = ReactorThread::spawn(Config::default(), |_| Ok(())).unwrap();
//! let handle = server.handle().clone();
//! let running = std::thread::spawn(move || {
//!     blocking_call_from_thread(&handle, |reactor| reactor.is_running())
//! });
//! assert_eq!(running.join().unwrap().unwrap(), true);
//! server.shutdown();
//! server.join();
//! ```

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;

use twine_core::defer::{Deferred, Failure, FailureKind};
use twine_core::{Reactor, ReactorHandle};

thread_local! {
    static ON_REACTOR_THREAD: Cell<bool> = const { Cell::new(false) };
}

/// Whether the calling thread runs a twine reactor (native driver).
pub fn is_reactor_thread() -> bool {
    ON_REACTOR_THREAD.with(Cell::get)
}

/// Marks the calling thread as a reactor thread, for the driver.
pub(crate) fn mark_reactor_thread() {
    ON_REACTOR_THREAD.with(|c| c.set(true));
}

fn refuse_on_reactor_thread(what: &str) -> Result<(), Failure> {
    if is_reactor_thread() {
        return Err(Failure::new(
            FailureKind::Error,
            format!(
                "{what} called on the reactor thread: it would wait for itself forever; call the function directly"
            ),
        ));
    }
    Ok(())
}

fn reactor_gone() -> Failure {
    Failure::new(FailureKind::ReactorNotRunning, "the reactor stopped before it answered the blocking call")
}

/// Runs `f` on the reactor thread and waits for its result.
///
/// Errors with [`FailureKind::Error`] when called on the reactor thread
/// (instead of deadlocking), with [`FailureKind::Panicked`] when `f` panics,
/// and with [`FailureKind::ReactorNotRunning`] when the reactor is gone
/// before it runs `f`.
pub fn blocking_call_from_thread<T: Send + 'static>(
    handle: &ReactorHandle,
    f: impl FnOnce(&Reactor) -> T + Send + 'static,
) -> Result<T, Failure> {
    refuse_on_reactor_thread("blocking_call_from_thread")?;
    let (tx, rx) = mpsc::sync_channel(1);
    let queued = handle.call_from_thread(move |reactor| {
        let result = catch_unwind(AssertUnwindSafe(|| f(reactor))).map_err(Failure::from_panic);
        let _ = tx.send(result);
    });
    if !queued {
        return Err(reactor_gone());
    }
    rx.recv().unwrap_or_else(|_| Err(reactor_gone()))
}

/// Like [`blocking_call_from_thread`] for a call that answers with a
/// [`Deferred`]: waits until the Deferred fires and returns its result, as
/// Twisted's `blockingCallFromThread` does.
///
/// ```
/// use std::time::Duration;
/// use twine_core::defer::Deferred;
/// use twine_native::blocking::blocking_call_deferred_from_thread;
/// use twine_native::{Config, ReactorThread};
///
/// let (server, ()) = ReactorThread::spawn(Config::default(), |_| Ok(())).unwrap();
/// let handle = server.handle().clone();
/// let answer = std::thread::spawn(move || {
///     blocking_call_deferred_from_thread(&handle, |reactor| {
///         let d = Deferred::new();
///         let fire = d.clone();
///         reactor.call_later(Duration::from_millis(10), move |_| fire.callback(42).unwrap());
///         d
///     })
/// });
/// assert_eq!(answer.join().unwrap().unwrap(), 42);
/// ```
pub fn blocking_call_deferred_from_thread<T: Send + 'static>(
    handle: &ReactorHandle,
    f: impl FnOnce(&Reactor) -> Deferred<T> + Send + 'static,
) -> Result<T, Failure> {
    refuse_on_reactor_thread("blocking_call_deferred_from_thread")?;
    let (tx, rx) = mpsc::sync_channel(1);
    let queued = handle.call_from_thread(move |reactor| match catch_unwind(AssertUnwindSafe(|| f(reactor))) {
        Ok(deferred) => {
            // `then_both` moves the result on, so nothing is left behind to
            // be reported as an unhandled error.
            deferred.then_both::<(), _>(move |result| {
                let _ = tx.send(result);
                Ok::<(), Failure>(())
            });
        }
        Err(payload) => {
            let _ = tx.send(Err(Failure::from_panic(payload)));
        }
    });
    if !queued {
        return Err(reactor_gone());
    }
    rx.recv().unwrap_or_else(|_| Err(reactor_gone()))
}
