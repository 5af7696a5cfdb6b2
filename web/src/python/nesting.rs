//! Walking a value's contents in Rust (`repr`, `==`): CPython's guards for
//! a container that holds itself and for nesting deeper than the stack.
//!
//! `repr` of a list that contains itself prints `[[...]]` in CPython
//! (`Py_ReprEnter` keeps, per thread, the containers being printed); a
//! walk nested deeper than a limit raises `RecursionError`. Here each level
//! is Rust recursion, and the browser gives the module a 1 MB stack, so
//! the limit is [`DEPTH_LIMIT`] rather than CPython's 1000.

use std::cell::RefCell;

/// How deeply nested a value `repr` and `==` walk before `RecursionError`.
pub(crate) const DEPTH_LIMIT: usize = 200;

thread_local! {
    /// The containers being walked, outermost first, by identity.
    static ACTIVE: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
}

/// Why a walk cannot enter a container.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refused {
    /// It is being walked already, further out: it contains itself.
    Cycle,
    /// Past [`DEPTH_LIMIT`].
    TooDeep,
}

/// A container being walked; leaving it when dropped.
pub(crate) struct Entered(());

impl Drop for Entered {
    fn drop(&mut self) {
        ACTIVE.with(|a| a.borrow_mut().pop());
    }
}

/// Enters the container with identity `id` for a walk of its contents.
/// `cycles`: whether meeting it again further out is a cycle to report
/// (`repr`) or just more depth (`==`, which CPython also lets run into
/// `RecursionError`).
pub(crate) fn enter(id: usize, cycles: bool) -> Result<Entered, Refused> {
    ACTIVE.with(|a| {
        let mut a = a.borrow_mut();
        if cycles && a.contains(&id) {
            return Err(Refused::Cycle);
        }
        if a.len() >= DEPTH_LIMIT {
            return Err(Refused::TooDeep);
        }
        a.push(id);
        Ok(Entered(()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_container_met_again_further_in_is_a_cycle_and_leaving_forgets_it() {
        let outer = enter(1, true).unwrap();
        assert_eq!(enter(1, true).err(), Some(Refused::Cycle));
        // Not a cycle for a walk that does not look for them.
        drop(enter(1, false).unwrap());
        drop(outer);
        assert!(enter(1, true).is_ok());
    }

    #[test]
    fn nesting_past_the_limit_is_refused() {
        let held: Vec<Entered> = (0..DEPTH_LIMIT).map(|i| enter(i, true).unwrap()).collect();
        assert_eq!(enter(usize::MAX, true).err(), Some(Refused::TooDeep));
        drop(held);
        assert!(enter(usize::MAX, true).is_ok());
    }
}
