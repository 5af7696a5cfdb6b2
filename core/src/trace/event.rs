use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::time::Time;

/// One traced event at a point in time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TraceRecord {
    /// When it happened, in nanoseconds since the driver's epoch.
    pub t: Time,
    /// What happened.
    #[serde(flatten)]
    pub event: TraceEvent,
}

/// Where a call the reactor ran came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallSource {
    /// A `call_later` timer (zero-delay calls included).
    Timer,
    /// A `call_from_thread` closure from the inbox.
    Inbox,
    /// A system event trigger or a `call_when_running` callback.
    Trigger,
    /// A protocol callback driven by I/O.
    Io,
    /// A future bridged with `task::ensure_deferred`, polled after a wake.
    Task,
}

/// A system event: the two the reactor fires itself, or any other name an
/// application fires with [`Reactor::fire_system_event`](crate::Reactor::fire_system_event),
/// as Twisted's `fireSystemEvent` takes any string. In JSON it is its name.
///
/// ```
/// use twine_core::trace::SystemEvent;
///
/// assert_eq!(SystemEvent::named("startup"), SystemEvent::Startup);
/// assert_eq!(SystemEvent::named("persist").name(), "persist");
/// assert_eq!(serde_json::to_string(&SystemEvent::Shutdown).unwrap(), r#""shutdown""#);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SystemEvent {
    /// Fired when the reactor starts running.
    Startup,
    /// Fired after `stop`.
    Shutdown,
    /// Any other event, fired by the application.
    Named(Cow<'static, str>),
}

impl SystemEvent {
    /// The event called `name`: `"startup"` and `"shutdown"` are the
    /// reactor's own.
    pub fn named(name: impl Into<Cow<'static, str>>) -> SystemEvent {
        let name = name.into();
        match &*name {
            "startup" => SystemEvent::Startup,
            "shutdown" => SystemEvent::Shutdown,
            _ => SystemEvent::Named(name),
        }
    }

    /// The event's name.
    pub fn name(&self) -> &str {
        match self {
            SystemEvent::Startup => "startup",
            SystemEvent::Shutdown => "shutdown",
            SystemEvent::Named(name) => name,
        }
    }
}

impl Serialize for SystemEvent {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for SystemEvent {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(SystemEvent::named(String::deserialize(deserializer)?))
    }
}

/// The three phases of a system event, in the order they run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TriggerPhase {
    /// Runs first; a trigger returning a Deferred holds back the later phases.
    Before,
    /// Runs once every `Before` trigger's Deferred fired.
    During,
    /// Runs last.
    After,
}

