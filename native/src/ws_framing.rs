//! The WebSocket framing the reactor runs, without its sockets: the
//! pieces the driver (`driver/websocket.rs`) feeds its bytes through, public
//! so that a fuzzer (`fuzz/`, target `websocket`) drives the very same
//! configuration, I/O shim, outgoing frames and error-to-close-code rule in
//! memory.
//!
//! Messages come in through tungstenite's [`WebSocketContext::read`] (which
//! also answers pings and closes), and go out as [`Frames`]: a frame header
//! from tungstenite's [`FrameHeader`], the payload beside it, so a large
//! echoed message is never copied on its way out.
//!
//! ```
//! use bytes::Bytes;
//! use twine_native::ws_framing::{server_context, Frames};
//! use tungstenite::Message;
//!
//! let mut ctx = server_context(2048, 1000);
//! // A masked text frame "hi" from a client.
//! let mask = [1, 2, 3, 4];
//! let mut frame = vec![0x81, 0x80 | 2];
//! frame.extend_from_slice(&mask);
//! frame.extend(b"hi".iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
//! let mut out = Frames::default();
//! assert_eq!(ctx.read(&mut out.io(&frame, 0)).unwrap(), Message::text("hi"));
//! // The echo: an unmasked text frame "hi".
//! assert!(out.message(&ctx, true, Bytes::from_static(b"hi")));
//! assert_eq!(out.take_after(0), [0x81, 2, b'h', b'i']);
//! ```

use std::io::{ErrorKind, IoSlice, Read, Write};

use bytes::Bytes;
use tungstenite::error::{Error as WsError, ProtocolError};
use tungstenite::protocol::frame::coding::{Data, OpCode};
use tungstenite::protocol::frame::FrameHeader;
use tungstenite::protocol::{CloseFrame, Role, WebSocketConfig, WebSocketContext};
use tungstenite::Utf8Bytes;

/// RFC 6455 close codes the server sends.
pub mod code {
    /// The connection did what it was for (and the idle timeout).
    pub const NORMAL: u16 = 1000;
    /// The server is going away.
    pub const GOING_AWAY: u16 = 1001;
    /// The client broke the protocol.
    pub const PROTOCOL: u16 = 1002;
    /// A text message that is not UTF-8.
    pub const INVALID_DATA: u16 = 1007;
    /// A message over the size limit.
    pub const TOO_BIG: u16 = 1009;
}

/// A close frame with `code` and `reason`.
pub fn close_frame(code: u16, reason: &'static str) -> CloseFrame {
    CloseFrame { code: code.into(), reason: Utf8Bytes::from_static(reason) }
}

/// The server's framing for one connection: tungstenite reading frames of
/// at most `max_message` bytes (messages too) through a `read_buffer`-byte
/// buffer, its frames written straight into the connection's buffer (no
/// buffer of its own: the driver flushes once per loop).
pub fn server_context(read_buffer: usize, max_message: usize) -> WebSocketContext {
    let config = WebSocketConfig::default()
        .read_buffer_size(read_buffer.max(256))
        .write_buffer_size(0)
        .max_message_size(Some(max_message))
        .max_frame_size(Some(max_message));
    WebSocketContext::new(Role::Server, Some(config))
}

/// Payloads at least this long go out from where they are (one more slice
/// of a vectored write); shorter ones are copied beside their header, which
/// costs less than a slice of their own.
pub const LARGE_PAYLOAD: usize = 512;

/// Slices one vectored write takes at most: what is past them goes in the
/// next write.
const MAX_SLICES: usize = 128;

/// Buffer capacity a connection keeps between flushes.
const KEEP_CAPACITY: usize = 16 * 1024;

