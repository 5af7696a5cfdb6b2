//! What a run measured: request latency and throughput, reactor loop lag,
//! pool queue depth, core utilization, GIL hold and wait, lock wait, lost
//! counter updates, and the program's printed output.
//!
//! Times are milliseconds (`*_ms`). Series are `[t_ms, value]` pairs, at
//! most [`SERIES_POINTS`] of them (the largest value in each time bucket).
//! Everything is computed from the run alone, so the same scenario and seed
//! serialize to the same bytes.

use twine_core::Time;
pub use twine_scenario::metrics::*;

mod collect;

pub(crate) fn t_ms(t: Time) -> f64 {
    ms(t.as_nanos())
}
