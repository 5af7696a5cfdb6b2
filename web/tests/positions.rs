//! Source positions: the trace events a Python program causes know the line
//! and function each came from.

use twine_core::trace::TraceEvent;
use twine_web::{PythonScenario, Scenario, Simulation};

fn run(source: &str) -> Simulation {
    let scenario = Scenario::from_python("test.py", source).unwrap_or_else(|e| panic!("{e}"));
    let mut sim = Simulation::new(&scenario, None);
    sim.run();
    assert_eq!(sim.python_error(), None);
    sim
}

const THREADS: &str = r#"import threading, time
lock = threading.Lock()
def work(n):
    time.sleep(0.1 * n)
    with lock:
        print("worker", n)
ts = [threading.Thread(target=work, args=(i,), name=f"w{i}") for i in (1, 2)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print("done")
"#;

#[test]
fn prints_and_locks_know_their_line_and_function() {
    let sim = run(THREADS);
    let events = sim.events(0, usize::MAX);
    let positions = sim.positions();
    assert!(positions.windows(2).all(|w| w[0].i < w[1].i), "ordered by event index");
    let at = |i: usize| positions.iter().find(|p| p.i == i);
    let mut prints = Vec::new();
    for (i, record) in events.iter().enumerate() {
        match &record.event {
            TraceEvent::Print { thread, text } => {
                let p = at(i).unwrap_or_else(|| panic!("print {text:?} has no position"));
                assert_eq!(p.thread, *thread);
                prints.push((text.clone(), p.line, p.func.to_string()));
            }
            // The main thread's are `t.join()`'s, on line 11.
            TraceEvent::LockAcquire { thread: 0, .. } | TraceEvent::LockRelease { thread: 0, .. } => {
                assert_eq!(at(i).map(|p| (p.line, &*p.func)), Some((11, "<module>")));
            }
            TraceEvent::LockAcquire { thread, .. } => {
                let p = at(i).expect("lock events have a position");
                assert_eq!((p.thread, p.line, &*p.func), (*thread, 5, "work"));
            }
            TraceEvent::LockRelease { thread, .. } => {
                // The `with` block's exit runs after its last line.
                let p = at(i).expect("lock events have a position");
                assert_eq!((p.thread, p.line, &*p.func), (*thread, 6, "work"));
            }
            _ => {}
        }
    }
    assert_eq!(
        prints,
        [
            ("worker 1".to_string(), 6, "work".to_string()),
            ("worker 2".to_string(), 6, "work".to_string()),
            ("done".to_string(), 12, "<module>".to_string())
        ]
    );
}

#[test]
fn reactor_calls_name_the_python_callback() {
    let sim = run(r#"from twisted.internet import reactor
class Greeter:
    def hello(self, who):
        print("hello", who)
def stop():
    reactor.stop()
g = Greeter()
reactor.callLater(0.1, g.hello, "you")
reactor.callLater(0.2, stop)
reactor.run()
"#);
    let events = sim.events(0, usize::MAX);
    let positions = sim.positions();
    let calls: Vec<(u32, String)> = positions
        .iter()
        .filter(|p| matches!(events[p.i].event, TraceEvent::Call { .. }))
        .map(|p| (p.line, p.func.to_string()))
        .collect();
    assert_eq!(calls, [(4, "Greeter.hello".to_string()), (6, "stop".to_string())]);
}

#[test]
fn positions_are_the_same_every_run() {
    let a = run(THREADS).positions();
    let b = run(THREADS).positions();
    assert_eq!(a, b);
    assert!(!a.is_empty());
}

#[test]
fn the_queues_say_where_each_python_thread_is() {
    let scenario = Scenario::from_python("test.py", THREADS).unwrap();
    let mut sim = Simulation::new(&scenario, None);
    sim.seek(twine_core::Time::from_nanos(50_000_000));
    let q = sim.queues();
    let at = |name: &str| q.threads.iter().find(|t| t.name == name).and_then(|t| t.at.clone());
    // Both workers sleep on line 4; the main thread waits in `t.join()`.
    assert_eq!(at("w1").as_deref(), Some("work:4"));
    assert_eq!(at("w2").as_deref(), Some("work:4"));
    assert_eq!(q.threads[0].at.as_deref(), Some("<module>:11"));
    sim.run();
    let q = sim.queues();
    let workers: Vec<_> = q.threads.iter().filter(|t| t.name.starts_with('w')).collect();
    assert!(workers.iter().all(|t| t.state == "exited" && t.at.is_none()), "{workers:?}");
}
