//! Twisted's report of a Deferred that was dropped holding a failure nobody
//! handled: CPython collects it as soon as the last reference goes (or, for
//! a failure that was raised, whose traceback makes a reference cycle, when
//! its collector runs: at exit here), and Twisted logs
//!
//! ```text
//! Unhandled error in Deferred:
//!
//! Traceback (most recent call last):
//!   File "experiment.py", line 4, in boom
//!     raise ValueError("boom %s" % x)
//! builtins.ValueError: boom 1
//!
//! ```
//!
//! twine-core records the drop as an `unhandled_error` trace event with the
//! failure's text; the frames the exception left on its way out are kept
//! here, by that text, when a callback or a thread's job raises it.

use std::rc::Rc;

use twine_core::trace::TraceEvent;

use super::errors::Exc;
use super::twisted::exc_text_plain;
use super::value::Value;
use super::Runtime;
use crate::engine::interp::REACTOR_THREAD;
use crate::engine::shared::Shared;

impl Runtime {
    /// Keeps the frames `exc` left, for the report should it go unhandled.
    pub(crate) fn remember_traceback(&self, exc: &Exc) {
        self.remember_frames(exc, Vec::new());
    }

    /// [`remember_traceback`](Self::remember_traceback), with the frames
    /// the exception carried before it was raised again (`g.throw` of a
    /// failure's exception: Twisted throws it with its traceback) after them.
    pub(crate) fn remember_frames(&self, exc: &Exc, carried: Vec<String>) {
        let text = exc_text_plain(&exc.value);
        // Twisted's `Failure.printTraceback`: each frame's line under it,
        // with no carets.
        let mut frames: Vec<String> = exc
            .tb
            .iter()
            .rev()
            .flat_map(|t| std::iter::once(t.heading()).chain(t.source_line().map(|l| format!("    {l}"))))
            .collect();
        frames.extend(carried);
        let name = exc.value.type_name().to_string();
        // Named by its class's module, which text alone cannot tell for a
        // class the library's Python defines (`twisted.internet.task.TaskDone`).
        let module = match &exc.value {
            Value::Instance(i) if i.class.attrs.borrow().contains_key("__module__") => Some(i.class.module()),
            _ => None,
        };
        let qualified = match module.as_deref() {
            Some(module) if module != "builtins" => with_message(format!("{module}.{text}")),
            _ => self.qualified(&text),
        };
        let mut tracebacks = self.tracebacks.borrow_mut();
        // A failure that crossed the pool is known by its class name only.
        tracebacks.insert(name, (qualified.clone(), frames.clone()));
        tracebacks.insert(text, (qualified, frames));
    }

    /// The lines Twisted logs for a Deferred dropped with the failure `message`
    /// (twine-core's text of it: `Error: ValueError: boom`).
    pub(crate) fn unhandled_report(&self, message: &str) -> Vec<String> {
        let mut out = vec!["Unhandled error in Deferred:".to_owned(), String::new()];
        if let Some(text) = message.strip_prefix("Error: ") {
            out.extend(self.traceback_lines(text));
        } else if message.starts_with("Cancelled: ") {
            // `d.cancel()` of a Deferred with no canceller: Twisted's
            // CancelledError, with no message and no frames.
            out.push("Traceback (most recent call last):".to_owned());
            out.push(format!("Failure: {}", self.qualified("CancelledError: ")));
        } else {
            // A timeout: no Python exception, no frames.
            out.push("Traceback (most recent call last):".to_owned());
            out.push(format!("Failure: {message}"));
        }
        // The log entry's own line end after the traceback's.
        out.push(String::new());
        out
    }

    /// `Traceback (most recent call last):`, the frames the exception `text`
    /// (`ValueError: boom`) left in the program, and its qualified name and
    /// message: what Twisted prints of a Failure, less its own frames.
    pub(crate) fn traceback_lines(&self, text: &str) -> Vec<String> {
        let mut out = vec!["Traceback (most recent call last):".to_owned()];
        match self.tracebacks.borrow().get(text) {
            Some((qualified, frames)) if !frames.is_empty() => {
                out.extend(frames.iter().cloned());
                out.push(qualified.clone());
            }
            Some((qualified, _)) => out.push(format!("Failure: {qualified}")),
            None => out.push(format!("Failure: {}", self.qualified(text))),
        }
        out
    }

