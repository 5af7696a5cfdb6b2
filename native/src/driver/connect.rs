//! Outgoing connections (`connect_tcp`): a non-blocking connect, its
//! completion or failure, and its deadline.

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Interest, Token};
use twine_core::defer::{Failure, FailureKind};
use twine_core::protocol::ConnectionId;

use super::sources::{Source, Stream};
use super::Driver;

/// An outgoing connection still being made.
pub(crate) struct Connecting {
    addr: SocketAddr,
    timeout: Duration,
}

impl Driver {
    pub(super) fn connect(&mut self, conn: ConnectionId, addr: SocketAddr, timeout: Duration) {
        let sock = match TcpStream::connect(addr) {
            Ok(sock) => sock,
            Err(e) => {
                let failure = connect_failure(addr, e);
                return self.reactor.handle_connect_failed(self.now, conn, failure);
            }
        };
        let deadline = Instant::now() + timeout;
        let i = self.sources.insert(Source::Stream(Stream::new(conn, sock, Some(Connecting { addr, timeout }))));
        self.conns.insert(conn, i);
        self.connecting.push((deadline, conn));
        let Some(s) = self.sources.stream(i) else { unreachable!() };
        if let Err(e) = self.poll.registry().register(&mut s.sock, Token(i), Interest::READABLE | Interest::WRITABLE) {
            self.connect_failed(i, e);
        }
    }

    pub(super) fn finish_connect(&mut self, i: usize, event: &mio::event::Event) {
        let Some(s) = self.sources.stream(i) else { return };
        let conn = s.conn;
        match s.sock.take_error() {
            Ok(Some(e)) | Err(e) => return self.connect_failed(i, e),
            Ok(None) => {}
        }
        match s.sock.peer_addr() {
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::NotConnected && !event.is_error() && !event.is_write_closed() => {
                return; // not yet: wait for the next event
            }
            Err(e) => return self.connect_failed(i, e),
        }
        s.connecting = None;
        let _ = s.sock.set_nodelay(true);
        let local = match s.sock.local_addr() {
            Ok(local) => local,
            Err(e) => return self.connect_failed(i, e),
        };
        self.connecting.retain(|(_, c)| *c != conn);
        self.counts.connections_total += 1;
        self.reactor.handle_connected(self.now, conn, local);
        self.apply_effects();
        if self.sources.stream_of(i, conn).is_some() {
            self.input_ready(i);
        }
    }

    pub(super) fn connect_failed(&mut self, i: usize, e: std::io::Error) {
        let Some(s) = self.sources.stream(i) else { return };
        let Some(c) = &s.connecting else { return };
        let failure = connect_failure(c.addr, e);
        if let Some(conn) = self.remove_stream(i) {
            self.reactor.handle_connect_failed(self.now, conn, failure);
        }
    }

    pub(super) fn next_connect_deadline(&self) -> Option<Instant> {
        self.connecting.iter().map(|(d, _)| *d).min()
    }

    /// Fails the connection attempts whose time is up.
    pub(super) fn expire_connects(&mut self) {
        if self.connecting.is_empty() {
            return;
        }
        let now = Instant::now();
        let expired: Vec<ConnectionId> =
            self.connecting.iter().filter(|(deadline, _)| *deadline <= now).map(|(_, c)| *c).collect();
        for conn in expired {
            let Some(&i) = self.conns.get(&conn) else { continue };
            let Some(s) = self.sources.stream(i) else { continue };
            let Some(c) = &s.connecting else { continue };
            let failure = Failure::new(
                FailureKind::TimedOut,
                format!("connecting to {} timed out after {:?}", c.addr, c.timeout),
            );
            self.remove_stream(i);
            self.reactor.handle_connect_failed(self.now, conn, failure);
        }
        self.apply_effects();
    }

    /// Gives up every connection attempt in progress (shutdown).
    pub(super) fn cancel_connects(&mut self) {
        let conns: Vec<ConnectionId> = self.connecting.iter().map(|(_, c)| *c).collect();
        for conn in conns {
            let Some(&i) = self.conns.get(&conn) else { continue };
            self.remove_stream(i);
            let failure = Failure::new(FailureKind::Cancelled, "the reactor is shutting down");
            self.reactor.handle_connect_failed(self.now, conn, failure);
        }
    }
}

fn connect_failure(addr: SocketAddr, e: std::io::Error) -> Failure {
    let kind = match e.kind() {
        ErrorKind::ConnectionRefused => FailureKind::ConnectionRefused,
        ErrorKind::TimedOut => FailureKind::TimedOut,
        _ => FailureKind::Error,
    };
    Failure::new(kind, format!("cannot connect to {addr}: {e}"))
}
