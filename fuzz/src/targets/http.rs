//! `http`: request bytes to the gateway's real router and hyper
//! connection (its routes, limits and header timeout), over an in-memory
//! pipe instead of a socket ([`StreamServer`]), on a runtime whose clock
//! is paused, so that waiting out the header timeout takes no real time.
//!
//! Input: a byte saying whether the client ends its side after sending
//! (odd) or stays silent (even: a slow client), then the bytes sent.
//!
//! Properties, beside "never panics": every input gets a response or a
//! clean close, and the connection is closed within the header timeout of
//! the client's last byte (Slowloris) or when the client ends its side;
//! the first response is HTTP/1.x with a status, never 500; a 101 answers
//! only a valid WebSocket upgrade (GET, a `/ws` route, `Upgrade:
//! websocket`, `Connection: upgrade`, version 13, a 24-character key)
//! with the right `Sec-WebSocket-Accept`, and nothing follows it; a plain
//! valid upgrade to `/ws` from a client that keeps its side open gets its
//! 101 (one that ends its side at once may get a bare close from hyper). `/api/run` would run experiments
//! for real: the gateway here has an admin token the fuzzer does not know,
//! so those requests stop at 401.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tungstenite::handshake::derive_accept_key;
use twine_native::gateway::{Gateway, GatewayConfig, GatewayLink, StreamServer};
use twine_native::{Config, ReactorThread};

use crate::{Outcome, Sig, Target};

/// Where the requests come from, as the gateway sees it.
const PEER: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 40000);

/// The gateway's header timeout here (its default).
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// See the module documentation.
pub struct Http {
    runtime: tokio::runtime::Runtime,
    streams: StreamServer,
    gateway: Option<Gateway>,
    reactor: Option<ReactorThread>,
    www: PathBuf,
}

impl Http {
    /// Starts a reactor and a gateway (listening on a loopback port it
    /// never gets a connection on) with a small `www` folder of its own.
    pub fn new() -> std::io::Result<Http> {
        let www = std::env::temp_dir().join(format!("twine-fuzz-www-{}", std::process::id()));
        std::fs::create_dir_all(www.join("sub"))?;
        std::fs::write(www.join("index.html"), "<!doctype html><title>fuzz</title>\n")?;
        std::fs::write(www.join("sub/a.txt"), "a\n")?;
        #[cfg(unix)]
        {
            let _ = std::os::unix::fs::symlink("/etc/hostname", www.join("out"));
        }
        let (reactor, link) = ReactorThread::spawn(Config::default(), |setup| Ok(GatewayLink::install(setup)))?;
        let config = GatewayConfig {
            addr: "127.0.0.1:0".parse().expect("an address"),
            www: www.clone(),
            max_message: 1000,
            header_read_timeout: Some(HEADER_TIMEOUT),
            admin_token: Some("not-a-token-the-fuzzer-knows-7f3a9c".into()),
            ..GatewayConfig::default()
        };
        let gateway = Gateway::start(config, link)?;
        let streams = gateway.stream_server();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build()?;
        Ok(Http { runtime, streams, gateway: Some(gateway), reactor: Some(reactor), www })
    }
}

impl Drop for Http {
    fn drop(&mut self) {
        if let Some(reactor) = self.reactor.take() {
            reactor.shutdown();
            reactor.join();
        }
        if let Some(gateway) = self.gateway.take() {
            gateway.join(Duration::from_secs(1));
        }
        let _ = std::fs::remove_dir_all(&self.www);
    }
}

/// What the first request asked for, as far as an upgrade goes.
struct Asked {
    /// Parsed whole (headers and all).
    complete: bool,
    valid_upgrade: bool,
    /// A valid upgrade to `/ws` with nothing that could refuse it (no
    /// origin, each header once): it must get its 101.
    plain_upgrade: bool,
    key: Option<Vec<u8>>,
}

fn has_token(value: &[u8], token: &str) -> bool {
    std::str::from_utf8(value).is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
}

