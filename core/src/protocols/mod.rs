//! Ready-made protocols, and Twisted's framing receivers in [`basic`].
//!
//! Application protocols here speak in whole messages
//! ([`Protocol::message_received`](crate::protocol::Protocol::message_received)
//! and [`Transport::send`](crate::protocol::Transport::send)), so each runs over
//! a WebSocket as it is, and over TCP inside a framing receiver:
//!
//! | protocol | what it does | over TCP |
//! |---|---|---|
//! | [`Echo`] | sends back what arrives | bytes as they are, or [`LineEcho`] for lines |
//! | [`Chat`] | sends each message to every other member of a [`ChatRoom`] | [`ChatRoom::line_factory`] |
//! | [`LatencyProbe`] | a client timing round trips through an echo | `LineReceiver::new(LatencyProbe::new(..))` |

pub mod basic;
mod chat;
mod echo;
mod probe;

pub use chat::{Chat, ChatRoom};
pub use echo::{Echo, LineEcho};
pub use probe::{LatencyProbe, LatencySummary, ProbeConfig, ProbeReport, RoundTrip};