/// One connection's frames on their way out: headers, short payloads and
/// tungstenite's own frames (pongs, closes) in one buffer, large payloads
/// as the `Bytes` they came in (an echo's payload is the received frame's
/// buffer), each to be sent at its place in one vectored write.
///
/// ```
/// use bytes::Bytes;
/// use twine_native::ws_framing::{server_context, Frames};
///
/// let ctx = server_context(2048, 1 << 20);
/// let mut out = Frames::default();
/// out.message(&ctx, false, Bytes::from(vec![7; 600])); // large: not copied
/// out.message(&ctx, true, Bytes::from_static(b"ok"));
/// assert_eq!(out.len(), 4 + 600 + 2 + 2);
/// let mut wire = Vec::new();
/// assert_eq!(out.write_to(&mut wire).unwrap(), out.len());
/// assert_eq!(wire[..4], [0x82, 126, 2, 88]); // binary, 600 bytes
/// assert_eq!(wire[604..], [0x81, 2, b'o', b'k']);
/// ```
#[derive(Default)]
pub struct Frames {
    /// Everything but the large payloads, in order.
    bytes: Vec<u8>,
    /// Large payloads, each sent after `bytes[..at]`: `(at, payload)`.
    large: Vec<(usize, Bytes)>,
    /// Their bytes.
    large_len: usize,
}

impl Frames {
    /// tungstenite's view of the connection for one call, reading `input`
    /// from `pos` and writing its own frames here.
    pub fn io<'a>(&'a mut self, input: &'a [u8], pos: usize) -> Io<'a> {
        Io { input, pos, out: &mut self.bytes }
    }

    /// Frames one data message (a single final frame, unmasked as a
    /// server's are). Returns `false`, sending nothing, once a close frame
    /// went either way and `ctx` may no longer send.
    pub fn message(&mut self, ctx: &WebSocketContext, text: bool, payload: Bytes) -> bool {
        if !ctx.can_write() {
            return false;
        }
        let opcode = OpCode::Data(if text { Data::Text } else { Data::Binary });
        let header = FrameHeader { is_final: true, opcode, ..FrameHeader::default() };
        // Writing into a Vec cannot fail.
        let _ = header.format(payload.len() as u64, &mut self.bytes);
        if payload.len() >= LARGE_PAYLOAD {
            self.large_len += payload.len();
            self.large.push((self.bytes.len(), payload));
        } else {
            self.bytes.extend_from_slice(&payload);
        }
        true
    }

    /// Bytes waiting to go.
    pub fn len(&self) -> usize {
        self.bytes.len() + self.large_len
    }

    /// Whether nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty() && self.large.is_empty()
    }

    /// The pieces in wire order.
    fn pieces(&self) -> impl Iterator<Item = &[u8]> {
        let ends = self.large.iter().map(|(at, _)| *at).chain([self.bytes.len()]);
        let starts = std::iter::once(0).chain(self.large.iter().map(|(at, _)| *at));
        let heads = starts.zip(ends).map(|(from, to)| &self.bytes[from..to]);
        let payloads = self.large.iter().map(|(_, p)| &p[..]).map(Some).chain([None]);
        heads.zip(payloads).flat_map(|(head, payload)| [Some(head), payload]).flatten().filter(|p| !p.is_empty())
    }

    /// One write of what is waiting (one vectored write when large payloads
    /// are): the number of bytes `w` took. Nothing is removed: see
    /// [`clear`](Self::clear) and [`take_after`](Self::take_after).
    pub fn write_to(&self, w: &mut impl Write) -> std::io::Result<usize> {
        if self.large.is_empty() {
            return w.write(&self.bytes);
        }
        let mut slices = [IoSlice::new(&[]); MAX_SLICES];
        let mut n = 0;
        for (slot, piece) in slices.iter_mut().zip(self.pieces()) {
            *slot = IoSlice::new(piece);
            n += 1;
        }
        w.write_vectored(&slices[..n])
    }

    /// Forgets everything (all of it was sent), keeping a small buffer.
    pub fn clear(&mut self) {
        self.bytes.clear();
        if self.bytes.capacity() > KEEP_CAPACITY {
            self.bytes = Vec::new();
        }
        self.large.clear();
        self.large_len = 0;
    }

    /// What is waiting after its first `sent` bytes, in one buffer (large
    /// payloads copied in: only when the socket is behind), leaving nothing.
    pub fn take_after(&mut self, sent: usize) -> Vec<u8> {
        if self.large.is_empty() {
            self.bytes.drain(..sent.min(self.bytes.len()));
            return std::mem::take(&mut self.bytes);
        }
        let mut rest = Vec::with_capacity(self.len().saturating_sub(sent));
        let mut skip = sent;
        for piece in self.pieces() {
            let cut = skip.min(piece.len());
            skip -= cut;
            rest.extend_from_slice(&piece[cut..]);
        }
        self.clear();
        rest
    }
}

