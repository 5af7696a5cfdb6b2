//! The gateway against hostile clients, over real sockets: symbolic links
//! out of `www`, slow clients that never finish a request (Slowloris), in
//! process and against a real `twine serve` under a real fd limit, and the
//! admin token; and memory held for slow readers, given back after they leave.

mod gateway_support;

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use gateway_support::*;
use twine_native::gateway::GatewayConfig;

#[test]
fn static_files_never_follow_a_symbolic_link_out_of_www() {
    use std::os::unix::fs::symlink;
    let outside = tempdir("outside");
    std::fs::write(outside.join("secret.txt"), "the secret").unwrap();
    std::fs::write(outside.join("index.html"), "the secret index").unwrap();
    let www = tempdir("www");
    std::fs::write(www.join("index.html"), "<!doctype html><title>twine</title>").unwrap();
    std::fs::write(www.join("inside.txt"), "inside www").unwrap();
    std::fs::create_dir(www.join("sub")).unwrap();
    symlink(outside.join("secret.txt"), www.join("leak.txt")).unwrap();
    symlink(&outside, www.join("leakdir")).unwrap();
    symlink("/etc/passwd", www.join("passwd")).unwrap();
    symlink(outside.join("index.html"), www.join("sub/index.html")).unwrap();
    // A link that stays inside is fine.
    symlink(www.join("inside.txt"), www.join("alias.txt")).unwrap();
    let server = Server::start(GatewayConfig { www: www.clone(), ..GatewayConfig::default() });
    let addr = server.addr();
    for path in
        ["/leak.txt", "/leakdir/secret.txt", "/leakdir/", "/leakdir/index.html", "/passwd", "/sub/", "/l%65ak.txt"]
    {
        let (status, body) = http_get(addr, path);
        assert_eq!(status, 404, "{path} was served: {body}");
        assert!(!body.contains("secret") && !body.contains("root:"), "{path}: {body}");
    }
    assert_eq!(http_get(addr, "/alias.txt"), (200, "inside www".to_owned()));
    assert_eq!(http_get(addr, "/inside.txt"), (200, "inside www".to_owned()));
    assert_eq!(http_get(addr, "/").0, 200);
    drop(server);
    let _ = std::fs::remove_dir_all(www);
    let _ = std::fs::remove_dir_all(outside);
}

#[test]
fn incomplete_requests_are_closed_after_the_header_timeout_and_past_the_cap_at_once() {
    let timeout = Duration::from_millis(800);
    let cap = 40;
    let server = Server::start(GatewayConfig {
        header_read_timeout: Some(timeout),
        max_http_connections: cap,
        ..GatewayConfig::default()
    });
    let addr = server.addr();

    // Under the cap: the slow clients are held until the timeout, and a
    // good client is served meanwhile.
    let started = Instant::now();
    let mut slow = slow_clients(addr, 30);
    assert_eq!(http_get(addr, "/healthz"), (200, "ok\n".to_owned()));
    let closed = close_times(&mut slow, started, timeout + Duration::from_secs(5));
    let open = closed.iter().filter(|c| c.is_none()).count();
    assert_eq!(open, 0, "{open} of 30 incomplete requests still open {:?} after they began", started.elapsed());
    let earliest = closed.iter().flatten().min().unwrap();
    assert!(
        *earliest >= timeout * 3 / 4,
        "a slow client was closed after {earliest:?}, before the {timeout:?} timeout"
    );

    // Past the cap: the extra connections are closed at once; the rest at the timeout.
    let started = Instant::now();
    let mut flood = slow_clients(addr, 120);
    let closed = close_times(&mut flood, started, timeout + Duration::from_secs(5));
    let at_once = closed.iter().flatten().filter(|&&t| t < timeout / 2).count();
    let open = closed.iter().filter(|c| c.is_none()).count();
    assert!(at_once >= 120 - cap, "only {at_once} of 120 connections past a cap of {cap} were closed at once");
    assert_eq!(open, 0, "{open} of 120 incomplete requests still open after {:?}", started.elapsed());

    // The server is free again.
    assert_eq!(http_get(addr, "/healthz"), (200, "ok\n".to_owned()));
    let stats = server.gateway().stats();
    assert!(stats.http_refused_capacity >= (120 - cap) as u64, "{stats:?}");
    assert!(stats.http_header_timeouts >= 30, "{stats:?}");
    let scraped = metrics(addr);
    assert!(scraped["twine_http_refused_total"] >= (120 - cap) as f64);
}

#[test]
fn with_an_admin_token_trace_and_metrics_need_it_and_the_rest_stays_open() {
    let token = "0123456789abcdef-test";
    let server = Server::start(GatewayConfig { admin_token: Some(token.to_owned()), ..GatewayConfig::default() });
    let addr = server.addr();
    let get = |path: &str, auth: &str| {
        http_request(addr, &format!("GET {path} HTTP/1.1\r\nHost: x\r\n{auth}Connection: close\r\n\r\n"))
    };
    let refused = get("/metrics", "");
    assert!(refused.starts_with("HTTP/1.1 401"), "{refused}");
    assert_eq!(header(&refused, "www-authenticate").as_deref(), Some("Bearer"));
    assert!(get("/metrics", "Authorization: Bearer 0123456789abcdef-tesT\r\n").starts_with("HTTP/1.1 401"));
    assert!(get(&format!("/metrics?token={token}x"), "").starts_with("HTTP/1.1 401"));
    let scraped = get("/metrics", &format!("Authorization: Bearer {token}\r\n"));
    assert!(scraped.starts_with("HTTP/1.1 200") && scraped.contains("twine_reactor_turns_total"), "{scraped}");
    assert!(get(&format!("/metrics?token={token}"), "").starts_with("HTTP/1.1 200"));
    assert_eq!(http_get(addr, "/healthz"), (200, "ok\n".to_owned()));

    let (trace, echo) = (server.ws("/ws/trace"), server.ws("/ws"));
    block_on(async move {
        assert_eq!(handshake_status(&trace, &[]).await, 401);
        assert_eq!(handshake_status(&trace, &[("authorization", "Bearer wrong")]).await, 401);
        assert_eq!(handshake_status(&format!("{trace}?token={token}"), &[]).await, 101);
        assert_eq!(handshake_status(&trace, &[("authorization", &format!("Bearer {token}"))]).await, 101);
        assert_eq!(handshake_status(&echo, &[]).await, 101);
    });
}

