//! TCP in Python programs: `reactor.connectTCP` with a `ClientFactory`
//! against the program's own `listenTCP` port, on the simulated loopback
//! network. The expected lines are what CPython 3.11 with Twisted prints
//! for the same program (each was run there; see the report of the change
//! that added them).

use twine_scenario::metrics::Stream;
use twine_web::{PythonScenario, Scenario, Simulation};

fn run(source: &str) -> Simulation {
    let scenario = Scenario::from_python("test.py", source).unwrap_or_else(|e| panic!("{e}"));
    let mut sim = Simulation::new(&scenario, None);
    sim.run();
    sim
}

fn output(source: &str) -> Vec<String> {
    let sim = run(source);
    if let Some(e) = sim.python_error() {
        panic!("{e}");
    }
    sim.metrics().output.iter().map(|l| l.text.clone()).collect()
}

const ECHO: &str = r#"
from twisted.internet import reactor, protocol
from twisted.protocols import basic

class Echo(basic.LineReceiver):
    def connectionMade(self):
        print("server: connectionMade")
    def lineReceived(self, line):
        print("server got", line)
        self.sendLine(b"echo: " + line)
    def connectionLost(self, reason):
        print("server: connectionLost", reason.getErrorMessage())

class Client(basic.LineReceiver):
    def connectionMade(self):
        print("client: connectionMade")
        self.sendLine(b"hello")
        self.sendLine(b"world")
    def lineReceived(self, line):
        print("client got", line)
        if line == b"echo: world":
            self.transport.loseConnection()
    def connectionLost(self, reason):
        print("client: connectionLost", reason.getErrorMessage())

class CF(protocol.ClientFactory):
    protocol = Client
    def startedConnecting(self, connector):
        print("startedConnecting")
    def clientConnectionLost(self, connector, reason):
        print("clientConnectionLost", reason.type.__name__)
        reactor.callLater(0.1, reactor.stop)
"#;

#[test]
fn a_client_talks_to_the_programs_own_server_in_twisteds_order() {
    let src = format!(
        "{ECHO}\nreactor.listenTCP(8123, protocol.Factory.forProtocol(Echo))\n\
         reactor.connectTCP('127.0.0.1', 8123, CF())\nprint('main done')\nreactor.run()\n"
    );
    assert_eq!(
        output(&src),
        [
            "startedConnecting",
            "main done",
            "server: connectionMade",
            "client: connectionMade",
            "server got b'hello'",
            "server got b'world'",
            "client got b'echo: hello'",
            "client got b'echo: world'",
            "client: connectionLost Connection was closed cleanly.",
            "clientConnectionLost ConnectionDone",
            "server: connectionLost Connection was closed cleanly.",
        ]
    );
}

#[test]
fn a_port_nobody_listens_on_refuses_with_connection_refused_error() {
    let out = output(
        r#"
from twisted.internet import reactor, protocol, error

class CF(protocol.ClientFactory):
    protocol = protocol.Protocol
    def clientConnectionFailed(self, connector, reason):
        print(reason.type.__name__, reason.check(error.ConnectError) is not None)
        print(reason.getErrorMessage())
        print("to port", connector.getDestination().port)
        reactor.stop()

reactor.connectTCP("localhost", 9999, CF())
reactor.run()
"#,
    );
    assert_eq!(
        out,
        [
            "ConnectionRefusedError True",
            "Connection was refused by other side: 111: Connection refused.",
            "to port 9999",
        ]
    );
}

#[test]
fn the_server_hangs_up_and_the_client_hears_connection_done() {
    let out = output(
        r#"
from twisted.internet import reactor, protocol, error

class Server(protocol.Protocol):
    def connectionMade(self):
        self.transport.write(b"bye")
        self.transport.loseConnection()
    def connectionLost(self, reason):
        print("server lost", reason.type.__name__)

class Client(protocol.Protocol):
    def dataReceived(self, data):
        print("client got", data)
    def connectionLost(self, reason):
        print("client lost", reason.check(error.ConnectionDone) is not None)

class CF(protocol.ClientFactory):
    protocol = Client
    def clientConnectionLost(self, connector, reason):
        print("factory lost", reason.getErrorMessage())
        reactor.stop()

reactor.listenTCP(8000, protocol.Factory.forProtocol(Server))
reactor.connectTCP("127.0.0.1", 8000, CF())
reactor.run()
"#,
    );
    assert_eq!(
        out,
        [
            "server lost ConnectionDone",
            "client got b'bye'",
            "client lost True",
            "factory lost Connection was closed cleanly.",
        ]
    );
}

