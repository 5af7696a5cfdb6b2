//! The driver's own deadlines (idle and close timeouts, the write-timeout
//! sweep, connect deadlines, accept retries, publishing metrics) wake the
//! loop through one kernel timer in its poll set, a `timerfd`, armed again
//! only when the earliest of them moves earlier. The loop then polls with no
//! timeout unless the reactor has a timer of its own due: a timeout passed
//! to `epoll_wait` is a kernel timer armed and cancelled on every sleep,
//! which at one message per wake (one connection, one message in flight)
//! was once per message. A wake earlier than needed is harmless: the loop
//! looks, finds nothing due, and arms the alarm again.
//!
//! Elsewhere than Linux there is no alarm, and the deadline is the poll's timeout.

use std::time::{Duration, Instant};

use mio::{Interest, Registry, Token};

/// One kernel timer the loop polls.
pub(super) struct Alarm {
    #[cfg(target_os = "linux")]
    fd: rustix::fd::OwnedFd,
    /// When it is set to ring, if it is.
    armed: Option<Instant>,
}

impl Alarm {
    /// An alarm registered with `registry` under `token`, or `None` where
    /// there is none (then the caller puts its deadlines in the poll's timeout).
    #[cfg(target_os = "linux")]
    pub(super) fn new(registry: &Registry, token: Token) -> Option<Alarm> {
        use rustix::fd::AsRawFd;
        use rustix::time::{timerfd_create, TimerfdClockId, TimerfdFlags};
        let fd = timerfd_create(TimerfdClockId::Monotonic, TimerfdFlags::NONBLOCK | TimerfdFlags::CLOEXEC).ok()?;
        registry.register(&mut mio::unix::SourceFd(&fd.as_raw_fd()), token, Interest::READABLE).ok()?;
        Some(Alarm { fd, armed: None })
    }

    #[cfg(not(target_os = "linux"))]
    pub(super) fn new(_: &Registry, _: Token) -> Option<Alarm> {
        None
    }

    /// Makes sure the alarm rings by `due` (measured from `now`). Returns
    /// false if it could not be set: then the caller must wake by itself.
    pub(super) fn ring_by(&mut self, due: Instant, now: Instant) -> bool {
        if self.armed.is_some_and(|armed| armed <= due) {
            return true;
        }
        // Never zero: a zero timerfd setting disarms it.
        let after = due.saturating_duration_since(now).max(Duration::from_micros(1));
        if self.set(after) {
            self.armed = Some(due);
            true
        } else {
            self.armed = None;
            false
        }
    }

    #[cfg(target_os = "linux")]
    fn set(&self, after: Duration) -> bool {
        use rustix::time::{timerfd_settime, Itimerspec, TimerfdTimerFlags, Timespec};
        let value = Timespec { tv_sec: after.as_secs() as _, tv_nsec: after.subsec_nanos() as _ };
        let spec = Itimerspec { it_interval: Timespec { tv_sec: 0, tv_nsec: 0 }, it_value: value };
        timerfd_settime(&self.fd, TimerfdTimerFlags::empty(), &spec).is_ok()
    }

    #[cfg(not(target_os = "linux"))]
    fn set(&self, _: Duration) -> bool {
        false
    }

    /// It rang: take the ring, so the next one is an edge of its own.
    pub(super) fn rang(&mut self) {
        self.armed = None;
        #[cfg(target_os = "linux")]
        {
            let mut expirations = [0u8; 8];
            let _ = rustix::io::read(&self.fd, &mut expirations);
        }
    }
}
