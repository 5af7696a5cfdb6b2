//! `twisted.internet.endpoints`: TCP server and client endpoints and their
//! description strings, over `net`'s `listenTCP` and `connectTCP` (the same
//! ports, connections and simulated clients).
//!
//! As in Twisted: `listen(factory)` returns a Deferred that has already
//! fired with the listening port (or failed with CannotListenError), and
//! `connect(factory)` one that fires with the protocol once its
//! `connectionMade` has run, or fails with why the connection failed
//! (`net::Attempt`, Twisted's `_WrappingFactory`). What the simulated
//! machine cannot do (another host, TLS, UNIX sockets) is refused at the
//! call, saying what to write.

/// Endpoints are in the full module only, as `itertools` (the light one
/// runs the presets, which use `listenTCP`; checked in `tests/precompiled.rs`).
pub(crate) const HERE: bool = super::compile::PARSER;

use std::rc::Rc;
use std::time::Duration;

use twine_core::defer::Deferred;

use super::errors::Exc;
use super::net;
use super::value::{Class, Instance, Native, Value};
use super::vm::{Kw, Out, PyResult, Vm};
use super::Runtime;

/// The module's names.
pub(crate) fn attrs() -> Vec<(&'static str, Value)> {
    let f = |n: &'static str| Value::builtin(n, None);
    vec![
        ("TCP4ServerEndpoint", f("endpoints.TCP4ServerEndpoint")),
        ("TCP4ClientEndpoint", f("endpoints.TCP4ClientEndpoint")),
        ("HostnameEndpoint", f("endpoints.HostnameEndpoint")),
        ("serverFromString", f("endpoints.serverFromString")),
        ("clientFromString", f("endpoints.clientFromString")),
        ("connectProtocol", f("endpoints.connectProtocol")),
    ]
}

/// What a server description may say, and a client's.
const SERVER_FORMS: &str = "\"tcp:8000\", \"tcp:port=8000\" or \"tcp:8000:interface=127.0.0.1\"";
const CLIENT_FORMS: &str = "\"tcp:127.0.0.1:8000\" or \"tcp:host=127.0.0.1:port=8000\"";

/// The functions of the module.
pub(crate) fn call(vm: &mut Vm<'_>, name: &str, args: Vec<Value>, kwargs: Kw) -> PyResult<Out> {
    let v = match name {
        "endpoints.TCP4ServerEndpoint" => server_endpoint(vm, args, kwargs)?,
        "endpoints.TCP4ClientEndpoint" => client_endpoint(vm, "TCP4ClientEndpoint", args, kwargs)?,
        "endpoints.HostnameEndpoint" => client_endpoint(vm, "HostnameEndpoint", args, kwargs)?,
        "endpoints.serverFromString" => server_from_string(vm, args, kwargs)?,
        "endpoints.clientFromString" => client_from_string(vm, args, kwargs)?,
        "endpoints.connectProtocol" => {
            let [endpoint, protocol] = bind(vm, "connectProtocol()", &["endpoint", "protocol"], 2, args, kwargs)?;
            let (endpoint, protocol) = (endpoint.unwrap_or_default(), protocol.unwrap_or_default());
            let Some(ep) = client_of(vm.rt, &endpoint) else {
                return Err(vm.type_error(&format!(
                    "connectProtocol(endpoint, protocol): the endpoint is a client endpoint, such as \
                     endpoints.clientFromString(reactor, \"tcp:127.0.0.1:8000\"), not {}",
                    endpoint.type_name()
                )));
            };
            if let Value::Class(c) = &protocol {
                return Err(vm.type_error(&format!(
                    "connectProtocol needs a protocol instance, not the class: write {}()",
                    c.name
                )));
            }
            if !net::derives(vm, &protocol, "Protocol") {
                return Err(vm.type_error(&format!(
                    "connectProtocol(endpoint, protocol): the protocol is a protocol.Protocol instance, not {}",
                    protocol.type_name()
                )));
            }
            connect(vm, &ep, Value::None, Some(protocol))?
        }
        _ => return Err(vm.type_error(&format!("{name}() is not supported"))),
    };
    Ok(Out::Value(v))
}

