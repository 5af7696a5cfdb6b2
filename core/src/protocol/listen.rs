//! Listening: `listen_tcp`, the driver's answers, and [`ListeningPort`]
//! (Twisted's `tcp.Port`, above the reactor core).

use std::cell::{Cell, RefCell};
use std::fmt;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use super::connection::host_protocol;
use super::Factory;
use crate::defer::{Deferred, Failure};
use crate::reactor::{ConnectionId, ConnectionKind, ListenerHost, ListenerId, Reactor, WeakReactor};
use crate::trace::{CallSource, TraceEvent};

impl Reactor {
    /// Listens for TCP connections on `addr` (port 0 picks a free one),
    /// building a protocol for each with `factory`. Twisted's `listenTCP`.
    ///
    /// ```
    /// use twine_core::protocol::factory;
    /// use twine_core::protocols::Echo;
    /// use twine_core::reactor::{Effect, ReactorDriver};
    ///
    /// let driver = ReactorDriver::new();
    /// let reactor = driver.reactor();
    /// let port = reactor.listen_tcp("127.0.0.1:0".parse().unwrap(), factory(|| Echo));
    /// // The driver binds the socket and reports back:
    /// let Some(Effect::Listen { listener, .. }) = driver.poll_effect() else { panic!() };
    /// driver.handle_listening(twine_core::Time::ZERO, listener, Ok("127.0.0.1:4321".parse().unwrap()));
    /// assert_eq!(port.address().unwrap().port(), 4321);
    /// ```
    pub fn listen_tcp(&self, addr: SocketAddr, factory: impl Factory) -> ListeningPort {
        let id = ListenerId(self.next_io_id());
        let shared = Rc::new(ListenerShared {
            id,
            requested: addr,
            factory: Rc::new(RefCell::new(factory)),
            reactor: self.downgrade(),
            address: Cell::new(None),
            failure: RefCell::new(None),
            waiters: RefCell::new(Vec::new()),
            open: Cell::new(true),
        });
        self.add_listener(id, addr, shared.clone());
        ListeningPort { shared }
    }
}

impl ListenerHost for ListenerShared {
    fn listening(&self, reactor: &Reactor, result: Result<SocketAddr, Failure>) {
        let listener = self.id;
        let waiters = std::mem::take(&mut *self.waiters.borrow_mut());
        match result {
            Ok(addr) => {
                self.address.set(Some(addr));
                reactor.emit(|| TraceEvent::Listening { listener: listener.0, addr: addr.to_string() });
                let factory = self.factory.clone();
                reactor.run_call(CallSource::Io, listener.0, "start_factory", || factory.borrow_mut().start_factory());
                for waiter in waiters {
                    waiter(Ok(addr));
                }
            }
            Err(failure) => {
                // Whoever waits on `listening()` hears it; with nobody waiting, the log is all there is.
                if waiters.is_empty() {
                    tracing::error!(addr = %self.requested, "listen failed: {failure}");
                }
                reactor.remove_listener(listener, false);
                self.open.set(false);
                *self.failure.borrow_mut() = Some(failure.clone());
                for waiter in waiters {
                    waiter(Err(failure.clone()));
                }
            }
        }
    }

    fn accept(&self, reactor: &Reactor, peer: SocketAddr, local: SocketAddr) -> Option<ConnectionId> {
        let factory = self.factory.clone();
        let mut built = None;
        reactor.run_call(CallSource::Io, self.id.0, "build_protocol", || {
            built = factory.borrow_mut().build_protocol(peer)
        });
        let id = ConnectionId(reactor.next_io_id());
        host_protocol(reactor, id, built?, ConnectionKind::Stream, peer, local, None);
        Some(id)
    }

    fn lost(&self, reactor: &Reactor) {
        if !self.open.replace(false) {
            return;
        }
        reactor.emit(|| TraceEvent::ListenerClosed { listener: self.id.0 });
        if self.address.get().is_some() {
            let factory = self.factory.clone();
            reactor.run_call(CallSource::Io, self.id.0, "stop_factory", || factory.borrow_mut().stop_factory());
        }
    }
}

