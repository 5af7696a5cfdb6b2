//! When a protocol's writes leave, over real loopback sockets: as in
//! Twisted, `transport.write` only buffers, and the bytes go out when the
//! reactor has run the turn's callbacks. So when two lines arrive together
//! and each handler answers and then blocks the reactor, neither answer
//! leaves before both handlers are done (what the simulation models, and
//! what CPython + Twisted measure in echo-blocking).

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use twine_core::protocol::{factory, Message, Protocol, Transport};
use twine_core::protocols::basic::LineReceiver;
use twine_native::{Config, ReactorThread};

/// What the server's handlers share with the test.
#[derive(Clone)]
struct Shared {
    /// When each blocking handler ended.
    ended: Arc<Mutex<Vec<Instant>>>,
    /// `hold` was handled: the reactor waits in that handler until released.
    entered: Arc<Mutex<Sender<()>>>,
    release: Arc<Mutex<Receiver<()>>>,
}

/// `hold` holds the reactor until released (so the next lines arrive
/// while it is busy and are read in one turn); any other line is answered
/// at once, then the handler blocks the reactor for 150 ms.
struct Answerer(Shared);

impl Protocol for Answerer {
    fn message_received(&mut self, transport: &Transport, message: Message) {
        let line = String::from_utf8_lossy(message.as_bytes()).into_owned();
        if line == "hold" {
            self.0.entered.lock().unwrap().send(()).unwrap();
            let _ = self.0.release.lock().unwrap().recv_timeout(Duration::from_secs(20));
            return;
        }
        transport.write(format!("{line} answered\r\n").as_bytes());
        std::thread::sleep(Duration::from_millis(150));
        self.0.ended.lock().unwrap().push(Instant::now());
    }
}

#[test]
fn answers_to_lines_read_in_one_turn_leave_after_all_of_the_turns_handlers() {
    let (entered_tx, entered) = channel();
    let (release, release_rx) = channel();
    let shared = Shared {
        ended: Arc::default(),
        entered: Arc::new(Mutex::new(entered_tx)),
        release: Arc::new(Mutex::new(release_rx)),
    };
    let server_shared = shared.clone();
    let (server, addr): (ReactorThread, SocketAddr) = ReactorThread::spawn(Config::default(), move |setup| {
        let shared = server_shared.clone();
        setup.listen_tcp(([127, 0, 0, 1], 0).into(), factory(move || LineReceiver::new(Answerer(shared.clone()))))
    })
    .unwrap();
    let mut holder = TcpStream::connect(addr).unwrap();
    let mut clients: Vec<TcpStream> = (0..2).map(|_| TcpStream::connect(addr).unwrap()).collect();
    holder.write_all(b"hold\r\n").unwrap();
    entered.recv_timeout(Duration::from_secs(20)).expect("the reactor reached the hold line");
    for (k, client) in clients.iter_mut().enumerate() {
        client.write_all(format!("line {k}\r\n").as_bytes()).unwrap();
    }
    // Long enough for both lines to reach the server's kernel.
    std::thread::sleep(Duration::from_millis(200));
    release.send(()).unwrap();
    let arrived: Vec<(String, Instant)> = clients
        .iter()
        .map(|client| {
            client.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
            let mut answer = String::new();
            BufReader::new(client).read_line(&mut answer).unwrap();
            (answer, Instant::now())
        })
        .collect();
    let ended = shared.ended.lock().unwrap().clone();
    assert_eq!(ended.len(), 2, "both handlers ran");
    let last_ended = ended.iter().max().unwrap();
    for (k, (answer, at)) in arrived.iter().enumerate() {
        assert_eq!(answer, &format!("line {k} answered\r\n"));
        assert!(
            at >= last_ended,
            "line {k}'s answer arrived {:?} before the turn's last handler ended",
            *last_ended - *at
        );
    }
    drop((holder, clients));
    server.shutdown();
    assert!(server.join().is_clean());
}
