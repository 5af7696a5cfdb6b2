//! Waiting on many Deferreds: [`DeferredList`] and [`gather_results`].

use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

use super::deferred::Step;
use super::{Deferred, Failure, Outcome};

/// Waits on several Deferreds at once: Twisted's `DeferredList`.
///
/// Build it from the inputs, pick Twisted's options, then take the Deferred
/// of the mode you want:
///
/// | Twisted | twine | fires with |
/// |---|---|---|
/// | `DeferredList(ds)` | `DeferredList::new(ds).into_deferred()` | every result, in input order, once all fired |
/// | `fireOnOneErrback=True` | `.fire_on_one_errback()` | the same, or a `FirstError` failure at the first failure |
/// | `fireOnOneCallback=True` | `.into_first_success()` | the first success and its index, or every failure if all fail |
/// | `consumeErrors=True` | `.consume_errors()` | (failures are taken out of the inputs) |
///
/// The list takes the values it reports: an input's later callbacks see a
/// `ResultConsumed` failure. Failures are copied into the list and left in
/// the inputs, where an input nobody else handles reports them as unhandled
/// when dropped, unless `consume_errors` takes them. Inputs that fire after a
/// fire-on-one list has fired keep their results.
///
/// Cancelling the list's Deferred before it fires cancels every input. The
/// list holds its inputs until it fires, as Twisted's does, so it can cancel
/// inputs nobody else holds; a list over inputs that never fire and that is
/// never cancelled is therefore never freed (cancel what you abandon).
///
/// ```
/// use twine_core::defer::{Deferred, DeferredList, Failure, FailureKind};
///
/// let a = Deferred::<u32>::new();
/// let b = Deferred::<u32>::new();
/// let all = DeferredList::new([a.clone(), b.clone()]).consume_errors().into_deferred();
/// b.errback(Failure::new(FailureKind::Error, "b broke")).unwrap();
/// assert!(!all.has_result()); // waits for every input
/// a.callback(1).unwrap();
/// all.add_callback(|results| {
///     assert_eq!(*results[0].as_ref().unwrap(), 1);
///     assert_eq!(results[1].as_ref().unwrap_err().message(), "b broke");
///     results
/// });
/// ```
pub struct DeferredList<T: 'static> {
    deferreds: Vec<Deferred<T>>,
    fire_on_one_errback: bool,
    consume_errors: bool,
}

impl<T: 'static> fmt::Debug for DeferredList<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeferredList")
            .field("deferreds", &self.deferreds)
            .field("fire_on_one_errback", &self.fire_on_one_errback)
            .field("consume_errors", &self.consume_errors)
            .finish()
    }
}

/// What a [`DeferredList::into_first_success`] Deferred fires with.
///
/// ```
/// use twine_core::defer::{fail, DeferredList, Failure, FailureKind, FirstSuccess};
///
/// let all_down = DeferredList::new([fail::<u8>(Failure::new(FailureKind::ConnectionRefused, "a"))])
///     .consume_errors()
///     .into_first_success();
/// all_down.add_callback(|first| {
///     match &first {
///         FirstSuccess::Success { .. } => unreachable!(),
///         FirstSuccess::AllFailed(failures) => assert_eq!(failures.len(), 1),
///     }
///     first
/// });
/// ```
#[derive(Debug)]
pub enum FirstSuccess<T> {
    /// Input `index` succeeded first, with `value`.
    Success {
        /// Which input.
        index: usize,
        /// Its result.
        value: T,
    },
    /// Every input failed: their failures, in input order.
    AllFailed(Vec<Failure>),
}