/// A `when_listening` caller, told the bound address or the failure.
type ListenWaiter = Box<dyn FnOnce(Result<SocketAddr, Failure>)>;

pub(crate) struct ListenerShared {
    id: ListenerId,
    requested: SocketAddr,
    factory: Rc<RefCell<dyn Factory>>,
    reactor: WeakReactor,
    address: Cell<Option<SocketAddr>>,
    failure: RefCell<Option<Failure>>,
    /// What `when_listening` calls gave, told how binding went. Closures,
    /// not the Deferreds themselves: a build that never waits (the browser's
    /// light module) then carries no `Deferred<SocketAddr>` code.
    waiters: RefCell<Vec<ListenWaiter>>,
    open: Cell<bool>,
}

/// A listener: Twisted's `IListeningPort`.
#[derive(Clone)]
pub struct ListeningPort {
    shared: Rc<ListenerShared>,
}

impl ListeningPort {
    /// The listener's id.
    pub fn id(&self) -> ListenerId {
        self.shared.id
    }

    /// The bound address, once the driver has bound it.
    pub fn address(&self) -> Option<SocketAddr> {
        self.shared.address.get()
    }

    /// Fires with the bound address once listening, or fails if binding failed.
    pub fn when_listening(&self) -> Deferred<SocketAddr> {
        if let Some(addr) = self.shared.address.get() {
            return crate::defer::succeed(addr);
        }
        if let Some(failure) = self.shared.failure.borrow().clone() {
            return crate::defer::fail(failure);
        }
        let d = Deferred::new();
        let waiter = d.clone();
        self.shared.waiters.borrow_mut().push(Box::new(move |result| {
            let _ = match result {
                Ok(addr) => waiter.callback(addr),
                Err(failure) => waiter.errback(failure),
            };
        }));
        d
    }

    /// Stops accepting connections; open ones carry on. As Twisted's
    /// `Port.stopListening` (`loseConnection`), the port stops accepting now
    /// and is closed in a zero-delay call: the factory's `stop_factory` runs
    /// there, then the returned Deferred fires. A port already stopped
    /// gives one that has fired.
    ///
    /// ```
    /// use std::cell::Cell;
    /// use std::rc::Rc;
    /// use std::time::Duration;
    /// use twine_core::protocol::factory;
    /// use twine_core::protocols::Echo;
    /// use twine_core::reactor::ReactorDriver;
    ///
    /// let driver = ReactorDriver::new();
    /// let port = driver.reactor().listen_tcp("127.0.0.1:0".parse().unwrap(), factory(|| Echo));
    /// let closed = Rc::new(Cell::new(false));
    /// let c = closed.clone();
    /// port.stop_listening().add_callback(move |()| c.set(true));
    /// assert!(!closed.get(), "closed in a later call, not inside stop_listening");
    /// ```
    pub fn stop_listening(&self) -> Deferred<()> {
        if !self.shared.open.replace(false) {
            return crate::defer::succeed(());
        }
        let Some(reactor) = self.shared.reactor.upgrade() else { return crate::defer::succeed(()) };
        let id = self.shared.id;
        reactor.remove_listener(id, true);
        reactor.emit(|| TraceEvent::ListenerClosed { listener: id.0 });
        let closed = Deferred::new();
        let (factory, started, done) =
            (self.shared.factory.clone(), self.shared.address.get().is_some(), closed.clone());
        reactor.call_later_named(Duration::ZERO, "stop_factory", move |_| {
            if started {
                factory.borrow_mut().stop_factory();
            }
            let _ = done.callback(());
        });
        closed
    }
}

impl fmt::Debug for ListeningPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ListeningPort").field("id", &self.shared.id).field("address", &self.address()).finish()
    }
}
