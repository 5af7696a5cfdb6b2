//! Maps keyed by ids that are already unique integers: connection and
//! listener ids, type ids. A connection is looked up for every message it
//! brings, so the hash is one multiplication, not SipHash; the keys are the
//! reactor's own, never chosen by a client, so SipHash's defence against
//! chosen keys buys nothing here.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A `HashMap` keyed by unique integer ids, hashed with [`IdHasher`].
///
/// ```
/// use twine_core::protocol::ConnectionId;
/// use twine_core::reactor::IdMap;
///
/// let mut open: IdMap<ConnectionId, &str> = IdMap::default();
/// open.insert(ConnectionId(7), "client");
/// assert_eq!(open.get(&ConnectionId(7)), Some(&"client"));
/// ```
pub type IdMap<K, V> = HashMap<K, V, BuildHasherDefault<IdHasher>>;

/// Hashes an integer id by one multiplication (Fibonacci hashing), which
/// spreads consecutive ids over the table's buckets and its control bits.
#[derive(Default, Clone, Copy, Debug)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8 | b as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}
