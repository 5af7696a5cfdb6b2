//! `concurrent.futures` as programs use it: `ThreadPoolExecutor` with
//! `submit`, `map`, `as_completed`, `wait`, timeouts, cancelling, done
//! callbacks, `shutdown` and `with`, and an executor never shut down (its
//! workers are stopped at exit, as CPython's `threading._register_atexit`
//! hook does). The module is CPython 3.11's code, trimmed, running on the
//! simulator's threads. The expected lines are what CPython 3.11 printed
//! for the same program (with `twine.py` on its path, on 2 cores).

mod common;

use twine_web::{PythonScenario, Scenario, Simulation};

#[test]
fn a_thread_pool_executor_runs_as_in_cpython() {
    let out = common::printed(
        "test.py",
        r#"import twine
twine.machine(cores=2)
from concurrent.futures import ThreadPoolExecutor, as_completed, wait, FIRST_COMPLETED, TimeoutError, CancelledError
import threading, time
t0 = time.monotonic()
def el(): return round(time.monotonic() - t0, 1)
def job(n):
    time.sleep(n / 10)
    if n == 2:
        raise ValueError("two")
    return n, threading.current_thread().name
ex = ThreadPoolExecutor(max_workers=2)
fs = [ex.submit(job, n) for n in (3, 1, 2, 4)]
for f in as_completed(fs):
    try:
        print(el(), f.result())
    except ValueError as e:
        print(el(), "failed:", repr(e), f.exception())
f = ex.submit(job, 5)
try:
    f.result(timeout=0.1)
except TimeoutError:
    print("timed out", f.done(), f.running())
print(f.result(), repr(f)[:7], repr(f).split(" ", 3)[-1])
done, not_done = wait([ex.submit(job, 1), ex.submit(job, 3)], return_when=FIRST_COMPLETED)
print(len(done), len(not_done))
g = ex.submit(job, 1)
g.add_done_callback(lambda fut: print("callback", fut.result()))
h = ex.submit(job, 1); i = ex.submit(job, 1)
print(i.cancel(), i.cancelled(), h.cancel())
try:
    i.result()
except CancelledError:
    print("cancelled error")
ex.shutdown()
try:
    ex.submit(job, 1)
except RuntimeError as e:
    print(e)
with ThreadPoolExecutor(3, thread_name_prefix="w") as pool:
    print(list(pool.map(lambda x: (x, threading.current_thread().name), range(4))))
    try:
        print(list(pool.map(job, [1, 2])))
    except ValueError as e:
        print("map raised", e)
left = ThreadPoolExecutor()
print(left._max_workers)
left.submit(print, "never shut down, still run")
"#,
    );
    assert_eq!(
        out,
        [
            "0.1 (1, 'ThreadPoolExecutor-0_1')",
            "0.3 (3, 'ThreadPoolExecutor-0_0')",
            "0.3 failed: ValueError('two') two",
            "0.7 (4, 'ThreadPoolExecutor-0_0')",
            "timed out False True",
            "(5, 'ThreadPoolExecutor-0_1') <Future state=finished returned tuple>",
            "1 1",
            "True True True",
            "cancelled error",
            "callback (1, 'ThreadPoolExecutor-0_0')",
            "cannot schedule new futures after shutdown",
            "[(0, 'w_0'), (1, 'w_0'), (2, 'w_0'), (3, 'w_0')]",
            "map raised two",
            "6",
            "never shut down, still run"
        ]
    );
}

#[test]
fn a_name_the_module_lacks_is_an_import_error() {
    let scenario = Scenario::from_python("test.py", "from concurrent.futures import ProcessPoolExecutor\n").unwrap();
    let mut sim = Simulation::new(&scenario, None);
    sim.run();
    let err = sim.python_error().unwrap_or_default();
    assert!(
        err.starts_with("test.py:1:1: ImportError: cannot import name 'ProcessPoolExecutor' from 'concurrent.futures'"),
        "{err}"
    );
}
