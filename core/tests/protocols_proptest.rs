//! Properties of the framing receivers: any chunking of a valid stream gives
//! the same messages; random bytes never panic; input over a limit or
//! malformed drops that connection with a reason.

use proptest::collection::vec;
use proptest::prelude::*;

use twine_core::protocol::{Message, Protocol, Transport};
use twine_core::protocols::basic::{
    FramingError, Int16StringReceiver, Int32StringReceiver, Int8StringReceiver, LineOnlyReceiver, LineReceiver,
    NetstringReceiver,
};
use twine_core::testing::{feed_chunked, MessageRecorder, Received, StringTransport};

fn sizes() -> impl Strategy<Value = Vec<usize>> {
    vec(0usize..24, 0..64)
}

/// A line that cannot contain the delimiter `\r\n`.
fn line() -> impl Strategy<Value = Vec<u8>> {
    vec(prop_oneof![Just(b'\r'), Just(b'\n'), Just(b'a'), any::<u8>()], 0..40).prop_map(|mut l| {
        while let Some(i) = l.windows(2).position(|w| w == b"\r\n") {
            l.remove(i);
        }
        l
    })
}

#[derive(Debug, Clone)]
enum Item {
    Line(Vec<u8>),
    Raw(Vec<u8>),
}

fn items() -> impl Strategy<Value = Vec<Item>> {
    vec(prop_oneof![3 => line().prop_map(Item::Line), 1 => vec(any::<u8>(), 1..60).prop_map(Item::Raw)], 0..30)
}

/// The wire bytes for `items`, and what a `MessageRecorder` must get from them.
fn encode_lines(items: &[Item]) -> (Vec<u8>, Vec<Received>) {
    let mut wire = Vec::new();
    let mut expected = Vec::new();
    for item in items {
        match item {
            Item::Line(l) if l.starts_with(b"raw ") => {} // would be taken for a command
            Item::Line(l) => {
                wire.extend_from_slice(l);
                wire.extend_from_slice(b"\r\n");
                expected.push(Received::Message(l.clone()));
            }
            Item::Raw(bytes) => {
                let command = format!("raw {}", bytes.len()).into_bytes();
                wire.extend_from_slice(&command);
                wire.extend_from_slice(b"\r\n");
                wire.extend_from_slice(bytes);
                expected.push(Received::Message(command));
                expected.push(Received::Raw(bytes.clone()));
            }
        }
    }
    (wire, expected)
}

fn run<P: Protocol>(receiver: &mut P, data: &[u8], sizes: &[usize]) -> StringTransport {
    let t = StringTransport::new();
    t.make_connection(receiver);
    feed_chunked(receiver, t.transport(), data, sizes.iter().copied());
    t
}

#[derive(Default)]
struct Collect(Vec<Vec<u8>>);
impl Protocol for Collect {
    fn message_received(&mut self, _: &Transport, m: Message) {
        self.0.push(m.as_bytes().to_vec());
    }
}

/// The wire form `send` produces through a receiver's encoder.
fn frame_with<P: Protocol>(mut receiver: P, messages: &[Vec<u8>]) -> Vec<u8> {
    let t = StringTransport::new();
    t.make_connection(&mut receiver);
    for m in messages {
        t.transport().send(Message::binary(m.clone()));
    }
    t.value()
}

