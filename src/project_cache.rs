//! Projects and flows that recently passed the rules, kept in the instance for a bounded
//! time so that a warm request needs no read before its write.
//!
//! Staleness is one-sided and bounded: an entry is used only while younger than the
//! configured bound, and only to *accept*. A pair that fails the rules from the cache is
//! read again, so a flow that was activated (or a project created) is accepted at once,
//! and a flow that was paused (or deleted) stops being accepted at most the bound later.
//! The rules themselves (owner, status, liveness, type) run on every request.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::model::{ObjectId, Project, ProjectFlow, Timestamp};

/// Pairs kept at most; a Lambda instance serves few projects, this bounds the memory of
/// one that serves many (each entry is well under 1 KiB).
pub const CAPACITY: usize = 256;

pub struct ProjectCache {
    max_age_ms: i64,
    entries: Mutex<HashMap<(ObjectId, ObjectId), Entry>>,
}

struct Entry {
    project: Project,
    flow: ProjectFlow,
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

    /// The pair as read less than the bound ago, if it was.
    pub fn get(&self, project: ObjectId, flow: ObjectId, now: Timestamp) -> Option<(Project, ProjectFlow)> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(&(project, flow))
            .filter(|e| self.fresh(e, now))
            .map(|e| (e.project.clone(), e.flow.clone()))
    }

    /// Keeps a pair read at `now` that passed the rules.
    pub fn put(&self, project: &Project, flow: &ProjectFlow, now: Timestamp) {
        if self.max_age_ms == 0 {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= CAPACITY && !entries.contains_key(&(project.id, flow.id)) {
            entries.retain(|_, e| self.fresh(e, now));
            if entries.len() >= CAPACITY
                && let Some(oldest) = entries.iter().min_by_key(|(_, e)| e.read_at).map(|(k, _)| *k)
            {
                entries.remove(&oldest);
            }
        }
        entries.insert(
            (project.id, flow.id),
            Entry {
                project: project.clone(),
                flow: flow.clone(),
                read_at: now,
            },
        );
    }

    /// Forgets a pair that no longer passes the rules.
    pub fn forget(&self, project: ObjectId, flow: ObjectId) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.remove(&(project, flow));
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

    fn id(n: u32) -> ObjectId {
        ObjectId::parse(&format!("{n:024x}")).unwrap()
    }

    fn pair(p: u32, f: u32) -> (Project, ProjectFlow) {
        (
            Project {
                id: id(p),
                client: id(1),
                name: "p".into(),
                assigned_collection: Some(id(2)),
                collection_code: Some("c".into()),
                redirect_origins: vec![],
            },
            ProjectFlow {
                id: id(f),
                project: id(p),
                kind: FlowType::Login,
                status: FlowStatus::Active,
                face_liveness: true,
                requires_2fa: false,
                redirect_url: None,
            },
        )
    }

    fn at(ms: i64) -> Timestamp {
        Timestamp::from_unix_millis(1_700_000_000_000 + ms).unwrap()
    }

    #[test]
    fn an_entry_lives_strictly_less_than_the_bound() {
        let cache = ProjectCache::new(15);
        let (p, f) = pair(10, 11);
        cache.put(&p, &f, at(0));
        assert_eq!(cache.get(p.id, f.id, at(0)), Some((p.clone(), f.clone())));
        assert!(cache.get(p.id, f.id, at(14_999)).is_some());
        assert!(cache.get(p.id, f.id, at(15_000)).is_none());
        // A clock that went back does not stretch an entry's life.
        assert!(cache.get(p.id, f.id, at(-1)).is_none());
        assert!(cache.get(p.id, id(12), at(1)).is_none());
    }

    #[test]
    fn zero_turns_it_off_and_forget_forgets() {
        let off = ProjectCache::new(0);
        let (p, f) = pair(10, 11);
        off.put(&p, &f, at(0));
        assert!(off.get(p.id, f.id, at(0)).is_none());
        let on = ProjectCache::new(15);
        on.put(&p, &f, at(0));
        on.forget(p.id, f.id);
        assert!(on.get(p.id, f.id, at(1)).is_none());
    }

    #[test]
    fn bounded_expired_first_then_oldest() {
        let cache = ProjectCache::new(15);
        for n in 0..CAPACITY as u32 {
            let (p, f) = pair(1000 + n, 5000 + n);
            cache.put(&p, &f, at(i64::from(n)));
        }
        assert_eq!(cache.len(), CAPACITY);
        let (p, f) = pair(1, 2);
        cache.put(&p, &f, at(1_000));
        assert_eq!(cache.len(), CAPACITY);
        assert!(cache.get(id(1000), id(5000), at(1_000)).is_none(), "the oldest went");
        assert!(cache.get(id(1001), id(5001), at(1_000)).is_some());
        assert!(cache.get(p.id, f.id, at(1_000)).is_some());
        // Once all are stale, inserting clears them.
        let (p, f) = pair(2, 3);
        cache.put(&p, &f, at(60_000));
        assert_eq!(cache.len(), 1);
    }
}
