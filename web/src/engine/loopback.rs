//! The simulated machine's loopback network: a program's own `listenTCP`
//! ports and the `connectTCP` connections made to them, byte streams
//! between two connections of the one reactor.
//!
//! It is the driver's side of core's connection contract (`Effect::Listen`,
//! `Connect`, `Write`, `Close`, `Abort` in; `handle_listening`,
//! `handle_accept`, `handle_connected`, `handle_connect_failed`,
//! `handle_data`, `handle_closed` out), timed as Twisted's TCP on a real
//! loopback interface behaves:
//!
//! - a connection attempt is answered in the reactor's next poll: the
//!   server's accept first, then the client's connect (a listening socket
//!   turns readable in the same `epoll_wait` as the connecting one turns
//!   writable, and Twisted handles them in that order); a port nobody
//!   listens on refuses, as Linux does (`ECONNREFUSED`);
//! - writes leave when the reactor's iteration ends (a transport buffers
//!   until the poll finds the socket writable), one iteration's writes on a
//!   connection arriving as one `dataReceived`;
//! - `loseConnection` closes the writer's side when its writes have left
//!   (`connectionLost`, then the client factory's `clientConnectionLost`),
//!   before anybody reads them; the peer reads the data, then the end;
//! - `abortConnection` discards the writes that have not left; the peer
//!   reads a connection lost, or a clean end when the reactor dropped the
//!   connection because its protocol raised (`Shared::dropped_conns`);
//! - what arrives in one iteration is read in the order the connections
//!   were set up (level-triggered epoll keeps its ready list in that order):
//!   the server's side of a connection before the client's.
//!
//! Every event waits in the reactor's I/O queue (`IoEvent::Net`), among
//! the simulated clients' requests, in the order it arrived.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use twine_core::defer::{Failure, FailureKind};
use twine_core::reactor::{ConnectionId, Effect, ListenerId};

use super::reactor_thread::IoEvent;
use super::Simulation;

/// What Twisted's `ConnectionRefusedError` says on Linux.
pub(crate) const REFUSED: &str = "Connection was refused by other side: 111: Connection refused.";
/// Twisted's `ConnectionDone`.
pub(crate) const DONE: &str = "Connection was closed cleanly.";
/// Twisted's `ConnectionLost`.
pub(crate) const LOST: &str = "Connection to the other side was lost in a non-clean fashion.";

/// The first local port a client connection gets (Linux's ephemeral range
/// starts at 32768; any fixed start keeps runs deterministic).
const FIRST_CLIENT_PORT: u16 = 50000;

/// Something the network delivers to the reactor in its poll phase.
#[derive(Debug)]
pub(crate) enum NetEvent {
    /// The listening port accepts the connection `client` is making.
    Accept { listener: ListenerId, client: ConnectionId, peer: SocketAddr, local: SocketAddr },
    /// The client's connection is up.
    Connected { conn: ConnectionId, local: SocketAddr },
    /// Nobody listens where the client connects.
    Refused { conn: ConnectionId },
    /// Bytes from the peer.
    Data { conn: ConnectionId, data: Vec<u8> },
    /// The connection ended (`clean`: closed, not aborted).
    Closed { conn: ConnectionId, clean: bool },
}

/// Sent when the reactor's iteration ends.
#[derive(Debug)]
enum Outgoing {
    Data {
        to: ConnectionId,
        data: Vec<u8>,
    },
    /// `conn` closed: `peer` reads the end; `conn` hears it too unless it
    /// already did (a connection dropped because its protocol raised).
    Close {
        conn: ConnectionId,
        peer: ConnectionId,
        clean: bool,
        tell_closer: bool,
    },
}

#[derive(Default)]
pub(crate) struct Loopback {
    ports: HashMap<u16, ListenerId>,
    /// Each connection's other end (both directions are in).
    peers: HashMap<ConnectionId, ConnectionId>,
    outbox: Vec<Outgoing>,
    inbox: VecDeque<NetEvent>,
    next_client_port: u16,
    /// When each open connection was set up: the order reads happen in.
    set_up: HashMap<ConnectionId, u64>,
    next_set_up: u64,
}

impl Loopback {
    fn set_up(&mut self, conn: ConnectionId) {
        self.next_set_up += 1;
        self.set_up.insert(conn, self.next_set_up);
    }
}

fn localhost(port: u16) -> SocketAddr {
    SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port)
}

