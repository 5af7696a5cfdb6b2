use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use std::time::Duration;

use crate::defer::{Deferred, IntoOutcome, Outcome};
use crate::reactor::{DelayedCall, Reactor, WeakReactor};

type Work = Box<dyn FnMut() -> Option<Outcome<()>>>;
/// Makes, at the start of each tick, the predicate that says when the tick is over.
type PredicateFactory = Box<dyn FnMut() -> Box<dyn FnMut() -> bool>>;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum TaskState {
    Running,
    Paused,
    /// Waiting for a Deferred the iterator yielded.
    Waiting,
    Done,
}

struct TaskInner {
    work: RefCell<Work>,
    state: Cell<TaskState>,
    pauses: Cell<u32>,
    done: RefCell<Vec<Deferred<()>>>,
    result: RefCell<Option<Result<(), crate::defer::Failure>>>,
    cooperator: Weak<CoopInner>,
}

/// One iterator being run by a [`Cooperator`]: Twisted's `CooperativeTask`.
#[derive(Clone)]
pub struct CooperativeTask {
    inner: Rc<TaskInner>,
}

impl CooperativeTask {
    /// Fires when the iterator is exhausted, or fails with its failure.
    pub fn when_done(&self) -> Deferred<()> {
        if let Some(result) = self.inner.result.borrow().clone() {
            let d = Deferred::new();
            let _ = d.fire(result);
            return d;
        }
        let d = Deferred::new();
        self.inner.done.borrow_mut().push(d.clone());
        d
    }

    /// Stops giving the iterator turns until as many `resume`s.
    pub fn pause(&self) {
        self.inner.pauses.set(self.inner.pauses.get() + 1);
        if self.inner.state.get() == TaskState::Running {
            self.inner.state.set(TaskState::Paused);
        }
    }

    /// Undoes one `pause`.
    pub fn resume(&self) {
        let pauses = self.inner.pauses.get().saturating_sub(1);
        self.inner.pauses.set(pauses);
        if pauses == 0 && self.inner.state.get() == TaskState::Paused {
            self.inner.state.set(TaskState::Running);
            if let Some(coop) = self.inner.cooperator.upgrade() {
                Cooperator { inner: coop }.schedule();
            }
        }
    }

    /// Stops the task for good; `when_done` fails with `Cancelled`.
    pub fn stop(&self) {
        self.finish(Err(crate::defer::Failure::cancelled()));
    }

    /// Whether the iterator is finished (exhausted, failed or stopped).
    pub fn is_done(&self) -> bool {
        self.inner.state.get() == TaskState::Done
    }

    fn finish(&self, result: Result<(), crate::defer::Failure>) {
        if self.inner.state.replace(TaskState::Done) == TaskState::Done {
            return;
        }
        *self.inner.result.borrow_mut() = Some(result.clone());
        for d in std::mem::take(&mut *self.inner.done.borrow_mut()) {
            let _ = d.fire(result.clone());
        }
    }

    /// Runs one step of the iterator.
    fn step(&self) {
        let next = (self.inner.work.borrow_mut())();
        match next {
            None => self.finish(Ok(())),
            Some(Outcome::Value(())) => {}
            Some(Outcome::Failure(failure)) => self.finish(Err(failure)),
            Some(Outcome::Deferred(d)) => {
                self.inner.state.set(TaskState::Waiting);
                let me = self.clone();
                d.add_both(move |result| {
                    match result {
                        Ok(()) if me.inner.state.get() == TaskState::Waiting => {
                            me.inner.state.set(if me.inner.pauses.get() > 0 {
                                TaskState::Paused
                            } else {
                                TaskState::Running
                            });
                            if let Some(coop) = me.inner.cooperator.upgrade() {
                                Cooperator { inner: coop }.schedule();
                            }
                        }
                        Ok(()) => {}
                        Err(failure) => me.finish(Err(failure)),
                    }
                    Ok(())
                });
            }
        }
    }
}

