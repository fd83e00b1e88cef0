//! A signing key's versions, held in memory (CONTRACT §8). They are read as one
//! consistent view: the versions Secrets Manager labels `AWSCURRENT` and `AWSPREVIOUS` at
//! one moment, each value by its `VersionId`. A read never guesses: a version no longer
//! labeled is dropped as soon as a read shows it; a version whose value can't be read is
//! retried after `RETRY_AFTER`; a version of the other algorithm (or a documented local
//! test key, on AWS) is kept out and logged.
//!
//! Re-reads run off the request path, in a task of their own, every `refresh_every` (the
//! session ring half a period after the client ring, so the two never fall due together),
//! and at once, awaited, when a well-formed token names an unknown `kid` (at most once per
//! `RETRY_AFTER`). The held keys serve while a re-read runs; a failed one keeps them.
//!
//! A frozen instance (Lambda between invocations) runs no task: keys last read longer than
//! `refresh_every + RETRY_AFTER` ago by the wall clock are re-read, awaited, before they
//! serve again, so a version retired meanwhile does not serve after the thaw (unless that
//! re-read fails: then, as after any failed re-read, the held keys serve).

pub mod kind;
mod read;
pub mod secrets_manager;
mod versions;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

pub use kind::{KeyKind, Unusable};
use read::Read;
pub use versions::{Derive, KeyError, KeyVersion, NoKey, Source, Versions};

use crate::logging::Chain;

/// How soon a failed or incomplete read is tried again, and the least time between two
/// re-reads forced by unknown `kid`s.
pub const RETRY_AFTER: Duration = Duration::from_secs(5);

/// How a ring is read and kept.
pub struct Settings {
    /// The setting that names the key, for log lines and start-up errors.
    pub variable: &'static str,
    pub kind: KeyKind,
    pub refresh_every: Duration,
    /// When the first re-read falls due after start-up.
    pub first_refresh: Duration,
    /// The function talks to AWS itself: the documented local test keys are refused.
    pub on_aws: bool,
}

struct Held<T> {
    keys: Arc<T>,
    versions: Versions,
    /// When the read that found them started, by the wall clock (it runs on while the
    /// instance is frozen; a monotonic clock need not).
    read_at: SystemTime,
}

struct SecretsManager {
    client: aws_sdk_secretsmanager::Client,
    secret_id: String,
}

pub struct Keyring<T> {
    settings: Settings,
    /// `None`: a fixed key, never re-read.
    source: Option<SecretsManager>,
    derive: Derive<T>,
    held: RwLock<Option<Held<T>>>,
    /// Versions refused for good (another kind, too short, a local test key): versions
    /// never change, so they are not read again.
    refused: Mutex<HashMap<String, Unusable>>,
    forced_at: Mutex<Option<Instant>>,
    /// When the last re-read that got no view at all started (wall clock).
    failed_at: Mutex<Option<SystemTime>>,
    reading: tokio::sync::Mutex<()>,
}

impl<T: Send + Sync + 'static> Keyring<T> {
    /// Reads the key at start-up and starts its re-reads. Its `AWSCURRENT` must serve: an
    /// error here is the start-up's (it names the variable). An `AWSPREVIOUS` that cannot
    /// is kept out and logged.
    pub async fn load(
        settings: Settings,
        client: aws_sdk_secretsmanager::Client,
        secret_id: String,
        derive: Derive<T>,
    ) -> Result<Arc<Self>, KeyError> {
        let ring = Arc::new(Self::new(
            settings,
            Some(SecretsManager { client, secret_id }),
            derive,
            None,
        ));
        let started = SystemTime::now();
        let first = match ring.read().await? {
            Read { current: Err(e), .. } => return Err(e),
            read => match ring.apply(read, started) {
                Ok(()) => ring.settings.first_refresh,
                Err(e) if ring.keys().is_err() => return Err(e),
                Err(_) => RETRY_AFTER,
            },
        };
        ring.spawn_refreshes(first);
        Ok(ring)
    }

    /// Every `refresh_every` (after `RETRY_AFTER` when a read failed or was incomplete),
    /// for as long as the ring is in use.
    fn spawn_refreshes(self: &Arc<Self>, first: Duration) {
        let ring = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut wait = first;
            loop {
                tokio::time::sleep(wait).await;
                let Some(ring) = ring.upgrade() else { return };
                wait = match ring.reread().await {
                    Ok(()) => ring.settings.refresh_every,
                    Err(_) => RETRY_AFTER,
                };
            }
        });
    }
}

impl<T> Keyring<T> {
    /// A ring of one key held in memory, without a version (the fuzz target, the tests).
    pub fn fixed(variable: &'static str, material: SecretString, derive: Derive<T>) -> Result<Self, KeyError> {
        let settings = Settings {
            variable,
            kind: KeyKind::Hs256,
            refresh_every: Duration::MAX,
            first_refresh: Duration::MAX,
            on_aws: false,
        };
        let versions = Versions {
            current: KeyVersion { kid: None, material },
            previous: None,
        };
        let keys = derive(&versions).map_err(KeyError::Derive)?;
        Ok(Self::new(
            settings,
            None,
            derive,
            Some(Held {
                keys: Arc::new(keys),
                versions,
                read_at: SystemTime::now(),
            }),
        ))
    }

