//! WebSockets on the reactor thread: after the gateway has answered the
//! upgrade, the socket itself comes here ([`Handoff`]) and is one more
//! stream of the mio loop, whose framing is tungstenite's
//! [`WebSocketContext`] (RFC 6455: masking, fragmentation, UTF-8 checks,
//! ping/pong, the close handshake, size limits) run without I/O of its own:
//! the bytes the loop reads are fed to it, and the frames it writes are
//! gathered and sent with the stream's ordinary buffered writes. A message
//! goes socket → frames → `message_received` → `send` → frames → socket on
//! one thread, like a line through `LineReceiver`.
//!
//! ```text
//!   readable ─► read(64 KiB) ─► ctx.read ─► Message ─► reactor.handle_message ─► protocol
//!                               (pongs and close replies go out by themselves)
//!   Effect::Send ─► Frames::message ─► frames gathered per connection ─► flushed once per loop
//!                   (header + payload,             (or at the high-water mark) ─► write / writev
//!                    large ones not copied)
//! ```
//!
//! Back-pressure is the stream's: past the high-water mark the protocol
//! pauses reading, and then bytes already read but not yet parsed wait in
//! the connection (one read's worth at most) while the kernel holds the rest.
//! Fairness is per read, as for bytes (`Config::read_budget`): a connection
//! hands its protocol at most `messages_per_turn` messages a read (a light
//! share when it is read ahead of the others, see
//! [`fairness`](super::fairness)); what it read past them waits in the
//! connection, and it is read again after the others, so a flood of small
//! messages cannot hold the reactor.
//! Idle connections are closed (1000, "idle timeout"), a close the
//! protocol asks for sends 1000 (1001 while shutting down) and waits for the
//! client's reply within the close timeout; a message over the limit closes
//! with 1009, bad UTF-8 with 1007, other protocol errors with 1002.

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use mio::{Interest, Token};
use tungstenite::error::Error as WsError;
use tungstenite::protocol::WebSocketContext;
use tungstenite::Message as WsMessage;
use twine_core::defer::{Failure, FailureKind};
use twine_core::protocol::{ConnectionId, ConnectionKind, Message, Protocol};
use twine_core::Time;

use super::fairness::{carry, Share};
use super::io::ReadEnd;
use super::sources::{Source, Stream};
use super::{Control, Driver};
use crate::gateway::stats::GatewayStats;
use crate::ws_framing::{close_for, close_frame, code, server_context, FrameTracker, Frames};

/// The limits and counters every WebSocket of one gateway shares.
pub(crate) struct WsSettings {
    /// The largest message (and frame) a client may send.
    pub(crate) max_message: usize,
    /// Bytes of tungstenite's read buffer per connection.
    pub(crate) read_buffer: usize,
    /// Close a client silent (both ways) for this long; `None`: never.
    pub(crate) idle_timeout: Option<Duration>,
    /// How long to wait for the client's close reply.
    pub(crate) close_timeout: Duration,
    /// Messages one connection hands its protocol per turn at most.
    pub(crate) messages_per_turn: usize,
    /// The gateway's counters (closed for size, idle, protocol errors).
    pub(crate) stats: Arc<GatewayStats>,
}

/// Builds the protocol a WebSocket hosts, on the reactor thread.
pub(crate) type BuildProtocol = Box<dyn FnOnce() -> Box<dyn Protocol> + Send>;

/// An upgraded WebSocket on its way to a reactor.
pub(crate) struct Adopted {
    /// The socket, non-blocking, after the 101 response.
    pub(crate) sock: std::net::TcpStream,
    /// Bytes the HTTP server read past the request: the client's first frames.
    pub(crate) early: Bytes,
    pub(crate) peer: SocketAddr,
    pub(crate) local: SocketAddr,
    pub(crate) settings: Arc<WsSettings>,
    pub(crate) build: BuildProtocol,
    /// Held while the WebSocket is open (its `--max-connections` slot).
    pub(crate) guard: Box<dyn Send>,
}

/// The queue through which the gateway hands upgraded sockets to one
/// reactor: a push and a wake, no per-message traffic.
#[derive(Default)]
pub(crate) struct Handoffs {
    queue: Mutex<Vec<Adopted>>,
    pending: AtomicBool,
}

