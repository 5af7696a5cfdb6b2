//! Explore: run a program under every schedule (or many seeds) and group
//! what comes out.
//!
//! **Exhaustive.** The program runs on one core, without noise or time
//! slices, and stops every thread before each visible operation (see
//! [`crate::choice`]); at each point where more than one thread could
//! perform its next visible operation, the explorer picks. It walks the tree
//! of those picks depth first, replaying the program from the start for each
//! schedule (programs worth exploring are small), until every schedule has
//! run or `max_schedules` have. A schedule is counted as an order of the
//! visible operations, so "two threads, each one read then one write of a
//! shared counter" is the 6 interleavings of its 4 visible operations.
//!
//! **Partial-order reduction.** Two schedules that differ only in the order
//! of operations that commute (on different variables or locks, or two
//! reads of one variable) end the same way, so a reduced walk
//! ([`How::Reduced`]) runs only one of them, with sleep sets as loom and
//! Godefroid's thesis do: after trying thread A at a point, the walk tries
//! B there with A "asleep", and a schedule that would run A next before
//! anything A's operation does not commute with is cut short (it would
//! reorder commuting operations of one already run). Every outcome the full
//! walk finds, the reduced walk finds; its counts are then per class of
//! equivalent schedules (the read-then-write pair: 4, since the two reads
//! commute), and [`Report::reduced`] says so. [`How::Exhaustive`] counts
//! every order while that takes at most `max_schedules` runs, and
//! otherwise starts over reduced. The reduction holds when what a thread
//! does between its visible operations is its own; a run in which threads
//! met where the explorer cannot see (a JSON lock step, an `Event`, the
//! reactor's inbox or the pool's queue) turns it off, and the walk starts
//! over counting every order.
//!
//! **Seeds.** A program too big to enumerate runs with K seeds and the
//! machine's usual noise instead.
//!
//! Either way the outcomes are grouped by the final values of the shared
//! state (JSON counters; a Python program's plain globals), the printed
//! output's digest and how the run ended, each with how many schedules
//! reach it and one that does, as a string [`replay`] runs again.
//!
//! ```
//! use twine_web::explore::{explore, How};
//! use twine_web::{PythonScenario, Scenario};
//!
//! let src = "import threading, twine\ntwine.machine(gil=False)\nn = 0\n\
//! def work():\n    global n\n    seen = n\n    n = seen + 1\n\
//! ts = [threading.Thread(target=work) for _ in range(2)]\n\
//! for t in ts:\n    t.start()\nfor t in ts:\n    t.join()\n";
//! let program = Scenario::from_python("rw.py", src).unwrap();
//! let report = explore(&program, How::Exhaustive, 100).unwrap();
//! assert_eq!(report.schedules, 6);
//! assert!(report.complete);
//! let counts: Vec<_> = report.outcomes.iter().map(|o| (o.counters["n"].as_i64().unwrap(), o.schedules)).collect();
//! assert_eq!(counts, [(1, 4), (2, 2)]);
//!
//! // The two reads commute: one order of them is enough.
//! let reduced = explore(&program, How::Reduced, 100).unwrap();
//! assert_eq!((reduced.schedules, reduced.reduced), (4, true));
//! assert_eq!(reduced.outcomes.len(), 2);
//! ```

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::rc::Rc;

use serde::Serialize;

use crate::choice::{ChoiceKind, ChoicePoint, Chooser};
use crate::engine::choice::{Access, Watch};
use crate::python::value::Value;
use crate::scenario::{PythonScenario, Scenario};
use crate::Simulation;

mod play;
mod sweep;
pub use play::{play, Pending, PlayOption, PlayState, Player};
pub use sweep::{seed_figures, SeedFigures};

/// How to explore.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum How {
    /// Every order of the visible operations when that takes at most
    /// `max_schedules` runs; otherwise the walk starts over reduced.
    Exhaustive,
    /// One schedule per class of schedules that differ only in the order
    /// of commuting operations (partial-order reduction), up to the bound.
    Reduced,
    /// This many seeds (1, 2, ...) with the machine's usual noise.
    Seeds(u64),
}

