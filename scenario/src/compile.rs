//! Checks a parsed scenario and compiles it into a [`Program`]. Every error
//! names the field's path and says why.

use std::collections::HashMap;
use std::sync::Arc;

use super::budget::{self, MAX_EVENTS, MAX_STEPS_PER_CALL, MAX_THREADS};
use super::decimal;
use super::spec::{ArrivalSpec, ClientsSpec, ScenarioSpec, Step, ThinkSpec};
use super::ScenarioError;
use crate::program::{ClientsDef, CounterOp, LoopDef, MachineDef, Op, Piece, Program, Seq, Text, ThreadDef};

/// Longest duration accepted anywhere: about 11 days of virtual time.
const MAX_MS: f64 = 1e9;
const MAX_REPEAT: u32 = 10_000_000;

/// Where a step list runs, which decides the steps it may use.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    /// On the reactor thread; `handler` inside the server handler's tree.
    Reactor { handler: bool },
    /// On a plain or pool thread.
    Thread,
}

type Result<T> = std::result::Result<T, ScenarioError>;

struct Compiler {
    counters: HashMap<String, u32>,
    counter_names: Vec<Arc<str>>,
    locks: HashMap<String, u32>,
    lock_names: Vec<Arc<str>>,
    /// Per lock: whether its steps asked for a FIFO hand-off.
    fair_locks: Vec<bool>,
    loops: Vec<LoopDef>,
    responds: bool,
}

pub(crate) fn compile(spec: &ScenarioSpec) -> Result<Program> {
    let mut c = Compiler {
        counters: HashMap::new(),
        counter_names: Vec::new(),
        locks: HashMap::new(),
        lock_names: Vec::new(),
        fair_locks: Vec::new(),
        loops: Vec::new(),
        responds: false,
    };
    let mut program = settings(spec)?;
    program.main = c.steps("main", &spec.main, Place::Reactor { handler: false })?;
    let mut thread_total: u64 = 0;
    for (i, t) in spec.threads.iter().enumerate() {
        let path = format!("threads[{i}]");
        if t.name.trim().is_empty() {
            return Err(ScenarioError::new(format!("{path}.name"), "must not be empty"));
        }
        let count = t.count.unwrap_or(1);
        if !(1..=1000).contains(&count) {
            return Err(ScenarioError::new(
                format!("{path}.count"),
                format!("must be between 1 and 1000 (got {count})"),
            ));
        }
        thread_total += u64::from(count);
        if thread_total > MAX_THREADS {
            return Err(ScenarioError::new(
                format!("{path}.count"),
                format!(
                    "brings the threads to {thread_total} in all ({} entries so far); at most {MAX_THREADS} \
                     threads in all: lower the entries' counts or use fewer entries",
                    i + 1
                ),
            ));
        }
        let start = opt_ms(&format!("{path}.start_ms"), t.start_ms)?;
        let body = c.steps(&format!("{path}.steps"), &t.steps, Place::Thread)?;
        program.threads.push(ThreadDef { name: t.name.clone(), count, start, body });
    }
    program.handler = match &spec.server {
        Some(server) => Some(c.steps("server.handler", &server.handler, Place::Reactor { handler: true })?),
        None => None,
    };
    program.clients = match &spec.clients {
        None => None,
        Some(clients) => {
            if program.handler.is_none() {
                return Err(ScenarioError::new(
                    "clients",
                    "clients need a server to talk to: add \"server\": {\"handler\": [..]}",
                ));
            }
            if !c.responds {
                return Err(ScenarioError::new(
                    "server.handler",
                    "never responds, so clients would wait forever: add a \"respond\" step",
                ));
            }
            Some(compile_clients(clients)?)
        }
    };
    program.counters = c.counter_names;
    program.locks = c.lock_names;
    program.fair_locks = c.fair_locks;
    program.loops = c.loops;
    Ok(program)
}

