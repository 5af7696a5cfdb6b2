//! The test doubles themselves: MemoryReactor, StringTransport, chunks.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use twine_core::defer::{Failure, FailureKind};
use twine_core::protocol::{factory, ConnectionKind, FnFactory, Message, Protocol, Transport};
use twine_core::protocols::{Echo, LineEcho};
use twine_core::reactor::{Effect, WaterMark};
use twine_core::testing::{chunks, CloseRequest, MemoryReactor, StringTransport};
use twine_core::Time;

fn addr(s: &str) -> std::net::SocketAddr {
    s.parse().unwrap()
}

/// Records what happens to it, in a log the test keeps.
#[derive(Clone, Default)]
struct Log(Rc<RefCell<Vec<String>>>);

impl Log {
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut self.0.borrow_mut())
    }
}

struct Logging(Log);

impl Protocol for Logging {
    fn connection_made(&mut self, t: &Transport) {
        self.0 .0.borrow_mut().push(format!("made {}", t.peer()));
    }
    fn data_received(&mut self, _: &Transport, data: &[u8]) {
        self.0 .0.borrow_mut().push(format!("data {}", String::from_utf8_lossy(data)));
    }
    fn connection_lost(&mut self, _: &Transport, reason: &Failure) {
        self.0 .0.borrow_mut().push(format!("lost {:?}", reason.kind()));
    }
}

fn logging(log: &Log) -> FnFactory {
    let log = log.clone();
    factory(move || Logging(log.clone()))
}

#[test]
fn listeners_bind_free_ports_and_refuse_a_taken_address() {
    let memory = MemoryReactor::new();
    let reactor = memory.reactor();
    let a = reactor.listen_tcp(addr("127.0.0.1:0"), factory(|| Echo));
    let b = reactor.listen_tcp(addr("127.0.0.1:0"), factory(|| Echo));
    memory.settle();
    let (pa, pb) = (a.address().unwrap(), b.address().unwrap());
    assert_ne!(pa.port(), pb.port());
    assert_eq!(memory.listeners(), [(a.id(), pa), (b.id(), pb)]);

    let taken = reactor.listen_tcp(pa, factory(|| Echo));
    memory.settle();
    assert!(taken.address().is_none());
    let failed = Rc::new(RefCell::new(None));
    let f = failed.clone();
    taken
        .when_listening()
        .add_errback(move |e| {
            *f.borrow_mut() = Some(e.message().to_owned());
            Err(e)
        })
        .add_errback(|_| Ok(addr("0.0.0.0:0")));
    assert!(failed.borrow().as_deref().unwrap().contains("address in use"));

    a.stop_listening();
    memory.settle();
    assert_eq!(memory.listeners(), [(b.id(), pb)]);
    assert!(memory.accept(&a).is_none(), "a stopped port accepts nothing");
}

#[test]
fn a_refusing_factory_means_no_connection() {
    let memory = MemoryReactor::new();
    let port = memory.reactor().listen_tcp(addr("127.0.0.1:0"), FnFactory::new(|_| None));
    assert!(memory.accept(&port).is_none());
    assert!(memory.reactor().connections().is_empty());
}

#[test]
fn connections_between_two_ends_carry_bytes_after_the_latency_and_in_order() {
    let memory = MemoryReactor::new();
    memory.set_latency(Duration::from_millis(10));
    let reactor = memory.reactor();
    let server_log = Log::default();
    reactor.listen_tcp(addr("127.0.0.1:7"), logging(&server_log));

    struct Talker;
    impl Protocol for Talker {
        fn connection_made(&mut self, t: &Transport) {
            t.write(b"one");
            let t = t.clone();
            t.reactor().unwrap().call_later(Duration::from_millis(3), move |_| {
                t.write(b"two");
                t.lose_connection();
            });
        }
    }
    reactor.connect_tcp(addr("127.0.0.1:7"), factory(|| Talker), Duration::from_secs(1));
    memory.settle();
    let client = memory.connect_attempts()[0].conn;
    let server = memory.peer_of(client).unwrap();
    assert_eq!(memory.peer_of(server), Some(client));
    assert_eq!(server_log.take().len(), 1, "accepted at once");

    memory.advance(Duration::from_millis(9));
    assert!(server_log.take().is_empty(), "in flight");
    memory.advance(Duration::from_millis(1));
    assert_eq!(server_log.take(), ["data one"]);
    assert!(memory.is_closed(client), "the closing end is closed at once");
    assert!(!memory.is_closed(server));
    memory.advance(Duration::from_millis(3));
    assert_eq!(server_log.take(), ["data two", "lost ConnectionDone"], "the close comes after the data");
    assert_eq!(memory.written(client), b"onetwo");
    assert_eq!(memory.close_requested(client), Some(CloseRequest::Close));
    assert_eq!(memory.close_reason(server).unwrap().kind(), FailureKind::ConnectionDone);
}

