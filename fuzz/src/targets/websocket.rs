//! `websocket`: the WebSocket framing the native reactor runs for `/ws`,
//! in memory. The driver (`native/src/driver/websocket.rs`, tied to its mio
//! sockets) runs tungstenite's sans-IO `WebSocketContext` as the server,
//! through the pieces of `twine_native::ws_framing` (its configuration, the
//! I/O shim over the bytes each read brought, the outgoing [`Frames`], the
//! close code an error calls for); echo answers each message; after an
//! error it sends its close frame
//! and feeds the framing nothing more. This target drives the same pieces
//! on bytes instead of a socket. The real driver
//! over loopback stays covered by `native/tests/fuzz_websocket.rs`.
//!
//! Input: a byte for the size of the pieces the client's bytes arrive in,
//! then those bytes (frames from the client).
//!
//! Properties, beside "never panics": no message is over the limit; what
//! the server sends back, read by a client, is valid frames carrying
//! exactly the messages it received, in order (the echo), ending with the
//! close code the error called for (1009 too big, 1007 bad UTF-8, 1002 the
//! rest); when the frame tracker says the framing holds nothing after a
//! message (the driver then does not ask it again), asking it again brings
//! `WouldBlock` and writes nothing. The server's frames leave through one write that takes at most
//! the piece size (a socket taking part), the rest after it.

use std::io::{ErrorKind, IoSlice, Write};

use tungstenite::error::Error as WsError;
use tungstenite::protocol::{Role, WebSocketContext};
use tungstenite::Message;
use twine_native::ws_framing::{close_for, close_frame, server_context, FrameTracker, Frames, Io};

use crate::{Outcome, Sig, Target};

/// The message limit, small so that "too big" is a path inputs take (the
/// loopback fuzzer uses the same).
const MAX_MESSAGE: usize = 1000;
/// The gateway's default read buffer (`GatewayConfig::read_buffer`).
const READ_BUFFER: usize = 2048;

/// See the module documentation.
pub struct WebSocket;

/// How the server's side ended.
#[derive(Debug, PartialEq)]
enum End {
    /// The input ran out with the connection open.
    Open,
    /// The close handshake finished.
    Closed,
    /// A read error: the close code sent, if any.
    Failed(Option<u16>, u64),
}

/// The kind of error (a protocol error's variant and its detail, like the opcode).
fn error_kind(e: &WsError) -> u64 {
    match e {
        WsError::Capacity(_) => 1,
        WsError::Utf8(_) => 2,
        WsError::Protocol(p) => Sig::new("protocol").text(&format!("{p:?}")).done() % 4096,
        _ => 3,
    }
}

/// A client's frame: `first` (FIN, RSV, opcode), masked `payload`, its
/// length as `length` says (the length byte and extension) or the shortest.
fn masked(first: u8, payload: &[u8], length: Option<&[u8]>) -> Vec<u8> {
    let mask = [0x37, 0xfa, 0x21, 0x3d];
    let mut f = vec![first];
    match length {
        Some(l) => {
            f.push(0x80 | l[0]);
            f.extend_from_slice(&l[1..]);
        }
        None => f.push(0x80 | payload.len() as u8),
    }
    f.extend_from_slice(&mask);
    f.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    f
}

/// An input: the piece size, then the frames.
fn seed(piece: u8, frames: &[Vec<u8>]) -> Vec<u8> {
    let mut input = vec![piece];
    for f in frames {
        input.extend_from_slice(f);
    }
    input
}

/// Data messages as (text?, bytes).
type Data = Vec<(bool, Vec<u8>)>;

