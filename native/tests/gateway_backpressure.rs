//! A WebSocket client that sends without reading: the server pauses reading
//! it, holds a bounded amount for it, and keeps serving everyone else.

mod gateway_support;

use std::io::{ErrorKind, Read, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::SinkExt;
use gateway_support::*;
use tokio_tungstenite::tungstenite::Message;
use twine_native::gateway::GatewayConfig;

fn binary_frame(size: u16) -> Vec<u8> {
    // FIN + binary, masked, 16-bit length, a zero mask (the payload goes as it is).
    let mut frame = vec![0x82, 0x80 | 126];
    frame.extend_from_slice(&size.to_be_bytes());
    frame.extend_from_slice(&[0, 0, 0, 0]);
    frame.extend(std::iter::repeat_n(b'g', size as usize));
    frame
}

#[test]
fn a_client_that_sends_without_reading_is_paused_with_bounded_memory_and_others_keep_their_latency() {
    let server = Server::start(GatewayConfig::default());
    let addr = server.addr();
    let rss_before = resident_bytes(std::process::id());

    let greedy = ws_handshake(addr);
    greedy.set_write_timeout(Some(Duration::from_millis(50))).unwrap();
    let (written, stop) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicBool::new(false)));
    let writer = {
        let (mut greedy, written, stop) = (greedy.try_clone().unwrap(), written.clone(), stop.clone());
        std::thread::spawn(move || {
            let frames = binary_frame(16 * 1024).repeat(8);
            // Where the next write starts: a write the timeout cut short
            // leaves the rest of its frames for the next one (starting over
            // would send a broken frame, which the server rightly fails).
            let mut at = 0;
            while !stop.load(Ordering::Relaxed) {
                match greedy.write(&frames[at..]) {
                    // Count what the kernel took.
                    Ok(n) => {
                        at = (at + n) % frames.len();
                        written.fetch_add(n as u64, Ordering::Relaxed);
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::TimedOut => {}
                    Err(e) => panic!("greedy write failed: {e}"),
                }
            }
        })
    };

    let paused = wait_for_metrics(addr, |m| m["twine_reading_paused"] >= 1.0);
    assert!(paused["twine_reading_paused"] >= 1.0, "the server never paused reading the greedy client");
    // Until the kernel's socket buffers towards the client fill up, the
    // server's writer still drains echoes, so reading may resume and pause a
    // few times. Wait for the steady state: paused, and nothing more read.
    let deadline = Instant::now() + Duration::from_secs(10);
    let (mut last_in, mut still) = (-1.0, 0);
    while still < 5 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        let m = metrics(addr);
        let stuck = m["twine_reading_paused"] >= 1.0 && m["twine_messages_in_total"] == last_in;
        still = if stuck { still + 1 } else { 0 };
        last_in = m["twine_messages_in_total"];
    }
    assert_eq!(still, 5, "the greedy client never stayed paused");

    // While it stays stuck: the server takes no more of its messages, holds a
    // bounded amount for it, and serves another client promptly.
    let url = server.ws("/ws");
    let (slowest, messages_in) = block_on(async move {
        let first = tokio::task::spawn_blocking(move || metrics(addr)).await.unwrap();
        let mut other = connect(&url).await;
        let mut slowest = Duration::ZERO;
        for i in 0..200 {
            let started = Instant::now();
            other.send(Message::text(format!("ping {i}"))).await.unwrap();
            assert_eq!(next_data(&mut other).await, Message::text(format!("ping {i}")));
            slowest = slowest.max(started.elapsed());
            if i % 50 == 0 {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        // The reactor publishes its counters when it is about to sleep,
        // which may come just after the last echo arrived: wait for them.
        let before = first["twine_messages_in_total"];
        let last = tokio::task::spawn_blocking(move || {
            wait_for_metrics(addr, |m| m["twine_messages_in_total"] - before >= 200.0)
        })
        .await
        .unwrap();
        // The other client's 200 messages are all that came in meanwhile.
        (slowest, last["twine_messages_in_total"] - before)
    });
    assert_eq!(messages_in, 200.0, "messages from the paused client kept coming in");
    // Not a speed target: a hang detector with room for a loaded machine.
    assert!(slowest < Duration::from_secs(1), "an echo took {slowest:?} while the greedy client was paused");

    let m = metrics(addr);
    let limits = 2 * 256 * 1024 + 2 * 16 * 1024; // the connection's two queues, a frame in flight each way
    assert!(m["twine_buffered_bytes"] <= limits as f64, "buffered {} bytes", m["twine_buffered_bytes"]);
    let grew = resident_bytes(std::process::id()).saturating_sub(rss_before);
    let sent = written.load(Ordering::Relaxed);
    assert!(grew < 24 << 20, "memory grew {grew} bytes while the client pushed {sent} bytes");

    // When it reads again, it is resumed and its echoes flow.
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    let mut reader = greedy.try_clone().unwrap();
    reader.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let drained = std::thread::spawn(move || {
        let mut buf = vec![0u8; 256 * 1024];
        let mut total = 0u64;
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            total += n as u64;
        }
        total
    });
    let resumed = wait_for_metrics(addr, |m| m["twine_reading_paused"] == 0.0);
    assert_eq!(resumed["twine_reading_paused"], 0.0, "reading was never resumed");
    let _ = greedy.shutdown(std::net::Shutdown::Both);
    assert!(drained.join().unwrap() > 0);
}