impl<T: 'static> DeferredList<T> {
    /// A list over `deferreds`, with Twisted's defaults: wait for all, report
    /// every result, leave failures in the inputs.
    ///
    /// ```
    /// use twine_core::defer::{succeed, DeferredList};
    ///
    /// let list = DeferredList::new(vec![succeed(1), succeed(2)]).into_deferred();
    /// list.add_callback(|r| {
    ///     assert_eq!(r.iter().map(|x| *x.as_ref().unwrap()).collect::<Vec<_>>(), [1, 2]);
    ///     r
    /// });
    /// ```
    pub fn new(deferreds: impl IntoIterator<Item = Deferred<T>>) -> DeferredList<T> {
        DeferredList { deferreds: deferreds.into_iter().collect(), fire_on_one_errback: false, consume_errors: false }
    }

    /// Fail as soon as one input fails, with a `FirstError` failure naming
    /// the input (see [`Failure::index`] and [`Failure::sub_failure`]):
    /// Twisted's `fireOnOneErrback=True`.
    ///
    /// ```
    /// use twine_core::defer::{fail, Deferred, DeferredList, Failure, FailureKind};
    ///
    /// let pending = Deferred::<u8>::new();
    /// let list = DeferredList::new([pending, fail(Failure::new(FailureKind::Error, "nope"))])
    ///     .fire_on_one_errback()
    ///     .consume_errors()
    ///     .into_deferred();
    /// list.add_errback(|f| {
    ///     assert!(f.check(FailureKind::FirstError));
    ///     assert_eq!(f.index(), Some(1));
    ///     assert_eq!(f.sub_failure().unwrap().message(), "nope");
    ///     Vec::new()
    /// });
    /// ```
    pub fn fire_on_one_errback(mut self) -> DeferredList<T> {
        self.fire_on_one_errback = true;
        self
    }

    /// Take failures out of the inputs once the list has seen them, so they
    /// are not reported as unhandled: Twisted's `consumeErrors=True`.
    ///
    /// ```
    /// use twine_core::defer::{Deferred, DeferredList, Failure, FailureKind};
    /// use twine_core::ReactorDriver;
    ///
    /// let reactor = ReactorDriver::new();
    /// {
    ///     let input = Deferred::<u8>::new();
    ///     let _list = DeferredList::new([input.clone()]).consume_errors().into_deferred();
    ///     input.errback(Failure::new(FailureKind::Error, "seen by the list")).unwrap();
    /// }
    /// assert_eq!(reactor.stats().unhandled_errors, 0);
    /// ```
    pub fn consume_errors(mut self) -> DeferredList<T> {
        self.consume_errors = true;
        self
    }

    /// The Deferred of every input's result, in input order, once all have
    /// fired (an empty list fires at once). With
    /// [`fire_on_one_errback`](Self::fire_on_one_errback), it fails at the
    /// first failure instead.
    ///
    /// ```
    /// use twine_core::defer::{fail, succeed, DeferredList, Failure, FailureKind};
    ///
    /// let list = DeferredList::new([succeed(1), fail(Failure::new(FailureKind::Error, "two"))])
    ///     .consume_errors()
    ///     .into_deferred();
    /// list.add_callback(|results| {
    ///     let ok: Vec<bool> = results.iter().map(Result::is_ok).collect();
    ///     assert_eq!(ok, [true, false]);
    ///     results
    /// });
    /// ```
    pub fn into_deferred(self) -> Deferred<Vec<Result<T, Failure>>> {
        let DeferredList { deferreds, fire_on_one_errback, consume_errors } = self;
        let out = cancelling_all(&deferreds);
        let total = deferreds.len();
        let results: Rc<RefCell<Vec<Slot<T>>>> = Rc::new(RefCell::new((0..total).map(|_| None).collect()));
        let remaining = Rc::new(std::cell::Cell::new(total));
        if total == 0 {
            let _ = out.callback(Vec::new());
        }
        for (index, input) in deferreds.iter().enumerate() {
            let (out, results, remaining) = (out.clone(), results.clone(), remaining.clone());
            input.add_link(move |result| {
                if out.called() {
                    // A fire-on-one list already fired: leave the result be.
                    return pass_on(result, consume_errors);
                }
                remaining.set(remaining.get() - 1);
                let step = match result {
                    Ok(value) => {
                        results.borrow_mut()[index] = Some(Ok(value));
                        Step::Consumed
                    }
                    Err(failure) => {
                        results.borrow_mut()[index] = Some(Err(failure.clone()));
                        if fire_on_one_errback {
                            let _ = out.errback(failure.clone().first_error(index));
                        }
                        pass_on(Err(failure), consume_errors)
                    }
                };
                if remaining.get() == 0 && !out.called() {
                    let all = results.borrow_mut().drain(..).map(|r| r.expect("every input reported")).collect();
                    let _ = out.callback(all);
                }
                step
            });
        }
        out
    }

    /// The Deferred of the first input to succeed: Twisted's
    /// `fireOnOneCallback=True`. If every input fails it fires with
    /// [`FirstSuccess::AllFailed`] (an empty list does so at once, where
    /// Twisted would never fire), or, with
    /// [`fire_on_one_errback`](Self::fire_on_one_errback), fails with
    /// `FirstError` at the first failure.
    ///
    /// ```
    /// use twine_core::defer::{Deferred, DeferredList, FirstSuccess};
    ///
    /// let mirrors: Vec<Deferred<&str>> = (0..3).map(|_| Deferred::new()).collect();
    /// let fastest = DeferredList::new(mirrors.clone()).into_first_success();
    /// mirrors[2].callback("mirror 2").unwrap();
    /// fastest.add_callback(|first| {
    ///     assert!(matches!(first, FirstSuccess::Success { index: 2, value: "mirror 2" }));
    ///     first
    /// });
    /// mirrors[0].callback("too late").unwrap(); // keeps its own result
    /// ```
    pub fn into_first_success(self) -> Deferred<FirstSuccess<T>> {
        let DeferredList { deferreds, fire_on_one_errback, consume_errors } = self;
        let out = cancelling_all(&deferreds);
        let total = deferreds.len();
        let failures: Rc<RefCell<Vec<Option<Failure>>>> = Rc::new(RefCell::new(vec![None; total]));
        let remaining = Rc::new(std::cell::Cell::new(total));
        if total == 0 {
            let _ = out.callback(FirstSuccess::AllFailed(Vec::new()));
        }
        for (index, input) in deferreds.iter().enumerate() {
            let (out, failures, remaining) = (out.clone(), failures.clone(), remaining.clone());
            input.add_link(move |result| {
                if out.called() {
                    return pass_on(result, consume_errors);
                }
                remaining.set(remaining.get() - 1);
                match result {
                    Ok(value) => {
                        let _ = out.callback(FirstSuccess::Success { index, value });
                        Step::Consumed
                    }
                    Err(failure) => {
                        failures.borrow_mut()[index] = Some(failure.clone());
                        if fire_on_one_errback {
                            let _ = out.errback(failure.clone().first_error(index));
                        } else if remaining.get() == 0 {
                            let all = failures.borrow_mut().drain(..).map(|f| f.expect("every input failed")).collect();
                            let _ = out.callback(FirstSuccess::AllFailed(all));
                        }
                        pass_on(Err(failure), consume_errors)
                    }
                }
            });
        }
        out
    }
}

