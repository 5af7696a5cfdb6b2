//! The framing receivers against the Twisted behaviour they mirror
//! (twisted/protocols/test/test_basic.py, ported where it applies).

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use twine_core::defer::{Failure, FailureKind};
use twine_core::protocol::{ConnectionKind, Message, Protocol, Transport};
use twine_core::protocols::basic::{
    FramingError, Int16StringReceiver, Int32StringReceiver, Int8StringReceiver, LineMode, LineOnlyReceiver,
    LineReceiver, NetstringReceiver,
};
use twine_core::testing::{chunks, feed_chunked, MemoryReactor, StringTransport};
use twine_core::trace::{Recorder, TraceEvent};

/// Records every message (line or string) it gets.
#[derive(Default)]
struct Collect {
    received: Vec<Vec<u8>>,
    lost: Option<Failure>,
}

impl Protocol for Collect {
    fn message_received(&mut self, _: &Transport, message: Message) {
        self.received.push(message.as_bytes().to_vec());
    }
    fn connection_lost(&mut self, _: &Transport, reason: &Failure) {
        self.lost = Some(reason.clone());
    }
}

/// Lines recorded by a protocol the reactor (or a receiver) owns.
type Shared = Rc<RefCell<Vec<Vec<u8>>>>;

fn lines(items: &[&[u8]]) -> Vec<Vec<u8>> {
    items.iter().map(|l| l.to_vec()).collect()
}

/// Twisted's `LineTester`: acts on some lines. `received` is shared so the
/// test can read it while the reactor owns the protocol.
struct LineTester {
    received: Rc<RefCell<Vec<Vec<u8>>>>,
    length: usize,
}

impl LineTester {
    fn new() -> (LineTester, Shared) {
        let received = Rc::new(RefCell::new(Vec::new()));
        (LineTester { received: received.clone(), length: 0 }, received)
    }

    /// `delimiter = b"\n"`, `MAX_LENGTH = 64`, and its `lineLengthExceeded`.
    fn receiver() -> (LineReceiver<LineTester>, Shared) {
        let (tester, received) = LineTester::new();
        let receiver = LineReceiver::new(tester).with_delimiter(b"\n").with_max_length(64).on_line_length_exceeded(
            |_, transport, line| {
                if line.len() > 64 + 1 {
                    transport.set_line_mode_with(&line[64 + 1..]);
                }
            },
        );
        (receiver, received)
    }
}

impl Protocol for LineTester {
    fn message_received(&mut self, transport: &Transport, line: Message) {
        let line = line.as_bytes();
        self.received.borrow_mut().push(line.to_vec());
        let resume_later = |transport: &Transport| {
            let t = transport.clone();
            transport.reactor().unwrap().call_later(Duration::from_millis(1), move |_| t.resume_producing());
        };
        if line.is_empty() {
            transport.set_raw_mode();
        } else if line == b"pause" {
            transport.pause_producing();
            resume_later(transport);
        } else if line == b"rawpause" {
            transport.pause_producing();
            transport.set_raw_mode();
            self.received.borrow_mut().push(Vec::new());
            resume_later(transport);
        } else if line == b"stop" {
            transport.lose_connection();
        } else if let Some(n) = line.strip_prefix(b"len ") {
            self.length = std::str::from_utf8(n).unwrap().parse().unwrap();
        }
    }

    fn data_received(&mut self, transport: &Transport, data: &[u8]) {
        let take = data.len().min(self.length);
        let (data, rest) = data.split_at(take);
        self.length -= take;
        self.received.borrow_mut().last_mut().unwrap().extend_from_slice(data);
        if self.length == 0 {
            transport.set_line_mode_with(rest);
        }
    }
}

/// Feeds `data` in packets of `size`, as Twisted's tests do.
fn packets(data: &[u8], size: usize) -> impl Iterator<Item = &[u8]> {
    chunks(data, std::iter::repeat(size))
}

// ---------------------------------------------------------------------------
// LineReceiver
// ---------------------------------------------------------------------------

const TWISTED_BUFFER: &[u8] = b"len 10\n\n0123456789len 5\n\n1234\nlen 20\nfoo 123\n\n0123456789\n012345678len 0\nfoo 5\n\n1234567890123456789012345678901234567890123456789012345678901234567890\nlen 1\n\na";

