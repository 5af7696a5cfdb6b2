//! Test doubles for protocols and reactor code: Twisted's
//! `twisted.internet.testing` (once `proto_helpers`). They are for twine's
//! users as much as for twine: test your own protocols with them.
//!
//! - [`StringTransport`]: one connection that records what a protocol does
//!   to it (writes, messages, closes, pauses). Call the protocol's methods
//!   yourself. The quickest way to test a protocol.
//! - [`MemoryReactor`]: a real [`Reactor`](crate::Reactor) driven in memory
//!   with a manual clock. It plays the driver: binds listeners, accepts fake
//!   clients, connects clients to listeners in the same reactor (with an
//!   optional one-way latency), delivers bytes and messages, closes
//!   connections, and records everything the reactor asked for.
//! - [`feed_chunked`] and [`chunks`]: deliver bytes cut at chosen places, to
//!   check a protocol does not care how the stream is split.
//! - [`MessageRecorder`]: a protocol to put under a framing receiver; it
//!   records the messages delivered, and tries a line receiver's raw mode.
//!
//! ```
//! use twine_core::protocol::Protocol;
//! use twine_core::protocols::{Echo, LineEcho};
//! use twine_core::testing::{feed_chunked, StringTransport};
//!
//! let t = StringTransport::new();
//! let mut echo = LineEcho::new(Echo);
//! t.make_connection(&mut echo);
//! feed_chunked(&mut echo, t.transport(), b"one\r\ntwo\r\n", std::iter::repeat(1)); // byte by byte
//! assert_eq!(t.value(), b"one\r\ntwo\r\n");
//! ```

mod chunks;
mod memory;
mod recorder;
mod string_transport;

pub use chunks::{chunks, feed_chunked, Chunks};
pub use memory::{CloseRequest, ConnectAttempt, MemoryReactor};
pub use recorder::{MessageRecorder, Received};
pub use string_transport::StringTransport;