/// An input's result once it fired.
type Slot<T> = Option<Result<T, Failure>>;

/// What an input's chain carries on with after the list looked at it.
fn pass_on<T: 'static>(result: Result<T, Failure>, consume_errors: bool) -> Step<T> {
    match result {
        Ok(value) => Step::Outcome(Outcome::Value(value)),
        Err(_) if consume_errors => Step::Consumed,
        Err(failure) => Step::Outcome(Outcome::Failure(failure)),
    }
}

/// The list's own Deferred: cancelling it before it fires cancels every input.
fn cancelling_all<T: 'static, U: 'static>(inputs: &[Deferred<T>]) -> Deferred<U> {
    // Strong, as Twisted's list holds its inputs: a list whose inputs
    // nobody else holds still cancels them. The cycle this makes (each input
    // holds the list's Deferred through its link) ends when the list's
    // Deferred fires, which drops this canceller.
    let inputs: Vec<Deferred<T>> = inputs.to_vec();
    Deferred::with_canceller(move |_| {
        for input in &inputs {
            input.cancel();
        }
    })
}

/// Every result in input order, or the first failure (as `FirstError`) as
/// soon as there is one: Twisted's `gatherResults(consumeErrors=True)`.
/// Cancelling it cancels the inputs.
///
/// ```
/// use twine_core::defer::{gather_results, Deferred, Failure, FailureKind};
///
/// let ds: Vec<Deferred<u32>> = (0..3).map(|_| Deferred::new()).collect();
/// let all = gather_results(ds.clone());
/// ds[1].errback(Failure::new(FailureKind::Error, "disk full")).unwrap();
/// // Fails at once, without waiting for inputs 0 and 2.
/// all.add_errback(|f| {
///     assert_eq!(f.index(), Some(1));
///     assert!(f.sub_failure().unwrap().message().contains("disk full"));
///     Vec::new()
/// });
/// ```
pub fn gather_results<T: 'static>(deferreds: impl IntoIterator<Item = Deferred<T>>) -> Deferred<Vec<T>> {
    gather_results_with(deferreds, true)
}

