//! A signing key's versions, held in memory and re-read when a rotation may have
//! happened (CONTRACT §8): by the first request that finds them older than the refresh
//! bound, and at once when a token names an unknown `kid` (at most once per
//! `FORCED_EVERY`, so made-up `kid`s can't drive Secrets Manager calls). A failed re-read
//! keeps the held keys and is logged; it never fails a request by itself.

pub mod secrets_manager;

use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

/// The least time between two re-reads forced by unknown `kid`s, and after a failed re-read.
pub const FORCED_EVERY: Duration = Duration::from_secs(5);

/// One version of a key. `kid` is its Secrets Manager `VersionId` (none for a local key).
#[derive(Clone)]
pub struct KeyVersion {
    pub kid: Option<String>,
    pub material: SecretString,
}

/// The versions tokens may be checked with: `AWSCURRENT` and, when it exists, `AWSPREVIOUS`.
pub struct Versions {
    pub current: KeyVersion,
    pub previous: Option<KeyVersion>,
}

impl Versions {
    /// A key given directly: one version, without a `kid`.
    pub fn single(material: &SecretString) -> Self {
        Self {
            current: KeyVersion {
                kid: None,
                material: material.clone(),
            },
            previous: None,
        }
    }

    /// Current first.
    pub fn iter(&self) -> impl Iterator<Item = &KeyVersion> {
        std::iter::once(&self.current).chain(self.previous.as_ref())
    }
}

/// What one read of a key found: its versions, and whether `AWSPREVIOUS` could not be
/// read (an error other than its absence), in which case `versions.previous` is `None`.
pub struct Fetched {
    pub versions: Versions,
    pub previous_unread: bool,
}

/// Where a key's versions come from.
pub enum Source {
    /// A key given in the environment (local runs): one version, never re-read.
    Fixed(SecretString),
    SecretsManager {
        client: aws_sdk_secretsmanager::Client,
        secret_id: String,
    },
}

impl Source {
    async fn read(&self) -> Result<Fetched, String> {
        match self {
            Source::Fixed(material) => Ok(Fetched {
                versions: Versions::single(material),
                previous_unread: false,
            }),
            Source::SecretsManager { client, secret_id } => secrets_manager::read(client, secret_id).await,
        }
    }

    fn rotates(&self) -> bool {
        matches!(self, Source::SecretsManager { .. })
    }
}

/// What the keys are turned into (decoding keys, a signer, public keys).
pub type Derive<T> = fn(&Versions) -> Result<T, String>;

struct Held<T> {
    keys: Arc<T>,
    /// What `keys` were derived from: a re-read that cannot read `AWSPREVIOUS` keeps one.
    versions: Versions,
}

#[derive(Clone, Copy)]
struct Timing {
    /// The last successful read.
    read_at: Instant,
    /// The last re-read forced by an unknown `kid` (successful or not).
    forced_at: Option<Instant>,
    /// The last failed re-read: none of either kind for `FORCED_EVERY` after it.
    failed_at: Option<Instant>,
}

fn within(since: Option<Instant>, now: Instant, bound: Duration) -> bool {
    since.is_some_and(|t| now.duration_since(t) < bound)
}

pub struct Keyring<T> {
    /// The setting that names the key, for log lines.
    variable: &'static str,
    source: Source,
    derive: Derive<T>,
    refresh_every: Duration,
    held: RwLock<Arc<Held<T>>>,
    timing: Mutex<Timing>,
    reading: tokio::sync::Mutex<()>,
}

impl<T> Keyring<T> {
    /// Reads the key at start-up; an error is the start-up's (it names `variable`).
    pub async fn load(
        variable: &'static str,
        source: Source,
        derive: Derive<T>,
        refresh_every: Duration,
    ) -> Result<Self, String> {
        // At start-up an unreadable previous version is only logged: nothing is held yet.
        let fetched = source.read().await?;
        Self::with(variable, source, fetched.versions, derive, refresh_every)
    }

    /// A ring of one key given directly (local runs, and checks that need no I/O).
    pub fn fixed(variable: &'static str, material: SecretString, derive: Derive<T>) -> Result<Self, String> {
        let versions = Versions::single(&material);
        Self::with(variable, Source::Fixed(material), versions, derive, Duration::MAX)
    }