fn asked(request: &[u8]) -> Asked {
    let mut headers = [httparse::EMPTY_HEADER; 128];
    let mut req = httparse::Request::new(&mut headers);
    let complete = matches!(req.parse(request), Ok(httparse::Status::Complete(_)));
    let mut asked = Asked { complete, valid_upgrade: false, plain_upgrade: false, key: None };
    if !complete {
        return asked;
    }
    let path = req.path.unwrap_or("");
    let route = path.split('?').next().unwrap_or("");
    let headers: Vec<(String, &[u8])> = req.headers.iter().map(|h| (h.name.to_ascii_lowercase(), h.value)).collect();
    let all = |name: &str| -> Vec<&[u8]> { headers.iter().filter(|(n, _)| n == name).map(|(_, v)| *v).collect() };
    let one = |name: &str| -> Option<&[u8]> {
        match all(name)[..] {
            [value] => Some(value),
            _ => None,
        }
    };
    let key = all("sec-websocket-key").first().map(|k| k.to_vec());
    asked.valid_upgrade = req.method == Some("GET")
        && req.version == Some(1)
        && matches!(route, "/ws" | "/ws/chat" | "/ws/trace")
        && all("connection").iter().any(|v| has_token(v, "upgrade"))
        && all("upgrade").iter().any(|v| has_token(v, "websocket"))
        && all("sec-websocket-version").first().is_some_and(|v| *v == b"13")
        && key.as_ref().is_some_and(|k| k.len() == 24);
    asked.plain_upgrade = asked.valid_upgrade
        && path == "/ws"
        && all("origin").is_empty()
        && one("host") == Some(&b"127.0.0.1"[..])
        && one("connection") == Some(&b"Upgrade"[..])
        && one("upgrade") == Some(&b"websocket"[..])
        && one("sec-websocket-key").is_some()
        && one("sec-websocket-version").is_some()
        && all("content-length").is_empty()
        && all("transfer-encoding").is_empty()
        && headers.iter().all(|(_, v)| v.iter().all(|b| b.is_ascii_graphic() || *b == b' '));
    asked.key = key;
    asked
}