/// [`gather_results`] with Twisted's `consumeErrors` flag. With `false`
/// (Twisted's default), a failed input keeps its failure, for its own
/// errbacks to handle (or to be reported as unhandled when dropped), and
/// the gathered Deferred gets a copy. [`gather_results`] is `true`, so that
/// one failure is reported once.
///
/// ```
/// use twine_core::defer::{fail, gather_results_with, succeed, Deferred, Failure, FailureKind};
///
/// let broken: Deferred<u8> = fail(Failure::new(FailureKind::Error, "disk full"));
/// let all = gather_results_with([succeed(1), broken.clone()], false);
/// all.add_errback(|f| {
///     assert!(f.check(FailureKind::FirstError));
///     Vec::new()
/// });
/// broken.add_errback(|f| {
///     assert_eq!(f.message(), "disk full"); // still there
///     0
/// });
/// ```
pub fn gather_results_with<T: 'static>(
    deferreds: impl IntoIterator<Item = Deferred<T>>,
    consume_errors: bool,
) -> Deferred<Vec<T>> {
    let list = DeferredList::new(deferreds).fire_on_one_errback();
    let list = if consume_errors { list.consume_errors() } else { list };
    list.into_deferred().try_map(|results| results.into_iter().collect::<Result<Vec<T>, Failure>>())
}

/// Calls `f` and wraps what it returns in a Deferred: a value, a failure,
/// a `Result`, or a Deferred (returned as is). A panic in `f` becomes a
/// `Panicked` failure. Twisted's `maybeDeferred`.
///
/// ```
/// use twine_core::defer::{maybe_deferred, Deferred, Failure, FailureKind};
///
/// let sync = maybe_deferred(|| 5);
/// assert!(sync.has_result());
/// let failed: Deferred<u8> = maybe_deferred(|| -> Result<u8, Failure> { Err(Failure::new(FailureKind::Error, "no")) });
/// let panicked: Deferred<u8> = maybe_deferred(|| -> u8 { panic!("bug") });
/// for d in [failed, panicked] {
///     d.add_errback(|f| {
///         assert!(f.check(FailureKind::Error) || f.check(FailureKind::Panicked));
///         0
///     });
/// }
/// ```
pub fn maybe_deferred<T: 'static, R: super::IntoOutcome<T>>(f: impl FnOnce() -> R) -> Deferred<T> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => match r.into_outcome() {
            Outcome::Value(value) => super::succeed(value),
            Outcome::Failure(failure) => super::fail(failure),
            Outcome::Deferred(d) => d,
        },
        Err(payload) => super::fail(Failure::from_panic(payload)),
    }
}
