//! Unicode case mapping for `str.upper()`, `str.lower()` and `str.title()`.
//!
//! ASCII text, the common case, is mapped here. Other text is mapped by
//! std natively and, in the browser, by the JS engine
//! (`String.prototype.toUpperCase`/`toLowerCase`: the same Unicode full case
//! mapping as `str::to_uppercase`/`to_lowercase`, final sigma included), so
//! the module does not carry std's case tables and their code (about 10 KB
//! of the light module, brotli). `tests/wasm.rs` checks the two agree.

/// `s.upper()`.
pub(crate) fn upper(s: &str) -> String {
    if s.is_ascii() {
        return s.to_ascii_uppercase();
    }
    #[cfg(target_arch = "wasm32")]
    return js_sys::JsString::from(s).to_upper_case().into();
    #[cfg(not(target_arch = "wasm32"))]
    s.to_uppercase()
}

/// `s.lower()`.
pub(crate) fn lower(s: &str) -> String {
    if s.is_ascii() {
        return s.to_ascii_lowercase();
    }
    #[cfg(target_arch = "wasm32")]
    return js_sys::JsString::from(s).to_lower_case().into();
    #[cfg(not(target_arch = "wasm32"))]
    s.to_lowercase()
}

/// `s.title()`: a letter after a letter in lower case, any other in upper
/// case (each character mapped on its own, as `char::to_uppercase` does).
pub(crate) fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_alpha = false;
    for c in s.chars() {
        let one = c.encode_utf8(&mut [0; 4]).to_owned();
        out.push_str(&if prev_alpha { lower(&one) } else { upper(&one) });
        prev_alpha = c.is_alphabetic();
    }
    out
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
        assert_eq!(title("hello wORLD ǆemal straße"), "Hello World Ǆemal Straße");
    }
}
