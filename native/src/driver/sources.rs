//! The sockets the driver owns, indexed by their mio token.

use mio::net::{TcpListener, TcpStream};
use twine_core::protocol::ConnectionId;
use twine_core::reactor::ListenerId;

use super::backoff::AcceptBackoff;
use super::connect::Connecting;
use super::websocket::WsState;

pub(crate) use twine_core::reactor::IdMap;

pub(super) struct Listener {
    pub(super) id: ListenerId,
    pub(super) sock: TcpListener,
    /// Accepting failed (out of fds, say): not polled until the retry time.
    pub(super) backoff: Option<AcceptBackoff>,
}

/// One TCP connection: accepted, or made for a `connect_tcp`.
pub(super) struct Stream {
    pub(super) conn: ConnectionId,
    pub(super) sock: TcpStream,
    /// Connecting: the deadline and the address; `None` once connected.
    pub(super) connecting: Option<Connecting>,
    /// Bytes not yet taken by the kernel: `out[sent..]`.
    pub(super) out: Vec<u8>,
    pub(super) sent: usize,
    /// The kernel may have bytes for us (not yet read to `WouldBlock`).
    pub(super) readable: bool,
    /// The peer shut its side: read to end-of-file whatever the size of reads.
    pub(super) read_closed: bool,
    pub(super) read_paused: bool,
    /// Close once `out` is sent (`lose_connection`, or end-of-file).
    pub(super) closing: bool,
    pub(super) above_high: bool,
    /// Queued to be read again after the other connections.
    pub(super) carried: bool,
    /// Its last read handed its protocol a light share's worth or more:
    /// its next input waits in the queue behind the light connections
    /// ([`fairness`](super::fairness)).
    pub(super) heavy: bool,
    /// The reactor asked to hear when its writes were all sent (a producer
    /// is registered: [`Effect::ReportDrained`](twine_core::reactor::Effect::ReportDrained)).
    pub(super) report_drained: bool,
    /// Queued to tell the reactor its writes were all sent.
    pub(super) drain_queued: bool,
    /// Has writes of this turn waiting for its end ([`Driver::flush_turn_writes`](super::Driver::flush_turn_writes)).
    pub(super) flush_queued: bool,
    /// A WebSocket: its framing (then the byte counts are message bytes, not wire bytes).
    pub(super) ws: Option<Box<WsState>>,
    /// `out[..exempt_end]` is one large WebSocket message, out of the water marks' count.
    pub(super) exempt_end: usize,
    /// A byte stream's input read past its turn's line budget, handed to
    /// its protocol first next turn (at most one read's worth).
    pub(super) held: Vec<u8>,
    /// Output has been waiting since this time without the kernel taking
    /// any (see [`write_timeout`](super::write_timeout)); `None` while the
    /// stream keeps up.
    pub(super) stalled_since: Option<std::time::Instant>,
    /// What the kernel still held to send at the last write-timeout sweep.
    pub(super) kernel_queued: Option<usize>,
    /// In the write timeout's list (once, however often its clock starts).
    pub(super) watched: bool,
    /// Its place under the per-address connection limit, if there is one.
    pub(super) _place: Option<crate::per_ip::IpPlace>,
}

impl Stream {
    pub(super) fn pending(&self) -> usize {
        self.out.len() - self.sent
    }

    /// The bytes the water marks see: what is pending, less the rest of a
    /// WebSocket message larger than the high-water mark that the kernel is
    /// taking (one such message may be in flight, as a WebSocket library's
    /// write buffer holds one: a client that sends a large message while the
    /// echo of the last one waits must still be read, or neither side moves).
    pub(super) fn level(&self) -> usize {
        self.out.len() - self.sent.max(self.exempt_end)
    }
}

pub(super) enum Source {
    Listener(Listener),
    Stream(Stream),
}

/// The sockets, indexed by their mio token.
#[derive(Default)]
pub(super) struct Sources {
    pub(super) slots: Vec<Option<Source>>,
    pub(super) free: Vec<usize>,
}

impl Sources {
    pub(super) fn insert(&mut self, source: Source) -> usize {
        match self.free.pop() {
            Some(i) => {
                self.slots[i] = Some(source);
                i
            }
            None => {
                self.slots.push(Some(source));
                self.slots.len() - 1
            }
        }
    }

    pub(super) fn remove(&mut self, i: usize) -> Option<Source> {
        let source = self.slots.get_mut(i)?.take();
        if source.is_some() {
            self.free.push(i);
        }
        source
    }

    pub(super) fn stream(&mut self, i: usize) -> Option<&mut Stream> {
        match self.slots.get_mut(i) {
            Some(Some(Source::Stream(s))) => Some(s),
            _ => None,
        }
    }

    /// The stream at `i`, if it is still connection `conn` (slots are reused).
    pub(super) fn stream_of(&mut self, i: usize, conn: ConnectionId) -> Option<&mut Stream> {
        self.stream(i).filter(|s| s.conn == conn)
    }
}
