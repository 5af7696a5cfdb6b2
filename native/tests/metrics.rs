//! Reactor health as a gateway's /metrics would show it.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::{line_echo, wait_until};
use twine_native::Config;

#[test]
fn counters_move_with_traffic_and_a_slow_callback_is_counted() {
    let (server, addr) = line_echo(Config::default());
    let before = server.metrics().snapshot();
    assert_eq!(before.connections_open, 0);
    assert_eq!(before.slow_calls, 0);

    let mut client = TcpStream::connect(addr).unwrap();
    let mut reader = BufReader::new(client.try_clone().unwrap());
    for i in 0..10 {
        client.write_all(format!("line {i}\r\n").as_bytes()).unwrap();
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
    }
    let metrics = server.metrics();
    assert!(wait_until(Duration::from_secs(5), || {
        let m = metrics.snapshot();
        m.connections_open == 1 && m.bytes_in >= 80 && m.bytes_out >= 80
    }));

    // A callback that blocks the reactor thread for 80 ms: counted as slow.
    server.handle().call_from_thread(|_| std::thread::sleep(Duration::from_millis(80)));
    assert!(wait_until(Duration::from_secs(5), || metrics.snapshot().slow_calls == 1), "{:?}", metrics.snapshot());

    drop((client, reader));
    assert!(wait_until(Duration::from_secs(5), || metrics.snapshot().connections_open == 0));
    let m = metrics.snapshot();
    assert!(m.turns > before.turns && m.calls > before.calls);
    assert_eq!(m.connections_total, 1);
    let text = m.to_prometheus();
    assert!(text.contains("\ntwine_reactor_slow_calls_total 1\n"), "{text}");
    assert!(text.contains("\ntwine_connections_total 1\n"), "{text}");
    assert!(text.contains("# TYPE twine_pool_busy gauge"), "{text}");
    server.shutdown();
    assert!(server.join().is_clean());
}
