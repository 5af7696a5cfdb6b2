use std::any::Any;
use std::error::Error;
use std::fmt;
use std::panic::Location;
use std::sync::Arc;

/// What kind of failure a [`Failure`] is. `check` and `trap` match on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FailureKind {
    /// An application error (the default for errors converted with `?`).
    Error,
    /// The operation was cancelled: Twisted's `CancelledError`.
    Cancelled,
    /// A timeout expired: Twisted's `TimeoutError`.
    TimedOut,
    /// Code panicked; the panic was caught.
    Panicked,
    /// A connection closed cleanly: Twisted's `ConnectionDone`.
    ConnectionDone,
    /// A connection closed uncleanly: Twisted's `ConnectionLost`.
    ConnectionLost,
    /// A connection attempt was refused: Twisted's `ConnectionRefusedError`.
    ConnectionRefused,
    /// A `DeferredList` or `gather_results` input failed: Twisted's `FirstError`.
    FirstError,
    /// A queue is full: Twisted's `QueueOverflow`.
    QueueOverflow,
    /// Too many waiters on an empty queue: Twisted's `QueueUnderflow`.
    QueueUnderflow,
    /// The thread pool refused a job (full, or none installed).
    PoolUnavailable,
    /// The reactor is gone or not running.
    ReactorNotRunning,
    /// A Deferred's result was taken (awaited, moved by `then`, or handed to
    /// the Deferred that waited on it) before this callback.
    ResultConsumed,
    /// Several failures at once, as [`race`](super::race) reports when every
    /// input failed: Twisted's `FailureGroup`. See [`Failure::failures`].
    FailureGroup,
}

struct Inner {
    kind: FailureKind,
    message: String,
    source: Option<Box<dyn Error + Send + Sync + 'static>>,
    location: &'static Location<'static>,
    index: Option<usize>,
    /// For a `FailureGroup`, its members.
    members: Vec<Failure>,
}

/// An error travelling down a Deferred's errback chain: Twisted's `Failure`.
///
/// It carries a [`FailureKind`], a message, the source error chain (any
/// `std::error::Error`) and where it was created. Cheap to clone.
///
/// Any error converts with `?`, so errbacks and async code read naturally:
///
/// ```
/// use twine_core::defer::{Failure, FailureKind};
///
/// fn parse(s: &str) -> Result<u16, Failure> {
///     Ok(s.parse::<u16>()?)
/// }
/// let failure = parse("70000").unwrap_err();
/// assert!(failure.check(FailureKind::Error));
/// assert!(failure.downcast_ref::<std::num::ParseIntError>().is_some());
/// assert!(failure.location().file().ends_with(".rs"));
///
/// let timeout = Failure::new(FailureKind::TimedOut, "no answer in 5 s");
/// assert!(timeout.clone().trap(FailureKind::Cancelled).is_err()); // not trapped: passed on
/// assert!(timeout.trap(FailureKind::TimedOut).is_ok());
/// ```
#[derive(Clone)]
pub struct Failure {
    inner: Arc<Inner>,
}

impl Failure {
    /// A failure of `kind` with a message, recording the caller's location.
    #[track_caller]
    pub fn new(kind: FailureKind, message: impl Into<String>) -> Failure {
        Failure::build(kind, message.into(), None, Location::caller())
    }

    /// A failure wrapping `error` as its source.
    ///
    /// ```
    /// use twine_core::defer::{Failure, FailureKind};
    ///
    /// let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset by peer");
    /// let failure = Failure::from_error(FailureKind::ConnectionLost, io);
    /// assert_eq!(failure.message(), "reset by peer");
    /// assert!(failure.downcast_ref::<std::io::Error>().is_some());
    /// ```
    #[track_caller]
    pub fn from_error(kind: FailureKind, error: impl Error + Send + Sync + 'static) -> Failure {
        Failure::build(kind, error.to_string(), Some(Box::new(error)), Location::caller())
    }

    /// A `Cancelled` failure.
    ///
    /// ```
    /// assert!(twine_core::defer::Failure::cancelled().check(twine_core::defer::FailureKind::Cancelled));
    /// ```
    #[track_caller]
    pub fn cancelled() -> Failure {
        Failure::new(FailureKind::Cancelled, "cancelled")
    }

    /// A failure from a caught panic's payload.
    ///
    /// ```
    /// use twine_core::defer::{Failure, FailureKind};
    ///
    /// let payload = std::panic::catch_unwind(|| panic!("index {} out of range", 7)).unwrap_err();
    /// let failure = Failure::from_panic(payload);
    /// assert!(failure.check(FailureKind::Panicked));
    /// assert_eq!(failure.message(), "index 7 out of range");
    /// ```
    #[track_caller]
    pub fn from_panic(payload: Box<dyn Any + Send>) -> Failure {
        let message = if let Some(s) = payload.downcast_ref::<&str>() {
            (*s).to_owned()
        } else if let Some(s) = payload.downcast_ref::<String>() {
            s.clone()
        } else {
            "panic with a non-string payload".to_owned()
        };
        Failure::new(FailureKind::Panicked, message)
    }

    fn build(
        kind: FailureKind,
        message: String,
        source: Option<Box<dyn Error + Send + Sync>>,
        location: &'static Location<'static>,
    ) -> Failure {
        Failure { inner: Arc::new(Inner { kind, message, source, location, index: None, members: Vec::new() }) }
    }

