//! Listeners: bind, accept with a budget, back off when accepting fails
//! (see [`backoff`](super::backoff)), stop; a listener past its accept
//! budget waits in the carry queue ([`fairness`](super::fairness)).

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::time::Instant;

use mio::net::{TcpListener, TcpStream};
use mio::{Interest, Token};
use twine_core::defer::{Failure, FailureKind};
use twine_core::reactor::ListenerId;

use super::backoff::{AcceptBackoff, Report};
use super::sources::{Listener, Source, Stream};
use super::Driver;

/// Binds with `SO_REUSEPORT` (and `SO_REUSEADDR`, as mio does): several
/// reactors listen on one port and the kernel hashes connections over them.
fn bind_reuse_port(addr: SocketAddr) -> std::io::Result<TcpListener> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    #[cfg(unix)]
    socket.set_reuse_port(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    Ok(TcpListener::from_std(socket.into()))
}

impl Driver {
    pub(super) fn listen(&mut self, id: ListenerId, addr: SocketAddr) {
        let bound = if self.config.reuse_port { bind_reuse_port(addr) } else { TcpListener::bind(addr) };
        let sock = match bound {
            Ok(sock) => sock,
            Err(e) => return self.listen_failed(id, addr, e),
        };
        let local = match sock.local_addr() {
            Ok(local) => local,
            Err(e) => return self.listen_failed(id, addr, e),
        };
        let i = self.sources.insert(Source::Listener(Listener { id, sock, backoff: None }));
        let Some(Some(Source::Listener(l))) = self.sources.slots.get_mut(i) else { unreachable!() };
        if let Err(e) = self.poll.registry().register(&mut l.sock, Token(i), Interest::READABLE) {
            self.sources.remove(i);
            return self.listen_failed(id, addr, e);
        }
        self.listeners.insert(id, i);
        self.reactor.handle_listening(self.now, id, Ok(local));
    }

    fn listen_failed(&mut self, id: ListenerId, addr: SocketAddr, e: std::io::Error) {
        let failure = Failure::new(FailureKind::Error, format!("cannot listen on {addr}: {e}"));
        self.listen_errors.insert(id, e);
        self.reactor.handle_listening(self.now, id, Err(failure));
    }

    pub(super) fn stop_listening(&mut self, id: ListenerId) {
        if let Some(i) = self.listeners.remove(&id) {
            if let Some(Source::Listener(mut l)) = self.sources.remove(i) {
                let _ = self.poll.registry().deregister(&mut l.sock);
            }
        }
    }

    pub(super) fn close_listeners(&mut self) {
        let ids: Vec<ListenerId> = self.listeners.keys().copied().collect();
        for id in ids {
            self.stop_listening(id);
        }
    }