/// [`compile`] for a spec with no steps of its own, whose program runs
/// elsewhere (a Python experiment's, [`Program::python`]): the same checks
/// and settings, without the step compiler, which the light browser module
/// then leaves out. Its server handler, there only because clients need one,
/// must be `respond` alone.
pub(crate) fn compile_stepless(spec: &ScenarioSpec) -> Result<Program> {
    let mut program = settings(spec)?;
    if !spec.main.is_empty() {
        return Err(ScenarioError::new("main", "must be empty: the program runs instead"));
    }
    if !spec.threads.is_empty() {
        return Err(ScenarioError::new("threads", "must be empty: the program starts its own"));
    }
    if let Some(server) = &spec.server {
        if !matches!(server.handler.as_slice(), [Step::Respond]) {
            return Err(ScenarioError::new("server.handler", "must be [\"respond\"]: the program's server answers"));
        }
        program.handler = Some(Seq::new(vec![Op::Respond]));
    }
    program.clients = match &spec.clients {
        None => None,
        Some(_) if program.handler.is_none() => {
            return Err(ScenarioError::new(
                "clients",
                "clients need a server to talk to: add \"server\": {\"handler\": [..]}",
            ))
        }
        Some(clients) => Some(compile_clients(clients)?),
    };
    Ok(program)
}

/// What [`compile`] checks and compiles before the steps: the machine, the
/// pool, the limits and the variants' names; the rest of the program empty.
fn settings(spec: &ScenarioSpec) -> Result<Program> {
    let m = &spec.machine;
    if !(1..=64).contains(&m.cores) {
        return Err(ScenarioError::new("machine.cores", format!("must be between 1 and 64 (got {})", m.cores)));
    }
    let time_slice = positive_ms("machine.time_slice_ms", m.time_slice_ms)?;
    let switch_interval = positive_ms("machine.switch_interval_ms", m.switch_interval_ms)?;
    if !m.counter_op_ns.is_finite() || !(0.0..=1e9).contains(&m.counter_op_ns) {
        return Err(ScenarioError::new(
            "machine.counter_op_ns",
            format!("must be a number of nanoseconds between 0 and 1e9 (got {})", shown(m.counter_op_ns)),
        ));
    }
    let machine = MachineDef {
        cores: m.cores,
        time_slice,
        gil: m.gil,
        switch_interval,
        counter_op: m.counter_op_ns.round() as u64,
        noise: m.noise,
    };
    if !(1..=1024).contains(&spec.pool.threads) {
        return Err(ScenarioError::new(
            "pool.threads",
            format!("must be between 1 and 1024 (got {})", spec.pool.threads),
        ));
    }
    let jitter = spec.jitter.unwrap_or(0.0);
    if !(0.0..1.0).contains(&jitter) {
        return Err(ScenarioError::new("jitter", format!("must be at least 0 and below 1 (got {})", shown(jitter))));
    }
    let duration = match spec.duration_ms {
        Some(ms) => positive_ms("duration_ms", ms)?,
        None => 60_000_000_000,
    };
    let max_events = spec.max_events.unwrap_or(2_000_000);
    if max_events < 100 {
        return Err(ScenarioError::new("max_events", format!("must be at least 100 (got {max_events})")));
    }
    if max_events > MAX_EVENTS {
        return Err(ScenarioError::new(
            "max_events",
            format!(
                "must be at most {MAX_EVENTS} (got {max_events}): the trace would take about {} MiB; \
                 lower max_events or duration_ms",
                max_events.saturating_mul(budget::BYTES_PER_EVENT) >> 20
            ),
        ));
    }
    let mut variant_names = Vec::new();
    for (i, v) in spec.variants.iter().enumerate() {
        if v.name.trim().is_empty() {
            return Err(ScenarioError::new(format!("variants[{i}].name"), "must not be empty"));
        }
        if variant_names.contains(&v.name.as_str()) {
            return Err(ScenarioError::new(format!("variants[{i}].name"), format!("`{}` is used twice", v.name)));
        }
        variant_names.push(&v.name);
        if !v.patch.is_object() {
            return Err(ScenarioError::new(
                format!("variants[{i}].patch"),
                "must be an object (a JSON merge patch of the scenario)",
            ));
        }
    }

    Ok(Program {
        seed: spec.seed.unwrap_or(1),
        duration,
        max_events,
        machine,
        pool_threads: spec.pool.threads,
        jitter,
        main: Seq::new(Vec::new()),
        threads: Vec::new(),
        handler: None,
        clients: None,
        counters: Vec::new(),
        locks: Vec::new(),
        fair_locks: Vec::new(),
        python: None,
        loops: Vec::new(),
    })
}

