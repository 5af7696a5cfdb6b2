//! Chat: every message goes to every other connection in the room.

use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

use super::basic::LineReceiver;
use crate::defer::Failure;
use crate::protocol::{ConnectionId, ConnectionKind, FnFactory, Message, Protocol, Transport};

/// The connections chatting together: what a chat factory shares between
/// the protocols it builds (Twisted's chat example keeps it on the factory as
/// `self.factory.clients`). Cheap to clone; clones are the same room.
///
/// ```
/// use twine_core::protocol::{Message, Protocol};
/// use twine_core::protocols::ChatRoom;
/// use twine_core::testing::StringTransport;
///
/// let room = ChatRoom::new();
/// let (alice, bob) = (StringTransport::new_message(), StringTransport::new_message());
/// let (mut a, mut b) = (room.chat(), room.chat());
/// a.connection_made(alice.transport());
/// b.connection_made(bob.transport());
/// assert_eq!(room.len(), 2);
///
/// a.message_received(alice.transport(), Message::text("hi bob"));
/// assert_eq!(bob.messages(), [Message::text("hi bob")]);
/// assert!(alice.messages().is_empty()); // not echoed to the sender
/// ```
#[derive(Clone, Default)]
pub struct ChatRoom {
    /// In the order they joined. Members are told apart by transport, not by
    /// id: connections of different reactors (or test transports) may share ids.
    members: Rc<RefCell<Vec<Transport>>>,
}

impl ChatRoom {
    /// An empty room.
    pub fn new() -> ChatRoom {
        ChatRoom::default()
    }

    /// A protocol joining this room, for a message connection (a WebSocket).
    pub fn chat(&self) -> Chat {
        Chat::new(self)
    }

    /// A factory for TCP: each connection chats in lines (`\r\n`) in this room.
    ///
    /// ```
    /// use twine_core::protocols::ChatRoom;
    /// use twine_core::testing::MemoryReactor;
    ///
    /// let memory = MemoryReactor::new();
    /// let room = ChatRoom::new();
    /// let port = memory.reactor().listen_tcp("127.0.0.1:6667".parse().unwrap(), room.line_factory());
    /// let alice = memory.accept(&port).unwrap();
    /// let bob = memory.accept(&port).unwrap();
    /// memory.deliver(alice, b"hello\r\n");
    /// assert_eq!(memory.written(bob), b"hello\r\n");
    /// ```
    pub fn line_factory(&self) -> FnFactory {
        let room = self.clone();
        FnFactory::new(move |_| Some(Box::new(LineReceiver::new(Chat::new(&room)))))
    }

    /// The connections in the room, in the order they joined.
    pub fn members(&self) -> Vec<ConnectionId> {
        self.members.borrow().iter().map(Transport::id).collect()
    }

    /// How many connections are in the room.
    pub fn len(&self) -> usize {
        self.members.borrow().len()
    }

    /// Whether the room is empty.
    pub fn is_empty(&self) -> bool {
        self.members.borrow().is_empty()
    }

    /// Sends `message` to every member but `from`; returns how many it went to.
    /// Message connections (WebSockets) get binary messages that are UTF-8 as
    /// text, so a line typed on a TCP client shows as text in a browser.
    ///
    /// ```
    /// use twine_core::protocol::{Message, Protocol};
    /// use twine_core::protocols::ChatRoom;
    /// use twine_core::testing::StringTransport;
    ///
    /// let room = ChatRoom::new();
    /// let browser = StringTransport::new_message();
    /// room.chat().connection_made(browser.transport());
    /// // The server itself announces something: no sender to skip.
    /// assert_eq!(room.broadcast(None, &Message::binary("server restarting")), 1);
    /// assert_eq!(browser.messages(), [Message::text("server restarting")]);
    /// ```
    pub fn broadcast(&self, from: Option<&Transport>, message: &Message) -> usize {
        let mut as_text: Option<Message> = None;
        let mut sent = 0;
        for transport in self.members.borrow().iter() {
            if from.is_some_and(|from| from.same_connection(transport)) || !transport.is_connected() {
                continue;
            }
            if transport.kind() == ConnectionKind::Message && !message.is_text() {
                let text = as_text.get_or_insert_with(|| {
                    Message::text_from_bytes(message.clone().into_bytes()).unwrap_or_else(|_| message.clone())
                });
                transport.send(text.clone());
            } else {
                transport.send(message.clone());
            }
            sent += 1;
        }
        sent
    }

    fn join(&self, transport: &Transport) {
        let mut members = self.members.borrow_mut();
        if !members.iter().any(|m| m.same_connection(transport)) {
            members.push(transport.clone());
        }
    }

    fn leave(&self, transport: &Transport) {
        self.members.borrow_mut().retain(|m| !m.same_connection(transport));
    }
}

impl fmt::Debug for ChatRoom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChatRoom").field("members", &self.members()).finish()
    }
}

/// One connection in a [`ChatRoom`]: Twisted's chat server example
/// (`MyChat`), where every line a client sends goes to every other client.
/// It joins the room when the connection is made and leaves when it is lost.
///
/// Over TCP wrap it in a [`LineReceiver`] ([`ChatRoom::line_factory`]); on a
/// message connection use it as it is. Both kinds mix in one room. Raw bytes
/// (a `Chat` on a stream with no framing) are relayed as they arrive.
///
/// ```
/// use twine_core::protocol::Protocol;
/// use twine_core::protocols::{basic::LineReceiver, Chat, ChatRoom};
/// use twine_core::testing::StringTransport;
///
/// let room = ChatRoom::new();
/// let (t1, t2) = (StringTransport::new(), StringTransport::new());
/// let mut one = LineReceiver::new(Chat::new(&room));
/// let mut two = LineReceiver::new(Chat::new(&room));
/// one.connection_made(t1.transport());
/// two.connection_made(t2.transport());
/// one.data_received(t1.transport(), b"anyone here?\r\n");
/// assert_eq!(t2.value(), b"anyone here?\r\n");
/// ```
#[derive(Debug)]
pub struct Chat {
    room: ChatRoom,
}

impl Chat {
    /// A member of `room`.
    pub fn new(room: &ChatRoom) -> Chat {
        Chat { room: room.clone() }
    }

    /// The room.
    pub fn room(&self) -> &ChatRoom {
        &self.room
    }
}

impl Protocol for Chat {
    fn connection_made(&mut self, transport: &Transport) {
        self.room.join(transport);
    }

    fn data_received(&mut self, transport: &Transport, data: &[u8]) {
        self.room.broadcast(Some(transport), &Message::from(data));
    }

    fn message_received(&mut self, transport: &Transport, message: Message) {
        self.room.broadcast(Some(transport), &message);
    }

    fn connection_lost(&mut self, transport: &Transport, _reason: &Failure) {
        self.room.leave(transport);
    }
}
