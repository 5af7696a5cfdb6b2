//! The loop that runs a [`Target`]: take an input from the corpus, mutate
//! it, run it, and keep it if it reached an outcome no input reached before.
//!
//! This is not coverage-guided (no compiler instrumentation: afl.rs's
//! `cargo-afl` was tried and did not finish building in the time this
//! work had), so "coverage" is what each target can say cheaply about
//! where an input went: the messages it produced, the error that stopped
//! it, the status it was answered. An input that reaches a new one is a
//! step deeper into the parser and is mutated further; the others are
//! thrown away.
//!
//! A finding is a panic anywhere on the fuzzing thread (even one the code
//! under test catches: twine's reactor turns a callback's panic into a
//! `Failure`, which would hide it) or a broken property the target checks.
//! The loop stops at the first, and keeps the input in the crash folder,
//! which the crate's tests replay.

use std::cell::RefCell;
use std::collections::HashSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Once;
use std::time::{Duration, Instant};

/// Where an input went, as a hash of what the target saw (see [`Sig`]).
pub type Outcome = u64;

/// One decoder or parser under test.
pub trait Target {
    /// The name on the command line and of its corpus folder.
    fn name(&self) -> &'static str;
    /// Valid or nearly valid inputs to start from (presets, real frames, requests).
    fn seeds(&self) -> Vec<Vec<u8>>;
    /// Pieces of the input language worth inserting whole (keywords, headers).
    fn tokens(&self) -> &'static [&'static str] {
        &[]
    }
    /// Inputs are cut to this length.
    fn max_len(&self) -> usize {
        4096
    }
    /// Runs one input: where it went, or the property it broke.
    fn run(&mut self, input: &[u8]) -> Result<Outcome, String>;
}

/// Builds an [`Outcome`] from the parts that describe where an input went.
///
/// ```
/// use twine_fuzz::Sig;
///
/// let a = Sig::new("ws").mix(3).mix(Sig::bucket(17)).done();
/// let b = Sig::new("ws").mix(3).mix(Sig::bucket(20)).done();
/// assert_eq!(a, b); // 17 and 20 fall in the same power-of-two bucket
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Sig(u64);

impl Sig {
    /// A signature starting from a label.
    pub fn new(label: &str) -> Sig {
        Sig(0x9E37_79B9_7F4A_7C15).text(label)
    }

    /// Mixes in a number.
    pub fn mix(self, v: u64) -> Sig {
        Sig((self.0 ^ v).wrapping_mul(0x1000_0000_01B3).rotate_left(23) ^ (v >> 7))
    }

    /// Mixes in text.
    pub fn text(self, s: &str) -> Sig {
        s.bytes().fold(self, |sig, b| sig.mix(b as u64))
    }

    /// `n` in powers of two (0, 1, 2-3, 4-7, ...), so counts do not make every input new.
    pub fn bucket(n: usize) -> u64 {
        (usize::BITS - n.leading_zeros()) as u64
    }

    /// The finished outcome.
    pub fn done(self) -> Outcome {
        self.0
    }
}

/// How long and how to fuzz.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Mutated inputs to run (the seeds and saved corpus come on top).
    pub execs: u64,
    /// The random seed (the same seed and corpus give the same run).
    pub seed: u64,
    /// The saved corpus: read at the start and, with `save`, written at the end.
    pub corpus: Option<PathBuf>,
    /// Write new outcomes' inputs to `corpus` at the end.
    pub save: bool,
    /// Where a finding is written.
    pub crashes: Option<PathBuf>,
    /// Print a line to stderr this often (executions, rate, outcomes), so a
    /// long run that is stopped still says how far it got.
    pub progress: Option<Duration>,
}

/// What a run did.
#[derive(Debug)]
pub struct Report {
    pub target: &'static str,
    /// Inputs run, the starting corpus included.
    pub execs: u64,
    pub elapsed: Duration,
    /// Distinct outcomes reached.
    pub outcomes: usize,
    /// Inputs kept in memory for mutation at the end.
    pub corpus: usize,
    /// Inputs written to the corpus folder.
    pub saved: usize,
    /// The first panic or broken property, if any.
    pub finding: Option<Finding>,
}

