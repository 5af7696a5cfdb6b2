//! A protocol hosted on a reactor's connection: what the driver reports on
//! the connection, turned into protocol callbacks (and producer calls).
//!
//! The reactor below keeps connection ids, effects and write buffers and
//! hands each report to what is hosted on the connection; this module is
//! that host, as Twisted's `tcp.py` sits above its reactor core.

use std::any::Any;
use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;

use super::transport::ConnState;
use super::{Connector, Producer, Protocol, Transport};
use crate::defer::Failure;
use crate::reactor::{ConnectionId, ConnectionKind, Hosted, IoEvent, Reactor, ReactorDriver, WaterMark};
use crate::time::Time;
use crate::trace::{CallSource, TraceEvent};

/// A connection's protocol, its transport, and the connector that made it.
pub(crate) struct HostedProtocol {
    protocol: RefCell<Box<dyn Protocol>>,
    transport: Transport,
    connector: Option<Connector>,
    /// Why the reactor itself dropped the connection (its protocol
    /// panicked): what `connection_lost` hears instead of the driver's reason.
    dropped_for: RefCell<Option<Failure>>,
}

/// Hosts `protocol` on the connection `id` and calls its `connection_made`.
pub(crate) fn host_protocol(
    reactor: &Reactor,
    id: ConnectionId,
    protocol: Box<dyn Protocol>,
    kind: ConnectionKind,
    peer: SocketAddr,
    local: SocketAddr,
    connector: Option<Connector>,
) {
    let transport = Transport::new(id, reactor.downgrade(), kind, peer, local);
    let hosted =
        HostedProtocol { protocol: RefCell::new(protocol), transport, connector, dropped_for: RefCell::new(None) };
    reactor.host(id, peer, Rc::new(hosted));
}

impl Hosted for HostedProtocol {
    fn handle(&self, reactor: &Reactor, conn: ConnectionId, event: IoEvent<'_>) {
        match event {
            IoEvent::Made => self.dispatch(reactor, conn, "connection_made", |p, t| p.connection_made(t)),
            IoEvent::Data(data) => self.dispatch(reactor, conn, "data_received", |p, t| p.data_received(t, data)),
            IoEvent::Message(message) => {
                self.dispatch(reactor, conn, "message_received", |p, t| p.message_received(t, message))
            }
            IoEvent::WriteBuffer(mark) => self.write_buffer(reactor, conn, mark),
            IoEvent::WriteDrained => {
                if let Some(producer) = self.transport.drained() {
                    run_producer(reactor, conn, WaterMark::Low, producer);
                }
            }
            IoEvent::Closed(reason) => self.closed(reactor, conn, reason),
        }
    }

    fn as_any(self: Rc<Self>) -> Rc<dyn Any> {
        self
    }
}

impl HostedProtocol {
    /// A streaming producer registered on the transport is paused and
    /// resumed; without one, the protocol's own `pause_producing` and
    /// `resume_producing` are called.
    fn write_buffer(&self, reactor: &Reactor, conn: ConnectionId, mark: WaterMark) {
        let transport = &self.transport;
        if transport.has_streaming_producer() {
            let producer = match mark {
                WaterMark::High => transport.pause_streaming_producer(),
                WaterMark::Low => transport.resume_streaming_producer(),
            };
            if let Some(producer) = producer {
                run_producer(reactor, conn, mark, producer);
            }
            return;
        }
        match mark {
            WaterMark::High => {
                reactor.emit(|| TraceEvent::ProducerPaused { conn: conn.0 });
                self.dispatch(reactor, conn, "pause_producing", |p, t| p.pause_producing(t));
            }
            WaterMark::Low => {
                reactor.emit(|| TraceEvent::ProducerResumed { conn: conn.0 });
                self.dispatch(reactor, conn, "resume_producing", |p, t| p.resume_producing(t));
            }
        }
    }

