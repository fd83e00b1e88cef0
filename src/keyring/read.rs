//! One read of a key: the labels Secrets Manager gives at one moment, each labeled
//! version's value by its `VersionId` (unless held or refused for good), and holding what
//! the read found, and only that.

use std::sync::Arc;
use std::time::SystemTime;

use secrecy::ExposeSecret;

use super::{Held, KeyError, KeyVersion, Keyring, SecretsManager, Versions, secrets_manager};
use crate::logging::Chain;

impl<T> Keyring<T> {
    /// The labels, then the value of each labeled version not already held or refused.
    pub(super) async fn read(&self) -> Result<Read, KeyError> {
        let Some(sm) = &self.source else {
            return Err(KeyError::NoCurrent);
        };
        let view = secrets_manager::view(&sm.client, &sm.secret_id).await?;
        // A version no longer labeled is never read again: forget why it was refused.
        self.refused
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|id, _| *id == view.current || view.previous.as_ref() == Some(id));
        let (current, previous) = tokio::join!(self.version(sm, &view.current), async {
            match &view.previous {
                Some(id) => Some(self.version(sm, id).await),
                None => None,
            }
        });
        Ok(Read { current, previous })
    }

    async fn version(&self, sm: &SecretsManager, id: &str) -> Result<KeyVersion, KeyError> {
        if let Some(held) = self.held_version(id) {
            return Ok(held);
        }
        let unusable = |problem| KeyError::Unusable {
            version: id.to_owned(),
            problem,
        };
        if let Some(problem) = self.refused.lock().unwrap_or_else(|e| e.into_inner()).get(id) {
            return Err(unusable(problem.clone()));
        }
        let material = secrets_manager::value(&sm.client, &sm.secret_id, id)
            .await
            .and_then(|value| {
                (self.settings.kind)
                    .material(value.expose_secret(), self.settings.on_aws)
                    .map_err(unusable)
            });
        if let Err(KeyError::Unusable { problem, .. }) = &material {
            self.refused
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(id.to_owned(), problem.clone());
        }
        material.map(|material| KeyVersion {
            kid: Some(id.to_owned()),
            material,
        })
    }

    pub(super) fn held_version(&self, id: &str) -> Option<KeyVersion> {
        let held = self.held.read().unwrap_or_else(|e| e.into_inner());
        held.as_ref()?
            .versions
            .iter()
            .find(|v| v.kid.as_deref() == Some(id))
            .cloned()
    }

    /// Holds what a read found, and only that. A current version that can't serve leaves
    /// the previous one (still labeled) serving alone; with neither, nothing is held. The
    /// error, if any, is a version to read again later (a refused one is only logged).
    pub(super) fn apply(&self, read: Read, read_at: SystemTime) -> Result<(), KeyError> {
        let mut retry = None;
        let mut kept_out = |e: KeyError| {
            tracing::warn!(variable = self.settings.variable, error = %Chain(&e), "a key version is kept out");
            if !matches!(e, KeyError::Unusable { .. }) {
                retry = Some(e);
            }
        };
        let previous = match read.previous {
            Some(Ok(version)) => Some(version),
            Some(Err(e)) => {
                kept_out(e);
                None
            }
            None => None,
        };
        let versions = match (read.current, previous) {
            (Ok(current), previous) => Versions { current, previous },
            (Err(e), Some(previous)) => {
                kept_out(e);
                Versions {
                    current: previous,
                    previous: None,
                }
            }
            (Err(e), None) => {
                *self.held.write().unwrap_or_else(|e| e.into_inner()) = None;
                tracing::error!(variable = self.settings.variable, error = %Chain(&e), "no key version can serve");
                return Err(e);
            }
        };
        let keys = match (self.derive)(&versions) {
            Ok(keys) => keys,
            // Never keep serving what the labels no longer say.
            Err(e) => {
                *self.held.write().unwrap_or_else(|e| e.into_inner()) = None;
                let e = KeyError::Derive(e);
                tracing::error!(variable = self.settings.variable, error = %Chain(&e), "no key version can serve");
                return Err(e);
            }
        };
        *self.held.write().unwrap_or_else(|e| e.into_inner()) = Some(Held {
            keys: Arc::new(keys),
            versions,
            read_at,
        });
        retry.map_or(Ok(()), Err)
    }
}

/// What one read found: each labeled version, or why it can't serve.
pub(super) struct Read {
    pub(super) current: Result<KeyVersion, KeyError>,
    pub(super) previous: Option<Result<KeyVersion, KeyError>>,
}