    /// Whether the failure `message` (twine-core's text of it) was raised
    /// in the program, so that its traceback has frames.
    fn has_frames(&self, message: &str) -> bool {
        let Some(text) = message.strip_prefix("Error: ") else { return false };
        self.tracebacks.borrow().get(text).is_some_and(|(_, frames)| !frames.is_empty())
    }

    /// `builtins.ValueError: boom`, as a Failure names its exception's class
    /// (a built-in's or Twisted's by its name, any other as the program's).
    fn qualified(&self, text: &str) -> String {
        let name = text.split(':').next().unwrap_or(text);
        let module = super::errors::module(name).unwrap_or("__main__");
        with_message(format!("{module}.{text}"))
    }
}

/// Twisted's `qual(type): message`, whose `: ` stays when the message is
/// empty (`builtins.ValueError: `).
fn with_message(text: String) -> String {
    if text.contains(':') {
        text
    } else {
        text + ": "
    }
}

/// Prints the report for every Deferred dropped with an unhandled failure
/// since the last look at the trace.
pub(crate) fn report_dropped(sh: &Rc<Shared>, rt: &Runtime) {
    let messages: Vec<String> = {
        let store = sh.store.borrow();
        let from = rt.unhandled_seen.replace(store.records.len()).min(store.records.len());
        store.records[from..]
            .iter()
            .filter_map(|r| match &r.event {
                TraceEvent::UnhandledError { message, .. } => Some(message.clone()),
                _ => None,
            })
            .collect()
    };
    for message in messages {
        // A failure whose exception was raised holds its traceback, and the
        // traceback's frames hold the Deferred back: a reference cycle,
        // which CPython's collector frees later, usually at exit. One made
        // without raising (`defer.fail(ValueError())`, a cancellation) goes
        // as soon as its last reference does.
        if rt.has_frames(&message) {
            rt.cycle_reports.borrow_mut().push(message);
            continue;
        }
        for line in rt.unhandled_report(&message) {
            sh.say_err(REACTOR_THREAD, line);
        }
    }
}

/// The program ended: CPython clears the module's variables at exit, and a
/// Deferred only they held, with a failure nobody handled, is reported then
/// (after everything the program printed). Variables go in name order, so
/// the reports come in an order that does not depend on a hash. Plain
/// values (numbers, strings) stay: they hold no Deferred, and the run's
/// report reads the final counters from them.
pub(crate) fn collect_at_exit(sh: &Rc<Shared>, rt: &Runtime) {
    use super::value::Value;
    let held: Vec<_> = {
        let mut vars = rt.globals.vars.borrow_mut();
        let names: Vec<_> = vars
            .iter()
            .filter(|(_, v)| {
                !matches!(
                    v,
                    Value::None | Value::Bool(_) | Value::Int(_) | Value::Float(_) | Value::Str(_) | Value::Bytes(_)
                )
            })
            .map(|(k, _)| Rc::clone(k))
            .collect();
        names.into_iter().filter_map(|k| vars.remove(&k).map(|v| (k, v))).collect()
    };
    for var in crate::order::sorted_by(held, &mut |a, b| a.0.cmp(&b.0)) {
        drop(var);
    }
    rt.listening.borrow_mut().clear();
    report_dropped(sh, rt);
    report_cycles(sh, rt);
}

/// The collector's pass at exit: the Deferreds dropped with a raised
/// failure (see [`report_dropped`]), in the order they were dropped. Also
/// when the run ends otherwise (its duration, an error): a real program
/// running that long would have had them collected by then.
/// (And at `gc.collect()`.) How many it reported.
pub(crate) fn report_cycles(sh: &Rc<Shared>, rt: &Runtime) -> usize {
    let cycles = std::mem::take(&mut *rt.cycle_reports.borrow_mut());
    for message in &cycles {
        for line in rt.unhandled_report(message) {
            sh.say_err(REACTOR_THREAD, line);
        }
    }
    cycles.len()
}
