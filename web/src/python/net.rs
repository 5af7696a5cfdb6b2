//! TCP in a program: `reactor.listenTCP` and `reactor.connectTCP` with
//! Python factories and protocols, over core's reactor connections and the
//! engine's loopback network (`engine::loopback`).
//!
//! A Python factory becomes a core [`Factory`] / [`ClientFactory`]
//! ([`PyFactory`]), a Python protocol a core [`Protocol`] ([`PyProtocol`]),
//! so the reactor calls them as Twisted's calls its own: `buildProtocol`,
//! `makeConnection` (`transport` set, then `connectionMade`),
//! `dataReceived`, `connectionLost(reason)`, and a client factory's
//! `startedConnecting`, `clientConnectionFailed`, `clientConnectionLost`.
//! An exception in one is logged as Twisted logs it ("Unhandled Error");
//! one in `dataReceived` also drops its connection, as Twisted's reactor
//! does. The simulated clients of `twine.clients` are served the same way:
//! the port's factory builds their protocols (see [`client_protocol`]).

use std::cell::RefCell;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::rc::Rc;
use std::time::Duration;

use twine_core::defer::{Deferred, Failure};
use twine_core::protocol::{ClientFactory, Factory, Message, Protocol, Transport};
use twine_core::protocol::{Connector, ConnectorState, ListeningPort};

use super::twisted::{from_failure, run_top, run_top_done, run_top_then, Call};
use super::value::{Class, Instance, Native, TransportRef, Value};
use super::vm::{Kw, Out, PyResult, Vm};
use crate::engine::shared::Shared;

/// The first port `listenTCP(0, ...)` hands out.
const FIRST_FREE_PORT: u16 = 40000;

/// A core connector (which has no `Debug`).
#[derive(Clone)]
pub(crate) struct ConnectorRef(pub Connector);

impl std::fmt::Debug for ConnectorRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Connector")
    }
}

/// A core listening port (which has no `Debug`), and its port number.
#[derive(Clone)]
pub(crate) struct PortRef(pub ListeningPort, pub u16);

impl std::fmt::Debug for PortRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Port")
    }
}

/// A Python factory, as the reactor sees it.
pub(crate) struct PyFactory {
    sh: Rc<Shared>,
    factory: Value,
    /// Set when an endpoint's `connect` made the connection.
    endpoint: Option<Attempt>,
}

/// An endpoint's connection attempt, as Twisted's `_WrappingFactory` makes
/// it: `connected` (what `connect` returned) fires with the protocol once its
/// `connectionMade` has run, or fails with why the connection failed. The
/// factory's client hooks (`startedConnecting`, `clientConnectionFailed`,
/// `clientConnectionLost`) are not called, as Twisted's wrapper does not
/// pass them on; `startFactory`/`stopFactory` are.
pub(crate) struct Attempt {
    pub connected: Deferred<Value>,
    /// `connectProtocol`'s instance, used instead of a factory's `buildProtocol`.
    pub protocol: Option<Value>,
}

impl PyFactory {
    /// Calls the factory's method `name` if the program defined one (the
    /// defaults do nothing), as a reactor call.
    fn hook(&self, name: &str, args: Vec<Value>) {
        if self.endpoint.is_some() && name != "startFactory" && name != "stopFactory" {
            return;
        }
        let Some(class) = self.factory.class() else { return };
        if !matches!(class.lookup(name), Some(Value::Func(_))) {
            return;
        }
        let f = Value::Method(Rc::new((self.factory.clone(), func_of(class.lookup(name)))));
        run_top(&self.sh, "Unhandled Error", Call { f, args, kwargs: Vec::new() });
    }
}

fn func_of(v: Option<Value>) -> Rc<super::value::Function> {
    match v {
        Some(Value::Func(f)) => f,
        _ => unreachable!("checked by the caller"),
    }
}

