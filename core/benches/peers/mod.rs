//! The peers the hot paths are measured against: the least a callback
//! chain and a timer queue can cost. Shared by the criterion benches
//! (`mod peers;`) and `examples/hot_paths.rs` (`#[path]`), so the ratios
//! the two report are against the same code.

// Each bench uses one of them.
#![allow(dead_code)]

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hint::black_box;

/// The 10-callback chain's peer: ten boxed closures, collected, then
/// applied in turn.
pub fn ten_boxed_closures() -> u64 {
    let mut chain: Vec<Box<dyn FnOnce(u64) -> u64>> = Vec::new();
    for _ in 0..10 {
        chain.push(Box::new(|x| x + 1));
    }
    chain.into_iter().fold(black_box(0), |x, f| f(x))
}

/// The timer queue's peer: `n` boxed closures in a bare binary heap keyed
/// by (due, insertion), due at `i % 1000` like the reactor's workload, all
/// popped and run.
pub fn bare_timer_heap(n: u64) {
    let mut heap = BinaryHeap::new();
    let mut calls: Vec<Option<Box<dyn FnOnce()>>> = Vec::with_capacity(n as usize);
    for i in 0..n {
        heap.push(Reverse((i % 1000, i)));
        calls.push(Some(Box::new(|| {})));
    }
    while let Some(Reverse((_, seq))) = heap.pop() {
        if let Some(call) = calls[seq as usize].take() {
            call();
        }
    }
}
