//! Stream I/O: reading with a budget, buffered writes, water marks, closing.

use std::io::{ErrorKind, Read, Write};

use mio::net::TcpStream;
use twine_core::defer::{Failure, FailureKind};
use twine_core::protocol::ConnectionId;
use twine_core::reactor::WaterMark;

use super::connect::Connecting;
use super::fairness::{carry, Share};
use super::sources::{Source, Stream};
use super::Driver;

/// How a [`Driver::read_loop`] ended.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum ReadEnd {
    /// Nothing more to read now (drained, paused, budget spent).
    Stopped,
    /// The peer finished sending.
    EndOfFile,
    /// The connection is gone (a read error dropped it, or it was closed).
    Gone,
}

impl Stream {
    pub(super) fn new(conn: ConnectionId, sock: TcpStream, connecting: Option<Connecting>) -> Stream {
        Stream {
            conn,
            sock,
            connecting,
            out: Vec::new(),
            sent: 0,
            readable: true,
            read_closed: false,
            read_paused: false,
            closing: false,
            above_high: false,
            carried: false,
            heavy: false,
            report_drained: false,
            drain_queued: false,
            flush_queued: false,
            ws: None,
            exempt_end: 0,
            held: Vec::new(),
            stalled_since: None,
            kernel_queued: None,
            watched: false,
            _place: None,
        }
    }
}

