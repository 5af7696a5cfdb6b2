//! Graceful shutdown: of the `twine` process on SIGTERM, and of an in-process
//! reactor thread with its pool.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{wait_until, TwineProcess};
use twine_core::defer::FailureKind;
use twine_core::threads::defer_to_thread;
use twine_native::{Config, ReactorThread};

const CLIENTS: usize = 50;

/// Echoes batches of lines until the server closes; returns (sent, received).
fn stream_until_closed(addr: SocketAddr, client: usize, echoed: Arc<AtomicUsize>) -> (Vec<String>, Vec<String>) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let (mut sent, mut received) = (Vec::new(), Vec::new());
    let started = Instant::now();
    'outer: while started.elapsed() < Duration::from_secs(15) {
        let batch: Vec<String> = (0..10).map(|i| format!("client {client} line {}", sent.len() + i)).collect();
        let wire: String = batch.iter().map(|l| format!("{l}\r\n")).collect();
        if stream.write_all(wire.as_bytes()).is_err() {
            break;
        }
        sent.extend(batch);
        for _ in 0..10 {
            let mut line = String::new();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => break 'outer,
                Ok(_) => {
                    received.push(line.trim_end().to_owned());
                    echoed.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }
    (sent, received)
}

#[test]
fn sigterm_with_fifty_clients_mid_stream_exits_zero_within_five_seconds() {
    let mut twine = TwineProcess::serve(&["--tcp", "127.0.0.1:0", "--http", "off", "--log", "info"]);
    let first = twine.next_line();
    let addr: SocketAddr = first
        .trim()
        .strip_prefix("tcp line echo listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .parse()
        .unwrap();

    let echoed: Vec<Arc<AtomicUsize>> = (0..CLIENTS).map(|_| Arc::default()).collect();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let echoed = echoed[c].clone();
            std::thread::spawn(move || stream_until_closed(addr, c, echoed))
        })
        .collect();
    // Every client is mid-stream: it has had echoes and keeps sending.
    assert!(
        wait_until(Duration::from_secs(20), || echoed.iter().all(|e| e.load(Ordering::Relaxed) >= 20)),
        "clients did not get going"
    );

    twine.sigterm();
    let status = twine.wait_exit(Duration::from_secs(5)).expect("twine still running 5 s after SIGTERM");
    assert!(status.success(), "twine exited with {status}");

    for (c, client) in clients.into_iter().enumerate() {
        let (sent, received) = client.join().unwrap();
        assert!(!received.is_empty(), "client {c} got no echo");
        assert!(received.len() <= sent.len());
        assert!(received[..] == sent[..received.len()], "client {c}'s echoes are not a prefix of what it sent");
    }
    let stderr = twine.stderr();
    assert!(stderr.contains("shutting down (SIGTERM)"), "{stderr}");
    assert!(stderr.contains("0 pool thread(s) left running"), "{stderr}");
}

fn twine_threads() -> Vec<String> {
    let mut names = Vec::new();
    for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        if let Ok(name) = std::fs::read_to_string(task.path().join("comm")) {
            if name.starts_with("twine-") {
                names.push(name.trim().to_owned());
            }
        }
    }
    names
}

#[test]
fn shutdown_lets_running_jobs_finish_joins_the_pool_and_leaves_no_thread() {
    // A job running when shutdown begins is allowed to finish.
    let (server, ()) = ReactorThread::spawn(Config::default(), |_| Ok(())).unwrap();
    let finished = Arc::new(AtomicBool::new(false));
    let f = finished.clone();
    server.handle().call_from_thread(move |reactor| {
        for _ in 0..4 {
            drop(defer_to_thread(reactor, || std::thread::sleep(Duration::from_millis(20))));
        }
        drop(defer_to_thread(reactor, move || {
            std::thread::sleep(Duration::from_millis(300));
            f.store(true, Ordering::SeqCst);
        }));
    });
    assert!(wait_until(Duration::from_secs(5), || server.metrics().snapshot().pool_busy > 0));
    assert!(!twine_threads().is_empty());
    let asked = Instant::now();
    server.shutdown();
    let report = server.join();
    assert!(report.is_clean(), "{report:?}");
    assert!(finished.load(Ordering::SeqCst), "the running job was not allowed to finish");
    assert!(asked.elapsed() < Duration::from_secs(5));
    assert!(
        wait_until(Duration::from_secs(1), || twine_threads().is_empty()),
        "threads left behind: {:?}",
        twine_threads()
    );

    // A job that outlives the grace period: the reactor still stops on time,
    // the job's Deferred hears Cancelled instead of waiting forever, and the
    // report says a thread was left running.
    let config = Config {
        shutdown_grace: Duration::from_millis(200),
        join_timeout: Duration::from_millis(200),
        ..Config::default()
    };
    let (server, ()) = ReactorThread::spawn(config, |_| Ok(())).unwrap();
    let heard = Arc::new(std::sync::Mutex::new(None));
    let h = heard.clone();
    server.handle().call_from_thread(move |reactor| {
        defer_to_thread(reactor, || std::thread::sleep(Duration::from_secs(3))).add_errback(move |failure| {
            *h.lock().unwrap() = Some(failure.kind());
        });
    });
    assert!(wait_until(Duration::from_secs(5), || server.metrics().snapshot().pool_busy > 0));
    let asked = Instant::now();
    server.shutdown();
    let report = server.join();
    assert!(asked.elapsed() < Duration::from_secs(2), "took {:?}", asked.elapsed());
    assert_eq!(*heard.lock().unwrap(), Some(FailureKind::Cancelled));
    assert_eq!((report.cancelled_jobs, report.threads_left_running), (1, 1), "{report:?}");
}

/// A protocol that notes how its connection ended.
struct NotesLoss(Arc<std::sync::Mutex<Vec<String>>>);

impl twine_core::protocol::Protocol for NotesLoss {
    fn connection_made(&mut self, transport: &twine_core::protocol::Transport) {
        transport.write(b"hello\r\n");
    }

    fn connection_lost(&mut self, _: &twine_core::protocol::Transport, reason: &twine_core::defer::Failure) {
        let kind = if reason.check(FailureKind::ConnectionLost) { "ConnectionLost" } else { "other" };
        self.0.lock().unwrap().push(format!("{kind}: {}", reason.message()));
    }
}

#[test]
fn a_reactor_stopped_by_its_program_closes_open_connections_as_twisted_does() {
    // Twisted's `disconnectAll` as the reactor stops: the protocol hears
    // `connectionLost(ConnectionLost)` during shutdown, the client sees the
    // socket close, and the report counts the connection as aborted.
    let lost = Arc::new(std::sync::Mutex::new(Vec::new()));
    let l = lost.clone();
    let (server, addr) = ReactorThread::spawn(Config::default(), move |setup| {
        setup.listen_tcp(([127, 0, 0, 1], 0).into(), twine_core::protocol::factory(move || NotesLoss(l.clone())))
    })
    .unwrap();
    let client = TcpStream::connect(addr).unwrap();
    client.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut reader = BufReader::new(client);
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    assert_eq!(line, "hello\r\n", "connected and served");
    server.handle().call_from_thread(|reactor| reactor.stop().unwrap());
    let report = server.join();
    assert_eq!(
        *lost.lock().unwrap(),
        ["ConnectionLost: Connection to the other side was lost in a non-clean fashion: Connection lost."]
    );
    assert_eq!(report.aborted_connections, 1, "{report:?}");
    let mut rest = String::new();
    assert!(matches!(reader.read_line(&mut rest), Ok(0) | Err(_)), "the socket is closed: {rest:?}");
}