/// What exploring found.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// Schedules (or seeds) run.
    pub schedules: u64,
    /// The distinct outcomes, most common first.
    pub outcomes: Vec<Outcome>,
    /// Whether every schedule ran (never for seeds).
    pub complete: bool,
    /// Whether the counts are per class of schedules that differ only in
    /// the order of commuting operations (partial-order reduction), rather
    /// than per order.
    pub reduced: bool,
    /// Runs cut short because they only reordered commuting operations of
    /// a schedule already run (reduced walks only).
    pub pruned: u64,
    /// Seeds only: each seed's headline figures, in seed order (what the
    /// page's seed sweep charts).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub seeds: Vec<SeedFigures>,
}

/// One distinct outcome.
#[derive(Clone, Debug, Serialize)]
pub struct Outcome {
    /// The final shared values: JSON counters, a Python program's plain globals.
    pub counters: BTreeMap<String, serde_json::Value>,
    /// A digest of everything printed (16 hex digits, FNV-1a).
    pub output_digest: String,
    /// How the runs ended (`quiet`, `deadlock`, `error`, ...).
    pub end: String,
    /// How many schedules reach it.
    pub schedules: u64,
    /// One schedule that does: give it to [`replay`].
    pub example: String,
    /// What that schedule printed (its first 20 lines).
    pub output: Vec<String>,
}

/// The program as explored: one core, no noise, no time slices, no GIL
/// in the engine (the choice points keep the GIL's rule instead).
fn for_exploring(scenario: &Scenario) -> Result<Scenario, String> {
    scenario.with_spec(|spec| {
        spec.machine.cores = 1;
        spec.machine.noise = false;
        spec.machine.gil = false;
        spec.machine.time_slice_ms = 1e9;
        spec.jitter = None;
    })
}

/// A choice taken at a visible point.
#[derive(Clone, Debug)]
struct Taken {
    options: Vec<u32>,
    index: usize,
}

/// Follows `prefix` (thread numbers), then takes the first option it may
/// (or, when it `wait`s, stops at the next visible choice for a player);
/// notes every choice with more than one option. With `sleep` (a reduced
/// walk) it skips the threads asleep at each point, and stops a run where
/// every option is asleep.
struct Follow {
    prefix: Vec<u32>,
    taken: Rc<RefCell<Vec<Taken>>>,
    misfit: Rc<RefCell<Option<String>>>,
    wait: bool,
    sleep: Option<Sleep>,
}

/// A reduced walk's sleep set: threads stopped before an operation whose
/// orders against the operations since were all tried at an earlier point.
struct Sleep {
    watch: Rc<Watch>,
    asleep: Vec<(u32, Access)>,
    /// Set when a run was cut short.
    pruned: Rc<Cell<bool>>,
}

impl Sleep {
    /// Wakes the threads whose operation does not commute with one
    /// performed since the last point.
    fn catch_up(&mut self) {
        for (tid, done) in self.watch.take_performed() {
            self.asleep.retain(|(t, a)| *t != tid && a.commutes(&done));
        }
    }

    fn awake(&self, options: &[u32]) -> Vec<u32> {
        options.iter().copied().filter(|o| !self.asleep.iter().any(|(t, _)| t == o)).collect()
    }
}

impl Follow {
    fn new(prefix: Vec<u32>, wait: bool) -> Follow {
        Follow { prefix, taken: Rc::default(), misfit: Rc::default(), wait, sleep: None }
    }

    /// Another view of the same schedule and record.
    fn watcher(&self) -> Follow {
        Follow {
            prefix: self.prefix.clone(),
            taken: Rc::clone(&self.taken),
            misfit: Rc::clone(&self.misfit),
            wait: self.wait,
            sleep: None,
        }
    }
}

