//! Python's `queue` module: `Queue`, `LifoQueue`, `PriorityQueue`,
//! `SimpleQueue`, `Empty` and `Full`.
//!
//! CPython's `queue.py` keeps the items behind one mutex with three
//! Conditions (`not_empty`, `not_full`, `all_tasks_done`). Here the items
//! live in the native object and each Condition is a [`Waiters`] line, as
//! `threading.Semaphore`'s is (`builtins::new_waiter`): a `get` on an empty
//! queue waits on an engine lock until a `put` notifies it, then runs again
//! (`Out::Retry`) and may find the item taken by a faster thread, exactly
//! as CPython's `while not self._qsize(): self.not_empty.wait()` does. So
//! the trace shows who waited for whom, and the explorer sees each wake.
//!
//! With a timeout (`get(timeout=1)`) the wait has a deadline (`timed`):
//! the call runs again when it ends and, the queue still empty (or full)
//! and no time left, raises `Empty` (`Full`), as CPython's `remaining <= 0`.
//!
//! The presets use none of it: the light module leaves it out ([`HERE`]).

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;

use super::builtins::{int_arg, kw, new_waiter, notify};
use super::value::{Native, Value, Waiters};
use super::vm::{AfterWake, Kw, Out, PyResult, Vm};
use crate::engine::interp::Halt;

/// Whether this build has the module: the full module's only (the light
/// one runs the presets, compiled ahead of time, and they do not use it).
pub(crate) const HERE: bool = super::compile::PARSER;

/// Which item `get` takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Order {
    /// `Queue`: the oldest.
    Fifo,
    /// `LifoQueue`: the newest.
    Lifo,
    /// `PriorityQueue`: the smallest; the items are a heap, kept by
    /// `heapq`'s functions as CPython's `_put` and `_get` keep it.
    Priority,
    /// `SimpleQueue`: the oldest, with no bound and no task tracking
    /// (CPython's `_queue.SimpleQueue`, written in C).
    Simple,
}

/// A `queue.Queue` (or `LifoQueue`, `PriorityQueue`).
#[derive(Debug)]
pub(crate) struct QueueObj {
    order: Order,
    /// The most items it holds; 0 or less: no limit (CPython's `maxsize`).
    maxsize: i64,
    items: RefCell<VecDeque<Value>>,
    /// Items put and not yet marked `task_done` (`join` waits for 0).
    unfinished: Cell<i64>,
    not_empty: RefCell<Waiters>,
    not_full: RefCell<Waiters>,
    all_tasks_done: RefCell<Waiters>,
}

/// The module's names.
pub(crate) fn attrs(rt: &super::Runtime) -> Vec<(&'static str, Value)> {
    vec![
        ("Queue", Value::builtin("queue.Queue", None)),
        ("LifoQueue", Value::builtin("queue.LifoQueue", None)),
        ("PriorityQueue", Value::builtin("queue.PriorityQueue", None)),
        ("SimpleQueue", Value::builtin("queue.SimpleQueue", None)),
        ("Empty", Value::Class(rt.exc_class("Empty"))),
        ("Full", Value::Class(rt.exc_class("Full"))),
    ]
}

/// `queue.Queue(maxsize=0)`, `queue.LifoQueue(maxsize=0)`, `queue.PriorityQueue(maxsize=0)`
/// and `queue.SimpleQueue()`.
pub(crate) fn make(vm: &mut Vm<'_>, name: &str, args: &[Value], kwargs: &Kw) -> PyResult<Value> {
    if name == "queue.SimpleQueue" {
        if !args.is_empty() {
            return Err(vm.type_error("SimpleQueue() takes no positional arguments"));
        }
        if !kwargs.is_empty() {
            return Err(vm.type_error("SimpleQueue() takes no keyword arguments"));
        }
    }
    let maxsize = match args.first().cloned().or_else(|| kw(kwargs, "maxsize")) {
        Some(n) => int_arg(vm, &n)?,
        None => 0,
    };
    Ok(Value::Native(Rc::new(Native::Queue(Rc::new(QueueObj {
        order: match name {
            "queue.LifoQueue" => Order::Lifo,
            "queue.PriorityQueue" => Order::Priority,
            "queue.SimpleQueue" => Order::Simple,
            _ => Order::Fifo,
        },
        maxsize,
        items: RefCell::default(),
        unfinished: Cell::new(0),
        not_empty: RefCell::default(),
        not_full: RefCell::default(),
        all_tasks_done: RefCell::default(),
    })))))
}

