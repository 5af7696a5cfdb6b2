//! The timer queue behind `call_later`, and the [`DelayedCall`] handle.
//!
//! Timers live in a binary heap ordered by (due time, insertion sequence),
//! and, when many are made at once, in a sorted run beside it (below).
//! Timers scheduled or moved wait in `incoming` until the turn inserts them,
//! once, after its inbox calls and before its first timer (Twisted's
//! `runUntilCurrent`): a call scheduled by a timer never runs in that same
//! turn, even when it is already due, while one scheduled by an inbox call of
//! the turn does.
//! Cancelling or moving a timer leaves a stale heap entry behind; stale
//! entries are skipped when popped, and the heap is rebuilt when they
//! outnumber the live ones (as Twisted does).
//!
//! A batch of timers that finds the queue empty (a burst made between two
//! turns, the usual way a queue fills) is sorted once into a run, popped
//! from its front, instead of going into the heap: sorting a batch costs a
//! fraction of a heap pop per timer, most of all when it holds runs already
//! in order, as timers made in a loop do. The next timer is the earlier of
//! the heap's and the run's, in the same (due, insertion) order, so the run
//! changes nothing but the cost.
//!
//! A timer's state lives in a slot of one table (a slab), not in an
//! allocation of its own: a heap entry names its slot, and so does each
//! [`DelayedCall`] handle. A slot is reused once its timer has run or been
//! cancelled and no handle is left to ask how it ended.

use std::borrow::Cow;
use std::cell::Cell;
use std::cmp::Ordering;
use std::collections::binary_heap::PeekMut;
use std::collections::BinaryHeap;
use std::fmt;
use std::rc::Weak;
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

/// One timer's state in the table.
struct Slot {
    /// The timer's id (ids are never reused, slots are).
    id: u64,
    /// The sequence number of its live heap entry (0 once it is no longer
    /// pending): an entry whose number differs is stale.
    seq: u64,
    due: Time,
    state: TimerState,
    /// [`DelayedCall`] handles alive: while there is one, the slot keeps
    /// the timer's end for it to report.
    handles: u32,
    callback: Option<TimerCallback>,
    name: Cow<'static, str>,
}

/// What [`TimerQueue::schedule`] hands out: the new timer's id, name and
/// slot, which its [`DelayedCall`] holds.
pub(crate) struct TimerRef {
    pub(crate) id: u64,
    pub(crate) name: Cow<'static, str>,
    slot: u32,
    /// The due time last seen, for when the reactor is gone.
    due: Cell<Time>,
}

/// A timer taken off the queue to run now.
pub(crate) struct DueTimer {
    pub(crate) id: u64,
    pub(crate) name: Cow<'static, str>,
    due: Time,
    callback: Cell<Option<TimerCallback>>,
}

impl DueTimer {
    pub(crate) fn due(&self) -> Time {
        self.due
    }

    /// Hands out its callback (once).
    pub(crate) fn fire(&self) -> Option<TimerCallback> {
        self.callback.take()
    }
}

#[derive(Clone, Copy)]
struct Entry {
    due: Time,
    seq: u64,
    slot: u32,
}

impl Entry {
    /// (due, insertion) as one number, so that ordering two entries is one
    /// comparison: sorting a batch is mostly comparisons.
    fn key(&self) -> u128 {
        (u128::from(self.due.as_nanos()) << 64) | u128::from(self.seq)
    }
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
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
        other.key().cmp(&self.key())
    }
}

/// Rebuild the heap once this many stale entries pile up (and they are over half of it).
const COMPACT_AT: usize = 50;

#[derive(Default)]
pub(crate) struct TimerQueue {
    heap: BinaryHeap<Entry>,
    /// A sorted batch, the earliest last (Entry's order is reversed), so
    /// `pop` takes the next.
    run: Vec<Entry>,
    incoming: Vec<Entry>,
    slots: Vec<Slot>,
    /// Slots to reuse.
    free: Vec<u32>,
    stale: usize,
    seq: u64,
    next_id: u64,
    live: usize,
}

impl TimerQueue {
    pub(crate) fn schedule(&mut self, due: Time, name: Cow<'static, str>, callback: TimerCallback) -> TimerRef {
        self.next_id += 1;
        self.seq += 1;
        let slot = Slot {
            id: self.next_id,
            seq: self.seq,
            due,
            state: TimerState::Pending,
            handles: 1,
            callback: Some(callback),
            name: name.clone(),
        };
        let index = match self.free.pop() {
            Some(index) => {
                self.slots[index as usize] = slot;
                index
            }
            None => {
                self.slots.push(slot);
                u32::try_from(self.slots.len() - 1).expect("fewer than 2^32 timers at once")
            }
        };
        self.incoming.push(Entry { due, seq: self.seq, slot: index });
        self.live += 1;
        TimerRef { id: self.next_id, name, slot: index, due: Cell::new(due) }
    }

    fn is_live(&self, entry: &Entry) -> bool {
        self.slots[entry.slot as usize].seq == entry.seq
    }

