//! Who hears about Deferreds: the layer above lends itself here.
//!
//! Deferreds belong to no reactor (Twisted's `defer.py` knows only
//! `IReactorTime`), yet their trace events and their unhandled errors must
//! reach one. So this layer names what it needs, [`DeferObserver`], and the
//! reactor registers itself as the thread's observer when it becomes
//! current. Deferreds never name the reactor.

use std::cell::{Cell, RefCell};
use std::rc::Weak;

use super::Failure;
use crate::trace::TraceEvent;

/// What Deferreds report to: implemented by the reactor.
pub(crate) trait DeferObserver {
    /// Records a trace event (only called while tracing is on).
    fn trace(&self, event: TraceEvent);
    /// A Deferred was dropped holding a failure nobody handled.
    fn unhandled_error(&self, deferred: u64, failure: &Failure);
}

thread_local! {
    static OBSERVER: RefCell<Option<Weak<dyn DeferObserver>>> = const { RefCell::new(None) };
    /// Whether the observer traces: checked before building an event, so
    /// an untraced Deferred costs one thread-local read per event.
    static TRACING: Cell<bool> = const { Cell::new(false) };
}

/// Makes `observer` the thread's, tracing or not. The reactor calls this
/// whenever it becomes current or its trace sink changes.
pub(crate) fn set_observer(observer: Weak<dyn DeferObserver>, tracing: bool) {
    OBSERVER.with(|current| {
        let mut current = current.borrow_mut();
        let same = current.as_ref().is_some_and(|c| std::ptr::addr_eq(c.as_ptr(), observer.as_ptr()));
        if !same {
            *current = Some(observer);
        }
    });
    TRACING.with(|t| t.set(tracing));
}

fn observer() -> Option<std::rc::Rc<dyn DeferObserver>> {
    OBSERVER.with(|current| current.borrow().as_ref().and_then(Weak::upgrade))
}

/// Traces `event` through the thread's observer, building it only when
/// tracing is on. Inlined: untraced, a Deferred's events cost one
/// thread-local read each, not a call.
#[inline]
pub(crate) fn emit(event: impl FnOnce() -> TraceEvent) {
    if TRACING.with(Cell::get) {
        trace(event());
    }
}

#[inline(never)]
fn trace(event: TraceEvent) {
    if let Some(observer) = observer() {
        observer.trace(event);
    }
}

/// Reports an unhandled failure to the thread's observer, if there is one.
pub(crate) fn unhandled_error(deferred: u64, failure: &Failure) {
    if let Some(observer) = observer() {
        observer.unhandled_error(deferred, failure);
    }
}
