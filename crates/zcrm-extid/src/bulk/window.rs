//! The grouping window: rows grouped by parent, full groups ready to send, the oldest group sent early when the
//! window is full, and rows repeating a pair that is already waiting or in flight held back until it is done.

use std::collections::{HashMap, HashSet, VecDeque};

use serde_json::{Map, Value};

use crate::related::Parent;

/// One row in a batch.
pub(super) struct Item {
    pub row: usize,
    pub record: Map<String, Value>,
    pub key: String,
}

/// Rows of one parent, sent in one call.
pub(super) struct Batch {
    pub parent_key: String,
    pub parent: Parent,
    pub items: Vec<Item>,
}

fn busy_key(parent_key: &str, key: &str) -> String {
    let mut k = String::with_capacity(parent_key.len() + key.len() + 1);
    k.push_str(parent_key);
    k.push('\0');
    k.push_str(key);
    k
}

/// `#id` or `field=value`: one string per parent (no `=` or `#` can start a field name).
pub(super) fn parent_key(p: &Parent) -> String {
    match p {
        Parent::Id(id) => {
            let mut k = String::with_capacity(id.as_str().len() + 1);
            k.push('#');
            k.push_str(id.as_str());
            k
        }
        Parent::External { field, value } => {
            let mut k = String::with_capacity(field.as_str().len() + value.as_str().len() + 1);
            k.push_str(field.as_str());
            k.push('=');
            k.push_str(value.as_str());
            k
        }
    }
}

/// Rows waiting to be sent: groups by parent (oldest first), rows held back by a duplicate key, full batches.
#[derive(Default)]
pub(super) struct Window {
    groups: HashMap<String, Batch>,
    order: VecDeque<String>,
    blocked: VecDeque<(Parent, Item)>,
    /// `parent key + NUL + related key` of every row waiting or in flight.
    busy: HashSet<String>,
    pub ready: VecDeque<Batch>,
    pub buffered: usize,
    pub peak: usize,
}

impl Window {
    pub fn place(&mut self, parent: Parent, item: Item, batch_size: usize) {
        let pk = parent_key(&parent);
        if !self.busy.insert(busy_key(&pk, &item.key)) {
            self.blocked.push_back((parent, item));
            self.buffered += 1;
            self.peak = self.peak.max(self.buffered);
            return;
        }
        let group = self.groups.entry(pk.clone()).or_insert_with(|| {
            self.order.push_back(pk.clone());
            Batch { parent_key: pk.clone(), parent, items: Vec::new() }
        });
        group.items.push(item);
        self.buffered += 1;
        self.peak = self.peak.max(self.buffered);
        if group.items.len() >= batch_size {
            let batch = self.groups.remove(&pk).expect("present");
            self.buffered -= batch.items.len();
            self.ready.push_back(batch);
        }
    }

    /// Moves the oldest group to `ready`; false if there is none.
    pub fn flush_oldest(&mut self) -> bool {
        while let Some(pk) = self.order.pop_front() {
            if let Some(batch) = self.groups.remove(&pk) {
                self.buffered -= batch.items.len();
                self.ready.push_back(batch);
                return true;
            }
        }
        false
    }

    /// Places held-back rows whose earlier twin is done.
    pub fn retry_blocked(&mut self, batch_size: usize) {
        let n = self.blocked.len();
        for _ in 0..n {
            let (parent, item) = self.blocked.pop_front().expect("counted");
            self.buffered -= 1;
            self.place(parent, item, batch_size);
        }
    }

    pub fn release(&mut self, batch: &Batch) {
        for item in &batch.items {
            self.busy.remove(&busy_key(&batch.parent_key, &item.key));
        }
    }

    pub fn is_empty(&self) -> bool {
        self.groups.is_empty() && self.blocked.is_empty() && self.ready.is_empty()
    }

    /// Everything still waiting, in no particular order.
    pub fn drain(&mut self) -> Vec<(String, Item)> {
        let mut out = Vec::new();
        for (_, b) in self.groups.drain() {
            out.extend(b.items.into_iter().map(|i| (b.parent.path_value().to_owned(), i)));
        }
        for b in self.ready.drain(..) {
            out.extend(b.items.into_iter().map(|i| (b.parent.path_value().to_owned(), i)));
        }
        out.extend(self.blocked.drain(..).map(|(p, i)| (p.path_value().to_owned(), i)));
        self.buffered = 0;
        out
    }
}
