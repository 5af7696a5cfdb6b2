//! The trace a user sees: the events of a turn, their JSON form, and the exports.

use std::time::Duration;

use twine_core::task::Clock;
use twine_core::trace::{to_chrome_trace, CallSource, JsonLines, Recorder, TraceEvent, TraceRecord};
use twine_core::Time;

fn kinds(records: &[TraceRecord]) -> Vec<String> {
    records.iter().map(|r| serde_json::to_value(r).unwrap()["kind"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn a_timer_turn_is_traced_in_order_with_times() {
    let clock = Clock::new();
    let reactor = clock.reactor();
    let recorder = Recorder::new();
    reactor.set_trace_sink(recorder.clone());
    clock.advance(Duration::ZERO); // startup turn
    recorder.take();
    let call = reactor.call_later(Duration::from_millis(5), |r| r.stop().unwrap());
    clock.advance(Duration::from_millis(7));
    let records = recorder.take();
    assert_eq!(
        kinds(&records),
        [
            "timer_scheduled",
            "turn_start",
            "timer_fired",
            "stop_requested",
            "call",
            "system_event_phase",
            "system_event_phase",
            "stopped",
            "turn_end"
        ]
    );
    assert_eq!(records[0].t, Time::ZERO);
    assert!(
        matches!(records[0].event, TraceEvent::TimerScheduled { timer, due, .. } if timer == call.id() && due == Time::from_millis(5))
    );
    assert!(matches!(records[2].event, TraceEvent::TimerFired { late: 2_000_000, .. }));
    assert!(matches!(records[4].event, TraceEvent::Call { source: CallSource::Timer, .. }));
    assert!(records[1..].iter().all(|r| r.t == Time::from_millis(7)));
}

#[test]
fn records_round_trip_through_json() {
    let clock = Clock::new();
    let reactor = clock.reactor();
    let recorder = Recorder::new();
    reactor.set_trace_sink(recorder.clone());
    reactor.call_soon(|_| panic!("traced panic"));
    reactor.call_later(Duration::from_secs(1), |_| {}).cancel().unwrap();
    reactor.handle().call_from_thread(|_| {});
    clock.advance(Duration::ZERO);
    let records = recorder.events();
    assert!(records.len() > 5);
    for record in records {
        let json = serde_json::to_string(&record).unwrap();
        let back: TraceRecord = serde_json::from_str(&json).unwrap();
        assert_eq!(back, record, "{json}");
    }
}

#[test]
fn json_lines_and_chrome_exports_are_readable() {
    let clock = Clock::new();
    let reactor = clock.reactor();
    let recorder = Recorder::new();
    reactor.set_trace_sink(recorder.clone());
    reactor.call_later(Duration::from_millis(3), |_| {});
    clock.advance(Duration::from_millis(3));
    let records = recorder.events();

    let mut sink = JsonLines::new(Vec::new());
    for r in &records {
        twine_core::trace::TraceSink::record(&mut sink, r);
    }
    let text = String::from_utf8(sink.into_inner()).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some(r#"{"schema":"twine-trace","version":1}"#));
    let parsed: Vec<TraceRecord> = lines.map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(parsed, records);

    let chrome = to_chrome_trace(&records);
    let events = chrome["traceEvents"].as_array().unwrap();
    let call = events.iter().find(|e| e["ph"] == "X" && e["cat"] == "call").expect("the timer call is a slice");
    assert_eq!(call["ts"], 3000.0);
    assert!(events.iter().all(|e| e["ph"].is_string() && e["pid"].is_number()));
}
