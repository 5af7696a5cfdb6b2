//! The JSON shape of a scenario, as serde reads it. Unknown fields are
//! errors. Semantic checks (ranges, which steps may run where) happen when
//! the spec is compiled; see [`Scenario::from_json`](super::Scenario::from_json).

use serde::{Deserialize, Serialize};

/// A whole scenario file. Every field is optional.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioSpec {
    /// A short identifier (presets use their file name).
    #[serde(default)]
    pub name: Option<String>,
    /// A one-line title for people.
    #[serde(default)]
    pub title: Option<String>,
    /// What the scenario shows and what to look for.
    #[serde(default)]
    pub explanation: Option<String>,
    /// Named variations of this scenario (presets use them for comparisons).
    #[serde(default)]
    pub variants: Vec<VariantSpec>,
    /// The seed used when the runner gives none. Default 1.
    #[serde(default)]
    pub seed: Option<u64>,
    /// Stop the simulation at this virtual time. Default 60000 ms.
    #[serde(default)]
    pub duration_ms: Option<f64>,
    /// Stop after this many trace events. Default 2 000 000.
    #[serde(default)]
    pub max_events: Option<u64>,
    /// The simulated machine.
    #[serde(default)]
    pub machine: MachineSpec,
    /// The reactor's thread pool.
    #[serde(default)]
    pub pool: PoolSpec,
    /// Randomly scale every `cpu` duration by up to this fraction either
    /// way, and lengthen every `io` and `sleep` by up to it (a wait never
    /// ends early); 0 <= jitter < 1. Default 0: only the machine's noise.
    #[serde(default)]
    pub jitter: Option<f64>,
    /// Runs on the main thread before `reactor.run()`; reactor steps allowed.
    #[serde(default)]
    pub main: Vec<Step>,
    /// Plain threads, started at `start_ms`.
    #[serde(default)]
    pub threads: Vec<ThreadSpec>,
    /// The server: a protocol whose `message_received` runs `handler`.
    #[serde(default)]
    pub server: Option<ServerSpec>,
    /// Simulated clients sending requests to the server.
    #[serde(default)]
    pub clients: Option<ClientsSpec>,
}

/// A named variation: a JSON merge patch (RFC 7396) applied to the scenario.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariantSpec {
    /// Identifier, unique within the scenario.
    pub name: String,
    /// A one-line title.
    #[serde(default)]
    pub title: Option<String>,
    /// What this variant changes and what to look for.
    #[serde(default)]
    pub explanation: Option<String>,
    /// The merge patch: an object whose fields replace the scenario's
    /// (`null` removes one).
    pub patch: serde_json::Value,
}

/// The simulated machine.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MachineSpec {
    /// CPU cores (1 to 64). Default 4.
    pub cores: u32,
    /// The OS scheduler's round-robin time slice. Default 10 ms.
    pub time_slice_ms: f64,
    /// Whether a global interpreter lock serialises CPU work, as CPython's
    /// does. Default false (Rust threads, free-threaded Python).
    pub gil: bool,
    /// How long a thread waits for the GIL before asking its holder to drop
    /// it (CPython's `sys.getswitchinterval()`). Default 5 ms.
    pub switch_interval_ms: f64,
    /// CPU time of one counter step (`increment`, `read`, `write`). Default 50 ns.
    pub counter_op_ns: f64,
    /// A real machine's noise: OS wake-up latency after every timed wait and
    /// a few percent of CPU speed variation, drawn from the seed. Default true.
    pub noise: bool,
}

impl Default for MachineSpec {
    fn default() -> Self {
        MachineSpec {
            cores: 4,
            time_slice_ms: 10.0,
            gil: false,
            switch_interval_ms: 5.0,
            counter_op_ns: 50.0,
            noise: true,
        }
    }
}

/// The reactor's thread pool. Threads start on demand, up to `threads`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PoolSpec {
    /// Maximum pool threads (1 to 1024). Default 10, as Twisted's reactor pool.
    pub threads: u32,
}

impl Default for PoolSpec {
    fn default() -> Self {
        PoolSpec { threads: 10 }
    }
}

/// A plain thread (or `count` identical ones).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThreadSpec {
    /// Name; with `count` > 1 the threads are `name-1`, `name-2`, ...
    pub name: String,
    /// How many such threads. Default 1.
    #[serde(default)]
    pub count: Option<u32>,
    /// When the thread starts. Default 0.
    #[serde(default)]
    pub start_ms: Option<f64>,
    /// What it does; thread steps only.
    pub steps: Vec<Step>,
}

/// The server protocol.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSpec {
    /// Runs on the reactor thread for each request; `respond` answers it.
    pub handler: Vec<Step>,
}

/// Simulated clients: open loop (requests arrive whatever the server does)
/// or closed loop (each client waits for its answer, thinks, sends again).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum ClientsSpec {
    /// Requests arrive at a rate.
    Open(OpenLoopSpec),
    /// A fixed population of clients.
    Closed(ClosedLoopSpec),
}

