//! Who is read first in a turn, so that one client's flood cannot delay
//! another client's message.
//!
//! A turn's reads come in two passes:
//!
//! 1. **Light connections, at once.** A connection whose last read handed
//!    its protocol fewer than [`LIGHT_MESSAGES`] messages and fewer than
//!    [`LIGHT_BYTES`] bytes (an interactive client, one message in flight)
//!    is read as its readiness is reported, up to that light share. A
//!    connection not read yet counts as light: nothing tells a flood from
//!    an interactive client before its first read, so a new flood's first
//!    few messages may share the light pass (and delay its answers).
//! 2. **Heavy connections, in turn.** The others, and a light one with
//!    input left past its light share, wait in a round-robin queue (the
//!    carry). Each is read up to its own per-turn budget
//!    (`Config::lines_per_turn`, `WsSettings::messages_per_turn`,
//!    `Config::read_budget`), until the turn has handed out
//!    `Config::turn_budget` messages (or `read_budget` bytes); the rest
//!    stay at the front of the queue for the next turn, and one read goes
//!    to the back.
//!
//! The light pass's writes are sent before the heavy pass begins. So a
//! light client's message, and its answer, never wait behind floods read
//! in the same turn, and a message that arrives during a turn waits for at
//! most the rest of that turn: one turn budget of flood messages, not one
//! per flooding connection. The floods keep one `epoll_wait` per turn budget
//! of messages (this is deficit round robin with the previous read as the
//! estimate of a connection's weight, and "light first" as
//! shortest-job-first).

use super::sources::{Source, Stream};
use super::Driver;

/// Messages per read below which a connection counts as light.
pub(super) const LIGHT_MESSAGES: usize = 4;
/// Bytes per read below which a connection counts as light.
pub(super) const LIGHT_BYTES: u64 = 4096;

/// How much a read may hand its protocol.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Share {
    /// A light connection read at once: at most [`LIGHT_MESSAGES`].
    Light,
    /// A heavy connection's turn: its whole per-turn budget.
    Full,
}

impl Share {
    /// The message budget of a read whose connection may hand out `per_turn`.
    pub(super) fn messages(self, per_turn: usize) -> usize {
        match self {
            Share::Light => per_turn.clamp(1, LIGHT_MESSAGES),
            Share::Full => per_turn.max(1),
        }
    }
}

/// What one read handed its protocol.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub(super) struct Served {
    pub(super) messages: usize,
    pub(super) bytes: u64,
}

impl Served {
    fn is_light(self) -> bool {
        self.messages < LIGHT_MESSAGES && self.bytes < LIGHT_BYTES
    }
}

/// Queues stream `i` to be read in the heavy pass (once).
pub(super) fn carry(queue: &mut std::collections::VecDeque<(usize, u64)>, i: usize, s: &mut Stream) {
    if !s.carried {
        s.carried = true;
        queue.push_back((i, s.conn.0));
    }
}

impl Driver {
    /// Stream `i` has input: a light one is read now, a heavy one queued.
    pub(super) fn input_ready(&mut self, i: usize) {
        let Some(s) = self.sources.stream(i) else { return };
        s.readable = true;
        if s.carried {
            return; // already queued: that read takes this input too
        }
        if s.heavy {
            return carry(&mut self.carry, i, s);
        }
        self.read_share(i, Share::Light);
    }

    /// Reads stream `i` with `share` and notes whether it is heavy now.
    fn read_share(&mut self, i: usize, share: Share) -> Served {
        let Some(s) = self.sources.stream(i) else { return Served::default() };
        let conn = s.conn;
        let bytes_before = self.counts.bytes_in;
        let messages = self.read(i, share);
        let served = Served { messages, bytes: self.counts.bytes_in - bytes_before };
        if let Some(s) = self.sources.stream_of(i, conn) {
            s.heavy = s.carried || !served.is_light();
        }
        served
    }

    /// The heavy pass: reads (and accepts) from the queue's front until
    /// the turn budget is spent; at least one source is served.
    pub(super) fn run_carried(&mut self) {
        let (mut messages, mut bytes) = (0usize, 0u64);
        // Those queued again in this pass wait for the next turn.
        for _ in 0..self.carry.len() {
            if messages >= self.config.turn_budget.max(1) || bytes >= self.config.read_budget as u64 {
                break;
            }
            let Some((i, key)) = self.carry.pop_front() else { break };
            match self.sources.slots.get_mut(i) {
                Some(Some(Source::Listener(l))) if l.id.0 == key => self.accept(i),
                Some(Some(Source::Stream(s))) if s.conn.0 == key => {
                    s.carried = false;
                    let served = self.read_share(i, Share::Full);
                    messages += served.messages;
                    bytes += served.bytes;
                }
                _ => {}
            }
        }
    }
}
