//! The reactors behind one gateway: where each upgraded WebSocket goes
//! (the least loaded, ties in turn), their metrics added up, and the
//! `/ws/chat` room that spans them.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use twine_core::defer::Failure;
use twine_core::protocol::{Message, Protocol, Transport};
use twine_core::protocols::{Chat, ChatRoom};
use twine_core::ReactorHandle;

use crate::driver::{Adopted, BuildProtocol, Handoff};
use crate::metrics::{Metrics, MetricsSnapshot};

/// Chat messages on their way to one other reactor past which more are
/// dropped (and counted): a reactor that falls behind does not make the
/// others buffer without bound.
const MAX_CHAT_IN_FLIGHT: usize = 4096;

/// One reactor, as the gateway sees it.
struct Lane {
    handoff: Handoff,
    metrics: Metrics,
    /// WebSockets handed to it and not yet closed.
    load: Arc<AtomicUsize>,
}

/// The reactors behind the gateway.
pub(crate) struct Reactors {
    lanes: Vec<Lane>,
    next: AtomicUsize,
    chat: Arc<ChatMesh>,
}

/// Gives a reactor's load back when its WebSocket closes.
struct LoadGuard(Arc<AtomicUsize>);

impl Drop for LoadGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Reactors {
    pub(crate) fn new(reactors: Vec<(ReactorHandle, Handoff, Metrics)>) -> Reactors {
        let chat = Arc::new(ChatMesh {
            peers: reactors
                .iter()
                .map(|(handle, _, _)| Peer { handle: handle.clone(), in_flight: Arc::new(AtomicUsize::new(0)) })
                .collect(),
            dropped: AtomicU64::new(0),
        });
        let lanes = reactors
            .into_iter()
            .map(|(_, handoff, metrics)| Lane { handoff, metrics, load: Arc::new(AtomicUsize::new(0)) })
            .collect();
        Reactors { lanes, next: AtomicUsize::new(0), chat }
    }

    /// The reactor the next WebSocket goes to: the one with the fewest open,
    /// searched from a rotating start so that ties take turns.
    fn pick(&self) -> usize {
        let n = self.lanes.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed) % n;
        (0..n).map(|k| (start + k) % n).min_by_key(|&k| self.lanes[k].load.load(Ordering::Relaxed)).unwrap_or(0)
    }

    /// The protocol for a route, built on reactor `k`.
    pub(crate) fn build(&self, chat: bool, k: usize) -> BuildProtocol {
        if chat {
            let mesh = self.chat.clone();
            Box::new(move || Box::new(ChatMember::join(mesh, k)))
        } else {
            Box::new(|| Box::new(twine_core::protocols::Echo))
        }
    }

    /// Hands an upgraded WebSocket to the least loaded reactor; `make`
    /// gets the reactor's index and returns the socket's hand-off.
    pub(crate) fn adopt(&self, make: impl FnOnce(usize) -> Adopted) {
        let k = self.pick();
        let lane = &self.lanes[k];
        lane.load.fetch_add(1, Ordering::Relaxed);
        let mut adopted = make(k);
        let guard = std::mem::replace(&mut adopted.guard, Box::new(()));
        adopted.guard = Box::new((guard, LoadGuard(lane.load.clone())));
        lane.handoff.adopt(adopted);
    }

    /// Whether any reactor has begun shutting down.
    pub(crate) fn is_shutting_down(&self) -> bool {
        self.lanes.iter().any(|l| l.metrics.is_shutting_down())
    }

    /// `/metrics`: the reactors' totals, then each reactor's main figures.
    pub(crate) fn to_prometheus(&self) -> String {
        let snapshots: Vec<MetricsSnapshot> = self.lanes.iter().map(|l| l.metrics.snapshot()).collect();
        let mut out = MetricsSnapshot::sum(&snapshots).to_prometheus();
        out.push_str(&MetricsSnapshot::per_reactor_prometheus(&snapshots));
        crate::metrics::write_prometheus(
            &mut out,
            "reactors",
            "gauge",
            "Reactor threads serving connections.",
            self.lanes.len() as u64,
        );
        crate::metrics::write_prometheus(
            &mut out,
            "chat_dropped_total",
            "counter",
            "Chat messages not forwarded to a reactor that was too far behind.",
            self.chat.dropped.load(Ordering::Relaxed),
        );
        out
    }
}

/// The `/ws/chat` room across reactors: each reactor keeps its members in
/// a room of its own (protocols live on their reactor's thread), and a
/// message goes to the sender's room directly and to every other reactor's
/// room through `call_from_thread`, one inbox call per message and reactor.
struct ChatMesh {
    peers: Vec<Peer>,
    dropped: AtomicU64,
}

struct Peer {
    handle: ReactorHandle,
    in_flight: Arc<AtomicUsize>,
}

thread_local! {
    /// The `/ws/chat` members on this reactor thread.
    static ROOM: ChatRoom = ChatRoom::new();
}

impl ChatMesh {
    /// Sends `message` to the rooms of the reactors other than `home`.
    fn forward(&self, home: usize, message: &Message) {
        for (k, peer) in self.peers.iter().enumerate() {
            if k == home {
                continue;
            }
            if peer.in_flight.fetch_add(1, Ordering::AcqRel) >= MAX_CHAT_IN_FLIGHT {
                peer.in_flight.fetch_sub(1, Ordering::AcqRel);
                self.dropped.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            let (message, in_flight) = (message.clone(), peer.in_flight.clone());
            peer.handle.call_from_thread(move |_| {
                in_flight.fetch_sub(1, Ordering::AcqRel);
                ROOM.with(|room| room.broadcast(None, &message));
            });
        }
    }
}

/// A `/ws/chat` member: core [`Chat`] in its reactor's room, whose messages
/// also reach the members on the other reactors; a member too slow to take
/// what the room sends it is dropped (IRC's "SendQ exceeded") rather than
/// buffered without bound, since pausing its reading does not stop the
/// others from talking.
struct ChatMember {
    chat: Chat,
    mesh: Arc<ChatMesh>,
    home: usize,
}

impl ChatMember {
    fn join(mesh: Arc<ChatMesh>, home: usize) -> ChatMember {
        ChatMember { chat: ROOM.with(Chat::new), mesh, home }
    }
}

impl Protocol for ChatMember {
    fn connection_made(&mut self, transport: &Transport) {
        self.chat.connection_made(transport);
    }

    fn message_received(&mut self, transport: &Transport, message: Message) {
        if self.mesh.peers.len() > 1 {
            self.mesh.forward(self.home, &message);
        }
        self.chat.message_received(transport, message);
    }

    fn connection_lost(&mut self, transport: &Transport, reason: &Failure) {
        self.chat.connection_lost(transport, reason);
    }

    fn pause_producing(&mut self, transport: &Transport) {
        tracing::info!("chat member {} is too slow to keep up: dropping it", transport.peer());
        transport.abort_connection();
    }
}
