//! A scenario compiled for the engine: durations in nanoseconds, names
//! interned as indices, step lists shared behind `Arc` so a job's program can
//! travel to the pool as a `Send` cost hint.

use std::fmt::Write as _;
use std::sync::Arc;

/// A run of steps: `ops[start..end]`. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Seq {
    pub ops: Arc<[Op]>,
    pub start: u32,
    pub end: u32,
}

impl Seq {
    pub fn new(ops: Vec<Op>) -> Seq {
        let end = ops.len() as u32;
        Seq { ops: ops.into(), start: 0, end }
    }

    pub fn empty() -> Seq {
        Seq::new(Vec::new())
    }

    pub fn is_empty(&self) -> bool {
        self.start >= self.end
    }

    pub fn range(&self, start: u32, end: u32) -> Seq {
        Seq { ops: Arc::clone(&self.ops), start, end }
    }
}

/// Which counter operation a step performs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CounterOp {
    /// Read, add one, write back: one step.
    Increment,
    /// Read into the thread's register for that counter.
    Read,
    /// Write the register plus one.
    Write,
}

impl CounterOp {
    /// The step's name in a scenario.
    pub fn name(self) -> &'static str {
        match self {
            CounterOp::Increment => "increment",
            CounterOp::Read => "read",
            CounterOp::Write => "write",
        }
    }
}

/// One compiled step.
#[derive(Clone, Debug)]
pub enum Op {
    Cpu(u64),
    Io(u64),
    Sleep(u64),
    Counter(CounterOp, u32),
    Lock(u32, Seq),
    Repeat(u32, Seq),
    Print(Text),
    /// A failure whose message is rendered as a print's text is (`{error}`: the failure being handled).
    Fail(Text),
    Errback(Seq),
    DeferToThread(Seq),
    CallInThread(Seq),
    DeferLater(u64),
    CallLater(u64, Seq),
    CallWhenRunning(Seq),
    OnShutdown(Seq),
    LoopingCall(u32),
    CallFromThread(Seq),
    Respond,
    Stop,
}

impl Op {
    /// Whether CPython would reach an eval-breaker point (where a thread
    /// holding the GIL gives it up if a waiter asked) just before the step,
    /// in the Python the step stands for. CPython 3.11 checks at calls
    /// (`RESUME` on entering a function, `CALL` after a C function returns)
    /// and at backward jumps (the end of each loop iteration), nowhere else
    /// (`Python/ceval.c`, `CHECK_EVAL_BREAKER`). So:
    ///
    /// | step | Python | breaker before it |
    /// |---|---|---|
    /// | `increment` | `hits += 1` | no: one unsplittable update |
    /// | `read` | `seen = hits` | no |
    /// | `write` | `hits = seen + 1` | no |
    /// | `cpu`, `io`, `sleep` | `twine.cpu(ms)`, `time.sleep(s)` | yes (a call; `cpu`'s loop checks inside too, and at its end) |
    /// | `print`, `fail`, `lock`, `call_from_thread`, reactor steps | `print(...)`, `raise E(...)`, `with lock:`, `reactor.callFromThread(...)`, ... | yes (calls) |
    /// | `repeat` | `for _ in range(n):` | yes (calling `range`), and at the end of every iteration (the backward jump) |
    /// | `errback` | (skipped unless failing) | no |
    ///
    /// So `read` then `write` with nothing between is atomic under the GIL,
    /// as `seen = hits; hits = seen + 1` is in CPython, and a `cpu` between
    /// them lets a switch land in the middle. `twine run` checks its real
    /// GIL's drop request exactly there (and at the end of each `repeat`
    /// iteration), and the simulation lets a switch happen before a counter
    /// step only right after such a point.
    ///
    /// ```
    /// use twine_scenario::program::{CounterOp, Op};
    ///
    /// assert!(!Op::Counter(CounterOp::Write, 0).eval_breaker());
    /// assert!(Op::Cpu(1_000).eval_breaker());
    /// ```
    pub fn eval_breaker(&self) -> bool {
        !matches!(self, Op::Counter(..) | Op::Errback(_))
    }
}

/// A `print` text with its placeholders resolved.
#[derive(Clone, Debug)]
pub struct Text(pub Arc<[Piece]>);

#[derive(Clone, Debug)]
pub enum Piece {
    Lit(Arc<str>),
    Thread,
    Time,
    Error,
    Count,
    Counter(u32),
}

