//! Structured trace of everything the reactor (and a driver) does.
//!
//! Every reactor action can emit a [`TraceRecord`]: a time and a
//! [`TraceEvent`]. With no sink attached, tracing costs one branch: events
//! are built lazily, only when a sink is listening.
//!
//! # Schema
//!
//! Records serialize to flat JSON objects, one per event, with the time in
//! nanoseconds since the driver's epoch under `t` and the event's name under
//! `kind` (snake_case); the other fields are the variant's own:
//!
//! ```json
//! {"t":1500000,"kind":"timer_fired","timer":3,"late":0}
//! ```
//!
//! The schema is versioned by [`SCHEMA_VERSION`]. Within a version, fields are
//! only ever added, never renamed or removed; readers ignore fields they do
//! not know. The [`JsonLines`] writer starts its output with a header line
//! `{"schema":"twine-trace","version":1}`.
//!
//! Events fall into groups: the reactor's turns, timers and calls; Deferreds;
//! thread-pool jobs; connections; and driver facts that only a driver knows
//! (which core runs which thread, who holds the GIL or a lock, simulated
//! clients). twine-core emits the first four; drivers emit the last.
//!
//! ```
//! use std::time::Duration;
//! use twine_core::trace::{Recorder, TraceEvent};
//! use twine_core::task::Clock;
//!
//! let clock = Clock::new();
//! let recorder = Recorder::new();
//! clock.reactor().set_trace_sink(recorder.clone());
//! clock.reactor().call_later(Duration::from_millis(10), |_| {});
//! clock.advance(Duration::from_millis(10));
//! assert!(recorder
//!     .events()
//!     .iter()
//!     .any(|r| matches!(r.event, TraceEvent::TimerFired { .. })));
//! ```

mod chrome;
mod event;
mod sink;

pub use chrome::{to_chrome_trace, write_chrome_trace};
pub use event::{CallSource, SystemEvent, TraceEvent, TraceRecord, TriggerPhase};
pub use sink::{JsonLines, Recorder, TraceSink};

/// The version of the JSON trace schema described in this module.
pub const SCHEMA_VERSION: u32 = 1;
