//! Programs that recurse without end, or build values that hold
//! themselves: CPython 3.11's errors and texts, never a crashed simulator.
//! The expected lines are what CPython 3.11 prints for the same programs.
//!
//! Each runs on a thread with a small stack ([`STACK`]), standing for the
//! 1 MB the browser gives the wasm module: Rust recursion that would
//! overflow there fails here too.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use twine_web::{PythonScenario, Scenario, Simulation};

/// The browser's stack for the module, 1 MB; a debug build's frames are
/// several times larger than the optimised module's, so four times that.
/// (`ulimit -s 1024` and a release `twine-sim` run these programs, too.)
const STACK: usize = if cfg!(debug_assertions) { 16 << 20 } else { 1 << 20 };

/// Runs `f` on a thread with the browser's stack.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new().stack_size(STACK).spawn(f).unwrap().join().unwrap()
}

fn printed(source: &'static str) -> Vec<String> {
    on_small_stack(move || common::printed("test.py", source))
}

/// The error that ended the program.
fn error(source: &'static str) -> String {
    on_small_stack(move || {
        let mut sim = Simulation::new(&Scenario::from_python("test.py", source).unwrap(), None);
        sim.run();
        sim.python_error().expect("the program fails")
    })
}

#[test]
fn an_endless_recursion_raises_recursion_error_with_cpythons_traceback() {
    let err = error("def f(n):\n    return f(n + 1)\nf(0)\n");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(
        lines,
        [
            "test.py:2:12: RecursionError: maximum recursion depth exceeded",
            "Traceback (most recent call last):",
            "  File \"test.py\", line 3, in <module>",
            "    f(0)",
            "  File \"test.py\", line 2, in f",
            "    return f(n + 1)",
            "           ^^^^^^^^",
            "  File \"test.py\", line 2, in f",
            "    return f(n + 1)",
            "           ^^^^^^^^",
            "  File \"test.py\", line 2, in f",
            "    return f(n + 1)",
            "           ^^^^^^^^",
            "  [Previous line repeated 996 more times]",
            "RecursionError: maximum recursion depth exceeded",
        ]
    );
}

#[test]
fn the_limit_is_a_thousand_frames_and_the_error_can_be_caught() {
    let out = printed(
        "deepest = 0\n\
         def f(n):\n    global deepest\n    deepest = n\n    f(n + 1)\n\
         try:\n    f(1)\nexcept RecursionError as e:\n    print(deepest, e)\n\
         def g(n):\n    return 0 if n == 0 else 1 + g(n - 1)\n\
         print(g(990))\n",
    );
    assert_eq!(out, ["999 maximum recursion depth exceeded", "990"]);
}

#[test]
fn a_repr_that_calls_itself_raises_recursion_error() {
    let err = error("class A:\n    def __repr__(self):\n        return repr(self)\nprint(A())\n");
    // CPython adds " while calling a Python object" to this one.
    assert!(err.lines().last().unwrap().starts_with("RecursionError: maximum recursion depth exceeded"), "{err}");
    let out = printed(
        "def key(x):\n    return sorted([x], key=key)[0]\n\
         try:\n    sorted([1, 2], key=key)\nexcept RecursionError as e:\n    print('caught:', e)\n",
    );
    assert_eq!(out, ["caught: maximum recursion depth exceeded"]);
    let out = printed(
        "class R:\n    def __eq__(self, o):\n        return self == o\n\
         try:\n    R() == R()\nexcept RecursionError as e:\n    print('caught:', e)\n",
    );
    assert_eq!(out, ["caught: maximum recursion depth exceeded"]);
}

#[test]
fn containers_that_hold_themselves_print_as_cpython_prints_them() {
    let out = printed(
        "a = []\na.append(a)\nprint(a)\nd = {}\nd[1] = d\nprint(d)\nprint(repr([a, (a, d)]))\n\
         b = []\nb.append(b)\n\
         try:\n    print(a == b)\nexcept RecursionError as e:\n    print('eq:', e)\n\
         print(a == a, a in [a], [1, [2]] == [1, [2]], [1, 2].index(2), (1, 2, 2).count(2))\n",
    );
    assert_eq!(
        out,
        [
            "[[...]]",
            "{1: {...}}",
            "[[[...]], ([[...]], {1: {...}})]",
            "eq: maximum recursion depth exceeded in comparison",
            "True True True 1 2",
        ]
    );
}

