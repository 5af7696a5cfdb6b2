//! Floats as decimal text, without std's float formatting: `%.2f`,
//! `%.3e`, `round(x, 2)` and `repr(x)` for the playground's Python, and
//! the numbers in this crate's messages and program output, exactly as
//! std's `{:.3}`, `{:.1e}`, `{}` and `{:e}` write them.
//!
//! Why: any use of std's float formatting brings all of it along (Grisu
//! and Dragon4, shortest and exact, with their tables: about 20 KB of the
//! playground's light wasm module, 6 KB brotli). Here digits to a given
//! precision come from the float's exact value, which is short work for a
//! little big integer (it is `m * 2^e`, so `m * 5^-e` with the point `-e`
//! digits from the right), rounded half to even as std and CPython round;
//! the shortest digits that read back come from zmij, serde_json's float
//! writer, which the module carries for JSON anyway.
//!
//! ```
//! use twine_scenario::decimal::{display, fixed, scientific};
//!
//! assert_eq!(fixed(2.675, 2), "2.67"); // 2.67499999999999982236431605997495353221893310546875
//! assert_eq!(fixed(0.125, 2), "0.12"); // exactly halfway: to even
//! assert_eq!(scientific(1234.5, 2), ("1.23".to_owned(), 3));
//! assert_eq!(display(1e21), "1000000000000000000000");
//! ```

/// `x`'s exact decimal digits (no leading zeros; "0" for zero) and how many
/// of them come before the point (may be negative or beyond their count).
/// `x` is finite and not negative.
fn exact(x: f64) -> (Vec<u8>, i32) {
    let bits = x.to_bits();
    let exp_bits = ((bits >> 52) & 0x7ff) as i32;
    let fraction = bits & ((1 << 52) - 1);
    let (mantissa, exp) = if exp_bits == 0 { (fraction, -1074) } else { (fraction | 1 << 52, exp_bits - 1075) };
    if mantissa == 0 {
        return (vec![b'0'], 1);
    }
    // The mantissa's trailing zero bits make the number no longer, only slower to reach.
    let shift = mantissa.trailing_zeros() as i32;
    let (mantissa, exp) = (mantissa >> shift, exp + shift);
    // Little-endian limbs of nine decimal digits each: m * 2^e, or m * 5^-e
    // over 10^-e, in steps that keep a limb's product within u64 (2^27 and
    // 5^13 are below 2^32).
    let mut limbs = Vec::with_capacity(4 + exp.unsigned_abs() as usize / 12);
    let mut m = mantissa;
    while m > 0 {
        limbs.push((m % 1_000_000_000) as u32);
        m /= 1_000_000_000;
    }
    let (factor, step, mut left) = if exp >= 0 { (2u64, 27, exp) } else { (5u64, 13, -exp) };
    while left > 0 {
        let n = left.min(step);
        let by = factor.pow(n as u32);
        let mut carry = 0u64;
        for limb in limbs.iter_mut() {
            let v = u64::from(*limb) * by + carry;
            *limb = (v % 1_000_000_000) as u32;
            carry = v / 1_000_000_000;
        }
        while carry > 0 {
            limbs.push((carry % 1_000_000_000) as u32);
            carry /= 1_000_000_000;
        }
        left -= n;
    }
    let mut digits = Vec::with_capacity(limbs.len() * 9);
    for (i, &limb) in limbs.iter().rev().enumerate() {
        let mut nine = [b'0'; 9];
        let mut v = limb;
        for d in nine.iter_mut().rev() {
            *d = b'0' + (v % 10) as u8;
            v /= 10;
        }
        // The top limb's leading zeros are not digits of the number.
        let from = if i == 0 { nine.iter().take_while(|&&d| d == b'0').count() } else { 0 };
        digits.extend_from_slice(&nine[from..]);
    }
    let point = digits.len() as i32 - exp.min(0).abs();
    (digits, point)
}

/// `x * 10^p` rounded half to even, when it is quick to have exactly: `x`
/// is `m * 2^e`, so it is `m * 10^p` shifted by `e`, in 128 bits.
fn scaled_integer(x: f64, p: usize) -> Option<u64> {
    let bits = x.to_bits();
    let exp_bits = ((bits >> 52) & 0x7ff) as i32;
    let fraction = bits & ((1 << 52) - 1);
    let (mantissa, exp) = if exp_bits == 0 { (fraction, -1074) } else { (fraction | 1 << 52, exp_bits - 1075) };
    if p > 19 || !(-127..=10).contains(&exp) {
        return None;
    }
    // Below 2^53 * 10^19 < 2^117, so a shift by up to 10 stays within 128 bits.
    let scaled = u128::from(mantissa) * 10u128.pow(p as u32);
    let rounded = if exp >= 0 {
        scaled << exp
    } else {
        let k = exp.unsigned_abs();
        let (whole, rest, half) = (scaled >> k, scaled & ((1 << k) - 1), 1u128 << (k - 1));
        whole + u128::from(rest > half || rest == half && whole % 2 == 1)
    };
    u64::try_from(rounded).ok()
}