impl Factory for PyFactory {
    fn build_protocol(&mut self, addr: SocketAddr) -> Option<Box<dyn Protocol>> {
        let rt = self.sh.py.borrow().clone()?;
        let given = self.endpoint.as_ref().and_then(|e| e.protocol.clone());
        let built = match given {
            Some(p) => Ok(p),
            None => {
                let address = ipv4_address(&rt, addr);
                let mut partial = String::new();
                let built = {
                    let mut vm = Vm::new(&self.sh, &rt, crate::engine::interp::REACTOR_THREAD, &mut partial);
                    vm.nested = 1;
                    vm.get_attr(&self.factory, "buildProtocol").and_then(|b| vm.call_nested(b, vec![address]))
                };
                if !partial.is_empty() {
                    self.sh.say(crate::engine::interp::REACTOR_THREAD, partial);
                }
                built
            }
        };
        let connected = self.endpoint.as_ref().map(|e| e.connected.clone());
        match (built, connected) {
            (Ok(Value::None), None) => None,
            // Twisted's `_WrappingFactory` fails the attempt with NoProtocol.
            (Ok(Value::None), Some(d)) => {
                let _ =
                    d.errback(super::twisted::to_failure(&rt, &rt.new_exc(&rt.exc_class("NoProtocol"), Vec::new())));
                None
            }
            (Ok(proto), connected) => {
                Some(Box::new(PyProtocol { sh: Rc::clone(&self.sh), proto, dropped_for: Rc::default(), connected }))
            }
            (Err(e), connected) => {
                rt.remember_traceback(&e);
                let f = super::twisted::to_failure(&rt, &e.value);
                match connected {
                    // The attempt's Deferred carries it, as in Twisted.
                    Some(d) => {
                        let _ = d.errback(f);
                    }
                    None => super::twisted::report_unhandled(&self.sh, &rt, "Unhandled Error", &f),
                }
                None
            }
        }
    }

    fn start_factory(&mut self) {
        // Started already, inside `listenTCP` (`do_start`), as Twisted's
        // `Port.startListening` starts it before `listenTCP` returns.
    }

    fn stop_factory(&mut self) {
        self.do_stop();
    }
}

impl ClientFactory for PyFactory {
    fn started_connecting(&mut self, connector: &Connector) {
        self.hook("startedConnecting", vec![connector_value(connector)]);
    }

    fn client_connection_failed(&mut self, connector: &Connector, reason: &Failure) {
        if let Some(e) = &self.endpoint {
            if !e.connected.called() {
                // As a Python exception, so that a failure nobody handles is
                // reported under its Twisted name.
                let failure = match self.sh.py.borrow().as_ref() {
                    Some(rt) => super::twisted::to_failure(rt, &from_failure(rt, reason)),
                    None => reason.clone(),
                };
                let _ = e.connected.errback(failure);
            }
            return;
        }
        let reason = self.failure(reason);
        self.hook("clientConnectionFailed", vec![connector_value(connector), reason]);
        self.attempt_ended(connector);
    }

    fn client_connection_lost(&mut self, connector: &Connector, reason: &Failure) {
        let reason = self.failure(reason);
        self.hook("clientConnectionLost", vec![connector_value(connector), reason]);
        self.attempt_ended(connector);
    }
}

impl PyFactory {
    /// Twisted's `Factory.doStop`: one port or connector fewer, and
    /// `stopFactory` when it was the last.
    fn do_stop(&self) {
        let Value::Instance(i) = &self.factory else { return };
        let Some(Value::Int(n @ 1..)) = i.get("numPorts") else { return };
        i.set("numPorts", Value::Int(n - 1));
        if n == 1 {
            self.hook("stopFactory", Vec::new());
        }
    }

    /// A connector's attempt ended (failed, or its connection lost): the
    /// factory stops unless the hook made it connect again, as Twisted's
    /// `BaseConnector.connectionFailed`/`connectionLost` do.
    fn attempt_ended(&self, connector: &Connector) {
        if connector.state() == ConnectorState::Disconnected {
            self.do_stop();
        }
    }

    fn failure(&self, reason: &Failure) -> Value {
        let exc = self.sh.py.borrow().as_ref().map(|rt| from_failure(rt, reason)).unwrap_or_default();
        Value::Native(Rc::new(Native::Failure(exc)))
    }
}

