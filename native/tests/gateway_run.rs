//! `/api/run` ("Run on this server"): a real gateway on loopback runs the
//! page's scenario for real and streams metrics and trace back; it refuses,
//! with the reason, a second run while one is going, a run over its time
//! bound, a bad scenario, a foreign origin and a missing admin token, and
//! keeps serving after each.

mod gateway_support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use gateway_support::*;
use serde_json::{json, Value};
use twine_native::gateway::{Gateway, GatewayConfig, GatewayLink};
use twine_native::{Config, ReactorThread};
use twine_scenario::Scenario;
use twine_web::Simulation;

/// One real run at a time across these tests: each measures the machine.
fn serial() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn preset(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../www/presets").join(format!("{name}.json"));
    std::fs::read_to_string(path).unwrap()
}

/// A `POST /api/run` in progress: the connection, and what has been read.
struct Post {
    stream: TcpStream,
    read: Vec<u8>,
}

impl Post {
    fn send(addr: SocketAddr, body: &Value, extra_headers: &str) -> Post {
        let body = body.to_string();
        let mut stream = TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let request = format!(
            "POST /api/run HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{extra_headers}Connection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).unwrap();
        Post { stream, read: Vec::new() }
    }

    /// Reads until `needle` has arrived (or the answer ended).
    fn read_until(&mut self, needle: &str) {
        let mut buf = [0u8; 16 * 1024];
        while !String::from_utf8_lossy(&self.read).contains(needle) {
            match self.stream.read(&mut buf) {
                Ok(0) => return,
                Ok(n) => self.read.extend_from_slice(&buf[..n]),
                Err(e) => panic!("reading the answer: {e}"),
            }
        }
    }

    /// The status and the (de-chunked) body, once the server has closed.
    fn finish(mut self) -> (u16, String) {
        self.stream.read_to_end(&mut self.read).unwrap();
        let text = String::from_utf8(self.read).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no HTTP answer: {text:?}"));
        let status = head.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
        let chunked = head.lines().any(|l| l.eq_ignore_ascii_case("transfer-encoding: chunked"));
        (status, if chunked { dechunk(body) } else { body.to_owned() })
    }
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    loop {
        let (size, rest) = body.split_once("\r\n").expect("a chunk size line");
        let size = usize::from_str_radix(size.trim(), 16).expect("a hex chunk size");
        if size == 0 {
            return out;
        }
        out.push_str(&rest[..size]);
        body = &rest[size + 2..];
    }
}

fn post(addr: SocketAddr, body: &Value) -> (u16, String) {
    Post::send(addr, body, "").finish()
}

/// The `metrics` of a streamed answer (the line before `done`).
fn metrics_of(body: &str) -> Value {
    let mut line = lines(body).into_iter().find(|l| l["type"] == "metrics");
    line.as_mut().unwrap_or_else(|| panic!("no metrics in {body}"))["metrics"].take()
}

/// The JSON lines of a streamed answer.
fn lines(body: &str) -> Vec<Value> {
    body.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect()
}

/// A refusal's status, field and text.
fn refusal(addr: SocketAddr, body: &Value) -> (u16, String, String) {
    let (status, text) = post(addr, body);
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    (status, v["field"].as_str().unwrap().to_owned(), v["error"].as_str().unwrap().to_owned())
}

fn server() -> Server {
    Server::start(GatewayConfig::default())
}

/// A pool thread's name without its number: which idle worker takes a job
/// is the OS's choice, so only "a pool thread" is the same in every run.
fn thread_kind(name: &str) -> String {
    match name.strip_prefix("pool-") {
        Some(n) if n.bytes().all(|b| b.is_ascii_digit()) => "pool-#".to_owned(),
        _ => name.to_owned(),
    }
}

#[test]
fn a_short_preset_runs_for_real_and_prints_what_the_simulation_prints() {
    let _serial = serial();
    let server = server();
    let text = preset("deferred-errback");
    let (status, body) = post(server.addr(), &json!({ "scenario": text, "seed": 3 }));
    assert_eq!(status, 200, "{body}");
    let lines = lines(&body);
    let kinds: Vec<&str> = lines.iter().map(|l| l["type"].as_str().unwrap()).collect();
    assert_eq!(kinds.first(), Some(&"started"), "{kinds:?}");
    assert_eq!(kinds[kinds.len() - 2..], ["metrics", "done"], "{kinds:?}");
    assert_eq!(lines[0]["scenario"], "deferred-errback");

    let metrics = &lines[lines.len() - 2]["metrics"];
    assert_eq!(metrics["end_reason"], "stopped");
    assert_eq!(metrics["seed"], 3);
    let real: Vec<(String, String)> = metrics["output"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (thread_kind(l["name"].as_str().unwrap()), l["text"].as_str().unwrap().to_owned()))
        .collect();
    let mut sim = Simulation::new(&Scenario::from_json(&text).unwrap(), Some(3));
    sim.run();
    let simulated: Vec<(String, String)> =
        sim.metrics().output.into_iter().map(|l| (thread_kind(&l.name), l.text)).collect();
    assert_eq!(real, simulated, "the real run printed other lines than the simulation");
    assert!(real.len() >= 8, "{real:?}");

    // The real reactor's trace came along, all of it: the jobs ran on pool threads.
    let events: Vec<&Value> =
        lines.iter().filter(|l| l["type"] == "trace").flat_map(|l| l["events"].as_array().unwrap()).collect();
    let done = lines.last().unwrap();
    assert_eq!(done["sent"], events.len());
    assert_eq!(done["events"], metrics["events"]);
    assert_eq!(events.iter().filter(|e| e["kind"] == "job_finished").count(), 2);
}

/// The answer comes as the run goes: trace events and progress while the
/// real run is still going, the metrics when it is over.
#[test]
fn the_answer_streams_progress_and_trace_while_the_run_goes() {
    let _serial = serial();
    let server = server();
    // A LoopingCall ticking every 100 ms for 2.05 s of real time.
    let sent = std::time::Instant::now();
    let mut post =
        Post::send(server.addr(), &json!({ "scenario": preset("looping-call-drift"), "variant": "idle" }), "");
    post.read_until("\"type\":\"progress\"");
    let first_progress = sent.elapsed();
    let early = String::from_utf8_lossy(&post.read).into_owned();
    assert!(early.contains("\"type\":\"trace\""), "trace events come before the run ends: {early}");
    assert!(!early.contains("\"type\":\"metrics\""), "the metrics came before the run ended: {early}");
    post.read_until("\"type\":\"done\"");
    let done = sent.elapsed();
    assert!(
        done >= first_progress + Duration::from_secs(1),
        "progress came at {first_progress:?}, the end at {done:?}: not while the run went"
    );
    let (status, body) = post.finish();
    assert_eq!(status, 200, "{body}");
    let lines = lines(&body);
    let progress: Vec<&Value> = lines.iter().filter(|l| l["type"] == "progress").collect();
    assert!(progress.len() >= 10, "a progress line about every 100 ms: {}", progress.len());
    let elapsed: Vec<f64> = progress.iter().map(|p| p["elapsed_ms"].as_f64().unwrap()).collect();
    let events: Vec<u64> = progress.iter().map(|p| p["events"].as_u64().unwrap()).collect();
    assert!(
        elapsed.windows(2).all(|w| w[0] <= w[1]) && events.windows(2).all(|w| w[0] <= w[1]),
        "{elapsed:?} {events:?}"
    );
    assert!(*elapsed.last().unwrap() >= 2050.0, "{elapsed:?}");
    let metrics = &lines[lines.len() - 2]["metrics"];
    assert_eq!(metrics["looping_calls"][0]["calls"], 16);
    let streamed: usize =
        lines.iter().filter(|l| l["type"] == "trace").map(|l| l["events"].as_array().unwrap().len()).sum();
    assert_eq!(lines.last().unwrap()["sent"], streamed);
    assert_eq!(lines.last().unwrap()["events"], metrics["events"]);
    assert_eq!(*events.last().unwrap(), metrics["events"].as_u64().unwrap());
}

#[test]
fn a_second_run_is_refused_while_one_runs_and_accepted_after() {
    let _serial = serial();
    let server = server();
    let addr = server.addr();
    let slow =
        json!({ "scenario": { "main": [{ "call_later": { "ms": 1500, "steps": [{ "print": "late" }, "stop"] } }] } });
    let mut first = Post::send(addr, &slow, "");
    // The first line goes out as the run starts.
    first.read_until("\"started\"");
    let (status, body) = http_get(addr, "/api/run");
    assert_eq!(status, 200);
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["busy"], true);