#[test]
fn line_receiver_passes_twisted_test_buffer_for_every_packet_size() {
    let expected = lines(&[
        b"len 10",
        b"0123456789",
        b"len 5",
        b"1234\n",
        b"len 20",
        b"foo 123",
        b"0123456789\n012345678",
        b"len 0",
        b"foo 5",
        b"",
        b"67890",
        b"len 1",
        b"a",
    ]);
    for size in 1..=TWISTED_BUFFER.len() {
        let t = StringTransport::new();
        let (mut receiver, received) = LineTester::receiver();
        t.make_connection(&mut receiver);
        for packet in packets(TWISTED_BUFFER, size) {
            receiver.data_received(t.transport(), packet);
        }
        assert_eq!(*received.borrow(), expected, "packet size {size}");
        assert!(!t.disconnecting());
    }
}

#[test]
fn pausing_inside_a_line_holds_the_rest_until_resumed() {
    let buf = b"twiddle1\ntwiddle2\npause\ntwiddle3\n";
    let first = lines(&[b"twiddle1", b"twiddle2", b"pause"]);
    // Large packets leave everything in the receiver's buffer: only the wake
    // on resume can deliver it.
    for size in 1..=buf.len() {
        let memory = MemoryReactor::new();
        let (receiver, received) = LineTester::receiver();
        let conn = memory.open_connection(receiver, ConnectionKind::Stream);
        for packet in packets(buf, size) {
            memory.deliver(conn, packet);
        }
        assert_eq!(*received.borrow(), first, "packet size {size}");
        assert!(memory.reading_paused(conn));
        memory.advance(Duration::from_millis(1));
        let mut all = first.clone();
        all.push(b"twiddle3".to_vec());
        assert_eq!(*received.borrow(), all, "packet size {size}");
    }
}

#[test]
fn pausing_holds_data_the_receiver_already_has_even_if_more_arrives() {
    // The driver may still deliver what it had read; the receiver keeps it.
    let t = StringTransport::new();
    let (mut receiver, received) = LineTester::receiver();
    t.make_connection(&mut receiver);
    receiver.data_received(t.transport(), b"a\npause\nb\n");
    receiver.data_received(t.transport(), b"c\n");
    assert_eq!(*received.borrow(), lines(&[b"a", b"pause"]));
    assert_eq!(receiver.buffered(), b"b\nc\n");
    assert!(t.reading_paused());
    t.transport().resume_producing();
    receiver.resume_producing(t.transport());
    assert_eq!(*received.borrow(), lines(&[b"a", b"pause", b"b", b"c"]));
}

#[test]
fn pausing_in_raw_mode_holds_raw_data_until_resumed() {
    let buf = b"twiddle1\ntwiddle2\nlen 5\nrawpause\n12345twiddle3\n";
    let first = lines(&[b"twiddle1", b"twiddle2", b"len 5", b"rawpause", b""]);
    let second = lines(&[b"twiddle1", b"twiddle2", b"len 5", b"rawpause", b"12345", b"twiddle3"]);
    for size in 1..=buf.len() {
        let memory = MemoryReactor::new();
        let (receiver, received) = LineTester::receiver();
        let conn = memory.open_connection(receiver, ConnectionKind::Stream);
        for packet in packets(buf, size) {
            memory.deliver(conn, packet);
        }
        assert_eq!(*received.borrow(), first, "packet size {size}");
        memory.advance(Duration::from_millis(1));
        assert_eq!(*received.borrow(), second, "packet size {size}");
    }
}

#[test]
fn a_pause_and_resume_inside_one_line_needs_no_wake() {
    struct Blip;
    impl Protocol for Blip {
        fn message_received(&mut self, transport: &Transport, line: Message) {
            transport.pause_producing();
            transport.resume_producing();
            transport.send(line);
        }
    }
    let memory = MemoryReactor::new();
    let recorder = Recorder::new();
    memory.reactor().set_trace_sink(recorder.clone());
    let conn = memory.open_connection(LineReceiver::new(Blip), ConnectionKind::Stream);
    memory.deliver(conn, b"a\r\nb\r\n");
    assert_eq!(memory.written(conn), b"a\r\nb\r\n");
    let empty_reads =
        recorder.events().iter().filter(|r| r.event == TraceEvent::BytesIn { conn: conn.0, n: 0 }).count();
    assert_eq!(empty_reads, 0, "the receiver saw the resume itself");
}