impl Report {
    /// Executions per second.
    pub fn rate(&self) -> f64 {
        self.execs as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// An input that made the target panic or break a property.
#[derive(Debug)]
pub struct Finding {
    pub input: Vec<u8>,
    pub message: String,
    /// Where it was written.
    pub saved: Option<PathBuf>,
}

/// Inputs kept in memory for mutation at most.
const MAX_CORPUS: usize = 4096;
/// Inputs a target's saved corpus holds at most, and their size: it is committed.
const MAX_SAVED: usize = 48;
const MAX_SAVED_LEN: usize = 2048;

thread_local! {
    /// While this thread fuzzes, the first panic's message and place.
    static PANIC: RefCell<Option<Option<String>>> = const { RefCell::new(None) };
}

/// Installs (once) a panic hook that records panics on fuzzing threads
/// silently and leaves every other thread to the previous hook.
fn install_hook() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let fuzzing = PANIC.with(|p| {
                let mut p = p.borrow_mut();
                match p.as_mut() {
                    Some(slot) => {
                        if slot.is_none() {
                            let place = info.location().map(|l| format!(" at {l}")).unwrap_or_default();
                            let what = info
                                .payload()
                                .downcast_ref::<&str>()
                                .map(|s| s.to_string())
                                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                                .unwrap_or_else(|| "a panic".into());
                            *slot = Some(format!("panicked{place}: {what}"));
                        }
                        true
                    }
                    None => false,
                }
            });
            if !fuzzing {
                previous(info);
            }
        }));
    });
}

/// Runs one input, catching any panic (also one caught inside the target).
pub fn run_once(target: &mut dyn Target, input: &[u8]) -> Result<Outcome, String> {
    install_hook();
    PANIC.with(|p| *p.borrow_mut() = Some(None));
    let result = catch_unwind(AssertUnwindSafe(|| target.run(input)));
    let panicked = PANIC.with(|p| p.borrow_mut().take().flatten());
    match (panicked, result) {
        (Some(message), _) => Err(message),
        (None, Ok(result)) => result,
        (None, Err(_)) => Err("panicked".into()),
    }
}

