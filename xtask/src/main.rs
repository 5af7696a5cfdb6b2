//! `cargo xtask`: twine's two commands, and the set-up they need.
//!
//! - `cargo xtask serve [ARGS...]`: installs what is missing, builds the wasm
//!   playground into `www/pkg`, then runs `twine serve` (extra ARGS go to it).
//! - `cargo xtask test`: the same set-up plus a headless Chromium, then every
//!   check and test; stops at the first failing step and names it.
//! - `cargo xtask bench`: criterion benchmarks of the workspace.
//! - `cargo xtask fidelity`: the simulation against `twine run` and real CPython + Twisted.
//! - `cargo xtask chaos [--short]`: the chaos suite, bounded probes of a
//!   real `twine serve` over loopback, one line each (the short version
//!   also runs in `cargo xtask test`, as one of twine-native's tests).
//! - `cargo xtask fuzz [--target NAME]... [--execs N]`: every decoder's
//!   and parser's fuzz target (`fuzz/`), optimised, N inputs each (10 M).
//!
//! Only std: this runs before anything else is built.

mod fidelity;
mod setup;
mod split;
mod steps;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("serve") => steps::serve(&args[1..]),
        Some("test") => steps::test(&args[1..]),
        Some("bench") => steps::bench(&args[1..]),
        Some("fidelity") => fidelity::fidelity(&args[1..]),
        Some("chaos") => steps::chaos(&args[1..]),
        Some("fuzz") => steps::fuzz(&args[1..]),
        Some("setup") => setup::all(setup::Need { browser: true }),
        _ => {
            eprintln!("usage: cargo xtask <serve|test|bench|fidelity|chaos|fuzz|setup>\n");
            eprintln!("  serve [ARGS]   set up, build the playground, run `twine serve ARGS`");
            eprintln!("  test [--skip STEP]...  set up, then fmt, clippy, tests, wasm and browser tests");
            eprintln!("  bench          criterion benchmarks");
            eprintln!("  fidelity [--runs N] [--only PRESET[/VARIANT]]  the simulation against twine run and CPython + Twisted");
            eprintln!("  chaos [--short]  the chaos suite: probes of a real twine serve, one line each");
            eprintln!("  fuzz [--target NAME]... [--execs N]  fuzz every decoder and parser, N inputs each (10M)");
            eprintln!("  setup          only install what is missing");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("\nxtask: FAILED: {e}");
            ExitCode::FAILURE
        }
    }
}
