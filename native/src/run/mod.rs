//! `twine run`: a scenario executed for real, measured as the simulation
//! measures it.
//!
//! The playground's promise is that an experiment shows what a real server
//! would do; this is the real server. The same scenario file (checked and
//! compiled by `twine-scenario`, the crate `twine-sim` reads it with) runs
//! on real parts only:
//!
//! - the reactor is the real [`ReactorThread`] on mio, with its OS thread
//!   pool behind `defer_to_thread`; plain threads are OS threads;
//! - `cpu` is a busy loop that burns the thread's own time on a core (its
//!   iterations at the speed each thread keeps measuring, so a thread
//!   waiting for a core or the GIL takes longer in wall time, as on the
//!   simulated cores, and a machine whose speed changes during the run
//!   still burns what was asked), `io` and
//!   `sleep` are real sleeps, locks are OS mutexes, counters are shared
//!   memory read and written separately (lost updates are real);
//! - its threads run on the scenario's `cores` of this machine's CPUs, or
//!   all of them when it has fewer (the metrics' `real_cores` says which);
//! - clients are TCP line clients on loopback against the scenario's
//!   handler listening on 127.0.0.1; time is the real clock.
//!
//! It prints the metrics JSON of `twine-sim --metrics` (the same types,
//! `twine_scenario::metrics`), so the two can be diffed. What a real
//! run cannot measure is said in [`metrics`]. With `"gil": true` every
//! thread runs its steps holding a real global interpreter lock with
//! CPython 3.11's protocol ([`gil`]). What it cannot run it refuses, naming
//! the field: a simulated network delay (`clients.*.network_ms`). `jitter` is ignored: the machine brings
//! its own noise. A run longer than 60 s of real time is refused, or cut
//! off, unless `allow_long`.
//!
//! ```
//! use twine_native::run::{run, RunOptions};
//! use twine_scenario::Scenario;
//!
//! let scenario = Scenario::from_json(r#"{"main": [
//!     {"call_later": {"ms": 20, "steps": [{"print": "later"}, "stop"]}},
//!     {"print": "now"}
//! ]}"#).unwrap();
//! let (metrics, _trace) = run(&scenario, &RunOptions::default()).unwrap();
//! let printed: Vec<&str> = metrics.output.iter().map(|l| l.text.as_str()).collect();
//! assert_eq!(printed, ["now", "later"]);
//! assert!(metrics.output[1].t_ms >= 20.0); // a real timer never fires early
//! assert_eq!(metrics.end_reason, Some(twine_scenario::metrics::EndReason::Stopped));
//! ```

mod clients;
pub mod command;
mod cores;
mod exec;
pub mod gil;
#[allow(missing_docs)] // each field means what it means in twine-web's metrics (twine-sim --metrics)
pub mod metrics;
mod pthread;
mod state;
mod work;

use std::fmt;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use twine_core::protocol::{factory, Message, Protocol, Transport};
use twine_core::protocols::basic::LineReceiver;
use twine_core::trace::{SystemEvent, TraceRecord, TriggerPhase};
use twine_core::Reactor;
use twine_scenario::program::ClientsDef;
use twine_scenario::Scenario;

use crate::{Config, ReactorThread};
use exec::{Ctx, ReactorSide};
use metrics::{ms, EndReason, Metrics};
use state::{Run, REACTOR_TID};

/// The longest run allowed without [`RunOptions::allow_long`].
pub const MAX_REAL_TIME: Duration = Duration::from_secs(60);

/// How to run a scenario.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// The seed for client arrivals and think times (default: the scenario's).
    pub seed: Option<u64>,
    /// Allow a run longer than [`MAX_REAL_TIME`].
    pub allow_long: bool,
    /// A tighter bound than [`MAX_REAL_TIME`] on the run's real time, set
    /// by whoever runs scenarios for others (the gateway's `/api/run`):
    /// a scenario that asks for more is refused naming the field, and a
    /// run that does not end by itself is cut off there. `allow_long`
    /// does not lift it.
    pub max_real_time: Option<Duration>,
    /// Run with (`Some(true)`) or without a GIL whatever `machine.gil`
    /// says: the same program on CPython's terms, or free-threaded.
    pub gil: Option<bool>,
    /// The most trace events the run keeps, the earliest (0, the default:
    /// none). Later ones are counted ([`Metrics::events`]), not kept: a run
    /// that makes millions of events holds no more than it will send or
    /// write, and its metrics, folded from every event as it is made, stay exact.
    pub trace_cap: usize,
}

