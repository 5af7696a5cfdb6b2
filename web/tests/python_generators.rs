//! Generators resumed on the thread's own stack (a `for` loop, `next`,
//! `send`, `yield from`, inlineCallbacks), so their bodies sleep, take locks
//! and burn CPU as any function body does; `yield from`; `property`;
//! coroutines (`async def`, `await`) driven by `defer.ensureDeferred`.
//!
//! The expected lines are what CPython 3.11.7 (with Twisted 26.10.0 for
//! inlineCallbacks) printed for the same programs.
#![cfg(not(target_arch = "wasm32"))]

mod common;

fn output(source: &str) -> Vec<String> {
    common::printed("gen.py", source)
}

#[test]
fn async_def_awaits_deferreds_and_coroutines_as_in_twisted() {
    let src = r#"
from twisted.internet import defer, reactor, task

async def add_later(x):
    await task.deferLater(reactor, 0.01, lambda: None)
    return x + 1

async def main():
    a = await add_later(1)
    b = await defer.succeed(10)
    print("got", a, b)
    try:
        await defer.fail(ValueError("nope"))
    except ValueError as e:
        print("caught", e)
    results = await defer.gatherResults([defer.ensureDeferred(add_later(i)) for i in range(3)])
    print("gathered", results)
    c = add_later(5)
    try:
        for x in c:
            pass
    except TypeError as e:
        print(e)
    print(await c)
    return "done"

d = defer.ensureDeferred(main())
d.addCallback(lambda r: print("main returned", r))
d.addBoth(lambda _: reactor.stop())
d2 = defer.Deferred.fromCoroutine(add_later(41))
d2.addCallback(print)
try:
    defer.ensureDeferred(42)
except defer.NotACoroutineError as e:
    print("error", e)
try:
    defer.Deferred.fromCoroutine(defer.succeed(1))
except TypeError as e:
    print("error", type(e).__name__)
async def failing():
    raise KeyError("k")
defer.ensureDeferred(failing()).addErrback(lambda f: print("errback", f.type.__name__))
reactor.run()
"#;
    assert_eq!(
        output(src),
        [
            "error 42 is not a coroutine or a Deferred",
            "error NotACoroutineError",
            "errback KeyError",
            "got 2 10",
            "caught nope",
            "42",
            "gathered [1, 2, 3]",
            "'coroutine' object is not iterable",
            "6",
            "main returned done",
        ]
    );
}

#[test]
fn await_where_python_refuses_it_is_refused_at_its_line() {
    use twine_web::{PythonScenario, Scenario};
    let refused = |src: &str| Scenario::from_python("a.py", src).err().map(|e| e.to_string());
    assert_eq!(
        refused("def f(d):\n    return await d\n").as_deref(),
        Some("a.py:2:12: 'await' outside async function: make the enclosing function `async def`")
    );
    assert_eq!(
        refused("async def f():\n    yield 1\n").as_deref(),
        Some("a.py:2:5: async generators are not supported: collect the values in a list and return it")
    );
    assert_eq!(
        refused("async def f(xs):\n    async for x in xs:\n        pass\n").as_deref(),
        Some("a.py:2:5: `async for` is not supported: use a `for` loop that awaits inside")
    );
}

/// A bad call into the library's Python part (`ensureDeferred` of a plain
/// value, an `@inlineCallbacks` function called with the wrong arguments or
/// returning no generator) is reported at the program's line that made it,
/// not inside `<twisted.internet.defer>`; the messages are CPython's with
/// Twisted 26.10 (whose function reprs add ` at 0x...`, left out here).
#[test]
fn a_bad_call_into_the_library_is_reported_at_the_programs_line() {
    use twine_web::{PythonScenario, Scenario, Simulation};
    let error = |src: &str| {
        let mut sim = Simulation::new(&Scenario::from_python("gen.py", src).unwrap(), None);
        sim.run();
        sim.python_error().expect("an error")
    };
    let head = |src: &str| error(src).lines().next().unwrap_or_default().to_owned();
    let src = "from twisted.internet import defer\n\ndef g():\n    return 5\n\ndefer.ensureDeferred(g())\n";
    assert_eq!(head(src), "gen.py:6:1: NotACoroutineError: 5 is not a coroutine or a Deferred");
    // The traceback's last line is CPython's, the class with its module.
    let err = error(src);
    assert!(err.ends_with("\ntwisted.internet.defer.NotACoroutineError: 5 is not a coroutine or a Deferred"), "{err}");
    let src = "from twisted.internet import defer\n\n@defer.inlineCallbacks\ndef f(x):\n    yield defer.succeed(x)\n\nf(1, 2)\n";
    assert_eq!(head(src), "gen.py:7:1: TypeError: f() takes 1 positional argument but 2 were given");
    // Twisted refuses a function that returns no generator when it is called.
    let src = "from twisted.internet import defer\n\n@defer.inlineCallbacks\ndef f():\n    return 1\n\nf()\n";
    let err = error(src);
    assert!(err.starts_with("gen.py:7:1: TypeError: inlineCallbacks requires <function f"), "{err}");
    assert!(err.ends_with("> to produce a generator; instead got 1"), "{err}");
    let out = output(
        r#"
from twisted.internet import defer

@defer.inlineCallbacks
def f():
    return 1

async def c():
    return 2

try:
    f()
except TypeError as e:
    print(type(e).__name__, str(e).endswith("to produce a generator; instead got 1"))
try:
    defer.inlineCallbacks(c)()
except TypeError as e:
    print(type(e).__name__, str(e).startswith("inlineCallbacks requires <function c"))
"#,
    );
    assert_eq!(out, ["TypeError True", "TypeError True"]);
}