/// tungstenite's view of the connection: reads come from the bytes at hand
/// (`WouldBlock` past them), writes (its own frames: pongs, closes) go to
/// the connection's outgoing bytes ([`Frames::io`]).
pub struct Io<'a> {
    /// The bytes the loop read.
    pub input: &'a [u8],
    /// How far tungstenite has read into them.
    pub pos: usize,
    /// Where its frames go.
    pub out: &'a mut Vec<u8>,
}

impl Read for Io<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let rest = &self.input[self.pos..];
        if rest.is_empty() {
            return Err(ErrorKind::WouldBlock.into());
        }
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        self.pos += n;
        Ok(n)
    }
}

impl Write for Io<'_> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.out.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The longest frame header (RFC 6455 5.2): 2 bytes, 8 of extended
/// length, 4 of mask key.
const MAX_HEADER: usize = 14;

/// Where the client's frames begin and end in the bytes tungstenite has
/// read (their RFC 6455 headers), so that the driver knows when tungstenite
/// holds nothing after handing out a message. It does not say so itself,
/// and asking it once more to find out costs a read-buffer fill and an
/// `io::Error` (about 250 instructions per message at 1x1).
///
/// Conservative: it follows single-frame text and binary messages only (a
/// first byte of `0x81` or `0x82`: final, no reserved bits). After any
/// other frame (a ping, whose pong tungstenite writes on its next read; a
/// close; a fragment) it claims nothing until tungstenite says
/// `WouldBlock` with the bytes fed ending at a frame boundary: then
/// tungstenite holds no bytes, and counting starts afresh.
///
/// ```
/// use twine_native::ws_framing::{server_context, FrameTracker, Frames};
///
/// let mut ctx = server_context(2048, 1000);
/// let mut out = Frames::default();
/// let mut fed = FrameTracker::default();
/// // Two masked text frames "a" and "b" from a client, read at once.
/// let wire = [0x81, 0x81, 0, 0, 0, 0, b'a', 0x81, 0x81, 0, 0, 0, 0, b'b'];
/// let mut io = out.io(&wire, 0);
/// ctx.read(&mut io).unwrap();
/// fed.feed(&wire[..io.pos]);
/// assert!(!fed.message_returned()); // tungstenite still holds "b"
/// ctx.read(&mut io).unwrap();
/// assert!(fed.message_returned()); // now nothing: no need to ask again
/// ```
#[derive(Default)]
pub struct FrameTracker {
    /// The start of a header that was cut off (its first `header_len` bytes).
    header: [u8; MAX_HEADER],
    header_len: usize,
    /// Payload bytes of the current frame still to come.
    payload_left: u64,
    /// Single-frame data messages begun in the bytes fed and not yet returned.
    unreturned: u32,
    /// A frame it does not follow was fed since counting last started.
    unsure: bool,
}

impl FrameTracker {
    /// Follows `bytes`, the next bytes tungstenite read.
    pub fn feed(&mut self, mut bytes: &[u8]) {
        loop {
            // The rest of the current frame's payload.
            if self.payload_left >= bytes.len() as u64 {
                self.payload_left -= bytes.len() as u64;
                return;
            }
            bytes = &bytes[self.payload_left as usize..];
            self.payload_left = 0;
            // Then the next header: whole at the start of `bytes` (the
            // common case), or cut off.
            let header = match self.header_len {
                0 => parse_header(bytes),
                _ => self.rest_of_header(bytes),
            };
            let Some(header) = header else { return self.keep_header_start(bytes) };
            bytes = &bytes[header.size..];
            self.payload_left = header.payload;
            if header.single_data {
                self.unreturned += 1;
            } else {
                self.unsure = true;
            }
        }
    }