fn compile_clients(clients: &ClientsSpec) -> Result<ClientsDef> {
    Ok(match clients {
        ClientsSpec::Open(o) => {
            if !o.rate_per_s.is_finite() || o.rate_per_s <= 0.0 || o.rate_per_s > 1e6 {
                return Err(ScenarioError::new(
                    "clients.open.rate_per_s",
                    format!("must be above 0 and at most 1000000 requests per second (got {})", shown(o.rate_per_s)),
                ));
            }
            let connections = o.connections.unwrap_or(1);
            if !(1..=10_000).contains(&connections) {
                return Err(ScenarioError::new(
                    "clients.open.connections",
                    format!("must be between 1 and 10000 (got {connections})"),
                ));
            }
            check_requests("clients.open.requests", o.requests)?;
            ClientsDef::Open {
                mean_gap: 1e9 / o.rate_per_s,
                poisson: o.arrival == ArrivalSpec::Poisson,
                requests: o.requests,
                connections,
                start: opt_ms("clients.open.start_ms", o.start_ms)?,
                network: opt_ms("clients.open.network_ms", o.network_ms)?,
            }
        }
        ClientsSpec::Closed(cl) => {
            if !(1..=10_000).contains(&cl.clients) {
                return Err(ScenarioError::new(
                    "clients.closed.clients",
                    format!("must be between 1 and 10000 (got {})", cl.clients),
                ));
            }
            check_requests("clients.closed.requests", cl.requests)?;
            ClientsDef::Closed {
                clients: cl.clients,
                think: opt_ms("clients.closed.think_ms", cl.think_ms)?,
                exponential: cl.think == ThinkSpec::Exponential,
                requests: cl.requests,
                start: opt_ms("clients.closed.start_ms", cl.start_ms)?,
                network: opt_ms("clients.closed.network_ms", cl.network_ms)?,
            }
        }
    })
}

fn check_requests(path: &str, requests: Option<u64>) -> Result<()> {
    match requests {
        Some(n) if n == 0 || n > 10_000_000 => {
            Err(ScenarioError::new(path, format!("must be between 1 and 10000000 (got {n})")))
        }
        _ => Ok(()),
    }
}

/// A number as the user would write it: `1e300`, not three hundred digits.
fn shown(value: f64) -> String {
    if !value.is_finite() {
        if value.is_nan() {
            "NaN"
        } else if value > 0.0 {
            "inf"
        } else {
            "-inf"
        }
        .to_owned()
    } else if value != 0.0 && !(1e-6..1e15).contains(&value.abs()) {
        decimal::display_exp(value)
    } else {
        decimal::display(value)
    }
}

/// Milliseconds to nanoseconds, checking the value is a sane duration.
fn ms(path: &str, value: f64) -> Result<u64> {
    if !value.is_finite() || !(0.0..=MAX_MS).contains(&value) {
        return Err(ScenarioError::new(
            path,
            format!("must be a number of milliseconds between 0 and {} (got {})", shown(MAX_MS), shown(value)),
        ));
    }
    Ok((value * 1e6).round() as u64)
}

fn positive_ms(path: &str, value: f64) -> Result<u64> {
    let ns = ms(path, value)?;
    if ns == 0 {
        return Err(ScenarioError::new(path, format!("must be above 0 (got {})", decimal::display(value))));
    }
    Ok(ns)
}

