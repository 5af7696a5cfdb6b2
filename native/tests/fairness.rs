//! Fair sharing under floods, over real loopback sockets: a light client's
//! message is handled ahead of the floods, whatever their number, and its
//! answer leaves before the floods of its turn are read. The reactor's own
//! log of the lines it handled (in the order it handled them) is what is
//! counted, not time: how many flood lines the reactor handled after the
//! light client's line reached it and before that line.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use twine_core::protocol::{factory, Message, Protocol, Transport};
use twine_core::protocols::basic::LineReceiver;
use twine_native::{Config, ReactorThread};

const FLOODERS: usize = 8;
const FLOOD_LINES: usize = 3000;

/// Where the server's protocols write down what they handle.
#[derive(Clone)]
struct Log {
    lines: Arc<Mutex<Vec<String>>>,
    /// `block` was handled: the reactor waits in that handler until released.
    entered: Arc<Mutex<Sender<()>>>,
    release: Arc<Mutex<Receiver<()>>>,
    /// Hold the reactor on the first flood line handled after `hello`.
    hold_after_hello: bool,
    held: Arc<AtomicBool>,
}

impl Log {
    /// A log, the receiver told when the reactor is held, and the sender that releases it.
    fn new(hold_after_hello: bool) -> (Log, Receiver<()>, Sender<()>) {
        let (entered_tx, entered) = channel();
        let (release, release_rx) = channel();
        let log = Log {
            lines: Arc::default(),
            entered: Arc::new(Mutex::new(entered_tx)),
            release: Arc::new(Mutex::new(release_rx)),
            hold_after_hello,
            held: Arc::default(),
        };
        (log, entered, release)
    }

    /// Writes down `mark` and holds the reactor until released.
    fn hold(&self, mark: &str) {
        self.lines.lock().unwrap().push(mark.to_owned());
        self.entered.lock().unwrap().send(()).unwrap();
        let _ = self.release.lock().unwrap().recv_timeout(Duration::from_secs(20));
    }
}

/// Writes down every line it is handed and answers `hello`; on `block`,
/// writes down `MARK` and holds the reactor (in the middle of a turn) until
/// released, and so on the first flood line after `hello` when asked to.
struct Recorder(Log);

impl Protocol for Recorder {
    fn message_received(&mut self, transport: &Transport, message: Message) {
        let line = String::from_utf8_lossy(message.as_bytes()).into_owned();
        if line == "block" {
            return self.0.hold("MARK");
        }
        let after_hello = self.0.lines.lock().unwrap().iter().any(|l| l == "hello");
        if line == "hello" {
            transport.write(b"hello\r\n");
        }
        self.0.lines.lock().unwrap().push(line);
        if self.0.hold_after_hello && after_hello && !self.0.held.swap(true, Ordering::SeqCst) {
            self.0.hold("HELD");
        }
    }
}

/// A line server logging to `log`, on a reactor with these budgets.
fn spawn_server(log: &Log, lines_per_turn: usize, turn_budget: usize) -> (ReactorThread, SocketAddr) {
    let config = Config { lines_per_turn, turn_budget, ..Config::default() };
    let server_log = log.clone();
    ReactorThread::spawn(config, move |setup| {
        let log = server_log.clone();
        setup.listen_tcp(([127, 0, 0, 1], 0).into(), factory(move || LineReceiver::new(Recorder(log.clone()))))
    })
    .unwrap()
}

/// Waits until the server has handled `count` lines (or 30 s).
fn wait_for_lines(log: &Log, count: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while log.lines.lock().unwrap().len() < count && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    log.lines.lock().unwrap().clone()
}