/// Its methods.
const METHODS: &[&str] = &["put", "get", "put_nowait", "get_nowait", "qsize", "empty", "full", "task_done", "join"];

/// A `SimpleQueue`'s methods.
const SIMPLE_METHODS: &[&str] = &["put", "get", "put_nowait", "get_nowait", "qsize", "empty"];

impl QueueObj {
    /// Its methods' names.
    pub(crate) fn methods(&self) -> &'static [&'static str] {
        if self.order == Order::Simple {
            SIMPLE_METHODS
        } else {
            METHODS
        }
    }

    fn is_full(&self) -> bool {
        self.maxsize > 0 && self.items.borrow().len() as i64 >= self.maxsize
    }

    /// CPython's name for its type.
    pub(crate) fn type_name(&self) -> &'static str {
        match self.order {
            Order::Fifo => "Queue",
            Order::Lifo => "LifoQueue",
            Order::Priority => "PriorityQueue",
            Order::Simple => "SimpleQueue",
        }
    }

    /// Adds `item` where its order wants it.
    fn push(&self, vm: &mut Vm<'_>, item: Value) -> PyResult<()> {
        if self.order == Order::Priority {
            return self.heap(vm, "heappush", Some(item)).map(drop);
        }
        self.items.borrow_mut().push_back(item);
        Ok(())
    }

    /// Takes the item its order gives next, if any.
    fn pop(&self, vm: &mut Vm<'_>) -> PyResult<Option<Value>> {
        Ok(match self.order {
            Order::Fifo | Order::Simple => self.items.borrow_mut().pop_front(),
            Order::Lifo => self.items.borrow_mut().pop_back(),
            Order::Priority if self.items.borrow().is_empty() => None,
            Order::Priority => Some(self.heap(vm, "heappop", None)?),
        })
    }

    /// `heapq.OP(items, *item)` over the items, as a list for the call.
    fn heap(&self, vm: &mut Vm<'_>, op: &str, item: Option<Value>) -> PyResult<Value> {
        let list = Value::list(self.items.borrow_mut().drain(..).collect());
        let args: Vec<Value> = std::iter::once(list.clone()).chain(item).collect();
        let out = super::heapq::call(vm, op, &args);
        if let Value::List(l) = &list {
            self.items.borrow_mut().extend(l.borrow().0.iter().cloned());
        }
        out
    }
}

/// How `get`/`put` wait: `block` (first after the item for `put`), and
/// its timeout in seconds, if any (CPython ignores it when not blocking).
#[derive(Clone, Copy)]
struct Blocking {
    block: bool,
    timeout: Option<f64>,
}

fn blocking(vm: &Vm<'_>, args: &[Value], kwargs: &Kw, at: usize) -> PyResult<Blocking> {
    let block = args.get(at).cloned().or_else(|| kw(kwargs, "block")).is_none_or(|b| b.truthy());
    let timeout = match super::timed::timeout_arg(args, kwargs, at + 1) {
        Some(t) if block => Some(super::timed::seconds(vm, &t, super::timed::LESS)?),
        _ => None,
    };
    if timeout.is_some_and(|t| t < 0.0) {
        return Err(vm.rt.error("ValueError", "'timeout' must be a non-negative number"));
    }
    Ok(Blocking { block, timeout })
}