fn opt_ms(path: &str, value: Option<f64>) -> Result<u64> {
    value.map_or(Ok(0), |v| ms(path, v))
}

impl Compiler {
    fn steps(&mut self, path: &str, steps: &[Step], place: Place) -> Result<Seq> {
        let mut ops = Vec::with_capacity(steps.len());
        for (i, step) in steps.iter().enumerate() {
            ops.push(self.step(&format!("{path}[{i}]"), step, place)?);
        }
        // Each repeat is within the limit (checked above); their sum too.
        let total = budget::steps_per_call(steps);
        if total > MAX_STEPS_PER_CALL {
            return Err(ScenarioError::new(
                path,
                format!(
                    "runs about {} steps that take no virtual time in one call (its repeats added up); \
                     at most {}: lower the repeats' times",
                    budget::count(total),
                    budget::count(MAX_STEPS_PER_CALL)
                ),
            ));
        }
        Ok(Seq::new(ops))
    }

    fn step(&mut self, path: &str, step: &Step, place: Place) -> Result<Op> {
        let reactor_only = |what: &str| -> Result<()> {
            match place {
                Place::Reactor { .. } => Ok(()),
                Place::Thread => Err(ScenarioError::new(
                    path,
                    format!(
                        "`{what}` needs the reactor thread; thread steps cannot call reactor APIs \
                         (wrap them in call_from_thread)"
                    ),
                )),
            }
        };
        Ok(match step {
            Step::Cpu(v) => Op::Cpu(ms(&format!("{path}.cpu"), *v)?),
            Step::Io(v) => Op::Io(ms(&format!("{path}.io"), *v)?),
            Step::Sleep(v) => Op::Sleep(ms(&format!("{path}.sleep"), *v)?),
            Step::Increment(name) => {
                Op::Counter(CounterOp::Increment, self.counter(&format!("{path}.increment"), name)?)
            }
            Step::Read(name) => Op::Counter(CounterOp::Read, self.counter(&format!("{path}.read"), name)?),
            Step::Write(name) => Op::Counter(CounterOp::Write, self.counter(&format!("{path}.write"), name)?),
            Step::Lock(lock) => {
                let id = self.lock(&format!("{path}.lock.name"), &lock.name)?;
                if self.fair_locks.len() <= id as usize {
                    self.fair_locks.push(lock.fair);
                } else if self.fair_locks[id as usize] != lock.fair {
                    let say = if lock.fair { "remove `\"fair\": true` here" } else { "add `\"fair\": true` here" };
                    return Err(ScenarioError::new(
                        format!("{path}.lock.fair"),
                        format!(
                            "lock `{}` is fair in one step and not in another: {say}, or name them apart",
                            lock.name
                        ),
                    ));
                }
                Op::Lock(id, self.steps(&format!("{path}.lock.steps"), &lock.steps, place)?)
            }
            Step::Repeat(r) => {
                if r.times > MAX_REPEAT {
                    return Err(ScenarioError::new(
                        format!("{path}.repeat.times"),
                        format!("must be at most {MAX_REPEAT} (got {})", r.times),
                    ));
                }
                let body = self.steps(&format!("{path}.repeat.steps"), &r.steps, place)?;
                let inner = budget::steps_per_call(&r.steps);
                let total = f64::from(r.times) * inner;
                if total > MAX_STEPS_PER_CALL {
                    return Err(ScenarioError::new(
                        format!("{path}.repeat.times"),
                        format!(
                            "runs about {} steps that take no virtual time in one call ({} times {} inside, \
                             nested repeats multiplied); at most {}: lower these times or those of a repeat \
                             inside, or add a step that takes time (cpu, io, sleep)",
                            budget::count(total),
                            r.times,
                            budget::count(inner),
                            budget::count(MAX_STEPS_PER_CALL)
                        ),
                    ));
                }
                Op::Repeat(r.times, body)
            }
            Step::Print(text) => Op::Print(self.text(&format!("{path}.print"), text)?),
            Step::Fail(message) => Op::Fail(self.text(&format!("{path}.fail"), message)?),
            Step::Errback(steps) => Op::Errback(self.steps(&format!("{path}.errback"), steps, place)?),
            Step::DeferToThread(steps) => {
                reactor_only("defer_to_thread")?;
                Op::DeferToThread(self.steps(&format!("{path}.defer_to_thread"), steps, Place::Thread)?)
            }
            Step::CallInThread(steps) => {
                reactor_only("call_in_thread")?;
                Op::CallInThread(self.steps(&format!("{path}.call_in_thread"), steps, Place::Thread)?)
            }
            Step::DeferLater(v) => {
                reactor_only("defer_later")?;
                Op::DeferLater(ms(&format!("{path}.defer_later"), *v)?)
            }
            Step::CallLater(call) => {
                reactor_only("call_later")?;
                let delay = ms(&format!("{path}.call_later.ms"), call.ms)?;
                Op::CallLater(delay, self.steps(&format!("{path}.call_later.steps"), &call.steps, place)?)
            }
            Step::CallWhenRunning(steps) => {
                reactor_only("call_when_running")?;
                Op::CallWhenRunning(self.steps(&format!("{path}.call_when_running"), steps, place)?)
            }
            Step::OnShutdown(steps) => {
                reactor_only("on_shutdown")?;
                Op::OnShutdown(self.steps(&format!("{path}.on_shutdown"), steps, place)?)
            }
            Step::LoopingCall(lc) => {
                reactor_only("looping_call")?;
                let interval = positive_ms(&format!("{path}.looping_call.interval_ms"), lc.interval_ms)?;
                if lc.count == Some(0) {
                    return Err(ScenarioError::new(format!("{path}.looping_call.count"), "must be at least 1"));
                }
                let body = self.steps(&format!("{path}.looping_call.steps"), &lc.steps, place)?;
                self.loops.push(LoopDef {
                    interval,
                    now: lc.now.unwrap_or(true),
                    count: lc.count,
                    body,
                    label: path.to_owned(),
                });
                Op::LoopingCall(self.loops.len() as u32 - 1)
            }
            Step::CallFromThread(steps) => {
                if place != Place::Thread {
                    return Err(ScenarioError::new(
                        path,
                        "`call_from_thread` is for threads; this code already runs on the reactor thread",
                    ));
                }
                Op::CallFromThread(self.steps(
                    &format!("{path}.call_from_thread"),
                    steps,
                    Place::Reactor { handler: false },
                )?)
            }
            Step::Respond => {
                reactor_only("respond")?;
                if place != (Place::Reactor { handler: true }) {
                    return Err(ScenarioError::new(
                        path,
                        "`respond` answers a request, so it may only appear in server.handler \
                         (and the callbacks and timers it sets up)",
                    ));
                }
                self.responds = true;
                Op::Respond
            }
            Step::Stop => {
                reactor_only("stop")?;
                Op::Stop
            }
        })
    }

