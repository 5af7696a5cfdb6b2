//! The driver's settings, with Twisted-like defaults.

use std::time::Duration;

use crate::per_ip::PerIpLimit;
use crate::pool::{DEFAULT_MAX_QUEUED, DEFAULT_THREADS};

/// How a [`ReactorThread`](crate::ReactorThread) runs. Start from
/// `Config::default()` and change what you need:
///
/// ```
/// use std::time::Duration;
/// use twine_native::Config;
///
/// let config = Config { threads: 4, shutdown_grace: Duration::from_secs(1), ..Config::default() };
/// assert_eq!(config.high_water, 64 * 1024);
/// ```
#[derive(Clone, Debug)]
pub struct Config {
    /// Pool threads for `defer_to_thread` (Twisted's default: 10).
    pub threads: usize,
    /// Jobs that may wait for a pool thread before the pool refuses more.
    pub max_queued_jobs: usize,
    /// Size of the one read buffer the reactor thread reads every socket into.
    pub read_buffer: usize,
    /// Bytes read from one connection per turn before the others get their turn.
    pub read_budget: usize,
    /// Lines (bytes up to a `\n`) one byte stream hands its protocol per
    /// turn at most, as `read_budget` bounds bytes: what it read past them
    /// waits in the connection for the next turn, after the others, so a
    /// flood of small messages gets its share of a turn and no more.
    /// Splitting a stream anywhere is safe for every protocol (TCP has no
    /// message boundaries); counting `\n` is how messages are estimated
    /// for the line protocols. At least 1.
    pub lines_per_turn: usize,
    /// Messages (lines, WebSocket messages) one turn's reads of heavy
    /// connections hand their protocols, all connections together, before
    /// the rest wait for the next turn (at least one connection is read a
    /// turn). A light client's message that arrives during a turn waits
    /// for at most this many (see the driver's fairness). At least 1.
    pub turn_budget: usize,
    /// Drop a connection that takes none of its pending output for this
    /// long (a client that does not read), logging why and returning its
    /// buffers; `None`: never (Twisted's behaviour).
    pub write_timeout: Option<std::time::Duration>,
    /// Connections open at once from one client address, shared with
    /// whatever else holds a clone (`twine serve` gives the gateway the
    /// same one); past it a new connection is told why and closed. `None`:
    /// no limit.
    pub per_ip: Option<PerIpLimit>,
    /// Connections accepted from one listener per turn.
    pub accept_budget: usize,
    /// Unsent bytes past which a connection's protocol hears `WaterMark::High`
    /// (and by default pauses reading its peer).
    pub high_water: usize,
    /// Unsent bytes at or below which a paused protocol hears `WaterMark::Low`.
    pub low_water: usize,
    /// Callbacks slower than this are logged and counted (asyncio's debug mode uses 100 ms).
    pub slow_call_threshold: Duration,
    /// How long a graceful shutdown waits for connections to flush and jobs
    /// to finish. Then connections are aborted, and every unfinished job's
    /// Deferred fails with `Cancelled` (a job already running on a thread
    /// cannot be interrupted; its result, if it comes, is dropped).
    pub shutdown_grace: Duration,
    /// How long the stopped reactor waits for pool threads still inside a job.
    pub join_timeout: Duration,
    /// Shut down gracefully on SIGINT and SIGTERM (a second one forces it).
    /// For the `twine` binary; leave it off when embedding.
    pub handle_signals: bool,
    /// The reactor thread's name.
    pub thread_name: String,
    /// Bind listeners with `SO_REUSEPORT`, so that several reactors can
    /// listen on one port and the kernel spreads connections over them.
    pub reuse_port: bool,
    /// Time zero of the reactor's clock (its trace's `t`, its timers).
    /// Reactors given the same origin tell time on one axis, so their
    /// traces can be drawn side by side (`twine serve --reactors N` gives
    /// them all one); `None`: when the reactor starts.
    pub clock_origin: Option<std::time::Instant>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            threads: DEFAULT_THREADS,
            max_queued_jobs: DEFAULT_MAX_QUEUED,
            read_buffer: 64 * 1024,
            read_budget: 256 * 1024,
            lines_per_turn: 64,
            turn_budget: 64,
            write_timeout: None,
            per_ip: None,
            accept_budget: 128,
            high_water: 64 * 1024,
            low_water: 16 * 1024,
            slow_call_threshold: Duration::from_millis(50),
            shutdown_grace: Duration::from_secs(2),
            join_timeout: Duration::from_secs(1),
            handle_signals: false,
            thread_name: "twine-reactor".to_owned(),
            reuse_port: false,
            clock_origin: None,
        }
    }
}
