//! Emits row outcomes in input order although calls finish in any order.

use std::collections::VecDeque;

/// Holds finished items until every earlier index is finished too. Items are kept in a ring indexed from the
/// next index to emit: outcomes arrive at most a grouping window (plus the calls in flight) ahead of it, so the
/// ring stays that small, and each push is O(1).
#[derive(Debug)]
pub struct Reorder<T> {
    next: usize,
    slots: VecDeque<Option<T>>,
    held: usize,
    /// The most items ever held at once.
    pub peak: usize,
}

impl<T> Default for Reorder<T> {
    fn default() -> Self {
        Reorder { next: 0, slots: VecDeque::new(), held: 0, peak: 0 }
    }
}

impl<T> Reorder<T> {
    /// Adds item `index` (not emitted before) and passes every item that is now in order to `emit`.
    pub fn push(&mut self, index: usize, item: T, emit: &mut impl FnMut(T)) {
        let offset = index.checked_sub(self.next).expect("an index is pushed once, before it is emitted");
        if offset >= self.slots.len() {
            self.slots.resize_with(offset + 1, || None);
        }
        debug_assert!(self.slots[offset].is_none(), "index {index} pushed twice");
        self.slots[offset] = Some(item);
        self.held += 1;
        self.peak = self.peak.max(self.held);
        while let Some(Some(_)) = self.slots.front() {
            let item = self.slots.pop_front().flatten().expect("checked");
            self.held -= 1;
            self.next += 1;
            emit(item);
        }
    }

    /// True when nothing is held back.
    pub fn is_empty(&self) -> bool {
        self.held == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emits_in_order() {
        let mut r = Reorder::default();
        let mut out = Vec::new();
        for i in [2, 0, 3, 1, 4] {
            r.push(i, i, &mut |x| out.push(x));
        }
        assert_eq!(out, [0, 1, 2, 3, 4]);
        assert!(r.is_empty());
        assert_eq!(r.peak, 3, "2 and 3 wait for 1");
    }
}
