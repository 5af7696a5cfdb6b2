//! Connecting: `connect_tcp`, the driver's answers, and [`Connector`]
//! (Twisted's `tcp.Connector`, above the reactor core).

use std::cell::{Cell, RefCell};
use std::fmt;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use super::connection::host_protocol;
use super::ClientFactory;
use crate::defer::{Failure, FailureKind};
use crate::reactor::{ConnectHost, ConnectionId, ConnectionKind, Effect, Reactor, WeakReactor};
use crate::trace::CallSource;

impl Reactor {
    /// Connects to `addr` over TCP; `factory` hears of the attempt's fate.
    /// Twisted's `connectTCP`.
    pub fn connect_tcp(&self, addr: SocketAddr, factory: impl ClientFactory, timeout: Duration) -> Connector {
        let connector = Connector {
            shared: Rc::new(ConnectorShared {
                addr,
                timeout,
                factory: Rc::new(RefCell::new(factory)),
                reactor: self.downgrade(),
                conn: Cell::new(None),
                state: Cell::new(ConnectorState::Disconnected),
            }),
        };
        connector.connect();
        connector
    }
}

/// The driver's answer to an attempt reaches the connector.
impl ConnectHost for Connector {
    fn connected(&self, reactor: &Reactor, conn: ConnectionId, local: SocketAddr) -> bool {
        let peer = self.shared.addr;
        let factory = self.shared.factory.clone();
        let mut built = None;
        reactor
            .run_call(CallSource::Io, conn.0, "build_protocol", || built = factory.borrow_mut().build_protocol(peer));
        match built {
            Some(protocol) => {
                self.shared.state.set(ConnectorState::Connected);
                host_protocol(reactor, conn, protocol, ConnectionKind::Stream, peer, local, Some(self.clone()));
                true
            }
            None => {
                self.shared.state.set(ConnectorState::Disconnected);
                false
            }
        }
    }

    fn failed(&self, reactor: &Reactor, conn: ConnectionId, reason: Failure) {
        self.shared.state.set(ConnectorState::Disconnected);
        self.shared.conn.set(None);
        let factory = self.shared.factory.clone();
        reactor.run_call(CallSource::Io, conn.0, "client_connection_failed", || {
            factory.borrow_mut().client_connection_failed(self, &reason)
        });
    }
}

/// Where an outgoing connection attempt stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectorState {
    /// Not connected and not trying.
    Disconnected,
    /// Waiting for the driver to connect.
    Connecting,
    /// Connected.
    Connected,
}

struct ConnectorShared {
    addr: SocketAddr,
    timeout: Duration,
    factory: Rc<RefCell<dyn ClientFactory>>,
    reactor: WeakReactor,
    conn: Cell<Option<ConnectionId>>,
    state: Cell<ConnectorState>,
}

/// An outgoing connection and its attempts: Twisted's `IConnector`.
#[derive(Clone)]
pub struct Connector {
    shared: Rc<ConnectorShared>,
}

impl Connector {
    /// Its established connection ended: back to disconnected, and the factory hears of it.
    pub(super) fn connection_lost(&self, reactor: &Reactor, conn: ConnectionId, reason: &Failure) {
        self.shared.state.set(ConnectorState::Disconnected);
        self.shared.conn.set(None);
        let factory = self.shared.factory.clone();
        reactor.run_call(CallSource::Io, conn.0, "client_connection_lost", || {
            factory.borrow_mut().client_connection_lost(self, reason)
        });
    }

    /// Where it connects to.
    pub fn address(&self) -> SocketAddr {
        self.shared.addr
    }

    /// Where the attempt stands.
    pub fn state(&self) -> ConnectorState {
        self.shared.state.get()
    }

    /// The connection, while connecting or connected.
    pub fn connection(&self) -> Option<ConnectionId> {
        self.shared.conn.get()
    }

    /// Tries (again) to connect. Does nothing while connecting or connected.
    pub fn connect(&self) {
        if self.shared.state.get() != ConnectorState::Disconnected {
            return;
        }
        let Some(reactor) = self.shared.reactor.upgrade() else { return };
        let conn = reactor.add_connect(self.shared.addr, self.shared.timeout, Rc::new(self.clone()));
        self.shared.conn.set(Some(conn));
        self.shared.state.set(ConnectorState::Connecting);
        // `connect` is often called from the factory's own callbacks (the
        // classic reconnect in `client_connection_lost`): then tell the
        // factory in a moment, once it is free.
        let factory = self.shared.factory.clone();
        let busy = match factory.try_borrow_mut() {
            Ok(mut factory) => {
                factory.started_connecting(self);
                false
            }
            Err(_) => true,
        };
        if busy {
            let me = self.clone();
            reactor.call_soon(move |_| factory.borrow_mut().started_connecting(&me));
        }
    }

    /// Gives up a connection attempt in progress; the factory hears it failed.
    pub fn stop_connecting(&self) {
        if self.shared.state.get() != ConnectorState::Connecting {
            return;
        }
        let (Some(reactor), Some(conn)) = (self.shared.reactor.upgrade(), self.shared.conn.get()) else { return };
        reactor.queue_effect(Effect::Abort { conn });
        let now = reactor.seconds();
        reactor.handle_connect_failed(now, conn, Failure::new(FailureKind::Cancelled, "connection attempt cancelled"));
    }

    /// Closes the connection, or gives up the attempt.
    pub fn disconnect(&self) {
        match self.shared.state.get() {
            ConnectorState::Connecting => self.stop_connecting(),
            ConnectorState::Connected => {
                let reactor = self.shared.reactor.upgrade();
                if let Some(t) = reactor.zip(self.shared.conn.get()).and_then(|(r, c)| r.transport(c)) {
                    t.lose_connection();
                }
            }
            ConnectorState::Disconnected => {}
        }
    }
}

impl fmt::Debug for Connector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connector").field("addr", &self.shared.addr).field("state", &self.state()).finish()
    }
}