struct CoopInner {
    reactor: WeakReactor,
    tasks: RefCell<Vec<CooperativeTask>>,
    next: Cell<usize>,
    budget: Cell<Duration>,
    interval: Cell<Duration>,
    max_steps: Cell<Option<usize>>,
    termination: RefCell<Option<PredicateFactory>>,
    call: RefCell<Option<DelayedCall>>,
}

/// Runs many iterators cooperatively: Twisted's `task.Cooperator`.
///
/// Every tick it gives the iterators one step each, round-robin, until the
/// tick's time budget is spent (10 ms by default, measured on the reactor's
/// clock), then yields to the reactor for an interval (10 ms by default) so
/// other work gets its turn. Long jobs written as iterators thus never block
/// the loop for more than a budget.
///
/// ```
/// use std::time::Duration;
/// use twine_core::task::{Clock, Cooperator};
///
/// let clock = Clock::new();
/// let coop = Cooperator::new(&clock.reactor());
/// coop.set_max_steps_per_tick(Some(3)); // deterministic in a test: 3 steps a tick
/// let sums = std::rc::Rc::new(std::cell::Cell::new(0));
/// let s = sums.clone();
/// let task = coop.cooperate((1..=10).map(move |i| s.set(s.get() + i)));
/// clock.advance(Duration::ZERO);
/// assert_eq!(sums.get(), 1 + 2 + 3);
/// clock.pump([Duration::from_millis(10); 4]);
/// assert_eq!(sums.get(), 55);
/// assert!(task.is_done());
/// ```
#[derive(Clone)]
pub struct Cooperator {
    inner: Rc<CoopInner>,
}

impl Cooperator {
    /// A cooperator on `reactor` with the default budget and interval.
    pub fn new(reactor: &Reactor) -> Cooperator {
        Cooperator {
            inner: Rc::new(CoopInner {
                reactor: reactor.downgrade(),
                tasks: RefCell::new(Vec::new()),
                next: Cell::new(0),
                budget: Cell::new(Duration::from_millis(10)),
                interval: Cell::new(Duration::from_millis(10)),
                max_steps: Cell::new(None),
                termination: RefCell::new(None),
                call: RefCell::new(None),
            }),
        }
    }

    /// The time one tick may spend on iterator steps.
    pub fn set_budget(&self, budget: Duration) {
        self.inner.budget.set(budget);
    }

    /// The pause between ticks.
    pub fn set_interval(&self, interval: Duration) {
        self.inner.interval.set(interval);
    }

