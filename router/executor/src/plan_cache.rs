//! Bounded, least-recently-used caches for parsed documents and query plans.
//!
//! Entries are `Arc`s so a hit costs one hash lookup and one reference count; the lock is held
//! only for the lookup itself, never while parsing or planning.

use std::hash::Hash;
use std::num::NonZeroUsize;
use std::sync::Mutex;

use lru::LruCache;

/// A thread-safe LRU cache of cheaply cloneable values.
pub(crate) struct BoundedCache<K: Hash + Eq, V: Clone> {
    inner: Mutex<LruCache<K, V>>,
}

impl<K: Hash + Eq, V: Clone> BoundedCache<K, V> {
    /// A cache holding at most `capacity` entries (at least one).
    pub(crate) fn new(capacity: usize) -> Self {
        let capacity = NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN);
        Self {
            inner: Mutex::new(LruCache::new(capacity)),
        }
    }

    pub(crate) fn get(&self, key: &K) -> Option<V> {
        let mut cache = self
            .inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        cache.get(key).cloned()
    }

    pub(crate) fn insert(&self, key: K, value: V) {
        let mut cache = self
            .inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        cache.put(key, value);
    }

    pub(crate) fn len(&self) -> usize {
        let cache = self
            .inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        cache.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_the_least_recently_used_entry() {
        let cache = BoundedCache::new(2);
        cache.insert(1, "one");
        cache.insert(2, "two");
        assert_eq!(cache.get(&1), Some("one"));
        cache.insert(3, "three");
        assert_eq!(cache.get(&2), None);
        assert_eq!(cache.get(&1), Some("one"));
        assert_eq!(cache.get(&3), Some("three"));
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn zero_capacity_still_holds_one_entry() {
        let cache = BoundedCache::new(0);
        cache.insert("a", 1);
        assert_eq!(cache.get(&"a"), Some(1));
    }
}