    fn closed(&self, reactor: &Reactor, conn: ConnectionId, reason: Failure) {
        let reason = self.dropped_for.borrow().clone().unwrap_or(reason);
        let transport = &self.transport;
        transport.conn.state.set(ConnState::Closed);
        reactor.emit(|| TraceEvent::ConnectionLost { conn: conn.0, reason: reason.to_string() });
        // As Twisted's FileDescriptor.connectionLost: the producer stops
        // before the protocol hears of the loss.
        if let Some(producer) = transport.take_producer_to_stop() {
            reactor.run_call(CallSource::Io, conn.0, "stop_producing", || producer.stop_producing());
        }
        reactor.run_call(CallSource::Io, conn.0, "connection_lost", || {
            self.protocol.borrow_mut().connection_lost(transport, &reason)
        });
        if let Some(connector) = &self.connector {
            connector.connection_lost(reactor, conn, &reason);
        }
    }

    fn dispatch(
        &self,
        reactor: &Reactor,
        conn: ConnectionId,
        name: &'static str,
        f: impl FnOnce(&mut dyn Protocol, &Transport),
    ) {
        let transport = &self.transport;
        let panicked = reactor.run_call(CallSource::Io, conn.0, name, || match self.protocol.try_borrow_mut() {
            Ok(mut protocol) => f(&mut **protocol, transport),
            Err(_) => tracing::error!(?conn, "{name} re-entered a protocol already running; dropped"),
        });
        // As in Twisted, an exception in a protocol's callback drops that
        // connection (its state can no longer be trusted); the others carry on.
        if let Some(failure) = panicked {
            tracing::warn!(?conn, peer = %transport.peer(), "dropping connection: its protocol panicked in {name}");
            self.dropped_for.borrow_mut().get_or_insert(failure);
            transport.abort_connection();
        }
    }
}

/// Pauses (`High`) or resumes (`Low`) a transport's producer, as a call.
fn run_producer(reactor: &Reactor, conn: ConnectionId, mark: WaterMark, producer: Rc<dyn Producer>) {
    match mark {
        WaterMark::High => {
            reactor.emit(|| TraceEvent::ProducerPaused { conn: conn.0 });
            reactor.run_call(CallSource::Io, conn.0, "pause_producing", || producer.pause_producing());
        }
        WaterMark::Low => {
            reactor.emit(|| TraceEvent::ProducerResumed { conn: conn.0 });
            reactor.run_call(CallSource::Io, conn.0, "resume_producing", || producer.resume_producing());
        }
    }
}

impl Reactor {
    /// The transport of an open connection: how a result that comes back
    /// by connection id (from another thread, say) finds its connection.
    ///
    /// ```
    /// use twine_core::testing::StringTransport;
    ///
    /// let t = StringTransport::new();
    /// let id = t.transport().id();
    /// assert!(t.reactor().transport(id).unwrap().same_connection(t.transport()));
    /// ```
    pub fn transport(&self, conn: ConnectionId) -> Option<Transport> {
        let hosted = self.hosted(conn)?.as_any().downcast::<HostedProtocol>().ok()?;
        Some(hosted.transport.clone())
    }
}

/// The protocol layer's part of the driver face.
impl ReactorDriver {
    /// Adds a connection the driver made on its own (a WebSocket the gateway
    /// accepted, a simulated client), hosting `protocol`.
    ///
    /// ```
    /// use twine_core::protocol::{ConnectionKind, Message};
    /// use twine_core::protocols::Echo;
    /// use twine_core::reactor::Effect;
    /// use twine_core::{ReactorDriver, Time};
    ///
    /// let driver = ReactorDriver::new();
    /// let addr = "127.0.0.1:8080".parse().unwrap();
    /// let conn = driver.open_connection(Time::ZERO, Box::new(Echo), ConnectionKind::Message, addr, addr);
    /// driver.handle_message(Time::ZERO, conn, Message::text("hi"));
    /// let Some(Effect::Send { message, .. }) = driver.poll_effect() else { panic!() };
    /// assert_eq!(message, Message::text("hi"));
    /// ```
    pub fn open_connection(
        &self,
        now: Time,
        protocol: Box<dyn Protocol>,
        kind: ConnectionKind,
        peer: SocketAddr,
        local: SocketAddr,
    ) -> ConnectionId {
        self.set_now(now);
        let id = ConnectionId(self.next_io_id());
        host_protocol(self, id, protocol, kind, peer, local, None);
        id
    }
}