/// The endpoints' methods: `listen` and `connect`.
pub(crate) fn method(vm: &mut Vm<'_>, name: &str, this: &Value, args: Vec<Value>) -> PyResult<Out> {
    let Value::Instance(ep) = this else { return Err(vm.type_error(&format!("{name}() needs an endpoint"))) };
    let v = match name {
        "endpoints.listen" => {
            let factory = net::factory_arg(vm, args.first(), "listen")?;
            let port = ep.get("_port").unwrap_or_default();
            match net::listen_tcp(vm, vec![port, factory], Vec::new()) {
                Ok(port) => {
                    let d = Deferred::new();
                    let _ = d.callback(port);
                    deferred(d)
                }
                // Twisted's `listen` is `defer.execute(listenTCP, ...)`: the
                // error comes in the Deferred.
                Err(e) if &*e.value.type_name() == "CannotListenError" => {
                    let d = Deferred::new();
                    let _ = d.errback(super::twisted::to_failure(vm.rt, &e.value));
                    deferred(d)
                }
                Err(e) => return Err(e),
            }
        }
        "endpoints.connect" => {
            let factory = net::factory_arg(vm, args.first(), "connect")?;
            connect(vm, ep, factory, None)?
        }
        _ => return Err(vm.type_error(&format!("{name}() is not supported"))),
    };
    Ok(Out::Value(v))
}

fn deferred(d: Deferred<Value>) -> Value {
    Value::Native(Rc::new(Native::Deferred(d)))
}

/// A client endpoint's `connect`, with a factory or `connectProtocol`'s instance.
fn connect(vm: &mut Vm<'_>, ep: &Instance, factory: Value, protocol: Option<Value>) -> PyResult<Value> {
    let port = net::port_arg(vm, ep.get("_port").as_ref(), "connect")?;
    let timeout = match ep.get("_timeout") {
        Some(Value::Float(s)) => super::twisted::delay_from_secs(s),
        Some(Value::Int(s)) => Duration::from_secs(s.max(0) as u64),
        _ => Duration::from_secs(30),
    };
    net::connect_endpoint(vm, port, timeout, factory, protocol)
}

/// The class of the endpoints of kind `name`, with its method: made once a
/// run and kept with the library's functions, so all endpoints of a kind
/// share it (`type(a) is type(b)`).
fn class(rt: &Runtime, name: &'static str) -> Rc<Class> {
    if let Some(Value::Class(c)) = rt.library.borrow().get(name) {
        return Rc::clone(c);
    }
    let (method, builtin) = match name {
        "TCP4ServerEndpoint" => ("listen", "endpoints.listen"),
        _ => ("connect", "endpoints.connect"),
    };
    let c = Class::in_module(name, None, "twisted.internet.endpoints");
    c.attrs.borrow_mut().insert(method.into(), Value::builtin(builtin, None));
    rt.library.borrow_mut().insert(name, Value::Class(Rc::clone(&c)));
    c
}

/// `v` if it is a client endpoint.
fn client_of(rt: &Runtime, v: &Value) -> Option<Rc<Instance>> {
    let Value::Instance(i) = v else { return None };
    let ours = ["TCP4ClientEndpoint", "HostnameEndpoint"].into_iter().any(|n| Rc::ptr_eq(&i.class, &class(rt, n)));
    ours.then(|| Rc::clone(i))
}

fn instance(rt: &Runtime, name: &'static str, attrs: Vec<(&str, Value)>) -> Value {
    let inst = Instance { class: class(rt, name), attrs: Default::default() };
    for (k, v) in attrs {
        inst.set(k, v);
    }
    Value::Instance(Rc::new(inst))
}

/// Binds a call's arguments to `params` as Python binds them to
/// `def f(p0, ..., pN=default, ...)` (the first `required` have no
/// default): each parameter's value, if given.
fn bind<const N: usize>(
    vm: &Vm<'_>,
    what: &str,
    params: &[&str; N],
    required: usize,
    args: Vec<Value>,
    kwargs: Kw,
) -> PyResult<[Option<Value>; N]> {
    if args.len() > N {
        return Err(vm.type_error(&format!(
            "{what} takes at most {N} arguments ({}) but {} were given",
            params.join(", "),
            args.len()
        )));
    }
    let mut out: [Option<Value>; N] = std::array::from_fn(|_| None);
    for (slot, v) in out.iter_mut().zip(args) {
        *slot = Some(v);
    }
    for (k, v) in kwargs {
        let Some(at) = params.iter().position(|p| **p == *k) else {
            return Err(vm.type_error(&format!(
                "{what} got an unexpected keyword argument '{k}' (it takes {})",
                params.join(", ")
            )));
        };
        if out[at].replace(v).is_some() {
            return Err(vm.type_error(&format!("{what} got multiple values for argument '{k}'")));
        }
    }
    if let Some(missing) = (0..required).find(|&i| out[i].is_none()) {
        return Err(vm.type_error(&format!("{what} missing the required argument '{}'", params[missing])));
    }
    Ok(out)
}