    pub(super) fn accept(&mut self, i: usize) {
        let mut budget = self.config.accept_budget;
        loop {
            let Some(Some(Source::Listener(l))) = self.sources.slots.get_mut(i) else { return };
            if l.backoff.as_ref().is_some_and(|b| Instant::now() < b.retry_at()) {
                return; // readiness from before the back-off began
            }
            let id = l.id;
            match l.sock.accept() {
                Ok((sock, peer)) => {
                    if let Some(backoff) = l.backoff.take() {
                        tracing::warn!(
                            "accepting again on {id:?} after {} failed attempt(s) over {:.1?}",
                            backoff.total(),
                            backoff.lasted(Instant::now())
                        );
                    }
                    self.accepted(id, sock, peer);
                    budget -= 1;
                    if budget == 0 {
                        self.carry_source(i, id.0);
                        return;
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    if let Some(backoff) = l.backoff.take() {
                        tracing::info!("accept on {id:?} recovered after {} failed attempt(s)", backoff.total());
                    }
                    return;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted || e.kind() == ErrorKind::ConnectionAborted => {}
                Err(e) => return self.accept_failed(i, e),
            }
        }
    }

    /// Accepting failed, most likely for want of file descriptors (`EMFILE`,
    /// `ENFILE`) or kernel memory: the next try would fail the same way, so
    /// the listener is left alone for a growing delay, and reports are
    /// rate-limited. The pending connection waits in the kernel's backlog.
    fn accept_failed(&mut self, i: usize, e: std::io::Error) {
        let Some(Some(Source::Listener(l))) = self.sources.slots.get_mut(i) else { return };
        let now = Instant::now();
        let id = l.id;
        let report = match &mut l.backoff {
            None => {
                l.backoff = Some(AcceptBackoff::begin(now));
                Some(Report::Began)
            }
            Some(backoff) => backoff.failed_again(now),
        };
        if let Some(backoff) = &l.backoff {
            let delay = backoff.delay();
            match report {
                Some(Report::Began) => tracing::warn!(
                    "accept failed on {id:?}: {e}; pausing new connections (retrying after {delay:?}, \
                     then less often, up to every {:?}); open connections are still served",
                    super::backoff::MAX_DELAY
                ),
                Some(Report::Continuing { count }) => tracing::warn!(
                    "accept still failing on {id:?}: {e}; {count} failed attempt(s) in the last {:?} \
                     (retrying every {delay:?})",
                    super::backoff::REPORT_EVERY
                ),
                None => {}
            }
        }
        self.counts.accept_errors += 1;
        // Not polled meanwhile: readiness would only wake the loop for nothing.
        let _ = self.poll.registry().deregister(&mut l.sock);
    }

    /// The earliest time a listener backing off tries again.
    pub(super) fn next_accept_retry(&self) -> Option<Instant> {
        self.listeners
            .values()
            .filter_map(|&i| match self.sources.slots.get(i) {
                Some(Some(Source::Listener(l))) => l.backoff.as_ref().map(AcceptBackoff::retry_at),
                _ => None,
            })
            .min()
    }

    /// Listeners whose back-off is over are polled again and accept at once.
    pub(super) fn retry_accepts(&mut self) {
        let Some(first) = self.next_accept_retry() else { return };
        let now = Instant::now();
        if now < first {
            return;
        }
        let due: Vec<usize> = self
            .listeners
            .values()
            .copied()
            .filter(|&i| match self.sources.slots.get(i) {
                Some(Some(Source::Listener(l))) => l.backoff.as_ref().is_some_and(|b| b.retry_at() <= now),
                _ => false,
            })
            .collect();
        for i in due {
            let Some(Some(Source::Listener(l))) = self.sources.slots.get_mut(i) else { continue };
            if let Err(e) = self.poll.registry().register(&mut l.sock, Token(i), Interest::READABLE) {
                tracing::warn!("cannot poll listener {:?} again: {e}", l.id);
                if let Some(b) = &mut l.backoff {
                    b.failed_again(now);
                }
                continue;
            }
            self.accept(i);
        }
    }

    fn accepted(&mut self, listener: ListenerId, sock: TcpStream, peer: SocketAddr) {
        let _ = sock.set_nodelay(true);
        let Ok(local) = sock.local_addr() else { return };
        let place = match &self.config.per_ip {
            Some(limit) => match limit.try_take(peer.ip()) {
                Some(place) => Some(place),
                None => return self.refuse_per_ip(sock, peer, limit.max()),
            },
            None => None,
        };
        // The factory may refuse: then dropping the socket closes it.
        let Some(conn) = self.reactor.handle_accept(self.now, listener, peer, local) else { return };
        self.counts.connections_total += 1;
        let mut stream = Stream::new(conn, sock, None);
        stream._place = place;
        let i = self.sources.insert(Source::Stream(stream));
        self.conns.insert(conn, i);
        // `connection_made`'s writes are still queued: register before applying them.
        let Some(stream) = self.sources.stream(i) else { unreachable!() };
        if let Err(e) =
            self.poll.registry().register(&mut stream.sock, Token(i), Interest::READABLE | Interest::WRITABLE)
        {
            self.lost(i, e);
        }
        self.apply_effects();
    }

    /// `peer`'s address has `max` connections open already: one line says
    /// why (a line client reads it as it would an echo), then the socket
    /// closes. Logged at most once per [`REPORT_EVERY`](super::backoff::REPORT_EVERY), with a count.
    fn refuse_per_ip(&mut self, mut sock: TcpStream, peer: SocketAddr, max: usize) {
        use std::io::Write;
        let line = format!(
            "too many connections from {} (at most {max} at once, --max-connections-per-ip); close one and try again\r\n",
            peer.ip()
        );
        let _ = sock.write(line.as_bytes());
        let _ = sock.shutdown(std::net::Shutdown::Write);
        self.counts.refused_per_ip += 1;
        self.per_ip_refused_since_report += 1;
        let now = Instant::now();
        if self.per_ip_report.is_none_or(|at| now.saturating_duration_since(at) >= super::backoff::REPORT_EVERY) {
            tracing::warn!(
                "refused {} connection(s) from addresses at --max-connections-per-ip {max} (the last from {peer})",
                self.per_ip_refused_since_report
            );
            self.per_ip_report = Some(now);
            self.per_ip_refused_since_report = 0;
        }
    }

    fn carry_source(&mut self, i: usize, key: u64) {
        self.carry.push_back((i, key));
    }
}
