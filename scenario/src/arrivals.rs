//! When the clients send: one schedule for the simulation and `twine run`.
//!
//! Both sides draw a scenario's arrivals (open loop) and think times
//! (closed loop) here, from the seed alone, each on its own random stream:
//! the same seed gives the same send times in `twine-sim`, in the browser
//! and on real loopback, whatever else either side draws (jitter, noise,
//! the GIL's picks), so the two compare the server and not two samples of
//! the load (common random numbers). `www/presets/twine.py` draws the same
//! numbers for CPython's load generator.
//!
//! A load generator's first request goes out when it starts (as `ab`,
//! `wrk` or a Twisted client's first `callLater(0, ...)`): the first
//! arrival is at `start`, and the gaps follow it.
//!
//! Times are integer nanoseconds from the run's start; a gap is rounded to
//! the nanosecond and at least one, so arrivals strictly increase.

use crate::rng::Rng;

/// The open-loop arrivals' stream: the seed's, moved away from the other
/// users of the seed (the simulation's jitter, noise and GIL streams).
const OPEN_STREAM: u64 = 0xa881_7a15_0000_0001;
/// The closed-loop clients' streams: one per client, `client` draws apart.
const CLOSED_STREAM: u64 = 0xc105_edc1_1e47_0002;

/// Open-loop send times in nanoseconds: `start`, then one gap after
/// another, each `mean_gap` or, with `poisson`, exponential with that mean.
///
/// ```
/// use twine_scenario::arrivals::OpenArrivals;
///
/// let fixed: Vec<u64> = OpenArrivals::new(7, 1_000_000, 25e6, false).take(3).collect();
/// assert_eq!(fixed, [1_000_000, 26_000_000, 51_000_000]);
/// let a: Vec<u64> = OpenArrivals::new(7, 0, 25e6, true).take(100).collect();
/// let b: Vec<u64> = OpenArrivals::new(7, 0, 25e6, true).take(100).collect();
/// assert_eq!((a[0], &a), (0, &b));
/// ```
#[derive(Clone, Debug)]
pub struct OpenArrivals {
    rng: Rng,
    next: u64,
    mean_gap: f64,
    poisson: bool,
}

impl OpenArrivals {
    /// The schedule for `seed` of clients that start at `start` ns and send
    /// every `mean_gap` ns on average.
    pub fn new(seed: u64, start: u64, mean_gap: f64, poisson: bool) -> OpenArrivals {
        OpenArrivals { rng: Rng::new(seed ^ OPEN_STREAM), next: start, mean_gap, poisson }
    }
}

impl Iterator for OpenArrivals {
    type Item = u64;

    fn next(&mut self) -> Option<u64> {
        let due = self.next;
        let gap = if self.poisson { self.rng.exponential(self.mean_gap) } else { self.mean_gap };
        // At a rate far below one a run the gap is out of range: it saturates.
        self.next = due.saturating_add((gap.round() as u64).max(1));
        Some(due)
    }
}

/// One closed-loop client's random draws: when it first sends, and each
/// think time after an answer. Each client has its own stream, so what it
/// draws does not depend on the order the answers come back in.
///
/// ```
/// use twine_scenario::arrivals::ClosedClient;
///
/// let mut c = ClosedClient::new(7, 0, 10_000_000, false);
/// assert!(c.first_send(500) < 500 + 10_000_000);
/// assert_eq!(c.pause(), 10_000_000);
/// let first = |client| ClosedClient::new(7, client, 10_000_000, true).first_send(0);
/// assert_ne!(first(0), first(1));
/// ```
#[derive(Clone, Debug)]
pub struct ClosedClient {
    rng: Rng,
    think: u64,
    exponential: bool,
}

impl ClosedClient {
    /// Client number `client` of a closed loop with this think time.
    pub fn new(seed: u64, client: u32, think: u64, exponential: bool) -> ClosedClient {
        let mut rng = Rng::new(seed ^ CLOSED_STREAM);
        rng.skip(client as u64);
        ClosedClient { rng: Rng::new(rng.next_u64()), think, exponential }
    }

    /// When the client first sends: after a uniform part of one think time
    /// from `start`, so the clients do not march in step.
    pub fn first_send(&mut self, start: u64) -> u64 {
        start.saturating_add((self.rng.next_f64() * self.think as f64).round() as u64)
    }

    /// How long the client thinks after an answer before it sends again.
    pub fn pause(&mut self) -> u64 {
        if self.exponential {
            self.rng.exponential(self.think as f64).round() as u64
        } else {
            self.think
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poisson_gaps_have_the_asked_mean_and_strictly_increase() {
        let times: Vec<u64> = OpenArrivals::new(3, 0, 25e6, true).take(20_001).collect();
        assert!(times.windows(2).all(|w| w[1] > w[0]));
        let mean = times[20_000] as f64 / 20_000.0;
        assert!((mean - 25e6).abs() < 0.02 * 25e6, "mean gap {mean}");
    }

    #[test]
    fn seeds_give_different_schedules() {
        let a: Vec<u64> = OpenArrivals::new(1, 0, 25e6, true).take(10).collect();
        let b: Vec<u64> = OpenArrivals::new(2, 0, 25e6, true).take(10).collect();
        assert_ne!(a, b);
    }

    #[test]
    fn a_rate_far_below_one_a_run_saturates_instead_of_wrapping() {
        let times: Vec<u64> = OpenArrivals::new(1, 5, 1e30, false).take(3).collect();
        assert_eq!(times, [5, u64::MAX, u64::MAX]);
    }
}