#[test]
fn no_line_is_delivered_after_the_protocol_closes_the_connection() {
    let buf = b"twiddle1\ntwiddle2\nstop\nmore\nstuff\n";
    for size in 1..10 {
        let t = StringTransport::new();
        let (mut receiver, received) = LineTester::receiver();
        t.make_connection(&mut receiver);
        feed_chunked(&mut receiver, t.transport(), buf, std::iter::repeat(size));
        assert_eq!(*received.borrow(), lines(&[b"twiddle1", b"twiddle2", b"stop"]), "packet size {size}");
        assert!(t.disconnecting());
    }
}

#[test]
fn clear_line_buffer_from_inside_a_line_discards_the_rest_of_the_chunk() {
    struct Clearing(Vec<Vec<u8>>);
    impl Protocol for Clearing {
        fn message_received(&mut self, transport: &Transport, line: Message) {
            self.0.push(line.as_bytes().to_vec());
            transport.clear_line_buffer();
        }
    }
    let t = StringTransport::new();
    let mut receiver = LineReceiver::new(Clearing(Vec::new()));
    t.make_connection(&mut receiver);
    receiver.data_received(t.transport(), b"foo\r\nbar\r\nbaz");
    assert_eq!(receiver.inner().0, lines(&[b"foo"]));
    assert!(receiver.buffered().is_empty());
    receiver.data_received(t.transport(), b"quux\r\n");
    assert_eq!(receiver.inner().0, lines(&[b"foo", b"quux"]));
}

#[test]
fn clear_line_buffer_on_the_receiver_returns_what_was_buffered() {
    let t = StringTransport::new();
    let mut receiver = LineReceiver::new(Collect::default());
    t.make_connection(&mut receiver);
    receiver.data_received(t.transport(), b"foo\r\nbar\r");
    assert_eq!(receiver.clear_line_buffer(), &b"bar\r"[..]);
    // The partial delimiter went with it: "\n" alone is not the end of "bar".
    receiver.data_received(t.transport(), b"\nquux\r\n");
    assert_eq!(receiver.inner().received, lines(&[b"foo", b"\nquux"]));
}

#[test]
fn switching_modes_thousands_of_times_in_one_chunk_does_not_recurse() {
    /// Twisted's `FlippingLineTester`: raw after each line, back after one byte.
    struct Flipping(Vec<u8>);
    impl Protocol for Flipping {
        fn message_received(&mut self, transport: &Transport, line: Message) {
            self.0.extend_from_slice(line.as_bytes());
            transport.set_raw_mode();
        }
        fn data_received(&mut self, transport: &Transport, data: &[u8]) {
            transport.set_line_mode_with(&data[1..]);
        }
    }
    let limit = 3000;
    let t = StringTransport::new();
    let mut receiver = LineReceiver::new(Flipping(Vec::new())).with_delimiter(b"\n");
    t.make_connection(&mut receiver);
    receiver.data_received(t.transport(), &b"x\nx".repeat(limit));
    assert_eq!(receiver.inner().0, vec![b'x'; limit]);
}

#[test]
fn a_line_of_exactly_max_length_passes_and_one_more_byte_drops_the_connection() {
    for max in [1, 4, 16384] {
        let t = StringTransport::new();
        let mut receiver = LineReceiver::new(Collect::default()).with_max_length(max);
        t.make_connection(&mut receiver);
        let exact = vec![b'x'; max];
        receiver.data_received(t.transport(), &[&exact[..], b"\r\n"].concat());
        assert_eq!(receiver.inner().received, std::slice::from_ref(&exact));
        assert!(!t.disconnecting());

        let over = vec![b'y'; max + 1];
        receiver.data_received(t.transport(), &[&over[..], b"\r\nr"].concat());
        assert_eq!(receiver.inner().received, [exact], "the long line is not delivered");
        assert!(t.disconnecting());
        assert_eq!(receiver.error(), Some(&FramingError::LineTooLong { length: max + 1, max_length: max }));
    }
}

#[test]
fn default_max_length_is_twisteds_16384() {
    let t = StringTransport::new();
    let mut receiver = LineReceiver::new(Collect::default());
    t.make_connection(&mut receiver);
    receiver.data_received(t.transport(), &[vec![b'x'; 16384], b"\r\n".to_vec()].concat());
    assert_eq!(receiver.inner().received.len(), 1);
    receiver.data_received(t.transport(), &vec![b'x'; 16385]);
    assert!(!t.disconnecting(), "16385 bytes could still be 16384 and a partial delimiter");
    receiver.data_received(t.transport(), b"x");
    assert!(t.disconnecting(), "16386 bytes without a delimiter cannot be a valid line");
}