/// Refuses a first argument that is not the reactor before the others are
/// bound (`TCP4ServerEndpoint(8000)` lacks the reactor, not the port).
fn reactor_first(vm: &Vm<'_>, args: &[Value], what: &str) -> PyResult<()> {
    match args.first() {
        Some(first) => check_reactor(vm, &Some(first.clone()), what).map(drop),
        None => Ok(()),
    }
}

fn check_reactor(vm: &Vm<'_>, v: &Option<Value>, what: &str) -> PyResult<Value> {
    match v {
        Some(r @ Value::Native(n)) if matches!(**n, Native::Reactor) => Ok(r.clone()),
        _ => Err(
            vm.type_error(&format!("{what}: the first argument is the reactor (from twisted.internet import reactor)"))
        ),
    }
}

/// `TCP4ServerEndpoint(reactor, port, backlog=50, interface='')`.
fn server_endpoint(vm: &mut Vm<'_>, args: Vec<Value>, kwargs: Kw) -> PyResult<Value> {
    let what = "TCP4ServerEndpoint";
    reactor_first(vm, &args, what)?;
    let [reactor, port, backlog, interface] =
        bind(vm, "TCP4ServerEndpoint()", &["reactor", "port", "backlog", "interface"], 2, args, kwargs)?;
    let reactor = check_reactor(vm, &reactor, what)?;
    let port = net::port_arg(vm, port.as_ref(), what)?;
    // The simulated listen queue is unbounded: the backlog is only checked.
    let backlog = match backlog {
        None => 50,
        Some(Value::Int(n)) => n,
        Some(_) => return Err(vm.type_error("TCP4ServerEndpoint: the backlog is a number, such as 50")),
    };
    let interface = match interface {
        None => Rc::from(""),
        Some(Value::Str(s)) if matches!(&*s, "" | "0.0.0.0" | "127.0.0.1" | "localhost") => s,
        Some(v) => {
            let v = vm.repr_of(&v)?;
            return Err(vm.rt.error(
                "ValueError",
                &format!(
                    "TCP4ServerEndpoint: the simulated machine has one interface, its loopback: \
                     listen on interface '' (all) or '127.0.0.1', not {v}"
                ),
            ));
        }
    };
    let attrs = vec![
        ("_reactor", reactor),
        ("_port", Value::Int(port as i64)),
        ("_backlog", Value::Int(backlog)),
        ("_interface", Value::Str(interface)),
    ];
    Ok(instance(vm.rt, "TCP4ServerEndpoint", attrs))
}

