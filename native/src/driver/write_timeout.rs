//! The write timeout (`Config::write_timeout`, `twine serve
//! --write-timeout`): a client that stops reading leaves its output in the
//! server, up to the high-water mark and a socket's send buffer, and (its
//! reading paused by back-pressure) sends nothing either, so no other limit
//! notices it. A stream whose pending output has not moved for the timeout
//! is dropped, with a warning that says why, and its buffers go back.
//!
//! Progress is what the client reads: the kernel's send queue shrinking
//! (`TIOCOUTQ`) as well as the driver handing the kernel more. Writability
//! alone would miss a slow reader: epoll reports a full socket writable
//! only once a third of its send buffer is free, which at a few KiB a
//! second can take longer than the timeout.
//!
//! Only streams with output waiting are watched: a stream joins the list
//! when a write leaves bytes behind and leaves it when its output drains,
//! so a sweep costs nothing for the connections that keep up.

use std::time::{Duration, Instant};

use twine_core::defer::{Failure, FailureKind};
use twine_core::protocol::ConnectionId;

use super::Driver;

/// Bytes in the socket's send queue not yet acknowledged by the peer
/// (`TIOCOUTQ`), or `None` where that cannot be asked.
fn kernel_queued(sock: &mio::net::TcpStream) -> Option<usize> {
    use std::os::fd::AsRawFd;
    let mut queued: libc::c_int = 0;
    // SAFETY: TIOCOUTQ writes one int through the pointer, which is valid
    // for the call; the descriptor is the stream's own, open while it lives.
    let done = unsafe { libc::ioctl(sock.as_raw_fd(), libc::TIOCOUTQ, &mut queued) };
    (done == 0).then_some(queued.max(0) as usize)
}

/// The longest between two sweeps (a short timeout sweeps more often).
const MAX_SWEEP: Duration = Duration::from_secs(1);

impl Driver {
    /// Output is waiting on stream `i` and the kernel took none of it just
    /// now: start its clock, unless it is already running.
    pub(super) fn output_waiting(&mut self, i: usize) {
        if self.config.write_timeout.is_none() {
            return;
        }
        let Some(s) = self.sources.stream(i) else { return };
        if s.stalled_since.is_none() {
            s.stalled_since = Some(Instant::now());
            s.kernel_queued = None;
            // A clock that stopped and started again between two sweeps
            // must not list the stream twice (it would be dropped twice).
            if !s.watched {
                s.watched = true;
                self.stalled.push((i, s.conn.0));
            }
        }
    }

    /// The kernel took some of stream `i`'s output: its clock starts again
    /// (or stops, when nothing is left).
    pub(super) fn output_moved(&mut self, i: usize) {
        let Some(s) = self.sources.stream(i) else { return };
        if s.stalled_since.is_some() {
            s.stalled_since = (s.pending() > 0).then(Instant::now);
        }
    }

    /// When the next sweep is due, if any stream is watched.
    pub(super) fn write_timer_due(&self) -> Option<Instant> {
        (!self.stalled.is_empty()).then_some(self.write_next_sweep)
    }

    /// Drops the streams whose output has not moved for the timeout.
    pub(super) fn write_timers(&mut self) {
        let Some(timeout) = self.config.write_timeout else { return };
        if self.stalled.is_empty() {
            return;
        }
        let now = self.loop_instant();
        if now < self.write_next_sweep {
            return;
        }
        self.write_next_sweep = now + (timeout / 4).clamp(Duration::from_millis(10), MAX_SWEEP);
        let mut late = Vec::new();
        self.stalled.retain(|&(i, key)| {
            let Some(s) = self.sources.stream(i).filter(|s| s.conn == ConnectionId(key)) else { return false };
            // The client read some of what the kernel holds: its clock starts again.
            let queued = kernel_queued(&s.sock);
            if s.stalled_since.is_some() && matches!((queued, s.kernel_queued), (Some(q), Some(p)) if q < p) {
                s.stalled_since = Some(now);
            }
            s.kernel_queued = queued;
            let keep = match s.stalled_since {
                Some(since) if now.saturating_duration_since(since) >= timeout => {
                    late.push((i, s.pending(), s.sock.peer_addr().ok()));
                    false
                }
                Some(_) => true,
                None => false,
            };
            s.watched = keep;
            keep
        });
        for (i, pending, peer) in late {
            let peer = peer.map_or_else(|| "a client".to_owned(), |p| p.to_string());
            tracing::warn!(
                "dropping the connection from {peer}: it took none of its {pending} pending byte(s) for \
                 {timeout:?} (--write-timeout)"
            );
            self.counts.write_timeouts += 1;
            let reason = format!("write timeout: the peer read nothing for {timeout:?}");
            self.close_stream(i, Failure::new(FailureKind::ConnectionLost, reason));
            self.apply_effects();
        }
    }
}