    let (status, _, error) = refusal(addr, &json!({ "scenario": { "main": [{ "print": "me too" }] } }));
    assert_eq!(status, 429);
    assert!(error.starts_with("busy: this server is running another experiment"), "{error}");

    let (status, body) = first.finish();
    assert_eq!(status, 200);
    let metrics = &metrics_of(&body);
    assert_eq!(metrics["output"][0]["text"], "late");
    assert!(metrics["output"][0]["t_ms"].as_f64().unwrap() >= 1500.0);

    let (status, body) = post(addr, &json!({ "scenario": { "main": [{ "print": "my turn" }] } }));
    assert_eq!(status, 200, "{body}");
    assert_eq!(metrics_of(&body)["output"][0]["text"], "my turn");
}

#[test]
fn a_run_over_the_time_bound_is_refused_naming_the_field() {
    let _serial = serial();
    let server = server();
    let (status, field, error) = refusal(server.addr(), &json!({ "scenario": { "duration_ms": 20000 } }));
    assert_eq!((status, field.as_str()), (422, "duration_ms"));
    assert_eq!(error, "duration_ms: 20000 ms of real time is longer than 10 s; lower it (the most this server runs)");

    // The echo preset asks for 1,000 requests at 40 a second: 25 s.
    let (status, field, error) =
        refusal(server.addr(), &json!({ "scenario": preset("echo-blocking"), "variant": "deferred" }));
    assert_eq!((status, field.as_str()), (422, "clients.open.requests"));
    assert!(error.contains("more than 10 s; send fewer"), "{error}");
}