/// Waits on `waiters` and runs the call again when notified (or, with a
/// timeout, at its deadline); with no time left raises `Empty` or `Full`.
fn wait(vm: &mut Vm<'_>, how: Blocking, waiters: &RefCell<Waiters>, name: &str) -> PyResult<Out> {
    let woke = vm.timed.take();
    if let Some(secs) = how.timeout {
        let deadline = woke.map_or_else(|| super::timed::deadline(vm, secs), |w| w.deadline);
        if woke.is_some_and(|w| w.timed_out) || deadline <= vm.sh.now().as_nanos() {
            let exc = if name == "queue.not_empty" { "Empty" } else { "Full" };
            return Err(vm.rt.error(exc, ""));
        }
        return Ok(super::timed::wait_line(vm, waiters, name, deadline));
    }
    let waiter = new_waiter(vm, name, waiters);
    vm.after_wake = Some(AfterWake::Release(waiter));
    Ok(Out::Retry(Halt::LockWait(waiter, super::vm::no_steps())))
}

/// A timed `get`/`put` running again after its wait: a waiter that timed
/// out leaves its line before the call looks at the queue again.
fn woken(vm: &mut Vm<'_>, how: Blocking, waiters: &RefCell<Waiters>) {
    if how.timeout.is_some() && vm.timed.is_some_and(|w| w.timed_out) {
        super::timed::leave_line(vm, waiters);
    }
}

/// Calls method `name` of `q`.
pub(crate) fn method(vm: &mut Vm<'_>, q: &QueueObj, name: &str, args: Vec<Value>, kwargs: Kw) -> PyResult<Out> {
    let simple = q.order == Order::Simple;
    let value = match name {
        "put" | "put_nowait" => {
            // A `SimpleQueue` is never full: its `put` ignores `block` and `timeout`.
            let how = if name == "put" && !simple {
                blocking(vm, &args, &kwargs, 1)?
            } else {
                Blocking { block: false, timeout: None }
            };
            woken(vm, how, &q.not_full);
            let Some(item) = args.into_iter().next().or_else(|| kw(&kwargs, "item")) else {
                if simple {
                    return Err(vm.type_error(&format!("{name}() missing required argument 'item' (pos 1)")));
                }
                return Err(vm.type_error(&format!(
                    "{}.{name}() missing 1 required positional argument: 'item'",
                    q.type_name()
                )));
            };
            if q.is_full() {
                if !how.block {
                    return Err(vm.rt.error("Full", ""));
                }
                return wait(vm, how, &q.not_full, "queue.not_full");
            }
            vm.timed = None;
            q.push(vm, item)?;
            q.unfinished.set(q.unfinished.get() + 1);
            notify(vm, &q.not_empty, 1);
            Value::None
        }
        "get" | "get_nowait" => {
            let how =
                if name == "get" { blocking(vm, &args, &kwargs, 0)? } else { Blocking { block: false, timeout: None } };
            woken(vm, how, &q.not_empty);
            let Some(item) = q.pop(vm)? else {
                if !how.block {
                    return Err(vm.rt.error("Empty", ""));
                }
                return wait(vm, how, &q.not_empty, "queue.not_empty");
            };
            vm.timed = None;
            notify(vm, &q.not_full, 1);
            item
        }
        "qsize" => Value::Int(q.items.borrow().len() as i64),
        "empty" => Value::Bool(q.items.borrow().is_empty()),
        "full" => Value::Bool(q.is_full()),
        "task_done" => {
            let left = q.unfinished.get() - 1;
            if left < 0 {
                return Err(vm.rt.error("ValueError", "task_done() called too many times"));
            }
            q.unfinished.set(left);
            if left == 0 {
                let all = q.all_tasks_done.borrow().queue.len() as i64;
                notify(vm, &q.all_tasks_done, all);
            }
            Value::None
        }
        "join" => {
            if q.unfinished.get() > 0 {
                let how = Blocking { block: true, timeout: None };
                return wait(vm, how, &q.all_tasks_done, "queue.all_tasks_done");
            }
            Value::None
        }
        _ => {
            return Err(vm.rt.error("AttributeError", &format!("'{}' object has no attribute '{name}'", q.type_name())))
        }
    };
    Ok(Out::Value(value))
}
