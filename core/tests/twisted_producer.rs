//! Ports of Twisted's producer and consumer tests: `ProducerTests` in
//! `twisted/test/test_internet.py` (abstract.FileDescriptor's consumer
//! half), `test_streamingProducer` / `test_nonStreamingProducer` in
//! `twisted/internet/test/test_tcp.py`, `test_disconnectWhileProducing`
//! / `test_unregisterProducerAfterDisconnect` in
//! `twisted/internet/test/connectionmixins.py`, `StringTransportTests.test_loseConnection`
//! in `twisted/test/test_stringtransport.py`, and `IOPumpTests`'
//! streaming producer tests in `twisted/test/test_iosim.py`. Each test names
//! the Twisted test it ports and asserts what that test asserts.
//!
//! Twisted's `SillyDescriptor` (a buffer of 3 bytes whose `doWrite` sends
//! everything) is a [`StringTransport`] with a write buffer size of 3 and
//! [`StringTransport::write_drained`] as `doWrite`; a real reactor's
//! sending is the [`MemoryReactor`]'s `write_drained`, which is what a
//! driver reports when a socket's send buffer empties.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use twine_core::defer::{Failure, FailureKind};
use twine_core::protocol::{ConnectionKind, Producer, ProducerAlreadyRegistered, Protocol, Transport};
use twine_core::reactor::{Effect, WaterMark};
use twine_core::testing::{CloseRequest, MemoryReactor, StringTransport};

/// Twisted's `DummyProducer`: records what it was asked.
#[derive(Default)]
struct DummyProducer {
    events: RefCell<Vec<&'static str>>,
}

impl DummyProducer {
    fn take(&self) -> Vec<&'static str> {
        std::mem::take(&mut *self.events.borrow_mut())
    }
}

impl Producer for DummyProducer {
    fn resume_producing(&self) {
        self.events.borrow_mut().push("resume");
    }
    fn pause_producing(&self) {
        self.events.borrow_mut().push("pause");
    }
    fn stop_producing(&self) {
        self.events.borrow_mut().push("stop");
    }
}

/// Twisted's `SillyDescriptor`: a transport whose buffer holds 3 bytes.
fn silly_descriptor() -> StringTransport {
    let t = StringTransport::new();
    t.transport().set_write_buffer_size(3);
    t
}

/// Ports `ProducerTests.test_doubleProducer`: registering a pull producer
/// resumes it, and only one producer may be registered at a time.
#[test]
fn test_double_producer() {
    let t = StringTransport::new();
    let dp = Rc::new(DummyProducer::default());
    t.transport().register_producer(dp.clone(), false).unwrap();
    assert_eq!(dp.take(), ["resume"]);
    assert_eq!(
        t.transport().register_producer(Rc::new(DummyProducer::default()), false),
        Err(ProducerAlreadyRegistered)
    );
}

/// Ports `ProducerTests.test_unconnectedFileDescriptor`: a producer
/// registered on a transport whose connection is gone is stopped.
#[test]
fn test_unconnected_file_descriptor() {
    let t = StringTransport::new();
    t.driver().handle_closed(
        t.reactor().seconds(),
        t.transport().id(),
        Failure::new(FailureKind::ConnectionDone, "closed"),
    );
    let dp = Rc::new(DummyProducer::default());
    t.transport().register_producer(dp.clone(), false).unwrap();
    assert_eq!(dp.take(), ["stop"]);
    assert!(!t.transport().has_producer());
}

/// `ProducerTests._dontPausePullConsumerTest`.
fn dont_pause_pull_consumer(write: impl FnOnce(&Transport)) {
    let descriptor = silly_descriptor();
    let producer = Rc::new(DummyProducer::default());
    descriptor.transport().register_producer(producer.clone(), false).unwrap();
    assert_eq!(producer.take(), ["resume"]);
    // Fill up the buffer: a pull producer is not paused.
    write(descriptor.transport());
    assert_eq!(producer.take(), Vec::<&str>::new());
    assert_eq!(descriptor.value(), b"1234");
}

/// Ports `ProducerTests.test_dontPausePullConsumerOnWrite` (Twisted #2286).
#[test]
fn test_dont_pause_pull_consumer_on_write() {
    dont_pause_pull_consumer(|t| t.write(b"1234"));
}