impl Chooser for Follow {
    fn choose(&mut self, point: &ChoicePoint<'_>) -> usize {
        // Which thread gets the core matters not: a thread runs alone up
        // to its next visible operation, where it stops and waits its turn.
        if point.kind == ChoiceKind::Core {
            return 0;
        }
        let options = match &mut self.sleep {
            Some(sleep) if point.kind == ChoiceKind::Visible => {
                sleep.catch_up();
                sleep.awake(point.options)
            }
            Some(sleep) => {
                // Who gets a lock is not an operation of the stopped
                // threads: the safe side is to wake them all.
                sleep.asleep.clear();
                point.options.to_vec()
            }
            None => point.options.to_vec(),
        };
        let mut taken = self.taken.borrow_mut();
        let step = taken.len();
        let index = match self.prefix.get(step) {
            None => 0,
            Some(tid) => match options.iter().position(|o| o == tid) {
                Some(i) => i,
                None => {
                    let mut misfit = self.misfit.borrow_mut();
                    if misfit.is_none() {
                        let ready: Vec<String> = point.options.iter().map(u32::to_string).collect();
                        *misfit = Some(format!(
                            "choice {} names thread {tid}, which is not waiting there (waiting: {})",
                            step + 1,
                            ready.join(", ")
                        ));
                    }
                    0
                }
            },
        };
        let Some(&tid) = options.get(index) else { return 0 };
        if let Some(sleep) = self.sleep.as_mut().filter(|_| point.kind == ChoiceKind::Visible) {
            // The threads tried before this one here sleep until something
            // they do not commute with runs.
            let chosen = sleep.watch.access_of(tid);
            let tried = options[..index].iter().map(|&t| (t, sleep.watch.access_of(t)));
            sleep.asleep.extend(tried);
            sleep.asleep.retain(|(_, a)| a.commutes(&chosen));
        }
        taken.push(Taken { options, index });
        point.options.iter().position(|&o| o == tid).unwrap_or(0)
    }

    fn waits(&mut self, point: &ChoicePoint<'_>) -> bool {
        if let Some(sleep) = &mut self.sleep {
            sleep.catch_up();
            if sleep.awake(point.options).is_empty() {
                sleep.pruned.set(true);
                return true;
            }
        }
        self.wait && point.options.len() > 1 && self.taken.borrow().len() >= self.prefix.len()
    }
}

struct Run {
    sim: Simulation,
    watch: Rc<Watch>,
    taken: Vec<Taken>,
    /// Cut short by the reduction: it only reorders a schedule already run.
    pruned: bool,
}

fn run_schedule(explored: &Scenario, shared: &BTreeSet<Rc<str>>, gil: bool, prefix: Vec<u32>, reduce: bool) -> Run {
    let watch = Rc::new(Watch::new(shared.clone(), gil));
    let mut chooser = Follow::new(prefix, false);
    let pruned = Rc::new(Cell::new(false));
    if reduce {
        chooser.sleep = Some(Sleep { watch: Rc::clone(&watch), asleep: Vec::new(), pruned: Rc::clone(&pruned) });
    }
    let taken = Rc::clone(&chooser.taken);
    let mut sim = Simulation::exploring(explored, Rc::clone(&watch), Box::new(chooser));
    sim.run();
    let taken = taken.borrow().clone();
    Run { sim, watch, taken, pruned: pruned.get() }
}

/// The schedule after `taken` in depth-first order: the deepest choice
/// with an option left, moved on by one.
fn next_prefix(taken: &[Taken]) -> Option<Vec<u32>> {
    let i = taken.iter().rposition(|t| t.index + 1 < t.options.len())?;
    let mut prefix: Vec<u32> = taken[..i].iter().map(|t| t.options[t.index]).collect();
    prefix.push(taken[i].options[taken[i].index + 1]);
    Some(prefix)
}

