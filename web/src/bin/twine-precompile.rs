//! Compiles the preset programs ahead of time for the playground's light
//! wasm module, which has no Python parser: `twine-precompile OUT.bin`
//! writes a list (postcard), one entry per preset and per part of the library
//! written in Python, and the JSON presets' list (see
//! `twine_web::python::precompiled`), that the page hands to the module's
//! `addCompiled` before its first Run. `cargo xtask` runs it when it builds
//! the playground.

use std::process::ExitCode;

use twine_web::presets;
use twine_web::python::precompiled;

/// The name the page gives the program in its editor (wasm.rs `PAGE_FILE`).
const PAGE_FILE: &str = "experiment.py";

fn main() -> ExitCode {
    let Some(out) = std::env::args().nth(1) else {
        eprintln!("usage: twine-precompile OUT.bin");
        return ExitCode::FAILURE;
    };
    let mut entries = Vec::new();
    for p in presets::all() {
        match precompiled::compile(PAGE_FILE, p.python) {
            Ok(mut compiled) => {
                // Named, so the light module lists the presets from here.
                compiled.preset = Some(p.name.into());
                entries.push(compiled);
            }
            Err(e) => {
                eprintln!("{}.py: {e}", p.name);
                return ExitCode::FAILURE;
            }
        }
    }
    // The library's Python parts: a run that imports them compiles them.
    match precompiled::library() {
        Ok(library) => entries.extend(library),
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    }
    let json_presets: Vec<_> = presets::all().iter().map(|p| p.info()).collect();
    if let Err(e) = std::fs::write(&out, precompiled::encode(&entries, &json_presets)) {
        eprintln!("{out}: {e}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
