//! A Deferred dropped with a failure nobody handled, and an exception out of
//! a timed call, a system event trigger or a call from a thread, are reported
//! as Twisted reports them. The expected lines are what CPython 3.11.2 with Twisted
//! 26.10.0 writes for the same programs (on stderr, where twine has one
//! output), less the frames inside Twisted.

use twine_web::{PythonScenario, Scenario, Simulation};

fn output(src: &str) -> Vec<String> {
    let mut sim = Simulation::new(&Scenario::from_python("experiment.py", src).unwrap(), None);
    sim.run();
    assert_eq!(sim.python_error(), None);
    sim.metrics().output.iter().map(|l| l.text.clone()).collect()
}

#[test]
fn a_callback_that_raised_into_a_dropped_deferred_prints_its_traceback() {
    let src = r#"from twisted.internet import reactor, defer

def boom(x):
    raise ValueError("boom %s" % x)

def start():
    d = defer.Deferred()
    d.addCallback(boom)
    d.callback(1)
    print("start done")

reactor.callWhenRunning(start)
reactor.callLater(0.01, reactor.stop)
reactor.run()
"#;
    assert_eq!(
        output(src),
        [
            "start done",
            "Unhandled error in Deferred:",
            "",
            "Traceback (most recent call last):",
            "  File \"experiment.py\", line 4, in boom",
            "    raise ValueError(\"boom %s\" % x)",
            "builtins.ValueError: boom 1",
            "",
        ]
    );
}

