//! Listening: `listen_tcp`, the driver's answers, and [`ListeningPort`].

use std::cell::{Cell, RefCell};
use std::fmt;
use std::net::SocketAddr;
use std::rc::Rc;

use super::{ConnectionId, ConnectionKind, Effect, ListenerId};
use crate::defer::{Deferred, Failure};
use crate::protocol::Factory;
use crate::reactor::{Reactor, WeakReactor};
use crate::time::Time;
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
        let id = ListenerId(self.inner.io.borrow_mut().next_id());
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
        let mut io = self.inner.io.borrow_mut();
        io.listeners.insert(id, shared.clone());
        io.effects.push_back(Effect::Listen { listener: id, addr });
        ListeningPort { shared }
    }

    /// Driver face: `ReactorDriver::handle_listening` documents it.
    pub(crate) fn handle_listening(&self, now: Time, listener: ListenerId, result: Result<SocketAddr, Failure>) {
        self.set_now(now);
        let Some(shared) = self.inner.io.borrow().listeners.get(&listener).cloned() else { return };
        let waiters = std::mem::take(&mut *shared.waiters.borrow_mut());
        match result {
            Ok(addr) => {
                shared.address.set(Some(addr));
                self.emit(|| TraceEvent::Listening { listener: listener.0, addr: addr.to_string() });
                let factory = shared.factory.clone();
                self.run_call(CallSource::Io, listener.0, "start_factory", || factory.borrow_mut().start_factory());
                for waiter in waiters {
                    let _ = waiter.callback(addr);
                }
            }
            Err(failure) => {
                // Whoever waits on `listening()` hears it; with nobody waiting, the log is all there is.
                if waiters.is_empty() {
                    tracing::error!(addr = %shared.requested, "listen failed: {failure}");
                }
                self.inner.io.borrow_mut().listeners.remove(&listener);
                shared.open.set(false);
                *shared.failure.borrow_mut() = Some(failure.clone());
                for waiter in waiters {
                    let _ = waiter.errback(failure.clone());
                }
            }
        }
    }

    /// Driver face: `ReactorDriver::handle_accept` documents it.
    pub(crate) fn handle_accept(
        &self,
        now: Time,
        listener: ListenerId,
        peer: SocketAddr,
        local: SocketAddr,
    ) -> Option<ConnectionId> {
        self.set_now(now);
        let factory = self.inner.io.borrow().listeners.get(&listener)?.factory.clone();
        let mut built = None;
        self.run_call(CallSource::Io, listener.0, "build_protocol", || {
            built = factory.borrow_mut().build_protocol(peer)
        });
        Some(self.attach(built?, ConnectionKind::Stream, peer, local, None))
    }
}

pub(crate) struct ListenerShared {
    id: ListenerId,
    requested: SocketAddr,
    factory: Rc<RefCell<dyn Factory>>,
    reactor: WeakReactor,
    address: Cell<Option<SocketAddr>>,
    failure: RefCell<Option<Failure>>,
    waiters: RefCell<Vec<Deferred<SocketAddr>>>,
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
        self.shared.waiters.borrow_mut().push(d.clone());
        d
    }

    /// Stops accepting connections; open ones carry on.
    pub fn stop_listening(&self) {
        if !self.shared.open.replace(false) {
            return;
        }
        let Some(reactor) = self.shared.reactor.upgrade() else { return };
        let id = self.shared.id;
        {
            let mut io = reactor.inner.io.borrow_mut();
            io.listeners.remove(&id);
            io.effects.push_back(Effect::StopListening { listener: id });
        }
        reactor.emit(|| TraceEvent::ListenerClosed { listener: id.0 });
        if self.shared.address.get().is_some() {
            let factory = self.shared.factory.clone();
            reactor.run_call(CallSource::Io, id.0, "stop_factory", || factory.borrow_mut().stop_factory());
        }
    }
}

impl fmt::Debug for ListeningPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ListeningPort").field("id", &self.shared.id).field("address", &self.address()).finish()
    }
}