    fn counter(&mut self, path: &str, name: &str) -> Result<u32> {
        intern(path, name, "counter", &mut self.counters, &mut self.counter_names)
    }

    fn lock(&mut self, path: &str, name: &str) -> Result<u32> {
        intern(path, name, "lock", &mut self.locks, &mut self.lock_names)
    }

    /// Splits a print text into literal parts and placeholders.
    fn text(&mut self, path: &str, text: &str) -> Result<Text> {
        let mut pieces = Vec::new();
        let mut lit = String::new();
        let mut rest = text;
        while let Some(i) = rest.find(['{', '}']) {
            lit.push_str(&rest[..i]);
            let tail = &rest[i..];
            if tail.starts_with("{{") || tail.starts_with("}}") {
                lit.push_str(&tail[..1]);
                rest = &tail[2..];
                continue;
            }
            if tail.starts_with('}') {
                return Err(ScenarioError::new(path, "a lone `}` (write `}}` for a brace)"));
            }
            let Some(close) = tail.find('}') else {
                return Err(ScenarioError::new(path, "a `{` without its `}` (write `{{` for a brace)"));
            };
            let name = &tail[1..close];
            let piece = match name {
                "thread" => Piece::Thread,
                "time" => Piece::Time,
                "error" => Piece::Error,
                "count" => Piece::Count,
                _ => match name.strip_prefix("counter:") {
                    Some(counter) => Piece::Counter(self.counter(path, counter)?),
                    None => {
                        return Err(ScenarioError::new(
                            path,
                            format!(
                                "unknown placeholder `{{{name}}}`; known: {{thread}}, {{time}}, {{error}}, \
                                 {{count}}, {{counter:NAME}}"
                            ),
                        ))
                    }
                },
            };
            if !lit.is_empty() {
                pieces.push(Piece::Lit(std::mem::take(&mut lit).into()));
            }
            pieces.push(piece);
            rest = &tail[close + 1..];
        }
        lit.push_str(rest);
        if !lit.is_empty() {
            pieces.push(Piece::Lit(lit.into()));
        }
        Ok(Text(pieces.into()))
    }
}

