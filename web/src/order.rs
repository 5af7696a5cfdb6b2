//! One stable sort for the crate's sorts that are not on a hot path.
//!
//! Each `sort_by` on another element type (or with another closure) is
//! another copy of the standard library's sort in the wasm module, about
//! 4.5 KB of code each; sorting positions through a comparator behind `dyn`
//! is one copy for all of them. Python's `sorted` and `list.sort` go
//! through it too: their comparisons call back into the interpreter anyway.

use std::cmp::Ordering;

/// `items` sorted by `cmp`, equal ones in their first order (a stable sort).
pub(crate) fn sorted_by<T>(items: Vec<T>, cmp: &mut dyn FnMut(&T, &T) -> Ordering) -> Vec<T> {
    let order = stable_order(items.len(), &mut |a, b| cmp(&items[a], &items[b]));
    let mut slots: Vec<Option<T>> = items.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}

/// The positions `0..len` in the order `cmp` (which compares two positions)
/// puts them, ties in position order.
fn stable_order(len: usize, cmp: &mut dyn FnMut(usize, usize) -> Ordering) -> Vec<usize> {
    let mut order: Vec<usize> = (0..len).collect();
    order.sort_by(|&a, &b| cmp(a, b));
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_by_the_comparator_and_keeps_ties_in_their_first_order() {
        let items = vec![(3, 'a'), (1, 'b'), (3, 'c'), (2, 'd'), (1, 'e')];
        let sorted = sorted_by(items, &mut |a, b| a.0.cmp(&b.0));
        assert_eq!(sorted, vec![(1, 'b'), (1, 'e'), (2, 'd'), (3, 'a'), (3, 'c')]);
    }
}
