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

/// `traceback.print_exc()` and `logging.exception(...)` in an `except`
/// block print the exception being handled with its traceback (and the one
/// it was raised while handling), `sys.exc_info()` and `sys.exception()`
/// give it; with none handled they give None ("NoneType: None").
#[test]
fn traceback_and_logging_print_the_exception_being_handled() {
    let lines = streams(
        r#"import logging, sys
logging.basicConfig(format="%(levelname)s %(message)s")
def work():
    return {}["k"]
try:
    work()
except KeyError:
    logging.exception("work failed")
    t, v, tb = sys.exc_info()
    print(t.__name__, repr(v), tb is not None, sys.exception() is v)
print(sys.exc_info(), sys.exception())
import traceback
try:
    work()
except KeyError as e:
    traceback.print_exc()
    s = traceback.format_exc()
    print(s.splitlines()[-1])
    print(traceback.format_exception(e)[0], end="")
    print(traceback.format_exception_only(e))
    try:
        int("x")
    except ValueError:
        traceback.print_exc()
print(repr(traceback.format_exc()))
logging.error("plain", exc_info=True)
err = ValueError("given")
logging.warning("with one", exc_info=err)
def deep():
    try:
        work()
    except KeyError:
        logging.getLogger("app").exception("in %s", "deep")
deep()
"#,
    );
    // CPython 3.11's output.
    assert_eq!(
        only(&lines, "stdout"),
        [
            "KeyError KeyError('k') True True",
            "(None, None, None) None",
            "KeyError: 'k'",
            "Traceback (most recent call last):",
            "[\"KeyError: 'k'\\n\"]",
            "'NoneType: None\\n'",
        ]
    );
    assert_eq!(
        only(&lines, "stderr"),
        [
            "ERROR work failed",
            "Traceback (most recent call last):",
            "  File \"test.py\", line 6, in <module>",
            "    work()",
            "  File \"test.py\", line 4, in work",
            "    return {}[\"k\"]",
            "           ~~^^^^^",
            "KeyError: 'k'",
            "Traceback (most recent call last):",
            "  File \"test.py\", line 14, in <module>",
            "    work()",
            "  File \"test.py\", line 4, in work",
            "    return {}[\"k\"]",
            "           ~~^^^^^",
            "KeyError: 'k'",
            "Traceback (most recent call last):",
            "  File \"test.py\", line 14, in <module>",
            "    work()",
            "  File \"test.py\", line 4, in work",
            "    return {}[\"k\"]",
            "           ~~^^^^^",
            "KeyError: 'k'",
            "",
            "During handling of the above exception, another exception occurred:",
            "",
            "Traceback (most recent call last):",
            "  File \"test.py\", line 22, in <module>",
            "    int(\"x\")",
            "ValueError: invalid literal for int() with base 10: 'x'",
            "ERROR plain",
            "NoneType: None",
            "WARNING with one",
            "ValueError: given",
            "ERROR in deep",
            "Traceback (most recent call last):",
            "  File \"test.py\", line 31, in deep",
            "    work()",
            "  File \"test.py\", line 4, in work",
            "    return {}[\"k\"]",
            "           ~~^^^^^",
            "KeyError: 'k'",
        ]
    );
}

/// `threading.excepthook = hook`: a thread's uncaught exception goes to the
/// hook (its `exc_type`, `exc_value`, `exc_traceback`, `thread`) instead of
/// being printed; the hook it replaced prints it as before. CPython 3.11's
/// output, less the frames inside `threading.py`.
#[test]
fn threading_excepthook_gets_a_threads_uncaught_exception() {
    let lines = streams(
        r#"import threading
print(callable(threading.excepthook))
def hook(args):
    print("hook:", args.exc_type.__name__, repr(args.exc_value), args.thread.name, args.exc_traceback is not None)
threading.excepthook = hook
def bad():
    raise ValueError("x")
b = threading.Thread(target=bad, name="bad"); b.start(); b.join()
def chained(args):
    print("logging it")
    threading.__dict__ if False else None
threading.excepthook = chained
c = threading.Thread(target=bad, name="c"); c.start(); c.join()
print("main done")
def passthrough(args):
    print("before default")
    original(args)
original = None
"#,
    );
    assert_eq!(
        only(&lines, "stdout"),
        ["True", "hook: ValueError ValueError('x') bad True", "logging it", "main done",]
    );
    assert!(only(&lines, "stderr").is_empty());
    let lines = streams(
        r#"import threading
original = threading.excepthook
def hook(args):
    print("seen", args.exc_type.__name__)
    original(args)
threading.excepthook = hook
def bad():
    raise KeyError("k")
t = threading.Thread(target=bad, name="w"); t.start(); t.join()
threading.excepthook = original
t = threading.Thread(target=bad, name="v"); t.start(); t.join()
print("end")
"#,
    );
    assert_eq!(only(&lines, "stdout"), ["seen KeyError", "end",]);
    assert_eq!(
        only(&lines, "stderr"),
        [
            "Exception in thread w:",
            "Traceback (most recent call last):",
            "  File \"test.py\", line 8, in bad",
            "    raise KeyError(\"k\")",
            "KeyError: 'k'",
            "Exception in thread v:",
            "Traceback (most recent call last):",
            "  File \"test.py\", line 8, in bad",
            "    raise KeyError(\"k\")",
            "KeyError: 'k'",
        ]
    );
}