/// `counter,.value/1.2.1`: the visible keys, then the thread picked at each choice.
fn schedule_string(shared: &BTreeSet<Rc<str>>, taken: &[Taken]) -> String {
    let keys: Vec<&str> = shared.iter().map(|k| &**k).collect();
    let tids: Vec<String> = taken.iter().map(|t| t.options[t.index].to_string()).collect();
    format!("{}/{}", keys.join(","), tids.join("."))
}

#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    counters: String,
    digest: String,
    end: String,
}

#[derive(Default)]
struct Groups {
    runs: u64,
    seeds: Vec<SeedFigures>,
    pruned: u64,
    reduced: bool,
    groups: BTreeMap<Key, Outcome>,
}

impl Groups {
    fn add(&mut self, sim: &Simulation, example: impl FnOnce() -> String) {
        self.runs += 1;
        let counters = final_values(sim);
        let output: Vec<String> = sim.sh.output.borrow().iter().map(|p| p.text.clone()).collect();
        let digest = digest(&output);
        let end = sim.end_reason().map_or("running", |e| e.as_str()).to_owned();
        let key = Key { counters: serde_json::to_string(&counters).unwrap_or_default(), digest: digest.clone(), end };
        match self.groups.get_mut(&key) {
            Some(o) => o.schedules += 1,
            None => {
                let outcome = Outcome {
                    counters,
                    output_digest: digest,
                    end: key.end.clone(),
                    schedules: 1,
                    example: example(),
                    output: output.into_iter().take(20).collect(),
                };
                self.groups.insert(key, outcome);
            }
        }
    }

    fn report(&self, complete: bool) -> Report {
        let mut outcomes: Vec<Outcome> = self.groups.values().cloned().collect();
        // Most common first; ties in the order of their values.
        outcomes.sort_by_key(|o| std::cmp::Reverse(o.schedules));
        Report {
            schedules: self.runs,
            outcomes,
            complete,
            reduced: self.reduced,
            pruned: self.pruned,
            seeds: self.seeds.clone(),
        }
    }
}

/// The shared state at the end: counters, and a Python program's globals
/// that hold plain values (numbers, strings, booleans, None).
fn final_values(sim: &Simulation) -> BTreeMap<String, serde_json::Value> {
    let mut out = BTreeMap::new();
    for (name, state) in sim.program.counters.iter().zip(sim.sh.counters.borrow().iter()) {
        out.insert(name.to_string(), serde_json::Value::from(state.value));
    }
    if let Some(rt) = sim.sh.py.borrow().as_ref() {
        for (name, v) in rt.globals.vars.borrow().iter() {
            if name.starts_with("__") {
                continue;
            }
            let v = match v {
                Value::Int(i) => serde_json::Value::from(*i),
                Value::Float(f) => serde_json::Value::from(*f),
                Value::Bool(b) => serde_json::Value::from(*b),
                Value::Str(s) => serde_json::Value::from(&**s),
                Value::None => serde_json::Value::Null,
                _ => continue,
            };
            out.insert(name.to_string(), v);
        }
    }
    out
}