/// Writes what the kernel takes now: `Ok(0)` when it takes nothing.
pub(super) fn write_some(sock: &mut TcpStream, data: &[u8]) -> std::io::Result<usize> {
    loop {
        match sock.write(data) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(0),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

impl Driver {
    pub(super) fn stream_event(&mut self, i: usize, event: &mio::event::Event) {
        let Some(s) = self.sources.stream(i) else { return };
        let conn = s.conn;
        if s.connecting.is_some() {
            return self.finish_connect(i, event);
        }
        if event.is_read_closed() {
            s.read_closed = true;
        }
        if (event.is_writable() || event.is_write_closed() || event.is_error()) && s.pending() > 0 {
            self.flush(i);
            self.apply_effects();
        }
        if (event.is_readable() || event.is_read_closed() || event.is_error())
            && self.sources.stream_of(i, conn).is_some()
        {
            self.input_ready(i);
        }
    }

    /// Reads until the kernel has no more, the budget is spent (then the
    /// stream is queued to be read again after the others), or reading is
    /// paused; returns how many messages it handed the protocol. A byte
    /// stream hands its protocol at most `share` of `lines_per_turn` lines
    /// ([`Config::lines_per_turn`](crate::Config::lines_per_turn)): the rest
    /// of that read is held for its next read.
    pub(super) fn read(&mut self, i: usize, share: Share) -> usize {
        let Some(s) = self.sources.stream(i) else { return 0 };
        if s.ws.is_some() {
            return self.ws_read(i, share);
        }
        let conn = s.conn;
        let budget = share.messages(self.config.lines_per_turn);
        let mut lines = budget;
        if !s.read_paused && !s.held.is_empty() {
            let held = std::mem::take(&mut s.held);
            self.deliver_lines(i, conn, &held, &mut lines);
        }
        let lines = std::cell::Cell::new(lines);
        let end = self.read_loop(
            i,
            conn,
            |s| !s.read_paused && s.held.is_empty() && lines.get() > 0,
            |driver, data| {
                let mut left = lines.get();
                driver.deliver_lines(i, conn, data, &mut left);
                lines.set(left);
            },
        );
        let handed = budget - lines.get();
        if end == ReadEnd::EndOfFile {
            self.end_of_file(i);
            return handed;
        }
        // Out of lines with input left (held, or in the kernel): read
        // again after the others.
        if let Some(s) = self.sources.stream_of(i, conn) {
            if lines.get() == 0 && !s.read_paused && (s.readable || !s.held.is_empty()) {
                carry(&mut self.carry, i, s);
            }
        }
        handed
    }

    /// Hands `data` to the protocol up to the `lines`-th `\n`, holding the
    /// rest in the stream for the next turn.
    fn deliver_lines(&mut self, i: usize, conn: ConnectionId, data: &[u8], lines: &mut usize) {
        let mut end = data.len();
        let mut seen = 0;
        for at in memchr::memchr_iter(b'\n', data) {
            seen += 1;
            if seen == *lines {
                end = at + 1;
                break;
            }
        }
        *lines -= seen.min(*lines);
        let (now, rest) = data.split_at(end);
        self.counts.bytes_in += now.len() as u64;
        self.reactor.handle_data(self.now, conn, now);
        self.apply_effects();
        if !rest.is_empty() {
            if let Some(s) = self.sources.stream_of(i, conn) {
                s.held.extend_from_slice(rest);
            }
        }
    }

    /// The read loop both kinds of stream share: reads while `may_read` and
    /// the kernel has bytes, handing each read to `deliver`, until the
    /// socket is drained or the turn's byte budget is spent (then the
    /// stream is carried to be read again after the others). A read error
    /// drops the connection here; end-of-file is the caller's to handle.
    pub(super) fn read_loop(
        &mut self,
        i: usize,
        conn: ConnectionId,
        may_read: impl Fn(&Stream) -> bool,
        mut deliver: impl FnMut(&mut Self, &[u8]),
    ) -> ReadEnd {
        let mut budget = self.config.read_budget;
        loop {
            let Some(s) = self.sources.stream_of(i, conn) else { return ReadEnd::Gone };
            if s.closing || !s.readable || !may_read(s) {
                return ReadEnd::Stopped;
            }
            match s.sock.read(&mut self.read_buf) {
                Ok(0) => return ReadEnd::EndOfFile,
                Ok(n) => {
                    // A short read emptied the socket; epoll (edge-triggered)
                    // reports the next arrival, so skip the read that would
                    // only say WouldBlock. After the peer's FIN no edge
                    // follows: then read on until end-of-file.
                    let drained = n < self.read_buf.len() && !s.read_closed;
                    if drained {
                        s.readable = false;
                    }
                    let buf = std::mem::take(&mut self.read_buf);
                    deliver(self, &buf[..n]);
                    self.read_buf = buf;
                    if drained {
                        return ReadEnd::Stopped;
                    }
                    budget = budget.saturating_sub(n);
                    if budget == 0 {
                        if let Some(s) = self.sources.stream_of(i, conn) {
                            carry(&mut self.carry, i, s);
                        }
                        return ReadEnd::Stopped;
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    s.readable = false;
                    return ReadEnd::Stopped;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    self.lost(i, e);
                    self.apply_effects();
                    return ReadEnd::Gone;
                }
            }
        }
    }

    /// The peer finished sending. Send what is still queued, then close,
    /// reporting a clean close.
    pub(super) fn end_of_file(&mut self, i: usize) {
        let Some(s) = self.sources.stream(i) else { return };
        s.readable = false;
        s.read_closed = true;
        if s.pending() == 0 {
            self.close_stream(i, Failure::new(FailureKind::ConnectionDone, "the peer closed the connection"));
            self.apply_effects();
        } else {
            s.closing = true;
        }
    }

    /// A protocol's write ([`Effect::Write`](twine_core::reactor::Effect::Write)):
    /// its bytes leave when the turn's callbacks are done
    /// ([`flush_turn_writes`](Self::flush_turn_writes)), as Twisted's
    /// `transport.write` only buffers until the reactor's next poll. So the
    /// answers to lines read in one turn leave together after the turn's
    /// handlers (a handler that blocks holds back the answers before it, as
    /// in Twisted and in the simulation), with the same system calls as
    /// writing each at once. A write larger than the high-water mark goes
    /// now, where the water marks are.
    pub(super) fn write_at_turn_end(&mut self, i: usize, data: Vec<u8>) {
        let high_water = self.config.high_water;
        let Some(s) = self.sources.stream(i) else { return };
        if s.pending() > 0 || s.connecting.is_some() || s.ws.is_some() || data.len() > high_water {
            return self.write(i, data);
        }
        self.counts.buffered_bytes += data.len() as u64;
        let spare = std::mem::replace(&mut s.out, data);
        s.sent = 0;
        if !s.flush_queued {
            s.flush_queued = true;
            self.turn_writes.push((i, s.conn.0));
        }
        if spare.capacity() > 0 {
            self.reactor.recycle_buffer(spare);
        }
    }

    /// Sends the writes of this turn ([`write_at_turn_end`](Self::write_at_turn_end)),
    /// and those the sending causes (a close after the last byte runs
    /// `connection_lost`, which may write).
    pub(super) fn flush_turn_writes(&mut self) {
        let mut queued = Vec::new();
        while !self.turn_writes.is_empty() {
            // Swapped, not taken: both lists keep their room (no allocation per pass).
            std::mem::swap(&mut queued, &mut self.turn_writes);
            for (i, key) in queued.drain(..) {
                let Some(s) = self.sources.stream_of(i, ConnectionId(key)) else { continue };
                s.flush_queued = false;
                if s.pending() == 0 {
                    continue;
                }
                self.flush(i);
                if self.sources.stream_of(i, ConnectionId(key)).is_some_and(|s| s.pending() > 0) {
                    self.output_waiting(i);
                }
            }
            self.apply_effects();
        }
        if self.turn_writes.capacity() < queued.capacity() {
            self.turn_writes = queued;
        }
    }

    /// Sends `data` now if nothing is queued, keeping what the kernel does
    /// not take; otherwise queues it behind what is there.
    pub(super) fn write(&mut self, i: usize, data: Vec<u8>) {
        let Some(s) = self.sources.stream(i) else { return };
        if s.pending() > 0 || s.connecting.is_some() {
            if s.sent > 0 && s.sent >= s.out.len() / 2 {
                s.out.drain(..s.sent);
                s.exempt_end = s.exempt_end.saturating_sub(s.sent);
                s.sent = 0;
            }
            s.out.extend_from_slice(&data);
            self.counts.buffered_bytes += data.len() as u64;
            self.reactor.recycle_buffer(data);
            self.output_waiting(i);
        } else {
            match write_some(&mut s.sock, &data) {
                Ok(n) => {
                    if s.ws.is_none() {
                        self.counts.bytes_out += n as u64;
                    }
                    if n == data.len() {
                        self.reactor.recycle_buffer(data);
                        return self.queue_drained(i);
                    }
                    self.counts.buffered_bytes += (data.len() - n) as u64;
                    if s.ws.is_some() && data.len() > self.config.high_water {
                        s.exempt_end = data.len();
                    }
                    let spare = std::mem::replace(&mut s.out, data);
                    s.sent = n;
                    if spare.capacity() > 0 {
                        self.reactor.recycle_buffer(spare);
                    }
                    self.output_waiting(i);
                }
                Err(e) => {
                    self.reactor.recycle_buffer(data);
                    return self.lost(i, e);
                }
            }
        }
        let Some(s) = self.sources.stream(i) else { return };
        if !s.above_high && s.level() > self.config.high_water {
            s.above_high = true;
            let conn = s.conn;
            self.reactor.handle_write_buffer(self.now, conn, WaterMark::High);
        }
    }

    /// Sends queued bytes the kernel now has room for.
    fn flush(&mut self, i: usize) {
        let Some(s) = self.sources.stream(i) else { return };
        let before = s.pending();
        while s.pending() > 0 {
            match write_some(&mut s.sock, &s.out[s.sent..]) {
                Ok(0) => break,
                Ok(n) => {
                    s.sent += n;
                    if s.ws.is_none() {
                        self.counts.bytes_out += n as u64;
                    }
                    self.counts.buffered_bytes -= n as u64;
                }
                Err(e) => return self.lost(i, e),
            }
        }
        super::websocket::shut_if_failed(s);
        let (moved, drained) = (s.pending() < before, s.pending() == 0);
        if drained && s.out.capacity() > 0 {
            let buf = std::mem::take(&mut s.out);
            s.sent = 0;
            s.exempt_end = 0;
            self.reactor.recycle_buffer(buf);
        }
        if moved {
            self.output_moved(i);
        }
        let Some(s) = self.sources.stream(i) else { return };
        let conn = s.conn;
        if s.above_high && s.level() <= self.config.low_water {
            s.above_high = false;
            self.reactor.handle_write_buffer(self.now, conn, WaterMark::Low);
        }
        if let Some(s) = self.sources.stream_of(i, conn) {
            if s.closing && s.pending() == 0 {
                self.close_stream(i, Failure::new(FailureKind::ConnectionDone, "connection closed"));
                return;
            }
        }
        if drained {
            self.queue_drained(i);
        }
    }

    /// Notes that stream `i` has sent everything it was given, if the
    /// reactor asked to hear it (only a producer listens: an echo sends
    /// every message without this report).
    pub(super) fn queue_drained(&mut self, i: usize) {
        let Some(s) = self.sources.stream(i) else { return };
        if s.report_drained && !s.drain_queued && s.connecting.is_none() {
            s.drain_queued = true;
            self.drained.push((i, s.conn.0));
        }
    }

    /// [`Effect::ReportDrained`](twine_core::reactor::Effect::ReportDrained):
    /// a producer was registered (`on`) or unregistered. One registered
    /// on a stream with nothing waiting hears of the next drain.
    pub(super) fn set_report_drained(&mut self, i: usize, on: bool) {
        if let Some(s) = self.sources.stream(i) {
            s.report_drained = on;
        }
    }

    /// Tells the reactor which streams sent everything since the last turn
    /// (`handle_write_drained`: a registered producer is resumed).
    pub(super) fn run_drained(&mut self) {
        // Twice a loop, nearly always empty: not even the list's swap.
        if self.drained.is_empty() {
            return;
        }
        let mut drained = std::mem::take(&mut self.drained);
        for (i, key) in drained.drain(..) {
            let Some(s) = self.sources.stream_of(i, ConnectionId(key)) else { continue };
            s.drain_queued = false;
            if s.pending() == 0 && !s.closing {
                self.reactor.handle_write_drained(self.now, s.conn);
                self.apply_effects();
            }
        }
        // Keep the list's room for the next pass (no allocation per pass).
        if self.drained.is_empty() {
            self.drained = drained;
        }
    }

    /// `lose_connection`: stop reading, close once everything is sent.
    pub(super) fn close_when_flushed(&mut self, i: usize) {
        let Some(s) = self.sources.stream(i) else { return };
        if s.connecting.is_some() {
            return self.abort(i);
        }
        s.closing = true;
        if s.pending() == 0 {
            self.close_stream(i, Failure::new(FailureKind::ConnectionDone, "connection closed"));
        }
    }

    /// `abort_connection`: close now, dropping anything unsent.
    pub(super) fn abort(&mut self, i: usize) {
        let Some(s) = self.sources.stream(i) else { return };
        if s.connecting.is_some() {
            // The reactor gave up the attempt and has already told the factory.
            self.remove_stream(i);
            return;
        }
        if !self.reactor.is_running() {
            // The reactor's own `disconnectAll` as it stops: a connection
            // still open when the reactor stopped, as `finish` counts them.
            self.report.aborted_connections += 1;
        }
        self.close_stream(i, Failure::new(FailureKind::ConnectionLost, "connection aborted"));
    }

    pub(super) fn set_read_paused(&mut self, i: usize, paused: bool) {
        let Some(s) = self.sources.stream(i) else { return };
        if s.read_paused == paused {
            return;
        }
        s.read_paused = paused;
        if paused {
            self.counts.reading_paused += 1;
        } else {
            self.counts.reading_paused -= 1;
            // Bytes that arrived while paused raised no new edge: read them.
            if s.readable || s.may_hold_input() {
                carry(&mut self.carry, i, s);
            }
        }
    }

    /// The connection broke.
    pub(super) fn lost(&mut self, i: usize, e: std::io::Error) {
        if self.sources.stream(i).is_some_and(|s| s.connecting.is_some()) {
            return self.connect_failed(i, e);
        }
        self.close_stream(i, Failure::from_error(FailureKind::ConnectionLost, e));
    }

    /// Closes the socket and tells the reactor (once: the stream is gone after).
    pub(super) fn close_stream(&mut self, i: usize, reason: Failure) {
        if let Some(conn) = self.remove_stream(i) {
            self.reactor.handle_closed(self.now, conn, reason);
        }
    }

    /// Forgets a stream and closes its socket, without telling the reactor.
    pub(super) fn remove_stream(&mut self, i: usize) -> Option<ConnectionId> {
        let Some(Source::Stream(mut s)) = self.sources.remove(i) else { return None };
        let _ = self.poll.registry().deregister(&mut s.sock);
        self.conns.remove(&s.conn);
        if s.ws.is_some() {
            self.ws_open -= 1;
            if self.ws_open == 0 {
                self.ws_all_closed();
            }
        }
        self.counts.buffered_bytes -= s.pending() as u64;
        if s.read_paused {
            self.counts.reading_paused -= 1;
        }
        if s.out.capacity() > 0 {
            self.reactor.recycle_buffer(std::mem::take(&mut s.out));
        }
        if s.connecting.is_some() {
            self.connecting.retain(|(_, c)| *c != s.conn);
        }
        Some(s.conn)
    }

    /// Every open stream, for shutdown.
    pub(super) fn stream_slots(&self) -> Vec<usize> {
        self.conns.values().copied().collect()
    }
}