    /// The header begun in an earlier feed, completed from `bytes`; its
    /// size counts only the bytes taken from `bytes`.
    #[cold]
    fn rest_of_header(&mut self, bytes: &[u8]) -> Option<Header> {
        let have = self.header_len;
        let take = (MAX_HEADER - have).min(bytes.len());
        self.header[have..have + take].copy_from_slice(&bytes[..take]);
        let mut header = parse_header(&self.header[..have + take])?;
        self.header_len = 0;
        header.size -= have;
        Some(header)
    }

    /// Keeps the start of a header that `bytes` cut off.
    #[cold]
    fn keep_header_start(&mut self, bytes: &[u8]) {
        let have = self.header_len;
        let take = (MAX_HEADER - have).min(bytes.len());
        self.header[have..have + take].copy_from_slice(&bytes[..take]);
        self.header_len = have + take;
    }

    /// Whether the bytes fed end where a frame ends.
    pub fn at_boundary(&self) -> bool {
        self.header_len == 0 && self.payload_left == 0
    }

    /// tungstenite returned a text or binary message. Returns whether it
    /// holds nothing now: every byte fed belongs to the messages it returned.
    pub fn message_returned(&mut self) -> bool {
        if self.unsure || self.unreturned == 0 {
            self.unsure = true; // a message it did not see begin: out of step
            return false;
        }
        self.unreturned -= 1;
        self.unreturned == 0 && self.at_boundary()
    }

    /// tungstenite said `WouldBlock`: it holds no whole frame, and at a
    /// frame boundary no bytes at all.
    pub fn would_block(&mut self) {
        if self.at_boundary() {
            self.unreturned = 0;
            self.unsure = false;
        }
    }
}

/// A frame header's size, its payload length and whether it is a whole
/// text or binary message.
struct Header {
    size: usize,
    payload: u64,
    single_data: bool,
}

