//! `twine-sim`: runs a playground scenario natively and prints what happened.
//!
//! ```text
//! twine-sim SCENARIO [--variant V] [--seed N] [--metrics] [--trace FILE [--format chrome|jsonl]]
//! twine-sim --list
//! ```
//!
//! SCENARIO is a JSON file, a preset name (`echo-blocking`) or a preset and
//! variant (`echo-blocking/deferred`), or a Python experiment (`FILE.py`),
//! whose `twine.variant(...)` returns the `--variant` given (its first name
//! by default). Without `--metrics` it prints the
//! program's output and a summary; with it, the metrics as JSON (the same
//! numbers the playground shows for the same scenario and seed).

use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, ValueEnum};
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
    #[arg(long)]
    seed: Option<u64>,
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
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Format {
    /// Chrome Trace Event Format (opens in Perfetto).
    Chrome,
    /// One JSON object per line.
    Jsonl,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let result = if args.list { Ok(list()) } else { run(&args) };
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

fn load(args: &Args) -> Result<Scenario, String> {
    let spec = args.scenario.as_deref().unwrap_or_default();
    if let Some((preset, variant)) = presets::resolve(spec) {
        let variant = args.variant.as_deref().or(variant);
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
        return Scenario::from_python_variant(spec, &source, args.variant.as_deref()).map_err(|e| e.to_string());
    }
    let text = fs::read_to_string(spec)
        .map_err(|e| format!("cannot read {spec}: {e} (not a preset either; `twine-sim --list` shows the presets)"))?;
    let text = match &args.variant {
        None => text,
        Some(variant) => twine_web::scenario::variant_json(&text, variant).map_err(|e| format!("{spec}: {e}"))?,
    };
    Scenario::from_json(&text).map_err(|e| format!("{spec}: {e}"))
}

fn run(args: &Args) -> Result<String, String> {
    let scenario = load(args)?;
    let started = Instant::now();
    let mut sim = Simulation::new(&scenario, args.seed);
    sim.run();
    let wall = started.elapsed();
    if let Some(error) = sim.python_error() {
        // As CPython: what the program printed, then the error and a failing exit status.
        let printed: String = sim.metrics().output.iter().map(|l| format!("{}\n", l.text)).collect();
        let _ = std::io::stdout().lock().write_all(printed.as_bytes());
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
    Ok(metrics.summary(&ended))
}
