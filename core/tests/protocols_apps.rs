//! The shipped protocols over the memory reactor: Chat, LatencyProbe,
//! ReconnectingClientFactory.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use twine_core::defer::{Failure, FailureKind};
use twine_core::protocol::{factory, Backoff, ConnectionKind, Message, Protocol, ReconnectingClientFactory, Transport};
use twine_core::protocols::basic::LineReceiver;
use twine_core::protocols::{ChatRoom, Echo, LatencyProbe, LatencySummary, LineEcho, ProbeConfig};
use twine_core::reactor::Effect;
use twine_core::task::Clock;
use twine_core::testing::{CloseRequest, MemoryReactor};
use twine_core::Time;

fn addr(s: &str) -> std::net::SocketAddr {
    s.parse().unwrap()
}

// ---------------------------------------------------------------------------
// Chat
// ---------------------------------------------------------------------------

#[test]
fn chat_between_three_clients_reaches_the_other_two_and_forgets_who_left() {
    let memory = MemoryReactor::new();
    let room = ChatRoom::new();
    let port = memory.reactor().listen_tcp(addr("127.0.0.1:0"), room.line_factory());
    let alice = memory.accept(&port).unwrap();
    let bob = memory.accept(&port).unwrap();
    let carol = memory.accept(&port).unwrap();
    assert_eq!(room.members(), [alice, bob, carol]);

    memory.feed_chunked(alice, b"hi all\r\n", [2, 3]);
    assert_eq!(memory.take_written(bob), b"hi all\r\n");
    assert_eq!(memory.take_written(carol), b"hi all\r\n");
    assert!(memory.take_written(alice).is_empty(), "the sender does not hear itself");

    memory.deliver(carol, b"one\r\ntwo\r\n");
    assert_eq!(memory.take_written(alice), b"one\r\ntwo\r\n");
    assert_eq!(memory.take_written(bob), b"one\r\ntwo\r\n");

    memory.disconnect(bob);
    assert_eq!(room.members(), [alice, carol], "bob is forgotten");
    memory.deliver(alice, b"bye bob\r\n");
    assert_eq!(memory.take_written(carol), b"bye bob\r\n");
    assert!(memory.take_written(bob).is_empty());

    // The room empties as everyone leaves, however they leave.
    memory.lose(alice, Failure::new(FailureKind::ConnectionLost, "reset"));
    memory.disconnect(carol);
    assert!(room.is_empty());
}

#[test]
fn chat_mixes_tcp_lines_and_websocket_messages_in_one_room() {
    let memory = MemoryReactor::new();
    let room = ChatRoom::new();
    let port = memory.reactor().listen_tcp(addr("127.0.0.1:6667"), room.line_factory());
    let tcp = memory.accept(&port).unwrap();
    let ws = memory.open_connection(room.chat(), ConnectionKind::Message);

    memory.deliver(tcp, b"from tcp\r\n");
    assert_eq!(memory.take_messages(ws), [Message::text("from tcp")], "UTF-8 lines reach a browser as text");
    memory.deliver(tcp, b"\xff\r\n");
    assert_eq!(memory.take_messages(ws), [Message::binary(vec![0xff])]);

    memory.deliver_message(ws, Message::text("from the browser"));
    assert_eq!(memory.take_written(tcp), b"from the browser\r\n");
}

#[test]
fn chat_clients_connecting_through_the_reactor_talk_to_each_other() {
    /// A client that says its name on connect and records what it hears.
    struct Client {
        name: &'static str,
        heard: Rc<RefCell<Vec<String>>>,
    }
    impl Protocol for Client {
        fn connection_made(&mut self, transport: &Transport) {
            transport.send(self.name);
        }
        fn message_received(&mut self, _: &Transport, m: Message) {
            self.heard.borrow_mut().push(String::from_utf8(m.into_bytes().to_vec()).unwrap());
        }
    }
    let memory = MemoryReactor::new();
    let reactor = memory.reactor();
    let room = ChatRoom::new();
    reactor.listen_tcp(addr("127.0.0.1:6667"), room.line_factory());
    let mut logs = Vec::new();
    for name in ["ann", "ben", "cat"] {
        let heard = Rc::new(RefCell::new(Vec::new()));
        logs.push(heard.clone());
        let mut client = Some(Client { name, heard });
        reactor.connect_tcp(
            addr("127.0.0.1:6667"),
            factory(move || LineReceiver::new(client.take().unwrap())),
            Duration::from_secs(1),
        );
        memory.settle();
    }
    assert_eq!(room.len(), 3);
    assert_eq!(*logs[0].borrow(), ["ben", "cat"]);
    assert_eq!(*logs[1].borrow(), ["cat"]);
    assert!(logs[2].borrow().is_empty());
}

