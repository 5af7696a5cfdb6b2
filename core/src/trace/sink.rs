use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;

use super::{TraceRecord, SCHEMA_VERSION};

/// Where trace records go. Attach one with
/// [`Reactor::set_trace_sink`](crate::Reactor::set_trace_sink).
///
/// Any `FnMut(&TraceRecord)` is a sink:
///
/// ```
/// use twine_core::task::Clock;
///
/// let clock = Clock::new();
/// clock.reactor().set_trace_sink(|record: &twine_core::trace::TraceRecord| {
///     println!("{}", serde_json::to_string(record).unwrap());
/// });
/// ```
pub trait TraceSink {
    /// Takes one record. Called on the reactor's thread, so keep it cheap.
    fn record(&mut self, record: &TraceRecord);
}

impl<F: FnMut(&TraceRecord)> TraceSink for F {
    fn record(&mut self, record: &TraceRecord) {
        self(record)
    }
}

/// Keeps every record in memory. Clones share the same records, so keep one
/// clone and give the other to the reactor.
///
/// ```
/// use twine_core::trace::Recorder;
/// use twine_core::task::Clock;
///
/// let clock = Clock::new();
/// let recorder = Recorder::new();
/// clock.reactor().set_trace_sink(recorder.clone());
/// clock.reactor().call_soon(|_| {});
/// clock.advance(std::time::Duration::ZERO);
/// assert!(!recorder.events().is_empty());
/// ```
#[derive(Clone, Default)]
pub struct Recorder {
    records: Rc<RefCell<Vec<TraceRecord>>>,
}

impl Recorder {
    /// An empty recorder.
    pub fn new() -> Recorder {
        Recorder::default()
    }

    /// A copy of everything recorded so far.
    pub fn events(&self) -> Vec<TraceRecord> {
        self.records.borrow().clone()
    }

    /// Takes everything recorded so far, leaving the recorder empty.
    pub fn take(&self) -> Vec<TraceRecord> {
        std::mem::take(&mut self.records.borrow_mut())
    }

    /// How many records are held.
    pub fn len(&self) -> usize {
        self.records.borrow().len()
    }

    /// Whether nothing has been recorded.
    pub fn is_empty(&self) -> bool {
        self.records.borrow().is_empty()
    }
}

impl TraceSink for Recorder {
    fn record(&mut self, record: &TraceRecord) {
        self.records.borrow_mut().push(record.clone());
    }
}

/// Writes each record as one line of JSON, after a header line naming the
/// schema version. Write errors are counted, not raised: a trace must never
/// take the reactor down.
///
/// ```
/// use twine_core::trace::{JsonLines, TraceEvent, TraceRecord, TraceSink};
/// use twine_core::Time;
///
/// let mut sink = JsonLines::new(Vec::new());
/// sink.record(&TraceRecord { t: Time::from_nanos(5), event: TraceEvent::StopRequested });
/// let text = String::from_utf8(sink.into_inner()).unwrap();
/// assert_eq!(text, "{\"schema\":\"twine-trace\",\"version\":1}\n{\"t\":5,\"kind\":\"stop_requested\"}\n");
/// ```
pub struct JsonLines<W: Write> {
    out: W,
    header_written: bool,
    errors: u64,
}

impl<W: Write> JsonLines<W> {
    /// A sink writing to `out`.
    pub fn new(out: W) -> Self {
        JsonLines { out, header_written: false, errors: 0 }
    }

    /// How many records failed to write.
    pub fn errors(&self) -> u64 {
        self.errors
    }

    /// Flushes and returns the writer.
    pub fn into_inner(mut self) -> W {
        self.write_header();
        let _ = self.out.flush();
        self.out
    }

    fn write_header(&mut self) {
        if !self.header_written {
            self.header_written = true;
            if writeln!(self.out, "{{\"schema\":\"twine-trace\",\"version\":{SCHEMA_VERSION}}}").is_err() {
                self.errors += 1;
            }
        }
    }
}

impl<W: Write> TraceSink for JsonLines<W> {
    fn record(&mut self, record: &TraceRecord) {
        self.write_header();
        let ok = serde_json::to_writer(&mut self.out, record).is_ok() && self.out.write_all(b"\n").is_ok();
        if !ok {
            self.errors += 1;
        }
    }
}
