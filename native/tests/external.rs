//! External message connections: a protocol on the reactor, its peer on
//! another thread, with back-pressure both ways.

mod common;

use std::sync::mpsc::{self, Sender};
use std::time::Duration;

use common::wait_until;
use twine_core::defer::{Failure, FailureKind};
use twine_core::protocol::{Message, Protocol, Transport};
use twine_core::protocols::Echo;
use twine_native::external::{MessageConnection, MessageConnectionOptions, Outgoing, RecvError};
use twine_native::{Config, ReactorThread};

const WAIT: Duration = Duration::from_secs(5);

fn server() -> ReactorThread {
    ReactorThread::spawn(Config::default(), |_| Ok(())).unwrap().0
}

fn expect_message(conn: &MessageConnection) -> Message {
    match conn.recv_timeout(WAIT) {
        Ok(Outgoing::Message(m)) => m,
        other => panic!("expected a message, got {other:?}"),
    }
}

#[test]
fn echo_keeps_order_and_message_type() {
    let server = server();
    let conn = MessageConnection::open(server.handle(), MessageConnectionOptions::default(), || Box::new(Echo));
    for i in 0..100 {
        conn.deliver(Message::text(format!("text {i}"))).unwrap();
        conn.deliver(Message::binary(vec![i as u8; i])).unwrap();
    }
    for i in 0..100 {
        assert_eq!(expect_message(&conn), Message::text(format!("text {i}")));
        assert_eq!(expect_message(&conn), Message::binary(vec![i as u8; i]));
    }
    assert!(conn.id().is_some());
    // Metrics are published as the loop goes idle: give it a moment.
    let open = || server.metrics().snapshot().connections_open;
    assert!(wait_until(WAIT, || open() == 1), "{} connections open", open());
    conn.peer_closed(None);
    assert!(conn.deliver(Message::text("late")).is_err());
    assert_eq!(conn.recv_timeout(WAIT), Err(RecvError::Closed));
}

/// Answers every message with `copies` messages of 1 KiB.
struct Flood {
    copies: usize,
    lost: Sender<FailureKind>,
}

impl Protocol for Flood {
    fn message_received(&mut self, transport: &Transport, message: Message) {
        for i in 0..self.copies {
            let mut body = vec![b'.'; 1024];
            body[..message.len().min(8)].copy_from_slice(&message.as_bytes()[..message.len().min(8)]);
            body[1023] = i as u8;
            transport.send(Message::binary(body));
        }
    }

    fn connection_lost(&mut self, _: &Transport, reason: &Failure) {
        let _ = self.lost.send(reason.kind());
    }
}

#[test]
fn a_full_outgoing_queue_pauses_reading_until_the_consumer_drains_it() {
    let server = server();
    let (lost_tx, lost) = mpsc::channel();
    let options = MessageConnectionOptions { outgoing_limit: 16 * 1024, ..MessageConnectionOptions::default() };
    let conn =
        MessageConnection::open(server.handle(), options, move || Box::new(Flood { copies: 100, lost: lost_tx }));
    assert!(conn.is_read_ready());
    conn.deliver(Message::text("first")).unwrap();

    // 100 KiB answer, 16 KiB queue: the rest waits in the driver, and the
    // protocol is told to stop, which by default pauses reading.
    assert!(wait_until(WAIT, || conn.is_reading_paused()), "reading was never paused");
    assert!(!conn.is_read_ready());
    assert!(conn.outgoing_bytes() <= 16 * 1024);
    let mut buffered = 0;
    wait_until(WAIT, || {
        buffered = server.metrics().snapshot().buffered_bytes;
        buffered > 0
    });
    assert!((80 * 1024..=100 * 1024).contains(&buffered), "driver overflow holds {buffered} bytes");

    // Draining delivers everything in order, then reading resumes.
    for i in 0..100 {
        let m = expect_message(&conn);
        assert_eq!(&m.as_bytes()[..5], b"first");
        assert_eq!(m.as_bytes()[1023], i as u8);
    }
    assert!(wait_until(WAIT, || conn.is_read_ready()), "reading never resumed");
    assert_eq!(conn.try_recv(), Err(RecvError::Empty));

    drop(conn); // dropping the last handle counts as losing the client
    assert_eq!(lost.recv_timeout(WAIT).unwrap(), FailureKind::ConnectionLost);
}