// ---------------------------------------------------------------------------
// LatencyProbe
// ---------------------------------------------------------------------------

/// Connects a line probe to a line echo at `127.0.0.1:7` through `memory`.
fn probe_line_echo(memory: &MemoryReactor, config: ProbeConfig) -> twine_core::protocols::ProbeReport {
    let reactor = memory.reactor();
    reactor.listen_tcp(addr("127.0.0.1:7"), factory(|| LineEcho::new(Echo)));
    let (probe, report) = LatencyProbe::new(config);
    let mut probe = Some(probe);
    reactor.connect_tcp(
        addr("127.0.0.1:7"),
        factory(move || LineReceiver::new(probe.take().expect("one connection"))),
        Duration::from_secs(1),
    );
    report
}

#[test]
fn probe_over_a_line_echo_measures_twice_the_one_way_latency() {
    let memory = MemoryReactor::new();
    memory.set_latency(Duration::from_millis(5));
    let report = probe_line_echo(&memory, ProbeConfig { count: Some(20), ..ProbeConfig::default() });
    let done = Rc::new(RefCell::new(None));
    let d = done.clone();
    report.when_done().add_callback(move |s: LatencySummary| {
        *d.borrow_mut() = Some(s);
        s
    });

    memory.advance(Duration::from_millis(99));
    assert_eq!(report.summary().received, 9, "closed loop: one probe every 10 ms");
    assert!(done.borrow().is_none());
    memory.advance(Duration::from_millis(101));

    let summary = done.borrow().expect("when_done fired");
    assert_eq!((summary.sent, summary.received, summary.lost, summary.unexpected), (20, 20, 0, 0));
    assert_eq!(report.samples(), vec![Duration::from_millis(10); 20]);
    let ten = Duration::from_millis(10);
    assert_eq!([summary.min, summary.mean, summary.p50, summary.p99, summary.max], [ten; 5]);
    // It closed its connection when done; the server side closed too.
    let client = memory.connect_attempts()[0].conn;
    assert_eq!(memory.close_requested(client), Some(CloseRequest::Close));
    memory.advance(Duration::from_millis(10));
    assert!(memory.reactor().connections().is_empty());
}

#[test]
fn open_loop_probe_keeps_sending_on_its_interval() {
    let memory = MemoryReactor::new();
    memory.set_latency(Duration::from_millis(20));
    let report = probe_line_echo(
        &memory,
        ProbeConfig { count: Some(10), interval: Some(Duration::from_millis(2)), size: 100, ..ProbeConfig::default() },
    );
    memory.advance(Duration::from_millis(19));
    let summary = report.summary();
    assert_eq!((summary.sent, summary.received), (10, 0), "all ten sent before the first echo is back");
    memory.advance(Duration::from_millis(100));
    let summary = report.summary();
    assert_eq!((summary.sent, summary.received, summary.lost), (10, 10, 0));
    assert_eq!(summary.max, Duration::from_millis(40));
    assert!(report.is_done());
}