#[test]
fn abort_resets_the_other_end() {
    let memory = MemoryReactor::new();
    let reactor = memory.reactor();
    let log = Log::default();
    reactor.listen_tcp(addr("127.0.0.1:7"), logging(&log));
    struct Aborter;
    impl Protocol for Aborter {
        fn connection_made(&mut self, t: &Transport) {
            t.abort_connection();
        }
    }
    reactor.connect_tcp(addr("127.0.0.1:7"), factory(|| Aborter), Duration::from_secs(1));
    memory.settle();
    let client = memory.connect_attempts()[0].conn;
    assert_eq!(memory.close_requested(client), Some(CloseRequest::Abort));
    assert_eq!(log.take()[1], "lost ConnectionLost");
    assert!(memory.reactor().connections().is_empty());
}

#[test]
fn nothing_listening_refuses_and_held_attempts_wait_for_the_test() {
    let memory = MemoryReactor::new();
    let reactor = memory.reactor();
    let failures = Rc::new(RefCell::new(Vec::new()));
    struct Client(Rc<RefCell<Vec<FailureKind>>>);
    impl twine_core::protocol::Factory for Client {
        fn build_protocol(&mut self, _: std::net::SocketAddr) -> Option<Box<dyn Protocol>> {
            Some(Box::new(Echo))
        }
    }
    impl twine_core::protocol::ClientFactory for Client {
        fn client_connection_failed(&mut self, _: &twine_core::protocol::Connector, reason: &Failure) {
            self.0.borrow_mut().push(reason.kind());
        }
    }
    reactor.connect_tcp(addr("127.0.0.1:1"), Client(failures.clone()), Duration::from_secs(1));
    memory.settle();
    assert_eq!(*failures.borrow(), [FailureKind::ConnectionRefused]);

    memory.hold_connects(true);
    reactor.connect_tcp(addr("192.0.2.1:80"), Client(failures.clone()), Duration::from_secs(1));
    reactor.connect_tcp(addr("192.0.2.1:81"), Client(failures.clone()), Duration::from_secs(1));
    memory.settle();
    let held = memory.held_connects();
    assert_eq!(held.len(), 2);
    assert!(memory.fail_connect(held[0].conn, Failure::new(FailureKind::TimedOut, "no answer")));
    assert_eq!(failures.borrow().last(), Some(&FailureKind::TimedOut));
    assert!(memory.complete_connect(held[1].conn), "a fake server the test plays");
    memory.deliver(held[1].conn, b"ping");
    assert_eq!(memory.written(held[1].conn), b"ping");
    assert!(!memory.complete_connect(held[1].conn), "not held any more");
}

#[test]
fn deliveries_wait_while_reading_is_paused() {
    struct Pauser;
    impl Protocol for Pauser {
        fn data_received(&mut self, t: &Transport, data: &[u8]) {
            t.write(data);
            if data == b"stop" {
                t.pause_producing();
            }
        }
    }
    let memory = MemoryReactor::new();
    let conn = memory.open_connection(Pauser, ConnectionKind::Stream);
    memory.deliver(conn, b"stop");
    assert!(memory.reading_paused(conn));
    memory.deliver(conn, b"held");
    memory.disconnect(conn);
    assert_eq!(memory.take_written(conn), b"stop");
    assert!(!memory.is_closed(conn), "even the close waits behind the data");
    memory.reactor().transport(conn).unwrap().resume_producing();
    memory.settle();
    assert_eq!(memory.take_written(conn), b"held");
    assert!(memory.is_closed(conn));
}

