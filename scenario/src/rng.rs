//! A small seeded PRNG that gives the same numbers on every platform.
//!
//! The simulation must produce the same trace natively (`twine-sim`, tests)
//! and in the browser (wasm), and `twine run` the same client arrivals as
//! the simulation (see [`crate::arrivals`]), so nothing here may depend on
//! the platform's math library: `f64::ln` comes from the host's libm natively and from a
//! Rust port in wasm, and the two may differ in the last bit. Everything
//! below uses only `+ - * /` and bit operations, which IEEE 754 pins down.

/// SplitMix64's step: its state advances by this each draw.
const GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;

/// SplitMix64: tiny, fast, and good enough for arrival times and jitter.
///
/// ```
/// use twine_scenario::rng::Rng;
///
/// let mut a = Rng::new(7);
/// let mut b = Rng::new(7);
/// assert_eq!(a.next_u64(), b.next_u64());
/// let x = a.next_f64();
/// assert!((0.0..1.0).contains(&x));
/// ```
#[derive(Clone, Debug)]
pub struct Rng {
    state: u64,
}

impl Rng {
    /// A generator for `seed`. Equal seeds give equal sequences.
    pub fn new(seed: u64) -> Rng {
        Rng { state: seed ^ 0x6a09_e667_f3bc_c909 }
    }

    /// Skips the next `n` draws at once (SplitMix64's state only counts).
    ///
    /// ```
    /// use twine_scenario::rng::Rng;
    ///
    /// let (mut a, mut b) = (Rng::new(5), Rng::new(5));
    /// a.skip(3);
    /// (0..3).for_each(|_| drop(b.next_u64()));
    /// assert_eq!(a.next_u64(), b.next_u64());
    /// ```
    pub fn skip(&mut self, n: u64) {
        self.state = self.state.wrapping_add(GAMMA.wrapping_mul(n));
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GAMMA);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A uniform number in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// An exponentially distributed number with the given mean (Poisson
    /// inter-arrival times, think times).
    ///
    /// ```
    /// use twine_scenario::rng::Rng;
    ///
    /// let mut rng = Rng::new(1);
    /// let n = 20_000;
    /// let mean = (0..n).map(|_| rng.exponential(5.0)).sum::<f64>() / n as f64;
    /// assert!((mean - 5.0).abs() < 0.2);
    /// ```
    pub fn exponential(&mut self, mean: f64) -> f64 {
        // 1 - u is in (0, 1], so the logarithm is finite.
        -mean * ln(1.0 - self.next_f64())
    }

    /// `value` scaled by a uniform factor in `[1, 1 + fraction]`: jitter for
    /// a timed wait, which a real machine can lengthen but never shorten.
    ///
    /// ```
    /// use twine_scenario::rng::Rng;
    ///
    /// let mut rng = Rng::new(9);
    /// assert!((0..1000).all(|_| (1000..=1200).contains(&rng.lengthen(1000, 0.2))));
    /// ```
    pub fn lengthen(&mut self, value: u64, fraction: f64) -> u64 {
        if fraction <= 0.0 || value == 0 {
            return value;
        }
        let factor = 1.0 + fraction * self.next_f64();
        (value as f64 * factor).round() as u64
    }

    /// `value` scaled by a uniform factor in `[1 - fraction, 1 + fraction]`.
    pub fn jitter(&mut self, value: u64, fraction: f64) -> u64 {
        if fraction <= 0.0 || value == 0 {
            return value;
        }
        let factor = 1.0 + fraction * (2.0 * self.next_f64() - 1.0);
        (value as f64 * factor).round().max(0.0) as u64
    }
}

/// The natural logarithm, computed with basic arithmetic only so that it
/// gives the same bits on every target. For `x <= 0` it returns negative
/// infinity (the callers never pass one).
///
/// ```
/// use twine_scenario::rng::ln;
///
/// assert!((ln(10.0) - std::f64::consts::LN_10).abs() < 1e-15);
/// assert_eq!(ln(1.0), 0.0);
/// ```
pub fn ln(x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if x.is_infinite() {
        return x;
    }
    let mut bits = x.to_bits();
    let mut exponent = ((bits >> 52) & 0x7ff) as i64 - 1023;
    if exponent == -1023 {
        // Subnormal: scale into the normal range first.
        bits = (x * (1u64 << 54) as f64).to_bits();
        exponent = ((bits >> 52) & 0x7ff) as i64 - 1023 - 54;
    }
    let mut mantissa = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    if mantissa > std::f64::consts::SQRT_2 {
        mantissa /= 2.0;
        exponent += 1;
    }
    // ln(m) = 2 atanh(s) with s = (m - 1) / (m + 1), |s| < 0.172: the series
    // converges to full precision in a dozen terms.
    let s = (mantissa - 1.0) / (mantissa + 1.0);
    let s2 = s * s;
    let mut term = s;
    let mut sum = s;
    for k in 1..=13 {
        term *= s2;
        sum += term / (2 * k + 1) as f64;
    }
    2.0 * sum + exponent as f64 * std::f64::consts::LN_2
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn ln_matches_the_platform_closely() {
        for x in [1e-300, 1e-10, 0.001, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 1e6, 1e300, 5e-324] {
            let ours = ln(x);
            let std = x.ln();
            assert!((ours - std).abs() <= 1e-14 * std.abs().max(1.0), "ln({x}) = {ours}, std says {std}");
        }
    }

    #[test]
    fn jitter_stays_in_its_band() {
        let mut rng = Rng::new(3);
        for _ in 0..1000 {
            let v = rng.jitter(1000, 0.2);
            assert!((800..=1200).contains(&v));
        }
        assert_eq!(rng.jitter(1000, 0.0), 1000);
    }
}