// Cases: proptest's default (256), or PROPTEST_CASES. Random streams at
// millions of inputs: the `framing` target of `cargo xtask fuzz`.
proptest! {
    #[test]
    fn line_receiver_with_raw_switches_ignores_chunking(items in items(), sizes in sizes()) {
        let (wire, expected) = encode_lines(&items);
        let mut receiver = LineReceiver::new(MessageRecorder::default());
        let t = run(&mut receiver, &wire, &sizes);
        prop_assert_eq!(receiver.inner().received(), &expected[..]);
        prop_assert!(!t.disconnecting());
    }

    #[test]
    fn line_only_receiver_ignores_chunking(lines in vec(line(), 0..30), sizes in sizes()) {
        let wire = frame_with(LineOnlyReceiver::new(Collect::default()), &lines);
        let mut receiver = LineOnlyReceiver::new(Collect::default());
        run(&mut receiver, &wire, &sizes);
        prop_assert_eq!(&receiver.inner().0, &lines);
    }

    #[test]
    fn string_receivers_ignore_chunking(strings in vec(vec(any::<u8>(), 0..300), 0..20), sizes in sizes()) {
        let wire = frame_with(NetstringReceiver::new(Collect::default()), &strings);
        let mut r = NetstringReceiver::new(Collect::default());
        run(&mut r, &wire, &sizes);
        prop_assert_eq!(&r.inner().0, &strings);

        let wire = frame_with(Int16StringReceiver::new(Collect::default()), &strings);
        let mut r = Int16StringReceiver::new(Collect::default());
        run(&mut r, &wire, &sizes);
        prop_assert_eq!(&r.inner().0, &strings);

        let wire = frame_with(Int32StringReceiver::new(Collect::default()), &strings);
        let mut r = Int32StringReceiver::new(Collect::default());
        run(&mut r, &wire, &sizes);
        prop_assert_eq!(&r.inner().0, &strings);

        let short: Vec<Vec<u8>> = strings.iter().map(|s| s[..s.len().min(255)].to_vec()).collect();
        let wire = frame_with(Int8StringReceiver::new(Collect::default()), &short);
        let mut r = Int8StringReceiver::new(Collect::default());
        run(&mut r, &wire, &sizes);
        prop_assert_eq!(&r.inner().0, &short);
    }

    /// Whatever arrives, nothing panics, and a receiver that refused input
    /// dropped the connection and says why.
    #[test]
    fn random_bytes_never_panic(data in vec(any::<u8>(), 0..2000), sizes in sizes(), max in 0usize..64) {
        fn check<P: Protocol>(
            mut receiver: P,
            error: impl Fn(&P) -> Option<FramingError>,
            data: &[u8],
            sizes: &[usize],
        ) -> Result<(), TestCaseError> {
            let t = run(&mut receiver, data, sizes);
            if let Some(error) = error(&receiver) {
                prop_assert!(t.disconnecting(), "refused ({}) without dropping the connection", error);
                prop_assert!(!error.to_string().is_empty());
            }
            Ok(())
        }
        check(LineReceiver::new(MessageRecorder::default()).with_max_length(max), |r| r.error().cloned(), &data, &sizes)?;
        check(LineOnlyReceiver::new(Collect::default()).with_max_length(max), |r| r.error().cloned(), &data, &sizes)?;
        check(NetstringReceiver::new(Collect::default()).with_max_length(max), |r| r.error().cloned(), &data, &sizes)?;
        check(Int8StringReceiver::new(Collect::default()).with_max_length(max), |r| r.error().cloned(), &data, &sizes)?;
        check(Int16StringReceiver::new(Collect::default()).with_max_length(max), |r| r.error().cloned(), &data, &sizes)?;
        check(Int32StringReceiver::new(Collect::default()).with_max_length(max), |r| r.error().cloned(), &data, &sizes)?;
    }

    #[test]
    fn a_line_over_the_limit_drops_the_connection(
        before in vec(line(), 0..5),
        max in 0usize..100,
        extra in 1usize..50,
        complete in any::<bool>(),
        sizes in sizes(),
    ) {
        let before: Vec<Vec<u8>> = before.into_iter().map(|mut l| { l.truncate(max); l }).collect();
        let mut wire = frame_with(LineReceiver::new(Collect::default()), &before);
        let long = vec![b'x'; max + extra + if complete { 0 } else { 2 }];
        wire.extend_from_slice(&long);
        if complete {
            wire.extend_from_slice(b"\r\nafter\r\n");
        }
        let mut receiver = LineReceiver::new(Collect::default()).with_max_length(max);
        let t = run(&mut receiver, &wire, &sizes);
        prop_assert!(t.disconnecting());
        let refused_at_max = matches!(receiver.error(), Some(FramingError::LineTooLong { max_length, .. }) if *max_length == max);
        prop_assert!(refused_at_max, "{:?}", receiver.error());
        prop_assert_eq!(&receiver.inner().0, &before, "lines before the long one arrive, nothing after");
    }

    #[test]
    fn corrupt_netstrings_drop_the_connection(
        strings in vec(vec(any::<u8>(), 0..50), 1..10),
        which in any::<prop::sample::Index>(),
        corruption in 0u8..3,
        sizes in sizes(),
    ) {
        let which = which.index(strings.len());
        let mut wire = Vec::new();
        for (i, s) in strings.iter().enumerate() {
            let mut frame = frame_with(NetstringReceiver::new(Collect::default()), std::slice::from_ref(s));
            if i == which {
                match corruption {
                    0 => *frame.last_mut().unwrap() = b';',          // no comma
                    1 => frame.insert(0, b'-'),                      // no length
                    _ => frame = format!("{}:", 100 + s.len()).into_bytes(), // over max_length 99
                }
            }
            wire.extend_from_slice(&frame);
        }
        let mut r = NetstringReceiver::new(Collect::default()).with_max_length(99);
        let t = run(&mut r, &wire, &sizes);
        prop_assert!(t.disconnecting());
        prop_assert!(r.error().is_some());
        prop_assert_eq!(&r.inner().0[..], &strings[..which]);
    }

    #[test]
    fn an_announced_length_over_the_limit_drops_the_connection(
        max in 0usize..200, over in 1u64..1000, sizes in sizes(),
    ) {
        let length = max as u64 + over;
        let mut wire = (length as u32).to_be_bytes().to_vec();
        wire.extend(std::iter::repeat_n(b'z', length as usize));
        let mut r = Int32StringReceiver::new(Collect::default()).with_max_length(max);
        let t = run(&mut r, &wire, &sizes);
        prop_assert!(t.disconnecting());
        prop_assert_eq!(r.error(), Some(&FramingError::LengthLimitExceeded { length, max_length: max }));
        prop_assert!(r.inner().0.is_empty());
    }
}
