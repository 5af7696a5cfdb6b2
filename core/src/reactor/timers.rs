//! The timer queue behind `call_later`, and the [`DelayedCall`] handle.
//!
//! Timers live in a binary heap ordered by (due time, insertion sequence).
//! Timers scheduled or moved wait in `incoming` until the turn inserts them,
//! once, after its inbox calls and before its first timer (Twisted's
//! `runUntilCurrent`): a call scheduled by a timer never runs in that same
//! turn, even when it is already due, while one scheduled by an inbox call of
//! the turn does.
//! Cancelling or moving a timer leaves a stale heap entry behind; stale
//! entries are skipped when popped, and the heap is rebuilt when they
//! outnumber the live ones (as Twisted does).

use std::borrow::Cow;
use std::cell::Cell;
use std::cmp::Ordering;
use std::collections::binary_heap::PeekMut;
use std::collections::BinaryHeap;
use std::fmt;
use std::rc::{Rc, Weak};
use std::time::Duration;

use super::{Inner, Reactor};
use crate::time::Time;
use crate::trace::TraceEvent;

pub(crate) type TimerCallback = Box<dyn FnOnce(&Reactor)>;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum TimerState {
    Pending,
    Called,
    Cancelled,
}

pub(crate) struct TimerCell {
    pub(crate) id: u64,
    pub(crate) name: Cow<'static, str>,
    due: Cell<Time>,
    seq: Cell<u64>,
    state: Cell<TimerState>,
    callback: Cell<Option<TimerCallback>>,
}

impl TimerCell {
    pub(crate) fn due(&self) -> Time {
        self.due.get()
    }

    /// Marks the timer called and hands out its callback.
    pub(crate) fn fire(&self) -> Option<TimerCallback> {
        self.state.set(TimerState::Called);
        self.callback.take()
    }
}

struct Entry {
    due: Time,
    seq: u64,
    timer: Rc<TimerCell>,
}

impl Entry {
    fn is_live(&self) -> bool {
        self.timer.state.get() == TimerState::Pending && self.timer.seq.get() == self.seq
    }
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        (self.due, self.seq) == (other.due, other.seq)
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    // Reversed: BinaryHeap is a max-heap and we want the earliest first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.due, other.seq).cmp(&(self.due, self.seq))
    }
}

/// Rebuild the heap once this many stale entries pile up (and they are over half of it).
const COMPACT_AT: usize = 50;

#[derive(Default)]
pub(crate) struct TimerQueue {
    heap: BinaryHeap<Entry>,
    incoming: Vec<Entry>,
    stale: usize,
    seq: u64,
    next_id: u64,
    live: usize,
}

impl TimerQueue {
    pub(crate) fn schedule(&mut self, due: Time, name: Cow<'static, str>, callback: TimerCallback) -> Rc<TimerCell> {
        self.next_id += 1;
        self.seq += 1;
        let timer = Rc::new(TimerCell {
            id: self.next_id,
            name,
            due: Cell::new(due),
            seq: Cell::new(self.seq),
            state: Cell::new(TimerState::Pending),
            callback: Cell::new(Some(callback)),
        });
        self.incoming.push(Entry { due, seq: self.seq, timer: timer.clone() });
        self.live += 1;
        timer
    }

    fn cancel(&mut self, timer: &TimerCell) -> Option<TimerCallback> {
        timer.state.set(TimerState::Cancelled);
        self.stale += 1;
        self.live -= 1;
        timer.callback.take()
    }

    /// Moves a pending timer; it re-enters the queue as if scheduled now.
    fn reschedule(&mut self, timer: &Rc<TimerCell>, due: Time) {
        self.seq += 1;
        timer.due.set(due);
        timer.seq.set(self.seq);
        self.stale += 1;
        self.incoming.push(Entry { due, seq: self.seq, timer: timer.clone() });
    }

    /// Makes timers scheduled since the last turn eligible to run.
    pub(crate) fn merge_incoming(&mut self) {
        if self.stale > 0 {
            for entry in self.incoming.drain(..) {
                if entry.is_live() {
                    self.heap.push(entry);
                } else {
                    self.stale -= 1;
                }
            }
        } else if self.heap.is_empty() {
            // Nothing cancelled or moved, so every entry is live, and nothing
            // merged yet: the batch becomes the heap, ordered in place in
            // linear time (a push each would take log n each). The heap's
            // spare buffer becomes the next batch's.
            let spare = std::mem::take(&mut self.heap).into_vec();
            self.heap = BinaryHeap::from(std::mem::replace(&mut self.incoming, spare));
        } else {
            // `extend` picks pushes or a rebuild, whichever is cheaper.
            self.heap.extend(self.incoming.drain(..));
        }
        if self.stale > COMPACT_AT && self.stale > self.heap.len() / 2 {
            let entries = std::mem::take(&mut self.heap).into_vec();
            self.heap = entries.into_iter().filter(Entry::is_live).collect();
            self.stale = 0;
        }
    }

    fn drop_stale_top(&mut self) {
        if self.stale == 0 {
            return; // nothing cancelled or moved: every entry is live
        }
        while self.heap.peek().is_some_and(|e| !e.is_live()) {
            self.heap.pop();
            self.stale -= 1;
        }
    }