#[test]
fn probe_counts_lost_and_unexpected_echoes_and_gives_up_after_its_timeout() {
    /// Echoes every other line, and answers the third with garbage.
    #[derive(Default)]
    struct Flaky(u32);
    impl Protocol for Flaky {
        fn message_received(&mut self, t: &Transport, m: Message) {
            self.0 += 1;
            match self.0 {
                3 => t.send("garbage"),
                n if n % 2 == 1 => t.send(m),
                _ => {}
            }
        }
    }
    let memory = MemoryReactor::new();
    let reactor = memory.reactor();
    reactor.listen_tcp(addr("127.0.0.1:7"), factory(|| LineReceiver::new(Flaky::default())));
    let config = ProbeConfig {
        count: Some(6),
        interval: Some(Duration::from_millis(1)),
        timeout: Duration::from_secs(2),
        ..ProbeConfig::default()
    };
    let (probe, report) = LatencyProbe::new(config);
    let mut probe = Some(probe);
    reactor.connect_tcp(
        addr("127.0.0.1:7"),
        factory(move || LineReceiver::new(probe.take().unwrap())),
        Duration::from_secs(1),
    );
    memory.advance(Duration::from_millis(1500));
    assert!(!report.is_done(), "still waiting for echoes");
    memory.advance(Duration::from_secs(1));
    assert!(report.is_done());
    let s = report.summary();
    assert_eq!((s.sent, s.received, s.lost, s.unexpected), (6, 2, 4, 1));
}

#[test]
fn probe_runs_over_a_message_connection_too() {
    let clock_step = Duration::from_millis(3);
    let memory = MemoryReactor::new();
    let (probe, report) = LatencyProbe::new(ProbeConfig { count: Some(3), ..ProbeConfig::default() });
    let ws = memory.open_connection(probe, ConnectionKind::Message);
    // The test is the echo server on the other end of the WebSocket.
    for _ in 0..3 {
        let sent = memory.take_messages(ws);
        assert_eq!(sent.len(), 1);
        assert!(sent[0].is_text() && sent[0].as_text().unwrap().starts_with("probe "));
        memory.advance(clock_step);
        memory.deliver_message(ws, sent[0].clone());
    }
    assert!(report.is_done());
    assert_eq!(report.samples(), vec![clock_step; 3]);
    assert_eq!(memory.close_requested(ws), Some(CloseRequest::Close));
}

#[test]
fn probe_stopped_early_or_cut_off_reports_what_it_has() {
    let memory = MemoryReactor::new();
    memory.set_latency(Duration::from_millis(1));
    let report = probe_line_echo(&memory, ProbeConfig { count: None, ..ProbeConfig::default() });
    memory.advance(Duration::from_millis(21));
    report.stop();
    let s = report.summary();
    assert_eq!((s.sent, s.received, s.lost), (11, 10, 1));
    assert!(report.is_done());

    let memory = MemoryReactor::new();
    let report = probe_line_echo(&memory, ProbeConfig { count: Some(5), ..ProbeConfig::default() });
    let server = memory.peer_of(memory.connect_attempts()[0].conn).unwrap();
    memory.lose(server, Failure::new(FailureKind::ConnectionLost, "server crashed"));
    assert!(report.is_done(), "a lost connection ends the probe");
}

// ---------------------------------------------------------------------------
// ReconnectingClientFactory, driven by hand on a task::Clock
// ---------------------------------------------------------------------------

/// Plays a driver on `clock` that refuses every connection attempt; returns
/// the times of the attempts made until `until`.
fn refuse_all(clock: &Clock, until: Duration) -> Vec<f64> {
    let mut attempts = Vec::new();
    let step = Duration::from_millis(1);
    while clock.seconds() < Time::ZERO + until {
        while let Some(effect) = clock.driver().poll_effect() {
            if let Effect::Connect { conn, .. } = effect {
                attempts.push(clock.seconds().as_secs_f64());
                clock.driver().handle_connect_failed(
                    clock.seconds(),
                    conn,
                    Failure::new(FailureKind::ConnectionRefused, "refused"),
                );
            }
        }
        clock.advance(step);
    }
    attempts
}

#[test]
fn backoff_grows_by_the_factor_up_to_the_cap_and_stops_at_max_retries() {
    let clock = Clock::new();
    let reactor = clock.reactor();
    let backoff = Backoff::new()
        .with_initial_delay(Duration::from_secs(1))
        .with_factor(2.0)
        .with_jitter(0.0)
        .with_max_delay(Duration::from_secs(10))
        .with_max_retries(Some(6));
    let factory = ReconnectingClientFactory::new(&reactor, || Echo).with_backoff(backoff);
    reactor.connect_tcp(addr("127.0.0.1:9"), factory.clone(), Duration::from_secs(1));
    let attempts = refuse_all(&clock, Duration::from_secs(120));
    assert_eq!(attempts, [0.0, 2.0, 6.0, 14.0, 24.0, 34.0, 44.0]);
    assert!(!factory.retry_pending());
}

