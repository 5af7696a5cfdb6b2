//! twine-web: the simulated driver for the playground.
//!
//! A deterministic discrete-event simulation that drives the real
//! [`twine_core::Reactor`] with a virtual clock, simulated cores, threads, a
//! thread pool, an optional GIL, named locks, shared counters and clients.
//! Experiments are JSON [scenarios](scenario); the same files run in the
//! browser playground (through the wasm-bindgen API in the `wasm` module,
//! compiled for `wasm32` only), in the `twine-sim` binary and in the tests.
//!
//! ```
//! use twine_web::presets;
//! use twine_web::Simulation;
//!
//! let scenario = presets::find("sleeping-threads").unwrap().scenario(None).unwrap();
//! let mut sim = Simulation::new(&scenario, Some(7));
//! sim.run();
//! let metrics = sim.metrics();
//! // Five threads sleep 0.5 s each, at the same time: all done near 0.5 s.
//! let woke: Vec<f64> = metrics.output.iter().filter(|l| l.text.contains("woke")).map(|l| l.t_ms).collect();
//! assert_eq!(woke.len(), 5);
//! assert!(woke.iter().all(|t| (490.0..=510.0).contains(t)));
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod choice {
    //! Scheduling decisions: a [`Chooser`] picks, at each point where more
    //! than one thread could go next, which one does
    //! ([`Simulation::with_chooser`](crate::Simulation::with_chooser)).
    pub use crate::engine::choice::{ChoiceKind, ChoicePoint, Chooser};
}
pub mod columns;
mod engine;
mod explain;
// Not in the light browser module (twine-web without `lab` on wasm), which
// neither explores nor plays the scheduler (see engine::choice::CHOOSES).
#[cfg(any(feature = "lab", not(target_arch = "wasm32")))]
pub mod explore;
#[cfg(all(target_arch = "wasm32", feature = "lab"))]
pub mod live;
pub mod metrics;
mod order;
pub mod presets;
pub mod python;
pub mod queues;
pub mod scenario;
// The compiled form, under the path the engine has always used.
use twine_scenario::program;
#[cfg(target_arch = "wasm32")]
pub mod wasm;

pub use engine::store::SourcePos;
pub use engine::{EndReason, Simulation};
pub use metrics::Metrics;
pub use python::CompileError;
pub use queues::Queues;
pub use scenario::{PythonScenario, Scenario, ScenarioError};
