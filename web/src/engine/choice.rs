//! Scheduling decisions: the one place where the model has more than one
//! legal next step, and who picks it.
//!
//! The engine asks a [`Chooser`] whenever more than one thread could go
//! next: which ready thread gets a free core, which waiter gets the GIL or
//! a released lock, and (when exploring) which thread stopped before a visible operation
//! performs it next. The options come in the order today's policy ranks
//! them (FIFO run queue; for the GIL, the waiter the seeded OS model picks,
//! then the others, longest waiting first), so option 0 *is* the default
//! policy: a simulation without a chooser takes option 0 everywhere, and
//! one with a chooser that answers 0 runs byte for byte the same.
//!
//! The reactor's own order of ready calls is fixed by Twisted and is not a
//! choice: it is shown on the timeline, never asked for here.
//!
//! ## Exploring
//!
//! A simulation made for exploring ([`Simulation::exploring`]) runs on one
//! core without noise or time slices, and stops every thread before each
//! *visible operation*: an access to a Python global or attribute that more
//! than one thread touches and one writes while threads run (a value nobody
//! changes reads the same in any order), a `with` block's enter and exit, a lock's
//! `acquire` / `release`, a `print`, or a JSON `counter` step. Between
//! visible operations a thread runs alone, since nothing it does there can
//! be seen by another. When no thread can run without performing a
//! visible operation, the chooser picks which one goes ([`ChoiceKind::Visible`]).
//! With the GIL a thread can only be switched away at an eval-breaker point
//! (a call, a backward jump), so a visible operation with none since the
//! thread's previous one runs straight on, as `hits += 1` does in CPython.

use std::cell::{Cell, OnceCell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use twine_core::trace::TraceEvent;
use twine_core::Time;

use super::sched::State;
use super::Simulation;

/// What is being decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChoiceKind {
    /// Which ready thread gets the free core (default: the longest ready).
    Core,
    /// Which waiter gets the GIL its holder let go (default: a seeded pick,
    /// as the OS wakes one waiter or another).
    Gil,
    /// Which waiter a released lock goes to (a fair lock) or wakes to try
    /// again (default: the longest waiting).
    Lock,
    /// Exploring: which thread, stopped before a visible operation, performs it next.
    Visible,
}

/// One scheduling decision.
#[derive(Debug)]
pub struct ChoicePoint<'a> {
    /// What is being decided.
    pub kind: ChoiceKind,
    /// The threads that could go next, by thread number, in the order the
    /// default policy ranks them: option 0 is what happens without a chooser.
    pub options: &'a [u32],
    /// When.
    pub time: Time,
}

/// Picks one of a decision's options: returns an index into
/// [`ChoicePoint::options`] (one out of range counts as 0).
///
/// ```
/// use twine_web::choice::{ChoicePoint, Chooser};
/// use twine_web::{PythonScenario, Scenario, Simulation};
///
/// /// Always the thread that has waited least.
/// struct Newest;
/// impl Chooser for Newest {
///     fn choose(&mut self, point: &ChoicePoint<'_>) -> usize {
///         point.options.len() - 1
///     }
/// }
/// let s = Scenario::from_python("t.py", "print('hi')").unwrap();
/// let mut sim = Simulation::with_chooser(&s, None, Box::new(Newest));
/// sim.run();
/// assert_eq!(sim.metrics().output[0].text, "hi");
/// ```
pub trait Chooser {
    /// The index of the option to take.
    fn choose(&mut self, point: &ChoicePoint<'_>) -> usize;

    /// Whether the run should stop before this decision instead of making
    /// it, for a person to make it in a later run (playing the scheduler).
    /// Asked at every [`ChoiceKind::Visible`] point, even one with a single
    /// option (an explorer may find that point redundant and stop there);
    /// a run stopped here takes no more steps.
    fn waits(&mut self, _point: &ChoicePoint<'_>) -> bool {
        false
    }
}

/// What the Python interpreter and the engine share while exploring: which
/// keys are visible, who touched what, and who is stopped before what.
#[derive(Default)]
pub(crate) struct Watch {
    /// Globals (`name`) and attributes (`.name`) that count as visible.
    pub shared: BTreeSet<Rc<str>>,
    /// The program's GIL: switches only at eval-breaker points.
    pub gil: bool,
    /// Every global and attribute a thread touched: by whom, and whether
    /// it was written while other threads ran.
    touched: RefCell<BTreeMap<Rc<str>, Touched>>,
    /// The thread the interpreter just stopped before a visible operation.
    pub stopped: Cell<Option<u32>>,
    /// The thread allowed to perform its next visible operation.
    pub granted: Cell<Option<u32>>,
    /// Per thread: an eval-breaker point passed since its last visible operation.
    breaker: RefCell<Vec<bool>>,
    /// Per thread: the visible operation it last stopped before, and its
    /// source line, so that a player can be told what each choice does.
    ops: RefCell<BTreeMap<u32, (u32, Rc<str>)>>,
    /// Per thread: what the visible operation it is stopped before touches.
    pending: RefCell<BTreeMap<u32, Access>>,
    /// The visible operations performed since [`Watch::take_performed`]
    /// was last called, in order, with who performed them.
    performed: RefCell<Vec<(u32, Access)>>,
    /// Threads synchronised outside visible operations in this run.
    hidden_sync: Cell<bool>,
}

/// What a visible operation touches: two operations of different threads
/// whose accesses [commute](Access::commutes) give the same result in
/// either order, so an explorer need only try one of the orders.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Access {
    /// Reads a global (`name`), an attribute (`.name`) or a counter (`#3`).
    Read(Rc<str>),
    /// Writes one.
    Write(Rc<str>),
    /// Takes or lets go of the lock with this number (`with lock:`).
    Lock(u32),
    /// Anything else (a `print`, a lock's `acquire` call): ordered
    /// against every other operation, the safe side.
    Other,
}

