//! External message connections: a connection whose socket lives on another
//! thread (a WebSocket served by axum on tokio), hosting a core
//! [`Protocol`](twine_core::protocol::Protocol) on the reactor.
//!
//! The reactor thread owns the protocol; the other thread owns the client.
//! They meet in a [`MessageConnection`], which carries both directions and
//! the back-pressure between them:
//!
//! ```text
//!   external thread (WebSocket task)            reactor thread
//!   ───────────────────────────────            ──────────────────────────────────────
//!   conn.deliver(msg) ──► incoming queue ──►   one inbox call per batch:
//!                          (wakes the reactor   protocol.message_received(msg) ...
//!                           on empty→non-empty)  (up to messages_per_turn; the rest
//!                                                next turn, after the others)
//!   conn.recv() ◄──────── outgoing queue ◄──   Effect::Send / Close / Abort
//!                          (bounded, bytes;     (the consumer is woken once, after the
//!                           woken once a turn)   driver has applied the turn's effects)
//!                                               ▲ full? the driver keeps an overflow
//!                                               │ and tells the protocol WaterMark::High
//!   room again (≤ half) ─► inbox call "flush" ──┘ drained: WaterMark::Low
//!   conn.read_ready() waits while the protocol paused reading (Effect::PauseReading)
//!                         or the incoming queue is over its limit
//! ```
//!
//! What the external side must do, in its reader and writer tasks:
//!
//! - **Reader**: before reading the next message from its client, await
//!   [`read_ready`](MessageConnection::read_ready) (or poll
//!   [`poll_read_ready`](MessageConnection::poll_read_ready)); then
//!   [`deliver`](MessageConnection::deliver) it. A reader that takes several
//!   messages from one socket read queues them with
//!   [`deliver_held`](MessageConnection::deliver_held) and hands them over
//!   together with [`flush_deliveries`](MessageConnection::flush_deliveries)
//!   (one inbox call, at most one reactor wake-up). When the client goes
//!   away, call [`peer_closed`](MessageConnection::peer_closed).
//! - **Writer**: take [`Outgoing`] items with
//!   [`recv_many`](MessageConnection::recv_many) (a batch: write them all,
//!   then flush once) or [`recv`](MessageConnection::recv). A
//!   [`Message`](Outgoing::Message) goes to the client;
//!   [`Close`](Outgoing::Close) means "close cleanly after what came before";
//!   [`Abort`](Outgoing::Abort) means "drop the client now". `None` means
//!   the connection is over.
//!
//! Memory stays bounded whatever the client does: outgoing bytes wait in the
//! bounded queue, and past it in the driver's overflow only while the
//! protocol is being told to stop (the default protocol behaviour pauses
//! reading, which stops `read_ready`, which stops the reader).
//!
//! Every connection gets exactly one `connection_lost` on the reactor side:
//! when the external side calls `peer_closed` (or drops its last handle), or
//! when the protocol's `Close`/`Abort` reaches the outgoing queue.
//!
//! ```
//! use std::time::Duration;
//! use twine_core::protocol::Message;
//! use twine_core::protocols::Echo;
//! use twine_native::external::{MessageConnection, MessageConnectionOptions, Outgoing};
//! use twine_native::{Config, ReactorThread};
//!
//! let (server, ()) = ReactorThread::spawn(Config::default(), |_| Ok(())).unwrap();
//! let conn = MessageConnection::open(server.handle(), MessageConnectionOptions::default(), || Box::new(Echo));
//! conn.deliver(Message::text("hello")).unwrap();
//! let echoed = conn.recv_timeout(Duration::from_secs(5)).unwrap();
//! assert!(matches!(echoed, Outgoing::Message(m) if m.as_text() == Some("hello")));
//! conn.peer_closed(None);
//! ```

mod connection;
mod queues;
mod registry;

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};

use twine_core::protocol::Message;

pub use connection::MessageConnection;
pub(crate) use registry::{apply_effect, close_all, counts, set_shutting_down, wake_consumers};

/// What the reactor sends to the external side of a message connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outgoing {
    /// One message for the client (text stays text, binary stays binary).
    Message(Message),
    /// Close the client cleanly, after the messages received before this.
    Close,
    /// Drop the client now; anything unsent was discarded.
    Abort,
}

impl Outgoing {
    pub(crate) fn weight(&self) -> usize {
        match self {
            Outgoing::Message(m) => m.len(),
            Outgoing::Close | Outgoing::Abort => 0,
        }
    }
}

/// Sizes and addresses of a message connection.
#[derive(Clone, Debug)]
pub struct MessageConnectionOptions {
    /// The client's address, as the protocol's transport reports it.
    pub peer: SocketAddr,
    /// The server's address, as the protocol's transport reports it.
    pub local: SocketAddr,
    /// Outgoing message bytes the queue holds before the driver keeps the
    /// rest in its overflow and reports `WaterMark::High`. One message is
    /// always accepted into an empty queue, whatever its size.
    pub outgoing_limit: usize,
    /// Incoming message bytes waiting for the reactor before
    /// [`read_ready`](MessageConnection::read_ready) holds the reader back.
    pub incoming_limit: usize,
    /// Messages the protocol handles from this connection in one inbox
    /// call; the rest wait for the next turn, behind the other connections
    /// (as a TCP connection's reads stop at `Config::read_budget` bytes), so
    /// a flood of small messages cannot hold the reactor for the others.
    pub messages_per_turn: usize,
}

impl Default for MessageConnectionOptions {
    fn default() -> Self {
        let loopback = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        MessageConnectionOptions {
            peer: loopback,
            local: loopback,
            outgoing_limit: 256 * 1024,
            incoming_limit: 256 * 1024,
            messages_per_turn: 64,
        }
    }
}

/// Why [`deliver`](MessageConnection::deliver) refused a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionClosed;

impl fmt::Display for ConnectionClosed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the message connection is closed")
    }
}

impl std::error::Error for ConnectionClosed {}

/// Why [`recv_timeout`](MessageConnection::recv_timeout) or
/// [`try_recv`](MessageConnection::try_recv) returned nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecvError {
    /// Nothing arrived (in time).
    Empty,
    /// The connection is over: nothing more will come.
    Closed,
}
