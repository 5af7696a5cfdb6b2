//! Deeply nested programs and values: each runs on a thread with a 1 MB
//! stack, the browser's wasm stack, and must end as in CPython (which
//! prints "built" for every program here) instead of overflowing the stack.

use twine_web::{PythonScenario, Scenario, Simulation};

/// Runs `source` to its end and drops everything, on a thread with a 1 MB
/// stack; returns its output lines, or the compile error's text.
fn run_small_stack(source: &'static str) -> Result<Vec<String>, String> {
    std::thread::Builder::new()
        .stack_size(1 << 20)
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
