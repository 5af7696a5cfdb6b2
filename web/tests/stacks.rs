//! The stack panel's data: at an event, what each thread of a Python program
//! is in, with the program's own names, and the Deferred a callback or
//! errback runs for.

use twine_web::python::Role;
use twine_web::{presets, PythonScenario, Scenario, Simulation, SourcePos};

fn run(name: &str, variant: Option<&str>) -> Simulation {
    let src = presets::find(name).unwrap().python;
    let mut sim = Simulation::new(&Scenario::from_python_variant("experiment.py", src, variant).unwrap(), None);
    sim.run();
    sim
}

/// The first event with a position in `func`.
fn first_in(sim: &Simulation, func: &str) -> SourcePos {
    sim.positions().into_iter().find(|p| &*p.func == func).unwrap_or_else(|| panic!("no event in {func}"))
}

fn names(sim: &Simulation, index: usize, thread: u32) -> Vec<String> {
    let stacks = sim.python_stacks(index);
    let stack =
        stacks.iter().find(|s| s.thread == thread).unwrap_or_else(|| panic!("no stack for {thread}: {stacks:?}"));
    stack.frames.iter().map(|f| f.func.to_string()).collect()
}

#[test]
fn callbacks_and_errbacks_name_their_deferred() {
    let sim = run("deferred-errback", None);
    let at = |func: &str| {
        let p = first_in(&sim, func);
        let stacks = sim.python_stacks(p.i);
        let frame = stacks.iter().find(|s| s.thread == p.thread).unwrap().frames.last().unwrap().clone();
        assert_eq!(&*frame.func, func);
        frame
    };
    let (parse, recover, save, retry) = (at("parse"), at("recover"), at("save"), at("retry_later"));
    assert_eq!(
        (parse.role, recover.role, save.role, retry.role),
        (Some(Role::Callback), Some(Role::Errback), Some(Role::Callback), Some(Role::Errback))
    );
    // One chain: the Deferred deferToThread returned, by its number in the trace.
    let d = parse.deferred.expect("a Deferred number");
    assert!([recover.deferred, save.deferred, retry.deferred].iter().all(|x| *x == Some(d)));
    let events = sim.events(0, sim.event_count());
    assert!(events.iter().any(|r| r.event == twine_core::trace::TraceEvent::DeferredFired { deferred: d, ok: true }));
    // The job a pool thread runs: no Deferred called it.
    let job = first_in(&sim, "write_to_database");
    assert_ne!(job.thread, 0);
    let stacks = sim.python_stacks(job.i);
    let frames = &stacks.iter().find(|s| s.thread == job.thread).unwrap().frames;
    assert_eq!((frames.len(), frames[0].role, frames[0].deferred), (1, None, None));
}

#[test]
fn a_method_and_the_function_it_calls_outermost_first() {
    let sim = run("echo-blocking", Some("blocking"));
    let p = first_in(&sim, "query_database");
    assert_eq!(names(&sim, p.i, 0), ["Echo.lineReceived", "query_database"]);
    // The caller is at the line of its call.
    let src = presets::find("echo-blocking").unwrap().python;
    let call_line = src.lines().position(|l| l.trim() == "query_database()").unwrap() + 1;
    let stacks = sim.python_stacks(p.i);
    assert_eq!(stacks[0].frames[0].line as usize, call_line);
}

#[test]
fn a_thread_whose_call_returned_is_left_out() {
    let sim = run("echo-blocking", Some("blocking"));
    let p = first_in(&sim, "query_database");
    assert!(sim.python_stacks(p.i).iter().any(|s| s.thread == 0));
    // The turn that ran the call ends: the reactor is in no Python code.
    let events = sim.events(0, sim.event_count());
    let turn_end = (p.i..events.len())
        .find(|&i| matches!(events[i].event, twine_core::trace::TraceEvent::TurnEnd { .. }))
        .expect("the turn's end");
    assert!(sim.python_stacks(turn_end).iter().all(|s| s.thread != 0), "{:?}", sim.python_stacks(turn_end));
    // A JSON scenario has no stacks.
    let mut json = Simulation::new(&presets::find("echo-blocking").unwrap().scenario(None).unwrap(), None);
    json.run();
    assert!(json.python_stacks(100).is_empty());
}