#[test]
fn water_marks_reach_the_protocol() {
    let memory = MemoryReactor::new();
    let port = memory.reactor().listen_tcp(addr("127.0.0.1:0"), factory(|| LineEcho::new(Echo)));
    let conn = memory.accept(&port).unwrap();
    memory.write_buffer(conn, WaterMark::High);
    assert!(memory.reading_paused(conn), "the default producer stops reading");
    memory.deliver(conn, b"later\r\n");
    assert!(memory.written(conn).is_empty());
    memory.write_buffer(conn, WaterMark::Low);
    assert!(!memory.reading_paused(conn));
    assert_eq!(memory.written(conn), b"later\r\n");
}

#[test]
fn effects_are_kept_in_the_order_the_reactor_asked() {
    let memory = MemoryReactor::new();
    let port = memory.reactor().listen_tcp(addr("127.0.0.1:0"), factory(|| LineEcho::new(Echo)));
    let conn = memory.accept(&port).unwrap();
    memory.deliver(conn, b"a\r\nb\r\n");
    memory.reactor().transport(conn).unwrap().lose_connection();
    memory.settle();
    let effects = memory.take_effects();
    assert!(matches!(effects[0], Effect::Listen { .. }));
    assert!(matches!(&effects[1], Effect::Write { conn: c, data } if *c == conn && data == b"a\r\nb\r\n"));
    assert!(matches!(effects[2], Effect::Close { conn: c } if c == conn));
    assert_eq!(effects.len(), 3);
    assert!(memory.take_effects().is_empty());
}

#[test]
fn advance_runs_timers_and_deliveries_in_time_order() {
    let memory = MemoryReactor::new();
    memory.set_latency(Duration::from_millis(5));
    let reactor = memory.reactor();
    let log = Log::default();
    reactor.listen_tcp(addr("127.0.0.1:7"), logging(&log));
    struct Sender;
    impl Protocol for Sender {
        fn connection_made(&mut self, t: &Transport) {
            t.write(b"x");
        }
    }
    reactor.connect_tcp(addr("127.0.0.1:7"), factory(|| Sender), Duration::from_secs(1));
    let l = log.clone();
    reactor.call_later(Duration::from_millis(3), move |_| l.0.borrow_mut().push("timer 3".into()));
    let l = log.clone();
    reactor.call_later(Duration::from_millis(7), move |_| l.0.borrow_mut().push("timer 7".into()));
    memory.advance(Duration::from_secs(1));
    let entries = log.take();
    assert_eq!(entries[1..], ["timer 3", "data x", "timer 7"]);
    assert_eq!(memory.now(), Time::from_secs_f64(1.0));
}

#[test]
fn string_transport_records_everything_a_protocol_does() {
    let t = StringTransport::with_addresses(ConnectionKind::Stream, addr("192.0.2.9:1000"), addr("192.0.2.1:23"));
    let tr = t.transport();
    assert_eq!((tr.peer(), tr.host()), (addr("192.0.2.9:1000"), addr("192.0.2.1:23")));
    tr.write(b"ab");
    tr.write_sequence([&b"c"[..], b"d"]);
    assert_eq!(t.value(), b"abcd");
    t.clear();
    assert!(t.value().is_empty());
    tr.pause_producing();
    assert!(t.reading_paused());
    tr.resume_producing();
    assert!(!t.reading_paused());
    tr.lose_connection();
    tr.write(b"dropped");
    assert!(t.disconnecting() && !t.aborted());
    assert!(t.value().is_empty(), "writes after lose_connection are dropped");

    let m = StringTransport::new_message();
    m.transport().send(Message::text("x"));
    m.transport().write(b"y");
    assert_eq!(m.take_messages(), [Message::text("x"), Message::binary(&b"y"[..])]);
    assert!(m.messages().is_empty());
    m.transport().abort_connection();
    assert!(m.aborted());
}

#[test]
fn chunks_cut_where_asked_and_end_with_the_rest() {
    assert_eq!(chunks(b"abcdef", [1, 2]).collect::<Vec<_>>(), [&b"a"[..], b"bc", b"def"]);
    assert_eq!(chunks(b"ab", [5]).collect::<Vec<_>>(), [&b"ab"[..]]);
    assert_eq!(chunks(b"", [1, 2]).count(), 0);
    assert_eq!(chunks(b"abc", std::iter::repeat(1)).count(), 3);
    assert_eq!(chunks(b"abc", [0, 0, 3]).collect::<Vec<_>>(), [&b""[..], b"", b"abc"]);
}