#[test]
fn addresses_ports_and_listening_twice() {
    let out = output(
        r#"
from twisted.internet import reactor, protocol, error

class Server(protocol.Protocol):
    def connectionMade(self):
        print("server host is the port", self.transport.getHost().port == port.getHost().port)
        print("server peer", self.transport.getPeer().host, self.transport.getPeer().type)
        print("factory set", self.factory is f)
        self.transport.loseConnection()

class Client(protocol.Protocol):
    def connectionMade(self):
        print("peers match", self.transport.getPeer().port == port.getHost().port)
        print(repr(self.transport.getPeer()) == "IPv4Address(type='TCP', host='127.0.0.1', port=%d)" % port.getHost().port)

class CF(protocol.ClientFactory):
    protocol = Client
    def clientConnectionLost(self, connector, reason):
        try:
            reactor.listenTCP(port.getHost().port, f)
        except error.CannotListenError:
            print("CannotListenError")
        reactor.stop()

f = protocol.Factory.forProtocol(Server)
port = reactor.listenTCP(0, f)
print(port.getHost().port > 0)
reactor.connectTCP("127.0.0.1", port.getHost().port, CF())
reactor.run()
"#,
    );
    assert_eq!(
        out,
        [
            "True",
            "server host is the port True",
            "server peer 127.0.0.1 TCP",
            "factory set True",
            "peers match True",
            "True",
            "CannotListenError",
        ]
    );
}

#[test]
fn a_custom_build_protocol_and_bytes_formatting() {
    let out = output(
        r#"
from twisted.internet import reactor, protocol

class P(protocol.Protocol):
    def __init__(self, n):
        self.n = n
    def connectionMade(self):
        self.transport.write(b"n=%d %s" % (self.n, b"ok"))
    def dataReceived(self, data):
        print(self.n, data)
        if self.n == 2:
            reactor.stop()

class F(protocol.Factory):
    def buildProtocol(self, addr):
        print("building for", addr.host)
        return P(1)

class CF(protocol.ClientFactory):
    def buildProtocol(self, addr):
        return P(2)

reactor.listenTCP(7000, F())
reactor.connectTCP("127.0.0.1", 7000, CF())
reactor.run()
"#,
    );
    assert_eq!(out, ["building for 127.0.0.1", "1 b'n=2 ok'", "2 b'n=1 ok'"]);
}

#[test]
fn slips_get_errors_that_say_what_to_write() {
    let cases = [
        (
            "reactor.connectTCP('127.0.0.1', 8000, P())",
            "connectTCP needs a factory: use a protocol.ClientFactory subclass with `protocol = P`",
        ),
        ("reactor.connectTCP('example.com', 80, protocol.ClientFactory())", "connect to '127.0.0.1'"),
        ("reactor.listenTCP(8000, P())", "use protocol.Factory.forProtocol(P)"),
        ("reactor.listenTCP('x', protocol.Factory())", "the port is a number"),
    ];
    for (line, want) in cases {
        let src = format!(
            "from twisted.internet import reactor, protocol\nclass P(protocol.Protocol):\n    pass\n{line}\nreactor.run()\n"
        );
        let sim = run(&src);
        let err = sim.python_error().unwrap_or_else(|| panic!("{line}: no error"));
        assert!(err.contains(want), "{line}: {err}");
        assert!(err.starts_with("test.py:4:"), "{line}: {err}");
    }
}

#[test]
fn the_client_server_program_prints_what_cpython_prints() {
    // www/presets/client-server.py, run with CPython 3.11 + Twisted and
    // twine.py on the path, printed exactly these lines.
    let src = include_str!("../../www/presets/client-server.py");
    assert_eq!(
        output(src),
        [
            "client: connecting to port 8007",
            "client: connecting to port 8008",
            "server: client connected",
            "client: connected",
            "client: failed, ConnectionRefusedError",
            "server: got b'twisted'",
            "server: got b'reactor'",
            "server: got b'deferred'",
            "client: answers [7, 7, 8]",
            "client: connection closed, True",
            "both clients done",
            "server: client left, Connection was closed cleanly.",
        ]
    );
}

