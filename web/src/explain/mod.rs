//! Explanations the engine records as a run goes: which write lost whose
//! updates ([`lost`]) and, when a run ends stuck, the wait-for cycle
//! ([`deadlock`]).

pub(crate) mod deadlock;
pub(crate) mod lost;
