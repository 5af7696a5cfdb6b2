//! Ports of Twisted's `twisted/protocols/test/test_basic.py`: each test
//! names the Twisted test it ports and asserts what that test asserts.

use twine_core::protocol::{Message, Protocol, Transport};
use twine_core::protocols::basic::{
    Int16StringReceiver, Int32StringReceiver, Int8StringReceiver, IntNStringReceiver, LengthPrefix, Prefix16, Prefix32,
    Prefix8,
};
use twine_core::testing::StringTransport;

/// Twisted's `TestMixin`: keeps the strings it receives.
#[derive(Default)]
struct Received(Vec<Vec<u8>>);

impl Protocol for Received {
    fn message_received(&mut self, _: &Transport, message: Message) {
        self.0.push(message.as_bytes().to_vec());
    }
}

/// Twisted's `makeMessage`: `data` behind its length prefix.
fn make_message<L: LengthPrefix>(data: &[u8]) -> Vec<u8> {
    let mut message = Vec::new();
    L::write(data.len() as u64, &mut message);
    message.extend_from_slice(data);
    message
}

/// Ports `RecvdAttributeMixin.test_recvdContainsRemainingData` (for Int8,
/// Int16 and Int32): after a complete string, `recvd` holds what remains:
/// the incomplete one. (Twisted reads it inside `stringReceived`; twine's
/// wrapped protocol cannot reach its receiver, so the port reads it after
/// `data_received`, where it holds the same bytes.)
#[test]
fn test_recvd_contains_remaining_data() {
    fn check<L: LengthPrefix>(mut r: IntNStringReceiver<Received, L>) {
        let t = StringTransport::new();
        r.connection_made(t.transport());
        let complete = make_message::<L>(b"aaaaa");
        let mut incomplete = make_message::<L>(b"bbbbb");
        incomplete.pop();
        r.data_received(t.transport(), &[complete, incomplete.clone()].concat());
        assert_eq!(r.inner().0, [b"aaaaa".to_vec()]);
        assert_eq!(r.recvd(), incomplete);
    }
    check(Int8StringReceiver::new(Received::default()));
    check(Int16StringReceiver::new(Received::default()));
    check(Int32StringReceiver::new(Received::default()));
}

/// Ports `RecvdAttributeMixin.test_recvdInLengthLimitExceeded`: when a
/// length over the limit arrives, the handler gets that length and `recvd`
/// holds all the data not yet processed.
#[test]
fn test_recvd_in_length_limit_exceeded() {
    fn check<L: LengthPrefix>(r: IntNStringReceiver<Received, L>) {
        let data = b"too long";
        let lengths = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        let l = lengths.clone();
        let mut r = r.with_max_length(data.len() - 1).on_length_limit_exceeded(move |_, _, length| {
            l.borrow_mut().push(length);
        });
        let t = StringTransport::new();
        r.connection_made(t.transport());
        let message = make_message::<L>(data);
        r.data_received(t.transport(), &message);
        assert_eq!(*lengths.borrow(), [data.len() as u64]);
        assert_eq!(r.recvd(), message);
    }
    check(IntNStringReceiver::<_, Prefix8>::new(Received::default()));
    check(IntNStringReceiver::<_, Prefix16>::new(Received::default()));
    check(IntNStringReceiver::<_, Prefix32>::new(Received::default()));
}
