//! One WebSocket bridged to a message connection on the reactor, driven by
//! one task that both reads and writes (no split halves: one future, one
//! waker, less memory per idle connection).

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Sink, Stream};
use tokio::time::{Instant, Sleep};
use tokio_tungstenite::tungstenite::error::{Error as WsError, ProtocolError};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Message as WsMessage, Utf8Bytes};
use twine_core::protocol::Message;

use super::stats::GatewayStats;
use super::upgrade::Socket;
use crate::external::{MessageConnection, Outgoing};
use crate::metrics::Metrics;

/// Outgoing items taken from the reactor per batch: written together, flushed once.
const BATCH: usize = 64;
/// Client messages read per poll before the task lets others run.
const READS_PER_POLL: usize = 64;
/// Messages, and bytes, read between checks of the protocol's readiness.
const RECHECK_EVERY: usize = 8;
const RECHECK_BYTES: usize = 16 * 1024;
/// A timer deadline that never comes: the idle timer without an idle timeout.
const NEVER: Duration = Duration::from_secs(365 * 24 * 3600);

/// RFC 6455 close codes the bridge sends.
pub(crate) mod code {
    pub(crate) const NORMAL: u16 = 1000;
    pub(crate) const GOING_AWAY: u16 = 1001;
    pub(crate) const PROTOCOL: u16 = 1002;
    pub(crate) const INVALID_DATA: u16 = 1007;
    pub(crate) const TOO_BIG: u16 = 1009;
    pub(crate) const INTERNAL: u16 = 1011;
}

pub(crate) struct Settings {
    pub(crate) idle_timeout: Option<Duration>,
    pub(crate) close_timeout: Duration,
}

/// Runs the bridge until the WebSocket is over.
pub(crate) async fn run(
    ws: Socket,
    conn: MessageConnection,
    metrics: Metrics,
    stats: Arc<GatewayStats>,
    settings: &Settings,
) {
    let mut bridge = Bridge {
        ws,
        conn,
        metrics,
        stats,
        out: Vec::new(),
        out_pos: 0,
        unflushed: false,
        reading: true,
        outgoing_done: false,
        told_reactor: false,
        closing: None,
        close_sent: false,
        close_timer_armed: false,
        wrote: false,
        last_active: Instant::now(),
        idle_timeout: settings.idle_timeout,
        close_timeout: settings.close_timeout,
    };
    let timer = tokio::time::sleep(settings.idle_timeout.unwrap_or(NEVER));
    tokio::pin!(timer);
    poll_fn(|cx| bridge.poll(cx, timer.as_mut())).await;
    bridge.tell_reactor(Some("the WebSocket ended".to_owned()));
}

struct Bridge {
    ws: Socket,
    conn: MessageConnection,
    metrics: Metrics,
    stats: Arc<GatewayStats>,
    /// A batch from the reactor, written up to `out_pos`.
    out: Vec<Outgoing>,
    out_pos: usize,
    unflushed: bool,
    /// The client's stream has not ended.
    reading: bool,
    /// Nothing more will come from the reactor.
    outgoing_done: bool,
    /// The reactor has been told the client went away (or it closed the connection itself).
    told_reactor: bool,
    /// A close frame to send (then wait for the client's reply, within the close timeout).
    closing: Option<CloseFrame>,
    close_sent: bool,
    /// The timer now counts the close timeout.
    close_timer_armed: bool,
    /// Messages were written since `last_active` was last set.
    wrote: bool,
    /// The last time a message went either way: idle means neither.
    last_active: Instant,
    idle_timeout: Option<Duration>,
    close_timeout: Duration,
}

/// How polling one side went.
enum Step {
    /// Nothing more to do until woken.
    Idle,
    /// The WebSocket is over: drop it.
    Done,
}

