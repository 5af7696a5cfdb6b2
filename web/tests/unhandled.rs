//! A Deferred dropped with a failure nobody handled is reported as Twisted
//! reports it. The expected lines are what CPython 3.11.2 with Twisted
//! 26.10.0 writes for the same programs (on stderr, where twine has one
//! output), less the frames inside Twisted and the source lines.

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
            "builtins.ValueError: boom 1",
        ]
    );
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
            "Unhandled error in Deferred:",
            "",
            "Traceback (most recent call last):",
            "  File \"experiment.py\", line 7, in work",
            "__main__.Refused: no",
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
