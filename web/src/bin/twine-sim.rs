//! `twine-sim`: runs a playground scenario natively and prints what happened.
//!
//! ```text
//! twine-sim SCENARIO [--variant V] [--seed N | --schedule S] [--cores N] [--metrics] [--trace FILE [--format chrome|jsonl]]
//! twine-sim explore SCENARIO [--variant V] [--exhaustive | --reduced | --seeds K] [--max-schedules N]
//! twine-sim --list
//! ```
//!
//! `explore` runs the program under every schedule of its visible
//! operations (or K seeds) and prints the distinct outcomes as JSON, each
//! with an example schedule that `--schedule` replays. `--exhaustive`
//! counts every order while there are at most N, and otherwise (or with
//! `--reduced`) one per class of orders that differ only in operations
//! that commute (partial-order reduction; `"reduced": true` in the JSON).
//! `--seeds K` also lists each seed's headline figures under `"seeds"`.
//!
//! SCENARIO is a JSON file, a preset name (`echo-blocking`) or a preset and
//! variant (`echo-blocking/deferred`), or a Python experiment (`FILE.py`),
//! whose `twine.variant(...)` returns the `--variant` given (its first name
//! by default). Without `--metrics` it prints the
//! program's output and a summary; with it, the metrics as JSON (the same
//! numbers the playground shows for the same scenario and seed).
//!
//! `--cores N` simulates the same program on a machine of N cores instead
//! of the scenario's `machine.cores`: the machine a real run was measured
//! on, when the scenario asks for more CPUs than it has (`twine run` then
//! uses all the machine has, and says so in `real_cores`).

use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, ValueEnum};
use twine_scenario::metrics::Stream;
use twine_web::explore::How;
use twine_web::{presets, EndReason, PythonScenario, Scenario, Simulation};

#[derive(Parser, Debug)]
#[command(name = "twine-sim", version, about = "Run a twine playground scenario in the simulator")]
struct Args {
    /// A scenario JSON file, a preset name, or preset/variant.
    #[arg(required_unless_present = "list")]
    scenario: Option<String>,
    /// A variant of the preset or scenario.
    #[arg(long)]
    variant: Option<String>,
    /// The seed (default: the scenario's).
    #[arg(long, conflicts_with = "schedule")]
    seed: Option<u64>,
    /// Follow this schedule (an `example` that `twine-sim explore` printed).
    #[arg(long)]
    schedule: Option<String>,
    /// Simulate N cores (1 to 64) instead of the scenario's `machine.cores`:
    /// the machine a real run measured on, when the scenario asks for more
    /// CPUs than it has (`twine run` then runs on all it has).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=64))]
    cores: Option<u32>,
    /// Print the metrics as JSON instead of the output and a summary.
    #[arg(long)]
    metrics: bool,
    /// Write the trace to this file.
    #[arg(long)]
    trace: Option<PathBuf>,
    /// The trace's format (default: jsonl for a `.jsonl` file, chrome otherwise).
    #[arg(long, value_enum, requires = "trace")]
    format: Option<Format>,
    /// List the presets and their variants.
    #[arg(long)]
    list: bool,
    /// A benchmark, not a run: simulate the Python program N times and
    /// print, as JSON, the Python operations (instructions) each run
    /// executes, each run's wall time, and the median operations per second.
    #[arg(long, value_name = "N", conflicts_with_all = ["metrics", "trace", "schedule"])]
    bench_ops: Option<u32>,
}