    /// The same failure marked as coming from input `index` of a list
    /// (`FirstError`, as `DeferredList` and `gather_results` report it).
    ///
    /// ```
    /// use twine_core::defer::{Failure, FailureKind};
    ///
    /// let first = Failure::new(FailureKind::TimedOut, "shard 3 slow").first_error(3);
    /// assert!(first.check(FailureKind::FirstError));
    /// assert_eq!(first.index(), Some(3));
    /// assert!(first.sub_failure().unwrap().check(FailureKind::TimedOut));
    /// ```
    pub fn first_error(self, index: usize) -> Failure {
        let inner = Inner {
            kind: FailureKind::FirstError,
            message: format!("input {index} failed: {}", self.inner.message),
            source: Some(Box::new(WrappedFailure(self.clone()))),
            location: self.inner.location,
            index: Some(index),
            members: Vec::new(),
        };
        Failure { inner: Arc::new(inner) }
    }

    /// A `FailureGroup` holding `failures`: Twisted's `FailureGroup`.
    ///
    /// ```
    /// use twine_core::defer::{Failure, FailureKind};
    ///
    /// let group = Failure::group(vec![
    ///     Failure::new(FailureKind::ConnectionRefused, "mirror a"),
    ///     Failure::new(FailureKind::TimedOut, "mirror b"),
    /// ]);
    /// assert!(group.check(FailureKind::FailureGroup));
    /// assert_eq!(group.failures().len(), 2);
    /// ```
    #[track_caller]
    pub fn group(failures: Vec<Failure>) -> Failure {
        let message = match failures.len() {
            1 => format!("1 failure: {}", failures[0].message()),
            n => format!("{n} failures"),
        };
        let inner = Inner {
            kind: FailureKind::FailureGroup,
            message,
            source: None,
            location: Location::caller(),
            index: None,
            members: failures,
        };
        Failure { inner: Arc::new(inner) }
    }

    /// For a `FailureGroup`, its failures (empty for any other failure).
    pub fn failures(&self) -> &[Failure] {
        &self.inner.members
    }

    /// The kind.
    pub fn kind(&self) -> FailureKind {
        self.inner.kind
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.inner.message
    }

    /// Where the failure was created.
    pub fn location(&self) -> &'static Location<'static> {
        self.inner.location
    }

    /// For a `FirstError`, which input failed.
    pub fn index(&self) -> Option<usize> {
        self.inner.index
    }

    /// For a `FirstError`, the input's own failure.
    pub fn sub_failure(&self) -> Option<&Failure> {
        self.inner.source.as_ref()?.downcast_ref::<WrappedFailure>().map(|w| &w.0)
    }

    /// The source error, if the failure wraps one.
    pub fn source(&self) -> Option<&(dyn Error + Send + Sync + 'static)> {
        self.inner.source.as_deref()
    }

    /// The source error and its own sources, outermost first.
    ///
    /// ```
    /// use twine_core::defer::{Failure, FailureKind};
    ///
    /// let inner = Failure::new(FailureKind::ConnectionRefused, "port 5432");
    /// let outer = inner.first_error(0);
    /// let messages: Vec<String> = outer.chain().map(|e| e.to_string()).collect();
    /// assert_eq!(messages, ["ConnectionRefused: port 5432"]);
    /// ```
    pub fn chain(&self) -> impl Iterator<Item = &(dyn Error + 'static)> {
        let first: Option<&(dyn Error + 'static)> = match self.inner.source.as_deref() {
            Some(e) => Some(e),
            None => None,
        };
        std::iter::successors(first, |e: &&(dyn Error + 'static)| (*e).source())
    }

    /// The source error as `E`, if it is one.
    pub fn downcast_ref<E: Error + 'static>(&self) -> Option<&E> {
        self.chain().find_map(|e| e.downcast_ref::<E>())
    }

    /// Whether the failure is of `kind`: Twisted's `Failure.check`.
    pub fn check(&self, kind: FailureKind) -> bool {
        self.inner.kind == kind
    }

    /// `Ok(self)` if the failure is of `kind`, else `Err(self)` so that `?`
    /// passes it on down the chain: Twisted's `Failure.trap`.
    ///
    /// ```
    /// use twine_core::defer::{Failure, FailureKind};
    ///
    /// fn on_error(f: Failure) -> Result<&'static str, Failure> {
    ///     f.trap(FailureKind::ConnectionRefused)?;
    ///     Ok("try the next server")
    /// }
    /// assert!(on_error(Failure::new(FailureKind::ConnectionRefused, "")).is_ok());
    /// assert!(on_error(Failure::new(FailureKind::Panicked, "")).is_err());
    /// ```
    pub fn trap(self, kind: FailureKind) -> Result<Failure, Failure> {
        if self.check(kind) {
            Ok(self)
        } else {
            Err(self)
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.inner.kind, self.inner.message)
    }
}

impl fmt::Debug for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Failure({:?}: {:?} at {})", self.inner.kind, self.inner.message, self.inner.location)?;
        for cause in self.chain().skip(1) {
            write!(f, "\n  caused by: {cause}")?;
        }
        Ok(())
    }
}

impl<E: Error + Send + Sync + 'static> From<E> for Failure {
    #[track_caller]
    fn from(error: E) -> Failure {
        Failure::from_error(FailureKind::Error, error)
    }
}

/// A failure as an `Error`, so it can be the source of another.
struct WrappedFailure(Failure);

impl fmt::Debug for WrappedFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for WrappedFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl Error for WrappedFailure {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self.0.inner.source.as_deref() {
            Some(e) => Some(e),
            None => None,
        }
    }
}
