//! A key's versions as the rings hold them, and why a key could not be read.

use secrecy::SecretString;

use super::Unusable;

/// An error from the SDK, kept whole for the log line.
pub type Source = Box<dyn std::error::Error + Send + Sync>;

/// Why a key (or one of its versions) could not be read. Never holds key material.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read the secret's labels (DescribeSecret)")]
    Describe(#[source] Source),
    #[error("no version of the secret is labeled AWSCURRENT")]
    NoCurrent,
    #[error("cannot read version {version}")]
    Read {
        version: String,
        #[source]
        source: Source,
    },
    #[error("version {version} {problem}")]
    Unusable { version: String, problem: Unusable },
    #[error("cannot derive the keys: {0}")]
    Derive(String),
}

/// No version can serve: every one held was retired and none that Secrets Manager labels
/// can be read yet. Requests that need the key answer 503 until one can.
#[derive(Debug, thiserror::Error)]
#[error("no usable key version")]
pub struct NoKey;

/// One version of a key. `kid` is its Secrets Manager `VersionId` (none for a fixed key).
#[derive(Clone)]
pub struct KeyVersion {
    pub kid: Option<String>,
    pub material: SecretString,
}

/// The versions tokens may be checked with, current first.
pub struct Versions {
    pub current: KeyVersion,
    pub previous: Option<KeyVersion>,
}

impl Versions {
    pub fn iter(&self) -> impl Iterator<Item = &KeyVersion> {
        std::iter::once(&self.current).chain(self.previous.as_ref())
    }
}

/// What the versions are turned into (decoding keys, a signer, public keys).
pub type Derive<T> = fn(&Versions) -> Result<T, String>;
