//! Simulated clients: open loop (arrivals at a fixed or Poisson rate) or
//! closed loop (each client sends, waits for the answer, thinks, sends
//! again). Each client has one message connection to the server; a request
//! is a message carrying its id, and the answer carries the id back.

use std::collections::HashMap;
use std::time::Duration;

use twine_core::protocol::{ConnectionId, Message};
use twine_core::trace::TraceEvent;
use twine_core::Time;
use twine_scenario::arrivals::{ClosedClient, OpenArrivals};

use super::reactor_thread::IoEvent;
use super::{Ev, Simulation};
use crate::program::ClientsDef;

#[derive(Clone, Copy, Debug)]
pub(crate) enum ClientEv {
    /// The next open-loop request is due.
    Arrival,
    /// A closed-loop client sends its next request.
    Send { client: u32 },
    /// A request reaches the server after the network delay.
    Deliver { client: u32, req: u64 },
    /// An answer reaches its client after the network delay.
    Receive { req: u64 },
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct RequestRec {
    pub client: u32,
    pub sent: Time,
    pub answered: bool,
}

pub(crate) struct ClientConn {
    pub conn: Option<ConnectionId>,
    pub opened: bool,
    pub sent: u64,
    /// A closed-loop client's first send and think times.
    closed: Option<ClosedClient>,
}

#[derive(Default)]
pub(crate) struct ClientState {
    pub def: Option<ClientsDef>,
    /// The open loop's send times, the ones `twine run` uses for the seed.
    arrivals: Option<OpenArrivals>,
    pub conns: Vec<ClientConn>,
    by_conn: HashMap<u64, u32>,
    pub requests: Vec<RequestRec>,
    pub stopped: bool,
    pub latencies: Vec<u64>,
    pub first_sent: Option<Time>,
    pub last_answer: Option<Time>,
}

impl ClientState {
    pub fn new(def: Option<ClientsDef>, seed: u64) -> ClientState {
        let conn = |closed| ClientConn { conn: None, opened: false, sent: 0, closed };
        let (arrivals, conns) = match def {
            Some(ClientsDef::Open { connections, start, mean_gap, poisson, .. }) => (
                Some(OpenArrivals::new(seed, start, mean_gap, poisson)),
                (0..connections).map(|_| conn(None)).collect(),
            ),
            Some(ClientsDef::Closed { clients, think, exponential, .. }) => {
                (None, (0..clients).map(|c| conn(Some(ClosedClient::new(seed, c, think, exponential)))).collect())
            }
            None => (None, Vec::new()),
        };
        ClientState { def, arrivals, conns, ..ClientState::default() }
    }

    pub fn connected(&mut self, client: u32, conn: ConnectionId) {
        self.by_conn.insert(conn.0, client);
        if let Some(c) = self.conns.get_mut(client as usize) {
            c.conn = Some(conn);
        }
    }

    pub fn client_of(&self, conn: ConnectionId) -> Option<u32> {
        self.by_conn.get(&conn.0).copied()
    }

    pub fn conn_of(&self, client: u32) -> Option<ConnectionId> {
        self.conns.get(client as usize)?.conn
    }

    pub fn answered(&self) -> usize {
        self.latencies.len()
    }
}

impl Simulation {
    pub(crate) fn start_clients(&mut self) {
        let Some(def) = self.clients.def else { return };
        match def {
            ClientsDef::Open { .. } => self.schedule_arrival(),
            ClientsDef::Closed { start, .. } => {
                for client in 0..self.clients.conns.len() {
                    let Some(c) = self.clients.conns[client].closed.as_mut() else { continue };
                    let at = c.first_send(start);
                    self.schedule(Time::from_nanos(at), Ev::Client(ClientEv::Send { client: client as u32 }));
                }
            }
        }
    }

    /// Schedules the open loop's next request at its time in the shared schedule.
    fn schedule_arrival(&mut self) {
        if let Some(at) = self.clients.arrivals.as_mut().and_then(Iterator::next) {
            self.schedule(Time::from_nanos(at), Ev::Client(ClientEv::Arrival));
        }
    }