// What only `explore` asks, which the light module leaves out (see CHOOSES).
#[cfg_attr(not(any(feature = "lab", not(target_arch = "wasm32"))), allow(dead_code))]
impl Access {
    /// Whether the two operations give the same result in either order
    /// (and neither can stop the other from running): different keys,
    /// two reads of one key, or different locks.
    pub fn commutes(&self, other: &Access) -> bool {
        use Access::{Lock, Other, Read, Write};
        match (self, other) {
            (Other, _) | (_, Other) => false,
            (Read(_), Read(_)) => true,
            (Read(a) | Write(a), Read(b) | Write(b)) => a != b,
            (Lock(a), Lock(b)) => a != b,
            (Lock(_), _) | (_, Lock(_)) => true,
        }
    }
}

#[derive(Clone, Copy)]
struct Touched {
    first: u32,
    many: bool,
    written: bool,
}

#[cfg_attr(not(any(feature = "lab", not(target_arch = "wasm32"))), allow(dead_code))]
impl Watch {
    /// A watch for which `shared` keys are visible, under the GIL's rule or not.
    pub fn new(shared: BTreeSet<Rc<str>>, gil: bool) -> Watch {
        Watch { shared, gil, ..Watch::default() }
    }

    /// Notes that `tid` touched `key`; `written` when it wrote it while
    /// more than one thread existed.
    pub fn touch(&self, key: &Rc<str>, tid: u32, written: bool) {
        let mut touched = self.touched.borrow_mut();
        let t = touched.entry(Rc::clone(key)).or_insert(Touched { first: tid, many: false, written: false });
        t.many |= t.first != tid;
        t.written |= written;
    }

    /// The keys that order matters for: touched by more than one thread
    /// and written while threads ran (a value nobody changes reads the
    /// same in every order).
    pub fn touched_by_many(&self) -> BTreeSet<Rc<str>> {
        self.touched.borrow().iter().filter(|(_, t)| t.many && t.written).map(|(k, _)| Rc::clone(k)).collect()
    }

    /// `tid` passed an eval-breaker point (a call, a backward jump).
    pub fn note_breaker(&self, tid: u32) {
        let mut b = self.breaker.borrow_mut();
        if b.len() <= tid as usize {
            b.resize(tid as usize + 1, true);
        }
        b[tid as usize] = true;
    }

    /// Whether `tid` may be switched away before its next visible operation;
    /// that operation then counts as its last one.
    fn switchable(&self, tid: u32) -> bool {
        let mut b = self.breaker.borrow_mut();
        if b.len() <= tid as usize {
            // A thread that has not run yet is at a switch point.
            b.resize(tid as usize + 1, true);
        }
        !self.gil || std::mem::replace(&mut b[tid as usize], false)
    }