/// Waits until the server has handled `count` lines of every flooder (or 30 s).
fn wait_until_each_flooder_has_handled(log: &Log, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let done = |lines: &[String]| {
        (0..FLOODERS).all(|k| lines.iter().filter(|l| l.starts_with(&format!("f{k} "))).count() >= count)
    };
    while !done(&log.lines.lock().unwrap()) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn flood_line(k: usize, seq: usize) -> String {
    format!("f{k} {seq}")
}

/// Sends `lines` as `\r\n` lines, in one blocking stream of writes.
fn send_lines(mut stream: &TcpStream, lines: impl Iterator<Item = String>) {
    let wire: String = lines.map(|l| l + "\r\n").collect();
    stream.write_all(wire.as_bytes()).unwrap();
}

/// Connects the flooders, each sending `FLOOD_LINES` lines from its own
/// thread without waiting; with `block`, the first one sends `block`
/// halfway, when all of them have been flooding for a while.
fn flood(addr: SocketAddr, block: bool) -> Vec<std::thread::JoinHandle<TcpStream>> {
    (0..FLOODERS)
        .map(|k| {
            let stream = TcpStream::connect(addr).unwrap();
            std::thread::spawn(move || {
                let blocks = block && k == 0;
                let half = if blocks { FLOOD_LINES / 2 } else { FLOOD_LINES };
                send_lines(&stream, (0..half).map(|i| flood_line(k, i)));
                if blocks {
                    send_lines(&stream, std::iter::once("block".to_owned()));
                    send_lines(&stream, (half..FLOOD_LINES).map(|i| flood_line(k, i)));
                }
                stream
            })
        })
        .collect()
}

/// Eight clients flood the server with lines, without waiting; the first
/// one's `block` line holds the reactor in the middle of a turn, and while
/// it is held a light client sends one line. Once released, the reactor
/// finishes that turn and then reads the light client first: between the
/// mark and the light line it handles at most the rest of one turn budget
/// (less than `turn_budget + lines_per_turn` flood lines), not one budget
/// per flooder. Every flood line is handled, in its client's order.
#[test]
fn a_light_clients_line_waits_for_at_most_one_turn_budget_of_eight_floods() {
    const TURN: usize = 16;
    const PER_CONNECTION: usize = 16;
    let (log, entered, release) = Log::new(false);
    let (server, addr) = spawn_server(&log, PER_CONNECTION, TURN);
    let light = TcpStream::connect(addr).unwrap();
    let writers = flood(addr, true);
    entered.recv_timeout(Duration::from_secs(30)).expect("the reactor reached the block line");
    send_lines(&light, std::iter::once("hello".to_owned()));
    // Long enough for the line to reach the server's kernel.
    std::thread::sleep(Duration::from_millis(200));
    release.send(()).unwrap();
    let streams: Vec<TcpStream> = writers.into_iter().map(|w| w.join().unwrap()).collect();
    let lines = wait_for_lines(&log, FLOODERS * FLOOD_LINES + 2);
    assert_eq!(lines.len(), FLOODERS * FLOOD_LINES + 2, "every line was handled once");
    let mark = lines.iter().position(|l| l == "MARK").unwrap();
    let hello = lines.iter().position(|l| l == "hello").unwrap();
    assert!(hello > mark, "the light line was sent after the mark");
    let between = hello - mark - 1;
    assert!(
        between < TURN + PER_CONNECTION,
        "{between} flood lines were handled after the light client's line arrived and before it"
    );
    for k in 0..FLOODERS {
        let prefix = format!("f{k} ");
        let mine: Vec<&String> = lines.iter().filter(|l| l.starts_with(&prefix)).collect();
        assert!(mine.iter().enumerate().all(|(i, l)| **l == flood_line(k, i)), "flooder {k}'s lines out of order");
        assert_eq!(mine.len(), FLOOD_LINES);
    }
    drop((streams, light));
    server.shutdown();
    assert!(server.join().is_clean());
}

/// Eight clients flood the server; once it has handled a thousand of their
/// lines a light client sends `hello`. The reactor reads it in a turn's
/// light pass, and the first flood line it handles after it (in that
/// turn's heavy pass) holds the reactor. The answer to `hello` must reach
/// the light client while the reactor is held: it left before the floods
/// were read. (Sent at the end of the whole turn, it would wait for the
/// release: a turn budget of flood messages behind.)
#[test]
fn a_light_clients_answer_leaves_before_the_floods_of_its_turn_are_read() {
    let (log, entered, release) = Log::new(true);
    let (server, addr) = spawn_server(&log, 16, 16);
    let light = TcpStream::connect(addr).unwrap();
    let writers = flood(addr, false);
    // Every flooder must be known as heavy before `hello`: a connection not
    // read yet is presumed light, and its first few lines share the light
    // pass with `hello` (by design: nothing tells a flood from a client
    // before its first read). Under load a flooder's thread can start late.
    wait_until_each_flooder_has_handled(&log, 64);
    send_lines(&light, std::iter::once("hello".to_owned()));
    entered.recv_timeout(Duration::from_secs(30)).expect("a flood line after hello held the reactor");
    light.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut answer = String::new();
    let answered = BufReader::new(&light).read_line(&mut answer);
    release.send(()).unwrap();
    assert!(
        answered.is_ok() && answer == "hello\r\n",
        "no answer while the reactor was held in the flood pass after hello: {answered:?} {answer:?}"
    );
    let streams: Vec<TcpStream> = writers.into_iter().map(|w| w.join().unwrap()).collect();
    let lines = wait_for_lines(&log, FLOODERS * FLOOD_LINES + 2);
    assert_eq!(lines.len(), FLOODERS * FLOOD_LINES + 2, "every line was handled once");
    drop((streams, light));
    server.shutdown();
    assert!(server.join().is_clean());
}
