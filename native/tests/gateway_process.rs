//! The real `twine serve --http` process: SIGTERM closes every WebSocket
//! with 1001 and the process exits 0 promptly.

mod gateway_support;

use std::time::{Duration, Instant};

use futures_util::SinkExt;
use gateway_support::*;
use tokio_tungstenite::tungstenite::Message;

#[test]
fn sigterm_closes_every_websocket_with_1001_and_exits_0_within_5_seconds() {
    let mut twine = TwineProcess::serve(&["--tcp", "127.0.0.1:0", "--http", "127.0.0.1:0", "--log", "warn"]);
    let http = twine.line_after("http gateway listening on http://");
    let (codes, waited) = block_on(async move {
        let mut clients = Vec::new();
        for path in ["/ws", "/ws", "/ws", "/ws/chat", "/ws/trace"] {
            clients.push(connect(&format!("ws://{http}{path}")).await);
        }
        // One client is mid-conversation, the others idle.
        clients[0].send(Message::text("before the signal")).await.unwrap();
        assert_eq!(next_data(&mut clients[0]).await, Message::text("before the signal"));
        wait_for_connections(http.parse().unwrap(), 4.0).await;

        let signalled = Instant::now();
        twine.sigterm();
        let mut codes = Vec::new();
        for mut ws in clients {
            codes.push(close_code(&mut ws).await);
        }
        let status = tokio::task::spawn_blocking(move || twine.wait_exit(Duration::from_secs(10))).await.unwrap();
        let waited = signalled.elapsed();
        assert!(status.expect("twine did not exit").success(), "exit status {status:?}");
        (codes, waited)
    });
    assert_eq!(codes, vec![Some(1001); 5], "close codes after SIGTERM");
    assert!(waited < Duration::from_secs(5), "exiting took {waited:?}");
}

#[test]
fn with_two_reactors_sigterm_drains_the_websockets_on_each_and_the_line_echo_is_spread_over_both() {
    let mut twine =
        TwineProcess::serve(&["--reactors", "2", "--tcp", "127.0.0.1:0", "--http", "127.0.0.1:0", "--log", "warn"]);
    let tcp: std::net::SocketAddr = twine.line_after("tcp line echo listening on ").parse().unwrap();
    let http = twine.line_after("http gateway listening on http://");
    let addr: std::net::SocketAddr = http.parse().unwrap();
    // Line clients: the kernel hashes them over the reactors' listeners (SO_REUSEPORT).
    let mut lines = Vec::new();
    for i in 0..16 {
        use std::io::{BufRead, BufReader, Write};
        let mut client = std::net::TcpStream::connect(tcp).unwrap();
        client.write_all(format!("line {i}\r\n").as_bytes()).unwrap();
        let mut echoed = String::new();
        BufReader::new(&client).read_line(&mut echoed).unwrap();
        assert_eq!(echoed, format!("line {i}\r\n"));
        lines.push(client);
    }
    let m = wait_for_metrics(addr, |m| m["twine_connections_open"] >= 16.0);
    let open = per_reactor_open(&m, 2);
    assert!(open[0] >= 1.0 && open[1] >= 1.0, "line clients per reactor: {open:?}");
    drop(lines);
    let _ = wait_for_metrics(addr, |m| m["twine_connections_open"] == 0.0);

    let codes = block_on(async move {
        let mut clients = Vec::new();
        for path in ["/ws", "/ws", "/ws/chat", "/ws/chat", "/ws/trace"] {
            clients.push(connect(&format!("ws://{http}{path}")).await);
        }
        clients[0].send(Message::text("before the signal")).await.unwrap();
        assert_eq!(next_data(&mut clients[0]).await, Message::text("before the signal"));
        wait_for_connections(addr, 4.0).await;
        let m = tokio::task::spawn_blocking(move || metrics(addr)).await.unwrap();
        assert_eq!(per_reactor_open(&m, 2), vec![2.0, 2.0], "WebSockets per reactor");

        let signalled = Instant::now();
        twine.sigterm();
        let mut codes = Vec::new();
        for mut ws in clients {
            codes.push(close_code(&mut ws).await);
        }
        let status = tokio::task::spawn_blocking(move || twine.wait_exit(Duration::from_secs(10))).await.unwrap();
        assert!(status.expect("twine did not exit").success(), "exit status {status:?}");
        assert!(signalled.elapsed() < Duration::from_secs(5), "exiting took {:?}", signalled.elapsed());
        codes
    });
    assert_eq!(codes, vec![Some(1001); 5], "close codes after SIGTERM");
}

/// Beyond loopback, /ws/trace and /metrics need an explicit choice: twine
/// refuses to start (before binding anything) and says how to choose.
#[test]
fn a_gateway_beyond_loopback_without_an_admin_token_is_refused_with_the_fix() {
    let mut twine = TwineProcess::serve(&["--tcp", "off", "--http", "0.0.0.0:0", "--log", "warn"]);
    let status = twine.wait_exit(Duration::from_secs(10)).expect("twine did not exit");
    assert_eq!(status.code(), Some(2));
    let stderr = twine.stderr();
    assert!(stderr.contains("--admin-token TOKEN") && stderr.contains("--admin-token off"), "{stderr}");
}

#[test]
fn start_up_says_what_the_admin_token_protects() {
    let mut twine = TwineProcess::serve(&[
        "--tcp",
        "off",
        "--http",
        "127.0.0.1:0",
        "--admin-token",
        "0123456789abcdef",
        "--log",
        "warn",
    ]);
    let runs = twine.line_after("  runs ");
    assert!(runs.contains("/api/run") && runs.contains("needs the admin token"), "{runs}");
    let admin = twine.line_after("  admin ");
    assert!(admin.contains("/ws/trace and /metrics need the admin token"), "{admin}");
    twine.sigterm();
    assert!(twine.wait_exit(Duration::from_secs(10)).is_some_and(|s| s.success()));
}

/// A user reads start-up to learn what they can reach: every endpoint is
/// named with its full address, and each one named answers (none is a 404).
#[test]
fn start_up_names_every_endpoint_including_runs_and_who_may_ask_for_them() {
    let mut twine = TwineProcess::serve(&["--tcp", "off", "--http", "127.0.0.1:0", "--log", "warn"]);
    let addr: std::net::SocketAddr = twine.line_after("http gateway listening on http://").parse().unwrap();
    let mut text = String::new();
    loop {
        let line = twine.next_line();
        text.push_str(&line);
        text.push('\n');
        if line.starts_with("  limits") {
            break;
        }
    }
    let named = |url: &str| text.split_whitespace().any(|word| word == url);
    for (scheme, path) in [
        ("ws", "/ws"),
        ("ws", "/ws/chat"),
        ("ws", "/ws/trace"),
        ("http", "/healthz"),
        ("http", "/metrics"),
        ("http", "/api/run"),
    ] {
        assert!(named(&format!("{scheme}://{addr}{path}")), "{path} is not named at start-up:\n{text}");
        let (status, _) = http_get(addr, path);
        assert_ne!(status, 404, "{path} is named but not there");
    }
    let runs = text.lines().find(|l| l.contains("/api/run")).unwrap();
    assert!(runs.contains("POST") && runs.contains("open to this machine (loopback)"), "{runs}");
    twine.sigterm();
    assert!(twine.wait_exit(Duration::from_secs(10)).is_some_and(|s| s.success()));
}
