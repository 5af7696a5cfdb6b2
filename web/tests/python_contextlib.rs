//! `contextlib`: `@contextmanager` (a generator-based `with`, the body's
//! exception thrown into the generator, `return` inside the `with`, a
//! generator that does not yield or yields twice), `suppress`, `closing`,
//! `nullcontext`, `ExitStack`, and a `@contextmanager` that sleeps and
//! holds a lock in threads. Each expected output is what CPython 3.11
//! (`python3`) printed for the same program when the test was written.

mod common;

fn output(source: &str) -> Vec<String> {
    common::printed("test.py", source)
}

/// The error an uncaught exception ends the run with: its place, then
/// the traceback.
fn error(source: &str) -> String {
    common::uncaught(source)
}

/// The pieces a program reaches for, each as CPython runs it.
#[test]
fn contextmanager_suppress_closing_nullcontext_and_exit_stack_as_cpython() {
    let out = output(
        r#"
from contextlib import contextmanager, suppress, closing, nullcontext, ExitStack
import contextlib


@contextmanager
def tag(name):
    print("<%s>" % name)
    try:
        yield name.upper()
    finally:
        print("</%s>" % name)


with tag("h1") as t:
    print("inside", t)


@contextmanager
def catching():
    try:
        yield
    except ValueError as e:
        print("caught in generator:", e)


with catching():
    raise ValueError("bad value")
print("after catching")

try:
    with catching():
        raise KeyError("k")
except KeyError as e:
    print("KeyError passed through:", e)


def early():
    with tag("p"):
        return "returned"


print(early())


@contextmanager
def no_yield():
    if False:
        yield


try:
    with no_yield():
        pass
except RuntimeError as e:
    print("RuntimeError:", e)


@contextmanager
def twice():
    yield 1
    yield 2


try:
    with twice():
        pass
except RuntimeError as e:
    print("RuntimeError:", e)


@contextmanager
def swallow_and_yield():
    try:
        yield
    except ValueError:
        yield


try:
    with swallow_and_yield():
        raise ValueError("x")
except RuntimeError as e:
    print("RuntimeError:", e)


@contextmanager
def reraise_other():
    try:
        yield
    except ValueError as e:
        raise TypeError("converted") from e


try:
    with reraise_other():
        raise ValueError("orig")
except TypeError as e:
    print("TypeError:", e, "cause:", repr(e.__cause__))

@tag("deco")
def decorated(x):
    print("decorated body", x)
    return x * 2


print(decorated(21))
print(decorated(1))

with suppress(KeyError, IndexError):
    {}["missing"]
print("suppressed KeyError")
with suppress(KeyError):
    [][1] if False else None
    print("no exception")
try:
    with suppress(KeyError):
        raise ValueError("not suppressed")
except ValueError as e:
    print("ValueError:", e)


class Resource:
    def __init__(self, name):
        self.name = name

    def close(self):
        print("closing", self.name)


with closing(Resource("r1")) as r:
    print("using", r.name)

with nullcontext(42) as v:
    print("nullcontext", v)
with nullcontext() as v:
    print("nullcontext", v)

with ExitStack() as stack:
    a = stack.enter_context(tag("a"))
    b = stack.enter_context(tag("b"))
    stack.callback(print, "callback", 1)
    stack.callback(lambda: print("lambda callback"))
    print("body", a, b)
print("stack done")

stack = ExitStack()
stack.enter_context(tag("x"))
stack.callback(print, "cb", end="!\n")
print("closing stack")
stack.close()

with ExitStack() as stack:
    stack.enter_context(tag("outer"))
    stack.enter_context(catching())
    raise ValueError("inside stack")
print("stack swallowed")

try:
    with ExitStack() as stack:
        stack.push(lambda *exc: print("push saw", exc[0].__name__))
        raise KeyError("z")
except KeyError as e:
    print("stack let through", e)

with ExitStack() as stack:
    s2 = stack.pop_all()
    s2.callback(print, "moved")
print("pop_all left")
s2.close()

print(type(tag("q")).__name__)
print(isinstance(suppress(), contextlib.AbstractContextManager))
"#,
    );
    // CPython 3.11's output.
    assert_eq!(
        out,
        [
            "<h1>",
            "inside H1",
            "</h1>",
            "caught in generator: bad value",
            "after catching",
            "KeyError passed through: 'k'",
            "<p>",
            "</p>",
            "returned",
            "RuntimeError: generator didn't yield",
            "RuntimeError: generator didn't stop",
            "RuntimeError: generator didn't stop after throw()",
            "TypeError: converted cause: ValueError('orig')",
            "<deco>",
            "decorated body 21",
            "</deco>",
            "42",
            "<deco>",
            "decorated body 1",
            "</deco>",
            "2",
            "suppressed KeyError",
            "no exception",
            "ValueError: not suppressed",
            "using r1",
            "closing r1",
            "nullcontext 42",
            "nullcontext None",
            "<a>",
            "<b>",
            "body A B",
            "lambda callback",
            "callback 1",
            "</b>",
            "</a>",
            "stack done",
            "<x>",
            "closing stack",
            "cb!",
            "</x>",
            "<outer>",
            "caught in generator: inside stack",
            "</outer>",
            "stack swallowed",
            "push saw KeyError",
            "stack let through 'z'",
            "pop_all left",
            "moved",
            "_GeneratorContextManager",
            "True"
        ]
    );
}

