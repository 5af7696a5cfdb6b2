//! Delivering a byte stream in chosen pieces.

use crate::protocol::{Protocol, Transport};

/// The pieces of `data` cut at the given sizes: each size takes that many
/// bytes (fewer at the end), a size of 0 gives an empty piece, and what is
/// left when the sizes run out comes as one last piece. Stops once `data` is
/// used up, so endless sizes are fine (`std::iter::repeat(1)` is byte by
/// byte) as long as they are not all zero.
///
/// ```
/// use twine_core::testing::chunks;
///
/// let pieces: Vec<&[u8]> = chunks(b"abcdefg", [2, 0, 3]).collect();
/// assert_eq!(pieces, [&b"ab"[..], b"", b"cde", b"fg"]);
/// ```
pub fn chunks<I: IntoIterator<Item = usize>>(data: &[u8], sizes: I) -> Chunks<'_, I::IntoIter> {
    Chunks { rest: data, sizes: sizes.into_iter() }
}

/// The iterator [`chunks`] returns.
#[derive(Debug, Clone)]
pub struct Chunks<'a, I> {
    rest: &'a [u8],
    sizes: I,
}

impl<'a, I: Iterator<Item = usize>> Iterator for Chunks<'a, I> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.rest.is_empty() {
            return None;
        }
        let size = self.sizes.next().unwrap_or(self.rest.len()).min(self.rest.len());
        let (piece, rest) = self.rest.split_at(size);
        self.rest = rest;
        Some(piece)
    }
}

/// Delivers `data` to `protocol` through
/// [`data_received`](Protocol::data_received), cut as [`chunks`] cuts it.
///
/// ```
/// use twine_core::protocol::{Message, Protocol, Transport};
/// use twine_core::protocols::basic::NetstringReceiver;
/// use twine_core::testing::{feed_chunked, StringTransport};
///
/// #[derive(Default)]
/// struct Collect(Vec<Message>);
/// impl Protocol for Collect {
///     fn message_received(&mut self, _: &Transport, m: Message) {
///         self.0.push(m);
///     }
/// }
///
/// for sizes in [vec![1], vec![3, 1, 4], vec![100]] {
///     let t = StringTransport::new();
///     let mut receiver = NetstringReceiver::new(Collect::default());
///     t.make_connection(&mut receiver);
///     feed_chunked(&mut receiver, t.transport(), b"3:abc,0:,", sizes.into_iter().cycle());
///     assert_eq!(receiver.inner().0, [Message::binary("abc"), Message::binary("")]);
/// }
/// ```
pub fn feed_chunked<P: Protocol + ?Sized>(
    protocol: &mut P,
    transport: &Transport,
    data: &[u8],
    sizes: impl IntoIterator<Item = usize>,
) {
    for piece in chunks(data, sizes) {
        protocol.data_received(transport, piece);
    }
}