#[test]
fn deeply_nested_values_raise_recursion_error_in_repr_and_comparison() {
    let out = printed(
        "a = []\nb = []\nfor i in range(3000):\n    a = [a]\n    b = [b]\n\
         try:\n    print(repr(a))\nexcept RecursionError as e:\n    print(e)\n\
         try:\n    print(a == b)\nexcept RecursionError as e:\n    print(e)\n\
         try:\n    print(a < b)\nexcept RecursionError as e:\n    print(e)\n\
         c = []\nfor i in range(50):\n    c = [c]\nprint(repr(c)[:4], c == c[:])\n",
    );
    assert_eq!(
        out,
        [
            "maximum recursion depth exceeded while getting the repr of an object",
            "maximum recursion depth exceeded in comparison",
            "maximum recursion depth exceeded in comparison",
            "[[[[ True",
        ]
    );
}

#[test]
fn hashing_a_tuple_nested_past_the_limit_raises_recursion_error() {
    // CPython hashes a tuple as deep as its C stack allows (this one
    // crashes it with a segmentation fault); here the limit is
    // `nesting::DEPTH_LIMIT`, 200 levels, and past it the hash raises.
    let out = printed(
        "a = ()\nfor i in range(300000):\n    a = (a,)\n\
         try:\n    print(hash(a))\nexcept RecursionError as e:\n    print(e)\n\
         b = ()\nfor i in range(150):\n    b = (b,)\nprint({b: 1}[b])\n",
    );
    assert_eq!(out, ["maximum recursion depth exceeded", "1"]);
}

#[test]
fn callbacks_that_fire_deferreds_in_turn_stop_with_recursion_error() {
    // Each callback fires the next Deferred from inside its own chain: a
    // level of Rust recursion each (CPython: a few Python frames each).
    let out = printed(
        "from twisted.internet import defer\n\
         ds = [defer.Deferred() for _ in range(5000)]\n\
         for a, b in zip(ds, ds[1:]):\n    a.addCallback(lambda x, b=b: b.callback(x + 1))\n\
         ds[-1].addCallback(print)\nds[0].callback(0)\nprint('end')\n",
    );
    assert!(out.iter().any(|l| l.ends_with("RecursionError: maximum recursion depth exceeded")), "{out:?}");
    assert!(out.iter().any(|l| l == "end"), "{out:?}");
}

#[test]
fn a_long_chain_of_chained_deferreds_is_a_recursion_error_not_a_crash() {
    // Each `chainDeferred` link fires the next Deferred inside the last one's
    // callback (its `callback`, a built-in, added as a callback): Twisted
    // recurses, and so does the simulator. 300 links overflowed a debug
    // twine-sim's 8 MB stack (the process aborted), as the built-in's calls
    // were not counted as levels; CPython runs out of recursion at about 330
    // links and logs the RecursionError as an unhandled error in a Deferred.
    let out = printed(
        "from twisted.internet import defer\n\
         ds = [defer.Deferred() for i in range(2000)]\n\
         for a, b in zip(ds, ds[1:]):\n    a.chainDeferred(b)\n\
         ds[-1].addCallback(print)\nds[0].callback('end')\nprint('after')\n",
    );
    assert_eq!(out.first().map(String::as_str), Some("after"), "{out:?}");
    assert!(out.contains(&"Unhandled error in Deferred:".to_string()), "{out:?}");
    assert!(out.iter().any(|l| l.ends_with("RecursionError: maximum recursion depth exceeded")), "{out:?}");
    assert!(!out.contains(&"end".to_string()), "{out:?}");
    let short = printed(
        "from twisted.internet import defer\n\
         ds = [defer.Deferred() for i in range(20)]\n\
         for a, b in zip(ds, ds[1:]):\n    a.chainDeferred(b)\n\
         ds[-1].addCallback(print)\nds[0].callback('end')\n",
    );
    assert_eq!(short, ["end"]);
}

#[test]
fn lazy_iterators_nested_past_the_limit_raise_recursion_error() {
    // `x = zip(x)` 100,000 times: asking the outer one for a value asks each
    // in turn, and dropping the chain dropped each in turn; both overflowed
    // the stack. CPython 3.11 has no limit on this C recursion and prints 2.
    let err = error("x = [1, 2]\nfor i in range(100000):\n    x = zip(x)\nprint(len(list(x)))\n");
    assert!(
        err.starts_with("test.py:4:") && err.ends_with("RecursionError: maximum recursion depth exceeded"),
        "{err}"
    );
    let err = error(
        "import itertools\nx = iter([1, 2])\nfor i in range(100000):\n    x = itertools.chain(x)\nprint(list(x))\n",
    );
    assert!(err.ends_with("RecursionError: maximum recursion depth exceeded"), "{err}");
    // Shallow ones work, and a deep chain nobody asks is freed quietly.
    assert_eq!(printed("x = [1, 2]\nfor i in range(20):\n    x = zip(x)\nprint(len(list(x)))\n"), ["2"]);
    assert_eq!(printed("x = [1, 2]\nfor i in range(100000):\n    x = zip(x)\nprint('built')\n"), ["built"]);
}