/// What the gateway holds to give a reactor its WebSockets. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Handoff {
    control: Arc<Control>,
}

impl Handoff {
    pub(crate) fn new(control: Arc<Control>) -> Handoff {
        Handoff { control }
    }

    /// Gives the reactor a WebSocket; it is adopted in the loop's next turn.
    pub(crate) fn adopt(&self, adopted: Adopted) {
        let handoffs = &self.control.handoffs;
        handoffs.queue.lock().unwrap_or_else(|e| e.into_inner()).push(adopted);
        handoffs.pending.store(true, Ordering::Release);
        let _ = self.control.waker.wake();
    }
}

/// One WebSocket's framing state, beside its stream.
pub(super) struct WsState {
    ctx: WebSocketContext,
    /// Frames not yet handed to the stream.
    out: Frames,
    /// Bytes read but not parsed because the protocol paused reading.
    held: Vec<u8>,
    /// The framing holds no whole frame (it said `WouldBlock` when last
    /// asked, or `fed` says it holds nothing), so with nothing held there
    /// is nothing to ask it for (each ask costs it a read-buffer fill).
    framing_idle: bool,
    /// The frames in the bytes the framing has read: whether it holds any.
    fed: FrameTracker,
    /// In the driver's list of connections to flush.
    dirty: bool,
    settings: Arc<WsSettings>,
    /// The last time a message went either way, by the loop's clock (read
    /// once per loop iteration: no clock read per message).
    last_active: Time,
    /// A close frame went out: the deadline for the client's reply.
    closing: Option<Instant>,
    /// A protocol error: what the client sends now is discarded.
    failed: bool,
    /// After a protocol error, our side is shut once the close frame is out.
    write_shut: bool,
    _guard: Box<dyn Send>,
}

/// After a protocol error our close frame is the last thing we send: once
/// it is out, shut our side, so the client sees its end (RFC 6455 7.1.1: the
/// server closes the TCP connection first). The client's reply is read and
/// discarded until its end-of-file, or the close timeout drops it. (Reading
/// the reply through the framing is not safe: after some errors, a frame too
/// large among them, tungstenite's reader is left in a state that panics.)
pub(super) fn shut_if_failed(s: &mut Stream) {
    let pending = s.pending();
    let Some(ws) = s.ws.as_deref_mut() else { return };
    if ws.failed && !ws.write_shut && ws.out.is_empty() && pending == 0 {
        ws.write_shut = true;
        let _ = s.sock.shutdown(std::net::Shutdown::Write);
    }
}

fn from_ws(message: WsMessage) -> Option<Message> {
    match message {
        // tungstenite checked the UTF-8 (RFC 6455 8.1): not checked again.
        WsMessage::Text(text) => Some(Message::text_from_checked_bytes(text.into())),
        WsMessage::Binary(data) => Some(Message::binary(data)),
        _ => None,
    }
}

impl Driver {
    /// Adopts the WebSockets the gateway handed over since the last look.
    pub(super) fn adopt_websockets(&mut self) {
        if !self.control.handoffs.pending.swap(false, Ordering::AcqRel) {
            return;
        }
        let adopted = std::mem::take(&mut *self.control.handoffs.queue.lock().unwrap_or_else(|e| e.into_inner()));
        for a in adopted {
            self.adopt(a);
        }
    }

