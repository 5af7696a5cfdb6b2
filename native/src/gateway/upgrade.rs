//! The WebSocket upgrade (RFC 6455 §4.2), done here rather than with axum's
//! `WebSocketUpgrade` so that the socket can be wrapped in [`ReadAhead`]:
//! tungstenite reads at most its read buffer per system call, and that
//! buffer is allocated (and zeroed) per connection for its whole life. A
//! small buffer keeps idle connections cheap; the read-ahead keeps large
//! messages from costing one `recv` per few KiB.

use std::cell::RefCell;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::WebSocketStream;

/// An accepted WebSocket.
pub(crate) type Socket = WebSocketStream<ReadAhead<TokioIo<Upgraded>>>;

/// A valid WebSocket handshake request, not yet answered.
pub(crate) struct WsUpgrade {
    key: HeaderValue,
    on_upgrade: OnUpgrade,
}

/// Why a request is not a WebSocket handshake.
#[derive(Debug)]
pub(crate) struct Rejected {
    pub(crate) status: StatusCode,
    pub(crate) why: &'static str,
}

impl IntoResponse for Rejected {
    fn into_response(self) -> Response {
        let mut response = (self.status, format!("not a WebSocket upgrade: {}\n", self.why)).into_response();
        if self.status == StatusCode::UPGRADE_REQUIRED {
            // RFC 6455 §4.2.2: say which version the server speaks.
            response.headers_mut().insert(header::SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"));
        }
        response
    }
}

fn bad(why: &'static str) -> Rejected {
    Rejected { status: StatusCode::BAD_REQUEST, why }
}

fn header_has_token(headers: &HeaderMap, name: HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

impl<S: Send + Sync> FromRequestParts<S> for WsUpgrade {
    type Rejection = Rejected;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Rejected> {
        if parts.method != Method::GET {
            return Err(Rejected { status: StatusCode::METHOD_NOT_ALLOWED, why: "the method must be GET" });
        }
        if !header_has_token(&parts.headers, header::CONNECTION, "upgrade") {
            return Err(bad("the Connection header does not include `upgrade`"));
        }
        if !header_has_token(&parts.headers, header::UPGRADE, "websocket") {
            return Err(bad("the Upgrade header does not include `websocket`"));
        }
        match parts.headers.get(header::SEC_WEBSOCKET_VERSION) {
            None => return Err(bad("Sec-WebSocket-Version is missing")),
            // RFC 6455 §4.2.2: a version the server does not speak gets 426
            // and the version it does (so a client can retry with it).
            Some(v) if v.as_bytes() != b"13" => {
                return Err(Rejected {
                    status: StatusCode::UPGRADE_REQUIRED,
                    why: "this server speaks Sec-WebSocket-Version 13 only",
                })
            }
            Some(_) => {}
        }
        let key = match parts.headers.get(header::SEC_WEBSOCKET_KEY) {
            // 16 random bytes in base64.
            Some(key) if key.len() == 24 => key.clone(),
            Some(_) => return Err(bad("Sec-WebSocket-Key must be 16 bytes in base64")),
            None => return Err(bad("Sec-WebSocket-Key is missing")),
        };
        let on_upgrade = parts.extensions.remove::<OnUpgrade>().ok_or(Rejected {
            status: StatusCode::UPGRADE_REQUIRED,
            why: "this connection cannot be upgraded (HTTP/1.0?)",
        })?;
        Ok(WsUpgrade { key, on_upgrade })
    }
}

impl WsUpgrade {
    /// Answers 101 Switching Protocols and runs `serve` on the socket once
    /// hyper hands it over (in a task of its own).
    pub(crate) fn accept<F>(self, config: WebSocketConfig, serve: impl FnOnce(Socket) -> F + Send + 'static) -> Response
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let accept = derive_accept_key(self.key.as_bytes());
        let on_upgrade = self.on_upgrade;
        tokio::spawn(async move {
            match on_upgrade.await {
                Ok(upgraded) => {
                    let io = ReadAhead::new(TokioIo::new(upgraded));
                    serve(WebSocketStream::from_raw_socket(io, Role::Server, Some(config)).await).await;
                }
                Err(e) => tracing::debug!("a WebSocket upgrade failed: {e}"),
            }
        });
        switching_protocols(accept)
    }
}

impl WsUpgrade {
    /// Answers 101 Switching Protocols and, once hyper lets go of the
    /// connection, gives `adopt` the socket itself (non-blocking, out of
    /// tokio's hands) and the bytes hyper read past the request.
    pub(crate) fn hand_off(self, adopt: impl FnOnce(std::net::TcpStream, Bytes) + Send + 'static) -> Response {
        let accept = derive_accept_key(self.key.as_bytes());
        let on_upgrade = self.on_upgrade;
        tokio::spawn(async move {
            let upgraded = match on_upgrade.await {
                Ok(upgraded) => upgraded,
                Err(e) => return tracing::debug!("a WebSocket upgrade failed: {e}"),
            };
            // The gateway serves each connection with hyper's own http1
            // builder (see `http`), so the upgraded IO is the stream itself.
            let parts = match upgraded.downcast::<TokioIo<tokio::net::TcpStream>>() {
                Ok(parts) => parts,
                Err(_) => return tracing::error!("an upgraded connection is not a TCP stream; dropped"),
            };
            match parts.io.into_inner().into_std() {
                // tokio leaves it non-blocking, as the reactor wants it.
                Ok(sock) => adopt(sock, parts.read_buf),
                Err(e) => tracing::warn!("cannot take an upgraded socket from tokio: {e}"),
            }
        });
        switching_protocols(accept)
    }
}

fn switching_protocols(accept: String) -> Response {
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header(header::CONNECTION, "upgrade")
        .header(header::UPGRADE, "websocket")
        .header(header::SEC_WEBSOCKET_ACCEPT, accept)
        .body(Body::empty())
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// Bytes one read-ahead takes from the socket at most.
const READ_AHEAD: usize = 64 * 1024;
/// Spare read-ahead buffers a thread keeps for reuse.
const SPARES: usize = 4;

thread_local! {
    /// Read-ahead buffers not in use: one is lent to a connection for a
    /// read, and stays with it only while it holds bytes the caller has not
    /// taken yet, so there are about as many as threads, not connections.
    static SPARE: RefCell<Vec<Box<[u8]>>> = const { RefCell::new(Vec::new()) };
}

fn lend() -> Box<[u8]> {
    SPARE.with(|s| s.borrow_mut().pop()).unwrap_or_else(|| vec![0; READ_AHEAD].into_boxed_slice())
}

fn give_back(buf: Box<[u8]>) {
    SPARE.with(|s| {
        let mut spare = s.borrow_mut();
        if spare.len() < SPARES {
            spare.push(buf);
        }
    });
}

/// Reads up to 64 KiB per system call whatever the caller's buffer, and
/// keeps what the caller did not take in the buffer it was read into (no
/// second copy); the buffer goes back to the thread once taken, so an idle
/// connection holds no extra buffer. Writes go straight through.
pub(crate) struct ReadAhead<T> {
    inner: T,
    /// The lent buffer while it holds untaken bytes: `pending[taken..filled]`.
    pending: Option<Box<[u8]>>,
    taken: usize,
    filled: usize,
}

impl<T> ReadAhead<T> {
    pub(crate) fn new(inner: T) -> ReadAhead<T> {
        ReadAhead { inner, pending: None, taken: 0, filled: 0 }
    }
}

impl<T> Drop for ReadAhead<T> {
    fn drop(&mut self) {
        if let Some(buf) = self.pending.take() {
            give_back(buf);
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for ReadAhead<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if let Some(pending) = &this.pending {
            let n = buf.remaining().min(this.filled - this.taken);
            buf.put_slice(&pending[this.taken..this.taken + n]);
            this.taken += n;
            if this.taken == this.filled {
                if let Some(empty) = this.pending.take() {
                    give_back(empty);
                }
            }
            return Poll::Ready(Ok(()));
        }
        if buf.remaining() >= READ_AHEAD {
            return Pin::new(&mut this.inner).poll_read(cx, buf);
        }
        let mut ahead_buf = lend();
        let mut ahead = ReadBuf::new(&mut ahead_buf[..]);
        let read = Pin::new(&mut this.inner).poll_read(cx, &mut ahead);
        let filled = ahead.filled().len();
        if let Poll::Ready(Ok(())) = read {
            let n = buf.remaining().min(filled);
            buf.put_slice(&ahead_buf[..n]);
            if n < filled {
                this.pending = Some(ahead_buf);
                this.taken = n;
                this.filled = filled;
                return Poll::Ready(Ok(()));
            }
        }
        give_back(ahead_buf);
        read
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for ReadAhead<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, data)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    #[tokio::test]
    async fn small_reads_are_served_from_one_read_ahead_and_nothing_is_kept_after() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let mut reader = ReadAhead::new(&data[..]);
        let mut out = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let n = reader.read(&mut chunk).await.unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&chunk[..n]);
        }
        assert_eq!(out, data);
        assert!(reader.pending.is_none(), "the read-ahead buffer goes back to the thread once taken");
    }
}
