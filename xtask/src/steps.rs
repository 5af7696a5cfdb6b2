//! The steps of `serve`, `test` and `bench`. Each runs a command, shows it,
//! and fails naming the step.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::setup::{self, Need, CHROMEDRIVER, WASM_TARGET};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Step {
    Setup,
    Fmt,
    Clippy,
    ClippyWasm,
    Test,
    Doc,
    WasmCore,
    WasmPkg,
    WasmTest,
    E2e,
    Bench,
    Chaos,
    Serve,
    Fidelity,
    Fuzz,
}

impl Step {
    const TEST_STEPS: [Step; 9] = [
        Step::Fmt,
        Step::Clippy,
        Step::ClippyWasm,
        Step::Test,
        Step::Doc,
        Step::WasmCore,
        Step::WasmPkg,
        Step::WasmTest,
        Step::E2e,
    ];

    fn name(self) -> &'static str {
        match self {
            Step::Setup => "setup",
            Step::Fmt => "fmt",
            Step::Clippy => "clippy",
            Step::ClippyWasm => "clippy-wasm",
            Step::Test => "test",
            Step::Doc => "doc",
            Step::WasmCore => "wasm-core",
            Step::WasmPkg => "wasm-pkg",
            Step::WasmTest => "wasm-test",
            Step::E2e => "e2e",
            Step::Bench => "bench",
            Step::Chaos => "chaos",
            Step::Serve => "serve",
            Step::Fidelity => "fidelity",
            Step::Fuzz => "fuzz",
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The workspace root (xtask lives one level below it).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask is inside the workspace").to_path_buf()
}

/// Runs `cmd` in the workspace root (unless it has its own directory), echoing it.
pub fn run(step: Step, cmd: &mut Command) -> Result<(), String> {
    if cmd.get_current_dir().is_none() {
        cmd.current_dir(root());
    }
    let shown = format!(
        "{} {}",
        cmd.get_program().to_string_lossy(),
        cmd.get_args().map(|a| a.to_string_lossy()).collect::<Vec<_>>().join(" ")
    );
    println!("xtask [{step}] $ {shown}");
    let status = cmd.status().map_err(|e| format!("step `{step}`: cannot run `{shown}`: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("step `{step}` failed: `{shown}` exited with {status}"))
    }
}

pub fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

pub fn test(args: &[String]) -> Result<(), String> {
    let mut skip = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--skip" => skip.push(args.next().ok_or("--skip needs a step name")?.clone()),
            other => {
                return Err(format!(
                    "unknown argument `{other}` (steps: {})",
                    Step::TEST_STEPS.map(Step::name).join(", ")
                ))
            }
        }
    }
    let started = Instant::now();
    setup::all(Need { browser: true })?;
    for step in Step::TEST_STEPS {
        if skip.iter().any(|s| s == step.name()) {
            println!("xtask [{step}] skipped");
            continue;
        }
        let t = Instant::now();
        run_test_step(step)?;
        println!("xtask [{step}] ok in {:.0?}", t.elapsed());
    }
    println!("\nxtask: all steps passed in {:.0?}", started.elapsed());
    Ok(())
}

