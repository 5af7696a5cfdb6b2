//! Installs what a fresh machine lacks, says what it installs, and installs
//! nothing on a second run.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::steps::{root, run, Step};

pub const WASM_TARGET: &str = "wasm32-unknown-unknown";
pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// What the caller needs beyond the Rust toolchain.
pub struct Need {
    pub browser: bool,
}

pub fn all(need: Need) -> Result<(), String> {
    rust_components()?;
    wasm_target()?;
    wasm_bindgen_cli()?;
    if need.browser {
        browser()?;
    }
    Ok(())
}

fn quiet_ok(cmd: &mut Command) -> bool {
    cmd.stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.stderr(Stdio::null()).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn rust_components() -> Result<(), String> {
    for (component, probe) in [("rustfmt", "fmt"), ("clippy", "clippy")] {
        if !quiet_ok(Command::new("cargo").args([probe, "--version"])) {
            println!("xtask: installing the {component} component");
            run(Step::Setup, Command::new("rustup").args(["component", "add", component]))?;
        }
    }
    Ok(())
}

fn wasm_target() -> Result<(), String> {
    let installed = output(Command::new("rustup").args(["target", "list", "--installed"])).unwrap_or_default();
    if !installed.lines().any(|l| l.trim() == WASM_TARGET) {
        println!("xtask: installing the {WASM_TARGET} target");
        run(Step::Setup, Command::new("rustup").args(["target", "add", WASM_TARGET]))?;
    }
    Ok(())
}

/// The wasm-bindgen version Cargo.lock pins: the CLI must match it exactly.
pub fn locked_wasm_bindgen_version() -> Result<String, String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock")).map_err(|e| format!("reading Cargo.lock: {e}"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "name = \"wasm-bindgen\"" {
            if let Some(version) = lines.next().and_then(|v| v.trim().strip_prefix("version = \"")) {
                return Ok(version.trim_end_matches('"').to_owned());
            }
        }
    }
    Err("Cargo.lock has no wasm-bindgen package".into())
}

fn wasm_bindgen_cli() -> Result<(), String> {
    let want = locked_wasm_bindgen_version()?;
    let want = want.as_str();
    let have = output(Command::new("wasm-bindgen").arg("--version")).unwrap_or_default();
    if have.trim() == format!("wasm-bindgen {want}") {
        return Ok(());
    }
    println!("xtask: installing wasm-bindgen-cli {want} (matches Cargo.lock; takes a few minutes the first time)");
    run(Step::Setup, Command::new("cargo").args(["install", "wasm-bindgen-cli", "--locked", "--version", want]))
}

fn browser() -> Result<(), String> {
    if Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists() {
        return Ok(());
    }
    println!("xtask: installing Debian's chromium and chromium-driver for the browser tests");
    let sudo = |args: &[&str]| {
        let mut cmd = if is_root() { Command::new(args[0]) } else { Command::new("sudo") };
        if is_root() {
            cmd.args(&args[1..]);
        } else {
            cmd.args(args);
        }
        cmd.env("DEBIAN_FRONTEND", "noninteractive");
        cmd
    };
    run(Step::Setup, &mut sudo(&["apt-get", "update", "-q"]))?;
    run(Step::Setup, &mut sudo(&["apt-get", "install", "-y", "-q", "chromium", "chromium-driver"]))
}

fn is_root() -> bool {
    output(Command::new("id").arg("-u")).is_some_and(|id| id.trim() == "0")
}

/// Installs the npm packages of a folder with a package-lock.json: once, and
/// again when the lock file is newer than the install (a package was added
/// or moved to another version since).
pub fn npm_packages(dir: &Path) -> Result<(), String> {
    let modified = |p: PathBuf| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    // npm writes node_modules/.package-lock.json at each install.
    let installed = modified(dir.join("node_modules").join(".package-lock.json"));
    let locked = modified(dir.join("package-lock.json"));
    if installed.is_some() && installed >= locked {
        return Ok(());
    }
    println!("xtask: installing npm packages in {}", dir.display());
    run(Step::Setup, Command::new("npm").args(["ci", "--no-audit", "--no-fund"]).current_dir(dir))
}

/// Where the browser tests' WebDriver settings live.
pub fn webdriver_json() -> PathBuf {
    root().join("web").join("webdriver.json")
}