fn connector_value(c: &Connector) -> Value {
    Value::Native(Rc::new(Native::Connector(ConnectorRef(c.clone()))))
}

/// A Python protocol on a connection: a stream (`listenTCP`, `connectTCP`)
/// or a simulated client's message connection, whose messages are lines.
pub(crate) struct PyProtocol {
    sh: Rc<Shared>,
    proto: Value,
    /// Why the connection was dropped: its `dataReceived` raised. Twisted's
    /// reactor (`_doReadOrWrite`) logs the error, reads no more, and calls
    /// `connectionLost` with that failure; the other connections carry on.
    dropped_for: Rc<RefCell<Option<Failure>>>,
    /// An endpoint's `connect` Deferred, fired with the protocol after
    /// `connectionMade` (Twisted's `_WrappingProtocol.connectionMade`).
    connected: Option<Deferred<Value>>,
}

impl PyProtocol {
    fn call(&self, name: &str, args: Vec<Value>) {
        if let Some(f) = self.method(name) {
            run_top(&self.sh, "Unhandled Error", Call { f, args, kwargs: Vec::new() });
        }
    }

    fn method(&self, name: &str) -> Option<Value> {
        let rt = self.sh.py.borrow().clone()?;
        let mut partial = String::new();
        Vm::new(&self.sh, &rt, crate::engine::interp::REACTOR_THREAD, &mut partial).get_attr(&self.proto, name).ok()
    }

    /// `dataReceived(data)`; if it raises, the connection is dropped.
    fn receive(&self, transport: &Transport, data: Rc<[u8]>) {
        if self.dropped_for.borrow().is_some() {
            return;
        }
        let Some(f) = self.method("dataReceived") else { return };
        let dropped_for = Rc::clone(&self.dropped_for);
        let transport = transport.clone();
        let call = Call { f, args: vec![Value::Bytes(data)], kwargs: Vec::new() };
        let sh = Rc::clone(&self.sh);
        run_top_then(&self.sh, "Unhandled Error", call, move |failure| {
            if dropped_for.borrow_mut().replace(failure.clone()).is_none() {
                // Its unsent writes are discarded, as Twisted's are.
                sh.dropped_conns.borrow_mut().push(transport.id());
                transport.abort_connection();
            }
        });
    }
}

impl Protocol for PyProtocol {
    fn connection_made(&mut self, transport: &Transport) {
        // Twisted's `makeConnection`.
        if let Value::Instance(i) = &self.proto {
            i.set("connected", Value::Int(1));
            i.set("transport", Value::Native(Rc::new(Native::Transport(TransportRef(transport.clone())))));
        }
        let Some(connected) = self.connected.take() else {
            self.call("connectionMade", Vec::new());
            return;
        };
        // Fired once `connectionMade` is done, also when it needed virtual
        // time; not if it raised (Twisted's wrapper never gets to it then).
        let proto = self.proto.clone();
        let fire = move || {
            let _ = connected.callback(proto);
        };
        match self.method("connectionMade") {
            Some(f) => {
                run_top_done(&self.sh, "Unhandled Error", Call { f, args: Vec::new(), kwargs: Vec::new() }, fire)
            }
            None => fire(),
        }
    }

    fn data_received(&mut self, transport: &Transport, data: &[u8]) {
        self.receive(transport, Rc::from(data));
    }

    /// A simulated client's request: one line, its end added back.
    fn message_received(&mut self, transport: &Transport, message: Message) {
        let line = [message.as_bytes(), &b"\r\n"[..]].concat();
        self.receive(transport, Rc::from(line));
    }

    fn connection_lost(&mut self, _transport: &Transport, reason: &Failure) {
        if let Value::Instance(i) = &self.proto {
            i.set("connected", Value::Int(0));
        }
        let reason = self.dropped_for.borrow().clone().unwrap_or_else(|| reason.clone());
        let exc = self.sh.py.borrow().as_ref().map(|rt| from_failure(rt, &reason)).unwrap_or_default();
        self.call("connectionLost", vec![Value::Native(Rc::new(Native::Failure(exc)))]);
    }
}

