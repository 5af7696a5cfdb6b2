//! Futures on the reactor: [`ensure_deferred`], Twisted's `ensureDeferred`
//! / `inlineCallbacks`.
//!
//! There is no extra runtime: the reactor runs the futures. A future handed
//! to `ensure_deferred` is polled once at once (as Twisted runs a coroutine
//! up to its first `await`), then whenever it is woken. Its `std` waker is
//! `Send + Sync`: waking it queues one poll through the reactor's inbox
//! ([`ReactorHandle::call_from_thread`]), so a Deferred fired on the reactor
//! thread and a result arriving from a worker thread wake it the same way.
//! Wakes are deduplicated: however many arrive before the poll runs, the
//! future is polled once. The poll runs in the turn after the wake, traced as
//! a [`CallSource::Task`] call.
//!
//! # Where the tasks live
//!
//! The inbox call carries only the task's id (it must be `Send`); the task
//! itself (the future, which need not be `Send`) lives in a [`TaskTable`]
//! in the reactor's [local storage](Reactor::local), so tasks go away with
//! their reactor, and a wake for a task that finished or was dropped finds
//! nothing and does nothing.
//!
//! # Cancellation
//!
//! Cancelling the Deferred that `ensure_deferred` returned follows
//! `inlineCallbacks`: if the future is waiting on Deferreds (those it polled
//! in its latest poll), they are cancelled, the future sees
//! `Err(Cancelled)` from its `.await` and may handle it; the returned
//! Deferred fires with whatever the future finally returns. If the future is
//! waiting on something else (a timer future of its own, a channel), it is
//! dropped and the Deferred fails with `Cancelled`.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use crate::defer::{note_awaited, CancelAwaited, Deferred, Failure};
use crate::reactor::{callback_name, Reactor, ReactorHandle, WeakReactor};
use crate::trace::CallSource;

/// Runs `future` on the reactor and returns a Deferred for its result:
/// Twisted's `ensureDeferred`, which makes `async` code read like
/// `inlineCallbacks`.
///
/// The future is polled at once, up to its first pending `.await` (as
/// Twisted runs a coroutine), then each time it is woken. There is no extra
/// runtime: the waker (`Send + Sync`) queues one poll through the reactor's
/// inbox, like [`call_from_thread`](crate::ReactorHandle::call_from_thread),
/// so the poll runs in the turn after the wake, traced as a
/// [`Task`](crate::trace::CallSource::Task) call; many wakes before that
/// poll cost one poll. A panic in the future becomes a `Panicked` failure.
///
/// `make` gets a clone of the reactor and makes the future, so a future
/// that uses the reactor itself (timers, `defer_later`) takes it from
/// there: `ensure_deferred(&reactor, |reactor| async move { ... })`.
///
/// Cancelling the returned Deferred follows `inlineCallbacks`: if the future
/// is waiting on Deferreds (those it polled in its latest poll), they are
/// cancelled, the future sees `Err(Cancelled)` from its `.await` and may
/// handle it, and the Deferred fires with whatever the future finally
/// returns. If the future is waiting on something else (a channel, a future
/// of another library), it is dropped and the Deferred fails with
/// `Cancelled`.
///
/// ```
/// use std::time::Duration;
/// use twine_core::defer::{Deferred, Failure, FailureKind};
/// use twine_core::task::{ensure_deferred, Clock};
///
/// let clock = Clock::new();
/// let reactor = clock.reactor();
/// let slow = Deferred::<u32>::new();
/// let awaited = slow.clone();
/// let d = ensure_deferred(&reactor, |_| async move {
///     match awaited.await {
///         Ok(n) => Ok(n),
///         // Cancelling `d` cancels what the future waits on; it may recover.
///         Err(f) if f.check(FailureKind::Cancelled) => Ok(0),
///         Err(f) => Err(f),
///     }
/// });
/// d.cancel();
/// assert!(!d.has_result()); // the future still has the last word
/// clock.advance(Duration::ZERO);
/// d.add_callback(|n: u32| {
///     assert_eq!(n, 0); // the future recovered
///     n
/// });
/// assert!(slow.called());
/// ```
pub fn ensure_deferred<T: 'static, F: Future<Output = Result<T, Failure>> + 'static>(
    reactor: &Reactor,
    make: impl FnOnce(Reactor) -> F,
) -> Deferred<T> {
    let future = make(reactor.clone());
    let name = callback_name(std::any::type_name_of_val(&future));
    let table = tasks(reactor);
    let id = {
        let mut table = table.borrow_mut();
        table.next_id += 1;
        table.next_id
    };
    let wake = Arc::new(TaskWaker { task: id, handle: reactor.handle(), queued: AtomicBool::new(false) });
    let shared = Rc::new(Shared { target: RefCell::new(None) });
    let fail_target = shared.clone();
    let result_target = shared.clone();
    let wrapped = async move {
        let result = future.await;
        Box::new(move || {
            let target = result_target.target.borrow().clone();
            if let Some(target) = target {
                let _ = target.fire(result);
            }
        }) as Completion
    };
    let task = Rc::new(Task {
        id,
        name,
        reactor: reactor.downgrade(),
        future: RefCell::new(Some(Box::pin(wrapped))),
        waker: Waker::from(wake.clone()),
        wake,
        awaiting: RefCell::new(Vec::new()),
        polling: Cell::new(false),
        abandoned: Cell::new(false),
        fail: Box::new(move |failure| {
            let target = fail_target.target.borrow().clone();
            if let Some(target) = target {
                let _ = target.errback(failure);
            }
        }),
    });
    let d = new_target(Rc::downgrade(&task), Rc::downgrade(&shared));
    *shared.target.borrow_mut() = Some(d.clone());
    drop(shared);
    table.borrow_mut().tasks.insert(id, task.clone());
    task.poll();
    d
}

