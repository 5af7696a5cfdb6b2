//! The order in which Twisted's reactor reads and writes its clients'
//! connections: a Python program's server runs on Twisted's `epollreactor`,
//! which uses epoll level-triggered, so the kernel's ready list decides it.
//!
//! - A connection joins the tail of the ready list when it becomes ready
//!   (a request arrives, or a write is buffered: `startWriting` adds
//!   `EPOLLOUT`), unless it is on the list already: then it keeps its place.
//! - `epoll_wait` walks the list in order, reports the connections that are
//!   ready (readable: unread requests; writable: buffered writes) and drops
//!   the others. A reported connection stays on the list, in report order,
//!   until a later walk finds it not ready (level-triggered).
//! - Twisted handles the reported connections in that order, each with
//!   `doRead` (every line that has arrived, one `lineReceived` after
//!   another) and then `doWrite` (everything buffered, answers of this
//!   `doRead` included). A write buffered in this iteration waits for the
//!   connection's turn in the next one (`FileDescriptor.write` only
//!   buffers).
//!
//! So an answer can wait behind new requests: a connection whose answer
//! left at the start of an iteration is still at the head of the list, and
//! when its next request arrives during the iteration, the next walk reads
//! it first, before it writes the answers of the iteration that just ended.
//! CPython + Twisted 26.10 on echo-blocking (seed 1, 1000 requests):
//! 6 of 797 polls reported a read ahead of writes, which held 34 answers
//! 41-164 ms and moved p99 from 306 to 380 ms. A JSON scenario's server is
//! twine's native driver (mio, edge-triggered, answers written when the
//! turn ends), which has no such order: it keeps the batch model in
//! `reactor_thread`.

use std::collections::VecDeque;

use twine_core::protocol::ConnectionId;
use twine_core::Time;

use super::reactor_thread::IoEvent;
use super::Simulation;

/// One step of an iteration's dispatch.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Step {
    /// `doRead`: reads every line that has arrived on the client's connection.
    Read(u32),
    /// One `lineReceived` of a read.
    Line(u32),
    /// `doWrite`: the client's buffered answers leave.
    Write(u32),
}

/// The kernel's ready list over the simulated clients' connections.
#[derive(Default)]
pub(crate) struct ReadyList {
    /// Whether the server is Twisted's (a Python program); off: the batch model.
    pub on: bool,
    /// Clients, in the list's order.
    order: Vec<u32>,
    /// Each client's requests that arrived and are not read yet: (request, when).
    unread: Vec<VecDeque<(u64, Time)>>,
    /// What is left of this iteration's dispatch.
    pub plan: VecDeque<Step>,
}

impl ReadyList {
    /// `twisted`: the server is a Python program's, on Twisted's reactor.
    pub fn new(twisted: bool) -> ReadyList {
        ReadyList { on: twisted, ..ReadyList::default() }
    }

    fn join(&mut self, client: u32) {
        if !self.order.contains(&client) {
            self.order.push(client);
        }
    }

    /// Requests that arrived and wait to be read.
    pub fn unread(&self) -> usize {
        self.unread.iter().map(VecDeque::len).sum()
    }
}

impl Simulation {
    /// A request reached a Python server's connection: it waits in the
    /// socket until the reactor reads the connection.
    pub(crate) fn epoll_arrive(&mut self, client: u32, req: u64) {
        let ready = &mut self.ready;
        let c = client as usize;
        if ready.unread.len() <= c {
            ready.unread.resize_with(c + 1, VecDeque::new);
        }
        ready.unread[c].push_back((req, self.now));
        ready.join(client);
    }

    /// The server buffered an answer on `conn` (`startWriting`).
    pub(crate) fn epoll_buffered(&mut self, conn: ConnectionId) {
        if let Some(client) = self.clients.client_of(conn) {
            self.ready.join(client);
        }
    }

    /// The client's connection closed: what it had sent and nobody read is gone.
    pub(crate) fn epoll_closed(&mut self, client: u32) {
        if let Some(unread) = self.ready.unread.get_mut(client as usize) {
            unread.clear();
        }
    }

    /// `epoll_wait`: the iteration's dispatch, from the ready list.
    pub(crate) fn epoll_wait(&mut self) {
        let buffered: Vec<Option<u32>> = self.rl.outbox.iter().map(|(conn, _)| self.clients.client_of(*conn)).collect();
        let ready = &mut self.ready;
        let mut reported = Vec::new();
        for &client in &ready.order {
            let read = ready.unread.get(client as usize).is_some_and(|u| !u.is_empty());
            let write = buffered.contains(&Some(client));
            if read {
                ready.plan.push_back(Step::Read(client));
            }
            if write {
                ready.plan.push_back(Step::Write(client));
            }
            if read || write {
                reported.push(client);
            }
        }
        ready.order = reported;
        // Answers on a connection no client holds any more go nowhere.
        if buffered.contains(&None) {
            let clients = &self.clients;
            self.rl.outbox.retain(|(conn, _)| clients.client_of(*conn).is_some());
        }
    }

    /// Runs the dispatch up to its next `lineReceived` and delivers it;
    /// false when the iteration's dispatch is done.
    pub(crate) fn epoll_dispatch(&mut self) -> bool {
        while let Some(step) = self.ready.plan.pop_front() {
            match step {
                Step::Read(client) => {
                    let lines = self.ready.unread.get(client as usize).map_or(0, VecDeque::len);
                    for _ in 0..lines {
                        self.ready.plan.push_front(Step::Line(client));
                    }
                }
                Step::Line(client) => {
                    let Some((req, at)) = self.ready.unread.get_mut(client as usize).and_then(VecDeque::pop_front)
                    else {
                        continue;
                    };
                    self.deliver_io(IoEvent::Request { client, req, at });
                    return true;
                }
                Step::Write(client) => {
                    let conn = self.clients.conn_of(client);
                    let (mine, rest): (Vec<_>, Vec<_>) =
                        std::mem::take(&mut self.rl.outbox).into_iter().partition(|(c, _)| Some(*c) == conn);
                    self.rl.outbox = rest;
                    for (conn, message) in mine {
                        self.on_response(conn, message);
                    }
                }
            }
        }
        false
    }
}
