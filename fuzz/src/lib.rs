//! Fuzzing every decoder and parser that a client or a shared link
//! reaches: core's framing receivers, the WebSocket framing the native
//! reactor runs, the gateway's HTTP server and WebSocket upgrade, the
//! scenario JSON loader and the Python front end (and the simulation of
//! what they accept).
//!
//! Each [target](targets) runs one input in memory (no socket, no thread
//! per input), so millions of inputs take minutes. The [engine] mutates
//! inputs from a corpus and keeps those that reach an outcome no input
//! reached before; `cargo xtask fuzz` runs every target (10 M inputs each
//! by default) and prints executions, time, executions per second and
//! distinct outcomes; the corpus each run found is kept in
//! `fuzz/corpus/TARGET/`, any failing input in `fuzz/crashes/TARGET/`, and
//! `cargo test -p twine-fuzz` replays both and runs a short fuzz of every
//! target.
//!
//! ```
//! use twine_fuzz::{fuzz, targets, Options};
//!
//! let mut target = targets::by_name("framing").unwrap();
//! let report = fuzz(target.as_mut(), &Options { execs: 1000, seed: 1, ..Options::default() });
//! assert!(report.finding.is_none(), "{:?}", report.finding);
//! assert!(report.outcomes > 1);
//! ```

pub mod engine;
pub mod targets;

pub use engine::{fuzz, mutate, replay_dir, run_once, Finding, Options, Outcome, Report, Rng, Sig, Target};

use std::path::PathBuf;

/// The folder of `target`'s saved corpus (committed, replayed by `cargo test`).
pub fn corpus_dir(target: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/corpus")).join(target)
}

/// The folder where failing inputs of `target` are kept (replayed by `cargo test`).
pub fn crash_dir(target: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/crashes")).join(target)
}