#[test]
fn partial_delimiter_at_the_limit_is_not_mistaken_for_a_long_line() {
    // test_maximumLineLengthPartialDelimiter and test_notQuiteMaximumLineLengthUnfinished.
    let t = StringTransport::new();
    let mut receiver = LineReceiver::new(Collect::default()).with_max_length(4);
    t.make_connection(&mut receiver);
    receiver.data_received(t.transport(), b"xxx");
    receiver.data_received(t.transport(), b"\r");
    receiver.data_received(t.transport(), b"\nxxx");
    assert!(!t.disconnecting());
    assert_eq!(receiver.inner().received, lines(&[b"xxx"]));

    let t = StringTransport::new();
    let mut receiver = LineReceiver::new(Collect::default()).with_max_length(4);
    t.make_connection(&mut receiver);
    receiver.data_received(t.transport(), b"xxxx\r");
    assert!(!t.disconnecting());
    receiver.data_received(t.transport(), b"\n");
    assert_eq!(receiver.inner().received, lines(&[b"xxxx"]));
}

/// Twisted's `ExcessivelyLargeLineCatcher` with `MAX_LENGTH = 6`.
fn catcher() -> (StringTransport, LineReceiver<Collect>, Shared) {
    let long_lines = Rc::new(RefCell::new(Vec::new()));
    let l = long_lines.clone();
    let t = StringTransport::new();
    let mut receiver = LineReceiver::new(Collect::default())
        .with_max_length(6)
        .on_line_length_exceeded(move |_, _, data| l.borrow_mut().push(data.to_vec()));
    t.make_connection(&mut receiver);
    (t, receiver, long_lines)
}

#[test]
fn line_length_exceeded_gets_the_whole_buffer_from_the_long_line_on() {
    let excessive = vec![b'x'; 6 * 2 + 2];
    // A long line with no delimiter.
    let (t, mut r, long) = catcher();
    r.data_received(t.transport(), &excessive);
    assert_eq!(*long.borrow(), std::slice::from_ref(&excessive));
    // After a short line.
    let (t, mut r, long) = catcher();
    r.data_received(t.transport(), &[b"x\r\n", &excessive[..]].concat());
    assert_eq!(*long.borrow(), std::slice::from_ref(&excessive));
    assert_eq!(r.inner().received, lines(&[b"x"]));
    // With a delimiter after the limit, and several long lines.
    for data in [[&excessive[..], b"\r\n", &excessive[..]].concat(), [&excessive[..], b"\r\n"].concat().repeat(2)] {
        let (t, mut r, long) = catcher();
        r.data_received(t.transport(), &data);
        assert_eq!(*long.borrow(), [data]);
        assert!(!t.disconnecting(), "the handler decides, not the receiver");
        assert!(r.error().is_none());
    }
}

#[test]
fn empty_lines_are_lines() {
    let t = StringTransport::new();
    let mut receiver = LineReceiver::new(Collect::default());
    t.make_connection(&mut receiver);
    receiver.data_received(t.transport(), b"\r\n\r\na\r\n\r\n");
    assert_eq!(receiver.inner().received, lines(&[b"", b"", b"a", b""]));
}

#[test]
fn a_delimiter_split_across_chunks_is_found() {
    for delimiter in [&b"\r\n"[..], b"\n", b"<END>"] {
        let stream = [&b"one"[..], delimiter, b"two", delimiter, b"three"].concat();
        for split in 0..=stream.len() {
            let t = StringTransport::new();
            let mut receiver = LineReceiver::new(Collect::default()).with_delimiter(delimiter);
            t.make_connection(&mut receiver);
            receiver.data_received(t.transport(), &stream[..split]);
            receiver.data_received(t.transport(), &stream[split..]);
            assert_eq!(receiver.inner().received, lines(&[b"one", b"two"]), "{delimiter:?} split at {split}");
            assert_eq!(receiver.buffered(), b"three");
        }
    }
}