impl Simulation {
    /// Takes the network's part of a reactor effect; gives back the rest.
    pub(crate) fn loopback_effect(&mut self, effect: Effect) -> Option<Effect> {
        let net = &mut self.net;
        match effect {
            Effect::Listen { listener, addr } => {
                net.ports.insert(addr.port(), listener);
                let addr = localhost(addr.port());
                self.reactor.handle_listening(self.now, listener, Ok(addr));
            }
            Effect::StopListening { listener } => net.ports.retain(|_, l| *l != listener),
            Effect::Connect { conn, addr, .. } => {
                if net.next_client_port == 0 {
                    net.next_client_port = FIRST_CLIENT_PORT;
                }
                let local = localhost(net.next_client_port);
                net.next_client_port = net.next_client_port.wrapping_add(1).max(FIRST_CLIENT_PORT);
                match net.ports.get(&addr.port()) {
                    Some(&listener) => {
                        let server = localhost(addr.port());
                        self.net_arrive(NetEvent::Accept { listener, client: conn, peer: local, local: server });
                        self.net_arrive(NetEvent::Connected { conn, local });
                    }
                    None => self.net_arrive(NetEvent::Refused { conn }),
                }
            }
            Effect::Write { conn, data } => {
                let Some(&to) = net.peers.get(&conn) else {
                    self.reactor.recycle_buffer(data);
                    return None;
                };
                // One iteration's writes arrive together, as from one socket buffer.
                match net.outbox.iter_mut().rev().find(|o| matches!(o, Outgoing::Data { to: t, .. } if *t == to)) {
                    Some(Outgoing::Data { data: buffered, .. }) => buffered.extend_from_slice(&data),
                    _ => net.outbox.push(Outgoing::Data { to, data }),
                }
            }
            Effect::Close { conn } if net.peers.contains_key(&conn) => {
                let peer = net.peers[&conn];
                net.outbox.push(Outgoing::Close { conn, peer, clean: true, tell_closer: true });
            }
            Effect::Abort { conn } if net.peers.contains_key(&conn) => {
                // An abort discards what the connection wrote and has not sent.
                let peer = net.peers[&conn];
                net.outbox.retain(|o| !matches!(o, Outgoing::Data { to, .. } if *to == peer));
                if self.sh.take_dropped(conn) {
                    // The reactor dropped it: its protocol hears the loss
                    // now; the peer reads a clean end.
                    net.outbox.push(Outgoing::Close { conn, peer, clean: true, tell_closer: false });
                    net.inbox.push_front(NetEvent::Closed { conn, clean: false });
                    self.io_next(IoEvent::Net);
                } else {
                    net.outbox.push(Outgoing::Close { conn, peer, clean: false, tell_closer: true });
                }
            }
            other => return Some(other),
        }
        None
    }

    fn net_arrive(&mut self, ev: NetEvent) {
        self.net.inbox.push_back(ev);
        self.rl.pending_io.push_back(IoEvent::Net);
        self.wake_reactor();
    }

    /// The reactor's iteration ended: what it wrote leaves. The writers'
    /// closes happen first (as their writes go out); then each receiver,
    /// in set-up order, reads its data and then the end of its peer.
    pub(crate) fn loopback_flush(&mut self) {
        let outbox = std::mem::take(&mut self.net.outbox);
        let mut reads: Vec<(u64, usize, NetEvent)> = Vec::new();
        for (i, out) in outbox.into_iter().enumerate() {
            let order = |net: &Loopback, c: &ConnectionId| net.set_up.get(c).copied().unwrap_or(u64::MAX);
            match out {
                Outgoing::Data { to, data } => {
                    reads.push((order(&self.net, &to), i, NetEvent::Data { conn: to, data }))
                }
                Outgoing::Close { conn, peer, clean, tell_closer } => {
                    if self.net.peers.contains_key(&peer) {
                        reads.push((order(&self.net, &peer), i, NetEvent::Closed { conn: peer, clean }));
                    }
                    if tell_closer {
                        self.net_arrive(NetEvent::Closed { conn, clean });
                    }
                }
            }
        }
        let reads = crate::order::sorted_by(reads, &mut |a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        for (_, _, ev) in reads {
            self.net_arrive(ev);
        }
    }

    /// Delivers the network's oldest event to the reactor.
    pub(crate) fn deliver_net(&mut self) {
        let Some(ev) = self.net.inbox.pop_front() else { return };
        let now = self.now;
        match ev {
            NetEvent::Accept { listener, client, peer, local } => {
                match self.reactor.handle_accept(now, listener, peer, local) {
                    Some(server) => {
                        self.net.set_up(server);
                        self.net.peers.insert(server, client);
                        self.net.peers.insert(client, server);
                    }
                    // The factory built no protocol: the server closes at once.
                    None => {
                        let close = Outgoing::Close { conn: client, peer: client, clean: true, tell_closer: true };
                        self.net.outbox.push(close);
                    }
                }
            }
            NetEvent::Connected { conn, local } => {
                self.net.set_up(conn);
                self.reactor.handle_connected(now, conn, local);
            }
            NetEvent::Refused { conn } => {
                let reason = Failure::new(FailureKind::ConnectionRefused, REFUSED);
                self.reactor.handle_connect_failed(now, conn, reason);
            }
            NetEvent::Data { conn, data } => self.reactor.handle_data(now, conn, &data),
            NetEvent::Closed { conn, clean } => {
                self.net.peers.remove(&conn);
                self.net.set_up.remove(&conn);
                let reason = if clean {
                    Failure::new(FailureKind::ConnectionDone, DONE)
                } else {
                    Failure::new(FailureKind::ConnectionLost, LOST)
                };
                self.reactor.handle_closed(now, conn, reason);
            }
        }
    }
}
