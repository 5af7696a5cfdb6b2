//! The reactor's timers on the real clock.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use twine_native::{Config, ReactorThread};

/// Twisted asks for the poll's timeout after running the turn's calls, so a
/// timer that fell due during a slow callback runs as soon as it returns. A
/// timeout computed before the turn would sleep the rest of the old wait
/// again: here the timer would run 150 ms after the callback returned.
#[test]
fn a_timer_due_during_a_slow_callback_runs_when_the_callback_returns() {
    let (tx, rx) = mpsc::channel::<(&str, Instant)>();
    let (server, ()) = ReactorThread::spawn(Config::default(), |_| Ok(())).expect("start a reactor");
    let started = Instant::now();
    server.handle().call_from_thread(move |reactor| {
        let timer = tx.clone();
        reactor.call_later(Duration::from_millis(150), move |_| {
            let _ = timer.send(("timer", Instant::now()));
        });
        // A callback that keeps the reactor thread busy for 250 ms.
        reactor.call_later(Duration::ZERO, move |_| {
            let busy = Instant::now();
            while busy.elapsed() < Duration::from_millis(250) {
                std::hint::spin_loop();
            }
            let _ = tx.send(("busy done", Instant::now()));
        });
    });
    let (first, busy_done) = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    let (second, fired) = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!((first, second), ("busy done", "timer"));
    let late = fired - busy_done;
    assert!(
        late < Duration::from_millis(100),
        "the timer, due {:?} before the busy callback returned, ran {late:?} after it",
        busy_done.saturating_duration_since(started + Duration::from_millis(150)),
    );
    server.shutdown();
    assert!(server.join().is_clean());
}