#[test]
fn raw_mode_from_a_line_hands_on_the_rest_of_the_chunk_and_later_data() {
    #[derive(Default)]
    struct Header {
        lines: Vec<Vec<u8>>,
        raw: Vec<Vec<u8>>,
    }
    impl Protocol for Header {
        fn message_received(&mut self, transport: &Transport, line: Message) {
            self.lines.push(line.as_bytes().to_vec());
            if line.as_bytes() == b"RAW" {
                transport.set_raw_mode();
            }
        }
        fn data_received(&mut self, transport: &Transport, data: &[u8]) {
            self.raw.push(data.to_vec());
            if data.ends_with(b"!") {
                transport.set_line_mode();
            }
        }
    }
    let t = StringTransport::new();
    let mut receiver = LineReceiver::new(Header::default());
    t.make_connection(&mut receiver);
    receiver.data_received(t.transport(), b"a\r\nRAW\r\nraw\r\nbytes");
    receiver.data_received(t.transport(), b"more!");
    receiver.data_received(t.transport(), b"b\r\n");
    assert_eq!(receiver.inner().lines, lines(&[b"a", b"RAW", b"b"]));
    assert_eq!(receiver.inner().raw, lines(&[b"raw\r\nbytes", b"more!"]));
}

#[test]
fn line_mode_with_extra_called_from_a_timer_is_cut_without_waiting_for_data() {
    /// Switches to raw on "RAW"; a timer hands the raw bytes back as lines.
    struct Later(Rc<RefCell<Vec<Vec<u8>>>>);
    impl Protocol for Later {
        fn message_received(&mut self, transport: &Transport, line: Message) {
            self.0.borrow_mut().push(line.as_bytes().to_vec());
            if line.as_bytes() == b"RAW" {
                transport.set_raw_mode();
            }
        }
        fn data_received(&mut self, transport: &Transport, data: &[u8]) {
            let (t, data) = (transport.clone(), data.to_vec());
            transport.reactor().unwrap().call_later(Duration::from_secs(1), move |_| t.set_line_mode_with(&data));
        }
    }
    let memory = MemoryReactor::new();
    let seen = Rc::new(RefCell::new(Vec::new()));
    let conn = memory.open_connection(LineReceiver::new(Later(seen.clone())), ConnectionKind::Stream);
    memory.deliver(conn, b"RAW\r\nx\r\ny\r\n");
    assert_eq!(*seen.borrow(), lines(&[b"RAW"]));
    memory.advance(Duration::from_secs(1));
    assert_eq!(*seen.borrow(), lines(&[b"RAW", b"x", b"y"]));
}

#[test]
fn send_writes_a_line_with_the_receivers_delimiter() {
    struct Greeter;
    impl Protocol for Greeter {
        fn connection_made(&mut self, transport: &Transport) {
            transport.send("hello");
            transport.send(Message::binary(&b""[..]));
        }
    }
    let t = StringTransport::new();
    let mut receiver = LineReceiver::new(Greeter).with_delimiter(b"\n");
    t.make_connection(&mut receiver);
    assert_eq!(t.value(), b"hello\n\n");
}

#[test]
fn on_a_message_connection_messages_pass_straight_through() {
    let t = StringTransport::new_message();
    let mut receiver = LineReceiver::new(Collect::default());
    t.make_connection(&mut receiver);
    receiver.message_received(t.transport(), Message::text("a\r\nb"));
    assert_eq!(receiver.inner().received, lines(&[b"a\r\nb"]));
}

#[test]
fn each_delivered_line_is_traced_and_a_refusal_names_its_reason() {
    let t = StringTransport::new();
    let recorder = Recorder::new();
    t.reactor().set_trace_sink(recorder.clone());
    let mut receiver = LineReceiver::new(Collect::default()).with_max_length(5);
    t.make_connection(&mut receiver);
    receiver.data_received(t.transport(), b"ab\r\n\r\ntoo long\r\n");
    let conn = t.transport().id().0;
    let events: Vec<TraceEvent> = recorder.events().into_iter().map(|r| r.event).collect();
    let received: Vec<&TraceEvent> =
        events.iter().filter(|e| matches!(e, TraceEvent::MessageReceived { .. })).collect();
    assert_eq!(
        received,
        [&TraceEvent::MessageReceived { conn, len: 2 }, &TraceEvent::MessageReceived { conn, len: 0 }]
    );
    assert!(
        events.contains(&TraceEvent::InputRejected { conn, reason: "line of 8 bytes exceeds max_length 5".to_owned() })
    );
}