fn digest(lines: &[String]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for line in lines {
        for b in line.bytes().chain([b'\n']) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    let mut s = String::new();
    let _ = write!(s, "{h:016x}");
    s
}

/// Runs `scenario` under every schedule of its visible operations (up to
/// `max_schedules`), or under `K` seeds, and groups the outcomes.
pub fn explore(scenario: &Scenario, how: How, max_schedules: u64) -> Result<Report, String> {
    let mut explorer = Explorer::new(scenario, how, max_schedules)?;
    while explorer.step(u64::MAX) {}
    Ok(explorer.report())
}

/// An exploration that runs a few schedules at a time, so that a page can
/// show its progress and stay responsive ([`explore`] runs one to the end).
///
/// ```
/// use twine_web::explore::{Explorer, How};
/// use twine_web::Scenario;
///
/// let json = r#"{"threads": [{"name": "w", "count": 2, "steps": [{"read": "n"}, {"write": "n"}]}]}"#;
/// let mut explorer = Explorer::new(&Scenario::from_json(json).unwrap(), How::Exhaustive, 100).unwrap();
/// assert!(explorer.step(4));
/// assert_eq!(explorer.report().schedules, 4);
/// assert!(!explorer.step(10));
/// assert_eq!(explorer.report().schedules, 6);
/// assert!(explorer.report().complete);
/// ```
pub struct Explorer {
    scenario: Scenario,
    /// The program as explored (exhaustive only).
    explored: Option<Scenario>,
    how: How,
    max_schedules: u64,
    gil: bool,
    shared: BTreeSet<Rc<str>>,
    groups: Groups,
    /// Whether the walk skips reorderings of commuting operations.
    reduce: bool,
    /// Set once a run showed threads meeting where the reduction cannot see.
    irreducible: bool,
    /// The next schedule's choices (exhaustive), or the next seed's number.
    next: Vec<u32>,
    next_seed: u64,
    done: Option<bool>,
}

impl Explorer {
    /// An exploration of `scenario` that has run nothing yet.
    pub fn new(scenario: &Scenario, how: How, max_schedules: u64) -> Result<Explorer, String> {
        let explored = match how {
            How::Exhaustive | How::Reduced => Some(for_exploring(scenario)?),
            How::Seeds(_) => None,
        };
        let reduce = how == How::Reduced;
        Ok(Explorer {
            scenario: scenario.clone(),
            explored,
            how,
            max_schedules: max_schedules.max(1),
            gil: scenario.spec().machine.gil && scenario.program.python.is_some(),
            shared: BTreeSet::new(),
            groups: Groups { reduced: reduce, ..Groups::default() },
            reduce,
            irreducible: false,
            next: Vec::new(),
            next_seed: 1,
            done: None,
        })
    }

    /// Runs up to `n` more schedules. Returns false once there are no more
    /// to run (all of them ran, or `max_schedules` did).
    pub fn step(&mut self, n: u64) -> bool {
        for _ in 0..n {
            if self.done.is_some() {
                return false;
            }
            if self.groups.runs >= self.max_schedules {
                if self.how == How::Exhaustive && !self.reduce && !self.irreducible {
                    // Too many orders to count them all: count classes.
                    self.reduce = true;
                    self.groups = Groups { reduced: true, ..Groups::default() };
                    self.next.clear();
                    continue;
                }
                self.done = Some(false);
                return false;
            }
            match (self.how, &self.explored) {
                (How::Seeds(k), _) => {
                    let seed = self.next_seed;
                    let mut sim = Simulation::new(&self.scenario, Some(seed));
                    sim.run();
                    self.groups.add(&sim, || format!("seed:{seed}"));
                    self.groups.seeds.push(SeedFigures::of(&sim, seed));
                    self.next_seed += 1;
                    if self.next_seed > k {
                        // Seeds sample the schedules; they never cover them all.
                        self.done = Some(false);
                    }
                }
                (How::Exhaustive | How::Reduced, Some(explored)) => {
                    let prefix = std::mem::take(&mut self.next);
                    let run = run_schedule(explored, &self.shared, self.gil, prefix, self.reduce);
                    let many = run.watch.touched_by_many();
                    if !many.is_subset(&self.shared) {
                        // A second thread wrote something another reads: it is
                        // visible from now on, and the walk starts over.
                        self.shared.extend(many);
                        self.groups = Groups { reduced: self.reduce, ..Groups::default() };
                        continue;
                    }
                    if self.reduce && run.watch.saw_hidden_sync() {
                        // Threads met where the reduction cannot see (a JSON
                        // lock, an Event, the reactor's inbox): count every order.
                        self.reduce = false;
                        self.irreducible = true;
                        self.groups = Groups::default();
                        self.next.clear();
                        continue;
                    }
                    if run.pruned {
                        self.groups.pruned += 1;
                    } else {
                        let shared = &self.shared;
                        self.groups.add(&run.sim, || schedule_string(shared, &run.taken));
                    }
                    match next_prefix(&run.taken) {
                        Some(next) => self.next = next,
                        None => self.done = Some(true),
                    }
                }
                (How::Exhaustive | How::Reduced, None) => self.done = Some(false),
            }
        }
        self.done.is_none()
    }

    /// What it has found so far.
    pub fn report(&self) -> Report {
        self.groups.report(self.done == Some(true))
    }
}

/// A simulation that follows `example` (an [`Outcome::example`]): `seed:N`
/// runs seed N as usual; `keys/1.2.1` explores with those visible keys and
/// picks those threads. Not run yet; [`Replay::misfit`] says, once it has
/// run, whether the schedule fitted the program.
pub fn replay(scenario: &Scenario, example: &str) -> Result<Replay, String> {
    if let Some(seed) = example.strip_prefix("seed:") {
        let seed = seed.parse().map_err(|_| format!("schedule `{example}`: write seed:N with N a number"))?;
        return Ok(Replay { sim: Simulation::new(scenario, Some(seed)), misfit: Misfit(None) });
    }
    let (shared, prefix) = parse_schedule(example)?;
    let explored = for_exploring(scenario)?;
    let gil = uses_gil(scenario);
    let (sim, follow, _) = following(explored, shared, gil, prefix, false);
    Ok(Replay { sim, misfit: Misfit(Some(follow)) })
}

/// Whether the choice points keep the GIL's rule (see [`crate::choice`]).
fn uses_gil(scenario: &Scenario) -> bool {
    scenario.spec().machine.gil && scenario.program.python.is_some()
}

/// `keys/1.2.1`: the visible keys and the thread picked at each choice.
fn parse_schedule(example: &str) -> Result<(BTreeSet<Rc<str>>, Vec<u32>), String> {
    let Some((keys, picks)) = example.split_once('/') else {
        return Err(format!(
            "schedule `{example}`: write KEYS/THREADS as `twine-sim explore` prints it (e.g. `n/1.2.2.1`), or seed:N"
        ));
    };
    let shared: BTreeSet<Rc<str>> = keys.split(',').filter(|k| !k.is_empty()).map(Rc::from).collect();
    let mut prefix = Vec::new();
    for pick in picks.split('.').filter(|p| !p.is_empty()) {
        prefix.push(pick.parse().map_err(|_| format!("schedule `{example}`: `{pick}` is not a thread number"))?);
    }
    Ok((shared, prefix))
}

/// A simulation of `explored` that follows `prefix` (and, when it `wait`s,
/// stops at the next visible choice), and starts over the same way; with
/// a view of its choices and its watch.
fn following(
    explored: Scenario,
    shared: BTreeSet<Rc<str>>,
    gil: bool,
    prefix: Vec<u32>,
    wait: bool,
) -> (Simulation, Follow, Rc<Watch>) {
    let watch = Rc::new(Watch::new(shared.clone(), gil));
    let chooser = Follow::new(prefix.clone(), wait);
    let watching = chooser.watcher();
    let mut sim = Simulation::exploring(&explored, Rc::clone(&watch), Box::new(chooser));
    sim.restart = Some(Rc::new(move || following(explored.clone(), shared.clone(), gil, prefix.clone(), wait).0));
    (sim, watching, watch)
}

/// A simulation following a schedule.
pub struct Replay {
    /// The simulation; run it, show it.
    pub sim: Simulation,
    /// Whether the schedule fitted the program, once it has run.
    pub misfit: Misfit,
}

/// Where a schedule did not fit the program it was replayed on.
pub struct Misfit(Option<Follow>);

impl Misfit {
    /// The first choice that named a thread not waiting there, or picks
    /// left over when the run ended, if any.
    pub fn get(&self) -> Option<String> {
        let follow = self.0.as_ref()?;
        let misfit = follow.misfit.borrow().clone();
        let made = follow.taken.borrow().len();
        misfit.or_else(|| {
            (made < follow.prefix.len())
                .then(|| format!("the run ended after {made} choices; the schedule has {}", follow.prefix.len()))
        })
    }
}
