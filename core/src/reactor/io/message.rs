use std::fmt;

use bytes::Bytes;

/// A whole message: what a WebSocket frame carries, or one line or string
/// cut out of a byte stream by a framing receiver.
///
/// Text is kept as bytes known to be UTF-8, so handing a message on (echo,
/// broadcast) never copies it.
///
/// ```
/// use twine_core::protocol::Message;
///
/// let m = Message::text("hello");
/// assert_eq!(m.as_text(), Some("hello"));
/// assert_eq!(m.as_bytes(), b"hello");
/// assert!(Message::binary(vec![0xff]).as_text().is_none());
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Message {
    text: bool,
    data: Bytes,
}

impl Message {
    /// A text message.
    pub fn text(text: impl Into<String>) -> Message {
        Message { text: true, data: Bytes::from(text.into()) }
    }

    /// A binary message.
    pub fn binary(data: impl Into<Bytes>) -> Message {
        Message { text: false, data: data.into() }
    }

    /// A text message from bytes, if they are UTF-8.
    pub fn text_from_bytes(data: Bytes) -> Result<Message, std::str::Utf8Error> {
        std::str::from_utf8(&data)?;
        Ok(Message { text: true, data })
    }

    /// A text message from bytes the caller has already found to be UTF-8
    /// (a WebSocket codec checks every text message it reads), so that they
    /// are not checked twice. Bytes that are not UTF-8 make a message whose
    /// [`as_text`](Self::as_text) is empty and whose [`to_str`](Self::to_str)
    /// is an error: a mistake here is wrong text, never undefined behaviour.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use twine_core::protocol::Message;
    ///
    /// let m = Message::text_from_checked_bytes(Bytes::from_static("héllo".as_bytes()));
    /// assert_eq!(m, Message::text("héllo"));
    /// ```
    pub fn text_from_checked_bytes(data: Bytes) -> Message {
        Message { text: true, data }
    }

    /// Whether this is a text message.
    pub fn is_text(&self) -> bool {
        self.text
    }

    /// The text, for a text message. A line cut from a byte stream is a
    /// binary message (a stream carries bytes): read it with
    /// [`to_str`](Self::to_str).
    pub fn as_text(&self) -> Option<&str> {
        // Text messages are only built from checked UTF-8.
        self.text.then(|| std::str::from_utf8(&self.data).unwrap_or_default())
    }

    /// The payload as UTF-8 whatever the message's kind: a WebSocket text
    /// message, or a line from a [`LineReceiver`](crate::protocols::basic::LineReceiver).
    /// What a protocol serving both TCP lines and WebSockets reads commands with.
    ///
    /// ```
    /// use twine_core::protocol::Message;
    ///
    /// assert_eq!(Message::text("ping").to_str(), Ok("ping"));
    /// assert_eq!(Message::binary(&b"ping"[..]).to_str(), Ok("ping")); // a line from TCP
    /// assert!(Message::binary(vec![0xff]).to_str().is_err());
    /// ```
    pub fn to_str(&self) -> Result<&str, std::str::Utf8Error> {
        std::str::from_utf8(&self.data)
    }

    /// The payload.
    pub fn as_bytes(&self) -> &[u8] {
        &self.data
    }

    /// The payload, without copying.
    pub fn into_bytes(self) -> Bytes {
        self.data
    }

    /// Payload length in bytes.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether the payload is empty.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.as_text() {
            Some(text) => write!(f, "Text({text:?})"),
            None => write!(f, "Binary({:?})", self.data),
        }
    }
}

impl From<&str> for Message {
    fn from(text: &str) -> Message {
        Message::text(text)
    }
}

impl From<String> for Message {
    fn from(text: String) -> Message {
        Message::text(text)
    }
}

impl From<Vec<u8>> for Message {
    fn from(data: Vec<u8>) -> Message {
        Message::binary(data)
    }
}

impl From<&[u8]> for Message {
    fn from(data: &[u8]) -> Message {
        Message::binary(Bytes::copy_from_slice(data))
    }
}
