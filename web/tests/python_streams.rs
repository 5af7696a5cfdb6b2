//! Where a program's output goes, and when the pool and the garbage
//! collector act: `print` writes to stdout; error reports (a thread's
//! uncaught exception, Twisted's logged failures, "Unhandled error in
//! Deferred") to stderr, as CPython and Twisted write them. The expected
//! lines are what CPython 3.11 with Twisted prints for the same programs
//! (less the frames inside Python's and Twisted's own files).

use twine_web::{PythonScenario, Scenario, Simulation};

/// `(stream, text)` per printed line.
fn streams(source: &str) -> Vec<(String, String)> {
    let scenario = Scenario::from_python("test.py", source).unwrap_or_else(|e| panic!("{e}"));
    let mut sim = Simulation::new(&scenario, None);
    sim.run();
    if let Some(e) = sim.python_error() {
        panic!("{e}");
    }
    let json = serde_json::to_value(sim.metrics()).unwrap();
    json["output"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["stream"].as_str().unwrap().to_owned(), l["text"].as_str().unwrap().to_owned()))
        .collect()
}

fn only(lines: &[(String, String)], stream: &str) -> Vec<String> {
    lines.iter().filter(|(s, _)| s == stream).map(|(_, t)| t.clone()).collect()
}

#[test]
fn error_reports_go_to_stderr_and_prints_to_stdout() {
    let lines = streams(
        r#"
import threading
from twisted.internet import reactor
def boom():
    raise ValueError("boom")
def t():
    raise KeyError("x")
def stop():
    print("stopping")
    reactor.stop()
th = threading.Thread(target=t, name="worker")
th.start(); th.join()
print("joined")
reactor.callLater(0, boom)
reactor.callLater(0.01, stop)
reactor.run()
"#,
    );
    assert_eq!(only(&lines, "stdout"), ["joined", "stopping"]);
    assert_eq!(
        only(&lines, "stderr"),
        [
            "Exception in thread worker:",
            "Traceback (most recent call last):",
            "  File \"test.py\", line 7, in t",
            "    raise KeyError(\"x\")",
            "KeyError: 'x'",
            "while handling timed call",
            "Traceback (most recent call last):",
            "  File \"test.py\", line 5, in boom",
            "    raise ValueError(\"boom\")",
            "builtins.ValueError: boom",
            "",
        ]
    );
}

const AT_EXIT: &str = r#"
from twisted.internet import reactor, defer
def boom():
    raise ValueError("kept")
d = defer.Deferred()
d.addCallback(lambda _: boom())
reactor.callInThread(print, "in thread")
reactor.callWhenRunning(print, "running")
reactor.callLater(0, d.callback, None)
reactor.callLater(0.1, reactor.stop)
print("before run")
reactor.run()
print("after run")
"#;

#[test]
fn call_in_thread_before_run_starts_once_the_reactor_runs() {
    let lines = streams(AT_EXIT);
    assert_eq!(only(&lines, "stdout"), ["before run", "running", "in thread", "after run"]);
}

#[test]
fn a_failed_deferred_the_program_still_holds_is_reported_at_exit_on_stderr() {
    let lines = streams(AT_EXIT);
    let texts: Vec<&str> = lines.iter().map(|(_, t)| t.as_str()).collect();
    let after = texts.iter().position(|t| *t == "after run").expect("after run");
    assert_eq!(
        &lines[after + 1..],
        [
            "Unhandled error in Deferred:",
            "",
            "Traceback (most recent call last):",
            "  File \"test.py\", line 6, in <lambda>",
            "    d.addCallback(lambda _: boom())",
            "  File \"test.py\", line 4, in boom",
            "    raise ValueError(\"kept\")",
            "builtins.ValueError: kept",
            "",
        ]
        .map(|t| ("stderr".to_owned(), t.to_owned()))
    );
}

#[test]
fn a_deferred_the_program_handled_is_not_reported_at_exit() {
    let lines = streams(
        r#"
from twisted.internet import defer
d = defer.fail(ValueError("seen"))
d.addErrback(lambda f: print("handled", f.getErrorMessage()))
print("end")
"#,
    );
    assert_eq!(lines, [("stdout".to_owned(), "handled seen".to_owned()), ("stdout".to_owned(), "end".to_owned())]);
}