    pub(crate) fn client_event(&mut self, ev: ClientEv) {
        let Some(def) = self.clients.def else { return };
        match ev {
            ClientEv::Arrival => {
                let ClientsDef::Open { requests, connections, .. } = def else { return };
                let n = self.clients.requests.len() as u64;
                if self.clients.stopped || requests.is_some_and(|r| n >= r) {
                    return;
                }
                self.send_request((n % connections as u64) as u32);
                if requests.is_none_or(|r| n + 1 < r) {
                    self.schedule_arrival();
                }
            }
            ClientEv::Send { client } => {
                let ClientsDef::Closed { requests, .. } = def else { return };
                let sent = self.clients.conns[client as usize].sent;
                if !self.clients.stopped && requests.is_none_or(|r| sent < r) {
                    self.send_request(client);
                }
            }
            ClientEv::Deliver { client, req } => self.arrive(client, req),
            ClientEv::Receive { req } => self.receive(req),
        }
    }

    fn send_request(&mut self, client: u32) {
        let req = self.clients.requests.len() as u64;
        self.clients.requests.push(RequestRec { client, sent: self.now, answered: false });
        self.clients.conns[client as usize].sent += 1;
        self.clients.first_sent.get_or_insert(self.now);
        self.emit(TraceEvent::ClientRequest { client, request: req });
        let network = self.clients.def.map_or(0, ClientsDef::network);
        if network == 0 {
            self.arrive(client, req);
        } else {
            let at = self.now + Duration::from_nanos(network);
            self.schedule(at, Ev::Client(ClientEv::Deliver { client, req }));
        }
    }

    /// The request reached the server: it waits for the reactor's poll.
    fn arrive(&mut self, client: u32, req: u64) {
        let conn = &mut self.clients.conns[client as usize];
        if !conn.opened {
            conn.opened = true;
            self.rl.pending_io.push_back(IoEvent::Open { client });
        }
        if self.ready.on {
            self.epoll_arrive(client, req);
        } else {
            self.rl.pending_io.push_back(IoEvent::Request { client, req, at: self.now });
        }
        self.wake_reactor();
    }

    /// The server closed a client's connection (a Python protocol's
    /// `loseConnection`, or its `dataReceived` raised). Answers written
    /// before a clean close still leave when the iteration ends; an abort
    /// discards them. The reactor hears the end in its next poll; the
    /// client's requests in flight go unanswered, and its next request
    /// connects again.
    pub(crate) fn client_closed(&mut self, conn: ConnectionId, abort: bool) {
        let Some(&client) = self.clients.by_conn.get(&conn.0) else { return };
        if abort {
            self.rl.outbox.retain(|(c, _)| *c != conn);
        }
        if let Some(c) = self.clients.conns.get_mut(client as usize) {
            if c.conn == Some(conn) {
                c.conn = None;
                c.opened = false;
                self.epoll_closed(client);
            }
        }
        if abort && self.sh.take_dropped(conn) {
            // The reactor dropped it because its protocol raised: the
            // protocol hears the loss now, within this read.
            self.io_next(IoEvent::Closed { conn, clean: false });
        } else {
            self.rl.pending_io.push_back(IoEvent::Closed { conn, clean: !abort });
            self.wake_reactor();
        }
    }

    /// The server sent an answer.
    pub(crate) fn on_response(&mut self, conn: ConnectionId, message: Message) {
        let Some(req) = message.as_text().and_then(|t| t.parse::<u64>().ok()) else { return };
        if !self.clients.by_conn.contains_key(&conn.0) {
            return;
        }
        let network = self.clients.def.map_or(0, ClientsDef::network);
        if network == 0 {
            self.receive(req);
        } else {
            let at = self.now + Duration::from_nanos(network);
            self.schedule(at, Ev::Client(ClientEv::Receive { req }));
        }
    }

    fn receive(&mut self, req: u64) {
        let Some(rec) = self.clients.requests.get_mut(req as usize) else { return };
        if rec.answered {
            return;
        }
        rec.answered = true;
        let (client, sent) = (rec.client, rec.sent);
        let latency = self.now.saturating_since(sent).as_nanos() as u64;
        self.clients.latencies.push(latency);
        self.clients.last_answer = Some(self.now);
        self.emit(TraceEvent::ClientResponse { client, request: req, latency });
        if let Some(ClientsDef::Closed { requests, .. }) = self.clients.def {
            let conn = &mut self.clients.conns[client as usize];
            let sent = conn.sent;
            if !self.clients.stopped && requests.is_none_or(|r| sent < r) {
                let pause = conn.closed.as_mut().map_or(0, ClosedClient::pause);
                let at = self.now + Duration::from_nanos(pause);
                self.schedule(at, Ev::Client(ClientEv::Send { client }));
            }
        }
    }
}
