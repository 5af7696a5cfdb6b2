//! Lost updates, found where they happen.
//!
//! A shared variable (a scenario counter, a Python global or instance
//! attribute holding an int) remembers, per thread, the value that thread
//! last read and when. When a thread writes a value computed from its read
//! but the variable has moved on since (other threads wrote it), the write
//! erases those updates: `overwritten = value before the write - value
//! read`. That is the rule the counters' `lost_updates` metric sums to
//! (`expected - value`): each write adds one to `expected` and sets the
//! value to `read + 1`, so it adds `value before - read` to the difference.
//! A stale write can also take the value back down, below what another
//! thread read; that thread's write then brings erased updates back, and
//! counts negative (`overwritten` below zero: restored).
//!
//! Only lost updates become trace events; a read or a write updates its
//! own thread's short list of latest reads, so a run of 10^5 increments
//! does not grow the trace, and threads that do not race pay next to nothing.
//! Reads pushed out of that list are kept in a map beside it, so a write
//! finds its thread's read however many other variables it read in between.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::rc::{Rc, Weak};

use twine_core::Time;

use crate::python::value::Instance;

/// Which shared variable.
#[derive(Clone, Debug)]
pub(crate) enum Var {
    /// A scenario counter, by index.
    Counter(u32),
    /// A Python module global.
    Global(Rc<str>),
    /// A Python instance attribute. The `Weak` keeps the allocation, so its
    /// address is not reused for another instance while the entry lives.
    Attr(Weak<Instance>, Rc<str>),
}

impl Var {
    pub fn attr(instance: &Rc<Instance>, name: &Rc<str>) -> Var {
        Var::Attr(Rc::downgrade(instance), Rc::clone(name))
    }
}

impl PartialEq for Var {
    fn eq(&self, other: &Var) -> bool {
        match (self, other) {
            (Var::Counter(a), Var::Counter(b)) => a == b,
            (Var::Global(a), Var::Global(b)) => Rc::ptr_eq(a, b) || a == b,
            (Var::Attr(a, x), Var::Attr(b, y)) => a.ptr_eq(b) && x == y,
            _ => false,
        }
    }
}

impl Eq for Var {}

/// Hashes what `eq` compares: the index, the name's text, the instance's address and the name.
impl Hash for Var {
    fn hash<H: Hasher>(&self, h: &mut H) {
        match self {
            Var::Counter(i) => (0u8, *i).hash(h),
            Var::Global(name) => (1u8, &**name).hash(h),
            Var::Attr(instance, name) => (2u8, instance.as_ptr() as usize, &**name).hash(h),
        }
    }
}

impl Var {
    /// False once the instance it is an attribute of is gone: nothing can read it again.
    fn alive(&self) -> bool {
        match self {
            Var::Attr(instance, _) => instance.strong_count() > 0,
            _ => true,
        }
    }
}

/// A read a thread made and has not yet written back.
#[derive(Clone, Copy, Debug)]
struct Read {
    thread: u32,
    value: i64,
    at: Time,
}

/// A write that erased other threads' updates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Lost {
    pub thread: u32,
    pub read: i64,
    pub read_at: Time,
    pub wrote: i64,
    /// Updates erased; below zero, updates an earlier stale write erased that this one restores.
    pub overwritten: i64,
}

/// How many reads each thread keeps in its short list: its latest reads of
/// that many distinct shared variables, found by a scan. Older ones move to
/// the thread's map, looked up only when the list misses.
pub(crate) const READS_KEPT: usize = 16;

/// One thread's outstanding reads, one per variable it read.
#[derive(Default)]
struct Reads {
    /// The latest, newest first: a loop's few shared variables are found in
    /// a scan of a few entries (no hashing, no allocation, nothing shared),
    /// so watching for lost updates costs next to nothing where no thread races.
    recent: Vec<(Var, Read)>,
    /// The reads pushed out of `recent` (empty until a thread reads more than
    /// [`READS_KEPT`] variables), so every write finds its read: exact.
    older: HashMap<Var, Read>,
    /// `older`'s size when the entries of instances that are gone were last dropped.
    pruned_at: usize,
}

impl Reads {
    /// Keeps `var`'s read in the map, dropping dead instances' entries as it grows.
    fn keep_older(&mut self, var: Var, read: Read) {
        self.older.insert(var, read);
        if self.older.len() > 2 * self.pruned_at.max(64) {
            self.older.retain(|v, _| v.alive());
            self.pruned_at = self.older.len();
        }
    }
}

/// The reads each thread has outstanding: per thread, its latest read of
/// each shared variable it read.
#[derive(Default)]
pub(crate) struct Races {
    threads: Vec<Reads>,
}

impl Races {
    fn reads(&mut self, thread: u32) -> &mut Reads {
        let i = thread as usize;
        if self.threads.len() <= i {
            self.threads.resize_with(i + 1, Reads::default);
        }
        &mut self.threads[i]
    }