/// Replays every input saved in `dir` (a corpus or crash folder); the
/// first that fails, with its file name.
pub fn replay_dir(target: &mut dyn Target, dir: &Path) -> Result<usize, String> {
    let inputs = read_dir(dir);
    for (path, input) in &inputs {
        run_once(target, input).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(inputs.len())
}

fn read_dir(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut files: Vec<(PathBuf, Vec<u8>)> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .filter_map(|p| std::fs::read(&p).ok().map(|data| (p, data)))
        .collect();
    files.sort();
    files
}

/// A file name for an input: its hash, so the same input is saved once.
fn file_name(input: &[u8]) -> String {
    format!("{:016x}", input.iter().fold(Sig::new("file"), |sig, &b| sig.mix(b as u64)).mix(input.len() as u64).done())
}

/// Fuzzes `target` as `options` say.
pub fn fuzz(target: &mut dyn Target, options: &Options) -> Report {
    let started = Instant::now();
    let mut rng = Rng::new(options.seed);
    let tokens: Vec<&[u8]> = target.tokens().iter().map(|t| t.as_bytes()).collect();
    let max_len = target.max_len();
    let mut corpus: Vec<Vec<u8>> = Vec::new();
    let mut outcomes = HashSet::new();
    let mut found: Vec<Vec<u8>> = Vec::new();
    let mut execs = 0;
    let mut finding = None;
    let saved_before: Vec<Vec<u8>> =
        options.corpus.as_deref().map(read_dir).unwrap_or_default().into_iter().map(|(_, d)| d).collect();
    let start: Vec<Vec<u8>> = target.seeds().into_iter().chain(saved_before.iter().cloned()).collect();
    for input in start {
        execs += 1;
        match run_once(target, &input) {
            Ok(outcome) => {
                outcomes.insert(outcome);
                corpus.push(input);
            }
            Err(message) => {
                finding = Some(Finding { input, message, saved: None });
                break;
            }
        }
    }
    if corpus.is_empty() && finding.is_none() {
        corpus.push(Vec::new());
    }
    let mut input = Vec::with_capacity(max_len);
    let mut n = 0;
    let mut next_progress = options.progress.map(|every| started + every);
    while n < options.execs && finding.is_none() {
        n += 1;
        execs += 1;
        if let (Some(at), Some(every), 0) = (next_progress, options.progress, n % 1024) {
            let now = Instant::now();
            if now >= at {
                let secs = now.duration_since(started).as_secs_f64();
                eprintln!(
                    "twine-fuzz {}: {execs} executions in {secs:.0} s = {:.0}/s, {} distinct outcomes",
                    target.name(),
                    execs as f64 / secs,
                    outcomes.len()
                );
                next_progress = Some(now + every);
            }
        }
        let parent = rng.below(corpus.len());
        input.clear();
        input.extend_from_slice(&corpus[parent]);
        let other = &corpus[rng.below(corpus.len())];
        mutate(&mut input, other, &tokens, max_len, &mut rng);
        match run_once(target, &input) {
            Ok(outcome) => {
                if outcomes.insert(outcome) && corpus.len() < MAX_CORPUS {
                    corpus.push(input.clone());
                    found.push(input.clone());
                }
            }
            Err(message) => finding = Some(Finding { input: input.clone(), message, saved: None }),
        }
    }
    if let (Some(f), Some(dir)) = (finding.as_mut(), options.crashes.as_deref()) {
        let path = dir.join(file_name(&f.input));
        if std::fs::create_dir_all(dir).and_then(|()| std::fs::write(&path, &f.input)).is_ok() {
            f.saved = Some(path);
        }
    }
    let mut saved = 0;
    if let (true, Some(dir)) = (options.save, options.corpus.as_deref()) {
        // The shortest new ones, up to the folder's share: a small corpus
        // that replays in `cargo test` and seeds the next run.
        found.retain(|f| f.len() <= MAX_SAVED_LEN);
        found.sort_by_key(Vec::len);
        let room = MAX_SAVED.saturating_sub(saved_before.len());
        if room > 0 && std::fs::create_dir_all(dir).is_ok() {
            for f in found.iter().take(room) {
                if std::fs::write(dir.join(file_name(f)), f).is_ok() {
                    saved += 1;
                }
            }
        }
    }
    Report {
        target: target.name(),
        execs,
        elapsed: started.elapsed(),
        outcomes: outcomes.len(),
        corpus: corpus.len(),
        saved,
        finding,
    }
}

/// xorshift64*: fast, and plenty for choosing mutations.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x2545_F491_4F6C_DD1D | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }
}

/// Bytes that sit on the edges of the formats here: lengths around 125,
/// 126, 127 (WebSocket), delimiters, digits, the top bit.
const INTERESTING_BYTES: &[u8] =
    &[0, 1, 0x7d, 0x7e, 0x7f, 0x80, 0x81, 0x88, 0xff, b'\r', b'\n', b',', b':', b'0', b'9'];
/// Numbers written as text (netstring lengths, JSON, Python, headers).
const INTERESTING_NUMBERS: &[&str] =
    &["0", "-1", "1", "255", "256", "65535", "65536", "4294967296", "18446744073709551616", "1e308", "99999999999"];

