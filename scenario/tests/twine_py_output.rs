//! twine.py's stdout under CPython: each printed line is recorded for the
//! report (`--metrics`) with its thread, whatever pieces it was written in,
//! and a line the program never ended is reported too, as the simulation
//! reports it.

use std::process::Command;

use serde_json::Value;

/// The `output` of `program`'s `--metrics` report, run by python3 with
/// twine.py importable: each line's thread name and text.
fn reported_lines(program: &str) -> Vec<(String, String)> {
    let presets = concat!(env!("CARGO_MANIFEST_DIR"), "/../www/presets");
    let dir = std::env::temp_dir().join(format!("twine-py-output-{}-{}", std::process::id(), program.len()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("pieces.py");
    std::fs::write(&path, format!("import sys\nsys.path.insert(0, {presets:?})\nimport twine\n{program}")).unwrap();
    let out = Command::new("python3").arg(&path).arg("--metrics").output().expect("python3 runs the program");
    std::fs::remove_dir_all(&dir).ok();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let report: Value = serde_json::from_str(stdout.trim().lines().last().expect("the report")).unwrap();
    let field = |line: &Value, key: &str| line[key].as_str().unwrap().to_string();
    report["output"].as_array().unwrap().iter().map(|line| (field(line, "name"), field(line, "text"))).collect()
}

fn texts(lines: &[(String, String)]) -> Vec<&str> {
    lines.iter().map(|(_, text)| text.as_str()).collect()
}

#[test]
fn a_line_written_in_pieces_is_reported_as_one_line() {
    let lines = reported_lines(
        "import json\n\
         print('a', end='')\nprint('b', end='')\nprint('c\\nd')\n\
         print('e\\n\\nf', end='')\nprint('g')\n\
         json.dump(list(range(20000)), sys.stdout)\nprint()\n",
    );
    let numbers: Vec<String> = (0..20000).map(|n| n.to_string()).collect();
    let dumped = format!("[{}]", numbers.join(", "));
    assert_eq!(texts(&lines), ["abc", "d", "e", "", "fg", dumped.as_str()]);
}

#[test]
fn a_line_the_program_never_ends_is_reported_in_its_place() {
    // A thread's unfinished line comes where it was written, before the main
    // thread's later lines; the main thread's last line has no newline.
    let lines = reported_lines(
        "import threading\n\
         t = threading.Thread(target=lambda: print('from the thread', end=''), name='worker')\n\
         t.start()\nt.join()\n\
         print('x', end='')\nprint('y')\nprint('last', end='')\n",
    );
    assert_eq!(texts(&lines), ["from the thread", "xy", "last"]);
    assert_eq!(lines[0].0, "worker");
}