/// Keeps the first `keep` of `digits` (padding with zeros), rounded half to
/// even on the rest. Returns whether the rounding carried into a new first
/// digit (`999` to `1000`), which it then is.
fn round(digits: &mut Vec<u8>, keep: usize) -> bool {
    if digits.len() <= keep {
        digits.resize(keep, b'0');
        return false;
    }
    let up = match digits[keep] {
        b'6'..=b'9' => true,
        b'5' => digits[keep + 1..].iter().any(|&d| d != b'0') || keep > 0 && (digits[keep - 1] - b'0') % 2 == 1,
        _ => false,
    };
    digits.truncate(keep);
    if !up {
        return false;
    }
    for d in digits.iter_mut().rev() {
        if *d == b'9' {
            *d = b'0';
        } else {
            *d += 1;
            return false;
        }
    }
    digits.insert(0, b'1');
    true
}

fn text(digits: &[u8]) -> &str {
    std::str::from_utf8(digits).expect("ASCII digits")
}

/// `x` (finite, not negative) with `p` digits after the point: std's `{:.p$}`.
pub fn fixed(x: f64, p: usize) -> String {
    if let Some(scaled) = scaled_integer(x, p) {
        // The common case (a precision up to 19, a value up to 1.8e19 once
        // scaled): one 128-bit product, no digit of the exact value needed.
        let digits = format!("{scaled:0>width$}", width = p + 1);
        let (int, frac) = digits.split_at(digits.len() - p);
        return if p == 0 { digits } else { format!("{int}.{frac}") };
    }
    let (mut digits, point) = exact(x);
    // Put the digits as they stand from the units' place on: zeros before a
    // point that is to the left of them.
    let mut point = point;
    if point < 1 {
        digits.splice(0..0, std::iter::repeat_n(b'0', (1 - point) as usize));
        point = 1;
    }
    if round(&mut digits, point as usize + p) {
        point += 1;
    }
    let (int, frac) = digits.split_at(point as usize);
    let mut out = String::with_capacity(digits.len() + 1);
    out.push_str(text(int));
    if p > 0 {
        out.push('.');
        out.push_str(text(frac));
    }
    out
}

/// `x` (finite, not negative) as one digit, a point and `p` more digits
/// (no point when `p` is 0), and the power of ten: `("1.23", 3)` for 1234.5
/// and 2 (std's `{:.2e}` is `1.23e3`). Zero is `("0.00", 0)`.
pub fn scientific(x: f64, p: usize) -> (String, i32) {
    let (digits, exp) = scientific_quick(x, p).unwrap_or_else(|| {
        let (mut digits, point) = exact(x);
        let mut exp = if x == 0.0 { 0 } else { point - 1 };
        if round(&mut digits, p + 1) {
            digits.pop();
            exp += 1;
        }
        (digits, exp)
    });
    let (first, rest) = digits.split_at(1);
    let mantissa = if p == 0 { text(first).to_owned() } else { format!("{}.{}", text(first), text(rest)) };
    (mantissa, exp)
}

/// [`scientific`]'s `p + 1` digits and power of ten by [`scaled_integer`],
/// when that can have them: the power from the float's logarithm, checked
/// (and moved by one) against the digits it gives.
fn scientific_quick(x: f64, p: usize) -> Option<(Vec<u8>, i32)> {
    if x == 0.0 || p > 18 {
        return None;
    }
    let low = 10u64.pow(p as u32);
    let mut exp = x.log10().floor() as i32;
    for _ in 0..3 {
        let scaled = scaled_integer(x, usize::try_from(p as i32 - exp).ok()?)?;
        if scaled < low {
            exp -= 1;
        } else if scaled > low * 10 {
            exp += 1;
        } else if scaled == low * 10 {
            // Rounded up into one more digit (9.99 to 10.0): 1.00 at the next power.
            return Some((format!("{low}").into_bytes(), exp + 1));
        } else {
            return Some((scaled.to_string().into_bytes(), exp));
        }
    }
    None
}

/// The shortest digits that read back as `x` (finite, above zero), without
/// leading or trailing zeros, and the power of ten of the first: `("15",
/// -5)` for 1.5e-05. Where two texts of that length are equally near, the
/// last digit is even (as CPython's `repr`; std's `{:e}` rounds up there).
pub fn shortest(x: f64) -> (String, i32) {
    let mut buffer = zmij::Buffer::new();
    let text = buffer.format_finite(x);
    // zmij writes `1.5e-5`, `1e16` or `0.0001`: any decimal form will do.
    let (mantissa, exp) = text.split_once(['e', 'E']).map_or((text, 0), |(m, e)| (m, e.parse().unwrap_or(0)));
    let point = mantissa.find('.').unwrap_or(mantissa.len()) as i32;
    let all: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let leading_zeros = (all.len() - all.trim_start_matches('0').len()) as i32;
    (all.trim_matches('0').to_owned(), point - 1 - leading_zeros + exp)
}