/// Ports `ProducerTests.test_dontPausePullConsumerOnWriteSequence`.
#[test]
fn test_dont_pause_pull_consumer_on_write_sequence() {
    dont_pause_pull_consumer(|t| t.write_sequence([&b"1"[..], b"2", b"3", b"4"]));
}

/// Twisted's `ReentrantProducer`: writes to its consumer from `resumeProducing`.
struct ReentrantProducer {
    events: DummyProducer,
    consumer: Transport,
    sequence: bool,
}

impl ReentrantProducer {
    fn write(&self) {
        if self.sequence {
            self.consumer.write_sequence([&b"s"[..], b"p", b"am"]);
        } else {
            self.consumer.write(b"spam");
        }
    }
}

impl Producer for ReentrantProducer {
    fn resume_producing(&self) {
        self.events.resume_producing();
        self.write();
    }
    fn pause_producing(&self) {
        self.events.pause_producing();
    }
    fn stop_producing(&self) {
        self.events.stop_producing();
    }
}

/// `ProducerTests._reentrantStreamingProducerTest`: the transport keeps
/// track of its streaming producer's paused state when the producer writes
/// from inside `resume_producing` (Twisted #811).
fn reentrant_streaming_producer(sequence: bool) {
    let descriptor = silly_descriptor();
    let producer = Rc::new(ReentrantProducer {
        events: DummyProducer::default(),
        consumer: descriptor.transport().clone(),
        sequence,
    });
    descriptor.transport().register_producer(producer.clone(), true).unwrap();
    // Start things off by filling up the buffer, so it pauses its producer.
    producer.write();
    assert_eq!(producer.events.take(), ["pause"]);
    // The buffer empties: resumed, the producer writes again, and is paused again.
    descriptor.write_drained();
    assert_eq!(producer.events.take(), ["resume", "pause"]);
    // The same again: the transport did not think it already resumed.
    descriptor.write_drained();
    assert_eq!(producer.events.take(), ["resume", "pause"]);
    assert_eq!(descriptor.value(), b"spamspamspam");
}

/// Ports `ProducerTests.test_reentrantStreamingProducerUsingWrite`.
#[test]
fn test_reentrant_streaming_producer_using_write() {
    reentrant_streaming_producer(false);
}

/// Ports `ProducerTests.test_reentrantStreamingProducerUsingWriteSequence`.
#[test]
fn test_reentrant_streaming_producer_using_write_sequence() {
    reentrant_streaming_producer(true);
}

struct Idle;
impl Protocol for Idle {}

/// A connection in a memory reactor and its transport.
fn connected(memory: &MemoryReactor) -> (twine_core::protocol::ConnectionId, Transport) {
    let conn = memory.open_connection(Idle, ConnectionKind::Stream);
    let transport = memory.reactor().transport(conn).unwrap();
    (conn, transport)
}

/// Ports `test_tcp.py`'s `test_streamingProducer`: `write_sequence` pauses
/// the streaming producer when too much is buffered, and it is resumed once
/// the send buffer empties. (Its `resumeProducing` unregisters itself and
/// loses the connection, so the test can end.)
#[test]
fn test_streaming_producer() {
    struct SaveActionProducer {
        actions: RefCell<Vec<&'static str>>,
        client: Transport,
    }
    impl Producer for SaveActionProducer {
        fn pause_producing(&self) {
            self.actions.borrow_mut().push("pause");
        }
        fn resume_producing(&self) {
            self.actions.borrow_mut().push("resume");
            self.client.unregister_producer();
            self.client.lose_connection();
        }
        fn stop_producing(&self) {
            self.actions.borrow_mut().push("stop");
        }
    }

    let memory = MemoryReactor::new();
    let (conn, client) = connected(&memory);
    let producer = Rc::new(SaveActionProducer { actions: RefCell::default(), client: client.clone() });
    client.register_producer(producer.clone(), true).unwrap();
    assert!(producer.actions.borrow().is_empty());
    client.set_write_buffer_size(500);
    let chunk = [b'x'; 50];
    client.write_sequence(std::iter::repeat_n(&chunk[..], 20));
    assert_eq!(*producer.actions.borrow(), ["pause"]);

    memory.write_drained(conn); // the send buffer got a chance to empty out
    assert_eq!(*producer.actions.borrow(), ["pause", "resume"]);
    assert_eq!(memory.take_written(conn).len(), 1000);
    assert_eq!(memory.close_requested(conn), Some(CloseRequest::Close));
}

