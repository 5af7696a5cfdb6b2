//! The TCP line echo over real sockets: many clients, random chunking, and a
//! client that breaks the line limit.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::Duration;

use common::{line_echo, Rng};
use twine_native::Config;

const CLIENTS: usize = 200;
const LINES: usize = 1000;

fn lines_for(client: usize, rng: &mut Rng) -> Vec<String> {
    (0..LINES)
        .map(|i| {
            let pad: String = (0..rng.range(0, 40)).map(|k| (b'a' + ((i + k) % 26) as u8) as char).collect();
            format!("client {client} line {i} {pad}")
        })
        .collect()
}

/// Sends all lines cut at random places, from its own thread, while this
/// thread reads the echoes; returns the lines that came back.
fn run_client(addr: SocketAddr, client: usize) -> (Vec<String>, Vec<String>) {
    let mut rng = Rng::new(client as u64 + 1);
    let lines = lines_for(client, &mut rng);
    let mut wire = Vec::new();
    for line in &lines {
        wire.extend_from_slice(line.as_bytes());
        wire.extend_from_slice(b"\r\n");
    }
    let stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut writer = stream.try_clone().unwrap();
    let sender = std::thread::spawn(move || {
        let mut at = 0;
        while at < wire.len() {
            let end = (at + rng.range(1, 300)).min(wire.len());
            writer.write_all(&wire[at..end]).expect("write");
            at = end;
            if rng.range(0, 50) == 0 {
                std::thread::yield_now();
            }
        }
    });
    let mut reader = BufReader::new(stream);
    let mut echoed = Vec::with_capacity(LINES);
    let mut line = String::new();
    while echoed.len() < LINES {
        line.clear();
        if reader.read_line(&mut line).expect("read an echo") == 0 {
            break;
        }
        echoed.push(line.trim_end_matches("\r\n").to_owned());
    }
    sender.join().unwrap();
    (lines, echoed)
}

#[test]
fn two_hundred_clients_get_exactly_their_own_lines_back_in_order() {
    let (server, addr) = line_echo(Config::default());
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| std::thread::Builder::new().stack_size(256 * 1024).spawn(move || run_client(addr, c)).unwrap())
        .collect();
    for (c, client) in clients.into_iter().enumerate() {
        let (sent, echoed) = client.join().unwrap();
        assert_eq!(echoed.len(), sent.len(), "client {c} got {} of {} lines", echoed.len(), sent.len());
        assert!(echoed == sent, "client {c} got lines that differ from what it sent");
    }
    let metrics = server.metrics();
    assert!(common::wait_until(Duration::from_secs(5), || metrics.snapshot().connections_total == CLIENTS as u64));
    server.shutdown();
    assert!(server.join().is_clean());
}

fn echo_once(stream: &mut TcpStream, text: &str) -> String {
    stream.write_all(format!("{text}\r\n").as_bytes()).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    line
}

#[test]
fn a_line_over_max_length_drops_only_that_client() {
    let (server, addr) = line_echo(Config::default());
    let mut good: Vec<TcpStream> = (0..3).map(|_| TcpStream::connect(addr).unwrap()).collect();
    for g in &mut good {
        g.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        assert_eq!(echo_once(g, "before"), "before\r\n");
    }

    let mut bad = TcpStream::connect(addr).unwrap();
    bad.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    assert_eq!(echo_once(&mut bad, "short is fine"), "short is fine\r\n");
    // 16384 is the limit; one byte more, then its delimiter.
    let mut long = vec![b'x'; 16385];
    long.extend_from_slice(b"\r\n");
    let _ = bad.write_all(&long);
    let _ = bad.shutdown(Shutdown::Write);
    let mut rest = Vec::new();
    // The server closes it: end-of-file (or a reset), and no echo of the long line.
    let _ = bad.read_to_end(&mut rest);
    assert!(rest.is_empty(), "the over-long line must not be echoed, got {} bytes", rest.len());

    for (i, g) in good.iter_mut().enumerate() {
        let text = format!("after {i}");
        assert_eq!(echo_once(g, &text), format!("{text}\r\n"));
    }
    // A line of exactly the limit passes.
    let exact = "y".repeat(16384);
    assert_eq!(echo_once(&mut good[0], &exact), format!("{exact}\r\n"));
    drop(good);
    server.shutdown();
    server.join();
}

#[test]
fn a_client_that_shuts_its_side_still_gets_every_echo_then_end_of_file() {
    let (server, addr) = line_echo(Config::default());
    let mut client = TcpStream::connect(addr).unwrap();
    client.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let wire: String = (0..2000).map(|i| format!("line {i}\r\n")).collect();
    client.write_all(wire.as_bytes()).unwrap();
    client.shutdown(Shutdown::Write).unwrap();
    let mut echoed = String::new();
    client.read_to_string(&mut echoed).unwrap();
    assert!(echoed == wire, "got {} of {} bytes back", echoed.len(), wire.len());
    server.shutdown();
    assert!(server.join().is_clean());
}
