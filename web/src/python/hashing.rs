//! CPython 3.11's `hash()`, where it is the same on every run: ints and
//! bools, floats but NaN, tuples of those, and instances' own `__hash__`.
//! `hash()` returns it and a set of such values iterates in the order it
//! gives CPython's table ([`sets`](super::sets)). A str's (or bytes') hash
//! changes from run to run in CPython (hash randomisation) and None's,
//! NaN's and an object's follow its address: for those there is none here.

use super::value::Key;

/// The prime CPython reduces numbers by: `hash(x)` is `x` modulo it for
/// ints and floats alike, so equal numbers hash alike (`hash(2) == hash(2.0)`).
const MODULUS: u64 = (1 << 61) - 1;
const BITS: i32 = 61;

/// CPython's hash of `key`, or `None` where CPython's depends on the run.
pub(crate) fn of(key: &Key) -> Option<i64> {
    match key {
        Key::Int(i) => Some(signed(*i < 0, i.unsigned_abs() % MODULUS)),
        Key::Big(b) => {
            let m = num_traits::ToPrimitive::to_u64(&(b.magnitude() % MODULUS)).unwrap_or(0);
            Some(signed(num_traits::Signed::is_negative(b), m))
        }
        Key::Float(bits) => float(f64::from_bits(*bits)),
        Key::Tuple(items) => tuple(items),
        Key::Hashed(h, _) => Some(*h),
        _ => None,
    }
}

/// A hash of magnitude `h`, negated for a negative number; -1 is -2, as
/// CPython keeps -1 to mean an error.
fn signed(negative: bool, h: u64) -> i64 {
    let h = if negative { -(h as i64) } else { h as i64 };
    if h == -1 {
        -2
    } else {
        h
    }
}

/// A float `m * 2**e` (`m` its 53-bit mantissa) reduces to `m * 2**(e mod 61)`:
/// 2**61 is 1 modulo the prime, and so is 2**-61. What CPython's
/// `_Py_HashDouble` computes, with infinities as ±314159.
fn float(f: f64) -> Option<i64> {
    if f.is_nan() {
        return None;
    }
    if f.is_infinite() {
        return Some(if f > 0.0 { 314_159 } else { -314_159 });
    }
    let bits = f.to_bits();
    let exponent = ((bits >> 52) & 0x7ff) as i32;
    let fraction = bits & ((1 << 52) - 1);
    // Subnormals have no implicit leading 1 and the least exponent.
    let (mantissa, e) = if exponent == 0 { (fraction, -1074) } else { (fraction | 1 << 52, exponent - 1075) };
    let h = (u128::from(mantissa) << e.rem_euclid(BITS)) % u128::from(MODULUS);
    Some(signed(f < 0.0, h as u64))
}

/// CPython 3.11's `tuplehash`: xxHash's rounds over the items' hashes.
fn tuple(items: &[Key]) -> Option<i64> {
    const PRIME_1: u64 = 11_400_714_785_074_694_791;
    const PRIME_2: u64 = 14_029_467_366_897_019_727;
    const PRIME_5: u64 = 2_870_177_450_012_600_261;
    let mut acc = PRIME_5;
    for item in items {
        let lane = of(item)? as u64;
        acc = acc.wrapping_add(lane.wrapping_mul(PRIME_2)).rotate_left(31).wrapping_mul(PRIME_1);
    }
    acc = acc.wrapping_add(items.len() as u64 ^ (PRIME_5 ^ 3_527_539));
    Some(if acc == u64::MAX { 1_546_275_796 } else { acc as i64 })
}