#[test]
fn twisted_default_backoff_is_jittered_around_powers_of_e_and_reproducible() {
    let run = || {
        let clock = Clock::new();
        let reactor = clock.reactor();
        let factory = ReconnectingClientFactory::new(&reactor, || Echo)
            .with_backoff(Backoff::new().with_max_retries(Some(5)).with_seed(42));
        reactor.connect_tcp(addr("127.0.0.1:9"), factory, Duration::from_secs(1));
        refuse_all(&clock, Duration::from_secs(600))
    };
    let attempts = run();
    assert_eq!(attempts.len(), 6);
    assert_eq!(attempts, run(), "same seed, same schedule");
    let gaps: Vec<f64> = attempts.windows(2).map(|w| w[1] - w[0]).collect();
    // Each gap is the previous one times e, give or take the jitter (sd 12%).
    let mut centre = 1.0;
    for gap in &gaps {
        centre *= std::f64::consts::E;
        assert!((gap / centre - 1.0).abs() < 0.6, "gap {gap} far from {centre}");
        centre = *gap;
    }
    assert!(gaps.windows(2).any(|w| (w[1] / w[0] - std::f64::consts::E).abs() > 1e-3), "jitter applied: {gaps:?}");
}

#[test]
fn a_successful_connection_resets_the_delay_and_a_lost_one_retries() {
    let clock = Clock::new();
    let reactor = clock.reactor();
    let backoff = Backoff::new().with_factor(2.0).with_jitter(0.0);
    let factory = ReconnectingClientFactory::new(&reactor, || Echo).with_backoff(backoff);
    reactor.connect_tcp(addr("127.0.0.1:9"), factory.clone(), Duration::from_secs(1));
    let connect = || loop {
        match clock.driver().poll_effect() {
            Some(Effect::Connect { conn, .. }) => return conn,
            Some(_) => {}
            None => clock.advance(Duration::from_millis(100)),
        }
    };
    let refused = || Failure::new(FailureKind::ConnectionRefused, "refused");
    let conn = connect();
    clock.driver().handle_connect_failed(clock.seconds(), conn, refused());
    let conn = connect();
    clock.driver().handle_connect_failed(clock.seconds(), conn, refused());
    assert_eq!(factory.retries(), 2);
    let conn = connect();
    clock.driver().handle_connected(clock.seconds(), conn, addr("127.0.0.1:50000"));
    assert_eq!(factory.retries(), 0, "reset on connect");
    assert_eq!(factory.backoff().delay(), Duration::from_secs(1));

    let lost_at = clock.seconds();
    clock.driver().handle_closed(lost_at, conn, Failure::new(FailureKind::ConnectionLost, "reset"));
    assert!(factory.retry_pending());
    connect();
    assert_eq!(clock.seconds() - lost_at, Duration::from_secs(2), "back to the first delay");
}

#[test]
fn stop_trying_cancels_the_pending_retry_and_an_attempt_in_progress() {
    let clock = Clock::new();
    let reactor = clock.reactor();
    let factory = ReconnectingClientFactory::new(&reactor, || Echo);
    reactor.connect_tcp(addr("127.0.0.1:9"), factory.clone(), Duration::from_secs(1));
    let Some(Effect::Connect { conn, .. }) = clock.driver().poll_effect() else { panic!("no connect") };
    clock.driver().handle_connect_failed(
        clock.seconds(),
        conn,
        Failure::new(FailureKind::ConnectionRefused, "refused"),
    );
    assert!(factory.retry_pending());
    factory.stop_trying();
    assert!(!factory.retry_pending() && !factory.is_trying());
    clock.advance(Duration::from_secs(3600));
    assert!(clock.driver().poll_effect().is_none(), "no more attempts");

    // Stopping while an attempt is in progress gives it up.
    let clock = Clock::new();
    let reactor = clock.reactor();
    let factory = ReconnectingClientFactory::new(&reactor, || Echo);
    reactor.connect_tcp(addr("127.0.0.1:9"), factory.clone(), Duration::from_secs(1));
    let Some(Effect::Connect { conn, .. }) = clock.driver().poll_effect() else { panic!("no connect") };
    factory.stop_trying();
    assert!(matches!(clock.driver().poll_effect(), Some(Effect::Abort { conn: c }) if c == conn));
    clock.advance(Duration::from_secs(3600));
    assert!(clock.driver().poll_effect().is_none());
}

