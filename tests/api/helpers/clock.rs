//! Time and ids from outside, as the handler takes them: pinned, moved by hand, scripted.

use std::sync::Mutex;

use biometric_validations::model::{Clock, IdSource, ObjectId, RandomIds, SystemClock, Timestamp};

use super::id;

pub fn now_secs() -> i64 {
    SystemClock.now().unix_seconds()
}

pub fn ts(s: &str) -> Timestamp {
    Timestamp::parse(s).expect("timestamp")
}

/// A clock that always answers the same instant.
pub struct FixedClock(pub Timestamp);

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        self.0
    }
}

/// A clock the test moves.
pub struct Hand(Mutex<Timestamp>);

impl Hand {
    pub fn at(t: Timestamp) -> Self {
        Self(Mutex::new(t))
    }

    pub fn advance_ms(&self, ms: i64) {
        let mut t = self.0.lock().unwrap();
        *t = Timestamp::from_unix_millis(t.unix_millis() + ms).unwrap();
    }
}

impl Clock for Hand {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap()
    }
}

/// Ids handed out in the order given (then fresh random ones).
pub struct ScriptedIds {
    next: Mutex<Vec<ObjectId>>,
    fallback: RandomIds,
}

impl ScriptedIds {
    pub fn new(ids: &[&str]) -> Self {
        Self {
            next: Mutex::new(ids.iter().rev().map(|s| id::<()>(s).object_id()).collect()),
            fallback: RandomIds::new(),
        }
    }
}

impl IdSource for ScriptedIds {
    fn next_id(&self, seconds: u32) -> ObjectId {
        self.next
            .lock()
            .unwrap()
            .pop()
            .unwrap_or_else(|| self.fallback.next_id(seconds))
    }
}
