//! The scenario's `cores`, for real: a run's threads are kept to that many
//! of the machine's CPUs.
//!
//! The simulation runs a scenario on `machine.cores` cores; a real run left
//! to the OS would use every CPU the machine has, so `"cores": 1` without a
//! GIL would run four threads twice as fast on a 2-CPU machine as the
//! scenario says. The calling thread takes the first `min(cores,
//! available)` of the CPUs it may run on before it starts the run's
//! threads, which inherit that set (the reactor, and through it the pool
//! threads it starts, and the plain threads); it gets its own set back
//! before the clients start, since clients stand for other machines. A
//! scenario asking for more cores than the machine has gets all of them,
//! and the metrics say so ([`RealCores`]).

pub use twine_scenario::metrics::RealCores;

/// The calling thread kept to a few CPUs until this is dropped (its own
/// set back then; threads it started meanwhile keep theirs).
pub(crate) struct Pinned {
    pub cores: RealCores,
    #[cfg(target_os = "linux")]
    saved: Option<libc::cpu_set_t>,
}

#[cfg(target_os = "linux")]
fn own_cpus() -> Option<libc::cpu_set_t> {
    // SAFETY: a zeroed cpu_set_t is a valid, empty set; the size passed is its own.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        (libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) == 0).then_some(set)
    }
}

#[cfg(target_os = "linux")]
fn set_own_cpus(set: &libc::cpu_set_t) -> bool {
    // SAFETY: `set` is a valid cpu_set_t of the size passed; pid 0 is the calling thread.
    unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), set) == 0 }
}

impl Pinned {
    /// Keeps the calling thread, and the threads it starts from now on, to
    /// `asked` of the CPUs it may use (all of them if it may use fewer).
    #[cfg(target_os = "linux")]
    pub(crate) fn to(asked: u32) -> Pinned {
        let Some(saved) = own_cpus() else {
            return Pinned { cores: RealCores { asked, used: None }, saved: None };
        };
        // SAFETY: every index is below CPU_SETSIZE, `saved` a valid set.
        let cpus: Vec<usize> =
            (0..libc::CPU_SETSIZE as usize).filter(|&c| unsafe { libc::CPU_ISSET(c, &saved) }).collect();
        let used = (asked as usize).min(cpus.len());
        // SAFETY: a zeroed cpu_set_t is a valid, empty set.
        let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        for &c in &cpus[..used] {
            // SAFETY: `c` came from the set above, so it is below CPU_SETSIZE.
            unsafe { libc::CPU_SET(c, &mut set) };
        }
        if used < cpus.len() && !set_own_cpus(&set) {
            return Pinned { cores: RealCores { asked, used: None }, saved: None };
        }
        Pinned { cores: RealCores { asked, used: Some(used as u32) }, saved: (used < cpus.len()).then_some(saved) }
    }

    /// Elsewhere the OS decides: the metrics say the cores were not kept.
    #[cfg(not(target_os = "linux"))]
    pub(crate) fn to(asked: u32) -> Pinned {
        Pinned { cores: RealCores { asked, used: None } }
    }
}

/// Gives the calling thread its own CPUs back (threads started since keep theirs).
impl Drop for Pinned {
    fn drop(&mut self) {
        #[cfg(target_os = "linux")]
        if let Some(saved) = &self.saved {
            set_own_cpus(saved);
        }
    }
}
