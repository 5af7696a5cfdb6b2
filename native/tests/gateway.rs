//! The WebSocket gateway in-process (a reactor thread plus the gateway on
//! its tokio runtime), met by real WebSocket clients on loopback.

mod gateway_support;

use std::io::{Read, Write};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use gateway_support::*;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::Message;
use twine_native::gateway::GatewayConfig;

#[test]
fn a_hundred_clients_echo_text_binary_fragmented_empty_and_large_messages_exactly() {
    let server = Server::start(GatewayConfig::default());
    let url = server.ws("/ws");
    block_on(async move {
        let clients = (0..100u32).map(|i| {
            let url = url.clone();
            tokio::spawn(async move {
                let mut ws = connect(&url).await;
                let mut sent = vec![
                    Message::text(format!("hello from client {i}")),
                    Message::binary(Rng::new(i.into()).bytes(1000 + i as usize)),
                    Message::text(""),
                    Message::binary(Vec::new()),
                    Message::text("é✓ unicode survives 🦀"),
                ];
                if i % 25 == 0 {
                    // Four clients send 8 MiB, as text and as binary.
                    sent.push(Message::binary(Rng::new(i.into()).bytes(8 << 20)));
                    sent.push(Message::text("x".repeat(8 << 20)));
                }
                for m in &sent {
                    ws.send(m.clone()).await.unwrap();
                }
                // A text message in three fragments, then a binary one in two.
                let frames = [
                    Frame::message("frag", OpCode::Data(Data::Text), false),
                    Frame::message("men", OpCode::Data(Data::Continue), false),
                    Frame::message("ted ✓", OpCode::Data(Data::Continue), true),
                    Frame::message(vec![1u8, 2], OpCode::Data(Data::Binary), false),
                    Frame::message(vec![3u8], OpCode::Data(Data::Continue), true),
                ];
                for f in frames {
                    ws.send(Message::Frame(f)).await.unwrap();
                }
                sent.push(Message::text("fragmented ✓"));
                sent.push(Message::binary(vec![1u8, 2, 3]));
                for expected in &sent {
                    let echoed = next_data(&mut ws).await;
                    assert!(
                        echoed == *expected,
                        "client {i}: echo differs ({} vs {} bytes)",
                        echoed.len(),
                        expected.len()
                    );
                }
                ws.close(None).await.unwrap();
            })
        });
        for client in clients.collect::<Vec<_>>() {
            client.await.unwrap();
        }
    });
    let stats = server.gateway().stats();
    assert_eq!(stats.ws_total, 100);
}

#[test]
fn an_origin_that_is_not_allowed_is_refused_with_403() {
    let server = Server::start(GatewayConfig::default());
    let url = server.ws("/ws");
    block_on(async move {
        let status = handshake_status(&url, &[("Origin", "https://evil.example")]).await;
        assert_eq!(status, 403);
        // Loopback pages and clients that are not browsers get in.
        assert_eq!(handshake_status(&url, &[("Origin", "http://localhost:5173")]).await, 101);
        assert_eq!(handshake_status(&url, &[]).await, 101);
    });
    assert_eq!(server.gateway().stats().refused_origin, 1);

    let listed = Server::start(GatewayConfig {
        allowed_origins: vec!["https://app.example".into()],
        ..GatewayConfig::default()
    });
    let url = listed.ws("/ws/chat");
    block_on(async move {
        assert_eq!(handshake_status(&url, &[("Origin", "https://app.example")]).await, 101);
        assert_eq!(handshake_status(&url, &[("Origin", "http://localhost:5173")]).await, 403);
    });
}

#[test]
fn a_message_over_the_limit_closes_the_connection_with_1009() {
    let server = Server::start(GatewayConfig { max_message: 64 * 1024, ..GatewayConfig::default() });
    let url = server.ws("/ws");
    block_on(async move {
        let mut ws = connect(&url).await;
        // At the limit: echoed.
        ws.send(Message::binary(vec![7u8; 64 * 1024])).await.unwrap();
        assert_eq!(next_data(&mut ws).await.len(), 64 * 1024);
        // One byte over, in one frame and in fragments: closed with 1009.
        ws.send(Message::binary(vec![7u8; 64 * 1024 + 1])).await.unwrap();
        assert_eq!(close_code(&mut ws).await, Some(1009));

        let mut ws = connect(&url).await;
        for i in 0..3 {
            let opcode = if i == 0 { Data::Binary } else { Data::Continue };
            let frame = Frame::message(vec![1u8; 30 * 1024], OpCode::Data(opcode), false);
            let _ = ws.send(Message::Frame(frame)).await;
        }
        assert_eq!(close_code(&mut ws).await, Some(1009));
    });
    assert_eq!(server.gateway().stats().closed_too_big, 2);
}