#[test]
fn a_bad_scenario_gets_the_scenario_error_and_the_server_keeps_serving() {
    let _serial = serial();
    let server = server();
    let addr = server.addr();
    let bad = r#"{"machine": {"cores": 0}}"#;
    let expected = Scenario::from_json(bad).unwrap_err();
    let (status, field, error) = refusal(addr, &json!({ "scenario": bad }));
    assert_eq!((status, field.as_str()), (422, "machine.cores"));
    assert_eq!(error, expected.to_string());

    let (status, field, error) = refusal(addr, &json!({ "scenario": { "main": [{ "cpux": 1 }] } }));
    assert_eq!((status, field.as_str()), (422, "main[0]"));
    assert!(error.contains("unknown variant `cpux`"), "{error}");

    let (status, text) = Post::send(addr, &json!("not a request"), "").finish();
    assert_eq!(status, 400);
    assert!(text.contains(r#"the request must be {\"scenario\""#), "{text}");

    assert_eq!(http_get(addr, "/healthz"), (200, "ok\n".to_owned()));
    let (status, body) = post(addr, &json!({ "scenario": { "main": [{ "print": "still here" }] } }));
    assert_eq!(status, 200, "{body}");
    assert_eq!(metrics_of(&body)["output"][0]["text"], "still here");
}

#[test]
fn runs_are_origin_checked_and_need_the_admin_token_when_one_is_set() {
    let _serial = serial();
    let run = json!({ "scenario": { "main": [{ "print": "hi" }] } });
    let open = server();
    let (status, _) = Post::send(open.addr(), &run, "Origin: https://evil.example\r\n").finish();
    assert_eq!(status, 403);
    let (status, _) = Post::send(open.addr(), &run, &format!("Origin: http://{}\r\n", open.addr())).finish();
    assert_eq!(status, 200);

    let token = "a-token-of-some-length";
    let guarded = Server::start(GatewayConfig { admin_token: Some(token.into()), ..GatewayConfig::default() });
    let (status, body) = http_get(guarded.addr(), "/api/run");
    assert_eq!(status, 200);
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["needs_token"], true);
    let (status, text) = post(guarded.addr(), &run);
    assert_eq!(status, 401);
    assert!(text.contains("needs the admin token"), "{text}");
    let (status, body) = Post::send(guarded.addr(), &run, &format!("Authorization: Bearer {token}\r\n")).finish();
    assert_eq!(status, 200, "{body}");
}

#[test]
fn a_server_listening_beyond_loopback_without_a_token_runs_nothing() {
    let (reactor, link) = ReactorThread::spawn(Config::default(), |setup| Ok(GatewayLink::install(setup))).unwrap();
    let config = GatewayConfig { addr: "0.0.0.0:0".parse().unwrap(), ..GatewayConfig::default() };
    let gateway = Gateway::start(config, link).unwrap();
    let addr = SocketAddr::from(([127, 0, 0, 1], gateway.local_addr().port()));
    let (status, _, error) = refusal(addr, &json!({ "scenario": { "main": [] } }));
    reactor.shutdown();
    reactor.join();
    gateway.join(Duration::from_secs(1));
    assert_eq!(status, 403);
    assert!(error.contains("start it with --admin-token"), "{error}");
}