    fn new(settings: Settings, source: Option<SecretsManager>, derive: Derive<T>, held: Option<Held<T>>) -> Self {
        Self {
            settings,
            source,
            derive,
            held: RwLock::new(held),
            refused: Mutex::new(HashMap::new()),
            forced_at: Mutex::new(None),
            failed_at: Mutex::new(None),
            reading: tokio::sync::Mutex::new(()),
        }
    }

    /// The keys, re-read first (awaited) when they are past their bound: the view they come
    /// from was read more than `refresh_every + RETRY_AFTER` ago, and no re-read that
    /// started in the last `RETRY_AFTER` failed (a failing Secrets Manager is not asked on
    /// every request). A read in flight across a freeze ends with a view as old as its
    /// start: it does not count as fresh.
    pub async fn fresh_keys(&self) -> Result<Arc<T>, NoKey> {
        if self.past_bound() {
            let _one_at_a_time = self.reading.lock().await;
            // A re-read that ended while this one waited may have settled it.
            if self.past_bound() {
                let _ = self.reread_locked().await;
            }
        }
        self.keys()
    }

    /// When the view held was read; `None` when nothing is held.
    fn read_at(&self) -> Option<SystemTime> {
        let held = self.held.read().unwrap_or_else(|e| e.into_inner());
        held.as_ref().map(|h| h.read_at)
    }

    fn past_bound(&self) -> bool {
        // Nothing held: the background task retries every `RETRY_AFTER`.
        let (Some(_), Some(read_at)) = (&self.source, self.read_at()) else {
            return false;
        };
        let failed_at = *self.failed_at.lock().unwrap_or_else(|e| e.into_inner());
        !within(read_at, self.settings.refresh_every.saturating_add(RETRY_AFTER))
            && !failed_at.is_some_and(|at| within(at, RETRY_AFTER))
    }

    /// The keys as held now.
    pub fn keys(&self) -> Result<Arc<T>, NoKey> {
        let held = self.held.read().unwrap_or_else(|e| e.into_inner());
        held.as_ref().map(|h| Arc::clone(&h.keys)).ok_or(NoKey)
    }

    /// Whether two rings hold the same current key (compared by digest).
    pub fn same_current_key<U>(&self, other: &Keyring<U>) -> bool {
        self.current_digest().is_some() && self.current_digest() == other.current_digest()
    }

    fn current_digest(&self) -> Option<[u8; 32]> {
        let held = self.held.read().unwrap_or_else(|e| e.into_inner());
        let material = held.as_ref()?.versions.current.material.expose_secret().as_bytes();
        Some(Sha256::digest(material).into())
    }

    /// Re-reads the keys, awaited, because a token named `kid`, which they do not hold.
    /// At most one such re-read per `RETRY_AFTER`: within it, a request waits for any
    /// re-read under way and gets what it found. `None` for a fixed key.
    pub async fn reread_for_unknown_kid(&self, kid: &str) -> Option<Arc<T>> {
        self.source.as_ref()?;
        let _one_at_a_time = self.reading.lock().await;
        // Read meanwhile (by the re-read this request waited for).
        if self.held_version(kid).is_some() {
            return self.keys().ok();
        }
        let allowed = {
            let mut forced_at = self.forced_at.lock().unwrap_or_else(|e| e.into_inner());
            let allowed = forced_at.is_none_or(|at| at.elapsed() >= RETRY_AFTER);
            if allowed {
                *forced_at = Some(Instant::now());
            }
            allowed
        };
        if allowed {
            let _ = self.reread_locked().await;
        }
        self.keys().ok()
    }

    /// The scheduled re-read, one at a time; a failure keeps what is held and is logged.
    /// Skipped when a request has just re-read the keys (after a thaw, when this one fell
    /// due too).
    async fn reread(&self) -> Result<(), KeyError> {
        let _one_at_a_time = self.reading.lock().await;
        if self
            .read_at()
            .is_some_and(|at| within(at, RETRY_AFTER.min(self.settings.refresh_every / 2)))
        {
            return Ok(());
        }
        self.reread_locked().await
    }

    /// A re-read, by the holder of `reading`.
    async fn reread_locked(&self) -> Result<(), KeyError> {
        let started = SystemTime::now();
        match self.read().await {
            // `apply` logs each version it keeps out.
            Ok(read) => self.apply(read, started),
            Err(e) => {
                tracing::warn!(variable = self.settings.variable, error = %Chain(&e), "key re-read failed; retried in 5 s");
                *self.failed_at.lock().unwrap_or_else(|e| e.into_inner()) = Some(started);
                Err(e)
            }
        }
    }
}

/// Whether `at` is less than `age` ago by the wall clock (a clock set back: not).
fn within(at: SystemTime, age: Duration) -> bool {
    at.elapsed().is_ok_and(|a| a < age)
}