/// `twine-sim explore`.
#[derive(Parser, Debug)]
#[command(
    name = "twine-sim explore",
    about = "Run a program under every schedule (or many seeds) and group the outcomes"
)]
struct ExploreArgs {
    /// A Python experiment (`FILE.py`), a scenario JSON file, or a preset.
    scenario: String,
    /// A variant of the preset or scenario.
    #[arg(long)]
    variant: Option<String>,
    /// Every schedule of the visible operations (the default).
    #[arg(long, conflicts_with_all = ["seeds", "reduced"])]
    exhaustive: bool,
    /// One schedule per class of schedules that differ only in the order
    /// of commuting operations (partial-order reduction).
    #[arg(long, conflicts_with = "seeds")]
    reduced: bool,
    /// Run K seeds with the machine's usual noise instead.
    #[arg(long, value_name = "K")]
    seeds: Option<u64>,
    /// Stop after this many schedules (then `complete` is false).
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    max_schedules: u64,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Format {
    /// Chrome Trace Event Format (opens in Perfetto).
    Chrome,
    /// One JSON object per line.
    Jsonl,
}

fn main() -> ExitCode {
    let result = if std::env::args().nth(1).as_deref() == Some("explore") {
        let args = ExploreArgs::parse_from(std::env::args().skip(1));
        explore(&args)
    } else {
        let args = Args::parse();
        if args.list {
            Ok(list())
        } else {
            run(&args)
        }
    };
    match result {
        Ok(text) => {
            // A closed pipe (`twine-sim ... | head`) is not an error worth a panic.
            let _ = std::io::stdout().lock().write_all(text.as_bytes());
            ExitCode::SUCCESS
        }
        Err(message) if message.contains(".py:") => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
        Err(message) => {
            eprintln!("twine-sim: {message}");
            ExitCode::FAILURE
        }
    }
}

fn list() -> String {
    let mut out = String::new();
    for preset in presets::all() {
        let _ = writeln!(out, "{:<24} {}", preset.name, preset.title());
        for v in preset.variants() {
            let _ = writeln!(out, "  {:<22} {}", format!("/{}", v.name), v.title);
        }
    }
    out
}

fn load(spec: &str, variant: Option<&str>) -> Result<Scenario, String> {
    if let Some((preset, preset_variant)) = presets::resolve(spec) {
        let variant = variant.or(preset_variant);
        return preset.scenario(variant).map_err(|e| format!("preset {spec}: {e}"));
    }
    if let Some((name, variant)) = spec.split_once('/') {
        // A preset's name with a variant it does not have (and no such file).
        if let (Some(preset), false) = (presets::find(name), std::path::Path::new(spec).exists()) {
            return preset.scenario(Some(variant)).map_err(|e| e.to_string());
        }
    }
    if spec.ends_with(".py") {
        let source = fs::read_to_string(spec).map_err(|e| format!("cannot read {spec}: {e}"))?;
        return Scenario::from_python_variant(spec, &source, variant).map_err(|e| e.to_string());
    }
    let text = fs::read_to_string(spec)
        .map_err(|e| format!("cannot read {spec}: {e} (not a preset either; `twine-sim --list` shows the presets)"))?;
    let text = match variant {
        None => text,
        Some(variant) => twine_web::scenario::variant_json(&text, variant).map_err(|e| format!("{spec}: {e}"))?,
    };
    Scenario::from_json(&text).map_err(|e| format!("{spec}: {e}"))
}

fn explore(args: &ExploreArgs) -> Result<String, String> {
    let scenario = load(&args.scenario, args.variant.as_deref())?;
    let how = match args.seeds {
        Some(k) => How::Seeds(k),
        None if args.reduced => How::Reduced,
        None => How::Exhaustive,
    };
    let report = twine_web::explore::explore(&scenario, how, args.max_schedules)?;
    serde_json::to_string_pretty(&report).map(|json| json + "\n").map_err(|e| e.to_string())
}

/// `--bench-ops N`: each run from `Simulation::new` (the program is
/// compiled once, when loaded) to the end of `run`.
fn bench_ops(scenario: &Scenario, seed: Option<u64>, runs: u32) -> Result<String, String> {
    let mut ms = Vec::new();
    let mut instructions = 0;
    for _ in 0..runs.max(1) {
        let started = Instant::now();
        let mut sim = Simulation::new(scenario, seed);
        sim.run();
        ms.push(started.elapsed().as_secs_f64() * 1e3);
        if let Some(error) = sim.python_error() {
            return Err(error);
        }
        instructions = sim.python_instructions();
    }
    let mut sorted = ms.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    let json = serde_json::json!({
        "instructions": instructions,
        "ms": ms,
        "median_ms": median,
        "ops_per_s": instructions as f64 / (median / 1e3),
    });
    Ok(json.to_string() + "\n")
}

fn run(args: &Args) -> Result<String, String> {
    let mut scenario = load(args.scenario.as_deref().unwrap_or_default(), args.variant.as_deref())?;
    if let Some(cores) = args.cores {
        scenario = scenario.with_spec(|spec| spec.machine.cores = cores)?;
    }
    if let Some(runs) = args.bench_ops {
        return bench_ops(&scenario, args.seed, runs);
    }
    let started = Instant::now();
    let (mut sim, replay) = match &args.schedule {
        None => (Simulation::new(&scenario, args.seed), None),
        Some(schedule) => {
            let replay = twine_web::explore::replay(&scenario, schedule)?;
            (replay.sim, Some(replay.misfit))
        }
    };
    sim.run();
    let wall = started.elapsed();
    if let Some(misfit) = replay.and_then(|m| m.get()) {
        return Err(format!("--schedule: {misfit}"));
    }
    if let Some(error) = sim.python_error() {
        // As CPython: what the program printed, each line to its stream,
        // then the error and a failing exit status.
        for line in &sim.metrics().output {
            let text = format!("{}\n", line.text);
            let _ = match line.stream {
                Stream::Stdout => std::io::stdout().lock().write_all(text.as_bytes()),
                Stream::Stderr => std::io::stderr().lock().write_all(text.as_bytes()),
            };
        }
        return Err(error);
    }
    let metrics = sim.metrics();
    if let Some(path) = &args.trace {
        let jsonl_file = path.extension().is_some_and(|e| e == "jsonl");
        let format = args.format.unwrap_or(if jsonl_file { Format::Jsonl } else { Format::Chrome });
        let text = match format {
            Format::Chrome => sim.chrome_trace().to_string(),
            Format::Jsonl => sim.jsonl(),
        };
        fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    if args.metrics {
        return serde_json::to_string_pretty(&metrics).map(|json| json + "\n").map_err(|e| e.to_string());
    }
    let ended = format!(
        "ended: {} at {:.3} ms virtual; {} events, {} actions in {:.1} ms wall ({:.2} M events/s)",
        metrics.end_reason.map_or("", EndReason::as_str),
        metrics.time_ms,
        metrics.events,
        metrics.actions,
        wall.as_secs_f64() * 1e3,
        metrics.events as f64 / wall.as_secs_f64().max(1e-9) / 1e6
    );
    // Error reports go to stderr, as the program's own process writes them.
    let _ = std::io::stderr().lock().write_all(metrics.stderr_lines().as_bytes());
    Ok(metrics.summary(&ended))
}