    /// The slot of `timer`, if it is still the timer's.
    fn slot(&self, timer: &TimerRef) -> Option<&Slot> {
        self.slots.get(timer.slot as usize).filter(|s| s.id == timer.id)
    }

    fn slot_mut(&mut self, timer: &TimerRef) -> Option<&mut Slot> {
        self.slots.get_mut(timer.slot as usize).filter(|s| s.id == timer.id)
    }

    /// Frees `index` if its timer is over and no handle is left.
    fn release_if_done(&mut self, index: u32) {
        let slot = &mut self.slots[index as usize];
        if slot.handles == 0 && slot.state != TimerState::Pending {
            slot.id = 0;
            slot.name = Cow::Borrowed("");
            self.free.push(index);
        }
    }

    fn cancel(&mut self, timer: &TimerRef) -> Option<TimerCallback> {
        let slot = self.slot_mut(timer)?;
        slot.state = TimerState::Cancelled;
        slot.seq = 0;
        let callback = slot.callback.take();
        self.stale += 1;
        self.live -= 1;
        callback
    }

    /// Moves a pending timer; it re-enters the queue as if scheduled now.
    fn reschedule(&mut self, timer: &TimerRef, due: Time) {
        self.seq += 1;
        let seq = self.seq;
        let Some(slot) = self.slot_mut(timer) else {
            return;
        };
        slot.due = due;
        slot.seq = seq;
        self.stale += 1;
        self.incoming.push(Entry { due, seq, slot: timer.slot });
    }

    /// Makes timers scheduled since the last turn eligible to run.
    pub(crate) fn merge_incoming(&mut self) {
        if self.stale > 0 {
            let mut incoming = std::mem::take(&mut self.incoming);
            for entry in incoming.drain(..) {
                if self.is_live(&entry) {
                    self.heap.push(entry);
                } else {
                    self.stale -= 1;
                }
            }
            self.incoming = incoming; // empty, and keeps its capacity
        } else if self.heap.is_empty() && self.run.is_empty() {
            // Nothing cancelled or moved, so every entry is live, and nothing
            // merged waits: the batch becomes the run. (A stable sort: it
            // finds the stretches already in order and merges them.) The
            // spent run's buffer becomes the next batch's.
            let spare = std::mem::take(&mut self.run);
            self.run = std::mem::replace(&mut self.incoming, spare);
            self.run.sort();
        } else {
            // `extend` picks pushes or a rebuild, whichever is cheaper.
            self.heap.extend(self.incoming.drain(..));
        }
        if self.stale > COMPACT_AT && self.stale > (self.heap.len() + self.run.len()) / 2 {
            let entries = std::mem::take(&mut self.heap).into_vec();
            self.heap = entries.into_iter().filter(|e| self.is_live(e)).collect();
            let mut run = std::mem::take(&mut self.run);
            run.retain(|e| self.is_live(e));
            self.run = run;
            self.stale = 0;
        }
    }

    fn drop_stale_top(&mut self) {
        if self.stale == 0 {
            return; // nothing cancelled or moved: every entry is live
        }
        while self.heap.peek().is_some_and(|e| !self.is_live(e)) {
            self.heap.pop();
            self.stale -= 1;
        }
        while self.run.last().is_some_and(|e| !self.is_live(e)) {
            self.run.pop();
            self.stale -= 1;
        }
    }

    /// The next merged entry: the earlier of the heap's and the run's.
    fn next_entry(&self) -> Option<&Entry> {
        // `max`: Entry's order is reversed, the earliest is the greatest.
        match (self.heap.peek(), self.run.last()) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }

    /// Pops the next live timer due at or before `now`, among those
    /// merged; it counts as called from now on.
    pub(crate) fn pop_due(&mut self, now: Time) -> Option<DueTimer> {
        self.drop_stale_top();
        let from_run = match (self.heap.peek(), self.run.last()) {
            (_, None) => false,
            (None, Some(_)) => true,
            (Some(h), Some(r)) => r > h,
        };
        let entry = if from_run {
            self.run.last().filter(|e| e.due <= now)?;
            self.run.pop()?
        } else {
            PeekMut::pop(self.heap.peek_mut().filter(|e| e.due <= now)?)
        };
        self.live -= 1;
        let slot = &mut self.slots[entry.slot as usize];
        slot.state = TimerState::Called;
        slot.seq = 0;
        let name = if slot.handles == 0 { std::mem::take(&mut slot.name) } else { slot.name.clone() };
        let due = DueTimer { id: slot.id, name, due: slot.due, callback: Cell::new(slot.callback.take()) };
        self.release_if_done(entry.slot);
        Some(due)
    }