/// Ports `test_tcp.py`'s `test_nonStreamingProducer`: a pull producer is
/// resumed when registered and again when the send buffer empties, and is
/// never paused however much it writes.
#[test]
fn test_non_streaming_producer() {
    struct SaveActionProducer {
        actions: RefCell<Vec<&'static str>>,
        client: Transport,
    }
    impl Producer for SaveActionProducer {
        fn resume_producing(&self) {
            self.actions.borrow_mut().push("resume");
            if self.actions.borrow().iter().filter(|a| **a == "resume").count() == 2 {
                self.client.stop_consuming();
            } else {
                self.client.set_write_buffer_size(500);
                let chunk = [b'x'; 50];
                self.client.write_sequence(std::iter::repeat_n(&chunk[..], 20));
            }
        }
        fn pause_producing(&self) {
            self.actions.borrow_mut().push("pause");
        }
        fn stop_producing(&self) {
            self.actions.borrow_mut().push("stop");
        }
    }

    let memory = MemoryReactor::new();
    let (conn, client) = connected(&memory);
    let producer = Rc::new(SaveActionProducer { actions: RefCell::default(), client: client.clone() });
    client.register_producer(producer.clone(), false).unwrap();
    assert_eq!(*producer.actions.borrow(), ["resume"]);
    memory.write_drained(conn);
    assert_eq!(*producer.actions.borrow(), ["resume", "resume"]);
    assert!(!client.has_producer(), "stop_consuming unregistered it");
    assert_eq!(memory.close_requested(conn), Some(CloseRequest::Close));
}

/// Ports `connectionmixins.py`'s `test_disconnectWhileProducing`: a
/// `lose_connection` while a producer is registered closes the connection
/// only once the producer is unregistered, however many turns later.
#[test]
fn test_disconnect_while_producing() {
    struct Quiet;
    impl Producer for Quiet {
        fn resume_producing(&self) {}
        fn stop_producing(&self) {}
    }

    let memory = MemoryReactor::new();
    let (conn, client) = connected(&memory);
    client.register_producer(Rc::new(Quiet), false).unwrap();
    client.lose_connection();
    let c = client.clone();
    memory.reactor().call_later(Duration::from_millis(1), move |_| c.unregister_producer());
    memory.advance(Duration::ZERO);
    assert_eq!(memory.close_requested(conn), None, "held back while the producer is registered");
    assert!(client.is_disconnecting());
    memory.advance(Duration::from_millis(1));
    assert_eq!(memory.close_requested(conn), Some(CloseRequest::Close));
}

/// Ports `StringTransportTests.test_loseConnection`
/// (`twisted/test/test_stringtransport.py`): `loseConnection` makes
/// `disconnecting` true at once. Here a producer is registered, as in
/// `test_disconnectWhileProducing`: the close is held back, but the flag is
/// not (Twisted's `FileDescriptor.loseConnection` sets `disconnecting`
/// before the producer lets the close through).
#[test]
fn test_lose_connection_sets_disconnecting_while_a_producer_holds_the_close() {
    let t = StringTransport::new();
    let dp = Rc::new(DummyProducer::default());
    t.transport().register_producer(dp, true).unwrap();
    assert!(!t.disconnecting());
    t.transport().lose_connection();
    assert!(t.disconnecting(), "disconnecting at once");
    assert!(t.transport().is_disconnecting());
    t.transport().write(b"last words");
    assert_eq!(t.value(), b"last words", "the producer may still write");
    t.transport().unregister_producer();
    assert!(t.disconnecting());
    assert!(!t.aborted());
}