/// The protocol the program's server gives a simulated client
/// (`twine.clients`) that connects from `peer`: built by the factory of the
/// `listenTCP` port `twine.clients(port=P)` names, or else of the latest,
/// exactly as for a `connectTCP` connection. `None`: the program listens on
/// no port, or its factory built no protocol (the client's connection is
/// closed at once). A `port=P` nothing listens on fails the program at the
/// `twine.clients` call, naming the ports that are listening.
pub(crate) fn client_protocol(sh: &Rc<Shared>, peer: SocketAddr) -> Option<Box<dyn Protocol>> {
    let factory = {
        let py = sh.py.borrow();
        let rt = py.as_ref()?;
        let listening = rt.listening.borrow();
        match &rt.machine.clients_port {
            None => listening.last().map(|(_, f)| f.clone())?,
            Some(wanted) => match listening.iter().find(|(p, _)| *p == wanted.port) {
                Some((_, f)) => f.clone(),
                None => {
                    let ports: Vec<String> = listening.iter().map(|(p, _)| p.to_string()).collect();
                    let ports = if ports.is_empty() { "none".to_owned() } else { ports.join(", ") };
                    rt.fail(format!(
                        "{}: twine.clients(port={}): nothing listens on port {} (listening: {ports})",
                        wanted.at, wanted.port, wanted.port
                    ));
                    return None;
                }
            },
        }
    };
    PyFactory { sh: Rc::clone(sh), factory, endpoint: None }.build_protocol(peer)
}

/// Whether `v` is an instance of a class deriving from the library's
/// `twisted.internet.protocol.<name>`.
pub(crate) fn derives(vm: &Vm<'_>, v: &Value, name: &str) -> bool {
    let Some(class) = v.class() else { return false };
    let library = match vm.rt.import("twisted.internet.protocol") {
        Ok(Value::Module(m)) => m.attrs.get(name).cloned(),
        _ => None,
    };
    matches!(library, Some(Value::Class(lib)) if class.is_subclass(&lib))
}

/// The factory argument of `listenTCP`/`connectTCP` (and of an endpoint's
/// `listen`/`connect`), or the error a newcomer's slip deserves.
pub(crate) fn factory_arg(vm: &Vm<'_>, v: Option<&Value>, call: &str) -> PyResult<Value> {
    let v = v.cloned().unwrap_or_default();
    if derives(vm, &v, "Protocol") {
        let name = v.type_name();
        let fix = match call {
            "listenTCP" | "listen" => format!("use protocol.Factory.forProtocol({name})"),
            "connect" => format!(
                "use protocol.Factory.forProtocol({name}), or endpoints.connectProtocol(endpoint, the protocol)"
            ),
            _ => format!("use a protocol.ClientFactory subclass with `protocol = {name}`"),
        };
        return Err(vm.type_error(&format!("{call} needs a factory: {fix}")));
    }
    if !derives(vm, &v, "Factory") {
        return Err(vm.type_error(&format!(
            "{call}: the factory is a protocol.Factory (or ClientFactory) instance, not {}",
            v.type_name()
        )));
    }
    Ok(v)
}

pub(crate) fn port_arg(vm: &Vm<'_>, v: Option<&Value>, call: &str) -> PyResult<u16> {
    match v {
        Some(Value::Int(p)) if (0..=65535).contains(p) => Ok(*p as u16),
        _ => Err(vm.type_error(&format!("{call}: the port is a number from 0 to 65535"))),
    }
}

/// Refuses a host beyond the simulated machine, which has only its loopback.
pub(crate) fn loopback_host(vm: &Vm<'_>, host: &str, call: &str) -> PyResult<()> {
    if matches!(host, "127.0.0.1" | "localhost" | "0.0.0.0" | "") {
        return Ok(());
    }
    Err(vm.rt.error(
        "ValueError",
        &format!(
            "{call}: the simulated machine has no network beyond itself: connect to '127.0.0.1' \
             (a port this program listens on), not '{host}'"
        ),
    ))
}