fn run_test_step(step: Step) -> Result<(), String> {
    match step {
        Step::Fmt => run(step, cargo().args(["fmt", "--all", "--", "--check"])),
        Step::Clippy => run(step, cargo().args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"])),
        // The code that only exists on wasm (bindings, browser tests) gets linted too.
        Step::ClippyWasm => {
            // core; the page's bindings and browser tests; and the light
            // module's build (no `python`, no `lab`), whose bindings differ.
            const BUILDS: [&[&str]; 3] = [
                &["-p", "twine-core", "--lib"],
                &["-p", "twine-web", "--lib", "--tests"],
                &["-p", "twine-web", "--lib", "--no-default-features"],
            ];
            for build in BUILDS {
                run(step, cargo().arg("clippy").args(build).args(["--target", WASM_TARGET, "--", "-D", "warnings"]))?;
            }
            Ok(())
        }
        Step::Test => run(step, cargo().args(["test", "--workspace"])),
        Step::Doc => run(step, cargo().args(["doc", "--workspace", "--no-deps"]).env("RUSTDOCFLAGS", "-D warnings")),
        Step::WasmCore => run(step, cargo().args(["build", "-p", "twine-core", "--target", WASM_TARGET])),
        Step::WasmPkg => build_playground(step),
        Step::WasmTest => run(
            step,
            cargo()
                .args(["test", "-p", "twine-web", "--target", WASM_TARGET])
                .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER", "wasm-bindgen-test-runner")
                .env("CHROMEDRIVER", CHROMEDRIVER)
                .env("WASM_BINDGEN_TEST_WEBDRIVER_JSON", setup::webdriver_json())
                .env("WASM_BINDGEN_TEST_TIMEOUT", "120"),
        ),
        Step::E2e => e2e(step),
        _ => unreachable!("not a test step"),
    }
}

/// Builds the playground into www/pkg: the simulation module twice (light,
/// twine-web without its default features: runs of the compiled presets
/// only, for the first load; full, in pkg/py/, with the Python parser, JSON
/// scenarios, explore, play, sweeps, exports and the live echo, for when
/// the page needs one), each through wasm-opt; the preset programs
/// compiled natively (their list in presets.compiled.bin, each one's
/// program in presets/NAME.bin), which the light module runs until the
/// user edits one; the light module split in two by what those runs call
/// (twine_web_cold.wasm the rest); the page's own modules as one bundle (app.js,
/// which index.html loads) and the chunks it loads on first use; the code
/// editor bundle; and brotli and gzip copies of all of them.
fn build_playground(step: Step) -> Result<(), String> {
    let tools = root().join("xtask").join("web");
    setup::npm_packages(&tools)?;
    let out = root().join("www").join("pkg");
    // Each in its own target folder, so switching features rebuilds neither.
    // The light module, which every first load waits for, gets wasm-opt's
    // control flow rebuilt before the size passes (--flatten --rereloop):
    // 293296 -> 289490 bytes brotli, about 1 % more instructions per preset
    // run under callgrind, 30 s more build; not worth the build time on
    // the full module, fetched only when needed. Then -Os twice, not -Oz:
    // 270981 -> 270545 bytes brotli (larger raw, smaller compressed), and
    // no slower in V8 (min of 50 interleaved rounds per preset within 3 %).
    let light = Module {
        features: &["--no-default-features"],
        target_dir: "wasm-light",
        // Built for size, with "s"'s inlining (Cargo.toml, `wasm-light`).
        profile: "wasm-light",
        rustflags: "-C llvm-args=-inline-threshold=75",
        passes: &["--flatten", "--rereloop", "-Os", "-Os"],
    };
    build_module(step, &tools, &light, &out)?;
    // Split once the presets are compiled (below): the profile runs them.
    let full =
        Module { features: &[], target_dir: "wasm-full", profile: "wasm-release", rustflags: "", passes: &["-Oz"] };
    build_module(step, &tools, &full, &out.join("py"))?;
    run(step, cargo().args(["build", "-p", "twine-web", "--bin", "twine-precompile"]))?;
    run(
        step,
        Command::new(root().join("target").join("debug").join("twine-precompile"))
            .arg(out.join("presets.compiled.bin"))
            .arg(out.join("presets")),
    )?;
    split_light_module(step, &tools, &out)?;
    // The page's own modules: app.js, which index.html loads (it falls back
    // to js/main.js when it is missing), one request instead of a chain of
    // 22 imports; the parts main.js imports later are chunks of their own:
    // what runs and shows a run (runner.js with the trace model, views.js),
    // fetched right after boot so that they are not part of what Run waits
    // for (app.js 20655 -> 15415 bytes brotli without the runner), and
    // Compare, the live view, the
    // scheduler... fetched on first use; they import what they share with
    // the page from app.js. Rollup splits so
    // (esbuild's splitting would put every module both use in shared chunks
    // that app.js imports: 8 requests, one after the other, before Run);
    // esbuild minifies. All sit in pkg/ itself, so the paths the modules
    // build from import.meta.url (`../challenges/`, `../pkg/x`) mean what
    // they mean from js/; the chunks' names carry a hash, so the last
    // build's are removed first.
    remove_app_chunks(&out)?;
    run(
        step,
        Command::new(tools.join("node_modules").join(".bin").join("rollup"))
            .arg(root().join("www").join("js").join("main.js"))
            .args(["--format=es", "--entryFileNames=app.js", "--chunkFileNames=app-[name]-[hash].js"])
            .args(["--external=../pkg/editor.js", "--dir"])
            .arg(&out),
    )?;
    let mut modules = vec![out.join("app.js")];
    for entry in fs::read_dir(&out).map_err(|e| format!("reading {}: {e}", out.display()))?.flatten() {
        if is_app_chunk(&entry.file_name().to_string_lossy()) {
            modules.push(entry.path());
        }
    }
    minify_in_place(step, &tools, &modules, &out)?;
    // The simulation worker, minified beside the bundle that starts it.
    run(
        step,
        Command::new(tools.join("node_modules").join(".bin").join("esbuild"))
            .arg(root().join("www").join("js").join("sim-worker.js"))
            .args(["--bundle", "--format=esm", "--minify", "--log-level=warning"])
            .arg(format!("--outfile={}", out.join("sim-worker.js").display())),
    )?;
    // The code editor, bundled from the pinned npm packages (no CDN).
    run(
        step,
        Command::new(tools.join("node_modules").join(".bin").join("esbuild"))
            .args(["editor-entry.js", "--bundle", "--format=esm", "--minify", "--log-level=warning"])
            .arg(format!("--outfile={}", out.join("editor.js").display()))
            .current_dir(&tools),
    )?;
    precompress(step, &out)?;
    precompress(step, &out.join("presets"))?;
    precompress(step, &out.join("py"))
}

/// Minifies ES modules that sit in `dir`, each into itself (esbuild).
fn minify_in_place(step: Step, tools: &Path, modules: &[PathBuf], dir: &Path) -> Result<(), String> {
    run(
        step,
        Command::new(tools.join("node_modules").join(".bin").join("esbuild"))
            .args(modules)
            .args(["--minify", "--format=esm", "--allow-overwrite", "--log-level=warning"])
            .arg(format!("--outdir={}", dir.display())),
    )
}

/// Removes the page's chunks (`app-*.js` and their compressed copies) that
/// an earlier build left in `out`.
fn remove_app_chunks(out: &Path) -> Result<(), String> {
    let Ok(entries) = fs::read_dir(out) else { return Ok(()) };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if is_app_chunk(&name) || [".br", ".gz"].iter().any(|ext| name.strip_suffix(ext).is_some_and(is_app_chunk)) {
            fs::remove_file(entry.path()).map_err(|e| format!("removing {}: {e}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// Whether `name` is one of the page's chunks (`app-NAME-HASH.js`).
fn is_app_chunk(name: &str) -> bool {
    name.starts_with("app-") && name.ends_with(".js")
}

/// How one of the playground's wasm modules is built.
struct Module<'a> {
    /// twine-web's feature flags for it.
    features: &'a [&'a str],
    /// Its own folder under target/, so switching features rebuilds neither.
    target_dir: &'a str,
    /// The Cargo profile (Cargo.toml says why each).
    profile: &'a str,
    /// Flags for rustc that a profile cannot carry on stable, added to
    /// RUSTFLAGS.
    rustflags: &'a str,
    /// wasm-opt's passes.
    passes: &'a [&'a str],
}

/// One build of twine-web for the browser, its JS glue and wasm-opt, into
/// `out`.
fn build_module(step: Step, tools: &Path, module: &Module, out: &Path) -> Result<(), String> {
    let target = root().join("target").join(module.target_dir);
    let mut build = cargo();
    build
        .args(["build", "-p", "twine-web", "--lib", "--target", WASM_TARGET, "--profile", module.profile])
        .args(module.features)
        .arg("--target-dir")
        .arg(&target);
    if !module.rustflags.is_empty() {
        let mut flags = std::env::var("RUSTFLAGS").unwrap_or_default();
        flags.push(' ');
        flags.push_str(module.rustflags);
        build.env("RUSTFLAGS", flags.trim());
    }
    run(step, &mut build)?;
    let wasm = target.join(WASM_TARGET).join(module.profile).join("twine_web.wasm");
    run(
        step,
        Command::new("wasm-bindgen").args(["--target", "web", "--no-typescript", "--out-dir"]).arg(out).arg(&wasm),
    )?;
    // The glue carries every exported item's rustdoc as JSDoc: minified it
    // is about half the size compressed (same exports, same module path).
    minify_in_place(step, tools, &[out.join("twine_web.js")], out)?;
    // npm's binaryen after wasm-bindgen (Debian's older wasm-opt breaks the
    // module's table there: ../shared/TOOLCHAIN.md). The features are the
    // ones rustc's wasm32 target enables by default.
    let wasm = out.join("twine_web_bg.wasm");
    run(
        step,
        Command::new(tools.join("node_modules").join(".bin").join("wasm-opt"))
            .args(module.passes)
            .args(["--enable-bulk-memory", "--enable-nontrapping-float-to-int", "--enable-sign-ext"])
            .args(["--enable-mutable-globals", "--enable-reference-types", "--enable-multivalue", "-o"])
            .arg(&wasm)
            .arg(&wasm),
    )
}

/// Splits the light module (`out/twine_web_bg.wasm`) by what the page's
/// preset runs call (`xtask/web/profile-light.mjs`, run in node's V8):
/// the rest moves to `out/twine_web_cold.wasm`, which the page fetches
/// after Run is possible (src/split.rs, www/js/cold-half.js): the module
/// Run waits for went from 250.5 to 201.6 KB brotli (cold half 63.3), the
/// page before Run from 285.9 to 237.7 KB (e2e/weight.mjs); preset runs
/// and playback as fast as before (e2e/wasm-speed.mjs, playback-speed.mjs).
/// The metrics and the views' reads are in the cold half: a run's first
/// display waits for it if it has not come yet, as it waits for the views.
fn split_light_module(step: Step, tools: &Path, out: &Path) -> Result<(), String> {
    let profile = tools.join("profile-light.mjs");
    println!("xtask [{step}] $ node --wasm-lazy-compilation --trace-wasm-compilation-times {}", profile.display());
    let output = Command::new("node")
        .args(["--wasm-lazy-compilation", "--trace-wasm-compilation-times"])
        .arg(&profile)
        .arg(out)
        .output()
        .map_err(|e| format!("step `{step}`: cannot run node: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!(
            "step `{step}`: profiling the light module failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    // "Compiled function 0x55d0c8a0#1234 using Liftoff, ...": function 1234 was called.
    let hot: std::collections::HashSet<u32> = stdout
        .lines()
        .filter(|l| l.starts_with("Compiled function "))
        .filter_map(|l| l.split('#').nth(1)?.split(' ').next()?.parse().ok())
        .collect();
    if hot.len() < 100 {
        return Err(format!(
            "step `{step}`: node printed {} compiled functions for the light module's profile: has V8's trace format changed?",
            hot.len()
        ));
    }
    let path = out.join("twine_web_bg.wasm");
    let wasm = fs::read(&path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    let halves = crate::split::split(&wasm, &hot)?;
    if halves.moved == 0 {
        return Err(format!(
            "step `{step}`: the light module's profile called every function: did V8 compile eagerly?"
        ));
    }
    for (name, bytes) in [("primary", &halves.primary), ("cold half", &halves.cold)] {
        wasmparser::Validator::new()
            .validate_all(bytes)
            .map_err(|e| format!("the split's {name} is not valid: {e}"))?;
    }
    println!(
        "xtask [{step}] light module: {} functions called by the profile, {} moved to the cold half ({} + {} bytes, from {})",
        hot.len(),
        halves.moved,
        halves.primary.len(),
        halves.cold.len(),
        wasm.len()
    );
    fs::write(&path, &halves.primary).map_err(|e| format!("writing {}: {e}", path.display()))?;
    let cold = out.join("twine_web_cold.wasm");
    fs::write(&cold, &halves.cold).map_err(|e| format!("writing {}: {e}", cold.display()))
}

/// Writes `NAME.br` and `NAME.gz` beside each generated file, at the
/// strongest settings (done once per build, where a server compressing per
/// request has to be quick), for `twine serve` to send to browsers that
/// accept them. Node's zlib does both: no other tool to install.
fn precompress(step: Step, dir: &Path) -> Result<(), String> {
    const SCRIPT: &str = r#"
const fs = require("fs"), path = require("path"), zlib = require("zlib");
const dir = process.argv[1];
for (const name of fs.readdirSync(dir)) {
  if (!/\.(wasm|js|json|bin)$/.test(name)) continue;
  const data = fs.readFileSync(path.join(dir, name));
  fs.writeFileSync(path.join(dir, name + ".br"), zlib.brotliCompressSync(data, {
    params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: data.length },
  }));
  fs.writeFileSync(path.join(dir, name + ".gz"), zlib.gzipSync(data, { level: 9 }));
  console.log(`${name}: ${data.length} bytes, brotli ${fs.statSync(path.join(dir, name + ".br")).size}, gzip ${fs.statSync(path.join(dir, name + ".gz")).size}`);
}
"#;
    run(step, Command::new("node").args(["-e", SCRIPT]).arg(dir))
}

/// The browser end-to-end suite in e2e/ (Playwright driving Debian's Chromium
/// against a real `twine serve`), when it exists.
fn e2e(step: Step) -> Result<(), String> {
    let dir = root().join("e2e");
    if !dir.join("package.json").exists() {
        println!("xtask [{step}] no e2e/ suite yet");
        return Ok(());
    }
    run(
        step,
        cargo().args(["build", "-p", "twine-native", "--bin", "twine", "-p", "twine-web", "--bin", "twine-sim"]),
    )?;
    setup::npm_packages(&dir)?;
    let bin = root().join("target").join("debug");
    run(
        step,
        Command::new("node")
            .arg("run.mjs")
            .current_dir(&dir)
            .env("TWINE_BIN", bin.join("twine"))
            .env("TWINE_SIM_BIN", bin.join("twine-sim"))
            .env("TWINE_ROOT", root())
            .env("CHROMIUM", setup::CHROMIUM),
    )
}

pub fn serve(args: &[String]) -> Result<(), String> {
    setup::all(Need { browser: false })?;
    build_playground(Step::WasmPkg)?;
    run(Step::Serve, cargo().args(["build", "--release", "-p", "twine-native", "--bin", "twine"]))?;
    let twine = root().join("target").join("release").join("twine");
    let mut cmd = Command::new(twine);
    cmd.arg("serve").arg("--www").arg(root().join("www")).args(args).current_dir(root());
    println!("xtask: starting twine serve (Ctrl-C stops it)");
    exec(cmd)
}

#[cfg(unix)]
fn exec(mut cmd: Command) -> Result<(), String> {
    use std::os::unix::process::CommandExt;
    Err(format!("cannot start twine: {}", cmd.exec()))
}

#[cfg(not(unix))]
fn exec(mut cmd: Command) -> Result<(), String> {
    run(Step::Serve, &mut cmd)
}

pub fn bench(args: &[String]) -> Result<(), String> {
    run(Step::Bench, cargo().args(["bench", "--workspace"]).args(args))
}

/// The chaos suite (native/tests/chaos.rs): the full version unless `--short`.
pub fn chaos(args: &[String]) -> Result<(), String> {
    let mut cmd = cargo();
    cmd.args(["test", "-p", "twine-native", "--test", "chaos", "--"]);
    if !args.iter().any(|a| a == "--short") {
        cmd.arg("--full");
    }
    run(Step::Chaos, &mut cmd)
}

/// The decoders' and front ends' property tests, run as a fuzzer: the same
/// tests `cargo test` runs a few hundred cases of, optimised and at many
/// more. Stable Rust has no coverage-guided engine here (cargo-fuzz needs
/// nightly), so the inputs are structured and mutated by proptest; a
/// failure is kept in the test's `.proptest-regressions` file, which every
/// later run (CI's too) replays first. `--cases N` sets every target's count.
pub fn fuzz(args: &[String]) -> Result<(), String> {
    let mut forward = Vec::new();
    let mut targets = 0;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--execs" | "--target" | "--seed" => {
                let value = args.next().ok_or(format!("{arg} needs a value"))?;
                targets += usize::from(arg == "--target");
                forward.extend([arg.clone(), value.clone()]);
            }
            "--no-save" => forward.push(arg.clone()),
            other => {
                return Err(format!(
                    "unknown argument `{other}` (fuzz [--target NAME]... [--execs N] [--seed S] [--no-save])"
                ))
            }
        }
    }
    // Every target in memory, one after another, in one optimised process
    // that prints a line per target (twine-fuzz; see fuzz/src/lib.rs).
    let started = Instant::now();
    run(Step::Fuzz, cargo().args(["run", "--release", "-p", "twine-fuzz", "--"]).args(&forward))?;
    if targets == 0 {
        // The end-to-end check: the real reactor's WebSocket path over
        // loopback, a connection per case, so a modest count.
        run(
            Step::Fuzz,
            cargo()
                .args(["test", "--release", "-p", "twine-native", "--test", "fuzz_websocket"])
                .env("PROPTEST_CASES", "2000"),
        )?;
    }
    println!("xtask [fuzz] done in {:.0?}", started.elapsed());
    Ok(())
}
