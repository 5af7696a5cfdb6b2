//! A real `twine serve` at a real file-descriptor limit (`RLIMIT_NOFILE`,
//! set in the child process): when `accept` fails for want of fds, the TCP
//! listener backs off instead of retrying every turn, logs a bounded number
//! of lines, keeps serving the connections already open, and accepts again
//! once fds are free.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use common::{cpu_time, open_fds, wait_until, TwineProcess};

/// The child's fd limit: a few for stdio, epoll, the waker, the signal
/// pipe and the listener; the rest for connections.
const FD_LIMIT: u64 = 48;
/// Connections opened against it: well past the limit (the kernel
/// completes them into the listen backlog, which holds far more).
const FLOOD: usize = 120;

/// Sends a line and waits (up to `timeout`) for its echo.
fn echoes(stream: &TcpStream, line: &str, timeout: Duration) -> bool {
    stream.set_read_timeout(Some(timeout)).unwrap();
    let mut writer = stream;
    if writer.write_all(format!("{line}\r\n").as_bytes()).is_err() {
        return false;
    }
    let mut reader = BufReader::new(stream);
    let mut echo = String::new();
    matches!(reader.read_line(&mut echo), Ok(n) if n > 0) && echo == format!("{line}\r\n")
}

#[test]
fn out_of_fds_the_listener_backs_off_keeps_serving_open_connections_and_recovers() {
    let mut twine =
        TwineProcess::serve_with_fd_limit(&["--tcp", "127.0.0.1:0", "--http", "off", "--log", "info"], FD_LIMIT);
    let addr: SocketAddr = twine.line_after("tcp line echo listening on ").parse().unwrap();
    let pid = twine.pid();

    let early = TcpStream::connect(addr).unwrap();
    assert!(echoes(&early, "before the flood", Duration::from_secs(5)));

    let flood: Vec<TcpStream> = (0..FLOOD).map(|_| TcpStream::connect(addr).unwrap()).collect();
    assert!(
        wait_until(Duration::from_secs(5), || twine.stderr_so_far().contains("accept failed")),
        "twine never reported running out of fds; stderr:\n{}",
        twine.stderr_so_far()
    );
    // The limit is real: the server holds every fd it may.
    let fds = open_fds(pid);
    assert!(fds as u64 >= FD_LIMIT - 2, "twine has {fds} fds open, its limit is {FD_LIMIT}");

    // At the limit, the server idles between tries rather than spinning.
    let (cpu_before, wall_before) = (cpu_time(pid), Instant::now());
    std::thread::sleep(Duration::from_secs(1));
    let cpu_share = (cpu_time(pid) - cpu_before).as_secs_f64() / wall_before.elapsed().as_secs_f64();
    eprintln!("out of fds: {:.1}% of a core; {fds} fds open", cpu_share * 100.0);
    assert!(cpu_share < 0.2, "twine used {:.0}% of a core while out of fds", cpu_share * 100.0);

    // A connection opened before the flood is still served.
    assert!(echoes(&early, "during the flood", Duration::from_secs(2)), "the open connection stopped echoing");

    let lines = twine.stderr_so_far().lines().count();
    eprintln!("{lines} log lines so far");
    assert!(lines <= 20, "{lines} log lines in about 1.5 s out of fds:\n{}", twine.stderr_so_far());

    // Once the flood leaves, fds come back and new clients are served.
    drop(flood);
    let started = Instant::now();
    let mut served = false;
    while !served && started.elapsed() < Duration::from_secs(10) {
        if let Ok(late) = TcpStream::connect(addr) {
            served = echoes(&late, "after the flood", Duration::from_secs(3));
        }
    }
    assert!(served, "no new connection was served within 10 s after the flood closed");
    assert!(
        wait_until(Duration::from_secs(2), || twine.stderr_so_far().contains("accepting again")
            || twine.stderr_so_far().contains("recovered")),
        "twine did not say it accepts again; stderr:\n{}",
        twine.stderr_so_far()
    );
    drop(early);
    twine.sigterm();
    assert!(twine.wait_exit(Duration::from_secs(10)).is_some_and(|s| s.success()));
    let log = twine.stderr();
    assert!(log.lines().count() <= 30, "log lines in all:\n{log}");
}