/// An exception out of a coroutine driven by `ensureDeferred`, or out of an
/// `@inlineCallbacks` generator, keeps the program's frames it left (the
/// library catches it to fail the Deferred); one that reached the coroutine
/// as a failure thrown in at an `await` also keeps the frames it left first,
/// after the coroutines'. CPython's lines, less Twisted's frames
/// (`_inlineCallbacks`, `throwExceptionIntoGenerator`, `__iter__`,
/// `_runCallbacks`, `deferLater`'s `cb`) and the source lines.
#[test]
fn a_coroutines_or_inline_callbacks_exception_prints_the_programs_frames() {
    let src = r#"from twisted.internet import defer, reactor, task

def parse(text):
    return int(text)

async def now(text):
    return parse(text)

@defer.inlineCallbacks
def legacy(text):
    yield task.deferLater(reactor, 0.1, lambda: None)
    value = parse(text)
    return value

async def outer():
    await inner()

async def inner():
    value = await task.deferLater(reactor, 0.2, parse, "x3")
    return value

defer.ensureDeferred(now("x1"))
legacy("x2")
defer.ensureDeferred(outer())
reactor.callLater(0.3, reactor.stop)
reactor.run()
"#;
    let report = |frames: &[&str], text: &str| {
        let mut lines = vec!["Unhandled error in Deferred:", "", "Traceback (most recent call last):"];
        lines.extend(frames);
        lines.extend(["  File \"experiment.py\", line 4, in parse", "    return int(text)", text, ""]);
        lines.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let want = [
        report(
            &["  File \"experiment.py\", line 7, in now", "    return parse(text)"],
            "builtins.ValueError: invalid literal for int() with base 10: 'x1'",
        ),
        report(
            &["  File \"experiment.py\", line 12, in legacy", "    value = parse(text)"],
            "builtins.ValueError: invalid literal for int() with base 10: 'x2'",
        ),
        report(
            &[
                "  File \"experiment.py\", line 16, in outer",
                "    await inner()",
                "  File \"experiment.py\", line 19, in inner",
                "    value = await task.deferLater(reactor, 0.2, parse, \"x3\")",
            ],
            "builtins.ValueError: invalid literal for int() with base 10: 'x3'",
        ),
    ]
    .concat();
    assert_eq!(output(src), want);
}

#[test]
fn an_errback_with_no_frames_and_a_failed_thread_job_print_as_failures() {
    let src = r#"from twisted.internet import reactor, defer, threads

class Refused(Exception):
    pass

def work():
    raise Refused("no")

def start():
    d = defer.Deferred()
    d.errback(ValueError("plain"))
    threads.deferToThread(work)

reactor.callWhenRunning(start)
reactor.callLater(0.1, reactor.stop)
reactor.run()
"#;
    assert_eq!(
        output(src),
        [
            "Unhandled error in Deferred:",
            "",
            "Traceback (most recent call last):",
            "Failure: builtins.ValueError: plain",
            "",
            "Unhandled error in Deferred:",
            "",
            "Traceback (most recent call last):",
            "  File \"experiment.py\", line 7, in work",
            "    raise Refused(\"no\")",
            "__main__.Refused: no",
            "",
        ]
    );
}

#[test]
fn a_handled_failure_prints_nothing() {
    let src = r#"from twisted.internet import reactor, defer

def start():
    d = defer.fail(ValueError("seen"))
    d.addErrback(lambda f: print("handled", f.getErrorMessage()))

reactor.callWhenRunning(start)
reactor.callLater(0.01, reactor.stop)
reactor.run()
"#;
    assert_eq!(output(src), ["handled seen"]);
}

/// Each kind of reactor call logs under its own heading (Twisted's
/// `failureHandler`s in twisted/internet/base.py); `callWhenRunning` is a
/// trigger of the startup event. CPython 3.11 + Twisted 26.10 print these
/// lines (on stderr), less Twisted's frames and the source lines.
#[test]
fn exceptions_in_timed_calls_triggers_and_calls_from_threads_are_logged_with_their_heading() {
    let src = r#"from twisted.internet import reactor

class Refused(Exception):
    pass

def timed():
    raise ValueError("timed")

def starting():
    {}["missing"]

def before_shutdown():
    raise Refused("not now")

def from_thread():
    raise RuntimeError("from thread")

reactor.callWhenRunning(starting)
reactor.callLater(0.1, timed)
reactor.addSystemEventTrigger("before", "shutdown", before_shutdown)
reactor.callInThread(reactor.callFromThread, from_thread)
reactor.callLater(0.5, reactor.stop)
reactor.run()
print("run returned")
"#;
    assert_eq!(
        output(src),
        [
            "While calling system event trigger handler",
            "Traceback (most recent call last):",
            "  File \"experiment.py\", line 10, in starting",
            "    {}[\"missing\"]",
            "builtins.KeyError: 'missing'",
            "",
            "while calling from thread",
            "Traceback (most recent call last):",
            "  File \"experiment.py\", line 16, in from_thread",
            "    raise RuntimeError(\"from thread\")",
            "builtins.RuntimeError: from thread",
            "",
            "while handling timed call",
            "Traceback (most recent call last):",
            "  File \"experiment.py\", line 7, in timed",
            "    raise ValueError(\"timed\")",
            "builtins.ValueError: timed",
            "",
            "While calling system event trigger handler",
            "Traceback (most recent call last):",
            "  File \"experiment.py\", line 13, in before_shutdown",
            "    raise Refused(\"not now\")",
            "__main__.Refused: not now",
            "",
            "run returned",
        ]
    );
}

/// A LoopingCall's exception fails the Deferred `start` returned: with no
/// errback, Twisted reports that Deferred. CPython 3.11 + Twisted 26.10.
#[test]
fn a_looping_calls_exception_fails_its_deferred() {
    let handled = r#"from twisted.internet import reactor, task

def tick():
    raise ZeroDivisionError("tick")

d = task.LoopingCall(tick).start(0.2)
d.addErrback(lambda f: print("stopped:", f.getErrorMessage()))
reactor.callLater(0.5, reactor.stop)
reactor.run()
"#;
    assert_eq!(output(handled), ["stopped: tick"]);
    let dropped = handled
        .replace("d = task", "task")
        .replace("d.addErrback(lambda f: print(\"stopped:\", f.getErrorMessage()))\n", "");
    assert_eq!(
        output(&dropped),
        [
            "Unhandled error in Deferred:",
            "",
            "Traceback (most recent call last):",
            "  File \"experiment.py\", line 4, in tick",
            "    raise ZeroDivisionError(\"tick\")",
            "builtins.ZeroDivisionError: tick",
            "",
        ]
    );
}

/// A failure made without raising (`defer.fail(ValueError(...))`) is
/// reported as soon as its Deferred is dropped; one that was raised holds
/// its traceback, whose frames hold the Deferred: a cycle CPython's
/// collector frees at exit, so its report comes after everything the
/// program printed, in the order the Deferreds were dropped (the failed
/// input of a `gatherResults`, which nobody consumes, among them).
#[test]
fn a_raised_failure_is_reported_at_exit_as_cpythons_collector_frees_it() {
    let src = r#"from twisted.internet import defer, reactor, task

def boom(x=None):
    raise ValueError("raised %s" % x)

def show(r):
    print("gathered", r)

def failed(f):
    print("gather failed:", f.value.__class__.__name__)

d = defer.fail(ValueError("made"))
del d
print("after made")
d = defer.succeed(1)
d.addCallback(boom)
del d
print("after raised")
defer.gatherResults([task.deferLater(reactor, 0.1, lambda: 1), task.deferLater(reactor, 0.2, boom, 2)]).addCallbacks(show, failed)
reactor.callLater(0.3, print, "later")
reactor.callLater(0.4, reactor.stop)
reactor.run()
print("end")
"#;
    assert_eq!(
        output(src),
        [
            "Unhandled error in Deferred:",
            "",
            "Traceback (most recent call last):",
            "Failure: builtins.ValueError: made",
            "",
            "after made",
            "after raised",
            "gather failed: FirstError",
            "later",
            "end",
            "Unhandled error in Deferred:",
            "",
            "Traceback (most recent call last):",
            "  File \"experiment.py\", line 4, in boom",
            "    raise ValueError(\"raised %s\" % x)",
            "builtins.ValueError: raised 1",
            "",
            "Unhandled error in Deferred:",
            "",
            "Traceback (most recent call last):",
            "  File \"experiment.py\", line 4, in boom",
            "    raise ValueError(\"raised %s\" % x)",
            "builtins.ValueError: raised 2",
            "",
        ]
    );
}

/// A Deferred cancelled with no canceller and dropped is reported with
/// Twisted's CancelledError; stopping a reactor that is not running raises
/// `twisted.internet.error.ReactorNotRunning`, a RuntimeError. CPython 3.11
/// + Twisted 26.10's output.
#[test]
fn a_dropped_cancelled_deferred_and_reactor_not_running_are_named_as_in_twisted() {
    let src = r#"from twisted.internet import defer, reactor, error

def stop():
    reactor.stop()
    try:
        reactor.stop()
    except RuntimeError as e:
        print(type(e).__name__, isinstance(e, error.ReactorNotRunning), e)

d = defer.Deferred()
d.cancel()
del d
reactor.callWhenRunning(stop)
reactor.run()
print("end")
"#;
    assert_eq!(
        output(src),
        [
            "Unhandled error in Deferred:",
            "",
            "Traceback (most recent call last):",
            "Failure: twisted.internet.defer.CancelledError: ",
            "",
            "ReactorNotRunning True Can't stop reactor that isn't running.",
            "end",
        ]
    );
}

/// A failure passed up through an `@inlineCallbacks` generator whose
/// `except` did not match keeps the line it came in at (the `yield`), not
/// the end of the handler. CPython 3.11 + Twisted 26.10's lines, less
/// Twisted's frames and the source lines.
#[test]
fn a_failure_through_an_unmatched_except_in_inline_callbacks_keeps_its_line() {
    let src = r#"from twisted.internet import defer, reactor, task

def parse(text):
    return int(text)

@defer.inlineCallbacks
def inner(text):
    yield task.deferLater(reactor, 0.1, lambda: None)
    return parse(text)

@defer.inlineCallbacks
def outer():
    try:
        yield inner("ok?")
    except KeyError:
        pass

outer()
reactor.callLater(0.3, reactor.stop)
reactor.run()
"#;
    assert_eq!(
        output(src),
        [
            "Unhandled error in Deferred:",
            "",
            "Traceback (most recent call last):",
            "  File \"experiment.py\", line 14, in outer",
            "    yield inner(\"ok?\")",
            "  File \"experiment.py\", line 9, in inner",
            "    return parse(text)",
            "  File \"experiment.py\", line 4, in parse",
            "    return int(text)",
            "builtins.ValueError: invalid literal for int() with base 10: 'ok?'",
            "",
        ]
    );
}

/// `gc.collect()` runs the collector then and there: a Deferred dropped
/// with a raised failure is reported at the call, not at exit, and the
/// call says it freed something. CPython 3.11 + Twisted 26.10's output.
#[test]
fn gc_collect_reports_a_dropped_raised_failure_at_once() {
    let src = r#"from twisted.internet import defer
import gc

def boom(_):
    raise ValueError("boom 1")

def main():
    d = defer.succeed(None)
    d.addCallback(boom)
    del d

main()
print("before collect")
n = gc.collect()
print("after collect", n > 0, gc.collect())
"#;
    assert_eq!(
        output(src),
        [
            "before collect",
            "Unhandled error in Deferred:",
            "",
            "Traceback (most recent call last):",
            "  File \"experiment.py\", line 5, in boom",
            "    raise ValueError(\"boom 1\")",
            "builtins.ValueError: boom 1",
            "",
            "after collect True 0",
        ]
    );
}
