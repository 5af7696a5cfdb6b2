//! Freeing deeply nested values without deep Rust recursion: CPython's
//! "trashcan" (`Py_TRASHCAN_BEGIN` in Include/cpython/object.h).
//!
//! Dropping a value drops its children from inside its own drop, so a linked
//! list of 300000 `Node`s, or `a = [a]` repeated 200000 times, would recurse
//! 300000 levels deep when its head goes: far past a native thread's stack,
//! and the browser's wasm stack is 1 MB. The containers' payload types
//! ([`List`](super::value::List), [`Tuple`](super::value::Tuple),
//! [`Dict`](super::value::Dict), [`Instance`](super::value::Instance),
//! [`Function`](super::value::Function)) implement `Drop` by moving their
//! children out and handing them to [`bury`]: up to [`MAX_DEPTH`] nested
//! drops free their children at once (the common, shallow case costs a
//! counter); past it the children wait in a thread-local list that the
//! outermost drop frees one by one, each from its shallow frame, so the
//! stack never holds more than [`MAX_DEPTH`] levels of drops.

use std::any::Any;
use std::cell::{Cell, RefCell};

/// How many container drops may nest before the next one defers its
/// children (CPython's `_PyTrash_UNWIND_LEVEL` is 50 too). A level costs a
/// few hundred bytes of stack at most, so 50 levels stay far inside a 1 MB
/// wasm stack.
const MAX_DEPTH: u32 = 50;

thread_local! {
    /// How many `bury` calls are under way on this thread.
    static DEPTH: Cell<u32> = const { Cell::new(0) };
    /// Children deferred past [`MAX_DEPTH`], freed by the outermost `bury`.
    static PENDING: RefCell<Vec<Box<dyn Any>>> = const { RefCell::new(Vec::new()) };
}

/// Drops `children` (what a container's `Drop` took out of it) now, or, if
/// [`MAX_DEPTH`] drops are already nested, defers them to the outermost
/// `bury`, which frees them before it returns.
pub(crate) fn bury<T: 'static>(children: T) {
    let depth = DEPTH.get();
    if depth >= MAX_DEPTH {
        // `try_with`: while the thread's locals are destroyed at its exit,
        // PENDING may be gone; then drop in place (a thread ending is not
        // where a program's deep structures are freed).
        let mut children = Some(children);
        let _ = PENDING.try_with(|p| {
            if let (Ok(mut p), Some(c)) = (p.try_borrow_mut(), children.take()) {
                p.push(Box::new(c));
            }
        });
        drop(children);
        return;
    }
    DEPTH.set(depth + 1);
    drop(children);
    if depth == 0 {
        // The outermost drop: free what deeper ones deferred, each from
        // here (depth 1), deferring again past MAX_DEPTH levels below.
        while let Some(next) = PENDING.try_with(|p| p.borrow_mut().pop()).ok().flatten() {
            drop(next);
        }
    }
    DEPTH.set(depth);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A container whose drop goes through `bury`, as the value types' do.
    struct Node(Option<Box<Node>>);

    impl Drop for Node {
        fn drop(&mut self) {
            bury(self.0.take());
        }
    }

    #[test]
    fn a_million_nested_drops_fit_a_small_stack() {
        let t = std::thread::Builder::new()
            .stack_size(256 << 10)
            .spawn(|| {
                let mut head = Node(None);
                for _ in 0..1_000_000 {
                    head = Node(Some(Box::new(head)));
                }
                drop(head);
                (DEPTH.get(), PENDING.with(|p| p.borrow().len()))
            })
            .unwrap();
        assert_eq!(t.join().unwrap(), (0, 0));
    }
}