impl Bridge {
    fn poll(&mut self, cx: &mut Context<'_>, mut timer: Pin<&mut Sleep>) -> Poll<()> {
        if let Step::Done = self.poll_write(cx) {
            return Poll::Ready(());
        }
        match self.poll_read(cx) {
            Ok(Step::Done) => return Poll::Ready(()),
            Ok(Step::Idle) => {}
            Err(Yield) => {
                // Read a full share: write what the reads produced meanwhile, then let others run.
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
        }
        if self.closing.is_some() && !self.close_sent {
            // Reading ended in an error that asks for a close frame: send it now.
            if let Step::Done = self.poll_write(cx) {
                return Poll::Ready(());
            }
        }
        if !self.reading && (self.close_sent || self.closing.is_none()) && !self.unflushed {
            return Poll::Ready(());
        }
        self.poll_timer(cx, timer.as_mut())
    }

    /// Idle timeout while open; the close timeout once a close frame is out.
    fn poll_timer(&mut self, cx: &mut Context<'_>, mut timer: Pin<&mut Sleep>) -> Poll<()> {
        loop {
            if self.closing.is_some() && !self.close_timer_armed {
                self.close_timer_armed = true;
                timer.as_mut().reset(Instant::now() + self.close_timeout);
            }
            if timer.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            if self.closing.is_some() {
                // No close reply in time, or the close frame is stuck behind
                // a client that does not read.
                return Poll::Ready(());
            }
            let Some(idle) = self.idle_timeout else {
                timer.as_mut().reset(Instant::now() + NEVER);
                continue;
            };
            let due = self.last_active + idle;
            if Instant::now() >= due {
                GatewayStats::bump(&self.stats.closed_idle);
                self.start_close(code::NORMAL, "idle timeout");
                if let Step::Done = self.poll_write(cx) {
                    return Poll::Ready(());
                }
            } else {
                timer.as_mut().reset(due);
            }
        }
    }

    fn start_close(&mut self, code: u16, reason: &'static str) {
        if self.closing.is_none() {
            self.close_with(close_frame(code, reason));
        }
        self.tell_reactor(None);
    }

    /// Sends `frame` next, instead of anything the reactor still has for the client.
    fn close_with(&mut self, frame: CloseFrame) {
        self.closing = Some(frame);
        self.outgoing_done = true;
        self.out.clear();
        self.out_pos = 0;
    }

    /// Tells the reactor the client went away (once): cleanly, or with an error.
    fn tell_reactor(&mut self, error: Option<String>) {
        if !self.told_reactor {
            self.told_reactor = true;
            self.conn.peer_closed(error);
        }
    }

    /// Reads client messages while the protocol takes them. `Err(Yield)`
    /// when the share for this poll is used up.
    fn poll_read(&mut self, cx: &mut Context<'_>) -> Result<Step, Yield> {
        let mut read = 0;
        // Bytes delivered since the protocol's readiness was last checked.
        let mut unchecked: Option<usize> = None;
        while self.reading {
            // Back-pressure: leave the client's bytes in the socket while the
            // protocol cannot take more. Once closing, drain to find the reply.
            // Checked before the first read and then every few small messages
            // (or after any large one): a pause takes effect within a bounded
            // overshoot, without a lock per message.
            if self.closing.is_none()
                && unchecked.is_none_or(|bytes| bytes >= RECHECK_BYTES || read % RECHECK_EVERY == 0)
            {
                if self.conn.poll_read_ready(cx).is_pending() {
                    break;
                }
                unchecked = Some(0);
            }
            if read == READS_PER_POLL {
                self.conn.flush_deliveries();
                return Err(Yield);
            }
            match Pin::new(&mut self.ws).poll_next(cx) {
                Poll::Pending => break,
                Poll::Ready(None) => {
                    self.reading = false;
                    self.tell_reactor(None);
                }
                Poll::Ready(Some(Ok(message))) => {
                    read += 1;
                    unchecked = unchecked.map(|bytes| bytes + message.len());
                    self.on_message(message);
                }
                Poll::Ready(Some(Err(e))) => {
                    self.reading = false;
                    self.on_read_error(e);
                }
            }
        }
        if read > 0 {
            // What this poll read goes to the reactor in one inbox call.
            self.conn.flush_deliveries();
        }
        if read > 0 || std::mem::take(&mut self.wrote) {
            self.last_active = Instant::now();
        }
        Ok(Step::Idle)
    }

    fn on_message(&mut self, message: WsMessage) {
        let message = match message {
            WsMessage::Text(text) => {
                let bytes = Bytes::from(text);
                // tungstenite checked the UTF-8 already; this check cannot fail.
                Message::text_from_bytes(bytes.clone()).unwrap_or_else(|_| Message::binary(bytes))
            }
            WsMessage::Binary(data) => Message::binary(data),
            // tungstenite answers pings and the close handshake itself.
            WsMessage::Ping(_) | WsMessage::Pong(_) | WsMessage::Frame(_) => return,
            WsMessage::Close(_) => return self.tell_reactor(None),
        };
        if self.closing.is_none() && !self.told_reactor {
            // Err: the reactor closed the connection; its Close is on the way to the writer.
            // Held until the end of this poll's reads (see `poll_read`).
            let _ = self.conn.deliver_held(message);
        }
    }

    fn on_read_error(&mut self, e: WsError) {
        let close = close_for(&e);
        match close {
            Some((code::TOO_BIG, _)) => GatewayStats::bump(&self.stats.closed_too_big),
            Some(_) => GatewayStats::bump(&self.stats.protocol_errors),
            None => {}
        }
        self.tell_reactor(Some(e.to_string()));
        if let Some((code, why)) = close {
            self.close_with(close_frame(code, why));
        }
    }

    /// Moves what the protocol sent to the client; sends a pending close frame.
    fn poll_write(&mut self, cx: &mut Context<'_>) -> Step {
        loop {
            if self.out_pos == self.out.len() {
                self.out.clear();
                self.out_pos = 0;
                if self.outgoing_done {
                    break;
                }
                match self.conn.poll_recv_many(cx, &mut self.out, BATCH) {
                    Poll::Pending => {
                        // Idle: give the batch buffer back rather than keep it per connection.
                        if self.out.capacity() > 0 {
                            self.out = Vec::new();
                        }
                        break;
                    }
                    Poll::Ready(0) => {
                        self.outgoing_done = true;
                        if !self.told_reactor && self.closing.is_none() {
                            // The reactor ended the connection without a word
                            // (it is gone, or refused it): close the client.
                            let code = if self.metrics.is_shutting_down() { code::GOING_AWAY } else { code::INTERNAL };
                            self.told_reactor = true;
                            self.closing = Some(close_frame(code, "server unavailable"));
                        }
                        break;
                    }
                    Poll::Ready(_) => {}
                }
            }
            while self.out_pos < self.out.len() {
                match Pin::new(&mut self.ws).poll_ready(cx) {
                    Poll::Pending => return self.poll_flush(cx),
                    Poll::Ready(Err(_)) => return Step::Done,
                    Poll::Ready(Ok(())) => {}
                }
                let item = std::mem::replace(&mut self.out[self.out_pos], Outgoing::Abort);
                self.out_pos += 1;
                match item {
                    Outgoing::Message(message) => {
                        if Pin::new(&mut self.ws).start_send(to_ws(message)).is_err() {
                            return Step::Done;
                        }
                        self.unflushed = true;
                        self.wrote = true;
                    }
                    Outgoing::Close => {
                        // The protocol (or a shutdown) closed the connection.
                        self.told_reactor = true;
                        let (code, reason) = if self.metrics.is_shutting_down() {
                            (code::GOING_AWAY, "server shutting down")
                        } else {
                            (code::NORMAL, "")
                        };
                        self.close_with(close_frame(code, reason));
                    }
                    Outgoing::Abort => return Step::Done,
                }
            }
        }
        if let Some(frame) = self.closing.clone().filter(|_| !self.close_sent) {
            match Pin::new(&mut self.ws).poll_ready(cx) {
                Poll::Pending => return self.poll_flush(cx),
                Poll::Ready(Err(_)) => return Step::Done,
                Poll::Ready(Ok(())) => {}
            }
            if Pin::new(&mut self.ws).start_send(WsMessage::Close(Some(frame))).is_err() {
                return Step::Done;
            }
            self.close_sent = true;
            self.unflushed = true;
        }
        self.poll_flush(cx)
    }

    fn poll_flush(&mut self, cx: &mut Context<'_>) -> Step {
        if self.unflushed {
            match Pin::new(&mut self.ws).poll_flush(cx) {
                Poll::Ready(Ok(())) => self.unflushed = false,
                Poll::Ready(Err(_)) => return Step::Done,
                Poll::Pending => {}
            }
        }
        Step::Idle
    }
}

/// The share of reads for one poll is used up.
struct Yield;

fn to_ws(message: Message) -> WsMessage {
    if message.is_text() {
        match Utf8Bytes::try_from(message.into_bytes()) {
            Ok(text) => WsMessage::Text(text),
            Err(_) => WsMessage::Binary(Bytes::new()), // unreachable: core text is UTF-8
        }
    } else {
        WsMessage::Binary(message.into_bytes())
    }
}

/// The close code a read error calls for, if any (`None`: the socket is gone).
fn close_for(e: &WsError) -> Option<(u16, &'static str)> {
    match e {
        WsError::Capacity(_) => Some((code::TOO_BIG, "message too big")),
        WsError::Utf8(_) => Some((code::INVALID_DATA, "invalid UTF-8")),
        WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake) => None,
        WsError::Protocol(_) => Some((code::PROTOCOL, "protocol error")),
        _ => None,
    }
}

pub(crate) fn close_frame(code: u16, reason: &'static str) -> CloseFrame {
    CloseFrame { code: code.into(), reason: Utf8Bytes::from_static(reason) }
}