/// `ExitStack` with the user's own managers: last in, first out; one that
/// returns true swallows the exception for those entered before it.
#[test]
fn exit_stack_unwinds_last_in_first_out_and_a_swallowing_exit_stops_the_exception() {
    let out = output(
        r#"
from contextlib import ExitStack, contextmanager
import contextlib


class NotCM:
    pass


with ExitStack() as stack:
    try:
        stack.enter_context(NotCM())
    except TypeError as e:
        print(e)


class Loud:
    def __init__(self, name, swallow=False):
        self.name = name
        self.swallow = swallow

    def __enter__(self):
        print("enter", self.name)
        return self

    def __exit__(self, typ, value, tb):
        print("exit", self.name, typ.__name__ if typ else None, value)
        return self.swallow


with ExitStack() as stack:
    for i in range(3):
        stack.enter_context(Loud(i, swallow=(i == 1)))
    raise ValueError("bottom")
print("swallowed by 1")


@contextmanager
def failing_exit():
    yield
    raise KeyError("from exit")


try:
    with ExitStack() as stack:
        stack.enter_context(Loud("first"))
        stack.enter_context(failing_exit())
        print("body")
except KeyError as e:
    print("KeyError", e)


@contextlib.contextmanager
def gen_value():
    value = yield 10
    print("sent", value)


with gen_value() as v:
    print(v)

with contextlib.suppress(ZeroDivisionError):
    print(1 / 0)
print("done")


def helper():
    with contextlib.suppress(StopIteration):
        next(iter([]))
    return "helper ok"


print(helper())


@contextmanager
def stop_in_body():
    yield


try:
    with stop_in_body():
        raise StopIteration("body stop")
except StopIteration as e:
    print("StopIteration escaped", e)
except RuntimeError as e:
    print("RuntimeError", e)
"#,
    );
    // CPython 3.11's output.
    assert_eq!(
        out,
        [
            "'__main__.NotCM' object does not support the context manager protocol",
            "enter 0",
            "enter 1",
            "enter 2",
            "exit 2 ValueError bottom",
            "exit 1 ValueError bottom",
            "exit 0 None None",
            "swallowed by 1",
            "enter first",
            "body",
            "exit first KeyError 'from exit'",
            "KeyError 'from exit'",
            "10",
            "sent None",
            "done",
            "helper ok",
            "StopIteration escaped body stop"
        ]
    );
}

