//! Deeply nested programs and values: each runs on a thread with a small
//! stack standing for the browser's 1 MB wasm stack, and must end as in
//! CPython (which prints "built" for the programs that build deep values)
//! or with a compile error naming where to split it, instead of overflowing
//! the stack.

use twine_web::{PythonScenario, Scenario, Simulation};

/// The stack of the threads that compile deeply nested programs: 1 MB, as
/// wasm's, in an optimized build (`cargo test --release`). Unoptimized
/// frames are several times larger (compiling a 1000-deep expression
/// overflowed 4 MB there), so a debug build gets 16 MB; the depths that fit
/// the page are measured in wasm itself (see compile::MAX_NESTING). The
/// values' tests run on 1 MB in every build.
const COMPILE_STACK: usize = if cfg!(debug_assertions) { 16 << 20 } else { 1 << 20 };

/// Runs `source` to its end and drops everything, on a thread with a 1 MB
/// stack; returns its output lines, or the compile error's text.
fn run_small_stack(source: &'static str) -> Result<Vec<String>, String> {
    run_on_stack(source, 1 << 20)
}

/// As [`run_small_stack`], on a [`COMPILE_STACK`]-byte stack.
fn compile_and_run(source: &'static str) -> Result<Vec<String>, String> {
    run_on_stack(source, COMPILE_STACK)
}

fn run_on_stack(source: &'static str, stack: usize) -> Result<Vec<String>, String> {
    std::thread::Builder::new()
        .stack_size(stack)
        .spawn(move || {
            let scenario = Scenario::from_python("test.py", source).map_err(|e| e.to_string())?;
            let mut sim = Simulation::new(&scenario, None);
            sim.run();
            if let Some(e) = sim.python_error() {
                return Err(e.to_string());
            }
            let out = sim.metrics().output.iter().map(|l| l.text.clone()).collect();
            drop(sim);
            Ok(out)
        })
        .unwrap()
        .join()
        .expect("the thread ends without overflowing its stack")
}

fn built(source: &'static str) {
    assert_eq!(run_small_stack(source), Ok(vec!["built".to_string()]));
}

#[test]
fn a_long_linked_list_of_instances_is_freed() {
    built(
        "class Node:\n    def __init__(self, nxt):\n        self.nxt = nxt\nhead = None\n\
         for i in range(300000):\n    head = Node(head)\nprint(\"built\")\n",
    );
}

#[test]
fn deeply_nested_lists_are_freed() {
    built("a = []\nfor i in range(200000):\n    a = [a]\nprint(\"built\")\n");
}

#[test]
fn deeply_nested_tuples_are_freed() {
    built("a = ()\nfor i in range(200000):\n    a = (a,)\nprint(\"built\")\n");
}

#[test]
fn deeply_nested_dicts_are_freed() {
    built("d = {}\nfor i in range(200000):\n    d = {1: d}\nprint(\"built\")\n");
}

#[test]
fn sets_of_tuples_nested_through_instances_are_freed() {
    built(
        "class Box:\n    def __init__(self, v):\n        self.v = v\ns = set()\n\
         for i in range(200000):\n    s = {(i, Box(s))}\nprint(\"built\")\n",
    );
}

#[test]
fn a_chain_of_functions_through_their_defaults_is_freed() {
    built("a = None\nfor i in range(200000):\n    a = lambda a=a: a\nprint(\"built\")\n");
}

#[test]
fn a_deep_structure_freed_mid_program_leaves_the_program_running() {
    // Freed by the assignment, not at the end: the rest still runs and sees
    // its values intact (the deferred children were only the old chain's).
    let out = run_small_stack(
        "keep = [1, (2, 3), {4: 5}]\na = []\nfor i in range(200000):\n    a = [a, keep]\n\
         a = None\nprint(keep, len(keep))\n",
    );
    assert_eq!(out, Ok(vec!["[1, (2, 3), {4: 5}] 3".to_string()]));
}

fn plus_chain(n: usize) -> String {
    format!("x = 1{}\nprint(\"built\")\n", " + 1".repeat(n))
}

/// Programs from `make`, leaked to be `'static` for the test thread.
fn leak(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}

#[test]
fn an_expression_nested_too_deeply_is_refused_where_it_passes_the_limit() {
    // The statement (3 levels, see compile::STMT_LEVELS), 796 additions and
    // the last constant: 800 levels, which compile and run; one more
    // addition does not.
    assert_eq!(compile_and_run(leak(plus_chain(796))), Ok(vec!["built".to_string()]));
    let expected = "test.py:1:5: expression nested too deeply (more than 800 levels): \
                    split it into smaller expressions with intermediate variables";
    assert_eq!(compile_and_run(leak(plus_chain(797))), Err(expected.to_string()));
    assert_eq!(compile_and_run(leak(plus_chain(50_000))), Err(expected.to_string()));
}

#[test]
fn unary_minuses_nested_too_deeply_are_refused_at_the_first_one_too_many() {
    // CPython: MemoryError. The statement is levels 1-3, the k-th minus
    // (column 4 + k) level k + 3: the 798th, column 802, is one too many.
    let text = format!("x = 2\ny = {}1\n", "-".repeat(20_000));
    let err = compile_and_run(leak(text)).unwrap_err();
    assert!(err.starts_with("test.py:2:802: expression nested too deeply"), "{err}");
}

#[test]
fn nested_lambdas_count_their_bodies_as_deeper_levels() {
    // Each lambda: its expression and 3 levels for its body (see
    // compile::BODY_LEVELS); with the statement's 3 and the constant's 1,
    // 199 fit in 800 levels and 200 do not.
    let lambdas = |n: usize| format!("f = {}7\nprint({}f{})\n", "lambda: ".repeat(n), "", "()".repeat(n));
    assert_eq!(compile_and_run(leak(lambdas(199))), Ok(vec!["7".to_string()]));
    let err = compile_and_run(leak(lambdas(200))).unwrap_err();
    assert!(err.starts_with("test.py:1:"), "{err}");
    assert!(err.contains("expression nested too deeply (more than 800 levels)"), "{err}");
}

#[test]
fn blocks_nested_too_deeply_are_refused() {
    // `try:` blocks (no expression of their own), 3 levels each: the 267th,
    // on line 267 after 266 spaces, is one too many.
    let mut text = String::new();
    for depth in 0..1100 {
        text.push_str(&format!("{}try:\n", " ".repeat(depth)));
    }
    text.push_str(&format!("{}pass\n", " ".repeat(1100)));
    for depth in (0..1100).rev() {
        text.push_str(&format!("{0}finally:\n{0} pass\n", " ".repeat(depth)));
    }
    let err = compile_and_run(leak(text)).unwrap_err();
    assert_eq!(
        err,
        "test.py:267:267: blocks nested too deeply (more than 266 levels): move the inner blocks into functions"
    );
}

#[test]
fn reading_the_variants_of_a_deeply_nested_program_does_not_overflow() {
    // The page reads a program's variants without compiling it: the parser
    // takes 50000 nested additions without recursing, and the AST it
    // returns is freed without recursing either.
    let text = leak(format!("VARIANT = twine.variant(a=\"A\")\n{}", plus_chain(50_000)));
    let variants = std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(move || twine_web::python::variants(text))
        .unwrap()
        .join()
        .expect("the thread ends without overflowing its stack");
    assert_eq!(variants, [("a".to_string(), "A".to_string())]);
}