impl Reactor {
    /// Futures started with [`ensure_deferred`] that have not finished.
    ///
    /// ```
    /// use twine_core::defer::Deferred;
    /// use twine_core::task::ensure_deferred;
    /// use twine_core::ReactorDriver;
    ///
    /// let reactor = ReactorDriver::new();
    /// let gate = Deferred::<()>::new();
    /// let g = gate.clone();
    /// let _done = ensure_deferred(&reactor, |_| async move { g.await });
    /// assert_eq!(reactor.tasks_in_flight(), 1);
    /// ```
    pub fn tasks_in_flight(&self) -> usize {
        self.local::<RefCell<TaskTable>>().map_or(0, |table| table.borrow().tasks.len())
    }
}

/// What a finished future leaves to do: fire the Deferred with its result.
type Completion = Box<dyn FnOnce()>;

/// The futures a reactor runs, by task id. Lives in the reactor (see the
/// [module docs](self)).
#[derive(Default)]
struct TaskTable {
    next_id: u64,
    tasks: HashMap<u64, Rc<Task>>,
}

/// Where a task's result goes. Cancelling may swap the Deferred (see
/// `cancel_task`), so the future's end looks it up when it comes.
struct Shared<T: 'static> {
    target: RefCell<Option<Deferred<T>>>,
}

struct Task {
    id: u64,
    name: &'static str,
    reactor: WeakReactor,
    /// Taken out while it is polled, and for good when it finishes.
    future: RefCell<Option<Pin<Box<dyn Future<Output = Completion>>>>>,
    waker: Waker,
    wake: Arc<TaskWaker>,
    /// Cancels each Deferred the future was waiting on at its latest poll.
    awaiting: RefCell<Vec<CancelAwaited>>,
    polling: Cell<bool>,
    /// Cancelled while waiting on something that is not a Deferred: drop
    /// the future (after the poll, if it is running).
    abandoned: Cell<bool>,
    /// Fails the task's Deferred, for a panicking future.
    fail: Box<dyn Fn(Failure)>,
}

