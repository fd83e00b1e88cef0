//! Clients, projects and flows that recently passed the rules, kept in the instance for
//! a bounded time so that a warm request needs no read before its write.
//!
//! Staleness is one-sided and bounded: an entry is used only while younger than the
//! configured bound, and only to *accept*. A pair that fails the rules from the cache is
//! read again, so a flow that was activated (or a project created) is accepted at once,
//! and a flow that was paused (or deleted), or a client suspended or revoked, stops being
//! accepted at most the bound later. The rules themselves (client status and revocation,
//! owner, status, liveness, type) run on every request.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::model::{Client, ClientId, FlowId, Project, ProjectFlow, ProjectId, Timestamp};

/// Pairs kept at most; a Lambda instance serves few projects, this bounds the memory of
/// one that serves many (each entry is well under 1 KiB).
pub const CAPACITY: usize = 256;

/// What one read found for a caller's project and flow: the client's item (none: an
/// active client), the project and the flow.
#[derive(Clone, Debug, PartialEq)]
pub struct Found {
    pub client: Option<Client>,
    pub project: Project,
    pub flow: ProjectFlow,
}

/// The caller, the project and the flow of a request.
pub type Key = (ClientId, ProjectId, FlowId);

pub struct ProjectCache {
    max_age_ms: i64,
    entries: Mutex<HashMap<Key, Entry>>,
}

struct Entry {
    found: Found,
    read_at: Timestamp,
}

impl ProjectCache {
    /// `max_age_seconds` 0 turns the cache off.
    pub fn new(max_age_seconds: u32) -> Self {
        Self {
            max_age_ms: i64::from(max_age_seconds) * 1000,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn fresh(&self, entry: &Entry, now: Timestamp) -> bool {
        let age = now.unix_millis() - entry.read_at.unix_millis();
        (0..self.max_age_ms).contains(&age)
    }

    /// What was read less than the bound ago, if it was.
    pub fn get(&self, key: Key, now: Timestamp) -> Option<Found> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(&key)
            .filter(|e| self.fresh(e, now))
            .map(|e| e.found.clone())
    }

    /// Keeps what a read at `now` found.
    pub fn put(&self, key: Key, found: &Found, now: Timestamp) {
        if self.max_age_ms == 0 {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= CAPACITY && !entries.contains_key(&key) {
            entries.retain(|_, e| self.fresh(e, now));
            if entries.len() >= CAPACITY
                && let Some(oldest) = entries.iter().min_by_key(|(_, e)| e.read_at).map(|(k, _)| *k)
            {
                entries.remove(&oldest);
            }
        }
        entries.insert(
            key,
            Entry {
                found: found.clone(),
                read_at: now,
            },
        );
    }

    /// Forgets what no longer exists.
    pub fn forget(&self, key: Key) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.remove(&key);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{FlowStatus, FlowType};

    fn id<K>(n: u32) -> crate::model::Id<K> {
        crate::model::Id::parse(&format!("{n:024x}")).unwrap()
    }

    fn pair(p: u32, f: u32) -> (Key, Found) {
        let found = Found {
            client: None,
            project: Project {
                id: id(p),
                client: id(1),
                name: "p".into(),
                assigned_collection: Some(id::<()>(2).object_id()),
                collection_code: Some("c".into()),
                redirect_origins: vec![],
            },
            flow: ProjectFlow {
                id: id(f),
                project: id(p),
                kind: FlowType::Login,
                status: FlowStatus::Active,
                face_liveness: true,
                requires_2fa: false,
                redirect_url: None,
            },
        };
        ((id(1), id(p), id(f)), found)
    }

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_unix_millis(1_700_000_000_000 + ms).unwrap()
    }

    #[test]
    fn an_entry_lives_strictly_less_than_the_bound() {
        let cache = ProjectCache::new(15);
        let (k, found) = pair(10, 11);
        cache.put(k, &found, at(0));
        assert_eq!(cache.get(k, at(0)), Some(found.clone()));
        assert!(cache.get(k, at(14_999)).is_some());
        assert!(cache.get(k, at(15_000)).is_none());
        // A clock that went back does not stretch an entry's life.
        assert!(cache.get(k, at(-1)).is_none());
        assert!(cache.get((k.0, k.1, id(12)), at(1)).is_none());
        assert!(cache.get((id(9), k.1, k.2), at(1)).is_none(), "per caller");
    }

    #[test]
    fn zero_turns_it_off_and_forget_forgets() {
        let off = ProjectCache::new(0);
        let (k, found) = pair(10, 11);
        off.put(k, &found, at(0));
        assert!(off.get(k, at(0)).is_none());
        let on = ProjectCache::new(15);
        on.put(k, &found, at(0));
        on.forget(k);
        assert!(on.get(k, at(1)).is_none());
    }

    #[test]
    fn bounded_expired_first_then_oldest() {
        let cache = ProjectCache::new(15);
        for n in 0..CAPACITY as u32 {
            let (k, found) = pair(1000 + n, 5000 + n);
            cache.put(k, &found, at(i64::from(n)));
        }
        assert_eq!(cache.len(), CAPACITY);
        let (k, found) = pair(1, 2);
        cache.put(k, &found, at(1_000));
        assert_eq!(cache.len(), CAPACITY);
        assert!(cache.get(pair(1000, 5000).0, at(1_000)).is_none(), "the oldest went");
        assert!(cache.get(pair(1001, 5001).0, at(1_000)).is_some());
        assert!(cache.get(k, at(1_000)).is_some());
        // Once all are stale, inserting clears them.
        let (k, found) = pair(2, 3);
        cache.put(k, &found, at(60_000));
        assert_eq!(cache.len(), 1);
    }
}
