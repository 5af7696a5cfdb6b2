//! The memory driver's side: carrying out what the reactor asks.

use std::net::SocketAddr;

use super::{CloseRequest, ConnRecord, ConnectAttempt, Delivery, ListenerRecord, MemoryReactor};
use crate::defer::{Failure, FailureKind};
use crate::protocol::ConnectionKind;
use crate::reactor::{ConnectionId, Effect, ListenerId};

impl MemoryReactor {
    pub(super) fn apply(&self, effect: Effect) {
        let reactor = self.driver();
        let now = self.now();
        match &effect {
            Effect::Listen { listener, addr } => {
                let result = {
                    let mut state = self.state.borrow_mut();
                    let mut bound = *addr;
                    if bound.port() == 0 {
                        bound.set_port(state.next_port);
                        state.next_port = state.next_port.wrapping_add(1).max(40000);
                    }
                    if state.listeners.values().any(|l| l.open && l.addr == bound) {
                        Err(Failure::new(FailureKind::Error, format!("cannot listen on {bound}: address in use")))
                    } else {
                        state.listeners.insert(*listener, ListenerRecord { addr: bound, open: true });
                        Ok(bound)
                    }
                };
                reactor.handle_listening(now, *listener, result);
            }
            Effect::StopListening { listener } => {
                if let Some(l) = self.state.borrow_mut().listeners.get_mut(listener) {
                    l.open = false;
                }
            }
            Effect::Connect { conn, addr, .. } => {
                let hold = {
                    let mut state = self.state.borrow_mut();
                    state.attempts.push(ConnectAttempt { conn: *conn, addr: *addr, at: now });
                    if state.hold_connects {
                        state.held_connects.insert(*conn, *addr);
                    }
                    state.hold_connects
                };
                if !hold {
                    self.route_connect(*conn, *addr, true);
                }
            }
            Effect::Write { conn, data } => {
                let peer = self.with_conn(*conn, |c| {
                    c.written.extend_from_slice(data);
                    c.peer
                });
                if let Some(peer) = peer.flatten() {
                    self.send(Delivery::Data(peer, data.clone()));
                }
            }
            Effect::Send { conn, message } => {
                self.with_conn(*conn, |c| c.messages.push(message.clone()));
            }
            Effect::Close { conn } | Effect::Abort { conn } => {
                let abort = matches!(effect, Effect::Abort { .. });
                let was_held = self.state.borrow_mut().held_connects.remove(conn).is_some();
                if !was_held {
                    self.close_from_reactor(*conn, abort);
                }
            }
            Effect::PauseReading { conn } => {
                self.with_conn(*conn, |c| c.reading_paused = true);
            }
            Effect::ResumeReading { conn } => {
                let held = self
                    .with_conn(*conn, |c| {
                        c.reading_paused = false;
                        std::mem::take(&mut c.held)
                    })
                    .unwrap_or_default();
                for delivery in held {
                    self.arrive(delivery);
                }
            }
            // Drains are reported when a test says so (`write_drained`).
            Effect::ReportDrained { .. } => {}
        }
        self.state.borrow_mut().log.push(effect);
    }

    pub(super) fn with_conn<R>(&self, conn: ConnectionId, f: impl FnOnce(&mut ConnRecord) -> R) -> Option<R> {
        self.state.borrow_mut().conns.get_mut(&conn).map(f)
    }

    pub(super) fn listener_at(&self, addr: SocketAddr) -> Option<(ListenerId, SocketAddr)> {
        let state = self.state.borrow();
        state
            .listeners
            .iter()
            .find(|(_, l)| {
                l.open && l.addr.port() == addr.port() && (l.addr.ip() == addr.ip() || l.addr.ip().is_unspecified())
            })
            .map(|(id, l)| (*id, l.addr))
    }

    pub(super) fn ephemeral(&self, ip: std::net::IpAddr) -> SocketAddr {
        let mut state = self.state.borrow_mut();
        let port = state.next_port;
        state.next_port = state.next_port.wrapping_add(1).max(40000);
        SocketAddr::new(ip, port)
    }

