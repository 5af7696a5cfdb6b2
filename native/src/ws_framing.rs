//! The WebSocket framing the reactor runs, without its sockets: the
//! pieces the driver (`driver/websocket.rs`) feeds its bytes through, public
//! so that a fuzzer (`fuzz/`, target `websocket`) drives the very same
//! configuration, I/O shim and error-to-close-code rule in memory.
//!
//! ```
//! use twine_native::ws_framing::{server_context, Io};
//! use tungstenite::Message;
//!
//! let mut ctx = server_context(2048, 1000);
//! // A masked text frame "hi" from a client.
//! let mask = [1, 2, 3, 4];
//! let mut frame = vec![0x81, 0x80 | 2];
//! frame.extend_from_slice(&mask);
//! frame.extend(b"hi".iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
//! let mut out = Vec::new();
//! let mut io = Io { input: &frame, pos: 0, out: &mut out };
//! assert_eq!(ctx.read(&mut io).unwrap(), Message::text("hi"));
//! ```

use std::io::{ErrorKind, Read, Write};

use tungstenite::error::{Error as WsError, ProtocolError};
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

/// tungstenite's view of the connection: reads come from the bytes at hand
/// (`WouldBlock` past them), writes go to the frame buffer.
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