/// Declares [`TraceEvent`] with each variant's `kind` written once, next to
/// it (`TurnStart = "turn_start" { .. }`), and derives from that one list the
/// serde tag, [`TraceEvent::kind`] and [`TraceEvent::KINDS`]: the gateway's
/// kind filter and the page's drift check read `KINDS`, so no other copy of
/// the names exists to fall out of step.
macro_rules! trace_events {
    (
        $(#[$meta:meta])*
        pub enum $Enum:ident {
            $(
                $(#[$vmeta:meta])*
                $Variant:ident = $kind:literal $({ $( $(#[$fmeta:meta])* $field:ident : $fty:ty ),* $(,)? })?
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        pub enum $Enum {
            $(
                $(#[$vmeta])*
                #[serde(rename = $kind)]
                $Variant $({ $( $(#[$fmeta])* $field : $fty ),* })?,
            )*
        }

        impl $Enum {
            /// Every `kind` of the schema, in declaration order: the names
            /// records carry under `"kind"`.
            ///
            /// ```
            /// use twine_core::trace::TraceEvent;
            ///
            /// assert_eq!(TraceEvent::KINDS[0], "turn_start");
            /// assert!(TraceEvent::KINDS.contains(&"lost_update"));
            /// ```
            pub const KINDS: &'static [&'static str] = &[$($kind),*];

            /// This event's `kind`, the name it is serialised under.
            ///
            /// ```
            /// use twine_core::trace::TraceEvent;
            ///
            /// let event = TraceEvent::TimerFired { timer: 3, late: 0 };
            /// assert_eq!(event.kind(), "timer_fired");
            /// let json = serde_json::to_string(&event).unwrap();
            /// assert!(json.contains(r#""kind":"timer_fired""#));
            /// ```
            pub fn kind(&self) -> &'static str {
                match self {
                    $($Enum::$Variant { .. } => $kind,)*
                }
            }

            /// This event's place in [`KINDS`](Self::KINDS): what the page's
            /// trace columns carry instead of the name (no lookup by text).
            ///
            /// ```
            /// use twine_core::trace::TraceEvent;
            ///
            /// let event = TraceEvent::TimerFired { timer: 3, late: 0 };
            /// assert_eq!(TraceEvent::KINDS[event.kind_index()], "timer_fired");
            /// ```
            pub fn kind_index(&self) -> usize {
                // The variants in declaration order, as KINDS lists their names.
                #[allow(dead_code)]
                enum Index {
                    $($Variant,)*
                }
                match self {
                    $($Enum::$Variant { .. } => Index::$Variant as usize,)*
                }
            }
        }
    };
}

trace_events! {
/// Everything that can appear in a trace. See the [module docs](super) for the JSON form.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind")]
#[non_exhaustive]
#[allow(missing_docs)] // each variant's doc describes its fields
pub enum TraceEvent {
    // ---- reactor ----
    /// A turn began: `inbox` calls were taken from the inbox for it.
    TurnStart = "turn_start" { turn: u64, inbox: u32 },
    /// The turn ended.
    TurnEnd = "turn_end" { turn: u64 },
    /// A call ran, starting at the record's time and lasting `dur` nanoseconds
    /// (zero when the driver supplies no clock).
    Call = "call" {
        source: CallSource,
        /// The timer, job or connection id the call belongs to (0 when none).
        id: u64,
        name: Cow<'static, str>,
        dur: u64,
    },
    /// A callback panicked; the reactor caught it and carried on.
    CallbackPanicked = "callback_panicked" { name: Cow<'static, str>, message: String },
    /// `call_later` scheduled a timer due at `due`.
    TimerScheduled = "timer_scheduled" { timer: u64, due: Time, name: Cow<'static, str> },
    /// A timer was moved to `due` by `reset` or `delay`.
    TimerReset = "timer_reset" { timer: u64, due: Time },
    /// A timer was cancelled before it fired.
    TimerCancelled = "timer_cancelled" { timer: u64 },
    /// A timer fired, `late` nanoseconds after it was due.
    TimerFired = "timer_fired" { timer: u64, late: u64 },
    /// `call_from_thread` queued a call; `depth` is the inbox depth after it.
    /// Emitted when the reactor takes the batch, one per call.
    InboxDelivery = "inbox_delivery" { depth: u32 },
    /// `stop` was called; it takes effect after the current turn.
    StopRequested = "stop_requested",
    /// A phase of a system event began running its triggers.
    SystemEventPhase = "system_event_phase" { event: SystemEvent, phase: TriggerPhase, triggers: u32 },
    /// The reactor finished its shutdown; the driver should exit its loop.
    Stopped = "stopped",

    // ---- Deferreds ----
    /// A Deferred was created.
    DeferredCreated = "deferred_created" { deferred: u64, label: Cow<'static, str> },
    /// A Deferred was fired with a result (`ok`) or a failure.
    DeferredFired = "deferred_fired" { deferred: u64, ok: bool },
    /// A callback of `deferred` returned `to`; the chain waits for it.
    DeferredChained = "deferred_chained" { deferred: u64, to: u64 },
    /// A callback turned the chain's result into a failure.
    DeferredFailed = "deferred_failed" { deferred: u64, message: String },
    /// An errback handled a failure and the chain carries on with a result.
    DeferredRecovered = "deferred_recovered" { deferred: u64 },
    /// A Deferred was cancelled.
    DeferredCancelled = "deferred_cancelled" { deferred: u64 },
    /// A Deferred was dropped holding a failure nobody handled.
    UnhandledError = "unhandled_error" { deferred: u64, message: String },

    // ---- thread pool ----
    /// `defer_to_thread` or `call_in_thread` handed a job to the pool.
    JobQueued = "job_queued" { job: u64, name: Cow<'static, str> },
    /// A pool thread started the job.
    JobStarted = "job_started" { job: u64, thread: u32 },
    /// The job finished on `thread`; `ok` is false when it failed or panicked.
    JobFinished = "job_finished" { job: u64, thread: u32, ok: bool },

    // ---- connections ----
    /// A listener is accepting connections at `addr`.
    Listening = "listening" { listener: u64, addr: String },
    /// A listener stopped accepting.
    ListenerClosed = "listener_closed" { listener: u64 },
    /// A connection was made with `peer`.
    ConnectionMade = "connection_made" { conn: u64, peer: String },
    /// A connection ended.
    ConnectionLost = "connection_lost" { conn: u64, reason: String },
    /// `n` bytes arrived on a connection.
    BytesIn = "bytes_in" { conn: u64, n: u64 },
    /// `n` bytes were handed to the driver to send.
    BytesOut = "bytes_out" { conn: u64, n: u64 },
    /// A framing receiver or message transport delivered a message of `len` bytes.
    MessageReceived = "message_received" { conn: u64, len: u64 },
    /// A framing receiver refused the connection's input (a line or string
    /// over its limit, a malformed netstring) and dropped the connection.
    InputRejected = "input_rejected" { conn: u64, reason: String },
    /// The write buffer passed its high-water mark; the protocol was asked to pause.
    ProducerPaused = "producer_paused" { conn: u64 },
    /// The write buffer drained below its low-water mark; the protocol was resumed.
    ProducerResumed = "producer_resumed" { conn: u64 },

    // ---- driver facts (emitted by drivers, not by twine-core) ----
    /// A thread exists, with a human name (`reactor`, `pool-0`, `thread-3`).
    ThreadSpawned = "thread_spawned" { thread: u32, name: String },
    /// A thread started running on a core.
    ThreadRun = "thread_run" { thread: u32, core: u32 },
    /// A thread was taken off its core by the scheduler (time slice or GIL switch).
    ThreadPreempt = "thread_preempt" { thread: u32, core: u32 },
    /// A thread blocked (`io`, `sleep`, `lock`, `gil`, `idle`, ...).
    ThreadBlock = "thread_block" { thread: u32, reason: Cow<'static, str> },
    /// A thread finished.
    ThreadExit = "thread_exit" { thread: u32 },
    /// A thread took the GIL.
    GilAcquire = "gil_acquire" { thread: u32 },
    /// A thread let go of the GIL.
    GilRelease = "gil_release" { thread: u32 },
    /// A thread started waiting for a lock.
    LockWait = "lock_wait" { lock: Cow<'static, str>, thread: u32 },
    /// A thread stopped waiting for a lock: its timeout ran out
    /// (`acquire(timeout=...)` in a simulated Python program).
    LockTimeout = "lock_timeout" { lock: Cow<'static, str>, thread: u32 },
    /// A thread got a lock after waiting `waited` nanoseconds.
    LockAcquire = "lock_acquire" { lock: Cow<'static, str>, thread: u32, waited: u64 },
    /// A thread released a lock.
    LockRelease = "lock_release" { lock: Cow<'static, str>, thread: u32 },
    /// A simulated client sent request `request`.
    ClientRequest = "client_request" { client: u32, request: u64 },
    /// A simulated client got the response to `request` after `latency` nanoseconds.
    ClientResponse = "client_response" { client: u32, request: u64, latency: u64 },
    /// A program printed a line.
    Print = "print" { thread: u32, text: String },
    /// A shared counter changed.
    Counter = "counter" { name: Cow<'static, str>, value: i64 },
    /// `thread` wrote `wrote` to the shared variable `name`, computed from the
    /// value `read` it read at `read_at`; meanwhile other writes had taken the
    /// value further, and this write erased `overwritten` of their updates.
    /// Negative: the value had been set back below `read` by a stale write,
    /// and this write restores that many of the updates it erased.
    LostUpdate = "lost_update" { name: Cow<'static, str>, thread: u32, read: i64, read_at: Time, wrote: i64, overwritten: i64 },
}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_a_distinct_snake_case_name() {
        let mut seen = std::collections::HashSet::new();
        for kind in TraceEvent::KINDS {
            assert!(seen.insert(kind), "{kind:?} is declared twice");
            assert!(
                !kind.is_empty() && kind.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{kind:?}: write kinds in snake_case, as the page and recorded traces expect"
            );
        }
    }

    #[test]
    fn serde_reads_every_kind_by_its_declared_name() {
        for kind in TraceEvent::KINDS {
            // Without its fields a record fails for a missing field, never for
            // an unknown variant; a unit variant reads back whole.
            match serde_json::from_str::<TraceRecord>(&format!(r#"{{"t":0,"kind":"{kind}"}}"#)) {
                Ok(record) => assert_eq!(record.event.kind(), *kind),
                Err(e) => assert!(e.to_string().contains("missing field"), "{kind}: {e}"),
            }
        }
    }
}
