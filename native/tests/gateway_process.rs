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
