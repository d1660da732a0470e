//! The grouping window: rows grouped by their operation's group key (the parent, for related records), full
//! groups ready to send, stale groups sent as they are, and rows repeating a key that is already waiting or in
//! flight held back until it is done.
//!
//! Every row carries its read sequence number. A group's age is the sequence number of its oldest row; a group
//! is *stale* once that row is a whole window behind the newest row read ([`Window::flush_stale`]). Rows held
//! here (in groups or held back) are counted in [`Window::buffered`]; rows of groups ready to send in
//! [`Window::ready_rows`].

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::sync::Arc;

/// The window's hasher: the multiply-rotate hash of rustc's `FxHasher`, a few instructions per word where the
/// standard SipHash takes dozens (the window hashes every row twice). The keys are the job's own parent and
/// record keys, so resistance to crafted collisions is not needed; a collision only costs a probe (or, in the
/// busy set, holds a row back a little longer).
#[derive(Default, Clone, Copy)]
pub(super) struct FxHasher(u64);

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut last = [0u8; 8];
            last[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(last));
        }
    }

    fn write_u8(&mut self, b: u8) {
        self.add(u64::from(b));
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type Fx = BuildHasherDefault<FxHasher>;

/// One row in a batch.
pub(super) struct Item<R> {
    /// The caller's row index.
    pub row: usize,
    /// Read sequence number (0, 1, 2, ... in the order rows were read).
    pub seq: u64,
    /// The validated row (moved into the call when it is sent).
    pub data: Option<R>,
    /// The row's key within its group.
    pub key: String,
}

/// Rows of one group, sent in one call.
pub(super) struct Batch<R> {
    pub group: String,
    pub label: Arc<str>,
    pub items: Vec<Item<R>>,
}

struct Group<R> {
    label: Arc<str>,
    items: Vec<Item<R>>,
    generation: u64,
}

/// Rows waiting to be sent (see the module docs).
pub(super) struct Window<R> {
    groups: HashMap<String, Group<R>, Fx>,
    /// Groups in the order of their oldest row: (oldest seq, group, generation). Entries of groups flushed since
    /// are skipped (their generation no longer matches).
    order: VecDeque<(u64, String, u64)>,
    blocked: VecDeque<(String, Arc<str>, Item<R>)>,
    /// Hashes of `group NUL key` of every row waiting in a group or in flight. A collision only holds a row
    /// back a little longer; it can never put two rows of one key in one call.
    busy: HashSet<u64, Fx>,
    hasher: Fx,
    /// Keys are busy across groups ([`super::Operation::keys_span_groups`]), not per group.
    keys_span_groups: bool,
    next_generation: u64,
    pub ready: VecDeque<Batch<R>>,
    pub buffered: usize,
    pub ready_rows: usize,
    pub peak: usize,
}

impl<R> Default for Window<R> {
    fn default() -> Self {
        Window {
            groups: HashMap::default(),
            order: VecDeque::new(),
            blocked: VecDeque::new(),
            busy: HashSet::default(),
            hasher: Fx::default(),
            keys_span_groups: false,
            next_generation: 0,
            ready: VecDeque::new(),
            buffered: 0,
            ready_rows: 0,
            peak: 0,
        }
    }
}

impl<R> Window<R> {
    /// A window whose row keys are busy across groups when `keys_span_groups` (see
    /// [`super::Operation::keys_span_groups`]), else per group.
    pub fn new(keys_span_groups: bool) -> Self {
        Window { keys_span_groups, ..Window::default() }
    }

    fn busy_hash(&self, group: &str, key: &str) -> u64 {
        if self.keys_span_groups { self.hasher.hash_one(key) } else { self.hasher.hash_one((group, key)) }
    }

    /// Adds a row to its group (created with `label()` if new); a full group becomes ready.
    pub fn place(&mut self, group: String, label: impl FnOnce(&R) -> Arc<str>, item: Item<R>, batch_size: usize) {
        self.buffered += 1;
        self.peak = self.peak.max(self.buffered + self.ready_rows);
        if !self.busy.insert(self.busy_hash(&group, &item.key)) {
            let label = label(item.data.as_ref().expect("a placed row has its data"));
            self.blocked.push_back((group, label, item));
            return;
        }
        self.put(group, label, item, batch_size);
    }

    fn put(&mut self, group: String, label: impl FnOnce(&R) -> Arc<str>, item: Item<R>, batch_size: usize) {
        let full = match self.groups.get_mut(&group) {
            Some(g) => {
                g.items.push(item);
                g.items.len() >= batch_size
            }
            None => {
                let generation = self.next_generation;
                self.next_generation += 1;
                self.order.push_back((item.seq, group.clone(), generation));
                let label = label(item.data.as_ref().expect("a placed row has its data"));
                let mut items = Vec::with_capacity(batch_size.min(16));
                items.push(item);
                let full = items.len() >= batch_size;
                self.groups.insert(group.clone(), Group { label, items, generation });
                full
            }
        };
        if full {
            self.make_ready(&group);
        }
    }

    fn make_ready(&mut self, group: &str) {
        let (group, g) = self.groups.remove_entry(group).expect("present");
        self.buffered -= g.items.len();
        self.ready_rows += g.items.len();
        self.ready.push_back(Batch { group, label: g.label, items: g.items });
    }

    /// The oldest group still waiting: (oldest row's seq, group key).
    fn oldest(&mut self) -> Option<(u64, String)> {
        while let Some((seq, group, generation)) = self.order.front() {
            if self.groups.get(group).is_some_and(|g| g.generation == *generation) {
                return Some((*seq, group.clone()));
            }
            self.order.pop_front();
        }
        None
    }

    /// Makes the oldest group ready as it is; false if no group is waiting.
    pub fn flush_oldest(&mut self) -> bool {
        match self.oldest() {
            Some((_, group)) => {
                self.order.pop_front();
                self.make_ready(&group);
                true
            }
            None => false,
        }
    }

    /// Makes ready every group whose oldest row is `window` rows or more behind `next_seq` (the next row's
    /// sequence number).
    pub fn flush_stale(&mut self, next_seq: u64, window: usize) {
        while let Some((seq, _)) = self.oldest() {
            if seq.saturating_add(window as u64) > next_seq {
                break;
            }
            self.flush_oldest();
        }
    }

    /// Whether any group is waiting (not counting held-back rows).
    #[cfg(test)]
    pub fn has_groups(&self) -> bool {
        !self.groups.is_empty()
    }

    /// Places held-back rows whose earlier twin is done.
    pub fn retry_blocked(&mut self, batch_size: usize) {
        for _ in 0..self.blocked.len() {
            let (group, label, item) = self.blocked.pop_front().expect("counted");
            let hash = self.busy_hash(&group, &item.key);
            if self.busy.insert(hash) {
                self.put(group, |_| label, item, batch_size);
            } else {
                self.blocked.push_back((group, label, item));
            }
        }
    }

    /// Takes the next ready batch.
    pub fn take_ready(&mut self) -> Option<Batch<R>> {
        let batch = self.ready.pop_front()?;
        self.ready_rows -= batch.items.len();
        Some(batch)
    }

    /// Marks a finished batch's keys free again.
    pub fn release<'k>(&mut self, group: &str, keys: impl Iterator<Item = &'k str>) {
        for key in keys {
            let hash = self.busy_hash(group, key);
            self.busy.remove(&hash);
        }
    }

    /// True when no row is waiting anywhere.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty() && self.blocked.is_empty() && self.ready.is_empty()
    }

    /// Everything still waiting (groups, ready batches, held-back rows), with each row's group label.
    pub fn drain(&mut self) -> Vec<(Arc<str>, Item<R>)> {
        let mut out = Vec::with_capacity(self.buffered + self.ready_rows);
        for (_, g) in self.groups.drain() {
            let label = g.label;
            out.extend(g.items.into_iter().map(|i| (label.clone(), i)));
        }
        for b in self.ready.drain(..) {
            let label = b.label;
            out.extend(b.items.into_iter().map(|i| (label.clone(), i)));
        }
        out.extend(self.blocked.drain(..).map(|(_, label, i)| (label, i)));
        self.order.clear();
        self.buffered = 0;
        self.ready_rows = 0;
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(seq: u64, key: &str) -> Item<()> {
        Item { row: seq as usize, seq, data: Some(()), key: key.to_owned() }
    }

    fn place(w: &mut Window<()>, group: &str, seq: u64, key: &str, batch: usize) {
        w.place(group.to_owned(), |_| Arc::from(group), item(seq, key), batch);
    }

    #[test]
    fn full_groups_are_ready_and_stale_groups_flush_in_age_order() {
        let mut w = Window::default();
        for (seq, g) in ["a", "b", "a", "c", "a"].iter().enumerate() {
            place(&mut w, g, seq as u64, &seq.to_string(), 3);
        }
        assert_eq!(w.ready.len(), 1, "a is full");
        assert_eq!((w.buffered, w.ready_rows), (2, 3));
        // b (seq 1) and c (seq 3): with a window of 3 rows and the next row 5, only b is 3 rows behind.
        w.flush_stale(5, 3);
        assert_eq!(w.ready.iter().map(|b| b.group.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        assert!(w.flush_oldest());
        assert!(!w.flush_oldest());
        assert!(w.take_ready().is_some() && w.ready_rows == 2);
    }

    #[test]
    fn a_busy_key_is_held_back_until_released() {
        let mut w = Window::default();
        place(&mut w, "a", 0, "k", 10);
        place(&mut w, "a", 1, "k", 10);
        assert_eq!(w.buffered, 2);
        assert!(w.flush_oldest());
        let batch = w.take_ready().unwrap();
        assert_eq!(batch.items.len(), 1, "the twin waits");
        w.retry_blocked(10);
        assert!(!w.has_groups(), "still busy");
        w.release("a", batch.items.iter().map(|i| i.key.as_str()));
        w.retry_blocked(10);
        assert!(w.has_groups());
        assert_eq!(w.drain().len(), 1);
        assert!(w.is_empty());
    }

    #[test]
    fn keys_spanning_groups_are_held_back_across_groups() {
        let mut per_group = Window::default();
        place(&mut per_group, "a", 0, "k", 10);
        place(&mut per_group, "b", 1, "k", 10);
        assert!(per_group.flush_oldest() && per_group.flush_oldest(), "per group: both go");
        let mut spanning = Window::new(true);
        place(&mut spanning, "a", 0, "k", 10);
        place(&mut spanning, "b", 1, "k", 10);
        assert!(spanning.flush_oldest());
        assert!(!spanning.flush_oldest(), "the twin in group b waits for the one in group a");
        let batch = spanning.take_ready().unwrap();
        spanning.release("a", batch.items.iter().map(|i| i.key.as_str()));
        spanning.retry_blocked(10);
        assert!(spanning.flush_oldest(), "placed in its own group once the twin is done");
        assert_eq!(spanning.take_ready().unwrap().group, "b");
    }
}
