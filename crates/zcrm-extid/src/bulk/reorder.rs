//! Emits row outcomes in input order although calls finish in any order.

use std::collections::BTreeMap;

/// Holds finished items until every earlier index is finished too.
#[derive(Debug)]
pub struct Reorder<T> {
    next: usize,
    waiting: BTreeMap<usize, T>,
    /// The most items ever held at once.
    pub peak: usize,
}

impl<T> Default for Reorder<T> {
    fn default() -> Self {
        Reorder { next: 0, waiting: BTreeMap::new(), peak: 0 }
    }
}

impl<T> Reorder<T> {
    /// Adds item `index` and passes every item that is now in order to `emit`.
    pub fn push(&mut self, index: usize, item: T, emit: &mut impl FnMut(T)) {
        self.waiting.insert(index, item);
        self.peak = self.peak.max(self.waiting.len());
        while let Some(item) = self.waiting.remove(&self.next) {
            emit(item);
            self.next += 1;
        }
    }

    /// True when nothing is held back.
    pub fn is_empty(&self) -> bool {
        self.waiting.is_empty()
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