    /// Notes that `tid` stopped at `line` before the visible operation `op`
    /// (`write hits`, `enter with`) which touches `access`.
    pub fn note_stop(&self, tid: u32, line: u32, op: impl Into<Rc<str>>, access: Access) {
        self.ops.borrow_mut().insert(tid, (line, op.into()));
        self.note_access(tid, access);
    }

    /// Notes what the visible operation `tid` is stopped before touches.
    pub fn note_access(&self, tid: u32, access: Access) {
        self.pending.borrow_mut().insert(tid, access);
    }

    /// What the visible operation `tid` is stopped before touches
    /// ([`Access::Other`] if it was not told).
    pub fn access_of(&self, tid: u32) -> Access {
        self.pending.borrow().get(&tid).cloned().unwrap_or(Access::Other)
    }

    /// Threads synchronised outside visible operations (see
    /// `Shared::note_hidden_sync`).
    pub fn note_hidden_sync(&self) {
        self.hidden_sync.set(true);
    }

    /// Whether threads synchronised outside visible operations in this run:
    /// then operations that look independent may not commute.
    pub fn saw_hidden_sync(&self) -> bool {
        self.hidden_sync.get()
    }

    /// The visible operations performed since the last call, in order.
    pub fn take_performed(&self) -> Vec<(u32, Access)> {
        std::mem::take(&mut self.performed.borrow_mut())
    }

    /// The line and visible operation `tid` last stopped before, if any.
    pub fn stop_of(&self, tid: u32) -> Option<(u32, Rc<str>)> {
        self.ops.borrow().get(&tid).cloned()
    }

    /// Whether `tid` was granted its next visible operation (taking the grant).
    pub fn take_grant(&self, tid: u32) -> bool {
        if self.granted.get() == Some(tid) {
            self.granted.set(None);
            let access = self.pending.borrow_mut().remove(&tid).unwrap_or(Access::Other);
            self.performed.borrow_mut().push((tid, access));
            true
        } else {
            false
        }
    }
}

/// A chooser the engine and its locks (in `Shared`) both ask.
pub(crate) type SharedChooser = Rc<RefCell<Box<dyn Chooser>>>;

/// Asks `chooser` to pick among `options`: option 0 with a single option,
/// or for an answer out of range.
pub(crate) fn ask(chooser: &SharedChooser, kind: ChoiceKind, options: &[u32], time: Time) -> usize {
    if options.len() < 2 {
        return 0;
    }
    let i = chooser.borrow_mut().choose(&ChoicePoint { kind, options, time });
    if i < options.len() {
        i
    } else {
        0
    }
}

/// Whether this build explores and follows choosers: everywhere but the
/// light browser module (twine-web without `lab` on wasm), which has
/// neither `explore` nor [`Simulation::with_chooser`]. There the hooks
/// ([`Choices::chooser`], [`Choices::watch`] and `Shared`'s) are `None` as
/// a constant, so the optimiser leaves out what only such runs do.
pub(crate) const CHOOSES: bool = cfg!(any(feature = "lab", not(target_arch = "wasm32")));

/// The engine's side: the chooser, and threads stopped before visible operations.
#[derive(Default)]
pub(crate) struct Choices {
    pub chooser: Option<SharedChooser>,
    /// Set when exploring (shared with the interpreter).
    pub watch: OnceCell<Rc<Watch>>,
    /// Threads stopped before a visible operation, off their core, in the order they stopped.
    pub parked: Vec<u32>,
    /// The options of the decision the chooser chose to wait at
    /// ([`Chooser::waits`]): the run stopped there.
    pub waiting: Option<Vec<u32>>,
}

impl Choices {
    /// The chooser, if the simulation has one (never without [`CHOOSES`]).
    pub fn chooser(&self) -> Option<&SharedChooser> {
        if CHOOSES {
            self.chooser.as_ref()
        } else {
            None
        }
    }

    /// The watch, when exploring (never without [`CHOOSES`]).
    pub fn watch(&self) -> Option<&Rc<Watch>> {
        if CHOOSES {
            self.watch.get()
        } else {
            None
        }
    }
}