    /// The earliest due time of any live timer, merged or incoming.
    pub(crate) fn next_due(&mut self) -> Option<Time> {
        self.drop_stale_top();
        let merged = self.next_entry().map(|e| e.due);
        let incoming = self.incoming.iter().filter(|e| self.is_live(e)).map(|e| e.due).min();
        match (merged, incoming) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Live timers due at or before `now` that have been merged into the
    /// heap, and, with `incoming`, those waiting to be merged too.
    pub(crate) fn due_count(&self, now: Time, incoming: bool) -> usize {
        let waiting = if incoming { &self.incoming[..] } else { &[] };
        self.heap.iter().chain(&self.run).chain(waiting).filter(|e| self.is_live(e) && e.due <= now).count()
    }

    /// Live timers, in (due, insertion) order.
    pub(crate) fn snapshot(&self) -> Vec<PendingTimer> {
        // Copies sorted as a batch is (by `Entry`'s order, which is the
        // heap's, latest first) and read backwards: the batch sort's code,
        // not a second copy of the sort in the wasm module.
        let mut live: Vec<Entry> =
            self.heap.iter().chain(&self.run).chain(&self.incoming).filter(|e| self.is_live(e)).copied().collect();
        live.sort();
        live.into_iter()
            .rev()
            .map(|e| {
                let slot = &self.slots[e.slot as usize];
                PendingTimer { id: slot.id, due: e.due, name: slot.name.clone() }
            })
            .collect()
    }

    pub(crate) fn len(&self) -> usize {
        self.live
    }

    /// New handles on the pending timers, in the order they were made.
    pub(crate) fn pending_refs(&mut self) -> Vec<TimerRef> {
        let mut live: Vec<u32> =
            (0..self.slots.len() as u32).filter(|&i| self.slots[i as usize].state == TimerState::Pending).collect();
        live.sort_by_key(|&i| self.slots[i as usize].id);
        live.into_iter()
            .map(|i| {
                let slot = &mut self.slots[i as usize];
                slot.handles += 1;
                TimerRef { id: slot.id, name: slot.name.clone(), slot: i, due: Cell::new(slot.due) }
            })
            .collect()
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
///
/// The handle reads the timer in its reactor. Once the reactor is gone the
/// call will never run: it is inactive, cancelling it says
/// [`AlreadyCancelled`](TimerError::AlreadyCancelled), and its time is the
/// one this handle saw last.
pub struct DelayedCall {
    pub(crate) timer: TimerRef,
    pub(crate) reactor: Weak<Inner>,
}

impl Clone for DelayedCall {
    fn clone(&self) -> Self {
        let timer = TimerRef {
            id: self.timer.id,
            name: self.timer.name.clone(),
            slot: self.timer.slot,
            due: self.timer.due.clone(),
        };
        self.with_queue(|queue| {
            if let Some(slot) = queue.slots.get_mut(timer.slot as usize).filter(|s| s.id == timer.id) {
                slot.handles += 1;
            }
        });
        DelayedCall { timer, reactor: self.reactor.clone() }
    }
}

impl Drop for DelayedCall {
    fn drop(&mut self) {
        let timer = &self.timer;
        self.with_queue(|queue| {
            if let Some(slot) = queue.slot_mut(timer) {
                slot.handles -= 1;
                queue.release_if_done(timer.slot);
            }
        });
    }
}

impl DelayedCall {
    /// Runs `f` on the timer queue, if the reactor is still there (and the
    /// queue is not in use further up the stack, which would be a bug).
    fn with_queue<R>(&self, f: impl FnOnce(&mut TimerQueue) -> R) -> Option<R> {
        let inner = self.reactor.upgrade()?;
        let mut queue = inner.timers.try_borrow_mut().ok()?;
        Some(f(&mut queue))
    }

    /// The timer's state and due time, or `None` once the reactor is gone.
    fn read(&self) -> Option<(TimerState, Time)> {
        let inner = self.reactor.upgrade()?;
        let queue = inner.timers.borrow();
        queue.slot(&self.timer).map(|s| (s.state, s.due))
    }

    /// The timer's id, as it appears in trace events.
    pub fn id(&self) -> u64 {
        self.timer.id
    }

    /// When the call is due.
    pub fn time(&self) -> Time {
        if let Some((_, due)) = self.read() {
            self.timer.due.set(due);
        }
        self.timer.due.get()
    }

    /// Whether the call has neither run nor been cancelled.
    pub fn active(&self) -> bool {
        self.read().is_some_and(|(state, _)| state == TimerState::Pending)
    }

    /// Whether the call has run (Twisted's `called`).
    pub fn called(&self) -> bool {
        self.read().is_some_and(|(state, _)| state == TimerState::Called)
    }

    /// Whether the call was cancelled (Twisted's `cancelled`). A call whose
    /// reactor is gone counts as cancelled, as [`cancel`](Self::cancel) says.
    pub fn cancelled(&self) -> bool {
        self.read().is_none_or(|(state, _)| state == TimerState::Cancelled)
    }

    fn check_pending(&self) -> Result<Reactor, TimerError> {
        // A reactor that is gone will never run the call: it is as good as cancelled.
        let inner = self.reactor.upgrade().ok_or(TimerError::AlreadyCancelled)?;
        let state = inner.timers.borrow().slot(&self.timer).map(|s| s.state);
        match state {
            Some(TimerState::Pending) => Ok(Reactor { inner }),
            Some(TimerState::Called) => Err(TimerError::AlreadyCalled),
            Some(TimerState::Cancelled) | None => Err(TimerError::AlreadyCancelled),
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
            .field("state", &self.read().map(|(state, _)| state))
            .field("name", &self.timer.name)
            .finish()
    }
}