    /// Connects an attempt: to a listener in this reactor when there is one
    /// (or refuses), or with no other end when `refuse_unknown` is false.
    pub(super) fn route_connect(&self, conn: ConnectionId, addr: SocketAddr, refuse_unknown: bool) {
        let reactor = self.driver();
        let listener = self.listener_at(addr);
        if listener.is_none() && refuse_unknown {
            let reason =
                Failure::new(FailureKind::ConnectionRefused, format!("connection refused: nothing listens on {addr}"));
            reactor.handle_connect_failed(self.now(), conn, reason);
            return;
        }
        let local = self.ephemeral(if addr.ip().is_unspecified() { [127, 0, 0, 1].into() } else { addr.ip() });
        let server = listener.and_then(|(listener, bound)| {
            let server = reactor.handle_accept(self.now(), listener, local, bound)?;
            self.state.borrow_mut().conns.insert(server, ConnRecord::new(ConnectionKind::Stream, Some(conn)));
            Some(server)
        });
        self.state.borrow_mut().conns.insert(conn, ConnRecord::new(ConnectionKind::Stream, server));
        reactor.handle_connected(self.now(), conn, local);
        if listener.is_some() && server.is_none() {
            // The server's factory refused: it closes at once.
            let reason = Failure::new(FailureKind::ConnectionDone, "connection closed by peer");
            self.send(Delivery::Closed(conn, reason));
        }
    }

    pub(super) fn close_from_reactor(&self, conn: ConnectionId, abort: bool) {
        let (peer, already) = match self.with_conn(conn, |c| {
            c.close_requested.get_or_insert(if abort { CloseRequest::Abort } else { CloseRequest::Close });
            (c.peer, c.closed.is_some())
        }) {
            Some(found) => found,
            None => return,
        };
        if already {
            return;
        }
        let (mine, theirs) = if abort {
            (
                Failure::new(FailureKind::ConnectionLost, "connection aborted"),
                Failure::new(FailureKind::ConnectionLost, "connection reset by peer"),
            )
        } else {
            (
                Failure::new(FailureKind::ConnectionDone, "connection closed"),
                Failure::new(FailureKind::ConnectionDone, "connection closed by peer"),
            )
        };
        self.mark_closed(conn, mine);
        if let Some(peer) = peer {
            self.send(Delivery::Closed(peer, theirs));
        }
    }

    pub(super) fn mark_closed(&self, conn: ConnectionId, reason: Failure) {
        let first = self.with_conn(conn, |c| c.closed.replace(reason.clone()).is_none()).unwrap_or(true);
        if first {
            self.driver().handle_closed(self.now(), conn, reason);
        }
    }

    /// Sends a delivery across the memory "network".
    pub(super) fn send(&self, delivery: Delivery) {
        let latency = self.state.borrow().latency;
        if latency.is_zero() {
            self.arrive(delivery);
        } else {
            let at = self.now() + latency;
            self.state.borrow_mut().in_flight.push_back((at, delivery));
        }
    }

    /// A delivery reaches its connection.
    pub(super) fn arrive(&self, delivery: Delivery) {
        let conn = delivery.conn();
        let open = self.with_conn(conn, |c| {
            if c.closed.is_some() {
                return None;
            }
            if c.reading_paused {
                c.held.push_back(delivery);
                return None;
            }
            Some(delivery)
        });
        let Some(Some(delivery)) = open else {
            if open.is_none() {
                tracing::debug!(?conn, "memory reactor: delivery to an unknown connection dropped");
            }
            return;
        };
        let now = self.now();
        match delivery {
            Delivery::Data(conn, data) => self.driver().handle_data(now, conn, &data),
            Delivery::Message(conn, message) => self.driver().handle_message(now, conn, message),
            Delivery::Closed(conn, reason) => self.mark_closed(conn, reason),
        }
    }
}
