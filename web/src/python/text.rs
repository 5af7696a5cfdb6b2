//! Text conversions whose std versions carry large tables: Unicode case
//! mapping (`str.upper()`, `str.lower()`, `str.title()`) and decimal
//! number reading (`float(text)`).
//!
//! Natively they are std's. In the browser the JS engine, which has its own
//! tables anyway, does the work std's tables would: case mapping of
//! non-ASCII text (`String.prototype.toUpperCase`/`toLowerCase`, the same
//! Unicode full case mapping as `str::to_uppercase`/`to_lowercase`, final
//! sigma included; ASCII text, the common case, never leaves Rust) and the
//! value of a decimal number (`parseFloat`, correctly rounded like
//! `str::parse::<f64>`, after the syntax is checked here against std's).
//! That keeps std's case tables (9.7 KB of the light module, brotli) and
//! its float-parsing tables out of the module. Public so that
//! `tests/wasm.rs` can check, in the browser, that each agrees with std.

/// `s.upper()`.
pub fn upper(s: &str) -> String {
    if s.is_ascii() {
        return s.to_ascii_uppercase();
    }
    #[cfg(target_arch = "wasm32")]
    return js_sys::JsString::from(s).to_upper_case().into();
    #[cfg(not(target_arch = "wasm32"))]
    s.to_uppercase()
}

/// `s.lower()`.
pub fn lower(s: &str) -> String {
    if s.is_ascii() {
        return s.to_ascii_lowercase();
    }
    #[cfg(target_arch = "wasm32")]
    return js_sys::JsString::from(s).to_lower_case().into();
    #[cfg(not(target_arch = "wasm32"))]
    s.to_lowercase()
}

/// `s.title()`: a letter after a letter in lower case, any other in title
/// case (each character mapped on its own).
pub fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_alpha = false;
    for c in s.chars() {
        if prev_alpha {
            out.push_str(&lower(c.encode_utf8(&mut [0; 4])));
        } else {
            out.push_str(&title_case(c));
        }
        prev_alpha = c.is_alphabetic();
    }
    out
}

/// One character in title case, as CPython's `str.title()` and
/// `str.capitalize()` map a word's first letter: its upper case, except
/// where Unicode's title case differs (`ß` -> `Ss`, the `ﬁ` ligatures, the
/// Latin digraphs `ǆ` -> `ǅ`): those are all here, the rest of the table
/// being empty for the scripts outside Latin.
pub fn title_case(c: char) -> String {
    match c {
        'ß' => "Ss".into(),
        'ﬀ' => "Ff".into(),
        'ﬁ' => "Fi".into(),
        'ﬂ' => "Fl".into(),
        'ﬃ' => "Ffi".into(),
        'ﬄ' => "Ffl".into(),
        'ﬅ' | 'ﬆ' => "St".into(),
        'Ǆ' | 'ǅ' | 'ǆ' => "ǅ".into(),
        'Ǉ' | 'ǈ' | 'ǉ' => "ǈ".into(),
        'Ǌ' | 'ǋ' | 'ǌ' => "ǋ".into(),
        'Ǳ' | 'ǲ' | 'ǳ' => "ǲ".into(),
        c => upper(c.encode_utf8(&mut [0; 4])),
    }
}

/// The number `text` spells: what `text.parse::<f64>()` returns (`None`
/// where that is an error).
pub fn parse_float(text: &str) -> Option<f64> {
    #[cfg(not(target_arch = "wasm32"))]
    return text.parse().ok();
    #[cfg(target_arch = "wasm32")]
    {
        let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
        let sign = if text.starts_with('-') { -1.0 } else { 1.0 };
        if unsigned.eq_ignore_ascii_case("inf") || unsigned.eq_ignore_ascii_case("infinity") {
            return Some(sign * f64::INFINITY);
        }
        if unsigned.eq_ignore_ascii_case("nan") {
            return Some(sign * f64::NAN);
        }
        is_decimal(unsigned).then(|| js_sys::Number::parse_float(text))
    }
}

/// Whether `s` is a decimal number as `str::parse::<f64>` reads one
/// (without a sign): digits with at most one point and at least one digit,
/// then an optional exponent (`e` or `E`, an optional sign, digits).
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
fn is_decimal(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    let whole = digits(&mut i);
    let fraction = if b.get(i) == Some(&b'.') {
        i += 1;
        digits(&mut i)
    } else {
        0
    };
    if whole + fraction == 0 {
        return false;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_as_std_does() {
        for s in ["hello World 42", "straße", "ΌΣΟΣ Σ", "ǆemal", "İstanbul", ""] {
            assert_eq!(upper(s), s.to_uppercase());
            assert_eq!(lower(s), s.to_lowercase());
        }
        // CPython 3.11 prints this: title case, `ǅ`, not upper case.
        assert_eq!(title("hello wORLD ǆemal straße"), "Hello World ǅemal Straße");
    }

    #[test]
    fn decimal_syntax_is_std_s() {
        for s in [
            "1", "1.", ".5", "1.e5", "00012", "1E-5", "1e+400", "", ".", "e5", ".e5", "1e", "1e+", "1.2.3", "0x10",
            "1_0",
        ] {
            assert_eq!(is_decimal(s), s.parse::<f64>().is_ok(), "{s:?}");
        }
    }
}