#[test]
fn the_inner_protocol_hears_the_connection_end() {
    let t = StringTransport::new();
    let mut receiver = LineReceiver::new(Collect::default());
    t.make_connection(&mut receiver);
    t.connection_lost(&mut receiver, Failure::new(FailureKind::ConnectionDone, "bye"));
    assert!(receiver.inner().lost.as_ref().unwrap().check(FailureKind::ConnectionDone));
    receiver.data_received(t.transport(), b"late\r\n");
    assert!(receiver.inner().received.is_empty(), "nothing is delivered on a closed connection");
}

// ---------------------------------------------------------------------------
// LineOnlyReceiver
// ---------------------------------------------------------------------------

#[test]
fn line_only_receiver_byte_by_byte() {
    let buffer = b"foo\n    bleakness\n    desolation\n    plastic forks\n    ";
    let t = StringTransport::new();
    let mut receiver = LineOnlyReceiver::new(Collect::default()).with_delimiter(b"\n").with_max_length(64);
    t.make_connection(&mut receiver);
    feed_chunked(&mut receiver, t.transport(), buffer, std::iter::repeat(1));
    let expected: Vec<Vec<u8>> = buffer.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
    assert_eq!(receiver.inner().received, expected[..expected.len() - 1]);
}

#[test]
fn line_only_receiver_limits() {
    // Twisted's test_greaterThanMaximumLineLength.
    let t = StringTransport::new();
    let mut receiver = LineOnlyReceiver::new(Collect::default()).with_delimiter(b"\n").with_max_length(64);
    t.make_connection(&mut receiver);
    receiver.data_received(t.transport(), &[vec![b'x'; 64 + 1 + 1], b"\r\nr".to_vec()].concat());
    assert!(t.disconnecting());

    // Exact passes; a partial line over the limit is refused at once (no
    // allowance for a partial delimiter, unlike LineReceiver).
    let t = StringTransport::new();
    let mut receiver = LineOnlyReceiver::new(Collect::default()).with_max_length(4);
    t.make_connection(&mut receiver);
    receiver.data_received(t.transport(), b"abcd\r\nabcd");
    assert!(!t.disconnecting());
    receiver.data_received(t.transport(), b"e");
    assert!(t.disconnecting());
    assert_eq!(receiver.inner().received, lines(&[b"abcd"]));
    assert_eq!(receiver.error(), Some(&FramingError::LineTooLong { length: 5, max_length: 4 }));
}

#[test]
fn line_only_receiver_stops_at_a_line_that_closes_the_connection() {
    struct QuitOn(Vec<Vec<u8>>);
    impl Protocol for QuitOn {
        fn message_received(&mut self, transport: &Transport, line: Message) {
            self.0.push(line.as_bytes().to_vec());
            if line.as_bytes() == b"quit" {
                transport.lose_connection();
            }
        }
    }
    let t = StringTransport::new();
    let mut receiver = LineOnlyReceiver::new(QuitOn(Vec::new()));
    t.make_connection(&mut receiver);
    receiver.data_received(t.transport(), b"a\r\nquit\r\nb\r\n");
    assert_eq!(receiver.inner().0, lines(&[b"a", b"quit"]));
}

// ---------------------------------------------------------------------------
// NetstringReceiver
// ---------------------------------------------------------------------------

fn netstring(max: usize) -> (StringTransport, NetstringReceiver<Collect>) {
    let t = StringTransport::new();
    let mut receiver = NetstringReceiver::new(Collect::default()).with_max_length(max);
    t.make_connection(&mut receiver);
    (t, receiver)
}

#[test]
fn netstrings_sent_are_received_in_any_packet_size() {
    let strings: Vec<Vec<u8>> =
        [&b"hello"[..], b"world", b"how", b"are", b"you123", b":today", &[b'a'; 515]].map(<[u8]>::to_vec).to_vec();
    let sender = StringTransport::new();
    let mut echo = NetstringReceiver::new(Collect::default());
    sender.make_connection(&mut echo);
    for s in &strings {
        sender.transport().send(Message::binary(s.clone()));
    }
    let wire = sender.value();
    assert!(wire.starts_with(b"5:hello,5:world,"));
    for size in 1..10 {
        let (t, mut r) = netstring(699);
        feed_chunked(&mut r, t.transport(), &wire, std::iter::repeat(size));
        assert_eq!(r.inner().received, strings, "packet size {size}");
    }
}