/// Open-loop arrivals.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OpenLoopSpec {
    /// Mean requests per second.
    pub rate_per_s: f64,
    /// `poisson` (default) or `fixed` spacing.
    #[serde(default)]
    pub arrival: ArrivalSpec,
    /// Total requests; default: until `duration_ms`.
    #[serde(default)]
    pub requests: Option<u64>,
    /// Connections the requests are spread over, round robin. Default 1.
    #[serde(default)]
    pub connections: Option<u32>,
    /// When the first request is sent. Default 0.
    #[serde(default)]
    pub start_ms: Option<f64>,
    /// One-way network delay. Default 0.
    #[serde(default)]
    pub network_ms: Option<f64>,
}

/// How open-loop requests are spaced.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ArrivalSpec {
    /// Exponential gaps: a Poisson process.
    #[default]
    Poisson,
    /// Equal gaps.
    Fixed,
}

/// Closed-loop clients.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ClosedLoopSpec {
    /// How many clients (1 to 10000).
    pub clients: u32,
    /// Mean pause between an answer and the next request. Default 0.
    #[serde(default)]
    pub think_ms: Option<f64>,
    /// `fixed` (default) or `exponential` think times.
    #[serde(default)]
    pub think: ThinkSpec,
    /// Requests per client; default: until `duration_ms`.
    #[serde(default)]
    pub requests: Option<u64>,
    /// When clients start (each after a random part of one think time). Default 0.
    #[serde(default)]
    pub start_ms: Option<f64>,
    /// One-way network delay. Default 0.
    #[serde(default)]
    pub network_ms: Option<f64>,
}

/// How think times vary.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ThinkSpec {
    /// Always `think_ms`.
    #[default]
    Fixed,
    /// Exponentially distributed around `think_ms`.
    Exponential,
}

/// One step of a program. See the [module docs](super) for what each does
/// and where it may run.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    /// Burn CPU for this many milliseconds.
    Cpu(f64),
    /// Block in I/O for this many milliseconds.
    Io(f64),
    /// Sleep this many milliseconds.
    Sleep(f64),
    /// Add one to a counter in one step.
    Increment(String),
    /// Read a counter into this thread's register.
    Read(String),
    /// Write this thread's register for the counter, plus one.
    Write(String),
    /// Run steps holding a named lock.
    Lock(LockStep),
    /// Run steps several times.
    Repeat(RepeatStep),
    /// Print a line.
    Print(String),
    /// Raise a failure with this message.
    Fail(String),
    /// Handle a failure.
    Errback(Vec<Step>),
    /// Run steps on the pool; the rest of the list is the Deferred's callbacks.
    DeferToThread(Vec<Step>),
    /// Run steps on the pool and forget about them.
    CallInThread(Vec<Step>),
    /// Continue the rest of the list this many milliseconds later, without blocking.
    DeferLater(f64),
    /// Schedule steps on the reactor.
    CallLater(CallLaterStep),
    /// Run steps once the reactor is running.
    CallWhenRunning(Vec<Step>),
    /// Run steps when the reactor shuts down, before it stops.
    OnShutdown(Vec<Step>),
    /// Start a `LoopingCall`.
    LoopingCall(LoopingCallStep),
    /// From a thread: run steps on the reactor thread.
    CallFromThread(Vec<Step>),
    /// Answer the request being handled.
    Respond,
    /// Stop the reactor.
    Stop,
}

/// `{"lock": {"name": .., "steps": [..]}}`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "an object {\"name\": ..., \"steps\": [...]}")]
pub struct LockStep {
    /// The lock's name; equal names are the same lock.
    pub name: String,
    /// What runs while holding it.
    pub steps: Vec<Step>,
    /// Hand the lock to the longest waiter (FIFO) instead of letting the
    /// releasing thread take it again first, as CPython's lock does. Default false.
    #[serde(default)]
    pub fair: bool,
}

/// `{"repeat": {"times": .., "steps": [..]}}`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "an object {\"times\": ..., \"steps\": [...]}")]
pub struct RepeatStep {
    /// How many times (up to 10 000 000).
    pub times: u32,
    /// The steps.
    pub steps: Vec<Step>,
}

/// `{"call_later": {"ms": .., "steps": [..]}}`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "an object {\"ms\": ..., \"steps\": [...]}")]
pub struct CallLaterStep {
    /// The delay.
    pub ms: f64,
    /// What runs then, on the reactor thread.
    pub steps: Vec<Step>,
}

/// `{"looping_call": {"interval_ms": .., "now": .., "count": .., "steps": [..]}}`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, expecting = "an object {\"interval_ms\": ..., \"steps\": [...]}")]
pub struct LoopingCallStep {
    /// The interval.
    pub interval_ms: f64,
    /// Whether the first call is at once (default true) or after one interval.
    #[serde(default)]
    pub now: Option<bool>,
    /// Stop after this many calls; default: runs until the reactor stops.
    #[serde(default)]
    pub count: Option<u64>,
    /// The body, on the reactor thread.
    pub steps: Vec<Step>,
}