#[test]
fn upgrades_past_max_connections_get_503_until_one_closes() {
    let server = Server::start(GatewayConfig { max_connections: 3, ..GatewayConfig::default() });
    let (echo, trace) = (server.ws("/ws"), server.ws("/ws/trace"));
    let gateway_stats = block_on(async move {
        let mut a = connect(&echo).await;
        let _b = connect(&echo).await;
        let _c = connect(&trace).await;
        assert_eq!(handshake_status(&echo, &[]).await, 503);
        a.close(None).await.unwrap();
        while a.next().await.is_some() {}
        // The slot comes back once the server has let go of the socket.
        let mut status = 0;
        for _ in 0..100 {
            status = handshake_status(&echo, &[]).await;
            if status == 101 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        status
    });
    assert_eq!(gateway_stats, 101);
    assert!(server.gateway().stats().refused_capacity >= 1);
}

#[test]
fn a_malformed_upgrade_gets_400_and_a_wrong_version_426_with_the_right_one() {
    let server = Server::start(GatewayConfig::default());
    let addr = server.addr();
    // No upgrade headers at all.
    let plain = http_request(addr, "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert!(plain.starts_with("HTTP/1.1 400"), "{plain}");
    // An upgrade without Sec-WebSocket-Key.
    let keyless = http_request(
        addr,
        "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\r\n",
    );
    assert!(keyless.starts_with("HTTP/1.1 400"), "{keyless}");
    // A version the server does not speak.
    let version = http_request(
        addr,
        "GET /ws/trace HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 8\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
    );
    // RFC 6455 §4.2.2: 426 Upgrade Required, naming the version the server speaks.
    assert!(version.starts_with("HTTP/1.1 426"), "{version}");
    assert_eq!(header(&version, "sec-websocket-version").as_deref(), Some("13"), "{version}");
    // Garbage is not a request; the server drops it and carries on.
    let _ = http_request(addr, "\u{1}\u{2}NOT HTTP\r\n\r\n");
    assert!(http_get(addr, "/healthz").1.contains("ok"));
    assert_eq!(server.gateway().stats().refused_malformed, 3);
}

#[test]
fn a_silent_client_is_closed_after_the_idle_timeout() {
    let server =
        Server::start(GatewayConfig { idle_timeout: Some(Duration::from_millis(300)), ..GatewayConfig::default() });
    let url = server.ws("/ws");
    block_on(async move {
        let mut ws = connect(&url).await;
        ws.send(Message::text("still here")).await.unwrap();
        next_data(&mut ws).await;
        let started = tokio::time::Instant::now();
        assert_eq!(close_code(&mut ws).await, Some(1000));
        assert!(started.elapsed() >= Duration::from_millis(250), "closed too early: {:?}", started.elapsed());
    });
    assert_eq!(server.gateway().stats().closed_idle, 1);
}

#[test]
fn chat_messages_reach_every_other_member() {
    let server = Server::start(GatewayConfig::default());
    let (url, addr) = (server.ws("/ws/chat"), server.addr());
    block_on(async move {
        let mut alice = connect(&url).await;
        let mut bob = connect(&url).await;
        let mut carol = connect(&url).await;
        // Joining is asynchronous (the reactor opens the connection in its
        // next turn): wait until all three are in.
        wait_for_connections(addr, 3.0).await;
        alice.send(Message::text("hi all")).await.unwrap();
        assert_eq!(next_data(&mut bob).await, Message::text("hi all"));
        assert_eq!(next_data(&mut carol).await, Message::text("hi all"));
        bob.send(Message::binary(b"bytes".to_vec())).await.unwrap();
        // UTF-8 binary goes out as text to message connections (core Chat).
        assert_eq!(next_data(&mut alice).await, Message::text("bytes"));
        assert_eq!(next_data(&mut carol).await, Message::text("bytes"));
        // Nothing came back to the senders.
        alice.send(Message::text("last")).await.unwrap();
        assert_eq!(next_data(&mut bob).await, Message::text("last"));
        assert_eq!(next_data(&mut carol).await, Message::text("last"));
    });
}

/// A client that sends a flood of small messages at once does not hold the
/// reactor until they are all handled: another client's message, arriving
/// just after, is handled within the first turn's message budget (as the
/// chat room shows: it relays in the order the reactor handles them), and
/// the flood keeps its order across the turns. (From wip-hard's test of the
/// external connections' `messages_per_turn`, which the reactor-side
/// WebSockets replaced.)
#[test]
fn a_flood_of_small_messages_is_handled_a_budget_per_turn_behind_the_others() {
    const BUDGET: usize = 50;
    const FLOOD: usize = 2_000;
    let server = Server::start(GatewayConfig { messages_per_turn: BUDGET, ..GatewayConfig::default() });
    let (url, addr) = (server.ws("/ws/chat"), server.addr());
    let handle = server.reactor().handle().clone();
    block_on(async move {
        let mut observer = connect(&url).await;
        let mut flood = connect(&url).await;
        let mut quiet = connect(&url).await;
        wait_for_connections(addr, 3.0).await;
        // Hold the reactor while both send, so both wait in the kernel.
        let (release, held) = std::sync::mpsc::channel::<()>();
        let (entered, blocked) = std::sync::mpsc::channel::<()>();
        handle.call_from_thread(move |_| {
            let _ = entered.send(());
            let _ = held.recv_timeout(Duration::from_secs(20));
        });
        tokio::task::spawn_blocking(move || blocked.recv_timeout(Duration::from_secs(20)).unwrap()).await.unwrap();
        for i in 0..FLOOD {
            flood.feed(Message::text(i.to_string())).await.unwrap();
        }
        flood.flush().await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        quiet.send(Message::text("hello")).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        release.send(()).unwrap();
        let mut order = Vec::with_capacity(FLOOD + 1);
        for _ in 0..=FLOOD {
            order.push(next_data(&mut observer).await.into_text().unwrap().to_string());
        }
        let quiet_at = order.iter().position(|m| m == "hello").expect("the quiet client's message");
        assert!(quiet_at <= BUDGET, "the quiet client's message was handled after {quiet_at} of the flood's");
        let flood: Vec<&String> = order.iter().filter(|m| *m != "hello").collect();
        assert!(flood.iter().enumerate().all(|(i, m)| **m == i.to_string()), "the flood's messages came out of order");
    });
}

#[test]
fn healthz_and_metrics_counters_move_as_traffic_flows() {
    let server = Server::start(GatewayConfig::default());
    let addr = server.addr();
    assert_eq!(http_get(addr, "/healthz"), (200, "ok\n".to_owned()));
    let before = metrics(addr);
    let url = server.ws("/ws");
    block_on(async move {
        let mut ws = connect(&url).await;
        for i in 0..10 {
            ws.send(Message::binary(vec![i as u8; 100])).await.unwrap();
            next_data(&mut ws).await;
        }
        ws.close(None).await.unwrap();
        while ws.next().await.is_some() {}
    });
    let after = wait_for_metrics(addr, |m| m["twine_messages_out_total"] >= before["twine_messages_out_total"] + 10.0);
    let grew = |name: &str| after[name] - before[name];
    assert_eq!(grew("twine_messages_in_total"), 10.0);
    assert_eq!(grew("twine_messages_out_total"), 10.0);
    assert_eq!(grew("twine_bytes_in_total"), 1000.0);
    assert_eq!(grew("twine_bytes_out_total"), 1000.0);
    assert_eq!(grew("twine_connections_total"), 1.0);
    assert_eq!(grew("twine_ws_connections_total"), 1.0);
    assert!(grew("twine_reactor_turns_total") > 0.0);
    for name in [
        "twine_connections_open",
        "twine_reactor_slow_calls_total",
        "twine_reactor_inbox_depth",
        "twine_pool_queued",
        "twine_pool_busy",
        "twine_trace_dropped_events_total",
        "twine_process_resident_bytes",
    ] {
        assert!(after.contains_key(name), "/metrics has no {name}");
    }
}

#[test]
fn static_files_are_served_with_their_content_types() {
    let www = tempdir("www");
    std::fs::create_dir_all(www.join("pkg")).unwrap();
    std::fs::write(www.join("index.html"), "<!doctype html><title>twine</title>").unwrap();
    std::fs::write(www.join("app.js"), "export const x = 1;").unwrap();
    std::fs::write(www.join("style.css"), "body{}").unwrap();
    std::fs::write(www.join("pkg/twine_web_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
    let server = Server::start(GatewayConfig { www: www.clone(), ..GatewayConfig::default() });
    let addr = server.addr();
    for (path, content_type) in [
        ("/", "text/html"),
        ("/index.html", "text/html"),
        ("/app.js", "text/javascript"),
        ("/style.css", "text/css"),
        ("/pkg/twine_web_bg.wasm", "application/wasm"),
    ] {
        let head = http_request(addr, &format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
        assert!(head.starts_with("HTTP/1.1 200"), "{path}: {head}");
        let got = header(&head, "content-type").unwrap_or_default();
        assert!(got.starts_with(content_type), "{path}: content-type {got:?}, expected {content_type}");
    }
    assert_eq!(http_get(addr, "/pkg/missing.js").0, 404);
    assert_eq!(http_get(addr, "/../Cargo.toml").0, 404);
    drop(server);
    let _ = std::fs::remove_dir_all(www);
}

#[test]
fn files_are_sent_compressed_to_browsers_that_accept_it() {
    let www = tempdir("www-compressed");
    std::fs::create_dir_all(www.join("pkg")).unwrap();
    let script = "export const greeting = 'hello, reactor';\n".repeat(200);
    std::fs::write(www.join("app.js"), &script).unwrap();
    // What `cargo xtask` writes: the module and its brotli and gzip copies.
    std::fs::write(www.join("pkg/twine_web_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
    std::fs::write(www.join("pkg/twine_web_bg.wasm.br"), "brotli bytes").unwrap();
    std::fs::write(www.join("pkg/twine_web_bg.wasm.gz"), "gzip bytes").unwrap();
    let server = Server::start(GatewayConfig { www: www.clone(), ..GatewayConfig::default() });
    let addr = server.addr();
    let get = |path: &str, accept: &str| {
        let accept = if accept.is_empty() { String::new() } else { format!("Accept-Encoding: {accept}\r\n") };
        http_request(addr, &format!("GET {path} HTTP/1.1\r\nHost: x\r\n{accept}Connection: close\r\n\r\n"))
    };

    // The wasm: the precompressed copy the browser prefers, typed as wasm.
    let br = get("/pkg/twine_web_bg.wasm", "gzip, deflate, br, zstd");
    assert_eq!(header(&br, "content-encoding").as_deref(), Some("br"), "{br}");
    assert!(header(&br, "content-type").unwrap_or_default().starts_with("application/wasm"));
    assert!(br.ends_with("brotli bytes"), "{br}");
    let gz = get("/pkg/twine_web_bg.wasm", "gzip");
    assert_eq!(header(&gz, "content-encoding").as_deref(), Some("gzip"));
    assert!(gz.ends_with("gzip bytes"));
    let plain = get("/pkg/twine_web_bg.wasm", "");
    assert_eq!(header(&plain, "content-encoding"), None);

    // A file with no precompressed copy is gzipped on the way out.
    let js = get("/app.js", "gzip");
    assert_eq!(header(&js, "content-encoding").as_deref(), Some("gzip"), "{js}");
    assert!(header(&js, "content-type").unwrap_or_default().starts_with("text/javascript"));
    let (status, body) = http_get(addr, "/app.js");
    assert_eq!((status, body), (200, script));
    drop(server);
    let _ = std::fs::remove_dir_all(www);
}

#[test]
fn after_a_protocol_error_and_the_close_handshake_the_server_closes_the_tcp_connection() {
    // RFC 6455 7.1.1: once the closing handshake is over, the server closes
    // the TCP connection first. A long close timeout tells "closed at once"
    // from "dropped when the timeout ran out".
    let server = Server::start(GatewayConfig { close_timeout: Duration::from_secs(60), ..GatewayConfig::default() });
    let mut tcp = ws_handshake(server.addr());
    tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    // A text frame with RSV1 set, though no extension was agreed: a protocol error.
    tcp.write_all(&[0xC1, 0x82, 0, 0, 0, 0, b'h', b'i']).unwrap();
    let mut close = [0u8; 4];
    tcp.read_exact(&mut close).unwrap();
    assert_eq!(close[0], 0x88, "a close frame");
    assert_eq!(u16::from_be_bytes([close[2], close[3]]), 1002);
    let mut reason = vec![0u8; close[1] as usize - 2];
    tcp.read_exact(&mut reason).unwrap();
    // The client's reply (masked, zero mask): the handshake is over.
    tcp.write_all(&[0x88, 0x82, 0, 0, 0, 0, 0x03, 0xE8]).unwrap();
    let mut rest = Vec::new();
    let read = tcp.read_to_end(&mut rest);
    assert!(read.is_ok(), "the server should close the connection, not wait for its close timeout: {read:?}");
    assert!(rest.is_empty(), "nothing after the close frame: {rest:?}");
    assert_eq!(server.gateway().stats().protocol_errors, 1);
}
