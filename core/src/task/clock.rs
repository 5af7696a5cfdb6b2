use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use crate::reactor::{Reactor, ReactorDriver};
use crate::time::Time;

/// Turns a single `advance` may run before giving up: a zero-delay call that
/// reschedules itself forever would otherwise hang the test.
const MAX_TURNS_PER_ADVANCE: usize = 1_000_000;

/// A reactor driven by hand, for tests: Twisted's `task.Clock`. Clones
/// share the same time and reactor.
///
/// Time stands still until [`advance`](Clock::advance) moves it; then every
/// call due by the new time runs, including calls they schedule that are due
/// too.
///
/// ```
/// use std::cell::Cell;
/// use std::rc::Rc;
/// use std::time::Duration;
/// use twine_core::task::Clock;
///
/// let clock = Clock::new();
/// let fired = Rc::new(Cell::new(false));
/// let f = fired.clone();
/// clock.reactor().call_later(Duration::from_secs(3), move |_| f.set(true));
/// clock.advance(Duration::from_secs(2));
/// assert!(!fired.get());
/// clock.advance(Duration::from_secs(1));
/// assert!(fired.get());
/// assert_eq!(clock.seconds().as_secs_f64(), 3.0);
/// ```
#[derive(Clone)]
pub struct Clock {
    reactor: Rc<ReactorDriver>,
    now: Rc<Cell<Time>>,
}

impl Default for Clock {
    fn default() -> Self {
        Clock::new()
    }
}

impl Clock {
    /// A clock at time zero with a fresh reactor.
    pub fn new() -> Clock {
        let reactor = ReactorDriver::new();
        let now = Rc::new(Cell::new(Time::ZERO));
        let n = now.clone();
        reactor.set_clock(move || n.get());
        Clock { reactor: Rc::new(reactor), now }
    }

    /// The reactor this clock drives.
    pub fn reactor(&self) -> Reactor {
        self.reactor.reactor().clone()
    }

    /// The clock's hold on its reactor's driver face, for what a test lends
    /// the reactor (a thread pool) or feeds it by hand.
    ///
    /// ```
    /// use twine_core::task::Clock;
    /// use twine_core::threads::{call_in_thread, ManualPool};
    ///
    /// let clock = Clock::new();
    /// let pool = ManualPool::new();
    /// clock.driver().set_thread_pool(pool.clone());
    /// call_in_thread(&clock.reactor(), || {});
    /// assert_eq!(pool.queued(), 1);
    /// ```
    pub fn driver(&self) -> &ReactorDriver {
        &self.reactor
    }

    /// The current time.
    pub fn seconds(&self) -> Time {
        self.now.get()
    }

    /// Moves time forward by `by` and runs everything due.
    pub fn advance(&self, by: Duration) {
        self.now.set(self.now.get() + by);
        self.run_due();
    }

    /// Moves time forward without running anything, as if the code running
    /// now took `by`: for tests of time budgets and slow calls.
    pub fn tick(&self, by: Duration) {
        self.now.set(self.now.get() + by);
    }

    /// Advances by each step in turn: Twisted's `Clock.pump`.
    pub fn pump(&self, steps: impl IntoIterator<Item = Duration>) {
        for step in steps {
            self.advance(step);
        }
    }

    /// Runs turns until the reactor stops, jumping time to each next timer.
    /// Returns early if nothing is left to run.
    pub fn run(&self) {
        for _ in 0..MAX_TURNS_PER_ADVANCE {
            if self.reactor.is_stopped() {
                return;
            }
            let Some(next) = self.reactor.poll_timeout() else { return };
            if next > self.now.get() {
                self.now.set(next);
            }
            self.reactor.handle_timeout(self.now.get());
        }
    }

    fn run_due(&self) {
        for _ in 0..MAX_TURNS_PER_ADVANCE {
            self.reactor.handle_timeout(self.now.get());
            if self.reactor.poll_timeout().is_none_or(|t| t > self.now.get()) || self.reactor.is_stopped() {
                return;
            }
        }
        tracing::warn!("Clock::advance gave up after {MAX_TURNS_PER_ADVANCE} turns: a call keeps rescheduling itself with no delay");
    }
}
