//! Ints past 64 bits: `math.factorial(30)`, `2 ** 100`, `sum(i * i for i
//! in range(10 ** 7))`. An int is a [`Value::Int`] while it fits in an
//! `i64`; an operation whose result does not gives a [`Value::Big`]
//! instead of overflowing, and a big result that fits again comes back as
//! an `Int` ([`value`]), so the rest of the interpreter meets a `Big` only
//! where a value really is that large. CPython has one `int` type; so does
//! the program here (`type(2 ** 100)` is `int`).
//!
//! Arithmetic (`+ - * / // % **`, `divmod`, `pow(a, b, m)`, shifts and bit
//! operators, `-`, `~`, `abs`), comparisons with ints and floats, hashing,
//! `str`/`repr`/`format` and `int()`/`float()` take them; where a big int
//! cannot go (an index, a count, a `range` bound), the error is CPython's
//! "Python int too large to convert to C ssize_t".
//!
//! The presets never leave 64 bits: the light module leaves this out
//! ([`HERE`]) and overflows as before.

use std::cmp::Ordering;
use std::rc::Rc;

use num_bigint::BigInt;
use num_integer::Integer;
use num_traits::{One, Signed, ToPrimitive, Zero};

use super::code::BinOp;
use super::value::Value;
use super::vm::{PyResult, Vm};

/// Whether this build has big ints: the full module's.
pub(crate) const HERE: bool = super::compile::PARSER;

/// The most bits a big int may have here (about 300,000 decimal digits):
/// CPython's limit is memory, a simulated program runs in a browser tab.
/// (CPython 3.11 also refuses to convert an int of more than 4300 digits to
/// a string: [`MAX_STR_DIGITS`].)
const MAX_BITS: u64 = 1 << 20;

/// CPython 3.11's `sys.get_int_max_str_digits()` default.
const MAX_STR_DIGITS: usize = 4300;

/// `b` as a value: an `Int` if it fits.
pub(crate) fn value(b: BigInt) -> Value {
    match b.to_i64() {
        Some(i) => Value::Int(i),
        None => Value::Big(Rc::new(b)),
    }
}

/// An int value (`bool` included) as a big int.
pub(crate) fn of(v: &Value) -> Option<BigInt> {
    match v {
        Value::Int(i) => Some(BigInt::from(*i)),
        Value::Bool(b) => Some(BigInt::from(*b as i64)),
        Value::Big(b) => Some((**b).clone()),
        _ => None,
    }
}

/// CPython's OverflowError for a big int where a float is needed.
pub(crate) fn to_f64(vm: &Vm<'_>, b: &BigInt) -> PyResult<f64> {
    match b.to_f64().filter(|f| f.is_finite()) {
        Some(f) => Ok(f),
        None => Err(vm.rt.error("OverflowError", "int too large to convert to float")),
    }
}

/// CPython's OverflowError for a big int where a machine-sized one is needed.
pub(crate) fn too_large(vm: &Vm<'_>) -> super::errors::Exc {
    vm.rt.error("OverflowError", "Python int too large to convert to C ssize_t")
}

/// The MemoryError for a result past [`MAX_BITS`].
fn too_big(vm: &Vm<'_>) -> super::errors::Exc {
    vm.rt.error(
        "MemoryError",
        &format!("an int of more than {MAX_BITS} bits is more than the simulator holds: build a smaller one"),
    )
}

/// `x op y` for ints, at least one of them past 64 bits or the result.
pub(crate) fn binary(vm: &mut Vm<'_>, op: BinOp, x: &BigInt, y: &BigInt) -> PyResult<Value> {
    let zero_div = |vm: &Vm<'_>, m: &str| vm.rt.error("ZeroDivisionError", m);
    Ok(value(match op {
        BinOp::Add => x + y,
        BinOp::Sub => x - y,
        BinOp::Mul => {
            if x.bits() + y.bits() > MAX_BITS {
                return Err(too_big(vm));
            }
            x * y
        }
        BinOp::Div => {
            if y.is_zero() {
                return Err(zero_div(vm, "division by zero"));
            }
            return Ok(Value::Float(true_divide(vm, x, y)?));
        }
        BinOp::FloorDiv => {
            if y.is_zero() {
                return Err(zero_div(vm, "integer division or modulo by zero"));
            }
            x.div_floor(y)
        }
        BinOp::Mod => {
            if y.is_zero() {
                return Err(zero_div(vm, "integer modulo by zero"));
            }
            x.mod_floor(y)
        }
        BinOp::Pow => {
            if y.is_negative() {
                let (fx, fy) = (to_f64(vm, x)?, to_f64(vm, y)?);
                if fx == 0.0 {
                    return Err(zero_div(vm, "0.0 cannot be raised to a negative power"));
                }
                return Ok(Value::Float(fx.powf(fy)));
            }
            // 0, 1 and -1 stay small whatever the exponent.
            if x.is_zero() || x.is_one() {
                return Ok(value(x.clone()));
            }
            if x == &-BigInt::one() {
                return Ok(Value::Int(if y.is_even() { 1 } else { -1 }));
            }
            let e = y.to_u64().filter(|e| x.bits().saturating_mul(*e) <= MAX_BITS);
            let Some(e) = e else { return Err(too_big(vm)) };
            num_traits::pow::Pow::pow(x, e)
        }
        BinOp::LShift => {
            if y.is_negative() {
                return Err(vm.rt.error("ValueError", "negative shift count"));
            }
            if x.is_zero() {
                return Ok(Value::Int(0));
            }
            let n = y.to_u64().filter(|n| x.bits().saturating_add(*n) <= MAX_BITS);
            let Some(n) = n else { return Err(too_big(vm)) };
            x << n
        }
        BinOp::RShift => {
            if y.is_negative() {
                return Err(vm.rt.error("ValueError", "negative shift count"));
            }
            match y.to_u64() {
                // Past the last bit: 0, or -1 for a negative number (floor).
                Some(n) if n < x.bits() + 1 => x >> n,
                _ if x.is_negative() => -BigInt::one(),
                _ => BigInt::zero(),
            }
        }
        BinOp::BitAnd => x & y,
        BinOp::BitOr => x | y,
        BinOp::BitXor => x ^ y,
    }))
}

