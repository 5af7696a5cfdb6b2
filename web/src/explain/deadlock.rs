//! The wait-for cycle of a deadlocked run.
//!
//! Each thread blocked on a lock waits for that lock's holder; following
//! "waits for the holder of" from a blocked thread either reaches a thread
//! that is not waiting (no deadlock through it) or comes back to a thread
//! already on the path: the cycle.

use twine_scenario::metrics::{Deadlock, DeadlockEdge};

/// One lock as the finder sees it.
pub(crate) struct LockView<'a> {
    pub name: &'a str,
    /// Its holder (`u32::MAX`: held for nobody, as a join before the thread ends).
    pub holder: Option<u32>,
    pub waiters: Vec<u32>,
}

/// The first wait-for cycle, from the lowest-numbered blocked thread, or
/// `None` when the waits end at a thread that could still release.
pub(crate) fn find_cycle(locks: &[LockView<'_>], thread_name: impl Fn(u32) -> String) -> Option<Deadlock> {
    let waits_for = |thread: u32| locks.iter().position(|l| l.waiters.contains(&thread));
    let starts: Vec<u32> = locks.iter().flat_map(|l| l.waiters.iter().copied()).collect();
    let starts = crate::order::sorted_by(starts, &mut |a, b| a.cmp(b));
    for start in starts {
        // (thread, lock it waits for)
        let mut path: Vec<(u32, usize)> = Vec::new();
        let mut thread = start;
        while let Some(lock) = waits_for(thread) {
            if let Some(i) = path.iter().position(|(t, _)| *t == thread) {
                let cycle = &path[i..];
                let held_by = |t: u32| cycle.iter().map(|(_, l)| *l).find(|l| locks[*l].holder == Some(t));
                let cycle = cycle
                    .iter()
                    .map(|&(t, l)| DeadlockEdge {
                        thread: thread_name(t),
                        holds: held_by(t).map_or_else(String::new, |h| locks[h].name.to_owned()),
                        waits_for: locks[l].name.to_owned(),
                    })
                    .collect();
                return Some(Deadlock { cycle });
            }
            path.push((thread, lock));
            match locks[lock].holder {
                Some(holder) if holder != u32::MAX => thread = holder,
                _ => break,
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(t: u32) -> String {
        format!("thread-{t}")
    }

    #[test]
    fn two_threads_taking_two_locks_in_opposite_order() {
        let locks = [
            LockView { name: "A", holder: Some(1), waiters: vec![2] },
            LockView { name: "B", holder: Some(2), waiters: vec![1] },
        ];
        let d = find_cycle(&locks, name).unwrap();
        assert_eq!(
            d.to_string(),
            "thread-1 holds lock A and waits for lock B; thread-2 holds lock B and waits for lock A"
        );
    }

    #[test]
    fn a_wait_that_ends_at_a_running_thread_is_no_cycle() {
        let locks = [
            LockView { name: "A", holder: Some(1), waiters: vec![2, 3] },
            LockView { name: "join", holder: Some(u32::MAX), waiters: vec![1] },
        ];
        assert_eq!(find_cycle(&locks, name), None);
    }
}
