//! The agenda: what happens at which virtual time, in (time, scheduling
//! order) order. An event that was superseded before its time (a burst cut
//! short, a wake-up already delivered, a GIL deadline after a switch) is
//! stale: it is dropped, and never moves the clock.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use twine_core::Time;

use super::clients::ClientEv;
use super::Simulation;

/// Something scheduled at a virtual time.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Ev {
    /// A thread's burst ends, or its I/O, sleep or poll timeout is over.
    Thread { tid: u32, gen: u64 },
    /// A plain thread starts.
    Spawn { tid: u32 },
    /// The starter's spawn call returns (`spawner`).
    SpawnCall,
    /// The idle core a new thread was placed on has woken: the thread runs.
    Arrive { tid: u32, core: u32 },
    /// A GIL waiter's timed wait (one switch interval) is over.
    Gil { tid: u32, epoch: u64 },
    /// A thread that dropped the GIL on request is back on a core and
    /// begins its timed wait for it (`Noise::rewait_latency`).
    GilRewait { tid: u32, epoch: u64 },
    /// A GIL waiter woken by a release is on a core, to take the GIL if it
    /// is still free (`Gil`'s hand-over).
    GilWoken { tid: u32 },
    /// A thread's timed lock wait (`Halt::LockWaitFor`) runs out.
    LockTimeout { tid: u32, epoch: u64 },
    /// A simulated client sends, or a message reaches the other end.
    Client(ClientEv),
    /// Free cores look at the other cores' queues (`Simulation::balance`).
    Balance,
}

/// An event and when it happens; `seq` keeps events at the same time in the
/// order they were scheduled.
struct Entry {
    t: Time,
    seq: u64,
    ev: Ev,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        (self.t, self.seq) == (other.t, other.seq)
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.t, self.seq).cmp(&(other.t, other.seq))
    }
}

/// A priority queue with a one-entry front slot: the usual pattern is a
/// thread scheduling the end of its burst as the very next event and the
/// engine taking it straight off again, which then costs no heap push or
/// pop. Invariant: `front`, when set, comes before everything in `heap`.
#[derive(Default)]
pub(crate) struct Agenda {
    front: Option<Entry>,
    heap: BinaryHeap<Reverse<Entry>>,
    seq: u64,
}

impl Agenda {
    fn push(&mut self, t: Time, ev: Ev) {
        self.seq += 1;
        let entry = Entry { t, seq: self.seq, ev };
        let first = match &self.front {
            Some(front) => entry < *front,
            None => self.heap.peek().is_none_or(|Reverse(min)| entry < *min),
        };
        if first {
            if let Some(previous) = self.front.replace(entry) {
                self.heap.push(Reverse(previous));
            }
        } else {
            self.heap.push(Reverse(entry));
        }
    }

    /// The next event, taken off the agenda.
    pub fn pop(&mut self) -> Option<(Time, Ev)> {
        let entry = match self.front.take() {
            Some(entry) => entry,
            None => self.heap.pop()?.0,
        };
        Some((entry.t, entry.ev))
    }

    fn peek(&self) -> Option<(Time, Ev)> {
        let entry = self.front.as_ref().or_else(|| self.heap.peek().map(|Reverse(e)| e))?;
        Some((entry.t, entry.ev))
    }
}

impl Simulation {
    /// Puts `ev` on the agenda at `t`.
    pub(crate) fn schedule(&mut self, t: Time, ev: Ev) {
        self.agenda.push(t, ev);
    }

    /// Whether `ev` was superseded before its time came.
    fn is_stale(&self, ev: &Ev) -> bool {
        match *ev {
            Ev::Thread { tid, gen } => self.threads[tid as usize].gen != gen,
            Ev::Gil { tid, epoch } | Ev::GilRewait { tid, epoch } => self.threads[tid as usize].gil_timer != epoch,
            Ev::LockTimeout { tid, epoch } => !self.lock_wait_current(tid, epoch),
            // Nothing queued: nothing to balance, and no reason to move the clock.
            Ev::Balance => self.run_queue.is_empty(),
            Ev::Spawn { .. } | Ev::SpawnCall | Ev::Arrive { .. } | Ev::GilWoken { .. } | Ev::Client(_) => false,
        }
    }

    /// When the next action happens: now if something is ready.
    pub(super) fn next_time(&mut self) -> Option<Time> {
        if !self.ready_now.is_empty() {
            return Some(self.now);
        }
        self.drop_stale();
        self.agenda.peek().map(|(t, _)| t)
    }

    /// Drops superseded events (a burst cut short, a wake-up already
    /// delivered) so they do not move the clock.
    pub(super) fn drop_stale(&mut self) {
        while self.agenda.peek().is_some_and(|(_, ev)| self.is_stale(&ev)) {
            self.agenda.pop();
        }
    }
}