    fn with(
        variable: &'static str,
        source: Source,
        versions: Versions,
        derive: Derive<T>,
        refresh_every: Duration,
    ) -> Result<Self, String> {
        let held = derived(versions, derive)?;
        Ok(Self {
            variable,
            source,
            derive,
            refresh_every,
            held: RwLock::new(Arc::new(held)),
            timing: Mutex::new(Timing {
                read_at: Instant::now(),
                forced_at: None,
                failed_at: None,
            }),
            reading: tokio::sync::Mutex::new(()),
        })
    }

    /// The keys as held now.
    pub fn held(&self) -> Arc<T> {
        Arc::clone(&self.held.read().unwrap_or_else(|e| e.into_inner()).keys)
    }

    /// Whether two rings hold the same current key.
    pub fn same_current_key<U>(&self, other: &Keyring<U>) -> bool {
        self.current_digest() == other.current_digest()
    }

    /// SHA-256 of the current key: two rings compared without the keys side by side.
    fn current_digest(&self) -> [u8; 32] {
        let held = self.held.read().unwrap_or_else(|e| e.into_inner());
        Sha256::digest(held.versions.current.material.expose_secret().as_bytes()).into()
    }

    /// The keys, re-read first if they are older than the refresh bound.
    pub async fn fresh(&self) -> Arc<T> {
        if self.due(Instant::now(), false) {
            self.reread(false).await;
        }
        self.held()
    }

    /// Re-reads the keys because a token named a `kid` they do not hold; `None` when no
    /// re-read was allowed (one ran less than `FORCED_EVERY` ago).
    pub async fn reread_for_unknown_kid(&self) -> Option<Arc<T>> {
        if !self.due(Instant::now(), true) {
            return None;
        }
        self.reread(true).await;
        Some(self.held())
    }

    fn due(&self, now: Instant, forced: bool) -> bool {
        if !self.source.rotates() {
            return false;
        }
        let t = *self.timing.lock().unwrap_or_else(|e| e.into_inner());
        if within(t.failed_at, now, FORCED_EVERY) {
            return false;
        }
        if forced {
            !within(t.forced_at, now, FORCED_EVERY)
        } else {
            now.duration_since(t.read_at) >= self.refresh_every
        }
    }

    async fn reread(&self, forced: bool) {
        let _one_at_a_time = self.reading.lock().await;
        // Another request may have re-read while this one waited.
        if !self.due(Instant::now(), forced) {
            return;
        }
        let result = self
            .source
            .read()
            .await
            .map(|fetched| self.completed(fetched))
            .and_then(|v| derived(v, self.derive));
        let now = Instant::now();
        let mut timing = self.timing.lock().unwrap_or_else(|e| e.into_inner());
        if forced {
            timing.forced_at = Some(now);
        }
        match result {
            Ok(held) => {
                *self.held.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(held);
                timing.read_at = now;
                timing.failed_at = None;
            }
            Err(error) => {
                tracing::warn!(variable = self.variable, %error, "cannot re-read the key; keeping the held one");
                timing.failed_at = Some(now);
            }
        }
    }

    /// A re-read that could not read `AWSPREVIOUS` keeps a previous key from what is held,
    /// as a failed re-read keeps the held keys: the held previous one while the current key
    /// is unchanged; after a rotation, the held current one, which the rotation made the
    /// previous.
    fn completed(&self, fetched: Fetched) -> Versions {
        let Fetched {
            mut versions,
            previous_unread,
        } = fetched;
        if previous_unread {
            let held = Arc::clone(&self.held.read().unwrap_or_else(|e| e.into_inner()));
            versions.previous = if held.versions.current.kid == versions.current.kid {
                held.versions.previous.clone()
            } else {
                Some(held.versions.current.clone())
            };
            tracing::warn!(variable = self.variable, "keeping the held previous key");
        }
        versions
    }
}

fn derived<T>(versions: Versions, derive: Derive<T>) -> Result<Held<T>, String> {
    Ok(Held {
        keys: Arc::new(derive(&versions)?),
        versions,
    })
}
