//! The limits that keep one client from taking what others need, over
//! real loopback sockets: connections per address (`twine serve
//! --max-connections-per-ip`), the write timeout (`--write-timeout`), and
//! the line budget per turn (a flood's share of a reactor turn).

mod gateway_support;

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use gateway_support::*;
use twine_native::Config;

/// A TCP connection to `addr` from the loopback address `from` (Linux
/// routes all of 127.0.0.0/8 to the loopback device: a second client
/// address without a second machine).
fn connect_from(from: &str, addr: SocketAddr) -> TcpStream {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    let local: SocketAddr = (from.parse::<IpAddr>().unwrap(), 0).into();
    socket.bind(&local.into()).unwrap();
    socket.connect(&addr.into()).unwrap();
    let stream: TcpStream = socket.into();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    stream
}

/// Sends `text` as a line and reads one line back.
fn echo(stream: &TcpStream, text: &str) -> String {
    (&*stream).write_all(format!("{text}\r\n").as_bytes()).unwrap();
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line).unwrap();
    line
}

/// `GET /healthz` on a connection kept open afterwards; the status.
fn keep_alive_get(stream: &TcpStream, addr: SocketAddr) -> u16 {
    (&*stream).write_all(format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes()).unwrap();
    let mut buf = [0u8; 1024];
    let n = (&*stream).read(&mut buf).unwrap();
    String::from_utf8_lossy(&buf[..n]).get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0)
}

