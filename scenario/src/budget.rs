//! What a scenario may cost, checked before it runs.
//!
//! A scenario is short enough to travel in a share link, but a few numbers
//! in it can ask for more memory than a browser tab has: ten thousand
//! thread entries of `count` 1000 each, nested `repeat`s of steps that
//! take no virtual time (the event limit is looked at between calls, not
//! inside one), or a `max_events` in the billions. Each per-entry limit can hold while the total does not, so
//! the totals are capped here, and the error names the field to lower.

use super::spec::Step;

/// Plain threads in all (the sum of every entry's `count`).
pub(super) const MAX_THREADS: u64 = 10_000;

/// Steps that take no virtual time (`print`, `call_later`, `fail`, ...)
/// one call may run before it ends, counting each `repeat` as its `times`
/// × the steps inside it (nested repeats multiply). Steps that take time
/// (`cpu`, `io`, `sleep`, counters) end a call and let the event limit
/// stop the run, so they do not count.
pub(super) const MAX_STEPS_PER_CALL: f64 = 1_000_000.0;

/// The largest `max_events`.
pub(super) const MAX_EVENTS: u64 = 10_000_000;

/// Bytes the trace keeps per event, a generous estimate for the message
/// (a trace record is 48 to 64 bytes, plus what its text takes).
pub(super) const BYTES_PER_EVENT: u64 = 100;

/// How many steps that take no virtual time running `steps` once may run
/// in one call, at most: a `repeat` runs its body `times` times, `lock`
/// and `errback` bodies run in the same call; the bodies of scheduled work
/// (timers, threads, triggers) are calls of their own, checked on their own.
pub(super) fn steps_per_call(steps: &[Step]) -> f64 {
    steps
        .iter()
        .map(|step| match step {
            Step::Cpu(_) | Step::Io(_) | Step::Sleep(_) | Step::Increment(_) | Step::Read(_) | Step::Write(_) => 0.0,
            Step::Repeat(r) => f64::from(r.times) * steps_per_call(&r.steps),
            Step::Lock(l) => 1.0 + steps_per_call(&l.steps),
            Step::Errback(body) => 1.0 + steps_per_call(body),
            _ => 1.0,
        })
        .sum()
}

/// `n` in a short form: `12000`, `3.2e9`.
pub(super) fn count(n: f64) -> String {
    if n < 1e7 {
        super::decimal::fixed(n, 0)
    } else {
        let (mantissa, exp) = super::decimal::scientific(n, 1);
        format!("{mantissa}e{exp}")
    }
}