/// Twisted's reactor (`posixbase._doReadOrWrite`) logs an exception from
/// `dataReceived` as "Unhandled Error" and drops that connection at once:
/// `connectionLost` hears the exception, what it wrote and had not sent is
/// discarded, the peer reads a clean end; the other connection carries on.
/// The expected lines are CPython 3.11 + Twisted 26.10's for this program
/// (stdout; its stderr holds the report, checked below without Twisted's
/// own frames).
#[test]
fn an_exception_in_data_received_drops_that_connection_only() {
    let src = r#"
from twisted.internet import protocol, reactor
from twisted.protocols import basic

class Echo(basic.LineReceiver):
    def connectionMade(self):
        print("server: connectionMade")
    def lineReceived(self, line):
        print("server got", line)
        if line == b"boom":
            self.sendLine(b"unsent")
            raise ValueError("bad line")
        self.sendLine(line)
    def connectionLost(self, reason):
        print("server: connectionLost", reason.type.__name__, reason.getErrorMessage())

ended = []

class Client(basic.LineReceiver):
    def connectionMade(self):
        for l in self.factory.lines:
            self.sendLine(l)
    def lineReceived(self, line):
        print(self.factory.name, "got", line)
        self.transport.loseConnection()
    def connectionLost(self, reason):
        print(self.factory.name, "connectionLost", reason.type.__name__)
        ended.append(self.factory.name)
        if len(ended) == 2:
            reactor.callLater(0.1, reactor.stop)

class CF(protocol.ClientFactory):
    protocol = Client
    def __init__(self, name, lines):
        self.name, self.lines = name, lines

reactor.listenTCP(1234, protocol.Factory.forProtocol(Echo))
reactor.connectTCP("127.0.0.1", 1234, CF("a", [b"boom", b"after"]))
reactor.connectTCP("127.0.0.1", 1234, CF("b", [b"hello"]))
reactor.run()
"#;
    let sim = run(src);
    assert_eq!(sim.python_error(), None);
    let m = sim.metrics();
    let out: Vec<&str> = m.output.iter().filter(|l| l.stream == Stream::Stdout).map(|l| l.text.as_str()).collect();
    assert_eq!(
        out,
        [
            "server: connectionMade",
            "server: connectionMade",
            "server got b'boom'",
            "server: connectionLost ValueError bad line",
            "server got b'hello'",
            "a connectionLost ConnectionDone",
            "b got b'hello'",
            "b connectionLost ConnectionDone",
            "server: connectionLost ConnectionDone Connection was closed cleanly.",
        ]
    );
    let err: Vec<&str> = m.output.iter().filter(|l| l.stream == Stream::Stderr).map(|l| l.text.as_str()).collect();
    assert_eq!(
        err,
        [
            "Unhandled Error",
            "Traceback (most recent call last):",
            "  File \"test.py\", line 12, in lineReceived",
            "    raise ValueError(\"bad line\")",
            "builtins.ValueError: bad line",
            "",
        ]
    );
}

#[test]
fn a_server_factory_serves_a_line_client_as_in_twisted() {
    // The lines Twisted 26.10 prints for this program (on a real loopback port).
    let out = output(
        r#"

from twisted.internet import reactor, protocol
from twisted.protocols.basic import LineReceiver
class Echo(LineReceiver):
    def connectionMade(self):
        self.factory.count += 1
    def lineReceived(self, line):
        if line == b"quit":
            self.transport.loseConnection()
        else:
            self.sendLine(line + b"!")
class EchoFactory(protocol.ServerFactory):
    protocol = Echo
    count = 0
class Client(LineReceiver):
    def connectionMade(self):
        self.sendLine(b"hello")
        self.sendLine(b"world")
        self.sendLine(b"quit")
    def lineReceived(self, line):
        print("client got", line)
    def connectionLost(self, reason):
        print("client lost", reason.type.__name__)
        reactor.stop()
class ClientFactory(protocol.ClientFactory):
    protocol = Client
f = EchoFactory()
port = reactor.listenTCP(0, f)
reactor.connectTCP("127.0.0.1", port.getHost().port, ClientFactory())
reactor.run()
print("connections", f.count)
"#,
    );
    assert_eq!(out, ["client got b'hello!'", "client got b'world!'", "client lost ConnectionDone", "connections 1"]);
}