/// `TCP4ClientEndpoint(reactor, host, port, timeout=30, bindAddress=None)`
/// and `HostnameEndpoint(reactor, host, port, timeout=30,
/// bindAddress=None, attemptDelay=None)`. A HostnameEndpoint here connects
/// at once, as a TCP4ClientEndpoint does; Twisted's first resolves the name
/// in its thread pool, so its connection comes a little later.
fn client_endpoint(vm: &mut Vm<'_>, name: &'static str, args: Vec<Value>, kwargs: Kw) -> PyResult<Value> {
    reactor_first(vm, &args, name)?;
    let params = ["reactor", "host", "port", "timeout", "bindAddress", "attemptDelay"];
    let [reactor, host, port, timeout, bind_address, attempt_delay] = if name == "HostnameEndpoint" {
        bind(vm, "HostnameEndpoint()", &params, 3, args, kwargs)?
    } else {
        // TCP4ClientEndpoint has no attemptDelay.
        let tcp4 = params.first_chunk::<5>().expect("six parameters");
        let [a, b, c, d, e] = bind(vm, "TCP4ClientEndpoint()", tcp4, 3, args, kwargs)?;
        [a, b, c, d, e, None]
    };
    let reactor = check_reactor(vm, &reactor, name)?;
    let host = match host {
        Some(Value::Str(h)) => h,
        // HostnameEndpoint takes the name as bytes too.
        Some(Value::Bytes(h)) if name == "HostnameEndpoint" => Rc::from(String::from_utf8_lossy(&h).as_ref()),
        _ => return Err(vm.type_error(&format!("{name}: the host is a string such as '127.0.0.1'"))),
    };
    net::loopback_host(vm, &host, name)?;
    let port = net::port_arg(vm, port.as_ref(), name)?;
    let timeout = match timeout {
        None => Value::Int(30),
        Some(Value::Int(s)) if s > 0 => Value::Int(s),
        Some(Value::Float(s)) if s > 0.0 && s.is_finite() => Value::Float(s),
        Some(_) => return Err(vm.type_error(&format!("{name}: the timeout is a number of seconds, such as 30"))),
    };
    if bind_address.is_some_and(|v| !matches!(v, Value::None)) {
        return Err(vm.type_error(&format!(
            "{name}: bindAddress is not supported: the simulated machine picks the client's port; leave it out"
        )));
    }
    // One address, so one attempt: the delay between attempts never counts.
    let _ = attempt_delay;
    let attrs = vec![
        ("_reactor", reactor),
        ("_host", Value::Str(host)),
        ("_port", Value::Int(port as i64)),
        ("_timeout", timeout),
    ];
    Ok(instance(vm.rt, name, attrs))
}

/// `serverFromString(reactor, description)`: a TCP4ServerEndpoint, parsed
/// as Twisted's `_parseTCP` reads it (`tcp:PORT[:INTERFACE[:BACKLOG]]`,
/// any of them as `name=value`).
fn server_from_string(vm: &mut Vm<'_>, args: Vec<Value>, kwargs: Kw) -> PyResult<Value> {
    let [reactor, description] = bind(vm, "serverFromString()", &["reactor", "description"], 2, args, kwargs)?;
    let description = description_arg(vm, description, "serverFromString")?;
    let (mut parts, named) = parse(&description);
    let kind = parts.remove(0);
    // Twisted's server types are lower case ("TCP:80" is unknown to it).
    if kind != "tcp" {
        return Err(unsupported(vm, "serverFromString", &kind, &description, SERVER_FORMS));
    }
    let what = format!("serverFromString(reactor, {description:?})");
    let [port, interface, backlog] =
        bind(vm, &what, &["port", "interface", "backlog"], 1, strs(parts), strs_named(named))?;
    let mut kwargs: Kw = vec![("port".into(), Value::Int(int_of(vm, port)?))];
    if let Some(i) = interface {
        kwargs.push(("interface".into(), i));
    }
    if let Some(b) = backlog {
        kwargs.push(("backlog".into(), Value::Int(int_of(vm, Some(b))?)));
    }
    server_endpoint(vm, vec![reactor.unwrap_or_default()], kwargs)
}

/// `clientFromString(reactor, description)`: a TCP4ClientEndpoint, parsed
/// as Twisted's `_parseClientTCP` reads it (`tcp:HOST:PORT`, or
/// `host=`/`port=`, and `timeout=`).
fn client_from_string(vm: &mut Vm<'_>, args: Vec<Value>, kwargs: Kw) -> PyResult<Value> {
    let [reactor, description] = bind(vm, "clientFromString()", &["reactor", "description"], 2, args, kwargs)?;
    let description = description_arg(vm, description, "clientFromString")?;
    let (mut parts, named) = parse(&description);
    let kind = parts.remove(0);
    // Twisted's client types are read in any case.
    if !kind.eq_ignore_ascii_case("tcp") {
        return Err(unsupported(vm, "clientFromString", &kind, &description, CLIENT_FORMS));
    }
    let mut named: Vec<(String, String)> = named;
    let has_host = named.iter().any(|(k, _)| k == "host");
    let mut set = |k: &str, v: String| match named.iter_mut().find(|(n, _)| n == k) {
        Some(slot) => slot.1 = v,
        None => named.push((k.to_owned(), v)),
    };
    // Twisted's `_parseClientTCP`: two parts are host and port; one is the
    // host, or the port when `host=` is given.
    match parts.len() {
        0 => {}
        1 if has_host => set("port", parts.remove(0)),
        1 => set("host", parts.remove(0)),
        2 => {
            let port = parts.pop().unwrap_or_default();
            set("host", parts.remove(0));
            set("port", port);
        }
        _ => {
            return Err(vm.rt.error(
                "ValueError",
                &format!("clientFromString: {description:?} has too many parts: write {CLIENT_FORMS}"),
            ))
        }
    }
    let mut kwargs = Vec::new();
    for (k, v) in named {
        let v = match k.as_str() {
            "port" | "timeout" => Value::Int(int_of(vm, Some(Value::Str(v.into())))?),
            _ => Value::Str(v.into()),
        };
        kwargs.push((Rc::from(k.as_str()), v));
    }
    client_endpoint(vm, "TCP4ClientEndpoint", vec![reactor.unwrap_or_default()], kwargs)
}