/// The trace a run kept: the earliest [`RunOptions::trace_cap`] events of
/// the real reactor, and how many it made past those and dropped.
#[derive(Clone, Debug, Default)]
pub struct Trace {
    /// The events kept, in the order the reactor recorded them.
    pub events: Vec<TraceRecord>,
    /// Events made past the cap: counted, not kept.
    pub dropped: u64,
}

/// How a run stands, as [`run_observed`] reports it while the run goes.
#[derive(Debug)]
pub struct Progress<'a> {
    /// Real time since the run's time zero.
    pub elapsed: Duration,
    /// Trace events the reactor has made so far, kept or not.
    pub events: u64,
    /// The events kept since the last report (within the cap), in order.
    pub trace: &'a [TraceRecord],
}

/// What the reactor's trace sink feeds: the metrics' fold, and the events
/// kept until the next report takes them.
#[derive(Default)]
struct Tap {
    fold: metrics::TraceFold,
    fresh: Vec<TraceRecord>,
    kept: usize,
    cap: usize,
}

impl Tap {
    fn record(&mut self, r: &TraceRecord) {
        self.fold.push(r);
        if self.kept < self.cap {
            self.kept += 1;
            self.fresh.push(r.clone());
        }
    }
}

/// A scenario `twine run` will not execute: which field, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunError {
    /// The field at fault (`duration_ms`), or empty.
    pub field: String,
    /// What is wrong, and what to do instead.
    pub message: String,
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.field, self.message)
        }
    }
}

impl std::error::Error for RunError {}

fn refuse(field: &str, message: impl Into<String>) -> RunError {
    RunError { field: field.into(), message: message.into() }
}

/// Checks what a scenario asks for against what a real run can give, and
/// returns how long the run may take: refuses (naming the field) a
/// simulated network delay, a Python experiment, and a run longer than
/// its bound ([`MAX_REAL_TIME`] unless `allow_long`, or
/// [`RunOptions::max_real_time`]). [`run`] checks first itself; a caller
/// that must answer before the run starts (an HTTP request) asks here.
///
/// ```
/// use std::time::Duration;
/// use twine_native::run::{check, RunOptions};
/// use twine_scenario::Scenario;
///
/// let long = Scenario::from_json(r#"{"duration_ms": 20000}"#).unwrap();
/// assert!(check(&long, &RunOptions::default()).is_ok());
/// let bounded = RunOptions { max_real_time: Some(Duration::from_secs(10)), ..RunOptions::default() };
/// assert_eq!(check(&long, &bounded).unwrap_err().field, "duration_ms");
/// ```
pub fn check(scenario: &Scenario, options: &RunOptions) -> Result<Duration, RunError> {
    let spec = scenario.spec();
    let program = &scenario.program;
    if program.python.is_some() {
        return Err(refuse(
            "",
            "twine run executes JSON scenarios; a Python experiment runs in CPython itself (python3 FILE.py --metrics)",
        ));
    }
    if let Some(def) = program.clients {
        let field = match def {
            ClientsDef::Open { .. } => "clients.open.network_ms",
            ClientsDef::Closed { .. } => "clients.closed.network_ms",
        };
        if def.network() > 0 {
            return Err(refuse(
                field,
                "loopback has no network delay and twine run does not fake one; remove it (or set 0)",
            ));
        }
    }
    let (limit, lift) = match options.max_real_time {
        Some(bound) => (bound.min(MAX_REAL_TIME), " (the most this server runs)"),
        None if options.allow_long => (Duration::MAX, ""),
        None => (MAX_REAL_TIME, " or pass --allow-long"),
    };
    let shown = format!("{} s", limit.as_secs_f64());
    let asked = Duration::from_nanos(program.duration);
    if spec.duration_ms.is_some() && asked > limit {
        return Err(refuse(
            "duration_ms",
            format!("{} ms of real time is longer than {shown}; lower it{lift}", asked.as_millis()),
        ));
    }
    if let Some(ClientsDef::Open { mean_gap, requests: Some(n), start, .. }) = program.clients {
        let needs = Duration::from_nanos(start + (n as f64 * mean_gap) as u64);
        if needs > limit {
            return Err(refuse(
                "clients.open.requests",
                format!(
                    "{n} requests at this rate take {:.1} s of real time, more than {shown}; send fewer{lift}",
                    needs.as_secs_f64()
                ),
            ));
        }
    }
    Ok(asked.min(limit))
}

