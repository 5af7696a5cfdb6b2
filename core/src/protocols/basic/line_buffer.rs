//! What both line receivers keep and do alike: the delimiter and the limit,
//! the buffer, and cutting complete lines out of it. What each does with a
//! line over the limit, or with a partial one, stays with the receiver:
//! Twisted's two receivers differ there.

use std::fmt;
use std::rc::Rc;

use bytes::{Buf, Bytes, BytesMut};

use super::{search, FramingError};
use crate::protocol::Encoder;

/// The delimiter both line receivers use unless told otherwise: `b"\r\n"`.
pub const DEFAULT_DELIMITER: &[u8] = b"\r\n";

/// The longest line both line receivers accept unless told otherwise: 16384 bytes.
pub const DEFAULT_MAX_LENGTH: usize = 16384;

pub(super) struct LineBuffer {
    delimiter: Rc<[u8]>,
    max_length: usize,
    buffer: BytesMut,
    /// Bytes at the front of `buffer` known to start no delimiter, so that a
    /// partial line is never scanned twice.
    scanned: usize,
}

impl LineBuffer {
    pub(super) fn new() -> LineBuffer {
        LineBuffer {
            delimiter: Rc::from(DEFAULT_DELIMITER),
            max_length: DEFAULT_MAX_LENGTH,
            buffer: BytesMut::new(),
            scanned: 0,
        }
    }

    /// # Panics
    ///
    /// If `delimiter` is empty.
    pub(super) fn set_delimiter(&mut self, delimiter: &[u8]) {
        assert!(!delimiter.is_empty(), "a line receiver's delimiter must not be empty");
        self.delimiter = Rc::from(delimiter);
    }

    pub(super) fn delimiter(&self) -> &[u8] {
        &self.delimiter
    }

    pub(super) fn set_max_length(&mut self, max_length: usize) {
        self.max_length = max_length;
    }

    pub(super) fn max_length(&self) -> usize {
        self.max_length
    }

    /// Frames an outgoing line: the line, then the delimiter (`sendLine`).
    pub(super) fn encoder(&self) -> Encoder {
        let delimiter = self.delimiter.clone();
        Rc::new(move |line: &[u8], buf: &mut Vec<u8>| {
            buf.reserve(line.len() + delimiter.len());
            buf.extend_from_slice(line);
            buf.extend_from_slice(&delimiter);
        })
    }

    pub(super) fn bytes(&self) -> &[u8] {
        &self.buffer
    }

    #[inline]
    pub(super) fn len(&self) -> usize {
        self.buffer.len()
    }

    #[inline]
    pub(super) fn is_empty(&self) -> bool {
        self.buffer.is_empty()
    }

    #[inline]
    pub(super) fn extend(&mut self, data: &[u8]) {
        self.buffer.extend_from_slice(data);
    }

    /// Puts `extra` in front of what is buffered (`setLineMode(extra)`).
    pub(super) fn prepend(&mut self, extra: &[u8]) {
        if self.buffer.is_empty() {
            self.buffer.extend_from_slice(extra);
        } else {
            let mut joined = BytesMut::with_capacity(extra.len() + self.buffer.len());
            joined.extend_from_slice(extra);
            joined.extend_from_slice(&self.buffer);
            self.buffer = joined;
        }
        self.scanned = 0;
    }

    pub(super) fn clear(&mut self) {
        self.buffer.clear();
        self.scanned = 0;
    }

    /// Takes everything buffered, as one view.
    pub(super) fn take_all(&mut self) -> Bytes {
        self.scanned = 0;
        self.buffer.split().freeze()
    }

    /// Takes the buffer itself, to lend to a handler; give it back with
    /// [`reuse`](Self::reuse) so the next lines keep its allocation.
    pub(super) fn take_buffer(&mut self) -> BytesMut {
        self.scanned = 0;
        std::mem::take(&mut self.buffer)
    }

    /// Takes a buffer back from [`take_buffer`](Self::take_buffer), emptied.
    pub(super) fn reuse(&mut self, mut buffer: BytesMut) {
        buffer.clear();
        self.buffer = buffer;
    }

    /// Where the first complete line ends (the delimiter's index), looking
    /// only at bytes not scanned before. With none, remembers how far the
    /// next search may skip.
    // Always inlined: out of line, the delimiter search compiled into it
    // came out slower than inside the receiver's loop (callgrind).
    #[inline(always)]
    pub(super) fn find_line_end(&mut self) -> Option<usize> {
        match search::find(&self.buffer[self.scanned..], &self.delimiter) {
            Some(found) => {
                let end = self.scanned + found;
                self.scanned = 0;
                Some(end)
            }
            None => {
                // The last `delimiter.len() - 1` bytes may start a delimiter.
                self.scanned = (self.buffer.len() + 1).saturating_sub(self.delimiter.len());
                None
            }
        }
    }

    /// Cuts the line ending at `end` (from [`find_line_end`](Self::find_line_end))
    /// off the front, without its delimiter and without copying.
    #[inline]
    pub(super) fn cut_line(&mut self, end: usize) -> Bytes {
        let mut line = self.buffer.split_to(end + self.delimiter.len());
        line.truncate(end);
        line.freeze()
    }

    /// Cuts the line ending at `end` off the front and drops every complete
    /// line after it, keeping only the partial line at the end (what
    /// Twisted's `LineOnlyReceiver` does after a line over the limit: it
    /// split the whole chunk first).
    pub(super) fn cut_line_dropping_later_lines(&mut self, end: usize) -> Bytes {
        let rest = search::rfind(&self.buffer, &self.delimiter).map_or(end, |i| i + self.delimiter.len());
        let line = self.buffer.split_to(end).freeze();
        self.buffer.advance(rest - end);
        self.scanned = 0;
        line
    }

    /// Both line receivers' `Debug`: `name { inner, delimiter, max_length, buffered, error }`.
    pub(super) fn debug(
        &self,
        f: &mut fmt::Formatter<'_>,
        name: &str,
        inner: &dyn fmt::Debug,
        error: Option<&FramingError>,
    ) -> fmt::Result {
        f.debug_struct(name)
            .field("inner", inner)
            .field("delimiter", &Bytes::copy_from_slice(&self.delimiter))
            .field("max_length", &self.max_length)
            .field("buffered", &self.buffer.len())
            .field("error", &error)
            .finish()
    }
}