fn description_arg(vm: &Vm<'_>, v: Option<Value>, call: &str) -> PyResult<String> {
    match v {
        Some(Value::Str(s)) => Ok(s.to_string()),
        Some(Value::Bytes(b)) => Ok(String::from_utf8_lossy(&b).into_owned()),
        _ => {
            Err(vm
                .type_error(&format!("{call}(reactor, description): the description is a string such as \"tcp:8000\"")))
        }
    }
}

/// The error for a description of a type other than TCP: Twisted's words
/// for a type it does not know, and what the simulator takes.
fn unsupported(vm: &Vm<'_>, call: &str, kind: &str, description: &str, forms: &str) -> Exc {
    let kind = kind.to_ascii_lowercase();
    let what = match kind.as_str() {
        "tcp" => format!("{call}: {description:?}: the type is written in lower case"),
        "ssl" | "tls" | "unix" | "tcp6" | "systemd" | "stdio" | "tor" | "onion" => {
            format!("{call}: {description:?}: '{kind}' endpoints are not in the simulator, which has plain TCP on one machine")
        }
        _ => format!("Unknown endpoint type: '{kind}' ({call}: the simulator has tcp endpoints)"),
    };
    vm.rt.error("ValueError", &format!("{what}: write {forms}"))
}

/// Twisted's `_parse`: the description's `:`-separated parts, positional
/// or `name=value`, with `\` escaping the next character.
fn parse(description: &str) -> (Vec<String>, Vec<(String, String)>) {
    let (mut parts, mut named) = (Vec::new(), Vec::<(String, String)>::new());
    let mut add = |sofar: &mut Vec<String>| {
        match sofar.len() {
            1 => parts.push(sofar.remove(0)),
            _ => {
                let v = sofar.pop().unwrap_or_default();
                let k = sofar.remove(0);
                match named.iter_mut().find(|(n, _)| *n == k) {
                    Some(slot) => slot.1 = v,
                    None => named.push((k, v)),
                }
            }
        }
        sofar.clear();
    };
    let (mut sofar, mut current) = (Vec::new(), String::new());
    // After a `=`, only a `:` separates; another `=` is part of the value.
    let mut ops = ":=";
    let mut chars = description.chars();
    while let Some(c) = chars.next() {
        if ops.contains(c) {
            sofar.push(std::mem::take(&mut current));
            if c == ':' {
                add(&mut sofar);
                ops = ":=";
            } else {
                ops = ":";
            }
        } else if c == '\\' {
            current.extend(chars.next());
        } else {
            current.push(c);
        }
    }
    sofar.push(current);
    add(&mut sofar);
    (parts, named)
}

fn strs(parts: Vec<String>) -> Vec<Value> {
    parts.into_iter().map(|p| Value::Str(p.into())).collect()
}

fn strs_named(named: Vec<(String, String)>) -> Kw {
    named.into_iter().map(|(k, v)| (Rc::from(k.as_str()), Value::Str(v.into()))).collect()
}

/// Python's `int(text)` on a description's part, with its error.
fn int_of(vm: &Vm<'_>, v: Option<Value>) -> PyResult<i64> {
    let text = match &v {
        Some(Value::Str(s)) => s.to_string(),
        Some(Value::Int(n)) => return Ok(*n),
        _ => String::new(),
    };
    text.trim().replace('_', "").parse::<i64>().map_err(|_| {
        vm.rt.error(
            "ValueError",
            &format!("invalid literal for int() with base 10: {}", super::format::repr(&Value::Str(text.into()))),
        )
    })
}
