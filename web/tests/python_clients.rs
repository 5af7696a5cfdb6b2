//! `twine.clients` against a Python server and a JSON scenario's clients
//! against its handler: the same clients, on the same connections, through
//! the same reactor path. Only the server differs (the program's protocol,
//! built by its port's factory, against the scenario's step list).
#![cfg(not(target_arch = "wasm32"))]

use twine_web::{Metrics, PythonScenario, Scenario, Simulation};

fn run(scenario: &Scenario, seed: u64) -> Metrics {
    let mut sim = Simulation::new(scenario, Some(seed));
    sim.run();
    assert_eq!(sim.python_error(), None);
    sim.metrics()
}

const PYTHON: &str = r#"
import twine
from twisted.internet import protocol, reactor
from twisted.protocols import basic

twine.machine(cores=2, gil=False, noise=False)
twine.clients(rate_per_s=RATE, arrival="ARRIVAL", requests=300, connections=8, port=8000)

class Echo(basic.LineReceiver):
    def lineReceived(self, line):
        twine.cpu(CPU)
        self.sendLine(line)

reactor.listenTCP(8000, protocol.Factory.forProtocol(Echo))
reactor.run()
"#;

const JSON: &str = r#"{
    "machine": {"cores": 2, "gil": false, "noise": false},
    "server": {"handler": [{"cpu": CPU}, "respond"]},
    "clients": {"open": {"rate_per_s": RATE, "arrival": "ARRIVAL", "requests": 300, "connections": 8}}
}"#;

fn fill(template: &str, rate: u32, arrival: &str, cpu: f64) -> String {
    template.replace("RATE", &rate.to_string()).replace("ARRIVAL", arrival).replace("CPU", &cpu.to_string())
}

/// Mean latencies agree to within 50 us: the Python server also runs its
/// own instructions (about 70 per request, under a microsecond), which add
/// up where requests queue.
fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 0.05
}

/// A percentile may move further: a request those microseconds push past a
/// poll waits for the next one, up to a part of a service time (seed 1 at
/// 600/s has one at p90: 0.20 ms).
fn close_percentile(a: f64, b: f64) -> bool {
    (a - b).abs() < 0.3
}

/// What Twisted's own Python costs the reactor per request on top of the
/// program's: a read handed to `lineReceived` (0.1 ms) and a write (0.12 ms),
/// measured in CPython (`TWISTED_READ_NS`, `TWISTED_WRITE_NS`).
const TWISTED_MS: f64 = 0.22;

/// Equal but for Twisted's cost per request, where requests do not queue
/// long enough for a connection to get its next request while the server is
/// busy: beyond that the Python server (Twisted's reactor) reads and writes
/// in epoll's ready-list order and the JSON one (twine's) by turns, see the
/// last test.
#[test]
fn python_and_json_clients_give_equal_metrics_for_the_same_load() {
    for (rate, arrival, cpu) in [(200, "fixed", 2.0), (400, "fixed", 2.0), (100, "fixed", 1.5)] {
        let py = Scenario::from_python("echo.py", &fill(PYTHON, rate, arrival, cpu)).unwrap();
        let json = Scenario::from_json(&fill(JSON, rate, arrival, cpu)).unwrap();
        for seed in [1, 7] {
            let (p, j) = (run(&py, seed).requests, run(&json, seed).requests);
            let what = format!("{rate}/s {arrival}, cpu {cpu} ms, seed {seed}: python {p:?}\njson {j:?}");
            assert_eq!((p.sent, p.completed), (300, 300), "{what}");
            assert_eq!((p.sent, p.completed), (j.sent, j.completed), "{what}");
            assert!(close(p.mean_ms, j.mean_ms + TWISTED_MS), "{what}");
            for (a, b) in [(p.p50_ms, j.p50_ms), (p.p90_ms, j.p90_ms), (p.p99_ms, j.p99_ms), (p.max_ms, j.max_ms)] {
                assert!(close_percentile(a, b + TWISTED_MS), "{what}");
            }
            assert!((p.throughput_per_s / j.throughput_per_s - 1.0).abs() < 1e-3, "{what}");
        }
    }
}

/// A simulated client whose request made `lineReceived` raise loses its
/// connection (the request goes unanswered), and connects again for its
/// next request; the other client carries on.
#[test]
fn a_client_dropped_for_an_exception_connects_again_for_its_next_request() {
    let src = r#"
import twine
from twisted.internet import protocol, reactor
from twisted.protocols import basic

twine.clients(rate_per_s=100, arrival="fixed", requests=20, connections=2, port=8000)

class Echo(basic.LineReceiver):
    def connectionMade(self):
        print("connected")
    def lineReceived(self, line):
        if line == b"5":
            raise ValueError("five")
        self.sendLine(line)
    def connectionLost(self, reason):
        print("lost:", reason.getErrorMessage())

reactor.listenTCP(8000, protocol.Factory.forProtocol(Echo))
reactor.run()
"#;
    let m = run(&Scenario::from_python("drop.py", src).unwrap(), 1);
    assert_eq!((m.requests.sent, m.requests.completed), (20, 19));
    let out: Vec<&str> = m.output.iter().map(|l| l.text.as_str()).collect();
    assert_eq!(out.iter().filter(|l| **l == "connected").count(), 3, "{out:?}");
    assert_eq!(out.iter().filter(|l| **l == "lost: five").count(), 1, "{out:?}");
    assert_eq!(out.iter().filter(|l| **l == "Unhandled Error").count(), 1, "{out:?}");
}

