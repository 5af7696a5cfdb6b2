//! Delimiter search: the inner loop of every line receiver.

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The index of the first `byte` in `haystack`. Scans eight bytes per step
/// with the classic "has a zero byte" word trick, which is what makes long
/// lines cheap without `unsafe` or a SIMD dependency.
#[inline]
pub(crate) fn find_byte(haystack: &[u8], byte: u8) -> Option<usize> {
    let pattern = ONES * u64::from(byte);
    let mut words = haystack.chunks_exact(8);
    let mut offset = 0;
    for word in &mut words {
        let w = u64::from_le_bytes(word.try_into().expect("chunks of eight")) ^ pattern;
        // A byte of `w` is zero where the haystack matched. Borrows only carry
        // towards later bytes, so the lowest flagged byte is a true match.
        let zeros = w.wrapping_sub(ONES) & !w & HIGHS;
        if zeros != 0 {
            return Some(offset + (zeros.trailing_zeros() / 8) as usize);
        }
        offset += 8;
    }
    words.remainder().iter().position(|&b| b == byte).map(|i| offset + i)
}

/// The index of the first `needle` in `haystack` (`needle` is not empty).
#[inline]
pub(crate) fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let (&first, rest) = needle.split_first()?;
    if rest.is_empty() {
        return find_byte(haystack, first);
    }
    let mut start = 0;
    while haystack.len() - start >= needle.len() {
        let at = start + find_byte(&haystack[start..haystack.len() - rest.len()], first)?;
        // A byte loop, not `starts_with`: delimiters are a byte or two, and a
        // `memcmp` call per candidate costs more than the compare.
        if rest.iter().zip(&haystack[at + 1..]).all(|(a, b)| a == b) {
            return Some(at);
        }
        start = at + 1;
    }
    None
}

/// The index of the last `needle` in `haystack` (rare path: no speed tricks).
pub(crate) fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    (0..=haystack.len() - needle.len()).rev().find(|&i| haystack[i..].starts_with(needle))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn naive(haystack: &[u8], needle: &[u8]) -> Option<usize> {
        haystack.windows(needle.len()).position(|w| w == needle)
    }

    #[test]
    fn finds_at_every_offset_around_word_boundaries() {
        for len in 0..40 {
            for at in 0..len {
                let mut hay = vec![b'a'; len];
                hay[at] = b'\n';
                assert_eq!(find_byte(&hay, b'\n'), Some(at), "len {len} at {at}");
            }
            assert_eq!(find_byte(&vec![b'a'; len], b'\n'), None);
        }
    }

    #[test]
    fn high_bytes_do_not_confuse_the_word_trick() {
        let hay = [0x80, 0xff, 0x01, 0x00, 0x81, 0x7f, 0x0a, 0x0b, 0x0a];
        assert_eq!(find_byte(&hay, 0x0a), Some(6));
        assert_eq!(find_byte(&hay, 0x00), Some(3));
        assert_eq!(find_byte(&hay, 0xff), Some(1));
    }

    #[test]
    fn multi_byte_needles() {
        assert_eq!(find(b"ab\r\r\ncd", b"\r\n"), Some(3));
        assert_eq!(find(b"ab\r", b"\r\n"), None);
        assert_eq!(find(b"\r\n", b"\r\n"), Some(0));
        assert_eq!(find(b"", b"\r\n"), None);
        assert_eq!(rfind(b"a\r\nb\r\nc", b"\r\n"), Some(4));
    }

    proptest! {
        #[test]
        fn agrees_with_a_naive_search(
            hay in proptest::collection::vec(prop_oneof![Just(b'\r'), Just(b'\n'), any::<u8>()], 0..200),
            needle in proptest::collection::vec(prop_oneof![Just(b'\r'), Just(b'\n'), any::<u8>()], 1..4),
        ) {
            prop_assert_eq!(find(&hay, &needle), naive(&hay, &needle));
            let last = (0..hay.len()).rev().find(|&i| hay[i..].starts_with(&needle));
            prop_assert_eq!(rfind(&hay, &needle), last);
        }
    }
}
