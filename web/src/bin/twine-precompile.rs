//! Compiles the preset programs ahead of time for the playground's light
//! wasm module, which has no Python parser: `twine-precompile LIST.bin DIR`
//! writes, in postcard (see `twine_web::python::precompiled`), LIST.bin:
//! the preset programs' list (names, titles, explanations, variants), the
//! JSON presets' list and the library's parts written in Python; and
//! DIR/NAME.bin per preset program, its compiled form. The page hands the
//! list and the preset it opens on to the module's `addCompiled` before its
//! first Run, and each other preset's file after (one compiled preset is
//! 0.7-2.5 KB brotli: all of them before Run were 8 KB more than one).
//! `cargo xtask` runs it when it builds the playground.

use std::path::Path;
use std::process::ExitCode;

use twine_web::presets;
use twine_web::python::precompiled;

/// The name the page gives the program in its editor (wasm.rs `PAGE_FILE`).
const PAGE_FILE: &str = "experiment.py";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [list, dir] = &args[..] else {
        eprintln!("usage: twine-precompile LIST.bin DIR");
        return ExitCode::FAILURE;
    };
    match write(Path::new(list), Path::new(dir)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

fn write(list: &Path, dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for p in presets::all() {
        let mut compiled = precompiled::compile(PAGE_FILE, p.python).map_err(|e| format!("{}.py: {e}", p.name))?;
        // Named, so the light module hands it to the editor by its name.
        compiled.preset = Some(p.name.into());
        compiled.explanation = p.program_info().explanation;
        let out = dir.join(format!("{}.bin", p.name));
        std::fs::write(&out, precompiled::encode(&[compiled], &[], &[]))
            .map_err(|e| format!("{}: {e}", out.display()))?;
    }
    // The library's Python parts: a run that imports them compiles them.
    let library = precompiled::library().map_err(|e| e.to_string())?;
    // The JSON presets' list feeds the picker (titles and variants) only:
    // a JSON preset is read, and its explanation shown, by the full module,
    // whose own list the page takes when it arrives (1.5 KB brotli less).
    let json_presets: Vec<_> = presets::all()
        .iter()
        .map(|p| {
            let mut info = p.info();
            info.explanation.clear();
            info.variants.iter_mut().for_each(|v| v.explanation = None);
            info
        })
        .collect();
    // Each program's explanation comes with its program (1.2 KB brotli less
    // before Run: only the opening preset's comes then).
    let programs: Vec<_> =
        presets::all().iter().map(|p| presets::PresetInfo { explanation: String::new(), ..p.program_info() }).collect();
    std::fs::write(list, precompiled::encode(&library, &json_presets, &programs))
        .map_err(|e| format!("{}: {e}", list.display()))
}
