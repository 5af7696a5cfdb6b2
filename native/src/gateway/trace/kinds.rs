//! The event kinds a viewer can subscribe to, as a bit set.

use std::collections::HashMap;
use std::sync::OnceLock;

use twine_core::trace::TraceEvent;

/// Every `kind` of the trace schema, in the schema's order: core declares
/// them once, next to each variant.
const KINDS: &[&str] = TraceEvent::KINDS;

/// The bit of a kind this gateway does not know (a newer core): shown to
/// viewers subscribed to all kinds.
const OTHER: u8 = 63;

// Each kind needs its own bit below OTHER in the u64.
const _: () = assert!(KINDS.len() < OTHER as usize, "the kind set needs more than 64 bits");

/// A set of event kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct KindSet(u64);

impl KindSet {
    pub(crate) const ALL: KindSet = KindSet(u64::MAX);

    /// The set of `names`; errs naming the first unknown one.
    pub(crate) fn of<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<KindSet, String> {
        let mut bits = 0u64;
        for name in names {
            match index().get(name) {
                Some(&i) => bits |= 1 << i,
                None => return Err(format!("unknown event kind {name:?}")),
            }
        }
        Ok(KindSet(bits))
    }

    pub(crate) fn contains(self, kind: u8) -> bool {
        self.0 & (1 << kind) != 0
    }

    /// The names in the set, `None` for all of them.
    pub(crate) fn names(self) -> Option<Vec<&'static str>> {
        (self != KindSet::ALL)
            .then(|| KINDS.iter().enumerate().filter(|(i, _)| self.contains(*i as u8)).map(|(_, k)| *k).collect())
    }
}

fn index() -> &'static HashMap<&'static str, u8> {
    static INDEX: OnceLock<HashMap<&'static str, u8>> = OnceLock::new();
    INDEX.get_or_init(|| KINDS.iter().enumerate().map(|(i, k)| (*k, i as u8)).collect())
}

/// The kind of a serialized record (`{"t":..,"kind":"..",...}`), as its bit.
pub(crate) fn kind_of_json(json: &[u8]) -> u8 {
    const KEY: &[u8] = b"\"kind\":\"";
    let Some(at) = json.windows(KEY.len()).position(|w| w == KEY) else { return OTHER };
    let rest = &json[at + KEY.len()..];
    let Some(end) = rest.iter().position(|&b| b == b'"') else { return OTHER };
    std::str::from_utf8(&rest[..end]).ok().and_then(|k| index().get(k).copied()).unwrap_or(OTHER)
}

#[cfg(test)]
mod tests {
    use super::*;
    use twine_core::trace::{CallSource, TraceRecord};
    use twine_core::Time;

    #[test]
    fn the_kind_of_a_serialized_record_is_found_by_name() {
        let events = [
            (TraceEvent::TurnStart { turn: 1, inbox: 0 }, "turn_start"),
            (TraceEvent::Call { source: CallSource::Io, id: 1, name: "x".into(), dur: 5 }, "call"),
            (TraceEvent::MessageReceived { conn: 3, len: 5 }, "message_received"),
            (TraceEvent::ConnectionLost { conn: 3, reason: "\"kind\":\"print\"".into() }, "connection_lost"),
            (TraceEvent::Counter { name: "n".into(), value: 1 }, "counter"),
        ];
        for (event, name) in events {
            let json = serde_json::to_vec(&TraceRecord { t: Time::from_nanos(7), event }).unwrap();
            let kind = kind_of_json(&json);
            assert_eq!(KINDS[kind as usize], name, "{}", String::from_utf8_lossy(&json));
        }
        assert_eq!(kind_of_json(br#"{"t":1,"kind":"from_the_future"}"#), OTHER);
    }

    #[test]
    fn sets_are_built_from_names_and_refuse_unknown_ones() {
        let set = KindSet::of(["call", "turn_end"]).unwrap();
        assert!(set.contains(2) && set.contains(1) && !set.contains(0) && !set.contains(OTHER));
        assert_eq!(set.names(), Some(vec!["turn_end", "call"]));
        assert_eq!(KindSet::ALL.names(), None);
        assert!(KindSet::of(["cal"]).unwrap_err().contains("\"cal\""));
    }
}