#[test]
fn netstring_edge_cases_twisted_accepts() {
    for (input, expected) in [
        (&b"0:,"[..], lines(&[b""])),
        (b"1:a,", lines(&[b"a"])),
        (b"2:ab,", lines(&[b"ab"])),
        (b"4:1:a,,", lines(&[b"1:a,"])),
        (b"1:a,1", lines(&[b"a"])),
        (b"12:123456789012,", lines(&[b"123456789012"])),
    ] {
        let (t, mut r) = netstring(12);
        r.data_received(t.transport(), input);
        assert_eq!(r.inner().received, expected, "{:?}", String::from_utf8_lossy(input));
        assert!(!t.disconnecting());
    }
    // Portions, the length split across them.
    for parts in
        [vec![&b"4:aa"[..], b"aa,"], vec![b"1", b"0:01234", b"56789", b","], vec![b"2", b":", b"a", b"b", b","]]
    {
        let (t, mut r) = netstring(99_999);
        for part in &parts {
            r.data_received(t.transport(), part);
        }
        assert_eq!(r.inner().received.len(), 1);
        assert!(!t.disconnecting());
    }
    // Two netstrings where the first chunk ends in the second's length.
    let (t, mut r) = netstring(99_999);
    r.data_received(t.transport(), b"1:a,1");
    r.data_received(t.transport(), b":b,");
    assert_eq!(r.inner().received, lines(&[b"a", b"b"]));
}

#[test]
fn malformed_netstrings_drop_the_connection_with_the_reason() {
    use FramingError::*;
    let cases: [(&[u8], FramingError); 10] = [
        (b"2:aaa,", NetstringMissingComma { found: b'a' }),
        (b"0:a,", NetstringMissingComma { found: b'a' }),
        (b":aaa,", NetstringMissingLength { found: b':' }),
        (b"3aaa,", NetstringMissingLength { found: b'a' }),
        (b"aaa,", NetstringMissingLength { found: b'a' }),
        (b"aaa", NetstringMissingLength { found: b'a' }),
        (b"01:a,", NetstringMissingLength { found: b'1' }),
        (b"4:abcde", NetstringMissingComma { found: b'e' }),
        (b"9999999999999999999999", LengthLimitExceeded { length: 99, max_length: 50 }),
        (
            b"51:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab,",
            LengthLimitExceeded { length: 51, max_length: 50 },
        ),
    ];
    for (input, error) in cases {
        for size in [1, input.len()] {
            let (t, mut r) = netstring(50);
            feed_chunked(&mut r, t.transport(), input, std::iter::repeat(size));
            assert!(t.disconnecting(), "{:?}", String::from_utf8_lossy(input));
            assert_eq!(r.error(), Some(&error), "{:?}", String::from_utf8_lossy(input));
            assert!(r.inner().received.is_empty());
            // Nothing more is read.
            r.data_received(t.transport(), b"1:a,");
            assert!(r.inner().received.is_empty());
        }
    }
}

#[test]
fn netstring_length_limit_border_cases() {
    // MAX_LENGTH itself is fine, one more is refused, and a long length is
    // refused before its colon (or payload) arrives.
    let (t, mut r) = netstring(12);
    r.data_received(t.transport(), b"12:");
    assert!(!t.disconnecting());
    let (t, mut r) = netstring(11);
    r.data_received(t.transport(), b"12");
    assert!(t.disconnecting());
    let (t, mut r) = netstring(11);
    r.data_received(t.transport(), b"100");
    assert_eq!(r.error(), Some(&FramingError::LengthLimitExceeded { length: 100, max_length: 11 }));
    // A lone "0" is a length still arriving, not an error.
    let (t, mut r) = netstring(11);
    r.data_received(t.transport(), b"0");
    assert!(!t.disconnecting());
}

// ---------------------------------------------------------------------------
// Int8/16/32StringReceiver
// ---------------------------------------------------------------------------

fn prefixed<L>(width: usize, len: usize) -> Vec<u8> {
    let _ = std::marker::PhantomData::<L>;
    (len as u64).to_be_bytes()[8 - width..].to_vec()
}

