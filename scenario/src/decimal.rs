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
    // Little-endian limbs of nine decimal digits each.
    let mut limbs = vec![(mantissa % 1_000_000_000) as u32, (mantissa / 1_000_000_000 % 1_000_000_000) as u32];
    limbs.push((mantissa / 1_000_000_000_000_000_000) as u32);
    let multiply = |limbs: &mut Vec<u32>, factor: u64| {
        let mut carry = 0u64;
        for limb in limbs.iter_mut() {
            let v = u64::from(*limb) * factor + carry;
            *limb = (v % 1_000_000_000) as u32;
            carry = v / 1_000_000_000;
        }
        while carry > 0 {
            limbs.push((carry % 1_000_000_000) as u32);
            carry /= 1_000_000_000;
        }
    };
    // m * 2^e, or m * 5^-e over 10^-e, in steps that keep a limb's product
    // within u64 (2^27 and 5^13 are below 2^32).
    let (factor, step, mut left) = if exp >= 0 { (2u64, 27, exp) } else { (5u64, 13, -exp) };
    while left > 0 {
        let n = left.min(step);
        multiply(&mut limbs, factor.pow(n as u32));
        left -= n;
    }
    let mut digits = Vec::with_capacity(limbs.len() * 9);
    for limb in limbs.iter().rev() {
        digits.extend_from_slice(format!("{limb:09}").as_bytes());
    }
    let leading = digits.iter().take_while(|&&d| d == b'0').count();
    digits.drain(..leading);
    let point = digits.len() as i32 - exp.min(0).abs();
    (digits, point)
}

/// Keeps the first `keep` of `digits` (padding with zeros), rounded half to
/// even on the rest. Returns whether the rounding carried into a new first
/// digit (`999` to `1000`), which it then is.
fn round(digits: &mut Vec<u8>, keep: usize) -> bool {
    if digits.len() <= keep {
        digits.resize(keep, b'0');
        return false;
    }
    let rest = digits.split_off(keep);
    let up = match rest[0] {
        b'6'..=b'9' => true,
        b'5' => rest[1..].iter().any(|&d| d != b'0') || digits.last().is_some_and(|d| (d - b'0') % 2 == 1),
        _ => false,
    };
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
    let (mut digits, point) = exact(x);
    // Put the digits as they stand from the units' place on: zeros before a
    // point that is to the left of them.
    let mut point = point;
    if point < 1 {
        let mut padded = vec![b'0'; (1 - point) as usize];
        padded.append(&mut digits);
        digits = padded;
        point = 1;
    }
    if round(&mut digits, point as usize + p) {
        point += 1;
    }
    let (int, frac) = digits.split_at(point as usize);
    if p == 0 {
        text(int).to_owned()
    } else {
        format!("{}.{}", text(int), text(frac))
    }
}

/// `x` (finite, not negative) as one digit, a point and `p` more digits
/// (no point when `p` is 0), and the power of ten: `("1.23", 3)` for 1234.5
/// and 2 (std's `{:.2e}` is `1.23e3`). Zero is `("0.00", 0)`.
pub fn scientific(x: f64, p: usize) -> (String, i32) {
    let (mut digits, point) = exact(x);
    let mut exp = if x == 0.0 { 0 } else { point - 1 };
    if round(&mut digits, p + 1) {
        digits.pop();
        exp += 1;
    }
    let (first, rest) = digits.split_at(1);
    let mantissa = if p == 0 { text(first).to_owned() } else { format!("{}.{}", text(first), text(rest)) };
    (mantissa, exp)
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
        // Values halfway between two texts, where rounding up and to even differ.
        for (x, p) in [(0.5, 0), (2.5, 0), (0.125, 2), (1.0625, 3), (1e23, 0), (123.5, 0)] {
            assert_eq!(fixed(x, p), format!("{x:.p$}"));
            let (m, e) = scientific(x, p);
            assert_eq!(format!("{m}e{e}"), format!("{x:.p$e}"));
        }
    }
}