/// Ports `connectionmixins.py`'s `test_unregisterProducerAfterDisconnect`:
/// a producer unregistered after the peer closed the connection (and after
/// `lose_connection`) does not make the transport ask to write or close
/// again.
#[test]
fn test_unregister_producer_after_disconnect() {
    #[derive(Default)]
    struct ClientProtocol {
        lost: Rc<Cell<bool>>,
    }
    impl Protocol for ClientProtocol {
        fn connection_made(&mut self, transport: &Transport) {
            transport.register_producer(Rc::new(DummyProducer::default()), false).unwrap();
            transport.lose_connection();
        }
        fn connection_lost(&mut self, transport: &Transport, _reason: &Failure) {
            transport.unregister_producer();
            self.lost.set(true);
        }
    }

    let memory = MemoryReactor::new();
    let lost = Rc::new(Cell::new(false));
    let conn = memory.open_connection(ClientProtocol { lost: lost.clone() }, ConnectionKind::Stream);
    memory.take_effects();
    memory.lose(conn, Failure::new(FailureKind::ConnectionLost, "the server closed it"));
    assert!(lost.get());
    let after: Vec<Effect> = memory.take_effects();
    assert!(
        !after.iter().any(|e| matches!(e, Effect::Close { .. } | Effect::Write { .. })),
        "the transport was writing after unregister_producer: {after:?}"
    );
}

/// Beyond the ports: the driver's water marks go to a registered streaming
/// producer instead of the protocol (which otherwise pauses reading), and
/// the connection's loss stops it, before the protocol hears of the loss.
#[test]
fn water_marks_pause_and_resume_a_streaming_producer_and_loss_stops_it() {
    let memory = MemoryReactor::new();
    let (conn, transport) = connected(&memory);
    let producer = Rc::new(DummyProducer::default());
    transport.register_producer(producer.clone(), true).unwrap();
    memory.write_buffer(conn, WaterMark::High);
    assert_eq!(producer.take(), ["pause"]);
    assert!(!memory.reading_paused(conn), "the producer was paused, not the protocol's reading");
    memory.write_buffer(conn, WaterMark::Low);
    assert_eq!(producer.take(), ["resume"]);
    memory.write_buffer(conn, WaterMark::Low);
    assert_eq!(producer.take(), Vec::<&str>::new(), "not resumed twice");
    memory.lose(conn, Failure::new(FailureKind::ConnectionDone, "closed"));
    assert_eq!(producer.take(), ["stop"]);
    assert!(!transport.has_producer());
}

/// Twisted's `iosim.StrictPushProducer`: fails on any call its state does
/// not allow (resuming a running producer, pausing a paused one, anything
/// after a stop).
#[derive(Default)]
struct StrictPushProducer {
    state: Cell<&'static str>,
}

impl StrictPushProducer {
    fn state(&self) -> &'static str {
        match self.state.get() {
            "" => "running",
            state => state,
        }
    }
}

impl Producer for StrictPushProducer {
    fn resume_producing(&self) {
        assert_eq!(self.state(), "paused", "resume_producing on a producer that is {}", self.state());
        self.state.set("running");
    }
    fn pause_producing(&self) {
        assert_eq!(self.state(), "running", "pause_producing on a producer that is {}", self.state());
        self.state.set("paused");
    }
    fn stop_producing(&self) {
        assert_ne!(self.state(), "stopped", "stop_producing twice");
        self.state.set("stopped");
    }
}

/// `IOPumpTests._testStreamingProducer`: pumping data both ways does not
/// make the transport call a streaming producer that was never paused.
fn streaming_producer_through_a_pump(server: bool) {
    let memory = MemoryReactor::new();
    let port = memory.reactor().listen_tcp("127.0.0.1:0".parse().unwrap(), twine_core::protocol::factory(|| Idle));
    let accepted = memory.accept(&port).unwrap();
    let (dialed, _) = connected(&memory);
    let victim = if server { accepted } else { dialed };
    let transport = memory.reactor().transport(victim).unwrap();
    let producer = Rc::new(StrictPushProducer::default());
    transport.register_producer(producer.clone(), true).unwrap();
    // The pump: bytes each way, and the send buffers emptying.
    for conn in [accepted, dialed] {
        memory.reactor().transport(conn).unwrap().write(b"greeting");
        memory.deliver(conn, b"hello");
        memory.write_drained(conn);
    }
    assert_eq!(producer.state(), "running");
}

/// Ports `IOPumpTests.test_serverStreamingProducer`.
#[test]
fn test_server_streaming_producer() {
    streaming_producer_through_a_pump(true);
}

/// Ports `IOPumpTests.test_clientStreamingProducer`.
#[test]
fn test_client_streaming_producer() {
    streaming_producer_through_a_pump(false);
}
