//! The hot paths of `benches/defer.rs` and `benches/reactor.rs`, each beside
//! its peer, run a fixed number of times: for counting instructions, which a
//! loaded machine does not disturb as it does timings.
//!
//! ```text
//! cargo build --release -p twine-core --example hot_paths
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     target/release/examples/hot_paths chain 100000
//! ```
//!
//! Run each workload at two counts (say 0 and 100000) and divide the
//! difference of the totals ("Collected") by the difference of the counts:
//! the instructions of one round, without start-up.
//!
//! Workloads: `chain` (a 10-callback chain, added then fired), `chain-peer`
//! (ten boxed closures applied in turn), `timers` (1M `call_later` + fire,
//! as one round), `timers-peer` (a bare heap of 1M boxed closures).
//!
//! `hot_paths ratio chain|timers ROUNDS` times instead: rounds of the
//! workload and of its peer, interleaved (a batch of one, then a batch of the
//! other), and prints the median time of each and the median of the
//! per-round ratios, so that load from other processes falls on both alike.
//! On Linux the time is the thread's time on a CPU (schedstat), which
//! leaves out the waits for a CPU that a loaded machine adds; the kernel
//! updates it at scheduler ticks, so a batch runs for tens of milliseconds.

#[path = "../benches/peers/mod.rs"]
mod peers;

use std::hint::black_box;
use std::time::Duration;

use twine_core::defer::Deferred;
use twine_core::{ReactorDriver, Time};

fn chain() {
    let d = Deferred::<u64>::new();
    for _ in 0..10 {
        d.add_callback(|x| x + 1);
    }
    d.callback(black_box(0)).unwrap();
    black_box(d);
}

fn chain_peer() {
    black_box(peers::ten_boxed_closures());
}

const TIMERS: u64 = 1_000_000;

fn timers() {
    let reactor = ReactorDriver::new();
    for i in 0..TIMERS {
        reactor.call_later(Duration::from_nanos(i % 1000), |_| {});
    }
    reactor.handle_timeout(Time::from_micros(1));
    assert_eq!(reactor.stats().timers_pending, 0);
}

fn timers_peer() {
    peers::bare_timer_heap(TIMERS);
}

/// Nanoseconds this thread has spent on a CPU (Linux's schedstat), or
/// `None` where that is not to be had.
fn on_cpu_ns() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().next()?.parse().ok()
}

/// Times `batch` runs of `round`, in nanoseconds per run: time on a CPU
/// where the system tells it (waiting for a CPU on a loaded machine is not
/// the workload's cost), wall time otherwise.
fn time(round: fn(), batch: u32) -> f64 {
    let (wall, cpu) = (std::time::Instant::now(), on_cpu_ns());
    for _ in 0..batch {
        round();
    }
    let ns = match (cpu, on_cpu_ns()) {
        (Some(start), Some(end)) => (end - start) as f64,
        _ => wall.elapsed().as_nanos() as f64,
    };
    ns / f64::from(batch)
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Interleaved rounds of `ours` and `peer`: medians of each and of the ratios.
fn ratio(ours: fn(), peer: fn(), batch: u32, rounds: u64) {
    let (mut a, mut b, mut r) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..rounds {
        // Alternate which goes first, so neither always follows the other.
        let (x, y) = if i % 2 == 0 {
            let x = time(ours, batch);
            (x, time(peer, batch))
        } else {
            let y = time(peer, batch);
            (time(ours, batch), y)
        };
        a.push(x);
        b.push(y);
        r.push(x / y);
    }
    println!(
        "ours {:.1} ns, peer {:.1} ns, ratio (median of {rounds} interleaved rounds) {:.3}",
        median(&mut a),
        median(&mut b),
        median(&mut r)
    );
}

fn main() {
    let mut args = std::env::args().skip(1).peekable();
    if args.next_if(|a| a == "ratio").is_some() {
        let (workload, rounds) = (args.next().unwrap_or_default(), args.next().unwrap_or_default());
        let Ok(rounds) = rounds.parse::<u64>() else {
            eprintln!("hot_paths: ROUNDS must be a whole number, not {rounds:?}");
            std::process::exit(2);
        };
        match workload.as_str() {
            "chain" => ratio(chain, chain_peer, 250_000, rounds),
            "timers" => ratio(timers, timers_peer, 1, rounds),
            other => {
                eprintln!("hot_paths: no ratio for {other:?}; write chain or timers");
                std::process::exit(2);
            }
        }
        return;
    }
    let (Some(workload), Some(rounds)) = (args.next(), args.next()) else {
        eprintln!("usage: hot_paths chain|chain-peer|timers|timers-peer ROUNDS");
        std::process::exit(2);
    };
    let Ok(rounds) = rounds.parse::<u64>() else {
        eprintln!("hot_paths: ROUNDS must be a whole number, not {rounds:?}");
        std::process::exit(2);
    };
    let round: fn() = match workload.as_str() {
        "chain" => chain,
        "chain-peer" => chain_peer,
        "timers" => timers,
        "timers-peer" => timers_peer,
        other => {
            eprintln!("hot_paths: no workload {other:?}; write chain, chain-peer, timers or timers-peer");
            std::process::exit(2);
        }
    };
    for _ in 0..rounds {
        round();
    }
}