/// `x` (finite) as std's `{}` writes it: the shortest digits, never an
/// exponent, no point for a whole number (`5`, `0.001`, `-0`).
pub fn display(x: f64) -> String {
    let sign = if x.is_sign_negative() { "-" } else { "" };
    if x == 0.0 {
        return format!("{sign}0");
    }
    let (digits, exp) = shortest(x.abs());
    let n = digits.len() as i32;
    let body = if exp < 0 {
        format!("0.{}{digits}", "0".repeat((-exp - 1) as usize))
    } else if exp + 1 >= n {
        format!("{digits}{}", "0".repeat((exp + 1 - n) as usize))
    } else {
        format!("{}.{}", &digits[..exp as usize + 1], &digits[exp as usize + 1..])
    };
    format!("{sign}{body}")
}

/// `x` (finite) as std's `{:e}` writes it: `1e300`, `-1.5e-7`, `0e0`.
pub fn display_exp(x: f64) -> String {
    let sign = if x.is_sign_negative() { "-" } else { "" };
    if x == 0.0 {
        return format!("{sign}0e0");
    }
    let (digits, exp) = shortest(x.abs());
    let (first, rest) = digits.split_at(1);
    let point = if rest.is_empty() { "" } else { "." };
    format!("{sign}{first}{point}{rest}e{exp}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_are_rounded_on_the_exact_value_halves_to_even() {
        assert_eq!(fixed(2.675, 2), "2.67");
        assert_eq!(fixed(0.125, 2), "0.12");
        assert_eq!(fixed(0.375, 2), "0.38");
        assert_eq!(fixed(0.5, 0), "0");
        assert_eq!(fixed(1.5, 0), "2");
        assert_eq!(fixed(9.999, 2), "10.00");
        assert_eq!(fixed(0.0, 3), "0.000");
        assert_eq!(fixed(1e22, 1), "10000000000000000000000.0");
        assert_eq!(fixed(0.001, 1), "0.0");
        assert_eq!(fixed(0.06, 1), "0.1");
        assert_eq!(scientific(1234.5, 2), ("1.23".into(), 3));
        assert_eq!(scientific(9.99, 1), ("1.0".into(), 1));
        assert_eq!(scientific(0.0, 2), ("0.00".into(), 0));
        assert_eq!(scientific(5e-324, 3), ("4.941".into(), -324));
        assert_eq!(scientific(2.5, 0), ("2".into(), 0));
    }

    #[test]
    fn the_text_is_what_std_writes() {
        // std rounds on the exact value, halves to even, as CPython does:
        // over doubles of every magnitude, subnormals included, and
        // precisions from none to past the longest exact expansion.
        let mut bits = 0x2545_F491_4F6C_DD1D_u64;
        for i in 0..40_000 {
            bits = bits.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let x = f64::from_bits(bits >> 1);
            if !x.is_finite() {
                continue;
            }
            let p = [0, 1, 2, 3, 6, 17, 30, 400, 1100][i % 9];
            if x < 1e30 {
                assert_eq!(fixed(x, p), format!("{x:.p$}"), "{x:e} .{p}");
            }
            let std = format!("{x:.p$e}");
            let (m, e) = scientific(x, p);
            assert_eq!(format!("{m}e{e}"), std, "{x:e} .{p}e");
        }
        // The shortest forms, with std's own halfway cases left out (std
        // rounds those up, zmij and CPython to even).
        let mut bits = 0x9E37_79B9_7F4A_7C15_u64;
        for _ in 0..300_000 {
            bits = bits.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let x = f64::from_bits(bits);
            if !x.is_finite() {
                continue;
            }
            let (std_e, std_d) = (format!("{x:e}"), format!("{x}"));
            if display_exp(x) != std_e {
                // Both as short and both read back: a halfway case.
                assert_eq!(display_exp(x).len(), std_e.len(), "{std_e}");
                assert_eq!(display_exp(x).parse::<f64>(), Ok(x), "{std_e}");
                continue;
            }
            assert_eq!(display(x), std_d, "{std_e}");
        }
        assert_eq!(shortest(162_214_972_029_042.12), ("16221497202904212".to_owned(), 14));
        // Everyday values and precisions (the 128-bit paths).
        for i in 0..200_000_u64 {
            bits = bits.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let x = (bits >> 11) as f64 / (1u64 << 53) as f64 * [1.0, 1e3, 1e6, 1e-3, 1e12][(i % 5) as usize];
            let p = (i % 21) as usize;
            assert_eq!(fixed(x, p), format!("{x:.p$}"), "{x:e} .{p}");
            let (m, e) = scientific(x, p);
            assert_eq!(format!("{m}e{e}"), format!("{x:.p$e}"), "{x:e} .{p}e");
        }
        // Values halfway between two texts, where rounding up and to even differ.
        for (x, p) in [(0.5, 0), (2.5, 0), (0.125, 2), (1.0625, 3), (1e23, 0), (123.5, 0)] {
            assert_eq!(fixed(x, p), format!("{x:.p$}"));
            let (m, e) = scientific(x, p);
            assert_eq!(format!("{m}e{e}"), format!("{x:.p$e}"));
        }
    }
}