    fn adopt(&mut self, a: Adopted) {
        let Adopted { sock, early, peer, local, settings, build, guard } = a;
        if self.shutdown.is_some() {
            return; // dropping the socket closes it: the server is going away
        }
        let mut sock = mio::net::TcpStream::from_std(sock);
        let ctx = server_context(settings.read_buffer, settings.max_message);
        let every = [settings.idle_timeout.unwrap_or(Duration::MAX), settings.close_timeout]
            .into_iter()
            .min()
            .unwrap_or(Duration::MAX)
            .checked_div(4)
            .unwrap_or(Duration::MAX)
            .clamp(Duration::from_millis(10), Duration::from_secs(1));
        self.ws_sweep_every = self.ws_sweep_every.min(every);
        let token = self.sources.free.last().copied().unwrap_or(self.sources.slots.len());
        if let Err(e) = self.poll.registry().register(&mut sock, Token(token), Interest::READABLE | Interest::WRITABLE)
        {
            tracing::warn!("cannot register the WebSocket from {peer}: {e}");
            return;
        }
        let conn = self.reactor.open_connection(self.now, build(), ConnectionKind::Message, peer, local);
        self.counts.connections_total += 1;
        let mut stream = Stream::new(conn, sock, None);
        stream.ws = Some(Box::new(WsState {
            ctx,
            out: Frames::default(),
            held: Vec::new(),
            framing_idle: true,
            fed: FrameTracker::default(),
            dirty: false,
            settings,
            last_active: self.now,
            closing: None,
            failed: false,
            write_shut: false,
            _guard: guard,
        }));
        let i = self.sources.insert(Source::Stream(stream));
        debug_assert_eq!(i, token);
        self.conns.insert(conn, i);
        self.ws_open += 1;
        self.ticker.set(Some(self.ws_sweep_every));
        self.apply_effects();
        if !early.is_empty() {
            let mut budget = self.ws_message_budget(i, Share::Full);
            self.ws_input(i, conn, &early, &mut budget);
        }
        // Frames may have come before the socket was registered: look now.
        if self.sources.stream_of(i, conn).is_some() {
            self.input_ready(i);
        }
    }

    /// Messages a connection may hand its protocol in one read of `share`.
    fn ws_message_budget(&mut self, i: usize, share: Share) -> usize {
        let ws = self.sources.stream(i).and_then(|s| s.ws.as_deref());
        ws.map_or(usize::MAX, |ws| share.messages(ws.settings.messages_per_turn))
    }

    /// Reads a WebSocket's socket: as `read` does for bytes, but through
    /// its framing. Returns how many messages it handed the protocol.
    pub(super) fn ws_read(&mut self, i: usize, share: Share) -> usize {
        let budget = self.ws_message_budget(i, share);
        let mut messages = budget;
        let Some(s) = self.sources.stream(i) else { return 0 };
        let conn = s.conn;
        if let Some(ws) = s.ws.as_deref_mut() {
            if !s.read_paused || ws.closing.is_some() {
                // Input held (paused, or past last turn's message budget)
                // goes first; even with none, the framing may hold whole
                // frames it read before, unless it last said `WouldBlock`.
                if !ws.held.is_empty() || !ws.framing_idle {
                    let held = std::mem::take(&mut ws.held);
                    self.ws_input(i, conn, &held, &mut messages);
                }
            }
        }
        let messages = std::cell::Cell::new(messages);
        let may_read = |s: &Stream| {
            s.ws.as_deref()
                .is_some_and(|ws| (!s.read_paused || ws.closing.is_some()) && ws.held.is_empty() && messages.get() > 0)
        };
        let end = self.read_loop(i, conn, may_read, |driver, data| {
            let mut left = messages.get();
            driver.ws_input(i, conn, data, &mut left);
            messages.set(left);
        });
        match end {
            ReadEnd::Gone => {}
            ReadEnd::Stopped => self.flush_websocket(i, conn),
            ReadEnd::EndOfFile => {
                self.flush_websocket(i, conn);
                self.end_of_file(i);
            }
        }
        budget - messages.get()
    }