impl Simulation {
    /// Asks the chooser to pick among `options` (at least one); option 0
    /// without a chooser or with a single option.
    pub(crate) fn choose(&mut self, kind: ChoiceKind, options: &[u32]) -> usize {
        match self.choices.chooser() {
            Some(chooser) => ask(chooser, kind, options, self.now),
            None => 0,
        }
    }

    /// Whether the chooser stops the run before picking among `options`
    /// (a visible decision).
    fn waits_at(&self, options: &[u32]) -> bool {
        let Some(chooser) = self.choices.chooser() else { return false };
        !options.is_empty()
            && chooser.borrow_mut().waits(&ChoicePoint { kind: ChoiceKind::Visible, options, time: self.now })
    }

    /// The options of the decision the run stopped before, if it did
    /// ([`Chooser::waits`]).
    pub fn waiting_choice(&self) -> Option<&[u32]> {
        self.choices.waiting.as_deref()
    }

    /// Takes the next thread off the run queue for free `core`, of those
    /// it may run.
    pub(crate) fn pick_ready(&mut self, core: u32) -> Option<u32> {
        if self.choices.chooser().is_none() {
            let i = self.run_queue.iter().position(|&tid| self.may_run_on(tid, core))?;
            return self.run_queue.remove(i);
        }
        let at: Vec<usize> = (0..self.run_queue.len()).filter(|&i| self.may_run_on(self.run_queue[i], core)).collect();
        let i = match at.len() {
            0 => return None,
            1 => 0,
            _ => {
                let options: Vec<u32> = at.iter().map(|&i| self.run_queue[i]).collect();
                self.choose(ChoiceKind::Core, &options)
            }
        };
        self.run_queue.remove(at[i])
    }

    /// Exploring: `tid` is about to run on. If it stopped before a visible
    /// operation, it waits off its core for the chooser (true), unless no
    /// other thread could go first, or the GIL rules a switch out here.
    pub(crate) fn park_at_visible(&mut self, tid: u32) -> bool {
        let Some(watch) = self.choices.watch().cloned() else { return false };
        if !std::mem::take(&mut self.threads[tid as usize].at_visible) {
            return false;
        }
        let alone = self.run_queue.is_empty()
            && self.choices.parked.is_empty()
            && self.ready_now.is_empty()
            && self.next_time().is_none_or(|t| t > self.now);
        if !watch.switchable(tid) || alone {
            watch.granted.set(Some(tid));
            return false;
        }
        let Some(core) = self.off_core(tid) else { return false };
        self.emit(TraceEvent::ThreadPreempt { thread: tid, core });
        let t = &mut self.threads[tid as usize];
        t.state = State::Ready;
        t.gen += 1;
        self.choices.parked.push(tid);
        self.fill_core(core);
        true
    }

    /// Exploring, when nothing else can happen at this instant: the chooser
    /// picks a stopped thread to perform its visible operation. Returns
    /// false if there was nothing to pick.
    pub(crate) fn unpark(&mut self) -> bool {
        if self.choices.parked.is_empty()
            || self.cores.iter().all(|c| c.thread.is_some())
            || self.next_time().is_some_and(|t| t <= self.now)
        {
            return false;
        }
        let options = self.choices.parked.clone();
        if self.waits_at(&options) {
            self.choices.waiting = Some(options);
            return true;
        }
        let i = self.choose(ChoiceKind::Visible, &options);
        let tid = self.choices.parked.remove(i);
        if let Some(watch) = self.choices.watch() {
            watch.granted.set(Some(tid));
        }
        self.make_ready(tid);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::Access::{self, Lock, Other, Read, Write};

    #[test]
    fn only_independent_operations_commute() {
        let k = |s: &str| -> std::rc::Rc<str> { s.into() };
        let pairs: [(Access, Access, bool); 8] = [
            (Read(k("n")), Read(k("n")), true),
            (Read(k("n")), Write(k("n")), false),
            (Write(k("n")), Write(k("n")), false),
            (Write(k("n")), Write(k("m")), true),
            (Lock(1), Lock(1), false),
            (Lock(1), Lock(2), true),
            (Lock(1), Write(k("n")), true),
            (Other, Read(k("n")), false),
        ];
        for (a, b, commute) in pairs {
            assert_eq!(a.commutes(&b), commute, "{a:?} {b:?}");
            assert_eq!(b.commutes(&a), commute, "{b:?} {a:?}");
        }
    }
}
