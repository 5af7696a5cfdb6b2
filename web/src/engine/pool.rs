//! The thread pool behind core's `ThreadPool` contract: jobs the reactor
//! submits wait in the pool's queue until a simulated pool thread is free.
//! As Twisted's pool, it starts threads on demand, up to its size, each
//! handed its first job; they are started as any thread is (`spawner`),
//! one after another.

use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use twine_core::threads::{Job, PoolStats};
use twine_core::trace::TraceEvent;
use twine_core::Time;

use super::interp::{Activation, Ctx, End};
use super::sched::{Kind, Thread};
use super::shared::{JobProgram, PoolFree};
use super::Simulation;
use crate::program::{Op, Seq};

#[derive(Default)]
pub(crate) struct PoolState {
    pub workers: Vec<u32>,
    pub idle: VecDeque<u32>,
    pub completed: u64,
    pub depth: Vec<(Time, u32)>,
    pub submitted: u64,
    /// New threads' first jobs, until the starter has created them.
    pub first_jobs: Vec<(u32, Job)>,
}

impl Simulation {
    /// Hands queued jobs to idle pool threads, starting threads up to the limit.
    pub(super) fn dispatch_pool(&mut self) {
        loop {
            if self.sh.pool_queue.borrow().is_empty() {
                break;
            }
            let (tid, fresh) = if let Some(tid) = self.pool.idle.pop_front() {
                (tid, false)
            } else if (self.pool.workers.len() as u32) < self.program.pool_threads && !self.reactor.is_stopped() {
                // Twisted's pool starts its threads on demand, up to its size.
                let tid = self.threads.len() as u32;
                let name: Rc<str> = format!("pool-{}", self.pool.workers.len() + 1).into();
                self.sh.thread_names.borrow_mut().push(Rc::clone(&name));
                self.threads.push(Thread::new(name, Kind::Pool));
                self.pool.workers.push(tid);
                (tid, true)
            } else {
                break;
            };
            let Some(job) = self.sh.pool_queue.borrow_mut().pop_front() else { break };
            if fresh {
                // The job is the new thread's, taken now (as Twisted's `Team`
                // and the native pool give it); it starts once the thread
                // exists: made by the Python caller's spawn call when it
                // makes one (`spawn_on_caller`), else by the engine's starter.
                self.pool.first_jobs.push((tid, job));
                match self.spawner.pool_caller.take() {
                    Some(caller) => self.threads[caller as usize].spawning.push(tid),
                    None => self.start_threads([(tid, 0)]),
                }
            } else {
                self.assign_job(tid, job);
                self.make_ready(tid);
            }
        }
        self.note_pool_depth();
        self.note_pool_free();
    }

    /// Tells a Python `deferToThread` what the pool has for its job
    /// (`Shared::next_job_starts_a_thread`).
    pub(super) fn note_pool_free(&self) {
        let room = self.program.pool_threads.saturating_sub(self.pool.workers.len() as u32);
        self.sh.pool_free.set(PoolFree { idle: self.pool.idle.len() as u32, room });
    }

    /// A new pool thread exists: it takes the job it was started for.
    pub(super) fn pool_thread_created(&mut self, tid: u32) {
        if let Some(i) = self.pool.first_jobs.iter().position(|&(t, _)| t == tid) {
            let (_, job) = self.pool.first_jobs.swap_remove(i);
            self.assign_job(tid, job);
        }
    }

    pub(super) fn assign_job(&mut self, tid: u32, job: Job) {
        self.pool.submitted += 1;
        self.emit(TraceEvent::JobStarted { job: job.id(), thread: tid });
        let (body, slot) = match job.hint() {
            Some(hint) => {
                if let Some(program) = hint.downcast_ref::<JobProgram>() {
                    (program.body.clone(), Some(Arc::clone(&program.failure)))
                } else if let Some(cost) = hint.downcast_ref::<Duration>() {
                    (Seq::new(vec![Op::Cpu(cost.as_nanos() as u64)]), None)
                } else {
                    (Seq::empty(), None)
                }
            }
            None => (Seq::empty(), None),
        };
        if let Some(py) = job.hint().and_then(|h| h.downcast_ref::<crate::python::twisted::PyJob>()) {
            let task = self.sh.py.borrow().as_ref().and_then(|rt| rt.take_task(py.task));
            if let Some(task) = task {
                let slot = Arc::clone(&py.slot);
                let t = &mut self.threads[tid as usize];
                t.act = Some(Activation::python(task, End::PyJob(slot)));
                t.job = Some(job);
                self.update_pool_stats();
                return;
            }
        }
        let t = &mut self.threads[tid as usize];
        t.act = Some(Activation::new(body, Ctx::default(), End::Job(slot)));
        t.job = Some(job);
        self.update_pool_stats();
    }

    pub(super) fn note_pool_depth(&mut self) {
        let depth = self.sh.pool_queue.borrow().len() as u32;
        if self.pool.depth.last().is_none_or(|&(_, d)| d != depth) {
            self.pool.depth.push((self.now, depth));
        }
    }

    /// Pool threads running a job.
    pub(crate) fn busy_workers(&self) -> usize {
        self.pool.workers.iter().filter(|&&w| self.threads[w as usize].job.is_some()).count()
    }

    pub(super) fn update_pool_stats(&self) {
        self.sh.pool_stats.set(PoolStats {
            threads: self.pool.workers.len(),
            queued: 0,
            busy: self.busy_workers(),
            completed: self.pool.completed,
        });
    }
}