/// Two servers: one answers, one says "other" to every line. Clients go
/// to the port `twine.clients(port=...)` names (PORT), whichever listens last.
const TWO_SERVERS: &str = r#"
import twine
from twisted.internet import protocol, reactor
from twisted.protocols import basic

twine.machine(cores=2, gil=False, noise=False)
twine.clients(rate_per_s=100, requests=5, port=PORT)

class Echo(basic.LineReceiver):
    def lineReceived(self, line):
        print("echo", line.decode())
        self.sendLine(line)

class Other(basic.LineReceiver):
    def lineReceived(self, line):
        print("other", line.decode())
        self.sendLine(line)

reactor.listenTCP(8000, protocol.Factory.forProtocol(Echo))
reactor.listenTCP(8001, protocol.Factory.forProtocol(Other))
reactor.run()
"#;

#[test]
fn clients_connect_to_the_port_they_name() {
    for (port, server) in [("8000", "echo"), ("8001", "other")] {
        let source = TWO_SERVERS.replace("PORT", port);
        let scenario = Scenario::from_python("two.py", &source).unwrap();
        let metrics = run(&scenario, 1);
        let servers: Vec<&str> = metrics.output.iter().map(|l| l.text.split(' ').next().unwrap()).collect();
        assert_eq!(servers, [server; 5], "port={port}: {:?}", metrics.output);
        assert_eq!(metrics.requests.completed, 5);
    }
}

#[test]
fn clients_on_a_port_nobody_listens_on_are_refused_at_their_call() {
    let source = TWO_SERVERS.replace("PORT", "9999");
    let scenario = Scenario::from_python("two.py", &source).unwrap();
    let mut sim = Simulation::new(&scenario, Some(1));
    sim.run();
    assert_eq!(
        sim.python_error().as_deref(),
        Some("two.py:7:1: twine.clients(port=9999): nothing listens on port 9999 (listening: 8000, 8001)")
    );
    assert_eq!(sim.metrics().requests.completed, 0);
}

/// Three connections, a request every 4 ms on each in turn (r0, r3 on the
/// first; r1, r4 on the second; r2 on the third), 10 ms of CPU each.
const THREE_CONNECTIONS_PY: &str = r#"
import twine
from twisted.internet import protocol, reactor
from twisted.protocols import basic

twine.machine(cores=2, gil=False, noise=False)
twine.clients(rate_per_s=250, arrival="fixed", requests=5, connections=3, port=8000)

class Echo(basic.LineReceiver):
    def lineReceived(self, line):
        twine.cpu(10)
        self.sendLine(line)

reactor.listenTCP(8000, protocol.Factory.forProtocol(Echo))
reactor.run()
"#;

const THREE_CONNECTIONS_JSON: &str = r#"{
    "machine": {"cores": 2, "gil": false, "noise": false},
    "server": {"handler": [{"cpu": 10}, "respond"]},
    "clients": {"open": {"rate_per_s": 250, "arrival": "fixed", "requests": 5, "connections": 3}}
}"#;

/// When each request was answered, in ms from the start, to 0.1 ms.
fn answered_at(scenario: &Scenario) -> Vec<f64> {
    let mut sim = Simulation::new(scenario, Some(1));
    sim.run();
    assert_eq!(sim.python_error(), None);
    let mut answers: Vec<(u64, f64)> = sim
        .events(0, usize::MAX)
        .iter()
        .filter_map(|r| match r.event {
            twine_core::trace::TraceEvent::ClientResponse { request, .. } => {
                Some((request, (r.t.as_nanos() as f64 / 1e5).round() / 10.0))
            }
            _ => None,
        })
        .collect();
    answers.sort_by_key(|&(request, _)| request);
    answers.into_iter().map(|(_, t)| t).collect()
}

#[test]
fn a_twisted_server_reads_connections_in_epoll_ready_list_order_before_it_writes_older_answers() {
    // CPython 3.11 + Twisted 26.10 with twine.py's load generator, this
    // program, run under SCHED_FIFO on a loaded 2-CPU machine, 4 of 4 runs:
    // answers at 10.4-10.7, 50.7-51.0 (the other four) ms after r0 was sent.
    // At 10 ms the first connection is written and stays at the head of the
    // ready list; r3 arrives on it while r1 and r2 are handled, so at 30 ms
    // the reactor reads r3, then the second connection's r4 (its doRead
    // before its doWrite), and only then writes r1 and r2.
    // Each request also costs Twisted's read and write, 0.22 ms (see the
    // first test): 10.2, then 51.1 for the four.
    let py = Scenario::from_python("three.py", THREE_CONNECTIONS_PY).unwrap();
    assert_eq!(answered_at(&py), [10.2, 51.1, 51.1, 51.1, 51.1]);
    // twine's own server (a JSON scenario, as `twine run` serves it) answers
    // what it read in one turn when the turn ends: r1 and r2 at 30 ms.
    let json = Scenario::from_json(THREE_CONNECTIONS_JSON).unwrap();
    assert_eq!(answered_at(&json), [10.0, 30.0, 30.0, 50.0, 50.0]);
}