/// One to eight stacked edits of `input`: bits and bytes, big-endian
/// numbers, spans deleted, duplicated or taken from `other`, tokens of the
/// language, numbers in text, lines swapped.
pub fn mutate(input: &mut Vec<u8>, other: &[u8], tokens: &[&[u8]], max_len: usize, rng: &mut Rng) {
    let edits = 1 + rng.below(8);
    for _ in 0..edits {
        let len = input.len();
        let at = rng.below(len + 1);
        match rng.below(12) {
            0 if len > 0 => input[at.min(len - 1)] ^= 1 << rng.below(8),
            1 if len > 0 => input[at.min(len - 1)] = INTERESTING_BYTES[rng.below(INTERESTING_BYTES.len())],
            2 if len > 0 => input[at.min(len - 1)] = rng.next_u64() as u8,
            3 => {
                // A big-endian number over 2, 4 or 8 bytes: lengths and prefixes.
                let width = [2, 4, 8][rng.below(3)];
                let value: u64 = match rng.below(6) {
                    0 => 0,
                    1 => 125 + rng.below(3) as u64,
                    2 => 65535 + rng.below(2) as u64,
                    3 => u32::MAX as u64,
                    4 => 1 << 63,
                    _ => rng.next_u64() >> rng.below(64),
                };
                let bytes = value.to_be_bytes();
                let end = (at + width).min(len);
                input.splice(at..end, bytes[8 - width..].iter().copied());
            }
            4 if len > 0 => {
                let end = (at + 1 + rng.below(32)).min(len);
                input.drain(at.min(len - 1)..end);
            }
            5 if len > 0 => {
                let start = rng.below(len);
                let end = (start + 1 + rng.below(64)).min(len);
                let span = input[start..end].to_vec();
                input.splice(at..at, span);
            }
            6 => {
                let n = 1 + rng.below(16);
                let bytes: Vec<u8> = (0..n).map(|_| rng.next_u64() as u8).collect();
                input.splice(at..at, bytes);
            }
            7 | 8 if !tokens.is_empty() => {
                let token = tokens[rng.below(tokens.len())];
                input.splice(at..at, token.iter().copied());
            }
            9 if !other.is_empty() => {
                // A span of another input of the corpus (splicing).
                let start = rng.below(other.len());
                let end = (start + 1 + rng.below(128)).min(other.len());
                if rng.below(2) == 0 {
                    input.splice(at..at, other[start..end].iter().copied());
                } else {
                    input.truncate(at);
                    input.extend_from_slice(&other[start..]);
                }
            }
            10 => {
                // A number in text replaced by one on an edge.
                if let Some(start) = (0..len).map(|i| (at + i) % len).find(|&i| input[i].is_ascii_digit()) {
                    let end = (start..len).find(|&i| !input[i].is_ascii_digit()).unwrap_or(len);
                    let number = INTERESTING_NUMBERS[rng.below(INTERESTING_NUMBERS.len())];
                    input.splice(start..end, number.bytes());
                }
            }
            11 => swap_lines(input, rng),
            _ => {}
        }
    }
    input.truncate(max_len);
}

fn swap_lines(input: &mut Vec<u8>, rng: &mut Rng) {
    let mut lines: Vec<&[u8]> = input.split(|&b| b == b'\n').collect();
    if lines.len() < 2 {
        return;
    }
    let (a, b) = (rng.below(lines.len()), rng.below(lines.len()));
    lines.swap(a, b);
    *input = lines.join(&b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A target with a bug behind two conditions, as parsers hide theirs.
    struct Hidden;
    impl Target for Hidden {
        fn name(&self) -> &'static str {
            "hidden"
        }
        fn seeds(&self) -> Vec<Vec<u8>> {
            vec![b"GET / HTTP/1.1\r\n".to_vec()]
        }
        fn run(&mut self, input: &[u8]) -> Result<Outcome, String> {
            let depth = input.iter().take_while(|&&b| b == b'G').count();
            if input.len() > 3 && input[..3] == *b"GGG" && input.last() == Some(&0xff) {
                let v: Vec<u8> = Vec::new();
                let _ = v[input.len()]; // the bug: an unchecked index
            }
            Ok(Sig::new("hidden").mix(depth as u64).mix(input.last().copied().unwrap_or(0) as u64).done())
        }
    }

    #[test]
    fn the_loop_keeps_inputs_that_go_deeper_and_finds_the_hidden_panic() {
        let report = fuzz(&mut Hidden, &Options { execs: 200_000, seed: 7, ..Options::default() });
        let finding = report.finding.expect("the unchecked index is found");
        assert!(finding.message.contains("index out of bounds"), "{}", finding.message);
        assert!(finding.input.starts_with(b"GGG"));
    }

    #[test]
    fn a_panic_caught_inside_the_target_still_counts() {
        struct Catches;
        impl Target for Catches {
            fn name(&self) -> &'static str {
                "catches"
            }
            fn seeds(&self) -> Vec<Vec<u8>> {
                Vec::new()
            }
            fn run(&mut self, _: &[u8]) -> Result<Outcome, String> {
                let _ = std::panic::catch_unwind(|| panic!("hidden by the code under test"));
                Ok(0)
            }
        }
        let error = run_once(&mut Catches, b"x").unwrap_err();
        assert!(error.contains("hidden by the code under test"), "{error}");
    }
}