/// The header at the start of `b`, if all of it is there.
fn parse_header(b: &[u8]) -> Option<Header> {
    let [first, second, ..] = *b else { return None };
    let extended = match second & 0x7f {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    let size = 2 + extended + if second & 0x80 != 0 { 4 } else { 0 };
    let payload = match extended {
        _ if b.len() < size => return None,
        0 => u64::from(second & 0x7f),
        2 => u64::from(u16::from_be_bytes([b[2], b[3]])),
        _ => u64::from_be_bytes(b[2..10].try_into().ok()?),
    };
    Some(Header { size, payload, single_data: first == 0x81 || first == 0x82 })
}

/// The close code and reason a read error calls for (`None`: the socket is
/// gone, drop the client). After any error the framing must be fed nothing
/// more: after some (a frame too large among them) tungstenite's reader is
/// left in a state that panics.
pub fn close_for(e: &WsError) -> Option<(u16, &'static str)> {
    match e {
        WsError::Capacity(_) => Some((code::TOO_BIG, "message too big")),
        WsError::Utf8(_) => Some((code::INVALID_DATA, "invalid UTF-8")),
        WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake) => None,
        WsError::Protocol(_) => Some((code::PROTOCOL, "protocol error")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tungstenite::Message;

    /// A socket that takes at most `limit` bytes per write, across slices.
    struct Partial {
        wire: Vec<u8>,
        limit: usize,
    }

    impl Write for Partial {
        fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
            self.write_vectored(&[IoSlice::new(data)])
        }

        fn write_vectored(&mut self, slices: &[IoSlice<'_>]) -> std::io::Result<usize> {
            let start = self.wire.len();
            for slice in slices {
                let room = self.limit - (self.wire.len() - start);
                self.wire.extend_from_slice(&slice[..slice.len().min(room)]);
            }
            Ok(self.wire.len() - start)
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// Short and large messages, with a pong tungstenite wrote between them.
    fn mixed(ctx: &mut WebSocketContext) -> Frames {
        let mut out = Frames::default();
        out.message(ctx, true, Bytes::from_static(b"one"));
        out.message(ctx, false, Bytes::from(vec![1; LARGE_PAYLOAD]));
        // A ping from the client: tungstenite queues the pong and writes it on its next read.
        let ping = [0x89, 0x80, 0, 0, 0, 0];
        let _ = ctx.read(&mut out.io(&ping, 0));
        let _ = ctx.read(&mut out.io(&[], 0));
        out.message(ctx, false, Bytes::from(vec![2; 70_000]));
        out.message(ctx, true, Bytes::from_static(b"two"));
        out
    }

    /// What a client reads back from `wire`: (text?, payload) per data
    /// message, and how many pongs.
    fn read_back(wire: &[u8]) -> (Vec<(bool, Vec<u8>)>, usize) {
        let mut client = WebSocketContext::new(Role::Client, None);
        let mut replies = Vec::new();
        let mut io = Io { input: wire, pos: 0, out: &mut replies };
        let (mut got, mut pongs) = (Vec::new(), 0);
        loop {
            match client.read(&mut io) {
                Ok(tungstenite::Message::Text(t)) => got.push((true, t.as_bytes().to_vec())),
                Ok(tungstenite::Message::Binary(b)) => got.push((false, b.to_vec())),
                Ok(tungstenite::Message::Pong(_)) => pongs += 1,
                Ok(m) => panic!("unexpected {m:?}"),
                Err(WsError::Io(e)) if e.kind() == ErrorKind::WouldBlock => return (got, pongs),
                Err(e) => panic!("the frames do not read back: {e}"),
            }
        }
    }

    #[test]
    fn frames_read_back_in_order_whatever_a_write_takes() {
        let expected = vec![
            (true, b"one".to_vec()),
            (false, vec![1; LARGE_PAYLOAD]),
            (false, vec![2; 70_000]),
            (true, b"two".to_vec()),
        ];
        let whole = {
            let mut out = mixed(&mut server_context(2048, 1 << 20));
            let mut sock = Partial { wire: Vec::new(), limit: usize::MAX };
            assert_eq!(out.write_to(&mut sock).unwrap(), out.len());
            out.clear();
            assert!(out.is_empty());
            sock.wire
        };
        assert_eq!(read_back(&whole), (expected, 1));
        // A socket that takes part: the rest, taken after, completes the same bytes.
        for limit in [0, 1, 2, 5, 6, 7, 9, 10, 100, LARGE_PAYLOAD + 9, 70_000, whole.len() - 1] {
            let mut out = mixed(&mut server_context(2048, 1 << 20));
            let mut sock = Partial { wire: Vec::new(), limit };
            let sent = out.write_to(&mut sock).unwrap();
            assert_eq!(sent, limit.min(whole.len()));
            let mut wire = sock.wire;
            wire.extend(out.take_after(sent));
            assert!(out.is_empty());
            assert_eq!(wire, whole, "a write taking {limit} bytes");
        }
    }

    /// A client frame: `first` (FIN, RSV, opcode), the payload masked when
    /// `mask` is given, its length in the shortest form.
    fn frame(first: u8, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
        let mut f = vec![first];
        let bit = if mask.is_some() { 0x80 } else { 0 };
        match payload.len() {
            n if n < 126 => f.push(bit | n as u8),
            n if n <= 0xffff => {
                f.push(bit | 126);
                f.extend((n as u16).to_be_bytes());
            }
            n => {
                f.push(bit | 127);
                f.extend((n as u64).to_be_bytes());
            }
        }
        match mask {
            Some(m) => {
                f.extend(m);
                f.extend(payload.iter().enumerate().map(|(i, b)| b ^ m[i % 4]));
            }
            None => f.extend_from_slice(payload),
        }
        f
    }

    const MASK: Option<[u8; 4]> = Some([0x37, 0xfa, 0x21, 0x3d]);

    /// Frames of every length form, masked and not, and where each ends.
    fn frames_and_ends(mask: Option<[u8; 4]>) -> (Vec<u8>, Vec<usize>) {
        let (mut wire, mut ends) = (Vec::new(), Vec::new());
        for (first, len) in [(0x81, 0), (0x82, 125), (0x89, 3), (0x82, 126), (0x01, 5), (0x80, 65_535), (0x82, 65_536)]
        {
            wire.extend(frame(first, &vec![b'x'; len], mask));
            ends.push(wire.len());
        }
        (wire, ends)
    }

    #[test]
    fn the_tracker_finds_every_frame_end_wherever_the_bytes_are_cut() {
        for mask in [None, MASK] {
            let (wire, ends) = frames_and_ends(mask);
            // Fed in two pieces, cut at every position: a boundary exactly at the frame ends.
            for cut in 0..=wire.len() {
                let mut fed = FrameTracker::default();
                fed.feed(&wire[..cut]);
                let expected = cut == 0 || ends.contains(&cut);
                assert_eq!(fed.at_boundary(), expected, "cut at {cut} (masked: {})", mask.is_some());
                fed.feed(&wire[cut..]);
                assert!(fed.at_boundary(), "all fed, cut at {cut}");
            }
            // Fed a byte at a time through the headers and the small frames.
            let mut fed = FrameTracker::default();
            for (at, byte) in wire.iter().enumerate().take(ends[3] + 20) {
                fed.feed(std::slice::from_ref(byte));
                assert_eq!(fed.at_boundary(), ends.contains(&(at + 1)), "byte {at}");
            }
        }
    }

    /// Feeds `wire` to a server's framing in `pieces` as the driver does,
    /// asking again after a message only when the tracker does not say that
    /// the framing holds nothing, and checks that claim by asking anyway:
    /// it must answer `WouldBlock` and write nothing. Returns the messages,
    /// how many asks the tracker spared, and what the framing wrote.
    fn feed_as_the_driver(wire: &[u8], pieces: &[usize]) -> (Vec<Vec<u8>>, usize, Vec<u8>) {
        let mut ctx = server_context(2048, 1 << 20);
        let mut out = Frames::default();
        let mut fed = FrameTracker::default();
        let (mut messages, mut spared) = (Vec::new(), 0);
        let mut start = 0;
        for &end in pieces.iter().chain([&wire.len()]) {
            let piece = &wire[start..end.max(start)];
            start = end.max(start);
            let mut pos = 0;
            loop {
                let before = pos;
                let mut io = out.io(piece, pos);
                let result = ctx.read(&mut io);
                pos = io.pos;
                fed.feed(&piece[before..pos]);
                match result {
                    Ok(Message::Text(t)) => messages.push(t.as_bytes().to_vec()),
                    Ok(Message::Binary(b)) => messages.push(b.to_vec()),
                    Ok(_) => continue,
                    Err(WsError::Io(e)) if e.kind() == ErrorKind::WouldBlock => {
                        fed.would_block();
                        break;
                    }
                    Err(e) => panic!("the framing failed: {e}"),
                }
                if fed.message_returned() && pos == piece.len() {
                    spared += 1;
                    let written = out.len();
                    match ctx.read(&mut out.io(piece, pos)) {
                        Err(WsError::Io(e)) if e.kind() == ErrorKind::WouldBlock => {}
                        other => panic!("the tracker said nothing was held; the framing gave {other:?}"),
                    }
                    assert_eq!(out.len(), written, "the spared ask wrote a frame");
                    break;
                }
            }
        }
        (messages, spared, out.take_after(0))
    }

    #[test]
    fn the_framing_holds_nothing_when_the_tracker_says_so() {
        let sizes = [0, 1, 125, 126, 65_535, 65_536];
        let mut wire = Vec::new();
        for &len in &sizes {
            wire.extend(frame(0x82, &vec![7; len], MASK));
        }
        let ends: Vec<usize> = sizes
            .iter()
            .scan(0, |at, &len| {
                *at += frame(0x82, &vec![7; len], MASK).len();
                Some(*at)
            })
            .collect();
        let (messages, spared, _) = feed_as_the_driver(&wire, &[]);
        assert_eq!(messages.iter().map(Vec::len).collect::<Vec<_>>(), sizes);
        assert_eq!(spared, 1, "read in one piece: the ask after the last message is spared");
        // Each frame in its own piece: every ask after a message is spared.
        let (_, spared, _) = feed_as_the_driver(&wire, &ends);
        assert_eq!(spared, sizes.len());
        // Cut anywhere within and around the small frames' headers and
        // payloads, and around every frame end.
        let cuts = (0..ends[3] + 20).chain(ends.iter().flat_map(|&e| e.saturating_sub(20)..e + 20));
        for cut in cuts.filter(|&c| c <= wire.len()) {
            let (messages, _, _) = feed_as_the_driver(&wire, &[cut]);
            assert_eq!(messages.len(), sizes.len(), "cut at {cut}");
        }
    }

    #[test]
    fn after_a_ping_the_framing_is_asked_again_and_its_pong_goes_out() {
        let data = frame(0x81, b"one", MASK);
        let ping = frame(0x89, b"hi", MASK);
        let wire = [data.clone(), ping.clone(), data.clone(), data.clone()].concat();
        let pong = [0x8a, 2, b'h', b'i'];
        // All at once: not one ask spared (the ping makes the count unsure),
        // and the pong is written.
        let (messages, spared, written) = feed_as_the_driver(&wire, &[]);
        assert_eq!(messages.len(), 3);
        assert_eq!(spared, 0);
        assert_eq!(written, pong);
        // A piece per frame: the ping's piece is read to `WouldBlock` (which
        // writes the pong and, at a frame boundary, starts the count
        // afresh); each message's ask is spared.
        let ends = [data.len(), data.len() + ping.len(), 2 * data.len() + ping.len()];
        let (messages, spared, written) = feed_as_the_driver(&wire, &ends);
        assert_eq!(messages.len(), 3);
        assert_eq!(spared, 3);
        assert_eq!(written, pong);
        // Cut everywhere: the framing never holds what the tracker says it does not.
        for cut in 0..=wire.len() {
            let (messages, _, written) = feed_as_the_driver(&wire, &[cut]);
            assert_eq!((messages.len(), &written[..]), (3, &pong[..]), "cut at {cut}");
        }
    }

    #[test]
    fn fragments_and_closes_are_not_counted() {
        let first = frame(0x01, b"frag", MASK);
        let last = frame(0x80, b"ment", MASK);
        let after = frame(0x82, b"x", MASK);
        let wire = [first.clone(), last.clone(), after.clone()].concat();
        for cut in 0..=wire.len() {
            let (messages, _, _) = feed_as_the_driver(&wire, &[cut]);
            assert_eq!(messages, [b"fragment".to_vec(), b"x".to_vec()], "cut at {cut}");
        }
        // In one piece, the fragmented message leaves the count unsure:
        // the ask after the last message is not spared.
        assert_eq!(feed_as_the_driver(&wire, &[]).1, 0);
        // A close after a message: the close reply is written on the next ask.
        let close = frame(0x88, &[0x03, 0xe8], MASK);
        let mut ctx = server_context(2048, 1000);
        let mut out = Frames::default();
        let mut fed = FrameTracker::default();
        let wire = [after, close].concat();
        let mut io = out.io(&wire, 0);
        assert!(matches!(ctx.read(&mut io), Ok(Message::Binary(_))));
        fed.feed(&wire[..io.pos]);
        assert!(!fed.message_returned(), "the close is still held");
    }

    #[test]
    fn nothing_is_framed_after_a_close() {
        let mut ctx = server_context(2048, 1000);
        let mut out = Frames::default();
        let _ = ctx.close(&mut out.io(&[], 0), Some(close_frame(code::NORMAL, "")));
        let before = out.len();
        assert!(!out.message(&ctx, true, Bytes::from_static(b"late")));
        assert_eq!(out.len(), before);
    }
}