/// What a placeholder renders from.
pub struct TextEnv<'a> {
    pub thread: &'a str,
    pub time_ns: u64,
    pub error: Option<&'a str>,
    pub count: u64,
    pub counter: &'a dyn Fn(u32) -> i64,
}

impl Text {
    pub fn render(&self, env: &TextEnv<'_>) -> String {
        let mut out = String::new();
        for piece in self.0.iter() {
            match piece {
                Piece::Lit(s) => out.push_str(s),
                Piece::Thread => out.push_str(env.thread),
                Piece::Time => {
                    // Milliseconds' precision, down to microseconds under
                    // 10 ms (where "0.000" would hide what happened).
                    let secs = env.time_ns as f64 / 1e9;
                    if secs >= 0.01 {
                        out.push_str(&crate::decimal::fixed(secs, 3));
                    } else {
                        // Six decimals, trailing zeros dropped down to three: 0.00005, 0.005, 0.000.
                        let mut text = crate::decimal::fixed(secs, 6);
                        while text.len() > "0.000".len() && text.ends_with('0') {
                            text.pop();
                        }
                        out.push_str(&text);
                    }
                }
                Piece::Error => out.push_str(env.error.unwrap_or("")),
                Piece::Count => {
                    let _ = write!(out, "{}", env.count);
                }
                Piece::Counter(c) => {
                    let _ = write!(out, "{}", (env.counter)(*c));
                }
            }
        }
        out
    }
}

/// A `looping_call` step's settings.
#[derive(Clone, Debug)]
pub struct LoopDef {
    pub interval: u64,
    pub now: bool,
    pub count: Option<u64>,
    pub body: Seq,
    /// Where the step is in the scenario, shown in metrics.
    pub label: String,
}

/// A declared plain thread (one per `count`).
#[derive(Clone, Debug)]
pub struct ThreadDef {
    pub name: String,
    pub count: u32,
    pub start: u64,
    pub body: Seq,
}

/// How requests arrive.
#[derive(Clone, Copy, Debug)]
pub enum ClientsDef {
    Open { mean_gap: f64, poisson: bool, requests: Option<u64>, connections: u32, start: u64, network: u64 },
    Closed { clients: u32, think: u64, exponential: bool, requests: Option<u64>, start: u64, network: u64 },
}

impl ClientsDef {
    pub fn network(self) -> u64 {
        match self {
            ClientsDef::Open { network, .. } | ClientsDef::Closed { network, .. } => network,
        }
    }
}

/// The machine being simulated.
#[derive(Clone, Debug)]
pub struct MachineDef {
    pub cores: u32,
    pub time_slice: u64,
    pub gil: bool,
    pub switch_interval: u64,
    pub counter_op: u64,
    /// The default noise model (wake-up latency, CPU speed variation) is on.
    pub noise: bool,
}

/// A whole compiled scenario.
#[derive(Debug)]
pub struct Program {
    pub seed: u64,
    pub duration: u64,
    pub max_events: u64,
    pub machine: MachineDef,
    pub pool_threads: u32,
    pub jitter: f64,
    pub main: Seq,
    pub threads: Vec<ThreadDef>,
    pub handler: Option<Seq>,
    pub clients: Option<ClientsDef>,
    pub counters: Vec<Arc<str>>,
    pub locks: Vec<Arc<str>>,
    /// Per lock: hand it over first come, first served (`"fair": true`).
    pub fair_locks: Vec<bool>,
    pub loops: Vec<LoopDef>,
    /// A Python program run as the main program instead of `main`.
    pub python: Option<Arc<PySource>>,
}

/// A Python experiment's source.
#[derive(Debug)]
pub struct PySource {
    pub file: String,
    pub source: String,
    /// The variant `twine.variant(...)` returns (`None`: its first name).
    pub variant: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_shows_microseconds_only_where_milliseconds_would_hide_them() {
        let text = Text(vec![Piece::Time].into());
        let at = |time_ns| text.render(&TextEnv { thread: "t", time_ns, error: None, count: 0, counter: &|_| 0 });
        assert_eq!(at(0), "0.000");
        assert_eq!(at(50_000), "0.00005");
        assert_eq!(at(5_000_000), "0.005");
        assert_eq!(at(9_999_999), "0.010"); // six decimals round it up
        assert_eq!(at(12_500_000), "0.013");
        assert_eq!(at(1_500_000_000), "1.500");
    }
}