/// The generator runs on the VM, on the simulated threads: it sleeps and
/// holds a lock as the body would.
#[test]
fn a_contextmanager_that_sleeps_and_holds_a_lock_in_threads() {
    let out = output(
        r#"
import threading
import time
from contextlib import contextmanager

lock = threading.Lock()
log = []


@contextmanager
def held(name):
    with lock:
        log.append(name + " in")
        time.sleep(0.01)
        try:
            yield name
        finally:
            log.append(name + " out")


@contextmanager
def timed(name):
    start = time.monotonic()
    yield
    log.append("%s took %.2f" % (name, time.monotonic() - start))


def worker(name):
    with timed(name):
        with held(name) as n:
            time.sleep(0.02)
            log.append(n + " work")


threads = [threading.Thread(target=worker, args=("t%d" % i,)) for i in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(len(log))
for name in ["t0", "t1", "t2"]:
    mine = [e for e in log if e.startswith(name + " ")]
    print(mine[:3])
order = [e for e in log if e.endswith(" in") or e.endswith(" out")]
print(all(order[i][:2] == order[i + 1][:2] for i in range(0, len(order), 2)))
print(sorted(e.split()[-1] for e in log if "took" in e))
"#,
    );
    // CPython 3.11's output.
    assert_eq!(
        out,
        [
            "12",
            "['t0 in', 't0 work', 't0 out']",
            "['t1 in', 't1 work', 't1 out']",
            "['t2 in', 't2 work', 't2 out']",
            "True",
            "['0.03', '0.06', '0.09']"
        ]
    );
}

/// A generator that does not yield: CPython's RuntimeError, at the `with`.
#[test]
fn a_contextmanager_that_does_not_yield_fails_at_the_with() {
    let err = error(
        "from contextlib import contextmanager\n\n\n@contextmanager\ndef no_yield():\n    if False:\n        yield\n\n\nwith no_yield():\n    pass\n",
    );
    assert!(err.starts_with("test.py:10:1: RuntimeError: generator didn't yield\n"), "{err}");
    assert!(err.ends_with("\nRuntimeError: generator didn't yield"), "{err}");
}

/// `ContextDecorator` and `AbstractContextManager` as bases of the user's
/// own classes; a generator that sleeps in its `except`, in a thread.
#[test]
fn context_decorator_abstract_context_manager_and_a_generator_that_sleeps_in_its_handler() {
    let out = output(
        r#"
import threading
import time
from contextlib import ContextDecorator, AbstractContextManager, contextmanager


class traced(ContextDecorator):
    def __init__(self, label):
        self.label = label

    def __enter__(self):
        print("start", self.label)
        return self

    def __exit__(self, *exc):
        print("end", self.label, exc[0].__name__ if exc[0] else None)
        return False


@traced("work")
def work(n):
    print("working", n)
    return n + 1


print(work(1))


class Managed(AbstractContextManager):
    def __exit__(self, *exc):
        print("managed exit")


with Managed() as m:
    print(type(m).__name__)


@contextmanager
def retry_on_error(name):
    try:
        yield
    except ValueError as e:
        time.sleep(0.05)
        print(name, "recovered from", e, "at", round(time.monotonic() - start, 2))


start = time.monotonic()


def worker():
    with retry_on_error("worker"):
        time.sleep(0.1)
        raise ValueError("late")


t = threading.Thread(target=worker)
t.start()
t.join()
print("joined")
"#,
    );
    // CPython 3.11's output.
    assert_eq!(
        out,
        [
            "start work",
            "working 1",
            "end work None",
            "2",
            "Managed",
            "managed exit",
            "worker recovered from late at 0.15",
            "joined"
        ]
    );
}

/// Leaving a `@contextmanager`'s `with` by `break`, `continue`, `return`,
/// and one held across a generator's `yield`s: the generator's `finally`
/// runs each time, as in CPython.
#[test]
fn break_continue_return_and_yield_inside_a_contextmanager_with() {
    let out = output(
        r#"
from contextlib import contextmanager, ExitStack


@contextmanager
def step(i):
    print("enter", i)
    try:
        yield i
    finally:
        print("exit", i)


for i in range(5):
    with step(i):
        if i == 1:
            continue
        if i == 3:
            break
        print("body", i)


def first_even(items):
    for x in items:
        with step(x):
            if x % 2 == 0:
                return x
    return None


print(first_even([1, 3, 4, 5]))


def gen():
    with step("g"):
        yield 1
        yield 2


for v in gen():
    print("got", v)
with ExitStack() as stack:
    values = [stack.enter_context(step(i)) for i in range(2)]
    print(values)
"#,
    );
    // CPython 3.11's output.
    assert_eq!(
        out,
        [
            "enter 0", "body 0", "exit 0", "enter 1", "exit 1", "enter 2", "body 2", "exit 2", "enter 3", "exit 3",
            "enter 1", "exit 1", "enter 3", "exit 3", "enter 4", "exit 4", "4", "enter g", "got 1", "got 2", "exit g",
            "enter 0", "enter 1", "[0, 1]", "exit 1", "exit 0"
        ]
    );
}