impl Target for Http {
    fn name(&self) -> &'static str {
        "http"
    }

    fn seeds(&self) -> Vec<Vec<u8>> {
        let upgrade = |path: &str, version: &str| {
            format!(
                "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
                 Sec-WebSocket-Version: {version}\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
            )
        };
        let seeds = [
            format!("\u{1}{}", upgrade("/ws", "13")),
            format!("\u{0}{}", upgrade("/ws/chat", "13")),
            format!("\u{1}{}", upgrade("/ws", "8")),
            format!("\u{1}{}", upgrade("/ws/trace?token=guess", "13")),
            "\u{1}GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n".into(),
            "\u{1}GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /index.html HTTP/1.1\r\nHost: x\r\n\r\n".into(),
            "\u{0}GET /metrics HTTP/1.1\r\nAuthorization: Bearer wrong\r\n\r\n".into(),
            "\u{1}POST /api/run HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n{\"scenario\":{}}".into(),
            "\u{1}POST /api/run HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n".into(),
            "\u{1}GET /../../etc/passwd HTTP/1.1\r\n\r\nGET /%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\n\r\n".into(),
            "\u{0}GET /out HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /sub/ HTTP/1.1\r\n\r\n".into(),
            "\u{1}GET /ws HTTP/1.0\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n".into(),
            "\u{0}GET /healthz HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n".into(),
            "\u{0}GET /index.html HTT".into(),
        ];
        seeds.into_iter().map(String::into_bytes).collect()
    }

    fn tokens(&self) -> &'static [&'static str] {
        &[
            "\r\n",
            "\r\n\r\n",
            "GET ",
            "POST ",
            "HEAD ",
            " HTTP/1.1\r\n",
            " HTTP/1.0\r\n",
            "/ws",
            "/ws/chat",
            "/ws/trace",
            "/metrics",
            "/healthz",
            "/api/run",
            "/index.html",
            "%2e%2e/",
            "%00",
            "?token=",
            "Host: 127.0.0.1\r\n",
            "Connection: Upgrade\r\n",
            "Connection: keep-alive, Upgrade\r\n",
            "Upgrade: websocket\r\n",
            "Sec-WebSocket-Version: 13\r\n",
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n",
            "Origin: http://evil.example\r\n",
            "Origin: http://127.0.0.1:8080\r\n",
            "Authorization: Bearer x\r\n",
            "Content-Length: ",
            "Content-Length: 5\r\n",
            "Transfer-Encoding: chunked\r\n",
            "0\r\n\r\n",
            "Expect: 100-continue\r\n",
            "Range: bytes=0-1\r\n",
            "Accept-Encoding: gzip\r\n",
        ]
    }

    fn run(&mut self, input: &[u8]) -> Result<Outcome, String> {
        let [how, request @ ..] = input else { return Ok(0) };
        let ends = how & 1 == 1;
        let asked = asked(request);
        let streams = &self.streams;
        let (answer, closed, served) = self.runtime.block_on(async {
            // Room for the whole request, so that sending never waits on the server.
            let (mut client, server) = tokio::io::duplex(64 * 1024);
            let served = tokio::spawn(streams.serve(server, PEER));
            let _ = client.write_all(request).await;
            if ends {
                let _ = client.shutdown().await;
            }
            let mut answer = Vec::new();
            let limit = HEADER_TIMEOUT + Duration::from_secs(5);
            let closed = tokio::time::timeout(limit, client.read_to_end(&mut answer)).await.is_ok();
            drop(client);
            (answer, closed, served.await)
        });
        if let Err(e) = served {
            return Err(format!("the connection's task failed: {e}"));
        }
        if !closed {
            return Err(format!(
                "the connection was still open {:?} after the client's last byte ({} bytes answered)",
                HEADER_TIMEOUT + Duration::from_secs(5),
                answer.len()
            ));
        }
        if answer.is_empty() {
            if asked.plain_upgrade && !ends {
                return Err("a plain valid upgrade to /ws was closed without an answer".into());
            }
            return Ok(Sig::new("closed").mix(asked.complete as u64).done());
        }
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut response = httparse::Response::new(&mut headers);
        let end = match response.parse(&answer) {
            Ok(httparse::Status::Complete(end)) => end,
            other => return Err(format!("the answer is not an HTTP response ({other:?}): {:?}", head(&answer))),
        };
        let status = response.code.unwrap_or(0);
        // HTTP/1.1, or 1.0 in answer to a 1.0 request.
        if !matches!(response.version, Some(0 | 1)) {
            return Err(format!("an HTTP/1.{:?} response: {:?}", response.version, head(&answer)));
        }
        if status == 500 {
            return Err(format!("500 Internal Server Error: {:?}", head(&answer)));
        }
        if status == 101 {
            if !asked.valid_upgrade {
                return Err(format!("101 for a request that is not a valid upgrade: {:?}", head(request)));
            }
            let accept = response.headers.iter().find(|h| h.name.eq_ignore_ascii_case("sec-websocket-accept"));
            let expected = asked.key.as_deref().map(derive_accept_key);
            if accept.map(|h| h.value) != expected.as_deref().map(str::as_bytes) {
                return Err(format!("a 101 with the wrong Sec-WebSocket-Accept: {:?}", head(&answer)));
            }
            if answer.len() > end {
                return Err(format!("bytes after the 101: {:?}", head(&answer[end..])));
            }
        } else if asked.plain_upgrade && !ends {
            return Err(format!("a plain valid upgrade to /ws got {status}: {:?}", head(&answer)));
        }
        let responses = answer.windows(9).filter(|w| *w == b"HTTP/1.1 ").count();
        Ok(Sig::new("answered").mix(status as u64).mix(Sig::bucket(responses)).mix(ends as u64).done())
    }
}

/// The start of some bytes, for a message.
fn head(bytes: &[u8]) -> String {
    String::from_utf8_lossy(&bytes[..bytes.len().min(300)]).into_owned()
}
