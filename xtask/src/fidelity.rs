//! `cargo xtask fidelity [--runs N] [--only PRESET[/VARIANT]]`: the simulation against
//! `twine run` (the scenario on real threads, without and with a real GIL)
//! and real CPython + Twisted, preset by preset (a measurement, not a test).
//!
//! Makes `target/fidelity-venv` with Twisted from PyPI (once), builds
//! `twine-sim` and `twine` in release, then runs `xtask/fidelity.py`, which
//! writes the table to `target/fidelity.md`.

use std::path::PathBuf;
use std::process::Command;

use crate::steps::{cargo, root, run, Step};

/// The Twisted the harness measures against: pinned, so tables compare.
const TWISTED: &str = "twisted==26.10.0";

pub fn fidelity(args: &[String]) -> Result<(), String> {
    let target = root().join("target");
    let venv = target.join("fidelity-venv");
    let python = venv.join("bin").join("python");
    if !python.exists() {
        run(Step::Fidelity, Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
    }
    let has_twisted = Command::new(&python).args(["-c", "import twisted"]).status().is_ok_and(|s| s.success());
    if !has_twisted {
        run(Step::Fidelity, Command::new(&python).args(["-m", "pip", "install", "--quiet", TWISTED]))?;
    }
    run(
        Step::Fidelity,
        cargo().args([
            "build",
            "--release",
            "-p",
            "twine-web",
            "--bin",
            "twine-sim",
            "-p",
            "twine-native",
            "--bin",
            "twine",
        ]),
    )?;
    let sim: PathBuf = target.join("release").join("twine-sim");
    let twine: PathBuf = target.join("release").join("twine");
    run(
        Step::Fidelity,
        Command::new("python3")
            .arg(root().join("xtask").join("fidelity.py"))
            .arg("--sim")
            .arg(sim)
            .arg("--twine")
            .arg(twine)
            .arg("--python")
            .arg(&python)
            .arg("--presets")
            .arg(root().join("www").join("presets"))
            .arg("--out")
            .arg(target.join("fidelity.md"))
            .args(args),
    )
}
