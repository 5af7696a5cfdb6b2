//! The playground page (www/js) handles trace events by their `kind`. These
//! tests read its modules as text and check them against core's one list,
//! [`TraceEvent::KINDS`], so a kind added to core without a page update, or a
//! page case left for a kind core removed, fails here naming the kind and the
//! place to change.

use std::path::{Path, PathBuf};

use twine_core::trace::TraceEvent;

/// Where the page's modules live, from this crate.
fn www_js() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../www/js")
}

/// A page module's text, with its path as the failure messages print it.
struct Module {
    path: String,
    text: String,
}

impl Module {
    fn read(name: &str) -> Module {
        let file = www_js().join(name);
        let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        Module { path: format!("www/js/{name}"), text }
    }

    fn all() -> Vec<Module> {
        let mut names: Vec<String> = std::fs::read_dir(www_js())
            .expect("www/js is next to core/")
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".js"))
            .collect();
        names.sort();
        names.iter().map(|name| Module::read(name)).collect()
    }

    /// `file:line:col` of byte offset `at`.
    fn place(&self, at: usize) -> String {
        let before = &self.text[..at];
        let line = before.matches('\n').count() + 1;
        let col = at - before.rfind('\n').map_or(0, |nl| nl + 1) + 1;
        format!("{}:{line}:{col}", self.path)
    }

    /// The body of every `switch (<name>.kind) {`, as (offset, text).
    fn kind_switches(&self) -> Vec<(usize, &str)> {
        let mut out = Vec::new();
        let mut from = 0;
        while let Some(found) = self.text[from..].find("switch (") {
            let at = from + found;
            from = at + 1;
            let head_end = self.text[at..].find(") {").map(|i| at + i);
            let Some(head_end) = head_end else { continue };
            let subject = &self.text[at + "switch (".len()..head_end];
            if !subject.ends_with(".kind") || subject.contains(['(', '\n']) {
                continue;
            }
            let open = head_end + ") ".len();
            out.push((at, &self.text[open..matching_brace(&self.text, open)]));
        }
        out
    }

    /// The first `switch (...kind)` after `marker` (a function's head).
    fn kind_switch_after(&self, marker: &str) -> (usize, &str) {
        let start = self.text.find(marker).unwrap_or_else(|| panic!("{}: no `{marker}`", self.path));
        self.kind_switches()
            .into_iter()
            .find(|(at, _)| *at > start)
            .unwrap_or_else(|| panic!("{}: no switch on the kind after `{marker}`", self.path))
    }

    /// Every kind the module names: `case '<kind>':` in a switch on a kind,
    /// and `<event>.kind === '<kind>'` (or `!==`), with their offsets.
    fn kinds_named(&self) -> Vec<(usize, &str)> {
        let mut out = Vec::new();
        for (at, body) in self.kind_switches() {
            let base = self.text[at..].find(body).unwrap() + at;
            out.extend(cases(body).into_iter().map(|(i, k)| (base + i, k)));
        }
        for op in [".kind === '", ".kind !== '"] {
            let mut from = 0;
            while let Some(found) = self.text[from..].find(op) {
                let at = from + found;
                from = at + 1;
                // Only events: other objects (threads, hits) have kinds of their own.
                let receiver = self.text[..at].rsplit(|c: char| !(c.is_alphanumeric() || "[]_".contains(c))).next();
                if !matches!(receiver, Some("e" | "x" | "f" | "ev" | "event" | "prev" | "events[i]")) {
                    continue;
                }
                let name_at = at + op.len();
                let end = self.text[name_at..].find('\'').unwrap() + name_at;
                out.push((name_at, &self.text[name_at..end]));
            }
        }
        out
    }
}

/// The offset of the `}` closing the `{` at `open`.
fn matching_brace(text: &str, open: usize) -> usize {
    let mut depth = 0;
    for (i, c) in text[open..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return open + i;
                }
            }
            _ => {}
        }
    }
    panic!("unbalanced braces after offset {open}")
}

/// The `case '<kind>':` labels of a switch body, with their offsets in it.
fn cases(body: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(found) = body[from..].find("case '") {
        let at = from + found + "case '".len();
        let end = body[at..].find('\'').unwrap() + at;
        out.push((at, &body[at..end]));
        from = end;
    }
    out
}

/// Failures for each kind of core's that the switch has no case for.
fn missing_cases(module: &Module, marker: &str, what: &str) -> Vec<String> {
    let (at, body) = module.kind_switch_after(marker);
    let handled: Vec<&str> = cases(body).into_iter().map(|(_, k)| k).collect();
    TraceEvent::KINDS
        .iter()
        .filter(|kind| !handled.contains(kind))
        .map(|kind| {
            format!(
                "{}: core's TraceEvent has kind {kind:?}, which {what} neither handles nor ignores: \
                 add `case '{kind}':` to this switch (with `break;` to ignore it)",
                module.place(at)
            )
        })
        .collect()
}

fn assert_none(failures: Vec<String>) {
    assert!(failures.is_empty(), "\n{}\n", failures.join("\n"));
}

#[test]
fn the_event_log_describes_every_kind_core_has() {
    let format = Module::read("format.js");
    assert_none(missing_cases(&format, "export function describeEvent(", "the event log's describeEvent"));
}

#[test]
fn the_timeline_model_handles_or_ignores_every_kind_core_has() {
    let model = Module::read("trace-model.js");
    assert_none(missing_cases(&model, "  add(e) {", "the timeline's TraceModel.add"));
}

#[test]
fn the_page_names_no_kind_core_does_not_have() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for module in Module::all() {
        for (at, kind) in module.kinds_named() {
            checked += 1;
            if !TraceEvent::KINDS.contains(&kind) {
                failures.push(format!(
                    "{}: the page handles kind {kind:?}, which core's TraceEvent does not have: \
                     rename it to one of TraceEvent::KINDS or remove it",
                    module.place(at)
                ));
            }
        }
    }
    // The scan found the page's handling at all (a rename of the page's
    // idiom would otherwise pass by checking nothing).
    assert!(checked > TraceEvent::KINDS.len(), "only {checked} kinds named in www/js");
    assert_none(failures);
}
