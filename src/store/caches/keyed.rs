//! One bounded cache of values that are invalidated (or, where a change
//! tells exactly how, replaced atomically): moka for the bound, plus what
//! makes invalidation exact when a load races a change.
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// Generation counters, one per shard of keys: an invalidation bumps its
/// key's shard, and a load that began before the bump does not store. More
/// shards keep unrelated invalidations (every booking touches a staff
/// member's busy time) from voiding concurrent loads of other keys.
const SHARDS: usize = 64;

/// Whether the caches may be used: switched on, and hearing every other
/// replica's changes (always on SQLite, one process; on PostgreSQL while the
/// listener is connected). Shared by every cache of a store.
#[derive(Debug)]
pub struct Switch {
    enabled: bool,
    hearing: AtomicBool,
}

impl Switch {
    pub fn new(enabled: bool, hearing_from_start: bool) -> Self {
        Self { enabled, hearing: AtomicBool::new(hearing_from_start) }
    }

    pub fn usable(&self) -> bool {
        self.enabled && self.hearing.load(Ordering::SeqCst)
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    pub(super) fn set_hearing(&self, hearing: bool) {
        self.hearing.store(hearing, Ordering::SeqCst);
    }
}

/// Taken before a load begins and handed back to `store`.
#[derive(Clone, Copy, Debug)]
pub struct Ticket {
    epoch: u64,
    shard: usize,
    generation: u64,
}

/// Taken before a load of keys not known in advance (a warm-up): every
/// shard's generation at once.
#[derive(Clone, Debug)]
pub struct Snapshot {
    epoch: u64,
    generations: Vec<u64>,
}

pub struct KeyedCache<K, V> {
    entries: moka::sync::Cache<K, Arc<V>>,
    generations: Arc<[AtomicU64; SHARDS]>,
    /// Bumped by `invalidate_all`: voids every load in flight.
    epoch: Arc<AtomicU64>,
    switch: Arc<Switch>,
    label: &'static str,
    /// Registered once: looking a labelled counter up in the recorder on
    /// every lookup cost more than the lookup itself (measured, dashboard).
    hits: metrics::Counter,
    misses: metrics::Counter,
}

impl<K, V> Clone for KeyedCache<K, V> {
    fn clone(&self) -> Self {
        Self {
            entries: self.entries.clone(),
            generations: self.generations.clone(),
            epoch: self.epoch.clone(),
            switch: self.switch.clone(),
            label: self.label,
            hits: self.hits.clone(),
            misses: self.misses.clone(),
        }
    }
}

impl<K, V> KeyedCache<K, V>
where
    K: Hash + Eq + Send + Sync + Clone + 'static,
    V: Send + Sync + 'static,
{
    /// At most `capacity` entries (the least used go first), each at most
    /// `time_to_live` old: a safety net, entries are invalidated on change.
    pub fn new(label: &'static str, capacity: u64, time_to_live: Duration, switch: Arc<Switch>) -> Self {
        Self::weighted(label, capacity, time_to_live, switch, |_| 1)
    }

    /// As `new`, with `capacity` counted in what `weight` says each value
    /// weighs (rows, say) rather than in entries.
    pub fn weighted(
        label: &'static str,
        capacity: u64,
        time_to_live: Duration,
        switch: Arc<Switch>,
        weight: fn(&V) -> u32,
    ) -> Self {
        let entries = moka::sync::Cache::builder()
            .max_capacity(capacity)
            .weigher(move |_, value: &Arc<V>| weight(value))
            .time_to_live(time_to_live)
            .support_invalidation_closures()
            .eviction_listener(move |_, _, cause| {
                if cause == moka::notification::RemovalCause::Size {
                    metrics::counter!(crate::metrics::CACHE_EVICTIONS_TOTAL, "cache" => label).increment(1);
                }
            })
            .build();
        // The recorder first: a counter registered before it would count nowhere.
        crate::metrics::handle();
        Self {
            entries,
            generations: Arc::new(std::array::from_fn(|_| AtomicU64::new(0))),
            epoch: Arc::new(AtomicU64::new(0)),
            switch,
            label,
            hits: metrics::counter!(crate::metrics::CACHE_HITS_TOTAL, "cache" => label),
            misses: metrics::counter!(crate::metrics::CACHE_MISSES_TOTAL, "cache" => label),
        }
    }

    /// The cached value, if the cache may be used now; counts a hit or miss.
    pub fn get(&self, key: &K) -> Option<Arc<V>> {
        if !self.switch.usable() {
            return None;
        }
        let found = self.entries.get(key);
        if found.is_some() { &self.hits } else { &self.misses }.increment(1);
        found
    }

    /// Take before reading what will be stored under `key`.
    pub fn ticket(&self, key: &K) -> Ticket {
        let shard = shard_of(key);
        // The epoch first: an invalidate_all between the two reads then shows.
        let epoch = self.epoch.load(Ordering::SeqCst);
        Ticket { epoch, shard, generation: self.generations[shard].load(Ordering::SeqCst) }
    }

    /// Take before reading values whose keys the read itself finds.
    pub fn snapshot(&self) -> Snapshot {
        let epoch = self.epoch.load(Ordering::SeqCst);
        Snapshot { epoch, generations: self.generations.iter().map(|g| g.load(Ordering::SeqCst)).collect() }
    }

    /// `store` for a value loaded since `snapshot`.
    pub fn store_since(&self, key: K, value: Arc<V>, snapshot: &Snapshot) {
        let shard = shard_of(&key);
        let ticket = Ticket { epoch: snapshot.epoch, shard, generation: snapshot.generations[shard] };
        self.store(key, value, ticket);
    }

    /// Keeps a value loaded since `ticket`, unless its key (or everything)
    /// was invalidated meanwhile: it may be older than that change.
    pub fn store(&self, key: K, value: Arc<V>, ticket: Ticket) {
        if !self.switch.usable() || !self.unchanged_since(ticket) {
            return;
        }
        self.entries.insert(key.clone(), value);
        // An invalidation between the check and the insert bumped its
        // generation before removing: seen here, the entry goes again.
        if !self.unchanged_since(ticket) {
            self.entries.invalidate(&key);
            return;
        }
        metrics::gauge!(crate::metrics::CACHE_ENTRIES, "cache" => self.label).set(self.entries.entry_count() as f64);
    }

    fn unchanged_since(&self, ticket: Ticket) -> bool {
        self.epoch.load(Ordering::SeqCst) == ticket.epoch
            && self.generations[ticket.shard].load(Ordering::SeqCst) == ticket.generation
    }

    pub fn invalidate(&self, key: &K) {
        self.generations[shard_of(key)].fetch_add(1, Ordering::SeqCst);
        self.entries.invalidate(key);
    }

    /// Replaces the value under `key` with what `update` makes of it, atomic
    /// per key (two commits of one key cannot lose each other's update);
    /// `None` forgets it, an absent key stays absent. Loads in flight for the
    /// key's shard are voided as by `invalidate`: one that read before the
    /// change must not store over its result. A load that read after it may
    /// store before `update` runs, so `update` must tolerate a value that
    /// already holds the change.
    pub fn update(&self, key: &K, update: impl FnOnce(&V) -> Option<V>) {
        self.generations[shard_of(key)].fetch_add(1, Ordering::SeqCst);
        self.entries.entry(key.clone()).and_compute_with(|entry| match entry {
            Some(entry) => match update(entry.value()) {
                Some(value) => moka::ops::compute::Op::Put(Arc::new(value)),
                None => moka::ops::compute::Op::Remove,
            },
            None => moka::ops::compute::Op::Nop,
        });
    }

    /// Forgets the entries `matches` picks (a whole tenant's, say).
    pub fn invalidate_where(&self, matches: impl Fn(&K) -> bool + Send + Sync + 'static) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        // Only fails without support_invalidation_closures, which `new` sets;
        // forgetting everything is then the safe answer.
        if self.entries.invalidate_entries_if(move |key, _| matches(key)).is_err() {
            self.entries.invalidate_all();
        }
    }

    pub fn invalidate_all(&self) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.entries.invalidate_all();
    }

