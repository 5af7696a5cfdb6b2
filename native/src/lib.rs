//! twine-native: the native driver for [`twine_core`].
//!
//! twine-core's reactor is a sans-IO state machine; this crate runs it for
//! real: one reactor thread over [mio](https://docs.rs/mio) with TCP
//! listeners and streams ([`driver`](crate::ReactorThread)), an OS
//! [thread pool](pool) behind `defer_to_thread`, [`blocking_call_from_thread`](blocking),
//! [metrics] for the reactor's health, graceful shutdown on
//! SIGINT/SIGTERM, and WebSockets hosted on the reactor thread itself
//! (framing included). The `twine` binary ([`cli`]) serves the [WebSocket gateway](gateway)
//! with the playground and Twisted's TCP line echo.
//!
//! Start a reactor in-process with [`ReactorThread::spawn`]:
//!
//! ```
//! use std::time::Duration;
//! use twine_core::threads::defer_to_thread;
//! use twine_native::blocking::blocking_call_deferred_from_thread;
//! use twine_native::{Config, ReactorThread};
//!
//! let (server, ()) = ReactorThread::spawn(Config::default(), |_| Ok(())).unwrap();
//! let handle = server.handle().clone();
//! // From another thread: ask the reactor to run a job on its pool and wait for it.
//! let sum = std::thread::spawn(move || {
//!     blocking_call_deferred_from_thread(&handle, |reactor| defer_to_thread(reactor, || (1..=100u32).sum::<u32>()))
//! });
//! assert_eq!(sum.join().unwrap().unwrap(), 5050);
//! server.shutdown();
//! assert!(server.join().is_clean());
//! ```
//!
//! # Building a gateway on this crate
//!
//! The WebSocket gateway (axum on its own tokio runtime) embeds the reactor
//! and gives it each upgraded WebSocket:
//!
//! 1. Start the reactor with [`ReactorThread::spawn`]. In the setup closure
//!    (on the reactor thread) install a trace sink
//!    (`setup.reactor().set_trace_sink(..)`, a sink that never blocks), TCP
//!    listeners ([`Setup::listen_tcp`]), and an [`on_shutdown`](Setup::on_shutdown)
//!    hook that tells axum to stop (a tokio `oneshot`, say). Return anything
//!    `Send` the gateway needs (bound addresses). Set
//!    [`Config::handle_signals`] in the binary so SIGINT/SIGTERM start the
//!    graceful shutdown. [`gateway::GatewayLink::install`] does the gateway's part.
//! 2. Per upgraded WebSocket, the gateway answers 101 and hands the socket
//!    (with any bytes already read) to the reactor, which frames it with
//!    tungstenite and hosts the core protocol (`Echo`, `Chat`, ...) on it:
//!    from then on the socket is the reactor's, like an accepted TCP stream.
//! 3. `/metrics`: [`ReactorThread::metrics`] gives a
//!    [`MetricsSnapshot`](metrics::MetricsSnapshot) with
//!    [`to_prometheus`](metrics::MetricsSnapshot::to_prometheus); append the
//!    gateway's own lines (dropped trace events, ...).
//! 4. On shutdown the driver closes every connection (TCP and WebSocket),
//!    waits up to [`Config::shutdown_grace`] for flushes and jobs, stops,
//!    and [`ReactorThread::join`] returns a [`ShutdownReport`].
#![warn(missing_docs)]

pub mod blocking;
pub mod cli;
mod config;
mod driver;
mod fd_limit;
pub mod gateway;
pub mod metrics;
mod per_ip;
pub mod pool;
mod reactor_thread;
pub mod run;
pub mod ws_framing;

pub use config::Config;
pub use driver::ShutdownReport;
pub use per_ip::{IpPlace, PerIpLimit};
pub use reactor_thread::{ReactorThread, Setup};

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeExamples;
