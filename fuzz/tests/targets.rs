//! Every target, briefly: its saved corpus and any input that once failed
//! replay clean, and a short fuzz from a fixed seed finds nothing.
//! (`cargo xtask fuzz` runs the long version: 10 M inputs each.)

use twine_fuzz::{corpus_dir, crash_dir, fuzz, replay_dir, targets, Options};

fn check(name: &str, execs: u64) {
    let mut target = targets::by_name(name).unwrap();
    for dir in [corpus_dir(name), crash_dir(name)] {
        if let Err(e) = replay_dir(target.as_mut(), &dir) {
            panic!("{name}: a saved input fails again: {e}");
        }
    }
    let report = fuzz(target.as_mut(), &Options { execs, seed: 17, ..Options::default() });
    if let Some(f) = report.finding {
        panic!("{name}: {} on {:?}", f.message, String::from_utf8_lossy(&f.input));
    }
    assert!(report.outcomes > 1, "{name}: every input went the same way");
}

#[test]
fn framing() {
    check("framing", 20_000);
}

#[test]
fn websocket() {
    check("websocket", 20_000);
}

#[test]
fn http() {
    check("http", 3_000);
}

#[test]
fn scenario() {
    check("scenario", 3_000);
}

#[test]
fn python() {
    check("python", 1_000);
}

#[test]
fn scenario_run() {
    check("scenario-run", 200);
}

#[test]
fn python_run() {
    check("python-run", 200);
}
