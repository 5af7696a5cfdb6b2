//! async/await over Deferreds: `impl Future for Deferred<T>`.
//!
//! Awaiting is all this layer does; running futures takes a reactor, and
//! [`task::ensure_deferred`](crate::task::ensure_deferred) (Twisted's
//! `ensureDeferred` / `inlineCallbacks`) does it a layer up. So that
//! cancelling its Deferred can cancel what the future waits on, the runner
//! asks [`note_awaited`] which Deferreds a poll left pending.

use std::cell::RefCell;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::{Deferred, Failure};

/// Awaiting a Deferred takes its result: `Ok(value)` or `Err(failure)`.
///
/// The result moves out of the chain, as it moves into an
/// `inlineCallbacks` generator; callbacks added afterwards see a
/// `ResultConsumed` failure, and so does a second `.await`. Callbacks added
/// before the `.await` run first, and the future gets what they leave.
///
/// ```
/// use std::time::Duration;
/// use twine_core::defer::Failure;
/// use twine_core::task::{defer_later, ensure_deferred, Clock};
///
/// let clock = Clock::new();
/// let reactor = clock.reactor();
/// let d = ensure_deferred(&reactor, |r| async move {
///     let a: u32 = defer_later(&r, Duration::from_secs(1), || 20).await?;
///     let b: u32 = defer_later(&r, Duration::from_secs(1), || 22).await?;
///     Ok::<_, Failure>(a + b)
/// });
/// clock.advance(Duration::from_secs(1));
/// assert!(!d.has_result());
/// clock.advance(Duration::from_secs(1));
/// d.add_callback(|sum| {
///     assert_eq!(sum, 42);
///     sum
/// });
/// ```
impl<T: 'static> Future for Deferred<T> {
    type Output = Result<T, Failure>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let poll = self.poll_result(cx.waker());
        if poll.is_pending() {
            note_awaiting(&self);
        }
        poll
    }
}

/// A borrowed Deferred awaits as the Deferred itself (a clone of the
/// handle), so that the end of a chain can be awaited as it is built:
/// [`add_callback`](Deferred::add_callback) and its siblings return `&self`,
/// and `d.add_callback(f).await` reads as Twisted's `await d.addCallback(f)`.
///
/// ```
/// use std::time::Duration;
/// use twine_core::defer::Failure;
/// use twine_core::task::{defer_later, ensure_deferred, Clock};
///
/// let clock = Clock::new();
/// let reactor = clock.reactor();
/// let d = ensure_deferred(&reactor, |r| async move {
///     let n = defer_later(&r, Duration::from_secs(1), || 20);
///     Ok::<u32, Failure>(n.add_callback(|n| n + 22).await?)
/// });
/// clock.advance(Duration::from_secs(1));
/// d.add_callback(|n| {
///     assert_eq!(n, 42);
///     n
/// });
/// ```
impl<T: 'static> IntoFuture for &Deferred<T> {
    type Output = Result<T, Failure>;
    type IntoFuture = Deferred<T>;

    fn into_future(self) -> Deferred<T> {
        self.clone()
    }
}

/// Cancels one Deferred a future waits on.
pub(crate) type CancelAwaited = Rc<dyn Fn()>;

thread_local! {
    /// The Deferreds the future being polled on this thread left pending.
    static AWAITED: RefCell<Option<Vec<CancelAwaited>>> = const { RefCell::new(None) };
}

fn note_awaiting<T: 'static>(d: &Deferred<T>) {
    AWAITED.with(|awaited| {
        if let Some(awaited) = awaited.borrow_mut().as_mut() {
            let weak = d.downgrade();
            awaited.push(Rc::new(move || {
                if let Some(d) = weak.upgrade() {
                    d.cancel();
                }
            }));
        }
    });
}

/// Runs `poll` (one poll of a future) and returns, with what it returned,
/// a canceller for each Deferred it awaited and left pending. Nests: a
/// future polled inside another's poll notes into its own list.
pub(crate) fn note_awaited<R>(poll: impl FnOnce() -> R) -> (R, Vec<CancelAwaited>) {
    let outer = AWAITED.with(|awaited| awaited.replace(Some(Vec::new())));
    let out = poll();
    let mine = AWAITED.with(|awaited| awaited.replace(outer));
    (out, mine.unwrap_or_default())
}