    /// Records `read` as the thread's latest of `var`; gives back the one it replaces.
    fn note(&mut self, var: &Var, read: Read) -> Option<Read> {
        let reads = self.reads(read.thread);
        if let Some(at) = reads.recent.iter().position(|(v, _)| v == var) {
            let old = reads.recent[at].1;
            if at == 0 {
                reads.recent[0].1 = read;
            } else {
                reads.recent.remove(at);
                reads.recent.insert(0, (var.clone(), read));
            }
            return Some(old);
        }
        let old = if reads.older.is_empty() { None } else { reads.older.remove(var) };
        if reads.recent.len() == READS_KEPT {
            if let Some((pushed_out, its_read)) = reads.recent.pop() {
                reads.keep_older(pushed_out, its_read);
            }
        }
        reads.recent.insert(0, (var.clone(), read));
        old
    }

    /// `thread` read `value` from `var` at `at`.
    pub fn read(&mut self, var: &Var, thread: u32, value: i64, at: Time) {
        self.note(var, Read { thread, value, at });
    }

    /// `thread` writes `wrote` over `before`, computed from `base`, the value
    /// it read (`None`: its last recorded read; a Python write with no read
    /// behind it erases nothing this can name). Afterwards the thread's view
    /// is what it wrote.
    pub fn write(
        &mut self,
        var: &Var,
        thread: u32,
        base: Option<i64>,
        before: i64,
        wrote: i64,
        at: Time,
    ) -> Option<Lost> {
        let read = self.note(var, Read { thread, value: wrote, at });
        let base = base.or(read.map(|r| r.value))?;
        let overwritten = before.checked_sub(base).filter(|n| *n != 0)?;
        let read_at = read.filter(|r| r.value == base).map_or(at, |r| r.at);
        Some(Lost { thread, read: base, read_at, wrote, overwritten })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Time {
        Time::from_nanos(n * 1_000_000)
    }

    #[test]
    fn a_write_from_a_stale_read_erases_the_updates_made_since() {
        let mut races = Races::default();
        let v = Var::Global("hits".into());
        races.read(&v, 1, 10, ms(1));
        races.read(&v, 2, 10, ms(2));
        // Thread 2 writes 11 over 10: nothing lost.
        assert_eq!(races.write(&v, 2, None, 10, 11, ms(3)), None);
        races.read(&v, 2, 11, ms(4));
        assert_eq!(races.write(&v, 2, None, 11, 12, ms(5)), None);
        // Thread 1 still holds 10: writing 11 over 12 erases two increments.
        let lost = races.write(&v, 1, None, 12, 11, ms(6)).unwrap();
        assert_eq!(lost, Lost { thread: 1, read: 10, read_at: ms(1), wrote: 11, overwritten: 2 });
    }

    #[test]
    fn a_write_after_reading_forty_other_variables_still_finds_its_read() {
        let mut races = Races::default();
        let hits = Var::Global("hits".into());
        races.read(&hits, 1, 10, ms(1));
        for i in 0..40 {
            races.read(&Var::Global(format!("v{i}").into()), 1, i, ms(2));
            // Thread 2 counts meanwhile.
            races.read(&hits, 2, 10 + i, ms(2));
            assert_eq!(races.write(&hits, 2, None, 10 + i, 11 + i, ms(2)), None);
        }
        // Thread 1 still holds 10: writing 11 over 50 erases 40 increments.
        let lost = races.write(&hits, 1, None, 50, 11, ms(3)).expect("a lost update");
        assert_eq!(lost, Lost { thread: 1, read: 10, read_at: ms(1), wrote: 11, overwritten: 40 });
        // Its view is now what it wrote, wherever the read was kept.
        assert_eq!(races.write(&hits, 1, None, 11, 12, ms(4)), None);
    }

    #[test]
    fn reads_of_attributes_of_instances_that_are_gone_are_dropped() {
        use crate::python::value::{Class, Instance};
        let mut races = Races::default();
        let class = Class::new("Job", None);
        let name: Rc<str> = "done".into();
        for i in 0..1000 {
            let job = Rc::new(Instance { class: Rc::clone(&class), attrs: Default::default() });
            races.read(&Var::attr(&job, &name), 1, i, ms(1));
        }
        let reads = &races.threads[1];
        assert!(reads.older.len() <= 2 * 64 + 1, "{} reads of dead instances kept", reads.older.len());
    }

    #[test]
    fn a_write_with_no_read_behind_it_erases_nothing_it_can_name() {
        let mut races = Races::default();
        let v = Var::Global("hits".into());
        assert_eq!(races.write(&v, 1, None, 9, 6, ms(1)), None);
        // A counter step names the value it computed from.
        let c = Var::Counter(0);
        let lost = races.write(&c, 1, Some(5), 9, 6, ms(2)).unwrap();
        assert_eq!((lost.read, lost.read_at, lost.overwritten), (5, ms(2), 4));
    }
}