// `twisted.internet.endpoints`. Each program's expected lines are what
// CPython 3.11 + Twisted 26.10 printed for it (run on a real loopback port,
// 2026-12-03).

/// An echo server from `serverFromString`, a client from `clientFromString`
/// through `connectProtocol`: `listen` has fired before it returns, and
/// `connect` fires after the client's `connectionMade`, in the same turn.
#[test]
fn an_echo_server_and_client_from_endpoint_strings_as_in_twisted() {
    let out = output(
        r#"
from twisted.internet import reactor, protocol, endpoints
from twisted.protocols import basic

class Echo(basic.LineReceiver):
    def connectionMade(self):
        print("server: connectionMade")
    def lineReceived(self, line):
        print("server got", line)
        self.sendLine(b"echo: " + line)
    def connectionLost(self, reason):
        print("server: connectionLost", reason.getErrorMessage())

class Client(basic.LineReceiver):
    def connectionMade(self):
        print("client: connectionMade")
    def lineReceived(self, line):
        print("client got", line)
        if line == b"echo: world":
            self.transport.loseConnection()
    def connectionLost(self, reason):
        print("client: connectionLost", reason.getErrorMessage())
        reactor.callLater(0.1, reactor.stop)

def listening(port):
    print("listening on", port.getHost().port)
    ep = endpoints.clientFromString(reactor, "tcp:host=127.0.0.1:port=8123")
    d = endpoints.connectProtocol(ep, Client())
    d.addCallback(connected)
    print("connecting, fired:", d.called)

def connected(p):
    print("connected", type(p).__name__, p.transport.getPeer().port)
    p.sendLine(b"hello")
    p.sendLine(b"world")

d = endpoints.serverFromString(reactor, "tcp:8123").listen(protocol.Factory.forProtocol(Echo))
d.addCallback(listening)
print("main done")
reactor.run()
"#,
    );
    assert_eq!(
        out,
        [
            "listening on 8123",
            "connecting, fired: False",
            "main done",
            "server: connectionMade",
            "client: connectionMade",
            "connected Client 8123",
            "server got b'hello'",
            "server got b'world'",
            "client got b'echo: hello'",
            "client got b'echo: world'",
            "client: connectionLost Connection was closed cleanly.",
            "server: connectionLost Connection was closed cleanly.",
        ]
    );
}

/// `listen` fires at once with the port (port 0: one picked), a port taken
/// fails its Deferred with CannotListenError (Twisted's `listen` is
/// `defer.execute(listenTCP, ...)`), `connect` with a factory fires with the
/// protocol it built, and after `stopListening` a connection is refused.
#[test]
fn listen_fires_with_the_port_and_a_taken_port_fails_its_deferred() {
    let out = output(
        r#"
from twisted.internet import reactor, protocol, endpoints, error

class Hello(protocol.Protocol):
    def connectionMade(self):
        self.transport.write(b"hi")
        self.transport.loseConnection()

class Client(protocol.Protocol):
    def dataReceived(self, data):
        print("client got", data)
    def connectionLost(self, reason):
        print("client lost", reason.type.__name__)
        d = endpoints.connectProtocol(endpoints.TCP4ClientEndpoint(reactor, "127.0.0.1", ports[1]), Client())
        d.addErrback(refused)

def refused(f):
    print("after stopListening:", f.type.__name__)
    reactor.stop()

ports = []
def listening(port):
    print("listening on a port above 0:", port.getHost().port > 0)
    ports.append(port)
    ports.append(port.getHost().port)

f = protocol.Factory.forProtocol(Hello)
d = endpoints.TCP4ServerEndpoint(reactor, 0).listen(f)
print("fired at once:", d.called)
d.addCallback(listening)
again = endpoints.serverFromString(reactor, "tcp:port=%d:interface=127.0.0.1" % ports[0].getHost().port).listen(f)
again.addErrback(lambda fail: print("twice:", fail.type.__name__, fail.check(error.CannotListenError) is not None))

def connected(p):
    print("connected", type(p).__name__)
    ports[0].stopListening()

ep = endpoints.clientFromString(reactor, "tcp:127.0.0.1:%d" % ports[0].getHost().port)
endpoints.connectProtocol(ep, Client()).addCallback(connected)
reactor.run()
"#,
    );
    assert_eq!(
        out,
        [
            "fired at once: True",
            "listening on a port above 0: True",
            "twice: CannotListenError True",
            "connected Client",
            "client got b'hi'",
            "client lost ConnectionDone",
            "after stopListening: ConnectionRefusedError",
        ]
    );
}

