//! Seed sweeps: one run per seed, summed up in the few figures a person
//! compares across seeds (the page charts their spread, one point a seed).

use serde::Serialize;

use crate::scenario::Scenario;
use crate::Simulation;

/// One seed's headline figures.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SeedFigures {
    /// The seed.
    pub seed: u64,
    /// How the run ended (`quiet`, `deadlock`, ...).
    pub end: String,
    /// Updates lost: what the `lost_update` events overwrote, summed over
    /// the shared variables (JSON counters and a Python program's globals
    /// and attributes).
    pub lost_updates: i64,
    /// The 99th percentile of request latency, when there were requests.
    pub p99_ms: Option<f64>,
    /// When the last line was printed, when one was.
    pub last_line_ms: Option<f64>,
    /// When the run ended, in virtual milliseconds.
    pub time_ms: f64,
}

impl SeedFigures {
    /// The figures of `sim`, run to its end with `seed`.
    pub(crate) fn of(sim: &Simulation, seed: u64) -> SeedFigures {
        let m = sim.metrics();
        SeedFigures {
            seed,
            end: sim.end_reason().map_or("running", |e| e.as_str()).to_owned(),
            lost_updates: sim.sh.lost_total.get(),
            p99_ms: (m.requests.completed > 0).then_some(m.requests.p99_ms),
            last_line_ms: m.output.last().map(|l| l.t_ms),
            time_ms: m.time_ms,
        }
    }
}

/// Runs `scenario` with `seed` to its end and sums it up: what
/// `twine-sim explore --seeds K` lists per seed, one seed at a time (the
/// page's workers run a sweep's seeds side by side).
///
/// ```
/// use twine_web::explore::seed_figures;
/// use twine_web::{presets, Scenario};
///
/// let preset = presets::find("counter-race").unwrap();
/// let scenario = preset.scenario(Some("nogil-unlocked")).unwrap();
/// let f = seed_figures(&scenario, 7);
/// assert_eq!((f.seed, f.end.as_str()), (7, "quiet"));
/// assert!(f.lost_updates > 0);
/// assert_eq!(f, seed_figures(&scenario, 7), "a seed runs the same every time");
/// ```
pub fn seed_figures(scenario: &Scenario, seed: u64) -> SeedFigures {
    let mut sim = Simulation::new(scenario, Some(seed));
    sim.run();
    SeedFigures::of(&sim, seed)
}