    /// Ends each tick when a predicate says so, instead of the budget and
    /// step limit: Twisted's `terminationPredicateFactory`. At the start of
    /// each tick `factory` makes a predicate, asked after every step; the
    /// tick ends when it returns `true`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use twine_core::task::{Clock, Cooperator};
    ///
    /// let clock = Clock::new();
    /// let coop = Cooperator::new(&clock.reactor());
    /// coop.set_termination_predicate(|| {
    ///     let mut steps = 0;
    ///     move || {
    ///         steps += 1;
    ///         steps == 3 // three steps per tick
    ///     }
    /// });
    /// let seen = std::rc::Rc::new(std::cell::Cell::new(0));
    /// let s = seen.clone();
    /// coop.coiterate((0..10).map(move |_| s.set(s.get() + 1)));
    /// clock.advance(Duration::ZERO); // one tick
    /// assert_eq!(seen.get(), 3);
    /// ```
    pub fn set_termination_predicate<P: FnMut() -> bool + 'static>(&self, mut factory: impl FnMut() -> P + 'static) {
        *self.inner.termination.borrow_mut() = Some(Box::new(move || Box::new(factory())));
    }

    /// Also ends a tick after this many steps (`None`: only the budget counts).
    pub fn set_max_steps_per_tick(&self, steps: Option<usize>) {
        self.inner.max_steps.set(steps);
    }

    /// Starts running `iter`. Each item may be `()` (carry on), a
    /// `Result<(), Failure>` (an `Err` ends the task), or a `Deferred<()>`
    /// (the task waits for it).
    pub fn cooperate<R: IntoOutcome<()>>(&self, iter: impl IntoIterator<Item = R> + 'static) -> CooperativeTask {
        let mut iter = iter.into_iter();
        let task = CooperativeTask {
            inner: Rc::new(TaskInner {
                work: RefCell::new(Box::new(move || iter.next().map(IntoOutcome::into_outcome))),
                state: Cell::new(TaskState::Running),
                pauses: Cell::new(0),
                done: RefCell::new(Vec::new()),
                result: RefCell::new(None),
                cooperator: Rc::downgrade(&self.inner),
            }),
        };
        self.inner.tasks.borrow_mut().push(task.clone());
        self.schedule_now();
        task
    }

    /// Runs `iter` and returns a Deferred fired when it is exhausted.
    pub fn coiterate<R: IntoOutcome<()>>(&self, iter: impl IntoIterator<Item = R> + 'static) -> Deferred<()> {
        self.cooperate(iter).when_done()
    }

    /// Iterators not yet done.
    pub fn task_count(&self) -> usize {
        self.inner.tasks.borrow().len()
    }

    fn schedule_now(&self) {
        self.schedule_in(Duration::ZERO);
    }

    fn schedule(&self) {
        self.schedule_in(self.inner.interval.get());
    }

    fn schedule_in(&self, delay: Duration) {
        if self.inner.call.borrow().as_ref().is_some_and(DelayedCall::active) {
            return;
        }
        let Some(reactor) = self.inner.reactor.upgrade() else { return };
        let me = self.clone();
        *self.inner.call.borrow_mut() = Some(reactor.call_later(delay, move |reactor| me.tick(reactor)));
    }

    fn tick(&self, reactor: &Reactor) {
        let deadline = reactor.seconds() + self.inner.budget.get();
        let max_steps = self.inner.max_steps.get().unwrap_or(usize::MAX);
        let mut steps = 0;
        let mut terminated = self.inner.termination.borrow_mut().as_mut().map(|factory| factory());
        let mut tick_over = move |steps: usize| match terminated.as_mut() {
            Some(predicate) => predicate(),
            None => steps >= max_steps || reactor.seconds() >= deadline,
        };
        loop {
            let runnable: Vec<CooperativeTask> = self
                .inner
                .tasks
                .borrow()
                .iter()
                .filter(|t| t.inner.state.get() == TaskState::Running)
                .cloned()
                .collect();
            if runnable.is_empty() {
                break;
            }
            let start = self.inner.next.get() % runnable.len();
            let mut spent = false;
            for task in runnable[start..].iter().chain(&runnable[..start]) {
                task.step();
                steps += 1;
                self.inner.next.set(self.inner.next.get().wrapping_add(1));
                if tick_over(steps) {
                    spent = true;
                    break;
                }
            }
            if spent {
                break;
            }
        }
        self.inner.tasks.borrow_mut().retain(|t| !t.is_done());
        if self.inner.tasks.borrow().iter().any(|t| t.inner.state.get() == TaskState::Running) {
            self.schedule();
        }
    }
}

thread_local! {
    static DEFAULT: RefCell<Option<(WeakReactor, Cooperator)>> = const { RefCell::new(None) };
}

/// Runs `iter` on the reactor's default [`Cooperator`]: Twisted's `coiterate`.
pub fn coiterate<R: IntoOutcome<()>>(reactor: &Reactor, iter: impl IntoIterator<Item = R> + 'static) -> Deferred<()> {
    let coop = DEFAULT.with(|default| {
        let mut default = default.borrow_mut();
        match &*default {
            Some((r, coop)) if r.upgrade().is_some_and(|r| Rc::ptr_eq(&r.inner, &reactor.inner)) => coop.clone(),
            _ => {
                let coop = Cooperator::new(reactor);
                *default = Some((reactor.downgrade(), coop.clone()));
                coop
            }
        }
    });
    coop.coiterate(iter)
}
