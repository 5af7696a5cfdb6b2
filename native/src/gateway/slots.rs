//! Counts of open things against a maximum: WebSockets (`--max-connections`)
//! and TCP connections (`--max-http-connections`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::Notify;

/// Counts open things against a maximum. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Slots {
    shared: Arc<Shared>,
}

struct Shared {
    open: AtomicUsize,
    max: usize,
    idle: Notify,
}

/// One place; gives it back when dropped.
pub(crate) struct Slot {
    shared: Arc<Shared>,
}

impl Slots {
    pub(crate) fn new(max: usize) -> Slots {
        Slots { shared: Arc::new(Shared { open: AtomicUsize::new(0), max, idle: Notify::new() }) }
    }

    /// A place for one more WebSocket, or `None` when all are taken.
    pub(crate) fn try_acquire(&self) -> Option<Slot> {
        let s = &self.shared;
        s.open
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < s.max).then_some(n + 1))
            .ok()
            .map(|_| Slot { shared: s.clone() })
    }

    pub(crate) fn open(&self) -> usize {
        self.shared.open.load(Ordering::Acquire)
    }

    /// Waits until no WebSocket is open.
    pub(crate) async fn all_closed(&self) {
        loop {
            let notified = self.shared.idle.notified();
            if self.open() == 0 {
                return;
            }
            notified.await;
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if self.shared.open.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.shared.idle.notify_waiters();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_stop_at_the_maximum_and_come_back_when_dropped() {
        let slots = Slots::new(2);
        let a = slots.try_acquire().unwrap();
        let _b = slots.try_acquire().unwrap();
        assert!(slots.try_acquire().is_none());
        drop(a);
        assert_eq!(slots.open(), 1);
        assert!(slots.try_acquire().is_some());
    }
}