/// Echoes one message, then closes.
struct EchoOnce;

impl Protocol for EchoOnce {
    fn message_received(&mut self, transport: &Transport, message: Message) {
        transport.send(message);
        transport.lose_connection();
    }
}

#[test]
fn a_protocol_close_reaches_the_external_side_after_its_messages() {
    let server = server();
    let conn = MessageConnection::open(server.handle(), MessageConnectionOptions::default(), || Box::new(EchoOnce));
    conn.deliver(Message::text("bye")).unwrap();
    assert_eq!(expect_message(&conn), Message::text("bye"));
    assert_eq!(conn.recv_timeout(WAIT), Ok(Outgoing::Close));
    assert_eq!(conn.recv_timeout(WAIT), Err(RecvError::Closed));
    assert!(conn.deliver(Message::text("more")).is_err());
}

#[test]
fn shutdown_closes_external_connections() {
    let server = server();
    let conn = MessageConnection::open(server.handle(), MessageConnectionOptions::default(), || Box::new(Echo));
    conn.deliver(Message::text("hi")).unwrap();
    assert_eq!(expect_message(&conn), Message::text("hi"));
    server.shutdown();
    assert_eq!(conn.recv_timeout(WAIT), Ok(Outgoing::Close));
    assert!(server.join().is_clean());
    assert_eq!(conn.recv_timeout(WAIT), Err(RecvError::Closed));
}

/// Writes down which connection each message came from, in the order the
/// reactor handles them.
struct Recorder {
    name: &'static str,
    order: std::sync::Arc<std::sync::Mutex<Vec<(&'static str, String)>>>,
}

impl Protocol for Recorder {
    fn message_received(&mut self, _: &Transport, message: Message) {
        self.order.lock().unwrap().push((self.name, message.to_str().unwrap_or_default().to_owned()));
    }
}

/// A connection that delivers 10,000 messages at once does not hold the
/// reactor until they are all handled: another connection's message,
/// arriving just after, is handled within the first turn's budget.
#[test]
fn a_flood_of_small_messages_is_handled_a_budget_per_turn_behind_the_others() {
    let server = server();
    let order = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    const BUDGET: usize = 50;
    let open = |name: &'static str| {
        let order = order.clone();
        let options = MessageConnectionOptions { messages_per_turn: BUDGET, ..MessageConnectionOptions::default() };
        MessageConnection::open(server.handle(), options, move || Box::new(Recorder { name, order }))
    };
    let (flood, quiet) = (open("flood"), open("quiet"));
    // Hold the reactor while both deliver, so both calls wait in its inbox.
    let (release, held) = mpsc::channel::<()>();
    let (entered, blocked) = mpsc::channel::<()>();
    server.handle().call_from_thread(move |_| {
        entered.send(()).unwrap();
        held.recv_timeout(WAIT).unwrap();
    });
    blocked.recv_timeout(WAIT).unwrap();
    for i in 0..10_000 {
        flood.deliver_held(Message::text(format!("{i}"))).unwrap();
    }
    flood.flush_deliveries();
    quiet.deliver(Message::text("hello")).unwrap();
    release.send(()).unwrap();
    assert!(wait_until(WAIT, || order.lock().unwrap().len() == 10_001), "not every message was handled");
    let order = order.lock().unwrap();
    let quiet_at = order.iter().position(|(n, _)| *n == "quiet").unwrap();
    assert!(quiet_at <= BUDGET, "the quiet connection's message was handled after {quiet_at} of the flood's");
    // The flood's own messages kept their order across the turns.
    let flood: Vec<&str> = order.iter().filter(|(n, _)| *n == "flood").map(|(_, m)| m.as_str()).collect();
    assert!(flood.iter().enumerate().all(|(i, m)| *m == i.to_string()), "the flood's messages came out of order");
}
