//! twine-core: Twisted's model of concurrency for Rust.
//!
//! One event-driven [`Reactor`] running callbacks; [`Deferred`](defer::Deferred)s
//! chaining results and errors; [`Protocol`](protocol::Protocol)s as state
//! machines over transports; and a thread pool for blocking work, reached only
//! through [`defer_to_thread`](threads::defer_to_thread) and
//! [`ReactorHandle::call_from_thread`].
//!
//! The crate is sans-IO: it never reads a clock, blocks, spawns a thread or
//! touches a socket. A driver does that and feeds the reactor: `twine serve`
//! drives it with mio and OS threads, the browser playground with a
//! deterministic simulation, and tests with [`task::Clock`].
//!
//! | module | Twisted counterpart |
//! |---|---|
//! | [`reactor`] | `twisted.internet.reactor` |
//! | [`defer`] | `twisted.internet.defer` |
//! | [`task`] | `twisted.internet.task` |
//! | [`threads`] | `twisted.internet.threads` |
//! | [`protocol`] | `twisted.internet.protocol` |
//! | [`protocols::basic`] | `twisted.protocols.basic` |
//! | [`testing`] | `twisted.internet.testing` |
//! | [`trace`] | (beyond Twisted) structured trace events |
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod defer;
pub mod protocol;
pub mod protocols;
pub mod reactor;
pub mod task;
pub mod testing;
pub mod threads;
mod time;
pub mod trace;

pub use reactor::{Reactor, ReactorHandle};
pub use time::Time;