macro_rules! int_n_tests {
    ($name:ident, $receiver:ident, $width:expr, $illegal:expr, $partials:expr) => {
        mod $name {
            use super::*;

            fn receiver(max: usize) -> (StringTransport, $receiver<Collect>) {
                let t = StringTransport::new();
                let mut r = $receiver::new(Collect::default()).with_max_length(max);
                t.make_connection(&mut r);
                (t, r)
            }

            fn frame(s: &[u8]) -> Vec<u8> {
                [prefixed::<()>($width, s.len()), s.to_vec()].concat()
            }

            #[test]
            fn strings_arrive_byte_by_byte() {
                let strings = lines(&[b"a", &[b'b'; 16], b""]);
                let (t, mut r) = receiver(50);
                for s in &strings {
                    feed_chunked(&mut r, t.transport(), &frame(s), std::iter::repeat(1));
                }
                assert_eq!(r.inner().received, strings);
            }

            #[test]
            fn partial_strings_deliver_nothing() {
                for partial in $partials {
                    let (t, mut r) = receiver(50);
                    feed_chunked(&mut r, t.transport(), partial, std::iter::repeat(1));
                    assert!(r.inner().received.is_empty());
                }
            }

            #[test]
            fn illegal_lengths_drop_the_connection() {
                let (t, mut r) = receiver(50);
                feed_chunked(&mut r, t.transport(), $illegal, std::iter::repeat(1));
                assert!(t.disconnecting());
                assert!(matches!(r.error(), Some(FramingError::LengthLimitExceeded { max_length: 50, .. })));
            }

            #[test]
            fn send_writes_the_prefix_and_the_string() {
                let (t, _r) = receiver(50);
                t.transport().send(Message::binary(vec![b'b'; 16]));
                assert_eq!(t.value(), frame(&[b'b'; 16]));
            }

            #[test]
            fn exact_limit_passes_and_one_more_calls_the_handler_with_the_length() {
                let lengths = Rc::new(RefCell::new(Vec::new()));
                let l = lengths.clone();
                let t = StringTransport::new();
                let mut r = $receiver::new(Collect::default())
                    .with_max_length(10)
                    .on_length_limit_exceeded(move |_, _, length| l.borrow_mut().push(length));
                t.make_connection(&mut r);
                r.data_received(t.transport(), &frame(&[b'x'; 10]));
                assert_eq!(r.inner().received, [vec![b'x'; 10]]);
                r.data_received(t.transport(), &frame(&[b'x'; 11]));
                assert_eq!(*lengths.borrow(), [11]);
                assert_eq!(r.inner().received.len(), 1, "the long string is not delivered");
                assert!(!t.disconnecting(), "the handler decides");
                r.data_received(t.transport(), &frame(b"later"));
                assert_eq!(r.inner().received.len(), 1, "nothing more is read");
            }

            #[test]
            fn pausing_holds_strings_until_resumed() {
                struct PauseFirst(Vec<Vec<u8>>);
                impl Protocol for PauseFirst {
                    fn message_received(&mut self, transport: &Transport, m: Message) {
                        if self.0.is_empty() {
                            transport.pause_producing();
                        }
                        self.0.push(m.as_bytes().to_vec());
                    }
                }
                let t = StringTransport::new();
                let mut r = $receiver::new(PauseFirst(Vec::new()));
                t.make_connection(&mut r);
                r.data_received(t.transport(), &[frame(b"one"), frame(b"two")].concat());
                assert_eq!(r.inner().0, lines(&[b"one"]));
                t.transport().resume_producing();
                r.resume_producing(t.transport());
                assert_eq!(r.inner().0, lines(&[b"one", b"two"]));
            }
        }
    };
}

int_n_tests!(int32, Int32StringReceiver, 4, b"\x10\x00\x00\x00aaaaaa", [&b"\x00\x00\x00"[..], b"hello there", b""]);
int_n_tests!(int16, Int16StringReceiver, 2, b"\x10\x00aaaaaa", [&b"\x00"[..], b"hello there", b""]);
int_n_tests!(int8, Int8StringReceiver, 1, b"\x00\x00aaaaaa", [&b"\x08"[..], b"dzadz", b""]);

#[test]
fn int8_cannot_announce_more_than_its_default_limit() {
    let t = StringTransport::new();
    let mut r = Int8StringReceiver::new(Collect::default());
    t.make_connection(&mut r);
    r.data_received(t.transport(), &[&[255u8][..], &[b'z'; 255]].concat());
    assert_eq!(r.inner().received, [vec![b'z'; 255]]);
}

#[test]
fn a_string_too_long_for_its_prefix_is_not_sent() {
    let t = StringTransport::new();
    let mut r = Int8StringReceiver::new(Collect::default());
    t.make_connection(&mut r);
    t.transport().send(Message::binary(vec![0; 256]));
    t.transport().send(Message::binary(vec![1; 255]));
    assert_eq!(t.value(), [&[255u8][..], &[1; 255]].concat(), "only the string that fits went out");
}
