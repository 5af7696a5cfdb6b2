//! Graceful shutdown: stop accepting, flush and close connections, let jobs
//! finish, then stop the reactor and join the pool; force it all after a
//! grace period (or a second signal).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use mio::Events;
use twine_core::defer::{Failure, FailureKind};

use super::Driver;

pub(super) struct Shutdown {
    pub(super) deadline: Instant,
}

/// How a reactor thread ended, from [`ReactorThread::join`](crate::ReactorThread::join).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Connections still open when the grace period ran out (or the reactor
    /// stopped on its own), closed without flushing.
    pub aborted_connections: usize,
    /// Pool jobs not finished when the shutdown stopped waiting (queued, or
    /// still running on a thread): each one's Deferred failed with
    /// `Cancelled`.
    pub cancelled_jobs: usize,
    /// Pool threads still inside a job when the join timeout ran out; they
    /// end with the process.
    pub threads_left_running: usize,
}

impl ShutdownReport {
    /// Whether everything finished within the grace period.
    pub fn is_clean(&self) -> bool {
        *self == ShutdownReport::default()
    }
}

impl Driver {
    pub(super) fn on_signals(&mut self) {
        let Some(signals) = &mut self.signals else { return };
        let received: Vec<i32> = signals.pending().collect();
        for signal in received {
            let name = match signal {
                signal_hook::consts::SIGINT => "SIGINT",
                signal_hook::consts::SIGTERM => "SIGTERM",
                _ => "a signal",
            };
            if self.shutdown.is_some() {
                tracing::warn!("{name} again: closing everything now");
                if let Some(s) = &mut self.shutdown {
                    s.deadline = Instant::now();
                }
            } else {
                self.begin_shutdown(name);
            }
        }
    }

    /// Starts a graceful shutdown (once): run the hooks, stop accepting,
    /// ask every connection to close after flushing.
    pub(crate) fn begin_shutdown(&mut self, why: &str) {
        if self.shutdown.is_some() {
            return;
        }
        let grace = self.config.shutdown_grace;
        tracing::info!("shutting down ({why}): closing connections, waiting up to {grace:?} for them and for jobs");
        self.shutdown = Some(Shutdown { deadline: Instant::now() + grace });
        self.metrics.set_shutting_down();
        for hook in std::mem::take(&mut self.shutdown_hooks) {
            if catch_unwind(AssertUnwindSafe(|| hook(&self.reactor))).is_err() {
                tracing::error!("a shutdown hook panicked");
            }
        }
        self.close_listeners();
        self.cancel_connects();
        for id in self.reactor.connections() {
            if let Some(transport) = self.reactor.transport(id) {
                transport.lose_connection();
            }
        }
        self.apply_effects();
    }

    /// Stops the reactor once connections and jobs are done, or the grace
    /// period is over.
    pub(super) fn shutdown_step(&mut self) {
        let Some(shutdown) = &self.shutdown else { return };
        if !self.reactor.is_running() {
            return;
        }
        let deadline = shutdown.deadline;
        if self.reactor.stats().connections == 0 && self.reactor.jobs_in_flight() == 0 {
            let _ = self.reactor.stop();
        } else if Instant::now() >= deadline {
            let open = self.reactor.stats().connections;
            let jobs = self.reactor.jobs_in_flight();
            tracing::warn!("shutdown grace period over: aborting {open} connection(s); {jobs} job(s) unfinished");
            self.report.aborted_connections += self.abort_all("the server is shutting down");
            self.cancel_jobs("the server shut down before the job finished");
            let _ = self.reactor.stop();
        }
    }

    /// Stops the pool taking jobs and fails the Deferred of every job not
    /// finished, queued or running (a thread cannot be interrupted: its
    /// result, if it ever comes, is dropped), so no caller waits forever.
    fn cancel_jobs(&mut self, why: &str) {
        self.pool.begin_shutdown();
        self.report.cancelled_jobs += self.reactor.abandon_jobs(Failure::new(FailureKind::Cancelled, why));
    }

    /// Closes every connection now, without flushing. Returns how many.
    fn abort_all(&mut self, why: &str) -> usize {
        let mut aborted = 0;
        for i in self.stream_slots() {
            let failure = Failure::new(FailureKind::ConnectionLost, why);
            self.close_stream(i, failure);
            aborted += 1;
        }
        self.apply_effects();
        aborted
    }

    /// After the loop: close what is left, cancel queued jobs, join the
    /// pool while still serving the inbox (a worker may be waiting in
    /// `blocking_call_from_thread`).
    pub(crate) fn finish(mut self) -> ShutdownReport {
        self.close_listeners();
        self.cancel_connects();
        self.report.aborted_connections += self.abort_all("the reactor stopped");
        self.cancel_jobs("the reactor stopped before the job finished");
        let deadline = Instant::now() + self.config.join_timeout;
        let mut events = Events::with_capacity(16);
        loop {
            let left = self.pool.join_finished();
            if left == 0 || Instant::now() >= deadline {
                if left > 0 {
                    tracing::warn!("{left} pool thread(s) still inside a job; leaving them to end with the process");
                }
                self.report.threads_left_running = left;
                break;
            }
            let now = self.clock();
            self.reactor.handle_timeout(now);
            self.apply_effects();
            let _ = self.sleep(&mut events, Some(Duration::from_millis(5)));
        }
        self.publish_now();
        tracing::info!("reactor stopped: {:?}", self.report);
        self.report
    }
}
