//! `twine run EXPERIMENT.json [--variant V] [--seed N] [--metrics] [--trace FILE [--trace-max N]] [--allow-long] [--gil on|off]`.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use twine_scenario::metrics::{EndReason, RealCores};
use twine_scenario::Scenario;

use super::{run, RunOptions};

/// `twine run` options.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// A scenario JSON file (the playground's format; `twine-sim` runs the same file).
    pub scenario: PathBuf,
    /// One of the scenario's variants.
    #[arg(long)]
    pub variant: Option<String>,
    /// The seed for client arrivals and think times (default: the scenario's).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Print the metrics as JSON (the fields of `twine-sim --metrics`).
    #[arg(long)]
    pub metrics: bool,
    /// Write the real reactor's trace to this file, one JSON object per line.
    #[arg(long)]
    pub trace: Option<PathBuf>,
    /// Keep and write at most this many trace events, the earliest; the
    /// rest are counted (the metrics' `events`) and the run says how many
    /// it dropped. A run holds only what it will write.
    #[arg(long, default_value_t = DEFAULT_TRACE_MAX, value_name = "N")]
    pub trace_max: usize,
    /// Allow a run longer than 60 s of real time.
    #[arg(long)]
    pub allow_long: bool,
    /// Run with (`--gil on`) or without (`--gil off`) a global interpreter
    /// lock, whatever the scenario's `machine.gil` says.
    #[arg(long, value_parser = ["on", "off"])]
    pub gil: Option<String>,
}

/// `--trace-max`'s default: about 100 MB of trace in memory at most.
pub const DEFAULT_TRACE_MAX: usize = 1_000_000;

/// Loads a scenario file with its variant; errors name the file and field.
pub fn load(path: &std::path::Path, variant: Option<&str>) -> Result<Scenario, String> {
    let shown = path.display();
    if path.extension().is_some_and(|e| e == "py") {
        return Err(format!(
            "{shown}: twine run executes JSON scenarios; run a Python experiment in CPython itself (python3 {shown} --metrics)"
        ));
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    let text = match variant {
        Some(v) => twine_scenario::variant_json(&text, v).map_err(|e| format!("{shown}: {e}"))?,
        None => text,
    };
    Scenario::from_json(&text).map_err(|e| format!("{shown}: {e}"))
}

/// Runs `twine run`.
pub fn main(args: &RunArgs) -> ExitCode {
    match execute(args) {
        Ok(text) => {
            // A closed pipe (`twine run ... | head`) is not worth a panic.
            let _ = std::io::stdout().lock().write_all(text.as_bytes());
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("twine run: {message}");
            ExitCode::FAILURE
        }
    }
}

fn execute(args: &RunArgs) -> Result<String, String> {
    let scenario = load(&args.scenario, args.variant.as_deref())?;
    let options = RunOptions {
        seed: args.seed,
        allow_long: args.allow_long,
        gil: args.gil.as_deref().map(|g| g == "on"),
        max_real_time: None,
        // Without --trace nothing is kept: the metrics need no trace.
        trace_cap: if args.trace.is_some() { args.trace_max } else { 0 },
    };
    let (metrics, trace) = run(&scenario, &options).map_err(|e| format!("{}: {e}", args.scenario.display()))?;
    if let Some(path) = &args.trace {
        let cannot = |e: std::io::Error| format!("cannot write {}: {e}", path.display());
        let mut file = std::io::BufWriter::new(std::fs::File::create(path).map_err(cannot)?);
        for record in &trace.events {
            serde_json::to_writer(&mut file, record).map_err(|e| e.to_string())?;
            file.write_all(b"\n").map_err(cannot)?;
        }
        file.flush().map_err(cannot)?;
        if trace.dropped > 0 {
            eprintln!(
                "twine run: the trace in {} holds the first {} of {} events; {} were dropped (--trace-max)",
                path.display(),
                trace.events.len(),
                metrics.events,
                trace.dropped
            );
        }
    }
    if let Some(RealCores { asked, used: Some(used) }) = metrics.real_cores.filter(|c| c.used < Some(c.asked)) {
        eprintln!("twine run: the scenario asks for {asked} cores and this machine has {used}: it ran on {used}");
    }
    if args.metrics {
        return serde_json::to_string_pretty(&metrics).map(|json| json + "\n").map_err(|e| e.to_string());
    }
    // The same summary as twine-sim's, from real measurements.
    let ended = format!(
        "ended: {} at {:.3} ms real time; {} trace events",
        metrics.end_reason.map_or("", EndReason::as_str),
        metrics.time_ms,
        metrics.events
    );
    Ok(metrics.summary(&ended))
}
