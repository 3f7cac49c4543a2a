//! The views joined on one connection, by topic.

use std::sync::Arc;

use tokio::task::AbortHandle;

use crate::message::InboundTx;

/// One joined view: its current join ref, its inbox and its task.
pub(super) struct Slot {
    pub(super) join_ref: Arc<str>,
    pub(super) inbox: Box<dyn InboundTx>,
    pub(super) task: AbortHandle,
    /// The topic of its parent, for a nested view.
    pub(super) parent: Option<Arc<str>>,
}

/// Almost always one entry: a list that grows one slot at a time is smaller than a hash map's
/// minimum table (4 buckets, 244 bytes), and a scan of at most
/// [`Limits::max_views_per_socket`](crate::Limits::max_views_per_socket) topics is cheap.
#[derive(Default)]
pub(super) struct Views(Vec<(Arc<str>, Slot)>);

impl Views {
    fn position(&self, topic: &str) -> Option<usize> {
        self.0.iter().position(|(t, _)| **t == *topic)
    }

    pub(super) fn get(&self, topic: &str) -> Option<&Slot> {
        self.position(topic).map(|i| &self.0[i].1)
    }

    /// The slot of `topic` if the frame's join ref (when it has one) is the current join's.
    pub(super) fn member(&self, topic: &str, join_ref: Option<&str>) -> Option<&Slot> {
        self.get(topic)
            .filter(|slot| join_ref.is_none_or(|jr| *jr == *slot.join_ref))
    }

    pub(super) fn contains_key(&self, topic: &str) -> bool {
        self.position(topic).is_some()
    }

    pub(super) fn len(&self) -> usize {
        self.0.len()
    }

    pub(super) fn remove(&mut self, topic: &str) -> Option<Slot> {
        let i = self.position(topic)?;
        Some(self.0.swap_remove(i).1)
    }

    pub(super) fn insert(&mut self, topic: Arc<str>, slot: Slot) -> Option<Slot> {
        if let Some(i) = self.position(&topic) {
            return Some(std::mem::replace(&mut self.0[i].1, slot));
        }
        if self.0.len() == self.0.capacity() {
            self.0.reserve_exact(1);
        }
        self.0.push((topic, slot));
        None
    }

    pub(super) fn drain(&mut self) -> std::vec::Drain<'_, (Arc<str>, Slot)> {
        self.0.drain(..)
    }

    /// Removes the nested views of `parent` (and theirs, recursively); returns them.
    pub(super) fn remove_children(&mut self, parent: &str) -> Vec<(Arc<str>, Slot)> {
        let mut removed = Vec::new();
        let mut parents = vec![Arc::<str>::from(parent)];
        while let Some(parent) = parents.pop() {
            let mut i = 0;
            while i < self.0.len() {
                if self.0[i].1.parent.as_deref() == Some(&*parent) {
                    let (topic, slot) = self.0.swap_remove(i);
                    parents.push(topic.clone());
                    removed.push((topic, slot));
                } else {
                    i += 1;
                }
            }
        }
        removed
    }
}