/// `reactor.listenTCP(port, factory)`: a listening port on the simulated
/// machine, for the program's own `connectTCP` and for `twine.clients`.
pub(crate) fn listen_tcp(vm: &mut Vm<'_>, args: Vec<Value>, kwargs: Kw) -> PyResult<Value> {
    let factory = factory_arg(vm, args.get(1).or_else(|| kw(&kwargs, "factory")), "listenTCP")?;
    let mut port = port_arg(vm, args.first().or_else(|| kw(&kwargs, "port")), "listenTCP")?;
    let listening = vm.rt.listening.borrow_mut();
    let taken = |p: u16| listening.iter().any(|(q, _)| *q == p);
    if port == 0 {
        port = (FIRST_FREE_PORT..=u16::MAX).find(|&p| !taken(p)).unwrap_or(FIRST_FREE_PORT);
    } else if taken(port) {
        drop(listening);
        let class = vm.rt.exc_class("CannotListenError");
        let msg = format!("Couldn't listen on any:{port}: [Errno 98] Address already in use.");
        return Err(super::errors::Exc::new(vm.rt.new_exc(&class, vec![Value::Str(msg.into())])));
    }
    drop(listening);
    do_start(vm, &factory)?;
    // The simulated clients (`twine.clients`) may be served by the factory too.
    vm.rt.listening.borrow_mut().push((port, factory.clone()));
    let reactor = vm.sh.reactor().ok_or_else(|| vm.rt.error("RuntimeError", "the reactor is gone"))?;
    let addr = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port);
    let listening = reactor.listen_tcp(addr, PyFactory { sh: Rc::clone(vm.sh), factory, endpoint: None });
    Ok(Value::Native(Rc::new(Native::Port(PortRef(listening, port)))))
}

/// Twisted's `Factory.doStart`, inside `listenTCP` and `connectTCP`: the
/// program's `startFactory` on the factory's first port or connector (an
/// exception in it is raised by the call that started it), then one more in
/// `numPorts`.
fn do_start(vm: &mut Vm<'_>, factory: &Value) -> PyResult<()> {
    let Value::Instance(i) = factory else { return Ok(()) };
    let n = match vm.get_attr(factory, "numPorts") {
        Ok(Value::Int(n)) => n,
        _ => 0,
    };
    if n == 0 && matches!(i.class.lookup("startFactory"), Some(Value::Func(_))) {
        let start = vm.get_attr(factory, "startFactory")?;
        vm.call_nested(start, Vec::new())?;
    }
    i.set("numPorts", Value::Int(n + 1));
    Ok(())
}

/// `reactor.connectTCP(host, port, factory, timeout=30)`.
pub(crate) fn connect_tcp(vm: &mut Vm<'_>, args: Vec<Value>, kwargs: Kw) -> PyResult<Value> {
    let host = match args.first().or_else(|| kw(&kwargs, "host")) {
        Some(Value::Str(h)) => Rc::clone(h),
        _ => return Err(vm.type_error("connectTCP(host, port, factory): the host is a string such as '127.0.0.1'")),
    };
    loopback_host(vm, &host, "connectTCP")?;
    let port = port_arg(vm, args.get(1).or_else(|| kw(&kwargs, "port")), "connectTCP")?;
    let factory = factory_arg(vm, args.get(2).or_else(|| kw(&kwargs, "factory")), "connectTCP")?;
    let timeout = match args.get(3).or_else(|| kw(&kwargs, "timeout")) {
        Some(Value::Int(s)) if *s > 0 => Duration::from_secs(*s as u64),
        Some(Value::Float(s)) if *s > 0.0 && s.is_finite() => super::twisted::delay_from_secs(*s),
        _ => Duration::from_secs(30),
    };
    let reactor = vm.sh.reactor().ok_or_else(|| vm.rt.error("RuntimeError", "the reactor is gone"))?;
    let addr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port);
    do_start(vm, &factory)?;
    let connector = reactor.connect_tcp(addr, PyFactory { sh: Rc::clone(vm.sh), factory, endpoint: None }, timeout);
    Ok(connector_value(&connector))
}