    /// Whether the cache weighs less than nine tenths of its bound: an
    /// entry stored now would not push others out.
    pub fn has_room(&self) -> bool {
        let bound = self.entries.policy().max_capacity().unwrap_or(u64::MAX);
        self.entries.weighted_size() < bound / 10 * 9
    }

    /// Whether `key` is cached (for tests and diagnosis; not a lookup).
    pub fn holds(&self, key: &K) -> bool {
        self.entries.contains_key(key)
    }
}

fn shard_of<K: Hash>(key: &K) -> usize {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    key.hash(&mut hasher);
    (hasher.finish() as usize) % SHARDS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache(enabled: bool, hearing: bool) -> KeyedCache<u32, &'static str> {
        KeyedCache::new("test", 100, Duration::from_secs(60), Arc::new(Switch::new(enabled, hearing)))
    }

    #[test]
    fn a_load_that_raced_an_invalidation_of_its_key_is_not_kept() {
        let cache = cache(true, true);
        let ticket = cache.ticket(&1);
        cache.invalidate(&1);
        cache.store(1, Arc::new("old"), ticket);
        assert!(cache.get(&1).is_none());
        let ticket = cache.ticket(&1);
        cache.store(1, Arc::new("new"), ticket);
        assert_eq!(cache.get(&1).as_deref(), Some(&"new"));
        cache.invalidate(&1);
        assert!(cache.get(&1).is_none());
    }

    #[test]
    fn an_update_replaces_a_cached_value_and_voids_older_loads() {
        let cache: KeyedCache<u32, Vec<u32>> =
            KeyedCache::new("test_update", 100, Duration::from_secs(60), Arc::new(Switch::new(true, true)));
        cache.store(1, Arc::new(vec![1]), cache.ticket(&1));
        let before_update = cache.ticket(&1);
        cache.update(&1, |value| Some([value.as_slice(), &[2]].concat()));
        assert_eq!(cache.get(&1).as_deref(), Some(&vec![1, 2]));
        // A load that began before the update read the old value: not kept.
        cache.store(1, Arc::new(vec![1]), before_update);
        assert_eq!(cache.get(&1).as_deref(), Some(&vec![1, 2]));
        // An absent key stays absent; None forgets.
        cache.update(&2, |_| Some(vec![9]));
        assert!(cache.get(&2).is_none());
        cache.update(&1, |_| None);
        assert!(cache.get(&1).is_none());
    }

    #[test]
    fn a_cache_has_room_until_nine_tenths_of_its_bound_are_taken() {
        let cache: KeyedCache<u32, Vec<u8>> = KeyedCache::weighted(
            "test_rows",
            100,
            Duration::from_secs(60),
            Arc::new(Switch::new(true, true)),
            |rows: &Vec<u8>| rows.len() as u32,
        );
        assert!(cache.has_room());
        for key in 0..8 {
            cache.store(key, Arc::new(vec![0; 10]), cache.ticket(&key));
        }
        cache.entries.run_pending_tasks();
        assert!(cache.has_room(), "80 of 100 taken");
        cache.store(8, Arc::new(vec![0; 10]), cache.ticket(&8));
        cache.entries.run_pending_tasks();
        assert!(!cache.has_room(), "90 of 100 taken");
    }

    #[test]
    fn invalidating_everything_voids_every_load_in_flight() {
        let cache = cache(true, true);
        let ticket = cache.ticket(&7);
        cache.invalidate_where(|key| *key == 3);
        cache.store(7, Arc::new("raced"), ticket);
        assert!(cache.get(&7).is_none());
    }

    #[test]
    fn a_snapshot_voids_exactly_the_keys_invalidated_since() {
        let cache = cache(true, true);
        let snapshot = cache.snapshot();
        cache.invalidate(&1);
        cache.store_since(1, Arc::new("raced"), &snapshot);
        assert!(cache.get(&1).is_none());
        // Another shard's key is untouched by that invalidation.
        let other = (2..200).find(|k| shard_of(k) != shard_of(&1)).expect("a key in another shard");
        cache.store_since(other, Arc::new("kept"), &snapshot);
        assert!(cache.get(&other).is_some());
    }

    #[test]
    fn a_disabled_or_deaf_cache_is_bypassed() {
        for cache in [cache(false, true), cache(true, false)] {
            let ticket = cache.ticket(&1);
            cache.store(1, Arc::new("x"), ticket);
            assert!(cache.get(&1).is_none());
        }
    }
}
