//! Reactor time: a point on the driver's monotonic clock.
//!
//! twine-core never reads a clock. A driver decides where time zero is (the
//! native driver: when it started; the simulation: the start of the run) and
//! passes the current [`Time`] into the reactor. Delays are plain
//! [`Duration`]s.

use std::fmt;
use std::ops::{Add, AddAssign, Sub};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A clock that can run a function later: Twisted's `IReactorTime`, all
/// that Deferreds know of a reactor (for [`add_timeout`]). The
/// [`Reactor`](crate::Reactor) is one; a test may bring its own.
///
/// [`add_timeout`]: crate::defer::Deferred::add_timeout
///
/// ```
/// use std::time::Duration;
/// use twine_core::task::Clock;
/// use twine_core::ReactorTime;
///
/// let clock = Clock::new();
/// let reactor = clock.reactor();
/// let call = reactor.call_later_dyn(Duration::from_secs(1), "example", Box::new(|| ()));
/// assert!(call.active());
/// call.cancel();
/// assert!(!call.active());
/// ```
pub trait ReactorTime {
    /// The current time: Twisted's `seconds()`.
    fn seconds(&self) -> Time;
    /// Runs `f` after `delay`: Twisted's `callLater`. `name` is the type
    /// name of the code that made `f`, for traces.
    fn call_later_dyn(&self, delay: Duration, name: &'static str, f: Box<dyn FnOnce()>) -> Box<dyn ScheduledCall>;
}

/// A call [`ReactorTime::call_later_dyn`] scheduled: Twisted's
/// `IDelayedCall`, as much of it as Deferreds use.
pub trait ScheduledCall {
    /// Whether it has yet to run and was not cancelled.
    fn active(&self) -> bool;
    /// Cancels it, if it is still active.
    fn cancel(&self);
}

/// A point in time, in nanoseconds since the driver's epoch.
///
/// ```
/// use std::time::Duration;
/// use twine_core::Time;
///
/// let t = Time::ZERO + Duration::from_millis(1500);
/// assert_eq!(t.as_secs_f64(), 1.5);
/// assert_eq!(t - Time::from_millis(500), Duration::from_secs(1));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Time(u64);

impl Time {
    /// The driver's epoch.
    pub const ZERO: Time = Time(0);
    /// The latest representable time; used as "never".
    pub const MAX: Time = Time(u64::MAX);

    /// A time `nanos` nanoseconds after the epoch.
    pub const fn from_nanos(nanos: u64) -> Time {
        Time(nanos)
    }

    /// A time `micros` microseconds after the epoch.
    pub const fn from_micros(micros: u64) -> Time {
        Time(micros.saturating_mul(1_000))
    }

    /// A time `millis` milliseconds after the epoch.
    pub const fn from_millis(millis: u64) -> Time {
        Time(millis.saturating_mul(1_000_000))
    }

    /// A time `secs` seconds after the epoch.
    pub const fn from_secs(secs: u64) -> Time {
        Time(secs.saturating_mul(1_000_000_000))
    }

    /// A time `secs` seconds after the epoch (negative or NaN clamps to zero).
    pub fn from_secs_f64(secs: f64) -> Time {
        Time::ZERO + Duration::try_from_secs_f64(secs).unwrap_or_default()
    }

    /// Nanoseconds since the epoch.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// Microseconds since the epoch, with the fraction kept.
    pub fn as_micros_f64(self) -> f64 {
        self.0 as f64 / 1e3
    }

    /// Seconds since the epoch: what Twisted's `reactor.seconds()` returns.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }

    /// The time since the epoch as a [`Duration`].
    pub const fn since_epoch(self) -> Duration {
        Duration::from_nanos(self.0)
    }

    /// `self - earlier`, or zero when `earlier` is later.
    pub fn saturating_since(self, earlier: Time) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }
}

impl Add<Duration> for Time {
    type Output = Time;
    fn add(self, rhs: Duration) -> Time {
        let nanos = u64::try_from(rhs.as_nanos()).unwrap_or(u64::MAX);
        Time(self.0.saturating_add(nanos))
    }
}

impl AddAssign<Duration> for Time {
    fn add_assign(&mut self, rhs: Duration) {
        *self = *self + rhs;
    }
}

/// The distance between two times; zero if `rhs` is later (time never runs backwards).
impl Sub for Time {
    type Output = Duration;
    fn sub(self, rhs: Time) -> Duration {
        self.saturating_since(rhs)
    }
}

impl fmt::Debug for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.6}s", self.as_secs_f64())
    }
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates_instead_of_wrapping() {
        assert_eq!(Time::MAX + Duration::from_secs(1), Time::MAX);
        assert_eq!(Time::ZERO - Time::from_millis(5), Duration::ZERO);
        assert_eq!(Time::from_secs_f64(-1.0), Time::ZERO);
        assert_eq!(Time::from_secs_f64(0.25), Time::from_millis(250));
    }
}