/// Runs `scenario` for real and returns its metrics and the real
/// reactor's trace (as much as [`RunOptions::trace_cap`] keeps).
pub fn run(scenario: &Scenario, options: &RunOptions) -> Result<(Metrics, Trace), RunError> {
    let mut events = Vec::new();
    let metrics = run_observed(scenario, options, Duration::MAX, |p| events.extend_from_slice(p.trace))?;
    let dropped = metrics.events - events.len() as u64;
    Ok((metrics, Trace { events, dropped }))
}

/// How often [`run_observed`] looks at the run: the finest `every` it honours.
const WATCH_EVERY: Duration = Duration::from_millis(2);

/// [`run`], reporting how it goes while it goes: `report` is called on
/// the calling thread about every `every` of real time with the events
/// kept since its last call, and once more when the run is over (before
/// this returns its metrics), so the reports together hold every event
/// kept. What `report` does with them (send them to a page, say) costs
/// the calling thread's time, not the run's threads'.
///
/// ```
/// use std::time::Duration;
/// use twine_native::run::{run_observed, RunOptions};
/// use twine_scenario::Scenario;
///
/// let scenario = Scenario::from_json(r#"{"main": [{"call_later": {"ms": 60, "steps": ["stop"]}}]}"#).unwrap();
/// let options = RunOptions { trace_cap: 1000, ..RunOptions::default() };
/// let (mut reports, mut kept) = (0, 0);
/// let metrics = run_observed(&scenario, &options, Duration::from_millis(10), |p| {
///     reports += 1;
///     kept += p.trace.len() as u64;
/// })
/// .unwrap();
/// assert!(reports >= 3, "{reports} reports"); // the run takes 60 ms
/// assert_eq!(kept, metrics.events); // all of them, under the cap
/// ```
pub fn run_observed(
    scenario: &Scenario,
    options: &RunOptions,
    every: Duration,
    mut report: impl FnMut(Progress<'_>),
) -> Result<Metrics, RunError> {
    let deadline = check(scenario, options)?;
    let program = Arc::clone(&scenario.program);
    let seed = options.seed.unwrap_or(program.seed);
    let gil = options.gil.unwrap_or(program.machine.gil);
    let spin = work::Spin::calibrate();
    // Measured only for a program that counts (it takes ~10 ms).
    let counter_spin_ns = match program.counters.is_empty() {
        true => program.machine.counter_op,
        false => exec::counter_spin_ns(program.machine.counter_op, spin),
    };
    let run = Arc::new(Run::new(Arc::clone(&program), spin, gil, counter_spin_ns));
    // The run's threads start from here, on the scenario's cores.
    let pinned = cores::Pinned::to(program.machine.cores);

    // Plain threads take numbers 1.. before any pool thread can, as simulated.
    let mut plain = Vec::new();
    for def in &program.threads {
        for i in 1..=def.count {
            let name = if def.count == 1 { def.name.clone() } else { format!("{}-{i}", def.name) };
            plain.push((run.add_thread(name.into(), "thread"), def.start, def.body.clone()));
        }
    }
    run.threads_alive.store(plain.len() as u32, Ordering::SeqCst);

    let tap = Arc::new(Mutex::new(Tap { cap: options.trace_cap, ..Tap::default() }));
    let config =
        Config { threads: program.pool_threads as usize, thread_name: "twine-run".into(), ..Config::default() };
    let (setup_run, setup_tap) = (Arc::clone(&run), Arc::clone(&tap));
    let spawned = ReactorThread::spawn(config, move |setup| {
        let reactor = setup.reactor();
        // Time zero is the driver's: its timers, its trace and our prints agree.
        let since = Duration::from_nanos(reactor.seconds().as_nanos());
        let _ = setup_run.epoch.set(Instant::now() - since);
        let _ = setup_run.handle.set(setup.handle());
        reactor.set_trace_sink(move |r: &TraceRecord| setup_tap.lock().unwrap_or_else(|e| e.into_inner()).record(r));
        let side = ReactorSide::install(Arc::clone(&setup_run));
        let run_end = Arc::clone(&setup_run);
        reactor.add_system_event_trigger(TriggerPhase::After, SystemEvent::Shutdown, move |_| {
            run_end.record_cpu(REACTOR_TID);
            None
        });
        let addr = match setup_run.program.handler.clone() {
            Some(handler) => {
                let side = Rc::clone(&side);
                let proto = move || LineReceiver::new(Server { side: Rc::clone(&side), handler: handler.clone() });
                Some(setup.listen_tcp("127.0.0.1:0".parse().expect("a loopback address"), factory(proto))?)
            }
            None => None,
        };
        // `main` runs before reactor.run(), on the reactor's thread.
        let main = setup_run.program.main.clone();
        side.run_top(setup.reactor(), main, Ctx::default());
        Ok(addr)
    });
    let (reactor_thread, addr) = spawned.map_err(|e| refuse("", format!("cannot start the reactor: {e}")))?;
    let epoch = *run.epoch.get().expect("set by the reactor's setup");

    let mut joins = Vec::new();
    for (me, start, body) in plain {
        let run = Arc::clone(&run);
        let spawned = thread::Builder::new().name(me.name.to_string()).spawn(move || {
            let wait = Duration::from_nanos(start).saturating_sub(epoch.elapsed());
            thread::sleep(wait);
            let now = run.now_ns();
            run.update_thread(me.tid, |t| t.started_ns = Some(now));
            let _ = exec::run_on_thread(&run, &me, &body, &mut Ctx::default());
            let now = run.now_ns();
            run.record_cpu(me.tid);
            run.update_thread(me.tid, |t| t.finished_ns = Some(now));
            run.threads_alive.fetch_sub(1, Ordering::SeqCst);
        });
        match spawned {
            Ok(join) => joins.push(join),
            Err(e) => {
                reactor_thread.shutdown();
                reactor_thread.join();
                return Err(refuse("threads", format!("cannot start a thread: {e}")));
            }
        }
    }

    // Clients stand for other machines: not on the scenario's cores.
    let real_cores = pinned.cores;
    drop(pinned);
    let clients = match (program.clients, addr) {
        (Some(def), Some(addr)) => match clients::Clients::start(def, addr, epoch, deadline.as_nanos() as u64, seed) {
            Ok(c) => Some(c),
            Err(e) => {
                reactor_thread.shutdown();
                reactor_thread.join();
                return Err(refuse("clients", format!("cannot connect to the server on {addr}: {e}")));
            }
        },
        _ => None,
    };

    // Reports take the kept events out under the sink's lock, and hand
    // them over after letting go of it, so the reactor never waits on them.
    let take = |tap: &Mutex<Tap>| {
        let mut tap = tap.lock().unwrap_or_else(|e| e.into_inner());
        (std::mem::take(&mut tap.fresh), tap.fold.events)
    };
    let mut last_report = Instant::now();
    let mut tick = || {
        if last_report.elapsed() >= every {
            last_report = Instant::now();
            let (fresh, events) = take(&tap);
            report(Progress { elapsed: epoch.elapsed(), events, trace: &fresh });
        }
    };
    let end_reason = watch(&run, &reactor_thread, clients.as_ref(), deadline, epoch, &mut tick);
    if end_reason != EndReason::Stopped {
        reactor_thread.shutdown();
    }
    let driver_metrics = reactor_thread.metrics().clone();
    let _report = reactor_thread.join();
    // Plain threads still going stop at their next step.
    run.abort.store(true, Ordering::SeqCst);
    let mut end_ns = run.now_ns();
    for join in joins {
        // A thread past the deadline (blocked on a lock, say) is left behind.
        if end_reason != EndReason::Duration || join.is_finished() {
            let _ = join.join();
        }
    }
    if end_reason == EndReason::Stopped {
        // The run ends when the reactor has stopped and the threads are done.
        end_ns = end_ns.max(run.now_ns());
    }
    let answers = clients.map(clients::Clients::finish).unwrap_or_default();
    let (fresh, events) = take(&tap);
    report(Progress { elapsed: Duration::from_nanos(end_ns), events, trace: &fresh });
    let fold = std::mem::take(&mut tap.lock().unwrap_or_else(|e| e.into_inner()).fold);
    let mut metrics = collect(scenario, &run, seed, end_reason, end_ns, &answers, fold);
    metrics.real_cores = Some(real_cores);
    // Failures left in Deferreds nobody waited on (a failing call_in_thread,
    // say), which the reactor reports itself, beside the scenario's own.
    metrics.reactor.unhandled_errors += driver_metrics.snapshot().unhandled_errors;
    Ok(metrics)
}

/// Waits for the run to end and says why: the reactor stopped (and every
/// thread finished), nothing was left to happen, or the time ran out.
fn watch(
    run: &Arc<Run>,
    reactor_thread: &ReactorThread,
    clients: Option<&clients::Clients>,
    deadline: Duration,
    epoch: Instant,
    tick: &mut dyn FnMut(),
) -> EndReason {
    let quiet = Arc::new(AtomicBool::new(false));
    let checking = Arc::new(AtomicBool::new(false));
    loop {
        thread::sleep(WATCH_EVERY);
        tick();
        if reactor_thread.is_finished() {
            return if quiet.load(Ordering::SeqCst) { EndReason::Quiet } else { EndReason::Stopped };
        }
        if epoch.elapsed() >= deadline {
            return EndReason::Duration;
        }
        // Read here, before the check is queued: a thread that finished has
        // queued its last call_from_thread before it, so the check sees it.
        let threads_done = run.threads_alive.load(Ordering::SeqCst) == 0;
        let clients_done = clients.is_none_or(|c| c.done.load(Ordering::SeqCst));
        // From outside first (the reactor's published figures), so the
        // check, a call on the reactor, is made only near the end and the
        // reactor's own counts stay the scenario's.
        let looks_idle = || {
            let m = reactor_thread.metrics().snapshot();
            m.timers_pending == 0 && m.jobs_in_flight == 0 && reactor_thread.handle().inbox_depth() == 0
        };
        if threads_done && clients_done && looks_idle() && !checking.swap(true, Ordering::SeqCst) {
            let (run, quiet, checking) = (Arc::clone(run), Arc::clone(&quiet), Arc::clone(&checking));
            reactor_thread.handle().call_from_thread(move |reactor: &Reactor| {
                checking.store(false, Ordering::SeqCst);
                let Some(side) = ReactorSide::current(&run) else { return };
                if reactor.pending_timers().is_empty() && side.jobs_in_flight.get() == 0 && reactor.is_running() {
                    quiet.store(true, Ordering::SeqCst);
                    let _ = reactor.stop();
                }
            });
        }
    }
}

fn collect(
    scenario: &Scenario,
    run: &Run,
    seed: u64,
    end_reason: EndReason,
    end_ns: u64,
    report: &metrics::ClientReport,
    trace: metrics::TraceFold,
) -> Metrics {
    let program = &run.program;
    let events = trace.events;
    let (mut reactor, pool) = trace.finish(end_ns, program.pool_threads);
    reactor.unhandled_errors = run.unhandled.load(Ordering::Relaxed);
    let locks = program
        .locks
        .iter()
        .zip(run.lock_stats())
        .map(|(name, s)| metrics::LockMetrics {
            name: name.to_string(),
            acquisitions: s.acquisitions,
            contended: s.contended,
            wait_ms: ms(s.wait_ns),
            max_wait_ms: ms(s.max_wait_ns),
        })
        .collect();
    let counters = program
        .counters
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let (value, expected) = run.counter_value(i);
            metrics::CounterMetrics { name: name.to_string(), value, expected, lost_updates: expected as i64 - value }
        })
        .collect();
    let threads: Vec<metrics::ThreadMetrics> = run
        .threads
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .enumerate()
        .map(|(i, t)| metrics::ThreadMetrics {
            thread: i as u32,
            name: t.name.to_string(),
            kind: t.kind,
            cpu_ms: ms(t.cpu_ns),
            started_ms: t.started_ns.map(ms),
            finished_ms: t.finished_ns.map(ms),
        })
        .collect();
    let looping_calls = run
        .loops()
        .iter()
        .map(|(step, calls, skipped, max_lag_ns)| metrics::LoopingCallMetrics {
            step: step.clone(),
            calls: *calls,
            skipped: *skipped,
            max_lag_ms: ms(*max_lag_ns),
        })
        .collect();
    let output = run
        .output()
        .into_iter()
        .map(|p| metrics::OutputLine {
            t_ms: ms(p.t_ns),
            thread: p.tid,
            name: p.name.to_string(),
            text: p.text,
            stream: metrics::Stream::Stdout,
        })
        .collect();
    Metrics {
        scenario: scenario.spec().name.clone(),
        seed,
        end_reason: Some(end_reason),
        time_ms: ms(end_ns),
        events,
        actions: 0,
        requests: metrics::requests(report),
        reactor,
        pool,
        cores: Vec::new(),
        gil: run.gil.as_ref().map(|gil| gil_metrics(&gil.stats(), &threads)),
        locks,
        counters,
        threads,
        looping_calls,
        output,
        // Real threads that deadlock never end the run: nothing to report.
        deadlock: None,
        real_cores: None,
    }
}

