//! Outgoing connections: `connect_tcp` through the driver, refused, timed out.

mod common;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::mpsc::{self, Sender};
use std::time::{Duration, Instant};

use common::line_echo;
use twine_core::defer::{Failure, FailureKind};
use twine_core::protocol::{ClientFactory, Connector, Factory, Message, Protocol, Transport};
use twine_core::protocols::basic::LineReceiver;
use twine_native::Config;

#[derive(Debug, PartialEq)]
enum Heard {
    Line(String),
    Failed(FailureKind, String),
    Lost(FailureKind),
}

/// Says hello, reports the first line back, then hangs up.
struct Hello(Sender<Heard>);

impl Protocol for Hello {
    fn connection_made(&mut self, transport: &Transport) {
        transport.send("hello from a client");
    }

    fn message_received(&mut self, transport: &Transport, message: Message) {
        let _ = self.0.send(Heard::Line(String::from_utf8_lossy(message.as_bytes()).into_owned()));
        transport.lose_connection();
    }
}

struct HelloFactory(Sender<Heard>);

impl Factory for HelloFactory {
    fn build_protocol(&mut self, _: SocketAddr) -> Option<Box<dyn Protocol>> {
        Some(Box::new(LineReceiver::new(Hello(self.0.clone()))))
    }
}

impl ClientFactory for HelloFactory {
    fn client_connection_failed(&mut self, _: &Connector, reason: &Failure) {
        let _ = self.0.send(Heard::Failed(reason.kind(), reason.message().to_owned()));
    }

    fn client_connection_lost(&mut self, _: &Connector, reason: &Failure) {
        let _ = self.0.send(Heard::Lost(reason.kind()));
    }
}

fn connect(server: &twine_native::ReactorThread, to: SocketAddr, timeout: Duration) -> mpsc::Receiver<Heard> {
    let (tx, rx) = mpsc::channel();
    server.handle().call_from_thread(move |reactor| {
        reactor.connect_tcp(to, HelloFactory(tx), timeout);
    });
    rx
}

#[test]
fn a_client_connection_talks_to_a_listener_on_the_same_reactor() {
    let (server, addr) = line_echo(Config::default());
    let rx = connect(&server, addr, Duration::from_secs(5));
    let wait = Duration::from_secs(5);
    assert_eq!(rx.recv_timeout(wait).unwrap(), Heard::Line("hello from a client".into()));
    assert_eq!(rx.recv_timeout(wait).unwrap(), Heard::Lost(FailureKind::ConnectionDone));
    server.shutdown();
    assert!(server.join().is_clean());
}

#[test]
fn a_refused_connection_reaches_the_client_factory() {
    let (server, _) = line_echo(Config::default());
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = closed.local_addr().unwrap();
    drop(closed);
    let rx = connect(&server, addr, Duration::from_secs(5));
    match rx.recv_timeout(Duration::from_secs(5)).unwrap() {
        Heard::Failed(kind, message) => {
            assert_eq!(kind, FailureKind::ConnectionRefused, "{message}");
            assert!(message.contains(&addr.to_string()), "{message}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn a_connection_that_never_completes_times_out() {
    let (server, _) = line_echo(Config::default());
    // A listener that never accepts, with the smallest backlog: once it is
    // full the kernel drops further SYNs and connecting hangs.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    // SAFETY: listen(2) on a socket this test owns, to shrink its backlog.
    assert_eq!(unsafe { libc::listen(listener.as_raw_fd(), 0) }, 0);
    let addr = listener.local_addr().unwrap();
    let mut fillers = Vec::new();
    let filled = (0..16).any(|_| match TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
        Ok(s) => {
            fillers.push(s);
            false
        }
        Err(_) => true,
    });
    assert!(filled, "could not fill the listener's backlog");

    let started = Instant::now();
    let rx = connect(&server, addr, Duration::from_millis(300));
    match rx.recv_timeout(Duration::from_secs(5)).unwrap() {
        Heard::Failed(kind, message) => assert_eq!(kind, FailureKind::TimedOut, "{message}"),
        other => panic!("expected a timeout, got {other:?}"),
    }
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(290) && took < Duration::from_secs(3), "timed out after {took:?}");
}