fn intern(
    path: &str,
    name: &str,
    what: &str,
    map: &mut HashMap<String, u32>,
    names: &mut Vec<Arc<str>>,
) -> Result<u32> {
    if name.trim().is_empty() {
        return Err(ScenarioError::new(path, format!("a {what} needs a name")));
    }
    if let Some(&id) = map.get(name) {
        return Ok(id);
    }
    let id = names.len() as u32;
    map.insert(name.to_owned(), id);
    names.push(name.into());
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{ClosedLoopSpec, ServerSpec};

    /// A Python experiment's spec: settings, and a server answering for its clients.
    fn python_spec() -> ScenarioSpec {
        let mut spec = ScenarioSpec { duration_ms: Some(500.0), ..ScenarioSpec::default() };
        spec.machine.cores = 2;
        spec.clients = Some(ClientsSpec::Closed(ClosedLoopSpec {
            clients: 3,
            think_ms: Some(1.0),
            think: ThinkSpec::default(),
            requests: Some(10),
            start_ms: None,
            network_ms: Some(0.5),
        }));
        spec.server = Some(ServerSpec { handler: vec![Step::Respond] });
        spec
    }

    #[test]
    fn stepless_compiles_a_python_spec_as_compile_does() {
        let spec = python_spec();
        let (full, stepless) = (compile(&spec).unwrap(), compile_stepless(&spec).unwrap());
        assert_eq!(format!("{stepless:?}"), format!("{full:?}"));
        let plain = ScenarioSpec::default();
        assert_eq!(format!("{:?}", compile_stepless(&plain).unwrap()), format!("{:?}", compile(&plain).unwrap()));
    }

    #[test]
    fn stepless_refuses_steps_and_checks_the_rest() {
        let mut spec = python_spec();
        spec.main = vec![Step::Cpu(1.0)];
        assert_eq!(compile_stepless(&spec).unwrap_err().field, "main");
        let mut spec = python_spec();
        spec.server = Some(ServerSpec { handler: vec![Step::Cpu(1.0), Step::Respond] });
        assert_eq!(compile_stepless(&spec).unwrap_err().field, "server.handler");
        let mut spec = python_spec();
        spec.server = None;
        assert_eq!(compile_stepless(&spec).unwrap_err().field, "clients");
        let mut spec = python_spec();
        spec.machine.cores = 0;
        assert_eq!(compile_stepless(&spec).unwrap_err(), compile(&spec).unwrap_err());
        let mut spec = python_spec();
        let Some(ClientsSpec::Closed(closed)) = &mut spec.clients else { unreachable!() };
        closed.clients = 0;
        assert_eq!(compile_stepless(&spec).unwrap_err(), compile(&spec).unwrap_err());
    }
}
