//! Helpers for the gateway tests: an in-process server, WebSocket and
//! plain HTTP clients, metrics scraping; and the [`common`] ones.
#![allow(dead_code)]

#[path = "../common/mod.rs"]
mod common;
pub use common::*;

use std::collections::HashMap;
use std::future::Future;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{Error, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use twine_native::gateway::{Gateway, GatewayConfig, GatewayLink};
use twine_native::{Config, ReactorThread};

pub type Client = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

/// Reactor threads with the gateway in front, on a free port; shut down on drop.
pub struct Server {
    reactor: Option<ReactorThread>,
    others: Vec<ReactorThread>,
    gateway: Option<Gateway>,
    addr: SocketAddr,
}

impl Server {
    pub fn start(config: GatewayConfig) -> Server {
        Server::start_reactors(1, config)
    }

    /// A gateway in front of `n` reactors.
    pub fn start_reactors(n: usize, config: GatewayConfig) -> Server {
        Server::start_reactors_apart(n, config, Duration::ZERO)
    }

    /// A gateway in front of `n` reactors started `gap` apart, on one
    /// clock (as `twine serve` starts them), so their traces line up.
    pub fn start_reactors_apart(n: usize, config: GatewayConfig, gap: Duration) -> Server {
        let mut reactors = Vec::new();
        let mut links = Vec::new();
        let clock_origin = Some(Instant::now());
        for k in 0..n {
            if k > 0 {
                std::thread::sleep(gap);
            }
            let reactor_config =
                Config { threads: 2, shutdown_grace: Duration::from_secs(1), clock_origin, ..Config::default() };
            let (reactor, link) =
                ReactorThread::spawn(reactor_config, |setup| Ok(GatewayLink::install(setup))).unwrap();
            reactors.push(reactor);
            links.push(link);
        }
        let config = GatewayConfig { addr: "127.0.0.1:0".parse().unwrap(), ..config };
        let gateway = Gateway::start_many(config, links).unwrap();
        let addr = gateway.local_addr();
        let mut reactors = reactors.into_iter();
        Server { reactor: reactors.next(), others: reactors.collect(), gateway: Some(gateway), addr }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn ws(&self, path: &str) -> String {
        format!("ws://{}{path}", self.addr)
    }

    pub fn gateway(&self) -> &Gateway {
        self.gateway.as_ref().unwrap()
    }

    pub fn reactor(&self) -> &ReactorThread {
        self.reactor.as_ref().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        for reactor in self.reactor.iter().chain(&self.others) {
            reactor.shutdown();
        }
        if let Some(reactor) = self.reactor.take() {
            reactor.join();
        }
        for reactor in self.others.drain(..) {
            reactor.join();
        }
        if let Some(gateway) = self.gateway.take() {
            gateway.join(Duration::from_secs(1));
        }
    }
}

/// Runs a client-side future on its own runtime, failing the test if it
/// takes more than 60 s (a hang, not a slow machine).
pub fn block_on<T>(future: impl Future<Output = T>) -> T {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(async { tokio::time::timeout(Duration::from_secs(60), future).await.expect("the test hung") })
}

pub async fn connect(url: &str) -> Client {
    tokio_tungstenite::connect_async(url).await.unwrap_or_else(|e| panic!("connecting to {url}: {e}")).0
}

/// The status of a handshake with extra headers: 101 when it succeeded.
pub async fn handshake_status(url: &str, headers: &[(&'static str, &str)]) -> u16 {
    let mut request = url.into_client_request().unwrap();
    for (name, value) in headers {
        request.headers_mut().insert(*name, value.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((mut ws, _)) => {
            let _ = ws.close(None).await;
            101
        }
        Err(Error::Http(response)) => response.status().as_u16(),
        Err(e) => panic!("handshake with {url} failed: {e}"),
    }
}

/// The next text or binary message (pings and pongs skipped).
pub async fn next_data(ws: &mut Client) -> Message {
    loop {
        let next = tokio::time::timeout(Duration::from_secs(20), ws.next()).await.expect("no message in 20 s");
        match next {
            Some(Ok(m @ (Message::Text(_) | Message::Binary(_)))) => return m,
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            other => panic!("expected a message, got {other:?}"),
        }
    }
}

/// Reads until the server's close frame; its code (`None`: no close frame).
pub async fn close_code(ws: &mut Client) -> Option<u16> {
    loop {
        let next = tokio::time::timeout(Duration::from_secs(20), ws.next()).await.expect("no close in 20 s");
        match next {
            Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
            Some(Ok(_)) => {}
            Some(Err(_)) | None => return None,
        }
    }
}

/// Sends raw bytes as an HTTP request and returns everything the server answers.
pub fn http_request(addr: SocketAddr, raw: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    stream.write_all(raw.as_bytes()).unwrap();
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    // Read until the server closes, or (for a kept-alive connection) goes quiet.
    while let Ok(n) = stream.read(&mut buf) {
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
        if out.len() > 4 && !raw.contains("Connection: close") && out.windows(4).any(|w| w == b"\r\n\r\n") {
            break;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `GET path`: the status and the body.
pub fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    let response = http_request(addr, &format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"));
    let status = response.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    (status, body)
}

pub fn header(response: &str, name: &str) -> Option<String> {
    let head = response.split("\r\n\r\n").next()?;
    head.lines().find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
    })
}

/// `/metrics` as name (with labels) to value.
pub fn metrics(addr: SocketAddr) -> HashMap<String, f64> {
    let (status, body) = http_get(addr, "/metrics");
    assert_eq!(status, 200, "/metrics: {body}");
    body.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit_once(' '))
        .filter_map(|(name, value)| Some((name.to_owned(), value.parse().ok()?)))
        .collect()
}

/// Scrapes `/metrics` until `done` holds (the reactor publishes every few
/// ms), for up to 10 s; returns the last scrape.
pub fn wait_for_metrics(addr: SocketAddr, done: impl Fn(&HashMap<String, f64>) -> bool) -> HashMap<String, f64> {
    let mut last = HashMap::new();
    wait_until(Duration::from_secs(10), || {
        last = metrics(addr);
        done(&last)
    });
    last
}

/// Waits until the reactor has `n` connections open.
pub async fn wait_for_connections(addr: SocketAddr, n: f64) {
    let m = tokio::task::spawn_blocking(move || wait_for_metrics(addr, |m| m["twine_connections_open"] >= n))
        .await
        .unwrap();
    assert!(m["twine_connections_open"] >= n, "only {} connections opened", m["twine_connections_open"]);
}

/// Open connections on each reactor, from `/metrics`.
pub fn per_reactor_open(m: &HashMap<String, f64>, reactors: usize) -> Vec<f64> {
    (0..reactors)
        .map(|k| m.get(&format!("twine_per_reactor_connections_open{{reactor=\"{k}\"}}")).copied().unwrap_or(0.0))
        .collect()
}

/// A fresh directory under the system's temp dir.
pub fn tempdir(name: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let dir =
        std::env::temp_dir().join(format!("twine-{name}-{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed)));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Memory a reactor keeps after its connections leave, by design: up to
/// 64 spare write buffers of up to 64 KiB each (twine-core's buffer
/// recycling), so that the steady state allocates nothing. Since
/// WebSockets live in the reactor, a slow reader's backlog is written
/// through those buffers.
pub const REACTOR_SPARE_BUFFERS: u64 = 64 * 64 * 1024;

/// The process's resident memory, from /proc.
pub fn resident_bytes(pid: u32) -> u64 {
    let statm = std::fs::read_to_string(format!("/proc/{pid}/statm")).unwrap();
    statm.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() * 4096
}

/// Opens `n` connections that each send the start of a request and never finish it.
pub fn slow_clients(addr: SocketAddr, n: usize) -> Vec<TcpStream> {
    (0..n)
        .map(|_| {
            let mut s = TcpStream::connect(addr).unwrap();
            // The server may already have closed it: a failed write is fine.
            let _ = s.write_all(b"GET / HTTP/1.1\r\nHost: slow\r\nX-Waiting: ");
            s.set_nonblocking(true).unwrap();
            s
        })
        .collect()
}

/// Watches the connections until every one is closed by the server or
/// `limit` passes; returns when each closed (from `since`), `None` for open.
pub fn close_times(streams: &mut [TcpStream], since: Instant, limit: Duration) -> Vec<Option<Duration>> {
    let mut closed = vec![None; streams.len()];
    let mut buf = [0u8; 4096];
    while closed.iter().any(Option::is_none) && since.elapsed() < limit {
        for (stream, closed) in streams.iter_mut().zip(&mut closed) {
            while closed.is_none() {
                match stream.read(&mut buf) {
                    Ok(0) => *closed = Some(since.elapsed()),
                    Ok(_) => {} // an error answer before the close
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(_) => *closed = Some(since.elapsed()),
                }
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    closed
}

/// A raw WebSocket client on `/ws`: the handshake, then nothing read.
pub fn ws_handshake(addr: SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect(addr).unwrap();
    let request = format!(
        "GET /ws HTTP/1.1\r\nHost: {addr}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).unwrap();
        head.push(byte[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 101"), "{}", String::from_utf8_lossy(&head));
    stream
}

/// Masked binary frames of 16 KiB (a zero mask: the payload goes as it is).
pub fn frames(n: usize) -> Vec<u8> {
    let mut frame = vec![0x82, 0x80 | 126];
    frame.extend_from_slice(&(16u16 * 1024).to_be_bytes());
    frame.extend_from_slice(&[0, 0, 0, 0]);
    frame.extend(std::iter::repeat_n(b's', 16 * 1024));
    frame.repeat(n)
}
