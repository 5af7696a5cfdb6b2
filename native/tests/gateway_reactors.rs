//! A gateway in front of several reactors: WebSockets land on every
//! reactor (each one's socket lives in that reactor's mio loop), chat
//! crosses reactors, and back-pressure holds one client without slowing
//! the others, whichever reactor they are on.

mod gateway_support;

use std::io::{ErrorKind, Write};
use std::time::{Duration, Instant};

use futures_util::SinkExt;
use gateway_support::*;
use tokio_tungstenite::tungstenite::Message;
use twine_native::gateway::GatewayConfig;

#[test]
fn websockets_land_on_every_reactor_and_echo_there() {
    let server = Server::start_reactors(2, GatewayConfig::default());
    let (url, addr) = (server.ws("/ws"), server.addr());
    block_on(async move {
        let mut clients = Vec::new();
        for _ in 0..4 {
            clients.push(connect(&url).await);
        }
        wait_for_connections(addr, 4.0).await;
        let m = tokio::task::spawn_blocking(move || metrics(addr)).await.unwrap();
        assert_eq!(per_reactor_open(&m, 2), vec![2.0, 2.0], "the least loaded reactor takes each WebSocket");
        assert_eq!(m["twine_reactors"], 2.0);
        for (i, ws) in clients.iter_mut().enumerate() {
            ws.send(Message::text(format!("hello {i}"))).await.unwrap();
            assert_eq!(next_data(ws).await, Message::text(format!("hello {i}")));
        }
        // Each reactor counted the messages of its own clients.
        let m = tokio::task::spawn_blocking(move || wait_for_metrics(addr, |m| m["twine_messages_out_total"] >= 4.0))
            .await
            .unwrap();
        for k in 0..2 {
            let out = m[&format!("twine_per_reactor_messages_out_total{{reactor=\"{k}\"}}")];
            assert_eq!(out, 2.0, "reactor {k} echoed {out} messages");
        }
    });
}

#[test]
fn chat_messages_cross_reactors() {
    let server = Server::start_reactors(2, GatewayConfig::default());
    let (url, addr) = (server.ws("/ws/chat"), server.addr());
    block_on(async move {
        let mut alice = connect(&url).await;
        let mut bob = connect(&url).await;
        let mut carol = connect(&url).await;
        wait_for_connections(addr, 3.0).await;
        let m = tokio::task::spawn_blocking(move || metrics(addr)).await.unwrap();
        let open = per_reactor_open(&m, 2);
        assert!(open[0] >= 1.0 && open[1] >= 1.0, "members on both reactors: {open:?}");
        alice.send(Message::text("hi from one reactor")).await.unwrap();
        assert_eq!(next_data(&mut bob).await, Message::text("hi from one reactor"));
        assert_eq!(next_data(&mut carol).await, Message::text("hi from one reactor"));
        bob.send(Message::text("and from the other")).await.unwrap();
        assert_eq!(next_data(&mut alice).await, Message::text("and from the other"));
        assert_eq!(next_data(&mut carol).await, Message::text("and from the other"));
        // Nothing came back to the senders.
        carol.send(Message::text("last")).await.unwrap();
        assert_eq!(next_data(&mut alice).await, Message::text("last"));
        assert_eq!(next_data(&mut bob).await, Message::text("last"));
    });
}

#[test]
fn a_client_that_does_not_read_is_paused_on_its_reactor_while_the_other_reactor_serves() {
    let server = Server::start_reactors(2, GatewayConfig::default());
    let addr = server.addr();
    // 16 KiB binary frames, masked with a zero mask.
    let mut frame = vec![0x82, 0x80 | 126];
    frame.extend_from_slice(&(16u16 * 1024).to_be_bytes());
    frame.extend_from_slice(&[0, 0, 0, 0]);
    frame.extend(std::iter::repeat_n(b'g', 16 * 1024));
    let frames = frame.repeat(8);
    let mut greedy = ws_handshake(addr);
    greedy.set_write_timeout(Some(Duration::from_millis(50))).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut paused_on = None;
    while paused_on.is_none() && Instant::now() < deadline {
        match greedy.write(&frames) {
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::TimedOut => {}
            Err(e) => panic!("greedy write failed: {e}"),
        }
        let m = metrics(addr);
        paused_on = (0..2).find(|k| m[&format!("twine_per_reactor_reading_paused{{reactor=\"{k}\"}}")] >= 1.0);
    }
    let paused_on = paused_on.expect("the greedy client's reactor never paused reading it");
    // The next client goes to the other reactor (fewer open) and is served promptly.
    let url = server.ws("/ws");
    let slowest = block_on(async move {
        let mut other = connect(&url).await;
        let mut slowest = Duration::ZERO;
        for i in 0..50 {
            let started = Instant::now();
            other.send(Message::text(format!("ping {i}"))).await.unwrap();
            assert_eq!(next_data(&mut other).await, Message::text(format!("ping {i}")));
            slowest = slowest.max(started.elapsed());
        }
        slowest
    });
    assert!(slowest < Duration::from_secs(1), "an echo took {slowest:?} beside the paused client");
    // A reactor publishes its counters every few milliseconds, not per message.
    let other = 1 - paused_on;
    let sent = format!("twine_per_reactor_messages_out_total{{reactor=\"{other}\"}}");
    let m = wait_for_metrics(addr, |m| m[&sent] >= 50.0);
    assert_eq!(m[&sent], 50.0);
    assert_eq!(m[&format!("twine_per_reactor_reading_paused{{reactor=\"{other}\"}}")], 0.0);
    let buffered = m[&format!("twine_per_reactor_buffered_bytes{{reactor=\"{paused_on}\"}}")];
    assert!(buffered <= (2 * 256 * 1024) as f64, "the paused reactor holds {buffered} bytes for its client");
}