impl Target for WebSocket {
    fn name(&self) -> &'static str {
        "websocket"
    }

    fn seeds(&self) -> Vec<Vec<u8>> {
        let long = vec![b'a'; 200];
        let over = vec![b'b'; 1200];
        let large = vec![b'c'; 600]; // sent from where it is (ws_framing::LARGE_PAYLOAD)
        vec![
            seed(5, &[masked(0x82, &large, Some(&[126, 2, 88])), masked(0x81, b"after", None)]),
            seed(0, &[masked(0x81, b"hello", None)]),
            seed(3, &[masked(0x82, &[0, 1, 2, 255], None), masked(0x89, b"ping", None)]),
            seed(1, &[masked(0x01, b"frag", None), masked(0x80, b"mented", None)]),
            seed(0, &[masked(0x81, &long, Some(&[126, 0, 200]))]),
            seed(7, &[masked(0x82, b"xy", Some(&[127, 0, 0, 0, 0, 0, 0, 0, 2]))]),
            seed(0, &[masked(0x82, &over, Some(&[126, 0x04, 0xb0]))]),
            seed(0, &[masked(0x81, &[0xc3, 0x28], None)]),
            seed(2, &[masked(0x81, b"bye", None), masked(0x88, &[0x03, 0xe8, b'o', b'k'], None)]),
            seed(0, &[vec![0x81, 0x02, b'n', b'o']]), // unmasked: refused
            seed(0, &[masked(0xc1, b"rsv", None)]),
        ]
    }

    fn max_len(&self) -> usize {
        4096
    }

    fn run(&mut self, input: &[u8]) -> Result<Outcome, String> {
        let [piece, wire @ ..] = input else { return Ok(0) };
        let piece = if *piece == 0 { wire.len().max(1) } else { *piece as usize % 64 + 1 };
        let mut ctx = server_context(READ_BUFFER, MAX_MESSAGE);
        let mut out = Frames::default();
        let mut fed = FrameTracker::default();
        let mut received: Data = Vec::new();
        let mut controls = 0u64;
        let mut end = End::Open;
        'feed: for chunk in wire.chunks(piece) {
            let mut pos = 0;
            // The tracker says the framing holds nothing after the message it returned.
            let mut holds_nothing = false;
            loop {
                let (before, written) = (pos, out.len());
                let mut io = out.io(chunk, pos);
                let result = ctx.read(&mut io);
                pos = io.pos;
                fed.feed(&chunk[before..pos]);
                let would_block = matches!(&result, Err(WsError::Io(e)) if e.kind() == ErrorKind::WouldBlock);
                if holds_nothing && (!would_block || out.len() != written) {
                    return Err(format!(
                        "the frame tracker said the framing held nothing; asked again it gave {result:?} \
                         and wrote {} bytes",
                        out.len() - written
                    ));
                }
                match result {
                    Ok(Message::Text(t)) => {
                        received.push((true, t.as_bytes().to_vec()));
                        out.message(&ctx, true, t.into());
                        holds_nothing = fed.message_returned() && pos == chunk.len();
                    }
                    Ok(Message::Binary(b)) => {
                        received.push((false, b.to_vec()));
                        out.message(&ctx, false, b);
                        holds_nothing = fed.message_returned() && pos == chunk.len();
                    }
                    Ok(_) => controls += 1,
                    Err(WsError::Io(e)) if e.kind() == ErrorKind::WouldBlock => {
                        fed.would_block();
                        break;
                    }
                    Err(WsError::ConnectionClosed | WsError::AlreadyClosed) => {
                        end = End::Closed;
                        break 'feed;
                    }
                    Err(e) => {
                        let close = close_for(&e);
                        if let Some((code, reason)) = close {
                            let _ = ctx.close(&mut out.io(&[], 0), Some(close_frame(code, reason)));
                        }
                        let code = close.map(|(code, _)| code);
                        // The driver feeds the framing nothing more after an error.
                        end = End::Failed(code, error_kind(&e));
                        break 'feed;
                    }
                }
            }
        }
        for (_, m) in &received {
            if m.len() > MAX_MESSAGE {
                return Err(format!("a message of {} bytes passed the {MAX_MESSAGE}-byte limit", m.len()));
            }
        }
        let mut wire = Vec::new();
        let sent = out.write_to(&mut Partial { out: &mut wire, limit: piece }).map_err(|e| e.to_string())?;
        if sent != wire.len() || sent > out.len() {
            return Err(format!("a write said {sent} bytes and wrote {}", wire.len()));
        }
        wire.extend(out.take_after(sent));
        let (echoed, close) = read_as_client(&wire)?;
        if echoed != received {
            return Err(format!(
                "the client read {} messages back where the server got {}",
                echoed.len(),
                received.len()
            ));
        }
        if let End::Failed(Some(code), _) = end {
            if close != Some(code) {
                return Err(format!("a read error called for close code {code}; the client saw {close:?}"));
            }
        }
        let end_kind = match end {
            End::Open => 0,
            End::Closed => 1,
            End::Failed(code, kind) => 2 + code.unwrap_or(0) as u64 * 4096 + kind,
        };
        Ok(Sig::new("websocket")
            .mix(end_kind)
            .mix(Sig::bucket(received.len()))
            .mix(received.iter().any(|m| m.0) as u64)
            .mix(received.iter().any(|m| !m.0) as u64)
            .mix(Sig::bucket(controls as usize))
            .done())
    }
}

/// A socket that takes at most `limit` bytes per write, across slices.
struct Partial<'a> {
    out: &'a mut Vec<u8>,
    limit: usize,
}

impl Write for Partial<'_> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.write_vectored(&[IoSlice::new(data)])
    }

    fn write_vectored(&mut self, slices: &[IoSlice<'_>]) -> std::io::Result<usize> {
        let start = self.out.len();
        for slice in slices {
            let room = self.limit - (self.out.len() - start);
            self.out.extend_from_slice(&slice[..slice.len().min(room)]);
        }
        Ok(self.out.len() - start)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Reads the server's bytes as a client would: its data messages, and the
/// code of its close frame. Errs if they are not valid frames.
fn read_as_client(out: &[u8]) -> Result<(Data, Option<u16>), String> {
    let mut client = WebSocketContext::new(Role::Client, None);
    let mut replies = Vec::new();
    let mut io = Io { input: out, pos: 0, out: &mut replies };
    let mut got = Vec::new();
    loop {
        match client.read(&mut io) {
            Ok(Message::Text(t)) => got.push((true, t.as_bytes().to_vec())),
            Ok(Message::Binary(b)) => got.push((false, b.to_vec())),
            Ok(Message::Close(frame)) => return Ok((got, frame.map(|f| u16::from(f.code)))),
            Ok(_) => {}
            Err(WsError::Io(e)) if e.kind() == ErrorKind::WouldBlock => return Ok((got, None)),
            Err(WsError::ConnectionClosed | WsError::AlreadyClosed) => return Ok((got, None)),
            Err(e) => return Err(format!("the server's own frames do not read back: {e}")),
        }
    }
}