/// The reactor's task table, made on first use.
fn tasks(reactor: &Reactor) -> Rc<RefCell<TaskTable>> {
    reactor.local_or_insert_with(RefCell::<TaskTable>::default)
}

impl Task {
    fn poll(self: &Rc<Self>) {
        self.wake.queued.store(false, Ordering::Release);
        // None: finished, abandoned, or being polled further up the stack.
        let Some(mut future) = self.future.borrow_mut().take() else { return };
        drop(std::mem::take(&mut *self.awaiting.borrow_mut()));
        self.polling.set(true);
        let mut cx = Context::from_waker(&self.waker);
        let (outcome, awaited) = note_awaited(|| catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(&mut cx))));
        *self.awaiting.borrow_mut() = awaited;
        self.polling.set(false);
        match outcome {
            Ok(Poll::Pending) if !self.abandoned.get() => *self.future.borrow_mut() = Some(future),
            Ok(Poll::Pending) => {
                self.finish();
                drop(future);
            }
            Ok(Poll::Ready(complete)) => {
                self.finish();
                drop(future);
                complete();
            }
            Err(payload) => {
                self.finish();
                drop(future);
                (self.fail)(Failure::from_panic(payload));
            }
        }
    }

    /// Drops the future without finishing it.
    fn abandon(&self) {
        self.abandoned.set(true);
        if !self.polling.get() {
            self.finish();
            let future = self.future.borrow_mut().take();
            drop(future);
        }
    }

    /// Removes the task from its reactor's table.
    fn finish(&self) {
        drop(std::mem::take(&mut *self.awaiting.borrow_mut()));
        if let Some(reactor) = self.reactor.upgrade() {
            let task = tasks(&reactor).borrow_mut().tasks.remove(&self.id);
            drop(task);
        }
    }
}

/// A task's Deferred: its canceller reaches into the task.
fn new_target<T: 'static>(task: Weak<Task>, shared: Weak<Shared<T>>) -> Deferred<T> {
    Deferred::with_canceller(move |d| cancel_task(&task, &shared, d))
}

/// `inlineCallbacks` cancellation: if the future waits on Deferreds, `d`
/// waits in turn on a fresh Deferred the future's result will fire, and the
/// awaited Deferreds are cancelled so the future sees `Cancelled`. Otherwise
/// the future is dropped and `cancel` fails `d` with `Cancelled`.
fn cancel_task<T: 'static>(task: &Weak<Task>, shared: &Weak<Shared<T>>, d: &Deferred<T>) {
    let (Some(task), Some(shared)) = (task.upgrade(), shared.upgrade()) else { return };
    let awaiting: Vec<CancelAwaited> = task.awaiting.borrow().clone();
    if task.polling.get() || awaiting.is_empty() {
        task.abandon();
        return;
    }
    let next = new_target(Rc::downgrade(&task), Rc::downgrade(&shared));
    drop(shared.target.replace(Some(next.clone())));
    let _ = d.fire_waiting_on(next);
    for cancel in awaiting {
        cancel();
    }
}

/// The `Send + Sync` half of a task: all a waker on another thread holds.
struct TaskWaker {
    task: u64,
    handle: ReactorHandle,
    /// A poll is queued and has not started: further wakes add nothing.
    queued: AtomicBool,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !self.queued.swap(true, Ordering::AcqRel) {
            let id = self.task;
            self.handle.call_from_thread(move |reactor| poll_task(reactor, id));
        }
    }
}

/// Runs on the reactor thread, from the inbox.
fn poll_task(reactor: &Reactor, id: u64) {
    let task = tasks(reactor).borrow().tasks.get(&id).cloned();
    if let Some(task) = task {
        reactor.run_call(CallSource::Task, id, task.name, || task.poll());
    }
}
