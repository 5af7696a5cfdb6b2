//! `twine-fuzz [--target NAME]... [--execs N] [--seed S] [--no-save]`: runs
//! the fuzz targets one after another (all of them by default) and prints a
//! line per target (and a progress line to stderr each minute); exits
//! non-zero, naming the input kept, if one failed.
//! `cargo xtask fuzz` builds and runs it optimised.

use std::process::ExitCode;
use std::time::Duration;

use twine_fuzz::{corpus_dir, crash_dir, fuzz, targets, Options};

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("twine-fuzz: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(args: Vec<String>) -> Result<bool, String> {
    let mut names = Vec::new();
    let mut options = Options {
        execs: 10_000_000,
        seed: 0,
        save: true,
        progress: Some(Duration::from_secs(60)),
        ..Options::default()
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let mut value = |what: &str| args.next().ok_or(format!("{arg} needs {what}"));
        match arg.as_str() {
            "--target" => names.push(value("a target name")?),
            "--execs" => {
                let n = value("a number")?;
                options.execs = parse_count(&n).ok_or(format!("--execs wants a number like 1000000 or 10M, not `{n}`"))?;
            }
            "--seed" => {
                let n = value("a number")?;
                options.seed = n.parse().map_err(|_| format!("--seed wants a number, not `{n}`"))?;
            }
            "--no-save" => options.save = false,
            other => {
                return Err(format!(
                    "unknown argument `{other}` (twine-fuzz [--target NAME]... [--execs N] [--seed S] [--no-save]; targets: {})",
                    targets::NAMES.join(", ")
                ))
            }
        }
    }
    if names.is_empty() {
        names = targets::NAMES.iter().map(|s| s.to_string()).collect();
    }
    let mut clean = true;
    for name in &names {
        let mut target = targets::by_name(name)?;
        let options = Options { corpus: Some(corpus_dir(name)), crashes: Some(crash_dir(name)), ..options.clone() };
        let report = fuzz(target.as_mut(), &options);
        println!(
            "twine-fuzz {:<13} {:>11} executions in {:>8.1} s = {:>9.0}/s, {:>5} distinct outcomes, corpus {} ({} saved)",
            report.target,
            report.execs,
            report.elapsed.as_secs_f64(),
            report.rate(),
            report.outcomes,
            report.corpus,
            report.saved
        );
        if let Some(f) = report.finding {
            clean = false;
            let kept = f.saved.map(|p| p.display().to_string()).unwrap_or_else(|| "not saved".into());
            println!("twine-fuzz {name}: FAILED: {}\n  input ({} bytes) kept in {kept}", f.message, f.input.len());
        }
    }
    Ok(clean)
}

/// `1000000`, `10M`, `500k`.
fn parse_count(s: &str) -> Option<u64> {
    let (digits, scale) = match s.as_bytes().last()? {
        b'M' | b'm' => (&s[..s.len() - 1], 1_000_000),
        b'k' | b'K' => (&s[..s.len() - 1], 1_000),
        _ => (s, 1),
    };
    digits.replace('_', "").parse::<u64>().ok()?.checked_mul(scale)
}
