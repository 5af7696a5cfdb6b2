//! CPython's global interpreter lock.
//!
//! With the GIL on, a thread must hold it to execute anything: it takes it
//! when free, otherwise it waits, off its core as on a condition variable.
//! A waiter that has waited a switch interval without a switch asks the
//! holder to drop it: at once in the middle of `cpu` work, otherwise before
//! the holder next computes (never inside a counter step, which is one
//! bytecode-sized step no switch can split). The GIL goes to the longest
//! waiter. Blocking (I/O, sleep, a lock, the reactor's poll, an idle pool
//! thread) releases it.

use std::collections::VecDeque;
use std::time::Duration;

use twine_core::trace::TraceEvent;
use twine_core::Time;

use super::sched::{Block, Burst, BurstOp, State};
use super::{Ev, Simulation};

#[derive(Default)]
pub(crate) struct Gil {
    pub on: bool,
    pub holder: Option<u32>,
    pub waiters: VecDeque<u32>,
    pub drop_requested: bool,
    pub epoch: u64,
    pub deadline: Option<Time>,
    pub switches: u64,
    pub forced: u64,
}

impl Simulation {
    /// Takes the GIL if it is free; otherwise queues `tid` for it, off its core.
    pub(crate) fn gil_acquire(&mut self, tid: u32) -> bool {
        if self.gil.holder.is_none() {
            self.gil_take(tid);
            return true;
        }
        self.gil_wait(tid);
        false
    }

    /// `tid` waits for the GIL off its core (releasing it first if it holds it).
    fn gil_wait(&mut self, tid: u32) {
        self.block(tid, Block::Gil);
        self.threads[tid as usize].gil_since = self.now;
        self.gil.waiters.push_back(tid);
        if self.gil.deadline.is_none() {
            self.gil_schedule_deadline();
        }
    }

    fn gil_schedule_deadline(&mut self) {
        self.gil.epoch += 1;
        let at = self.now + Duration::from_nanos(self.program.machine.switch_interval);
        self.gil.deadline = Some(at);
        let epoch = self.gil.epoch;
        self.schedule(at, Ev::Gil { epoch });
    }

    fn gil_take(&mut self, tid: u32) {
        let now = self.now;
        let t = &mut self.threads[tid as usize];
        t.holds_gil = true;
        t.gil_since = now;
        self.gil.holder = Some(tid);
        self.gil.drop_requested = false;
        self.sh.gil_drop.set(false);
        self.gil.epoch += 1;
        self.gil.deadline = None;
        self.emit(TraceEvent::GilAcquire { thread: tid });
        if !self.gil.waiters.is_empty() {
            self.gil_schedule_deadline();
        }
    }

    /// Lets go of the GIL, handing it to the longest waiter, who becomes ready.
    pub(crate) fn gil_release(&mut self, tid: u32) {
        let now = self.now;
        let t = &mut self.threads[tid as usize];
        t.holds_gil = false;
        t.gil_hold_ns += now.saturating_since(t.gil_since).as_nanos() as u64;
        self.gil.holder = None;
        self.emit(TraceEvent::GilRelease { thread: tid });
        let next = match self.gil.waiters.len() {
            _ if self.choices.chooser.is_none() => self.gil.waiters.pop_front(),
            0 | 1 => self.gil.waiters.pop_front(),
            _ => {
                let options: Vec<u32> = self.gil.waiters.iter().copied().collect();
                let i = self.choose(super::choice::ChoiceKind::Gil, &options);
                self.gil.waiters.remove(i)
            }
        };
        if let Some(next) = next {
            let waiter = &mut self.threads[next as usize];
            waiter.gil_wait_ns += now.saturating_since(waiter.gil_since).as_nanos() as u64;
            self.gil.switches += 1;
            self.gil_take(next);
            self.make_ready(next);
        } else {
            self.gil.epoch += 1;
            self.gil.deadline = None;
        }
    }

    /// A waiter has waited a switch interval: the holder must drop the GIL.
    pub(crate) fn gil_deadline(&mut self, epoch: u64) {
        if epoch != self.gil.epoch {
            return;
        }
        self.gil.deadline = None;
        let Some(holder) = self.gil.holder else { return };
        if self.gil.waiters.is_empty() {
            return;
        }
        let now = self.now;
        let t = &mut self.threads[holder as usize];
        let computing = match (t.state, t.work) {
            (State::Running { .. }, Some(Burst { op: BurstOp::Cpu, fresh: false, left, since })) => {
                // Work that ends right now finishes first.
                left > now.saturating_since(since).as_nanos() as u64
            }
            _ => false,
        };
        if computing {
            if let Some(burst) = t.work.as_mut() {
                let ran = now.saturating_since(burst.since).as_nanos() as u64;
                burst.left -= ran;
                burst.since = now;
                t.cpu_ns += ran;
            }
            self.gil_forced_drop(holder);
        } else {
            // Mid-step, off its core, or between steps: it drops the GIL
            // before it next computes.
            self.gil.drop_requested = true;
            self.sh.gil_drop.set(true);
        }
    }

    /// The holder drops the GIL on request and queues for it again.
    pub(crate) fn gil_forced_drop(&mut self, tid: u32) {
        self.gil.forced += 1;
        self.gil_wait(tid);
    }
}