/// An endpoint's `connect` to `port` on the loopback (host checked by the
/// caller): the Deferred it returns (see [`Attempt`]). Cancelling it before
/// the connection is made stops the attempt with ConnectingCancelledError,
/// as Twisted's `_WrappingFactory._canceller` does.
pub(crate) fn connect_endpoint(
    vm: &mut Vm<'_>,
    port: u16,
    timeout: Duration,
    factory: Value,
    protocol: Option<Value>,
) -> PyResult<Value> {
    let reactor = vm.sh.reactor().ok_or_else(|| vm.rt.error("RuntimeError", "the reactor is gone"))?;
    let addr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port);
    let connector: Rc<RefCell<Option<Connector>>> = Rc::default();
    let (sh, stop) = (Rc::clone(vm.sh), Rc::clone(&connector));
    let connected = Deferred::with_canceller(move |d: &Deferred<Value>| {
        let Some(rt) = sh.py.borrow().clone() else { return };
        let exc = rt.new_exc(&rt.exc_class("ConnectingCancelledError"), vec![ipv4_address(&rt, addr)]);
        let _ = d.errback(super::twisted::to_failure(&rt, &exc));
        if let Some(c) = stop.borrow().as_ref().filter(|c| c.state() == ConnectorState::Connecting) {
            c.stop_connecting();
        }
    });
    // Twisted's `_WrappingFactory` starts the wrapped factory as its own starts.
    do_start(vm, &factory)?;
    let attempt = Attempt { connected: connected.clone(), protocol };
    let made = reactor.connect_tcp(addr, PyFactory { sh: Rc::clone(vm.sh), factory, endpoint: Some(attempt) }, timeout);
    *connector.borrow_mut() = Some(made);
    Ok(Value::Native(Rc::new(Native::Deferred(connected))))
}

fn kw<'a>(kwargs: &'a Kw, name: &str) -> Option<&'a Value> {
    kwargs.iter().find(|(k, _)| &**k == name).map(|(_, v)| v)
}

/// Methods of transports, connectors and listening ports.
pub(crate) fn method(n: &Native, name: &str) -> Option<&'static str> {
    let table: &[&'static str] = match n {
        Native::Transport(_) => &["write", "writeSequence", "loseConnection", "abortConnection", "getPeer", "getHost"],
        Native::Connector(_) => &["connect", "disconnect", "stopConnecting", "getDestination"],
        Native::Port(_) => &["getHost", "stopListening"],
        _ => return None,
    };
    table.iter().find(|m| **m == name).copied()
}

/// Calls a method of a transport, connector or listening port.
pub(crate) fn call_method(vm: &mut Vm<'_>, name: &str, n: &Native, args: Vec<Value>) -> PyResult<Out> {
    let v = match (n, name) {
        (Native::Transport(t), "write" | "writeSequence") => {
            vm.pending += super::twisted::TWISTED_WRITE_NS;
            let parts = if name == "write" {
                vec![args.first().cloned().unwrap_or_default()]
            } else {
                vm.collect(args.first().unwrap_or(&Value::None))?
            };
            for part in parts {
                let Value::Bytes(data) = part else {
                    // Twisted's words (the program may print them); the
                    // fix is to write b"..." or "...".encode().
                    return Err(vm.type_error("Data must be bytes"));
                };
                write(&t.0, &data);
            }
            Value::None
        }
        (Native::Transport(t), "loseConnection") => {
            t.0.lose_connection();
            Value::None
        }
        (Native::Transport(t), "abortConnection") => {
            t.0.abort_connection();
            Value::None
        }
        (Native::Transport(t), "getPeer") => ipv4_address(vm.rt, t.0.peer()),
        (Native::Transport(t), "getHost") => ipv4_address(vm.rt, t.0.host()),
        (Native::Connector(c), "connect") => {
            c.0.connect();
            Value::None
        }
        (Native::Connector(c), "disconnect") => {
            c.0.disconnect();
            Value::None
        }
        (Native::Connector(c), "stopConnecting") => {
            if c.0.state() != ConnectorState::Connecting {
                return Err(vm.rt.error("RuntimeError", "we're not trying to connect"));
            }
            c.0.stop_connecting();
            Value::None
        }
        (Native::Connector(c), "getDestination") => ipv4_address(vm.rt, c.0.address()),
        (Native::Port(p), "getHost") => ipv4_address(vm.rt, SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), p.1)),
        (Native::Port(p), "stopListening") => {
            // Twisted's `Port.loseConnection`: a Deferred that fires (with
            // None) in a zero-delay call, once the port is closed (and the
            // factory stopped); programs wait on it (`await port.stopListening()`).
            let closed = p.0.stop_listening().map(|()| Value::None);
            vm.rt.listening.borrow_mut().retain(|(q, _)| *q != p.1);
            Value::Native(Rc::new(Native::Deferred(closed)))
        }
        _ => return Err(vm.type_error(&format!("{name}() is not supported"))),
    };
    Ok(Out::Value(v))
}