#[test]
fn reconnecting_client_finds_a_server_that_starts_late() {
    let memory = MemoryReactor::new();
    let reactor = memory.reactor();
    let factory = ReconnectingClientFactory::new(&reactor, || LineReceiver::new(Echo))
        .with_backoff(Backoff::new().with_factor(2.0).with_jitter(0.0));
    reactor.connect_tcp(addr("127.0.0.1:7"), factory.clone(), Duration::from_secs(1));
    memory.advance(Duration::from_secs(5)); // refused at 0, 2 (and 6 is still to come)
    let served = Rc::new(RefCell::new(0));
    let s = served.clone();
    reactor.listen_tcp(
        addr("127.0.0.1:7"),
        factory_fn(move || {
            *s.borrow_mut() += 1;
            LineEcho::new(Echo)
        }),
    );
    memory.advance(Duration::from_secs(2));
    assert_eq!(memory.connect_attempts().iter().map(|a| a.at.as_secs_f64()).collect::<Vec<_>>(), [0.0, 2.0, 6.0]);
    assert_eq!(*served.borrow(), 1);
    assert_eq!(factory.retries(), 0);
}

fn factory_fn<P: Protocol>(f: impl FnMut() -> P + 'static) -> twine_core::protocol::FnFactory {
    factory(f)
}

// ---------------------------------------------------------------------------
// A protocol that panics
// ---------------------------------------------------------------------------

/// Echoes lines, panics on `panic`, and records why its connection ended.
struct Fragile(Rc<RefCell<Vec<String>>>);

impl Protocol for Fragile {
    fn message_received(&mut self, transport: &Transport, message: Message) {
        if message.as_bytes() == b"panic" {
            panic!("cannot handle this line");
        }
        transport.send(message);
    }
    fn connection_lost(&mut self, _: &Transport, reason: &Failure) {
        self.0.borrow_mut().push(format!("{:?}: {}", reason.kind(), reason.message()));
    }
}

#[test]
fn a_panicking_protocol_drops_its_own_connection_with_the_panic_as_reason_and_the_others_carry_on() {
    let memory = MemoryReactor::new();
    let lost = Rc::new(RefCell::new(Vec::new()));
    let l = lost.clone();
    let port = memory.reactor().listen_tcp(addr("127.0.0.1:0"), factory(move || LineReceiver::new(Fragile(l.clone()))));
    let bad = memory.accept(&port).unwrap();
    let good = memory.accept(&port).unwrap();
    memory.deliver(bad, b"a\r\npanic\r\nb\r\n");
    memory.deliver(good, b"fine\r\n");
    memory.settle();
    // The line before the panic was answered; the one after it never is.
    assert_eq!(memory.written(bad), b"a\r\n");
    assert_eq!(memory.close_requested(bad), Some(CloseRequest::Abort));
    assert!(memory.is_closed(bad));
    // The protocol hears why: the panic, not the abort it caused.
    assert_eq!(*lost.borrow(), ["Panicked: cannot handle this line"]);
    assert_eq!(memory.reactor().stats().panics, 1);
    // The other client is untouched.
    assert_eq!(memory.written(good), b"fine\r\n");
    assert!(!memory.is_closed(good));
    memory.deliver(good, b"still here\r\n");
    assert_eq!(memory.written(good), b"fine\r\nstill here\r\n");
    assert_eq!(memory.reactor().connections(), [good]);
}
