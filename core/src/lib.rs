//! twine-core: Twisted's model of concurrency for Rust.
//!
//! One event-driven [`Reactor`] running callbacks (driven through its
//! other face, [`ReactorDriver`]); [`Deferred`](defer::Deferred)s
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
//!
//! # Layers
//!
//! The modules form a one-way stack, read bottom-up; a module names only
//! its own layer and those below (a test, `layers.rs`, fails otherwise):
//!
//! 1. `time` ([`Time`], [`ReactorTime`]) and [`trace`];
//! 2. [`defer`]: Deferreds know no reactor, as Twisted's `defer.py` knows
//!    only `IReactorTime`. Timeouts take any [`ReactorTime`]; trace events
//!    and unhandled errors go to an observer the reactor registers;
//! 3. [`reactor`]: the loop, its timers, inbox and system events, and
//!    connections as ids, effects and write buffers. What it hosts reaches
//!    it through small traits it defines and the layer above fills: a
//!    protocol on a connection, jobs on a pool (kept in reactor-local
//!    storage by [`threads`]). Its two faces: [`Reactor`], what callbacks
//!    get, and [`ReactorDriver`], what a driver holds;
//! 4. [`threads`] (`defer_to_thread` and the pool contract its driver
//!    fills), [`task`] (`LoopingCall`, `Cooperator`,
//!    [`ensure_deferred`](task::ensure_deferred), which needs the reactor
//!    to poll futures, so it lives here rather than in `defer`) and
//!    [`protocol`] (protocols, factories, transports, `listen_tcp` and
//!    `connect_tcp`: Twisted's `tcp.py` sits above its reactor core too);
//! 5. [`protocols`]: ready-made protocols;
//! 6. [`testing`]: fakes built from everything below.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod defer;
#[cfg(test)]
mod layers;
pub mod protocol;
pub mod protocols;
pub mod reactor;
pub mod task;
pub mod testing;
pub mod threads;
mod time;
pub mod trace;

pub use reactor::{Reactor, ReactorDriver, ReactorHandle};
pub use time::{ReactorTime, ScheduledCall, Time};