/// Writes on a connection: bytes on a stream; on a simulated client's
/// message connection, one message per line (those clients speak lines).
fn write(t: &Transport, data: &[u8]) {
    match t.kind() {
        twine_core::reactor::ConnectionKind::Stream => t.write(data),
        twine_core::reactor::ConnectionKind::Message => {
            let text = String::from_utf8_lossy(data);
            for line in text.split("\r\n").filter(|l| !l.is_empty()) {
                t.send(twine_core::protocol::Message::text(line.to_owned()));
            }
        }
    }
}

/// `twisted.internet.address.IPv4Address('TCP', host, port)`.
pub(crate) fn ipv4_address(rt: &super::Runtime, addr: SocketAddr) -> Value {
    let class = match rt.import("twisted.internet.address") {
        Ok(Value::Module(m)) => match m.attrs.get("IPv4Address") {
            Some(Value::Class(c)) => Rc::clone(c),
            _ => Class::new("IPv4Address", None),
        },
        _ => Class::new("IPv4Address", None),
    };
    let host = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => "0.0.0.0".to_owned(),
        ip => ip.to_string(),
    };
    let inst = Instance { class, attrs: RefCell::default() };
    inst.set("type", Value::str("TCP"));
    inst.set("host", Value::Str(host.into()));
    inst.set("port", Value::Int(addr.port() as i64));
    Value::Instance(Rc::new(inst))
}

/// The `IPv4Address` class: its repr is Twisted's.
pub(crate) fn ipv4_address_class() -> Rc<Class> {
    let class = Class::in_module("IPv4Address", None, "twisted.internet.address");
    class.attrs.borrow_mut().insert("__repr__".into(), Value::builtin("IPv4Address.__repr__", None));
    class
}

/// `IPv4Address.__repr__`, the default `Factory.buildProtocol`, and the
/// endpoints' `listen` and `connect`.
pub(crate) fn library_method(vm: &mut Vm<'_>, name: &str, this: &Value, args: Vec<Value>) -> PyResult<Out> {
    match name {
        n if super::endpoints::HERE && n.starts_with("endpoints.") => super::endpoints::method(vm, name, this, args),
        "IPv4Address.__repr__" => {
            let Value::Instance(i) = this else { return Ok(Out::Value(Value::str("IPv4Address()"))) };
            let field = |vm: &mut Vm<'_>, n: &str| vm.repr_of(&i.get(n).unwrap_or_default());
            let text = format!(
                "IPv4Address(type={}, host={}, port={})",
                field(vm, "type")?,
                field(vm, "host")?,
                field(vm, "port")?
            );
            Ok(Out::Value(Value::Str(text.into())))
        }
        "Factory.buildProtocol" => {
            // Twisted's: `p = self.protocol(); p.factory = self; return p`.
            let _addr = args;
            let protocol = vm.get_attr(this, "protocol")?;
            let p = vm.call_nested(protocol, Vec::new())?;
            if let Value::Instance(i) = &p {
                i.set("factory", this.clone());
            }
            Ok(Out::Value(p))
        }
        _ => Ok(Out::Value(Value::None)),
    }
}