/// Slowloris against a real `twine serve` under a real fd limit
/// (`RLIMIT_NOFILE` 128, set in the child): the connection cap it derives
/// from the limit closes the flood at accept, so the process never runs out
/// of descriptors; what it holds is closed at the header timeout; then a
/// good client is served.
#[test]
fn a_slowloris_flood_never_runs_a_real_server_out_of_fds() {
    const LIMIT: u64 = 128;
    let args = ["--tcp", "off", "--http", "127.0.0.1:0", "--header-timeout", "1s", "--log", "warn"];
    let mut twine = TwineProcess::serve_with_fd_limit(&args, LIMIT);
    let addr: SocketAddr = twine.line_after("http gateway listening on http://").parse().unwrap();
    let limits = twine.line_after("  limits ");
    assert!(limits.contains("96 connections (fd limit 128)"), "{limits}");
    let pid = twine.pid();

    let started = Instant::now();
    let mut flood = slow_clients(addr, 300);
    let fds = open_fds(pid);
    assert!(fds < LIMIT as usize - 4, "twine holds {fds} fds of its {LIMIT} during the flood");
    let closed = close_times(&mut flood, started, Duration::from_secs(8));
    let open = closed.iter().filter(|c| c.is_none()).count();
    assert_eq!(open, 0, "{open} of 300 incomplete requests still open after {:?}", started.elapsed());
    assert_eq!(http_get(addr, "/healthz"), (200, "ok\n".to_owned()));
    let log = twine.stderr_so_far();
    assert!(!log.contains("cannot accept"), "twine ran out of fds:\n{log}");
    eprintln!("300 slow clients: {fds} fds held; all closed within {:?}", closed.iter().flatten().max());
    twine.sigterm();
    assert!(twine.wait_exit(Duration::from_secs(10)).is_some_and(|s| s.success()));
}

/// 50 clients that send echo requests and never read the echoes make the
/// server hold what it could not send; once they leave, that memory goes
/// back to the system, not just to the allocator (all but the reactor's
/// bounded pool of spare write buffers, which it keeps by design).
#[test]
fn memory_held_for_slow_readers_is_given_back_after_they_leave() {
    let mut twine = TwineProcess::serve(&["--reactors", "1", "--tcp", "off", "--http", "127.0.0.1:0", "--log", "warn"]);
    let addr: SocketAddr = twine.line_after("http gateway listening on http://").parse().unwrap();
    let pid = twine.pid();
    assert_eq!(http_get(addr, "/healthz").0, 200);
    let baseline = resident_bytes(pid);

    let mut slow: Vec<TcpStream> = (0..50).map(|_| ws_handshake(addr)).collect();
    let burst = frames(16);
    for s in &mut slow {
        s.set_nonblocking(true).unwrap();
    }
    // Write until every client is held back (the server paused reading it).
    let started = Instant::now();
    let mut stalled_rounds = 0;
    while stalled_rounds < 20 && started.elapsed() < Duration::from_secs(20) {
        let mut progressed = false;
        for s in &mut slow {
            if let Ok(n) = s.write(&burst) {
                progressed |= n > 0;
            }
        }
        stalled_rounds = if progressed { 0 } else { stalled_rounds + 1 };
        std::thread::sleep(Duration::from_millis(20));
    }
    let peak = resident_bytes(pid);
    drop(slow);
    assert!(
        wait_until(Duration::from_secs(10), || metrics(addr)["twine_ws_connections_open"] == 0.0),
        "the slow readers' WebSockets did not close"
    );
    std::thread::sleep(Duration::from_secs(3));
    let after = resident_bytes(pid);
    let mib = |b: u64| b as f64 / (1 << 20) as f64;
    eprintln!(
        "resident: {:.1} MiB before, {:.1} MiB with 50 slow readers, {:.1} MiB after",
        mib(baseline),
        mib(peak),
        mib(after)
    );
    // With WebSockets in the reactor a slow reader costs about its
    // high-water mark (64 KiB) plus framing: less than on the tokio bridge.
    assert!(peak > baseline + (2 << 20), "the slow readers did not make the server hold memory: {peak} vs {baseline}");
    let kept = after.saturating_sub(baseline);
    assert!(
        kept.saturating_sub(REACTOR_SPARE_BUFFERS) * 4 <= peak - baseline,
        "{:.1} MiB of {:.1} MiB still held after the slow readers left",
        mib(kept),
        mib(peak - baseline)
    );
    twine.sigterm();
    assert!(twine.wait_exit(Duration::from_secs(10)).is_some_and(|s| s.success()));
}
