//! The process's file-descriptor limit, and how many connections it leaves room for.
//!
//! Every open connection is a file descriptor, and many systems start a
//! process with a soft limit of 1,024 (`ulimit -n`) under a far higher
//! hard one. `twine serve` raises the soft limit to the hard one at start
//! (as Go's runtime does) and caps the gateway's connections below what is
//! left, so that a flood of connections is closed at accept, cleanly,
//! rather than running the process out of descriptors.

/// Raises the soft `RLIMIT_NOFILE` to the hard limit (at most 2^20) and
/// returns the soft limit now in force, or `None` where it cannot be read.
pub(crate) fn raise() -> Option<u64> {
    #[cfg(unix)]
    {
        let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: getrlimit writes into the struct we pass, which we own.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
            return None;
        }
        let wanted = limit.rlim_max.min(1 << 20);
        if limit.rlim_cur < wanted {
            let raised = libc::rlimit { rlim_cur: wanted, rlim_max: limit.rlim_max };
            // SAFETY: setrlimit reads the struct we pass; a refusal leaves the limit as it was.
            if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
                limit.rlim_cur = wanted;
            }
        }
        #[allow(clippy::unnecessary_cast)] // rlim_t is not u64 everywhere
        Some(limit.rlim_cur as u64)
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// Descriptors kept for everything but client connections: stdio, the
/// pollers and their wakers, listeners, static files being read, logs.
pub(crate) fn reserve(limit: u64) -> u64 {
    (limit / 8).max(32)
}

/// The connection cap a limit of `limit` descriptors leaves room for, at
/// most `wanted`.
pub(crate) fn connection_cap(limit: u64, wanted: u64) -> u64 {
    limit.saturating_sub(reserve(limit)).clamp(1, wanted.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_leaves_a_reserve_below_the_limit() {
        assert_eq!(connection_cap(1024, 10_240), 896);
        assert_eq!(connection_cap(64, 10_240), 32);
        assert_eq!(connection_cap(1 << 20, 10_240), 10_240);
        assert_eq!(connection_cap(10, 10_240), 1);
    }

    #[test]
    fn raising_never_lowers_the_limit() {
        let mut before = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: as in `raise`.
        assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut before) }, 0);
        let now = raise().unwrap();
        #[allow(clippy::unnecessary_cast)] // rlim_t is not u64 everywhere
        let before = before.rlim_cur as u64;
        assert!(now >= before);
    }
}