    /// Parses `data` into messages for the protocol, until it is used up,
    /// the protocol pauses reading, or `messages` (this turn's budget) runs
    /// out: then the rest is held (and, for the budget, read next turn).
    fn ws_input(&mut self, i: usize, conn: ConnectionId, data: &[u8], messages: &mut usize) {
        let mut pos = 0;
        // The framing read all of `data` and holds nothing: asking it
        // again would only bring `WouldBlock`.
        let mut drained = false;
        loop {
            let Some(s) = self.sources.stream_of(i, conn) else { return };
            let paused = s.read_paused;
            let Some(ws) = s.ws.as_deref_mut() else { return };
            if ws.failed {
                return; // after a protocol error, only the close matters
            }
            if paused && ws.closing.is_none() {
                ws.held.extend_from_slice(&data[pos..]);
                return;
            }
            if *messages == 0 && ws.closing.is_none() {
                // This read's share is spent: the rest after the others.
                ws.held.extend_from_slice(&data[pos..]);
                return carry(&mut self.carry, i, s);
            }
            if drained {
                return;
            }
            let start = pos;
            let mut io = ws.out.io(data, pos);
            let result = ws.ctx.read(&mut io);
            pos = io.pos;
            if pos > start {
                ws.fed.feed(&data[start..pos]); // most asks take nothing new: whole frames were read before
            }
            ws.framing_idle = false;
            match result {
                Ok(message) => {
                    let Some(message) = from_ws(message) else { continue };
                    drained = ws.fed.message_returned() && pos == data.len();
                    ws.framing_idle = drained;
                    if ws.closing.is_some() {
                        continue; // the server is closing: no more messages for the protocol
                    }
                    ws.last_active = self.now;
                    self.counts.messages_in += 1;
                    self.counts.bytes_in += message.len() as u64;
                    *messages = messages.saturating_sub(1);
                    self.reactor.handle_message(self.now, conn, message);
                    self.apply_effects();
                }
                Err(WsError::Io(e)) if e.kind() == ErrorKind::WouldBlock => {
                    ws.fed.would_block();
                    ws.framing_idle = true;
                    return;
                }
                Err(WsError::ConnectionClosed | WsError::AlreadyClosed) => {
                    // The close handshake is over (the reply, if ours to send, is in `out`).
                    self.flush_websocket(i, conn);
                    self.close_when_flushed(i);
                    self.apply_effects();
                    return;
                }
                Err(e) => return self.ws_failed(i, conn, e),
            }
        }
    }

    /// A protocol error: close with the code it calls for, or drop the client.
    fn ws_failed(&mut self, i: usize, conn: ConnectionId, e: WsError) {
        let Some(s) = self.sources.stream_of(i, conn) else { return };
        let Some(ws) = s.ws.as_deref_mut() else { return };
        let close = close_for(&e);
        let stats = &ws.settings.stats;
        match close {
            Some((code::TOO_BIG, _)) => GatewayStats::bump(&stats.closed_too_big),
            Some(_) => GatewayStats::bump(&stats.protocol_errors),
            None => {}
        }
        ws.failed = true;
        ws.held = Vec::new();
        match close {
            Some((code, why)) => {
                tracing::debug!(?conn, "closing a WebSocket: {e}");
                self.ws_start_close(i, code, why);
            }
            None => {
                self.close_stream(i, Failure::new(FailureKind::ConnectionLost, e.to_string()));
                self.apply_effects();
            }
        }
    }

    /// Sends a close frame (once) and waits for the reply within the close timeout.
    pub(super) fn ws_start_close(&mut self, i: usize, code: u16, reason: &'static str) {
        let Some(s) = self.sources.stream(i) else { return };
        let conn = s.conn;
        let Some(ws) = s.ws.as_deref_mut() else { return };
        if ws.closing.is_some() {
            return;
        }
        ws.closing = Some(Instant::now() + ws.settings.close_timeout);
        let _ = ws.ctx.close(&mut ws.out.io(&[], 0), Some(close_frame(code, reason)));
        // Read on (even if paused) to find the reply.
        carry(&mut self.carry, i, s);
        self.flush_websocket(i, conn);
    }

    /// `Effect::Send` on a WebSocket: frame it into the connection's buffer.
    pub(super) fn ws_send(&mut self, i: usize, message: Message) {
        let Some(s) = self.sources.stream(i) else { return };
        let (conn, pending) = (s.conn, s.pending());
        let Some(ws) = s.ws.as_deref_mut() else { return };
        if ws.closing.is_some() || ws.failed {
            return;
        }
        let (text, len) = (message.is_text(), message.len());
        if !ws.out.message(&ws.ctx, text, message.into_bytes()) {
            return;
        }
        self.counts.messages_out += 1;
        self.counts.bytes_out += len as u64;
        ws.last_active = self.now;
        if ws.out.len() + pending > self.config.high_water {
            // Large enough to matter for back-pressure: out now, where the water marks are.
            self.flush_websocket(i, conn);
        } else if !ws.dirty {
            ws.dirty = true;
            self.ws_dirty.push((i, conn));
        }
    }

    /// `Effect::Close` on a WebSocket: the close handshake, 1001 while shutting down.
    pub(super) fn ws_close(&mut self, i: usize) {
        let shutting_down = self.shutdown.is_some() || self.metrics.is_shutting_down();
        let (code, reason) =
            if shutting_down { (code::GOING_AWAY, "server shutting down") } else { (code::NORMAL, "") };
        self.ws_start_close(i, code, reason);
    }