    /// Pops the next live timer due at or before `now`, among those merged.
    pub(crate) fn pop_due(&mut self, now: Time) -> Option<Rc<TimerCell>> {
        self.drop_stale_top();
        let top = PeekMut::pop(self.heap.peek_mut().filter(|e| e.due <= now)?);
        self.live -= 1;
        Some(top.timer)
    }

    /// The earliest due time of any live timer, merged or incoming.
    pub(crate) fn next_due(&mut self) -> Option<Time> {
        self.drop_stale_top();
        let merged = self.heap.peek().map(|e| e.due);
        let incoming = self.incoming.iter().filter(|e| e.is_live()).map(|e| e.due).min();
        match (merged, incoming) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Live timers due at or before `now` that have been merged into the
    /// heap, and, with `incoming`, those waiting to be merged too.
    pub(crate) fn due_count(&self, now: Time, incoming: bool) -> usize {
        let waiting = if incoming { &self.incoming[..] } else { &[] };
        self.heap.iter().chain(waiting).filter(|e| e.is_live() && e.due <= now).count()
    }

    /// Live timers, in (due, insertion) order.
    pub(crate) fn snapshot(&self) -> Vec<PendingTimer> {
        let mut live: Vec<&Entry> = self.heap.iter().chain(&self.incoming).filter(|e| e.is_live()).collect();
        live.sort_by_key(|e| (e.due, e.seq));
        live.into_iter().map(|e| PendingTimer { id: e.timer.id, due: e.due, name: e.timer.name.clone() }).collect()
    }

    pub(crate) fn len(&self) -> usize {
        self.live
    }
}

/// A timer waiting to fire, as [`Reactor::pending_timers`] lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingTimer {
    /// The timer's id, as traces know it.
    pub id: u64,
    /// When it is due.
    pub due: Time,
    /// What it will call.
    pub name: Cow<'static, str>,
}

/// Why a [`DelayedCall`] could not be cancelled or moved: the same errors Twisted raises.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimerError {
    /// The call already ran.
    AlreadyCalled,
    /// The call was cancelled before.
    AlreadyCancelled,
}

impl fmt::Display for TimerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimerError::AlreadyCalled => "the delayed call already ran",
            TimerError::AlreadyCancelled => "the delayed call was already cancelled",
        })
    }
}

impl std::error::Error for TimerError {}

/// A call scheduled with [`Reactor::call_later`]: Twisted's `IDelayedCall`.
///
/// ```
/// use std::time::Duration;
/// use twine_core::reactor::TimerError;
/// use twine_core::task::Clock;
///
/// let clock = Clock::new();
/// let call = clock.reactor().call_later(Duration::from_secs(5), |_| unreachable!());
/// assert!(call.active());
/// call.delay(Duration::from_secs(1)).unwrap();
/// assert_eq!(call.time().as_secs_f64(), 6.0);
/// call.cancel().unwrap();
/// assert_eq!(call.cancel(), Err(TimerError::AlreadyCancelled));
/// clock.advance(Duration::from_secs(10)); // nothing runs
/// ```
#[derive(Clone)]
pub struct DelayedCall {
    pub(crate) timer: Rc<TimerCell>,
    pub(crate) reactor: Weak<Inner>,
}

impl DelayedCall {
    /// The timer's id, as it appears in trace events.
    pub fn id(&self) -> u64 {
        self.timer.id
    }

    /// When the call is due.
    pub fn time(&self) -> Time {
        self.timer.due.get()
    }

    /// Whether the call has neither run nor been cancelled.
    pub fn active(&self) -> bool {
        self.timer.state.get() == TimerState::Pending
    }

    fn check_pending(&self) -> Result<Reactor, TimerError> {
        match self.timer.state.get() {
            TimerState::Called => Err(TimerError::AlreadyCalled),
            TimerState::Cancelled => Err(TimerError::AlreadyCancelled),
            // A reactor that is gone will never run the call: it is as good as cancelled.
            TimerState::Pending => {
                self.reactor.upgrade().map(|inner| Reactor { inner }).ok_or(TimerError::AlreadyCancelled)
            }
        }
    }

    /// Cancels the call. Its closure is dropped at once.
    pub fn cancel(&self) -> Result<(), TimerError> {
        let reactor = self.check_pending()?;
        let callback = reactor.inner.timers.borrow_mut().cancel(&self.timer);
        drop(callback); // outside the borrow: the closure's captures may run Drop code
        reactor.emit(|| TraceEvent::TimerCancelled { timer: self.timer.id });
        Ok(())
    }

    /// Moves the call to `delay` from now. It runs no earlier than the next turn.
    pub fn reset(&self, delay: Duration) -> Result<(), TimerError> {
        let reactor = self.check_pending()?;
        self.move_to(&reactor, reactor.seconds() + delay);
        Ok(())
    }

    /// Postpones the call by `extra`.
    pub fn delay(&self, extra: Duration) -> Result<(), TimerError> {
        let reactor = self.check_pending()?;
        self.move_to(&reactor, self.time() + extra);
        Ok(())
    }

    fn move_to(&self, reactor: &Reactor, due: Time) {
        reactor.inner.timers.borrow_mut().reschedule(&self.timer, due);
        reactor.emit(|| TraceEvent::TimerReset { timer: self.timer.id, due });
    }
}

impl fmt::Debug for DelayedCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DelayedCall")
            .field("id", &self.timer.id)
            .field("time", &self.time())
            .field("state", &self.timer.state.get())
            .field("name", &self.timer.name)
            .finish()
    }
}
