//! `/ws/trace`: the real reactor's events, live; slow viewers lose events
//! (and are told), the reactor does not wait for them.

mod gateway_support;

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use gateway_support::*;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use twine_native::gateway::GatewayConfig;

async fn next_json(ws: &mut Client) -> Value {
    match next_data(ws).await {
        Message::Text(text) => serde_json::from_str(text.as_str()).unwrap_or_else(|e| panic!("{e}: {text}")),
        other => panic!("expected JSON text, got {other:?}"),
    }
}

/// Connects a viewer, checks the hello, subscribes.
async fn viewer(url: &str, subscribe: Value) -> Client {
    let mut ws = connect(url).await;
    let hello = next_json(&mut ws).await;
    assert_eq!(hello["type"], "hello");
    assert_eq!(hello["schema"], "twine-trace");
    assert_eq!(hello["version"], 1);
    assert!(hello["kinds"].as_array().unwrap().contains(&json!("message_received")));
    ws.send(Message::text(subscribe.to_string())).await.unwrap();
    let reply = next_until(&mut ws, |m| m["type"] != "event").await;
    assert_eq!(reply["type"], "subscribed", "{reply}");
    ws
}

/// The next message that `pick`s, skipping others.
async fn next_until(ws: &mut Client, pick: impl Fn(&Value) -> bool) -> Value {
    loop {
        let m = next_json(ws).await;
        if pick(&m) {
            return m;
        }
    }
}

