//! Play the scheduler: the program runs as it does when exploring (one
//! core, no noise, threads stopped before visible operations), follows the
//! picks made so far, and stops at the next point where more than one
//! thread could perform its visible operation, for a person to pick one.
//!
//! The page replays the whole schedule from the start after each pick
//! (programs worth playing are small), so undo is a shorter schedule and a
//! shared link is the schedule string itself. Only the visible choices wait
//! for the player; a lock handed to one of several waiters past the picks
//! goes to the longest waiting, and that pick becomes part of the schedule.
//! The reactor's order of ready calls is Twisted's, never a choice.

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use serde::Serialize;

use super::{
    final_values, following, for_exploring, parse_schedule, run_schedule, schedule_string, uses_gil, Follow, Misfit,
};
use crate::engine::choice::Watch;
use crate::scenario::Scenario;
use crate::Simulation;

/// Where a played run stands.
#[derive(Clone, Debug, Serialize)]
pub struct PlayState {
    /// The run so far as a schedule (`hits/1.2`): give it to [`play`] or
    /// [`super::replay`] to run it again.
    pub schedule: String,
    /// The choice the run stopped before, or `None` when it ended.
    pub pending: Option<Pending>,
    /// How the run ended (`quiet`, `deadlock`, `error`, ...), once it has.
    pub end: Option<String>,
    /// Where the schedule given did not fit the program, if it did not.
    pub misfit: Option<String>,
    /// The shared values so far (final once it ended): JSON counters, a
    /// Python program's plain globals, as [`super::Outcome::counters`].
    pub values: BTreeMap<String, serde_json::Value>,
}

/// A choice waiting for the player.
#[derive(Clone, Debug, Serialize)]
pub struct Pending {
    /// Virtual time, in milliseconds.
    pub t_ms: f64,
    /// The threads that could go next, longest waiting first.
    pub options: Vec<PlayOption>,
}

/// One thread that could go next, and what it would do.
#[derive(Clone, Debug, Serialize)]
pub struct PlayOption {
    /// Its number: the pick to append to the schedule.
    pub thread: u32,
    /// Its name (`counter-2`).
    pub name: String,
    /// The source line of its next visible operation (0 for a JSON scenario's).
    pub line: u32,
    /// The operation: `read hits`, `write hits`, `enter with`, `print`, ...
    pub op: String,
}

/// What a played run needs to say where it stands.
pub struct Player {
    follow: Follow,
    watch: Rc<Watch>,
    shared: BTreeSet<Rc<str>>,
}

/// A simulation of `scenario` that follows `schedule` (`keys/1.2`, or
/// empty to start afresh) and then stops before the next visible choice;
/// run it, then ask the [`Player`] where it stands.
///
/// ```
/// use twine_web::explore::play;
/// use twine_web::{PythonScenario, Scenario};
///
/// let src = "import threading, twine\ntwine.machine(gil=False)\nn = 0\n\
/// def work():\n    global n\n    seen = n\n    n = seen + 1\n\
/// ts = [threading.Thread(target=work, name=f'w{i}') for i in range(2)]\n\
/// for t in ts:\n    t.start()\nfor t in ts:\n    t.join()\n";
/// let scenario = Scenario::from_python("rw.py", src).unwrap();
/// let (mut sim, player) = play(&scenario, "").unwrap();
/// sim.run();
/// let state = player.state(&sim);
/// let names: Vec<_> = state.pending.unwrap().options.iter().map(|o| o.name.clone()).collect();
/// assert_eq!(names, ["w0", "w1"]);
/// assert_eq!(state.schedule, "n/");
/// ```
pub fn play(scenario: &Scenario, schedule: &str) -> Result<(Simulation, Player), String> {
    let explored = for_exploring(scenario)?;
    let gil = uses_gil(scenario);
    let (shared, prefix) =
        if schedule.is_empty() { (visible_keys(&explored, gil), Vec::new()) } else { parse_schedule(schedule)? };
    let (sim, follow, watch) = following(explored, shared.clone(), gil, prefix, true);
    Ok((sim, Player { follow, watch, shared }))
}

/// The globals and attributes that more than one thread touches and one
/// writes, learned as [`super::Explorer`] does, from the default schedule.
fn visible_keys(explored: &Scenario, gil: bool) -> BTreeSet<Rc<str>> {
    let mut shared = BTreeSet::new();
    // Each round can only add keys; a handful settles any small program.
    for _ in 0..8 {
        let many = run_schedule(explored, &shared, gil, Vec::new(), false).watch.touched_by_many();
        if many.is_subset(&shared) {
            break;
        }
        shared.extend(many);
    }
    shared
}

impl Player {
    /// Where `sim` (the simulation [`play`] returned, run as far as it
    /// goes, not sought backwards since) stands.
    pub fn state(&self, sim: &Simulation) -> PlayState {
        let names = sim.sh.thread_names.borrow();
        let pending = sim.waiting_choice().map(|options| Pending {
            t_ms: crate::metrics::t_ms(sim.now()),
            options: options
                .iter()
                .map(|&thread| {
                    let (line, op) = self.watch.stop_of(thread).unwrap_or((0, Rc::from("counter step")));
                    let name = names.get(thread as usize).map_or_else(|| format!("thread {thread}"), |n| n.to_string());
                    PlayOption { thread, name, line, op: op.to_string() }
                })
                .collect(),
        });
        PlayState {
            schedule: schedule_string(&self.shared, &self.follow.taken.borrow()),
            pending,
            end: sim.end_reason().map(|e| e.as_str().to_owned()),
            misfit: Misfit(Some(self.follow.watcher())).get(),
            values: final_values(sim),
        }
    }
}