/// A connection nobody accepts fails `connect`'s Deferred with
/// ConnectionRefusedError; the factory's client hooks are not called
/// (Twisted's wrapping factory has them). A cancelled attempt fails with
/// ConnectingCancelledError naming the address.
#[test]
fn a_refused_or_cancelled_connect_fails_its_deferred() {
    let out = output(
        r#"
from twisted.internet import reactor, protocol, endpoints, error

class P(protocol.Protocol):
    def connectionMade(self):
        print("never")

class F(protocol.ClientFactory):
    protocol = P
    def startedConnecting(self, c):
        print("startedConnecting")
    def clientConnectionFailed(self, c, r):
        print("clientConnectionFailed")

def failed(f):
    print("failed", f.type.__name__, f.check(error.ConnectError) is not None)
    print(f.getErrorMessage())
    reactor.stop()

ep = endpoints.TCP4ClientEndpoint(reactor, "127.0.0.1", 9999)
d = ep.connect(F())
print("called", d.called)
d.addCallbacks(lambda p: print("connected?"), failed)

c = ep.connect(protocol.Factory.forProtocol(P))
c.addErrback(lambda f: print(f.type.__name__, f.getErrorMessage()))
c.cancel()
reactor.run()
"#,
    );
    assert_eq!(
        out,
        [
            "called False",
            "ConnectingCancelledError IPv4Address(type='TCP', host='127.0.0.1', port=9999)",
            "failed ConnectionRefusedError True",
            "Connection was refused by other side: 111: Connection refused.",
        ]
    );
}

/// Descriptions Twisted rejects raise what Twisted raises (the simulator's
/// messages add what to write); descriptions it takes make the endpoints it
/// makes.
#[test]
fn endpoint_strings_parse_and_fail_as_in_twisted() {
    let out = output(
        r#"
from twisted.internet import reactor, endpoints
for s in ["foo:80", "tcp:port=abc", "tcp:80:bogus=1"]:
    try:
        endpoints.serverFromString(reactor, s)
    except Exception as e:
        print(type(e).__name__, str(e).startswith("Unknown endpoint type: 'foo'"))
for s in ["foo:127.0.0.1:80", "tcp:127.0.0.1"]:
    try:
        endpoints.clientFromString(reactor, s)
    except Exception as e:
        print(type(e).__name__, str(e).startswith("Unknown endpoint type: 'foo'"))
ep = endpoints.clientFromString(reactor, "tcp:port=80:host=localhost:timeout=5")
print(type(ep).__name__, ep._host, ep._port, ep._timeout)
ep = endpoints.serverFromString(reactor, "tcp:8080:interface=127.0.0.1")
print(type(ep).__name__, ep._port, repr(ep._interface), ep._backlog)
"#,
    );
    assert_eq!(
        out,
        [
            "ValueError True",
            "ValueError False",
            "TypeError False",
            "ValueError True",
            "TypeError False",
            "TCP4ClientEndpoint localhost 80 5",
            "TCP4ServerEndpoint 8080 '127.0.0.1' 50",
        ]
    );
}

