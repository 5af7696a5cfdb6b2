//! The OS thread pool and the calls between it and the reactor.

mod common;

use std::cell::Cell;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::line_echo;
use twine_core::defer::FailureKind;
use twine_core::threads::defer_to_thread;
use twine_native::blocking::{blocking_call_from_thread, is_reactor_thread};
use twine_native::{Config, ReactorThread};

#[test]
fn a_blocking_job_leaves_timers_on_time_and_clients_served() {
    let (server, addr) = line_echo(Config::default());
    let (tx, rx) = mpsc::channel::<(String, Instant)>();
    let started = Instant::now();
    server.handle().call_from_thread(move |reactor| {
        let job_done = tx.clone();
        defer_to_thread(reactor, || {
            std::thread::sleep(Duration::from_millis(200));
            std::thread::current().name().map(str::to_owned)
        })
        .add_callback(move |name| {
            let _ = job_done.send((format!("job finished on {}", name.as_deref().unwrap_or("?")), Instant::now()));
            name
        });
        reactor.call_later(Duration::from_millis(50), move |_| {
            let _ = tx.send(("timer fired".to_owned(), Instant::now()));
        });
    });

    // A client is served while the job sleeps.
    let mut client = TcpStream::connect(addr).unwrap();
    client.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut reader = BufReader::new(client.try_clone().unwrap());
    let mut echoes = Vec::new();
    while started.elapsed() < Duration::from_millis(150) {
        client.write_all(b"ping\r\n").unwrap();
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        assert_eq!(line, "ping\r\n");
        echoes.push(Instant::now());
    }

    let (first, first_at) = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    let (second, second_at) = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(first, "timer fired");
    assert!(second.starts_with("job finished on twine-worker-"), "{second}");
    let timer_delay = first_at - started;
    assert!(timer_delay < Duration::from_millis(150), "the 50 ms timer fired after {timer_delay:?}");
    assert!(second_at - started >= Duration::from_millis(200));
    let served_during_job = echoes.iter().filter(|t| **t < second_at).count();
    assert!(served_during_job >= 5, "only {served_during_job} echoes while the job ran");
    assert_eq!(server.metrics().snapshot().slow_calls, 0, "nothing on the reactor thread was slow");
    server.shutdown();
    assert!(server.join().is_clean());
}

thread_local! {
    static ANSWER: Cell<u32> = const { Cell::new(0) };
}

#[test]
fn blocking_call_from_a_worker_gets_the_reactors_answer_and_errors_on_the_reactor() {
    let (server, ()) = ReactorThread::spawn(Config::default(), |_| {
        ANSWER.with(|a| a.set(42)); // reactor-thread state a worker cannot see directly
        Ok(())
    })
    .unwrap();
    let handle = server.handle().clone();
    let (tx, rx) = mpsc::channel();
    let h = handle.clone();
    handle.call_from_thread(move |reactor| {
        // On the reactor thread: an error, not a deadlock.
        let here = blocking_call_from_thread(&h, |_| 1);
        let err = here.expect_err("blocking_call_from_thread on the reactor thread must fail");
        assert!(err.message().contains("reactor thread"), "{}", err.message());
        assert!(is_reactor_thread());
        // From a worker: the reactor's answer.
        let tx2 = tx.clone();
        let worker_handle = h.clone();
        defer_to_thread(reactor, move || {
            assert!(!is_reactor_thread());
            blocking_call_from_thread(&worker_handle, |_| ANSWER.with(Cell::get))
        })
        .add_callback(move |answer| {
            let _ = tx2.send(answer.clone().map_err(|f| f.to_string()));
            answer
        });
    });
    assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), Ok(42));
    // From a plain thread too.
    let answer = std::thread::spawn(move || blocking_call_from_thread(&handle, |_| ANSWER.with(Cell::get)));
    assert_eq!(answer.join().unwrap().unwrap(), 42);
    server.shutdown();
    assert!(server.join().is_clean());
}

#[test]
fn a_panicking_job_becomes_a_failure_and_a_full_queue_refuses_clearly() {
    let config = Config { threads: 1, max_queued_jobs: 2, ..Config::default() };
    let (server, ()) = ReactorThread::spawn(config, |_| Ok(())).unwrap();
    let (tx, rx) = mpsc::channel::<(usize, Result<(), (FailureKind, String)>)>();
    let submit = move |reactor: &twine_core::Reactor, jobs: std::ops::Range<usize>| {
        for i in jobs {
            let tx = tx.clone();
            defer_to_thread(reactor, move || {
                std::thread::sleep(Duration::from_millis(50));
                if i == 0 {
                    panic!("job {i} exploded");
                }
            })
            .add_both(move |result| {
                let _ = tx.send((i, result.clone().map_err(|f| (f.kind(), f.message().to_owned()))));
                result.or(Ok(()))
            });
        }
    };
    let submit2 = submit.clone();
    server.handle().call_from_thread(move |reactor| submit(reactor, 0..1));
    assert!(common::wait_until(Duration::from_secs(5), || server.metrics().snapshot().pool_busy == 1));
    server.handle().call_from_thread(move |reactor| submit2(reactor, 1..4));
    let mut results: Vec<_> = (0..4).map(|_| rx.recv_timeout(Duration::from_secs(5)).unwrap()).collect();
    results.sort_by_key(|(i, _)| *i);
    // One thread: job 0 runs, jobs 1 and 2 wait, job 3 finds the queue full.
    let (kind, message) = results[0].1.clone().unwrap_err();
    assert_eq!(kind, FailureKind::Panicked);
    assert!(message.contains("job 0 exploded"), "{message}");
    assert_eq!(results[1].1, Ok(()));
    assert_eq!(results[2].1, Ok(()));
    let (kind, message) = results[3].1.clone().unwrap_err();
    assert_eq!(kind, FailureKind::PoolUnavailable);
    assert!(message.contains("queue is full"), "{message}");
    let m = server.metrics().snapshot();
    assert_eq!(m.pool_threads, 1);
    server.shutdown();
    assert!(server.join().is_clean());
}
