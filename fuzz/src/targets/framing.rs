//! `framing`: core's byte-stream receivers (`LineReceiver` with raw-mode
//! switches, `LineOnlyReceiver`, `NetstringReceiver`, `Int8/16/32StringReceiver`)
//! over core's `StringTransport`, the transport a reactor gives them.
//!
//! Input: a byte choosing the receiver, one for its `max_length`, one for
//! the size of the pieces the stream arrives in, then the stream.
//!
//! Properties, beside "never panics": a receiver that refuses input has
//! dropped the connection and says why; no message it delivers is longer
//! than its `max_length` (Twisted's rule); and when neither run refuses,
//! the stream in pieces gives the same messages as the stream at once.

use twine_core::protocol::Protocol;
use twine_core::protocols::basic::{
    FramingError, Int16StringReceiver, Int32StringReceiver, Int8StringReceiver, LineOnlyReceiver, LineReceiver,
    NetstringReceiver,
};
use twine_core::testing::{feed_chunked, MessageRecorder, Received, StringTransport};

use crate::{Outcome, Sig, Target};

/// See the module documentation.
pub struct Framing;

/// What one receiver did with a stream.
struct Run {
    got: Vec<Received>,
    error: Option<FramingError>,
    disconnecting: bool,
}

fn feed<P: Protocol>(mut receiver: P, data: &[u8], piece: usize) -> (P, bool) {
    let t = StringTransport::new();
    t.make_connection(&mut receiver);
    feed_chunked(&mut receiver, t.transport(), data, std::iter::repeat(piece));
    (receiver, t.disconnecting())
}

fn run(kind: u8, max: usize, data: &[u8], piece: usize) -> Run {
    macro_rules! with {
        ($receiver:expr) => {{
            let (r, disconnecting) = feed($receiver.with_max_length(max), data, piece);
            Run { error: r.error().cloned(), got: r.into_inner().into_received(), disconnecting }
        }};
    }
    match kind % 6 {
        0 => with!(LineReceiver::new(MessageRecorder::default())),
        1 => with!(LineOnlyReceiver::new(MessageRecorder::default())),
        2 => with!(NetstringReceiver::new(MessageRecorder::default())),
        3 => with!(Int8StringReceiver::new(MessageRecorder::default())),
        4 => with!(Int16StringReceiver::new(MessageRecorder::default())),
        _ => with!(Int32StringReceiver::new(MessageRecorder::default())),
    }
}

fn error_kind(e: &FramingError) -> u64 {
    match e {
        FramingError::LineTooLong { .. } => 1,
        FramingError::LengthLimitExceeded { .. } => 2,
        FramingError::NetstringMissingLength { .. } => 3,
        FramingError::NetstringMissingComma { .. } => 4,
        _ => 5,
    }
}

impl Target for Framing {
    fn name(&self) -> &'static str {
        "framing"
    }

    fn seeds(&self) -> Vec<Vec<u8>> {
        let with = |kind: u8, max: u8, piece: u8, data: &[u8]| [&[kind, max, piece][..], data].concat();
        vec![
            with(0, 0x80, 0, b"hello\r\nraw 5\r\nab\r\ncdone\r\n"),
            with(0, 16, 3, b"short\r\nthis line is far too long\r\n"),
            with(1, 0x80, 1, b"one\r\ntwo\r\n\r\n"),
            with(2, 0x80, 2, b"3:abc,0:,5:hello,"),
            with(2, 4, 0, b"12:hello world!,"),
            with(3, 0x80, 1, b"\x03abc\x00\x05hello"),
            with(4, 0x80, 2, b"\x00\x03abc\x00\x00"),
            with(5, 0x80, 5, b"\x00\x00\x00\x05hello\xff\xff\xff\xff"),
        ]
    }

    fn tokens(&self) -> &'static [&'static str] {
        &["\r\n", "\n", "\r", "raw ", "raw 3\r\n", "0:", ",", "10:", ":", "\u{0}\u{0}\u{0}"]
    }

    fn max_len(&self) -> usize {
        2048
    }

    fn run(&mut self, input: &[u8]) -> Result<Outcome, String> {
        let [kind, max, piece, data @ ..] = input else { return Ok(0) };
        // Small limits, so that "too long" is a path the inputs take; the top bit: Twisted's defaults.
        let max = if max & 0x80 != 0 { 16_384 } else { (*max & 0x3f) as usize };
        let piece = 1 + (*piece as usize % 64);
        let whole = run(*kind, max, data, data.len().max(1));
        let pieces = run(*kind, max, data, piece);
        for r in [&whole, &pieces] {
            if let Some(e) = &r.error {
                if !r.disconnecting {
                    return Err(format!("refused ({e}) without dropping the connection"));
                }
                if e.to_string().is_empty() {
                    return Err("an error without a reason".into());
                }
            }
            for got in &r.got {
                if let Received::Message(m) = got {
                    if m.len() > max {
                        return Err(format!("a message of {} bytes delivered past max_length {max}", m.len()));
                    }
                }
            }
        }
        if whole.error.is_none() && pieces.error.is_none() && whole.got != pieces.got {
            return Err(format!(
                "pieces of {piece} bytes gave other messages than the whole stream: {:?} vs {:?}",
                pieces.got, whole.got
            ));
        }
        let raw = whole.got.iter().any(|g| matches!(g, Received::Raw(_)));
        Ok(Sig::new("framing")
            .mix(*kind as u64 % 6)
            .mix(whole.error.as_ref().map_or(0, error_kind))
            .mix(pieces.error.as_ref().map_or(0, error_kind))
            .mix(Sig::bucket(whole.got.len()))
            .mix(raw as u64)
            .done())
    }
}
