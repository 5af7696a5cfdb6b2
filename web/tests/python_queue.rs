//! Python's `queue` module between threads: `Queue` with `task_done` and
//! `join`, a bounded one whose `put` waits for a `get`, `LifoQueue`, and
//! `Empty`/`Full`. The expected output is what CPython 3.11 printed for the
//! same program when the test was written.

mod common;

use twine_web::{PythonScenario, Scenario, Simulation};

#[test]
fn producers_and_a_consumer_share_a_queue_as_in_cpython() {
    let out = common::printed(
        "test.py",
        r#"
import threading, queue, time

q = queue.Queue()
results = []
def producer(n):
    for i in range(3):
        q.put((n, i))
        time.sleep(0.01)
def consumer():
    while True:
        item = q.get()
        q.task_done()
        if item is None:
            break
        results.append(item)
ps = [threading.Thread(target=producer, args=(k,)) for k in range(2)]
c = threading.Thread(target=consumer)
c.start()
for p in ps: p.start()
for p in ps: p.join()
q.put(None)
q.join()
print(sorted(results), q.qsize(), q.empty(), c.is_alive() in (True, False))
c.join()

b = queue.Queue(maxsize=2)
b.put(1); b.put_nowait(2)
print(b.full(), b.qsize())
try:
    b.put_nowait(3)
except queue.Full as e:
    print("Full", repr(e), isinstance(e, Exception), queue.Full)
taken = []
def slow_get():
    time.sleep(0.05)
    taken.append(b.get())
t = threading.Thread(target=slow_get)
t.start()
start = time.monotonic()
b.put(3)   # waits until slow_get takes one
waited = time.monotonic() - start
t.join()
print("put 3 waited for the get:", waited >= 0.05, taken, b.qsize())

l = queue.LifoQueue()
for i in range(3): l.put(i)
print([l.get() for _ in range(3)])
try:
    l.get_nowait()
except queue.Empty as e:
    print("Empty", repr(e), queue.Empty)
try:
    for _ in range(4): l.task_done()
except ValueError as e:
    print(e)
"#,
    );
    assert_eq!(
        out,
        [
            "[(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)] 0 True True",
            "True 2",
            "Full Full() True <class 'queue.Full'>",
            "put 3 waited for the get: True [1] 2",
            "[2, 1, 0]",
            "Empty Empty() <class '_queue.Empty'>",
            "task_done() called too many times",
        ]
    );
}

#[test]
fn a_timeout_the_engine_cannot_honour_is_refused_at_its_line_with_what_to_write() {
    let scenario =
        Scenario::from_python("test.py", "import queue\nq = queue.Queue()\nq.put(1)\nq.get(timeout=1)\n").unwrap();
    let mut sim = Simulation::new(&scenario, None);
    sim.run();
    let error = sim.python_error().expect("an error");
    assert!(error.starts_with("test.py:4:1: TypeError: Queue.get(timeout=...) is not supported here yet"), "{error}");
    assert!(error.contains("put a sentinel"), "{error}");
}