#[test]
fn the_trace_shows_the_events_a_message_on_ws_causes() {
    let server = Server::start(GatewayConfig::default());
    let (trace, echo) = (server.ws("/ws/trace"), server.ws("/ws"));
    block_on(async move {
        let kinds = json!(["connection_made", "message_received", "connection_lost"]);
        let mut viewer = viewer(&trace, json!({"type": "subscribe", "kinds": kinds})).await;

        let mut client = connect(&echo).await;
        client.send(Message::text("trace me, please")).await.unwrap(); // 16 bytes
        assert_eq!(next_data(&mut client).await, Message::text("trace me, please"));
        client.close(None).await.unwrap();

        let made = next_until(&mut viewer, |m| m["kind"] == "connection_made").await;
        let conn = made["conn"].clone();
        let received = next_until(&mut viewer, |m| m["kind"] == "message_received").await;
        assert_eq!(received["conn"], conn);
        assert_eq!(received["len"], 16);
        assert_eq!(received["type"], "event");
        assert!(received["seq"].as_u64().unwrap() > made["seq"].as_u64().unwrap());
        assert!(received["t"].as_u64().unwrap() >= made["t"].as_u64().unwrap());
        let lost = next_until(&mut viewer, |m| m["kind"] == "connection_lost").await;
        assert_eq!(lost["conn"], conn);

        // A bad subscribe is answered with an error naming the problem; the feed goes on.
        viewer.send(Message::text(r#"{"type":"subscribe","kinds":["no_such_kind"]}"#)).await.unwrap();
        let error = next_until(&mut viewer, |m| m["type"] == "error").await;
        assert!(error["message"].as_str().unwrap().contains("no_such_kind"), "{error}");
    });
}

#[test]
fn a_slow_viewer_is_told_what_it_lost_and_the_reactor_does_not_wait() {
    // A small ring (two batches) so that a stalled viewer falls off it quickly.
    let server = Server::start(GatewayConfig { trace_buffer_events: 512, ..GatewayConfig::default() });
    let (trace, echo, addr) = (server.ws("/ws/trace"), server.ws("/ws"), server.addr());
    let slow_calls_before = metrics(addr)["twine_reactor_slow_calls_total"];
    block_on(async move {
        // The slow viewer: a 4 KiB receive window, and it stops reading after subscribing.
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        let stream = socket.connect(addr).await.unwrap();
        let request = trace.as_str().into_client_request().unwrap();
        let (mut slow, _) =
            tokio_tungstenite::client_async(request, tokio_tungstenite::MaybeTlsStream::Plain(stream)).await.unwrap();
        assert_eq!(next_json(&mut slow).await["type"], "hello");
        slow.send(Message::text(json!({"type": "subscribe", "max_rate": 1_000_000}).to_string())).await.unwrap();
        let mut last_seq = None;
        loop {
            let m = next_json(&mut slow).await;
            if m["type"] == "event" {
                last_seq = m["seq"].as_u64();
            }
            if m["type"] == "subscribed" {
                break;
            }
        }

        // Meanwhile the reactor serves echo traffic at full speed, 64 in flight,
        // until it has produced far more events than the kernel's socket
        // buffers and the ring can hold for the stalled viewer.
        let mut client = connect(&echo).await;
        let mut round = 0;
        loop {
            for i in 0..64 {
                client.send(Message::text(format!("{round}:{i}"))).await.unwrap();
            }
            for i in 0..64 {
                assert_eq!(next_data(&mut client).await, Message::text(format!("{round}:{i}")));
            }
            round += 1;
            if round % 50 == 0 {
                let produced =
                    tokio::task::spawn_blocking(move || metrics(addr)["twine_trace_events_total"]).await.unwrap();
                if produced > 150_000.0 || round > 5_000 {
                    break;
                }
            }
        }

        // Now the viewer reads again: it hears how many events it lost, and
        // the sequence numbers after the report skip exactly that many.
        let mut lost = 0;
        loop {
            let Ok(next) = tokio::time::timeout(Duration::from_secs(3), next_data(&mut slow)).await else {
                break; // all caught up, and no report came
            };
            let Message::Text(text) = next else { panic!("{next:?}") };
            let m: Value = serde_json::from_str(text.as_str()).unwrap();
            match m["type"].as_str() {
                Some("event") => {
                    let seq = m["seq"].as_u64().unwrap();
                    if let Some(last) = last_seq {
                        assert_eq!(seq, last + 1 + lost, "the gap after a report of {lost} lost events");
                    }
                    if lost > 0 {
                        break;
                    }
                    last_seq = Some(seq);
                }
                Some("dropped") => {
                    assert_eq!(m["reason"], "lagged", "{m}");
                    lost = m["count"].as_u64().unwrap();
                    assert!(lost > 0 && m["total"].as_u64().unwrap() >= lost, "{m}");
                }
                _ => panic!("unexpected {m}"),
            }
        }
        assert!(lost > 0, "the stalled viewer lost nothing");
    });
    let after = metrics(addr);
    assert_eq!(after["twine_reactor_slow_calls_total"], slow_calls_before, "a reactor callback was slow");
    assert!(after["twine_trace_dropped_events_total"] > 0.0);
}

#[test]
fn events_over_a_viewers_rate_are_dropped_and_reported() {
    let server = Server::start(GatewayConfig::default());
    let (trace, echo) = (server.ws("/ws/trace"), server.ws("/ws"));
    block_on(async move {
        let mut viewer = viewer(&trace, json!({"type": "subscribe", "kinds": "all", "max_rate": 20})).await;
        let mut client = connect(&echo).await;
        for i in 0..200 {
            client.send(Message::text(format!("{i}"))).await.unwrap();
            next_data(&mut client).await;
        }
        let dropped = next_until(&mut viewer, |m| m["type"] == "dropped").await;
        assert_eq!(dropped["reason"], "rate", "{dropped}");
        assert!(dropped["count"].as_u64().unwrap() > 0);
        // What got through stayed within the rate: a 20-event burst plus 20/s.
        let mut events = 0;
        let window = tokio::time::Instant::now();
        while window.elapsed() < Duration::from_millis(500) {
            match tokio::time::timeout(Duration::from_millis(100), viewer.next()).await {
                Ok(Some(Ok(Message::Text(t)))) if t.contains("\"type\":\"event\"") => events += 1,
                Ok(Some(Ok(_))) | Err(_) => {}
                Ok(other) => panic!("{other:?}"),
            }
        }
        assert!(events <= 40, "{events} events in half a second at 20/s");
    });
}

#[test]
fn with_two_reactors_the_trace_shows_each_one_with_its_own_sequence() {
    let server = Server::start_reactors(2, GatewayConfig::default());
    let (trace, echo) = (server.ws("/ws/trace"), server.ws("/ws"));
    block_on(async move {
        let mut ws = connect(&trace).await;
        let hello = next_json(&mut ws).await;
        assert_eq!(hello["reactors"], 2, "{hello}");
        let subscribe = json!({"type": "subscribe", "kinds": ["connection_made", "message_received"]});
        ws.send(Message::text(subscribe.to_string())).await.unwrap();
        next_until(&mut ws, |m| m["type"] == "subscribed").await;

        // Upgrades go to the reactor with the fewest open: two clients held
        // open together land on both.
        let mut clients = [connect(&echo).await, connect(&echo).await];
        for (i, client) in clients.iter_mut().enumerate() {
            client.send(Message::text(format!("from client {i}"))).await.unwrap();
            next_data(client).await;
        }
        let mut made = std::collections::HashSet::new();
        let mut last_seq = [None::<u64>; 2];
        let mut received = 0;
        while received < 2 {
            let m = next_until(&mut ws, |m| m["type"] == "event").await;
            let reactor = m["reactor"].as_u64().unwrap_or_else(|| panic!("an event without its reactor: {m}"));
            assert!(reactor < 2, "{m}");
            let seq = m["seq"].as_u64().unwrap();
            if let Some(last) = last_seq[reactor as usize] {
                assert!(seq > last, "each reactor's sequence rises: {m}");
            }
            last_seq[reactor as usize] = Some(seq);
            let key = (reactor, m["conn"].as_u64().unwrap());
            if m["kind"] == "connection_made" {
                made.insert(key);
            } else {
                assert!(made.contains(&key), "a message on a connection its reactor never made: {m}");
                received += 1;
            }
        }
        assert!(last_seq.iter().all(Option::is_some), "events from both reactors: {last_seq:?}");
    });
}

#[test]
fn several_reactors_tell_time_on_one_clock() {
    // Reactors started 300 ms apart: on their own clocks, the second's
    // times would read 300 ms early, and the page's lanes would not line up.
    let gap = Duration::from_millis(300);
    let server = Server::start_reactors_apart(2, GatewayConfig::default(), gap);
    let (trace, echo) = (server.ws("/ws/trace"), server.ws("/ws"));
    block_on(async move {
        let mut ws = viewer(&trace, json!({"type": "subscribe", "kinds": ["message_received"]})).await;
        let mut clients = [connect(&echo).await, connect(&echo).await];
        // Each client's message, and when (by this test's clock) it was echoed.
        let start = Instant::now();
        let mut sent_at = Vec::new();
        for (i, client) in clients.iter_mut().enumerate() {
            if i > 0 {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            let before = start.elapsed();
            // Told apart in the trace by their lengths.
            client.send(Message::text("x".repeat(10 + i))).await.unwrap();
            next_data(client).await;
            sent_at.push((before, start.elapsed()));
        }
        let mut at = [None::<(u64, u64)>; 2]; // per client: (reactor, t in ns)
        while at.iter().any(Option::is_none) {
            let m = next_until(&mut ws, |m| m["type"] == "event").await;
            let client = if m["len"] == 11 { 1 } else { 0 };
            at[client] = Some((m["reactor"].as_u64().unwrap(), m["t"].as_u64().unwrap()));
        }
        let [(r0, t0), (r1, t1)] = at.map(Option::unwrap);
        assert_ne!(r0, r1, "the two clients landed on different reactors");
        // Between the two messages, the server's clocks saw what this test did.
        let server_gap = Duration::from_nanos(t1.saturating_sub(t0));
        let (least, most) = (sent_at[1].0.saturating_sub(sent_at[0].1), sent_at[1].1 - sent_at[0].0);
        assert!(
            t1 > t0 && server_gap >= least && server_gap <= most,
            "reactor {r1} saw client 1 {server_gap:?} after reactor {r0} saw client 0 ({t0} -> {t1} ns); \
             the clients sent between {least:?} and {most:?} apart"
        );
    });
}