    /// Hands a connection's frames to its stream.
    fn flush_websocket(&mut self, i: usize, conn: ConnectionId) {
        let Some(s) = self.sources.stream_of(i, conn) else { return };
        let idle = s.pending() == 0;
        let Some(ws) = s.ws.as_deref_mut() else { return };
        ws.dirty = false;
        if ws.out.is_empty() {
            return;
        }
        let mut sent = 0;
        if idle {
            // The common case: straight from the frames, large payloads
            // from where they are, in one (vectored) write.
            match write_frames(&mut s.sock, &ws.out) {
                Ok(n) if n == ws.out.len() => {
                    ws.out.clear();
                    shut_if_failed(s);
                    return self.queue_drained(i);
                }
                Ok(n) => sent = n,
                Err(e) => {
                    ws.out = Frames::default();
                    self.lost(i, e);
                    return self.apply_effects();
                }
            }
        }
        // The socket is behind: the rest waits in the stream's buffer.
        let data = ws.out.take_after(sent);
        self.write(i, data);
        if let Some(s) = self.sources.stream_of(i, conn) {
            shut_if_failed(s);
        }
    }

    /// Flushes every WebSocket written to since the last flush.
    pub(super) fn flush_websockets(&mut self) {
        let mut dirty = Vec::new();
        while !self.ws_dirty.is_empty() {
            // Swapped, not taken: both lists keep their room (no allocation per pass).
            std::mem::swap(&mut dirty, &mut self.ws_dirty);
            for (i, conn) in dirty.drain(..) {
                self.flush_websocket(i, conn);
            }
            self.apply_effects();
        }
        if self.ws_dirty.capacity() < dirty.capacity() {
            self.ws_dirty = dirty;
        }
    }

    /// Closes idle WebSockets and drops those whose close reply is late.
    pub(super) fn ws_timers(&mut self) {
        if self.ws_open == 0 {
            return;
        }
        let now = self.loop_instant();
        if now < self.ws_next_sweep {
            return;
        }
        self.ws_next_sweep = now + self.ws_sweep_every;
        let mut idle = Vec::new();
        let mut late = Vec::new();
        for &i in self.conns.values() {
            let Some(Some(Source::Stream(s))) = self.sources.slots.get(i) else { continue };
            let Some(ws) = s.ws.as_deref() else { continue };
            match ws.closing {
                Some(deadline) if now >= deadline => late.push(i),
                Some(_) => {}
                None => {
                    if ws.settings.idle_timeout.is_some_and(|t| self.now.saturating_since(ws.last_active) >= t) {
                        idle.push(i);
                    }
                }
            }
        }
        for i in idle {
            if let Some(ws) = self.sources.stream(i).and_then(|s| s.ws.as_deref()) {
                GatewayStats::bump(&ws.settings.stats.closed_idle);
            }
            self.ws_start_close(i, code::NORMAL, "idle timeout");
        }
        for i in late {
            self.close_stream(i, Failure::new(FailureKind::ConnectionDone, "no close reply in time"));
        }
        self.apply_effects();
    }

    /// When the loop must wake next for WebSocket timers, unless the
    /// ticker wakes it for them.
    pub(super) fn ws_timer_due(&self) -> Option<Instant> {
        (self.ws_open > 0 && !self.ticker.armed()).then_some(self.ws_next_sweep)
    }

    /// The ticker fired: the sweep is due in this turn.
    pub(super) fn on_tick(&mut self) {
        self.ticker.take();
        self.ws_next_sweep = self.loop_instant();
    }

    /// The last WebSocket closed: no more sweeps to wake for.
    pub(super) fn ws_all_closed(&mut self) {
        self.ticker.set(None);
    }
}

/// [`Frames::write_to`] on a socket: `Ok(0)` when it takes nothing now.
fn write_frames(sock: &mut mio::net::TcpStream, frames: &Frames) -> std::io::Result<usize> {
    loop {
        match frames.write_to(sock) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(0),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

impl Stream {
    /// Whether input may wait in the connection itself, not in the kernel:
    /// a WebSocket's framing keeps what it read past the message it
    /// returned, a byte stream what it read past its turn's lines.
    pub(super) fn may_hold_input(&self) -> bool {
        self.ws.is_some() || !self.held.is_empty()
    }
}