/// `x / y`, correctly rounded where both fit a float exactly, else from
/// the quotient's leading digits.
fn true_divide(vm: &Vm<'_>, x: &BigInt, y: &BigInt) -> PyResult<f64> {
    if let (Some(a), Some(b)) = (x.to_f64(), y.to_f64()) {
        if a.is_finite() && b.is_finite() && a.abs() < 9.007_199_254_740_992e15 && b.abs() < 9.007_199_254_740_992e15 {
            return Ok(a / b);
        }
    }
    // Scale the quotient to 64 significant bits, divide exactly, and put the
    // scale back.
    let shift = 64 + y.bits() as i64 - x.bits() as i64;
    let (num, den) = if shift >= 0 { (x << shift as u64, y.clone()) } else { (x.clone(), y << (-shift) as u64) };
    let q = num.div_floor(&den).to_f64().unwrap_or(f64::INFINITY);
    let f = q * 2f64.powi(-shift as i32);
    if !f.is_finite() {
        return Err(vm.rt.error("OverflowError", "integer division result too large for a float"));
    }
    Ok(f)
}

/// How `a` and `b`, ints or floats and at least one a big int, compare
/// (`None`: a NaN).
pub(crate) fn order(a: &Value, b: &Value) -> Option<Option<Ordering>> {
    let as_big_or_float = |v: &Value| match v {
        Value::Float(f) => Some(Err(*f)),
        v => of(v).map(Ok),
    };
    Some(match (as_big_or_float(a)?, as_big_or_float(b)?) {
        (Ok(x), Ok(y)) => Some(x.cmp(&y)),
        (Ok(x), Err(f)) => float_order(&x, f),
        (Err(f), Ok(y)) => float_order(&y, f).map(Ordering::reverse),
        (Err(f), Err(g)) => f.partial_cmp(&g),
    })
}

/// How big int `x` compares with float `f`, exactly.
fn float_order(x: &BigInt, f: f64) -> Option<Ordering> {
    if f.is_nan() {
        return None;
    }
    if f.is_infinite() {
        return Some(if f > 0.0 { Ordering::Less } else { Ordering::Greater });
    }
    // A float this far out is an integer: compare as ints, then the fraction.
    let whole = num_traits::FromPrimitive::from_f64(f.trunc()).unwrap_or_else(BigInt::zero);
    Some(match x.cmp(&whole) {
        Ordering::Equal if f.fract() > 0.0 => Ordering::Less,
        Ordering::Equal if f.fract() < 0.0 => Ordering::Greater,
        o => o,
    })
}

/// `str(b)`, or CPython 3.11's ValueError past 4300 digits.
pub(crate) fn decimal(vm: &Vm<'_>, b: &BigInt) -> PyResult<String> {
    // (A cheap bound first: 4300 digits are about 14284 bits.)
    if b.bits() > 14_000 {
        let s = b.to_string();
        if s.trim_start_matches('-').len() > MAX_STR_DIGITS {
            return Err(vm.rt.error(
                "ValueError",
                "Exceeds the limit (4300 digits) for integer string conversion; use sys.set_int_max_str_digits() \
                 to increase the limit",
            ));
        }
        return Ok(s);
    }
    Ok(b.to_string())
}

/// `int(text, base)` for digits too many for an `i64` (the caller read
/// the sign, the prefix and the underscores).
pub(crate) fn parse(digits: &str, base: u32) -> Option<BigInt> {
    BigInt::parse_bytes(digits.as_bytes(), base)
}