/// The GIL's figures, per thread by name; a thread that never wanted it
/// (a pool thread with no job) is left out.
fn gil_metrics(stats: &gil::GilStats, threads: &[metrics::ThreadMetrics]) -> metrics::GilMetrics {
    let per: Vec<metrics::GilThreadMetrics> = stats
        .per_thread
        .iter()
        .map(|(&tid, &(hold_ns, wait_ns))| metrics::GilThreadMetrics {
            thread: tid,
            name: threads.get(tid as usize).map_or_else(String::new, |t| t.name.clone()),
            hold_ms: ms(hold_ns),
            wait_ms: ms(wait_ns),
        })
        .collect();
    metrics::GilMetrics {
        switches: stats.switches,
        forced_switches: stats.forced_switches,
        hold_ms: per.iter().map(|t| t.hold_ms).sum(),
        wait_ms: per.iter().map(|t| t.wait_ms).sum(),
        threads: per,
    }
}

/// The server: each line is a request whose text is its id; the handler
/// runs on the reactor thread, and `respond` writes the id back.
struct Server {
    side: Rc<ReactorSide>,
    handler: twine_scenario::program::Seq,
}

impl Protocol for Server {
    fn message_received(&mut self, transport: &Transport, message: Message) {
        // Lines arrive as bytes; a line that is not an id is answered as 0.
        let id = message.to_str().ok().and_then(|t| t.trim().parse().ok()).unwrap_or(0);
        let Some(reactor) = Reactor::current() else { return };
        let ctx = Ctx { request: Some((transport.id(), id)), ..Ctx::default() };
        self.side.run_top(&reactor, self.handler.clone(), ctx);
    }
}