/// Everything the server sends until it closes (or 5 s pass).
fn read_to_close(mut stream: TcpStream) -> String {
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn one_address_past_its_connection_limit_is_refused_with_the_reason_and_others_carry_on() {
    let mut twine = TwineProcess::serve(&[
        "--tcp",
        "127.0.0.1:0",
        "--http",
        "127.0.0.1:0",
        "--max-connections-per-ip",
        "3",
        "--reactors",
        "1",
        "--log",
        "warn",
    ]);
    let tcp: SocketAddr = twine.line_after("tcp line echo listening on ").parse().unwrap();
    let http: SocketAddr = twine.line_after("http gateway listening on http://").parse().unwrap();
    assert!(twine.line_after("  limits ").contains("3 per address"));

    // Three from 127.0.0.1, one of each kind: a line client, a kept-alive
    // HTTP connection, a WebSocket.
    let line = connect_from("127.0.0.1", tcp);
    assert_eq!(echo(&line, "first"), "first\r\n");
    let kept = connect_from("127.0.0.1", http);
    assert_eq!(keep_alive_get(&kept, http), 200);
    let ws = ws_handshake(http);

    // A fourth, to either server, is refused and told why.
    let (status, body) = http_get(http, "/healthz");
    assert_eq!(status, 429, "{body}");
    assert!(body.contains("too many connections from 127.0.0.1") && body.contains("--max-connections-per-ip"));
    let refused = read_to_close(connect_from("127.0.0.1", tcp));
    assert!(refused.starts_with("too many connections from 127.0.0.1"), "{refused:?}");

    // Another address carries on, and so do the three that are open.
    let other = connect_from("127.0.0.2", tcp);
    assert_eq!(echo(&other, "from elsewhere"), "from elsewhere\r\n");
    let other_http = connect_from("127.0.0.2", http);
    assert_eq!(keep_alive_get(&other_http, http), 200);
    assert_eq!(echo(&line, "still here"), "still here\r\n");
    assert_eq!(keep_alive_get(&kept, http), 200);

    // Closing one (the WebSocket) gives its place back.
    drop(ws);
    assert!(wait_until(Duration::from_secs(10), || http_get(http, "/healthz").0 == 200));
    let logged = wait_until(Duration::from_secs(5), || twine.stderr_so_far().contains("--max-connections-per-ip"));
    assert!(logged, "the refusals are logged");
    drop((other_http, kept));
    let m = wait_for_metrics(http, |m| m["twine_refused_per_ip_total"] == 1.0);
    assert!(m["twine_http_refused_per_ip_total"] >= 1.0 && m["twine_refused_per_ip_total"] == 1.0);
    twine.sigterm();
    twine.wait_exit(Duration::from_secs(10));
}

/// Writes echo requests without reading until neither side's buffers take
/// more (the server has paused reading it); at most 20 s.
fn fill_without_reading(stream: &mut TcpStream) {
    stream.set_nonblocking(true).unwrap();
    let chunk = "x".repeat(1000) + "\r\n";
    let chunk = chunk.repeat(16);
    let (started, mut stalled) = (Instant::now(), 0);
    while stalled < 20 && started.elapsed() < Duration::from_secs(20) {
        match stream.write(chunk.as_bytes()) {
            Ok(n) if n > 0 => stalled = 0,
            Err(e) if e.kind() != ErrorKind::WouldBlock => panic!("writing: {e}"),
            _ => {
                stalled += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
    stream.set_nonblocking(false).unwrap();
}

#[test]
fn a_client_that_reads_nothing_is_dropped_after_the_write_timeout_while_others_are_served() {
    let mut twine = TwineProcess::serve(&[
        "--tcp",
        "127.0.0.1:0",
        "--http",
        "127.0.0.1:0",
        "--write-timeout",
        "1s",
        "--reactors",
        "1",
        "--log",
        "warn",
    ]);
    let tcp: SocketAddr = twine.line_after("tcp line echo listening on ").parse().unwrap();
    let http: SocketAddr = twine.line_after("http gateway listening on http://").parse().unwrap();
    let good = connect_from("127.0.0.1", tcp);
    let mut deaf = connect_from("127.0.0.1", tcp);
    // A slow reader that keeps reading is not dropped: each read it makes
    // restarts its clock.
    let mut slow = connect_from("127.0.0.1", tcp);
    fill_without_reading(&mut deaf);
    let held = wait_for_metrics(http, |m| m["twine_buffered_bytes"] > 0.0)["twine_buffered_bytes"];
    assert!(held > 0.0, "the server holds output for the client that does not read");
    fill_without_reading(&mut slow);

    let started = Instant::now();
    // A loopback segment's worth: less may not open the window enough for
    // the server's kernel to send more.
    let mut buf = vec![0u8; 64 * 1024];
    // Three timeouts and more: the slow reader (640 KB/s) must outlive them
    // all. Writability alone would not show its progress in time (epoll
    // waits for a third of the send buffer to free): the server watches
    // its kernel send queue shrink. Much slower readers do look stalled:
    // the receiving kernel reopens a full window only once a sixteenth of
    // its (autotuned, megabytes) buffer is free.
    while started.elapsed() < Duration::from_millis(3500) {
        slow.read_exact(&mut buf).unwrap();
        assert_eq!(echo(&good, "served"), "served\r\n");
        std::thread::sleep(Duration::from_millis(100));
    }
    let dropped = wait_until(Duration::from_secs(10), || twine.stderr_so_far().contains("--write-timeout"));
    assert!(dropped, "no write timeout was logged");
    let log = twine.stderr_so_far();
    assert!(log.contains("dropping the connection from 127.0.0.1") && log.contains("took none of its"), "{log}");
    // The one that read nothing is gone; the slow one was never dropped.
    let m = wait_for_metrics(http, |m| m["twine_write_timeouts_total"] == 1.0 && m["twine_connections_open"] == 2.0);
    assert_eq!((m["twine_write_timeouts_total"], m["twine_connections_open"]), (1.0, 2.0));
    deaf.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut ended = false;
    for _ in 0..10_000 {
        match deaf.read(&mut buf) {
            Ok(0) | Err(_) => {
                ended = true;
                break;
            }
            Ok(_) => {}
        }
    }
    assert!(ended, "the dropped client's connection ends once it reads what was sent before");
    drop(slow);
    assert_eq!(echo(&good, "after"), "after\r\n");
    // Nothing is held for either of them any more.
    let m = wait_for_metrics(http, |m| m["twine_buffered_bytes"] == 0.0 && m["twine_connections_open"] == 1.0);
    assert_eq!(m["twine_buffered_bytes"], 0.0);
    twine.sigterm();
    twine.wait_exit(Duration::from_secs(10));
}

#[test]
fn lines_past_a_turns_share_wait_for_the_next_turn_and_all_come_back_in_order() {
    // One line per turn: every burst below is split over thousands of turns.
    let (server, addr) = line_echo(Config { lines_per_turn: 1, ..Config::default() });
    let stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let lines: Vec<String> = (0..5000).map(|i| format!("line {i} {}", "z".repeat(i % 97))).collect();
    let wire: String = lines.iter().map(|l| format!("{l}\r\n")).collect();
    // Written in one go while nothing is read at first: the server's
    // output fills, it pauses reading, then resumes with lines held back.
    let mut writer = stream.try_clone().unwrap();
    let sender = std::thread::spawn(move || writer.write_all(wire.as_bytes()).unwrap());
    std::thread::sleep(Duration::from_millis(300));
    let mut reader = BufReader::new(&stream);
    let mut echoed = Vec::with_capacity(lines.len());
    let mut line = String::new();
    while echoed.len() < lines.len() {
        line.clear();
        if reader.read_line(&mut line).unwrap() == 0 {
            break;
        }
        echoed.push(line.trim_end_matches("\r\n").to_owned());
    }
    sender.join().unwrap();
    assert_eq!(echoed.len(), lines.len());
    assert!(echoed == lines, "the echoes differ from the lines sent");
    // The lines went through more turns than a whole burst would take.
    assert!(server.metrics().snapshot().turns >= 1000, "{} turns", server.metrics().snapshot().turns);
    server.shutdown();
    assert!(server.join().is_clean());
}