/// What the simulated machine cannot do, and the slips, fail at their line
/// saying what to write.
#[test]
fn endpoint_refusals_say_what_to_write() {
    let cases = [
        ("endpoints.serverFromString(reactor, 'ssl:443')", "'ssl' endpoints are not in the simulator"),
        ("endpoints.serverFromString(reactor, 'bogus:80')", "Unknown endpoint type: 'bogus'"),
        ("endpoints.serverFromString(reactor, 'bogus:80')", "write \"tcp:8000\", \"tcp:port=8000\""),
        ("endpoints.clientFromString(reactor, 'unix:/tmp/s')", "write \"tcp:127.0.0.1:8000\""),
        ("endpoints.clientFromString(reactor, 'tcp:example.com:80')", "connect to '127.0.0.1'"),
        ("endpoints.TCP4ServerEndpoint(reactor, 80, interface='10.0.0.1')", "interface '' (all) or '127.0.0.1'"),
        ("endpoints.TCP4ServerEndpoint(8000)", "the first argument is the reactor"),
        ("endpoints.TCP4ServerEndpoint(reactor, 80).listen(P())", "use protocol.Factory.forProtocol(P)"),
        ("endpoints.TCP4ClientEndpoint(reactor, '127.0.0.1', 80).connect(P())", "endpoints.connectProtocol"),
        ("endpoints.connectProtocol(endpoints.TCP4ClientEndpoint(reactor, '127.0.0.1', 80), P)", "write P()"),
        ("endpoints.TCP4ClientEndpoint(reactor, '127.0.0.1', 80, bindAddress=('127.0.0.1', 0))", "leave it out"),
    ];
    for (line, want) in cases {
        let src = format!(
            "from twisted.internet import reactor, protocol, endpoints\nclass P(protocol.Protocol):\n    pass\n{line}\nreactor.run()\n"
        );
        let sim = run(&src);
        let err = sim.python_error().unwrap_or_else(|| panic!("{line}: no error"));
        assert!(err.contains(want), "{line}: {err}");
        assert!(err.starts_with("test.py:4:"), "{line}: {err}");
    }
}

/// `twine.clients` are served by a server an endpoint started exactly as by
/// one `listenTCP` started: the same requests, the same latencies.
#[test]
fn simulated_clients_are_served_through_an_endpoint_as_through_listen_tcp() {
    let program = |listen: &str| {
        format!(
            "import twine\nfrom twisted.internet import protocol, reactor, endpoints\nfrom twisted.protocols import basic\n\
             twine.machine(cores=2, gil=False, noise=False)\n\
             twine.clients(rate_per_s=200, requests=50, connections=4, port=8000)\n\
             class Echo(basic.LineReceiver):\n    def lineReceived(self, line):\n        twine.cpu(0.002)\n        self.sendLine(line)\n\
             {listen}\nreactor.run()\n"
        )
    };
    let metrics = |listen: &str| {
        let scenario = Scenario::from_python("clients.py", &program(listen)).unwrap_or_else(|e| panic!("{e}"));
        let mut sim = Simulation::new(&scenario, Some(1));
        sim.run();
        assert_eq!(sim.python_error(), None);
        let r = sim.metrics().requests;
        (r.sent, r.completed, r.p50_ms, r.p99_ms, r.max_ms)
    };
    let endpoint =
        metrics("endpoints.serverFromString(reactor, 'tcp:8000').listen(protocol.Factory.forProtocol(Echo))");
    assert_eq!(endpoint.1, 50);
    assert_eq!(endpoint, metrics("reactor.listenTCP(8000, protocol.Factory.forProtocol(Echo))"));
}

/// The modern form: `task.react` with a coroutine that awaits `listen`,
/// `connectProtocol` on a HostnameEndpoint (the host as bytes), the
/// answers, and `port.stopListening()` (a Deferred in Twisted). CPython +
/// Twisted 26.10 printed these lines and exited with 0.
#[test]
fn a_react_coroutine_awaits_endpoints_and_stop_listening() {
    let out = output(
        r#"
from twisted.internet import protocol, endpoints, task, defer
from twisted.protocols import basic

class Echo(basic.LineReceiver):
    def lineReceived(self, line):
        self.sendLine(line.upper())

class Client(basic.LineReceiver):
    def connectionMade(self):
        self.answers = defer.DeferredQueue()
    def lineReceived(self, line):
        self.answers.put(line)

async def main(reactor):
    port = await endpoints.serverFromString(reactor, "tcp:8126").listen(protocol.Factory.forProtocol(Echo))
    print("listening", port.getHost().port)
    client = await endpoints.connectProtocol(endpoints.HostnameEndpoint(reactor, b"127.0.0.1", 8126), Client())
    for word in [b"twisted", b"endpoints"]:
        client.sendLine(word)
        print(await client.answers.get())
    client.transport.loseConnection()
    await port.stopListening()
    print("done")

task.react(main)
"#,
    );
    assert_eq!(out, ["listening 8126", "b'TWISTED'", "b'ENDPOINTS'", "done"]);
}