/// `close()` of a generator or a coroutine throws GeneratorExit (a
/// BaseException) in where it stopped, so its `finally` runs; one that
/// yields again is a RuntimeError; closing a finished or never-started one
/// does nothing.
#[test]
fn close_throws_generator_exit_into_a_generator_or_a_coroutine() {
    let out = output(
        r#"
def gen(name):
    try:
        yield 1
        yield 2
    finally:
        print("finally", name)

g = gen("a")
print(next(g))
print(g.close(), g.close())
try:
    next(g)
except StopIteration:
    print("done")
g = gen("never started")
print(g.close())

def stubborn():
    try:
        yield 1
    except GeneratorExit:
        print("ignoring")
    yield 2

s = stubborn()
next(s)
try:
    s.close()
except RuntimeError as e:
    print("RuntimeError", e)

def catches():
    try:
        yield 1
    except Exception:
        print("not here")
    except BaseException as e:
        print("base", type(e).__name__, isinstance(e, Exception))
        raise

c = catches()
next(c)
print(c.close())

async def co():
    return 1

k = co()
print(k.close())
print(issubclass(GeneratorExit, BaseException), issubclass(GeneratorExit, Exception))
"#,
    );
    let want = [
        "1",
        "finally a",
        "None None",
        "done",
        "None",
        "ignoring",
        "RuntimeError generator ignored GeneratorExit",
        "base GeneratorExit False",
        "None",
        "None",
        "True False",
    ];
    assert_eq!(out, want);
}

#[test]
fn a_generator_sleeps_and_takes_a_lock_on_the_thread_that_resumes_it() {
    let src = r#"
import threading, time

start = time.monotonic()

def ticks(name, n, period):
    for i in range(n):
        time.sleep(period)
        yield f"{name} tick {i}"

def worker(name, n, period):
    for line in ticks(name, n, period):
        print(line)

a = threading.Thread(target=worker, args=("a", 3, 0.1))
b = threading.Thread(target=worker, args=("b", 2, 0.25))
a.start()
b.start()
a.join()
b.join()
print(f"done at {time.monotonic() - start:.1f} s")

lock = threading.Lock()

def holder():
    with lock:
        time.sleep(0.2)

def guarded():
    with lock:
        yield f"got the lock at {time.monotonic() - start:.1f} s"

t = threading.Thread(target=holder)
start = time.monotonic()
t.start()
time.sleep(0.01)
g = guarded()
print(next(g))
t.join()
"#;
    assert_eq!(
        output(src),
        ["a tick 0", "a tick 1", "b tick 0", "a tick 2", "b tick 1", "done at 0.5 s", "got the lock at 0.2 s"]
    );
}

#[test]
fn a_generator_burns_cpu_on_the_thread_that_iterates_it() {
    let src = r#"
import threading, time, twine
twine.machine(cores=2, gil=False, noise=False)

def work(n):
    for i in range(n):
        twine.cpu(100)
        yield i

def run(name):
    t = time.perf_counter()
    total = sum(x for x in [0])
    for i in work(3):
        total += i
    print(name, total, f"{time.perf_counter() - t:.1f} s")

threads = [threading.Thread(target=run, args=(n,)) for n in ("a", "b")]
for t in threads:
    t.start()
for t in threads:
    t.join()
"#;
    let mut out = output(src);
    out.sort();
    // Two cores: both threads burn their 300 ms at once.
    assert_eq!(out, ["a 3 0.3 s", "b 3 0.3 s"]);
}

#[test]
fn yield_from_delegates_sends_and_returns_and_next_and_send_end_with_stop_iteration() {
    let src = r#"
def inner():
    x = yield 1
    print("inner got", x)
    y = yield 2
    print("inner got", y)
    return "inner done"

def outer():
    r = yield from inner()
    print("outer: inner returned", r)
    yield from [10, 20]
    return "outer done"

g = outer()
print(next(g))
print(g.send("a"))
print(g.send("b"))
print(next(g))
try:
    next(g)
except StopIteration as e:
    print("StopIteration", e.value)
print(next(g, "exhausted"))

def chain(*its):
    for it in its:
        yield from it

print(list(chain([1, 2], "ab", range(2))))
print([x for x in outer() if isinstance(x, int)])

def counter():
    n = 0
    while True:
        n += 1
        yield n

def take(g, k):
    for x in g:
        if x > k:
            return
        yield x

print(sum(take(counter(), 4)))

"#;
    assert_eq!(
        output(src),
        [
            "1",
            "inner got a",
            "2",
            "inner got b",
            "outer: inner returned inner done",
            "10",
            "20",
            "StopIteration outer done",
            "exhausted",
            "[1, 2, 'a', 'b', 0, 1]",
            "inner got None",
            "inner got None",
            "outer: inner returned inner done",
            "[1, 2, 10, 20]",
            "10",
        ]
    );
}

#[test]
fn a_property_computes_and_checks_attributes() {
    let src = r#"
class Account:
    def __init__(self):
        self._balance = 0

    @property
    def balance(self):
        print("get balance")
        return self._balance

    @balance.setter
    def balance(self, value):
        if value < 0:
            raise ValueError("a balance cannot be negative")
        self._balance = value

a = Account()
a.balance = 10
print(a.balance)
a.balance += 5
print(a._balance)
try:
    a.balance = -1
except ValueError as e:
    print("refused:", e)
print(getattr(a, "balance"))

class ReadOnly:
    @property
    def x(self):
        return 1

r = ReadOnly()
print(r.x)
try:
    r.x = 2
except AttributeError as e:
    print(e)
"#;
    assert_eq!(
        output(src),
        [
            "get balance",
            "10",
            "get balance",
            "15",
            "refused: a balance cannot be negative",
            "get balance",
            "15",
            "1",
            "property 'x' of 'ReadOnly' object has no setter",
        ]
    );
}

#[test]
fn a_property_getter_may_sleep() {
    let src = r#"
import time
class Slow:
    @property
    def value(self):
        time.sleep(0.25)
        return 7
t = time.monotonic()
print(Slow().value, f"{time.monotonic() - t:.2f} s")
"#;
    assert_eq!(output(src), ["7 0.25 s"]);
}

#[test]
fn an_inline_callbacks_generator_blocks_the_reactor_when_it_sleeps() {
    let src = r#"
import time
from twisted.internet import defer, reactor, task

start = time.monotonic()

def now():
    return f"{time.monotonic() - start:.1f} s"

@defer.inlineCallbacks
def fetch():
    print("fetch starts at", now())
    yield task.deferLater(reactor, 0.1, lambda: None)
    print("fetch resumed at", now())
    time.sleep(0.2)  # blocks the reactor thread, as in Twisted
    value = yield defer.succeed(42)
    return value

def tick():
    print("timer at", now())

def main():
    reactor.callLater(0.15, tick)
    d = fetch()
    d.addCallback(lambda v: print("fetched", v, "at", now()))
    d.addCallback(lambda _: reactor.stop())

reactor.callWhenRunning(main)
reactor.run()
"#;
    assert_eq!(output(src), ["fetch starts at 0.0 s", "fetch resumed at 0.1 s", "fetched 42 at 0.3 s"]);
}

#[test]
fn throw_into_a_generator_in_yield_from_is_thrown_into_the_inner_one() {
    let src = r#"
def inner():
    try:
        yield 1
        yield 2
    except ValueError as e:
        print("inner caught", e)
        yield 10
    return "inner done"


def outer():
    try:
        r = yield from inner()
        print("outer got", r)
        yield 20
    except ValueError as e:
        print("outer caught", e)
        yield 30


g = outer()
print(next(g))
print(g.throw(ValueError("boom")))
print(next(g))
h = outer()
print(next(h))
print(next(h))
print(h.throw(KeyError("k")) if False else "skip")
try:
    print(next(h))
except StopIteration:
    print("h ended")


def deep():
    yield from outer()


d = deep()
print(next(d))
print(d.throw(ValueError("deep")))


def plain():
    try:
        yield from [1, 2, 3]
    except ValueError as e:
        print("plain caught", e)
        yield 99


p = plain()
print(next(p))
print(p.throw(ValueError("list")))


def outer2():
    try:
        yield from inner()
    except TypeError as e:
        print("outer2 caught", e)
        yield 40


o = outer2()
print(next(o))
print(o.throw(TypeError("t")))
"#;
    let expected = [
        "1",
        "inner caught boom",
        "10",
        "outer got inner done",
        "20",
        "1",
        "2",
        "skip",
        "outer got inner done",
        "20",
        "1",
        "inner caught deep",
        "10",
        "1",
        "plain caught list",
        "99",
        "1",
        "outer2 caught t",
        "40",
    ];
    assert_eq!(output(src), expected);
}
