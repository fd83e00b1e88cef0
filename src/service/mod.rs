//! `create()`: idempotency → project and flow rules → build records → store → the
//! created (or replayed) pair and its token. Knows nothing of HTTP nor of the SDK's types.

mod client;
mod records;
mod redirects;
pub mod rules;

pub use records::RecordBuilder;
use rules::{Asked, Usable};

use crate::error::ApiError;
use crate::idempotency::{self, IdempotencyKey, IdempotencyRecord, RecordId};
use crate::model::{BiometricValidation, Caller, LivenessSession, Timestamp};
use crate::project_cache::{Found, ProjectCache};
use crate::request::CreateRequest;
use crate::store::{CreateError, Loaded, Store, StoreError};
use crate::telemetry;
use crate::token::Jwk;
use crate::token::SessionSigner;

/// A created (or replayed) session and validation, with the session token.
#[derive(Debug, Clone, PartialEq)]
pub struct Created {
    pub session: LivenessSession,
    pub validation: BiometricValidation,
    pub token: String,
    /// Answered from an idempotency record, not written now.
    pub replayed: bool,
}

/// What a request finds before it writes: whether its project and flow are usable,
/// and the live record of its idempotency key, if any.
struct Lookup {
    usable: Result<Usable, ApiError>,
    seen: Option<IdempotencyRecord>,
}

pub struct Service {
    store: Store,
    cache: ProjectCache,
    signer: SessionSigner,
    records: RecordBuilder,
}

impl Service {
    pub fn new(store: Store, signer: SessionSigner, records: RecordBuilder, cache_seconds: u32) -> Self {
        Self {
            store,
            cache: ProjectCache::new(cache_seconds),
            signer,
            records,
        }
    }

    pub async fn create(
        &self,
        caller: Caller,
        request: &CreateRequest,
        key: Option<&IdempotencyKey>,
        now: Timestamp,
    ) -> Result<Created, ApiError> {
        let client = caller.client;
        let keyed = match key {
            Some(key) => Some((RecordId { client, key }, fingerprint(request)?)),
            None => None,
        };
        let asked = Asked {
            client,
            project: request.project,
            flow: request.project_flow,
            kind: request.kind,
            redirect_url: request.redirect_url.as_deref(),
        };
        let Lookup { usable, seen } = self.read(caller, asked, keyed.as_ref().map(|(id, _)| *id), now).await?;
        if let (Some((_, fingerprint)), Some(record)) = (&keyed, seen.filter(|r| r.is_live(now))) {
            return self.replay(&record, fingerprint).await;
        }
        let (session, validation) = self.records.build(client, request, &usable?, now);
        let token = self.sign(&session, &validation).await?;
        let claim = keyed.map(|(id, fingerprint)| (id, new_record(fingerprint, &session, &validation)));
        let claimed = claim.as_ref().map(|(id, record)| (*id, record));
        let mine = Created {
            session,
            validation,
            token,
            replayed: false,
        };
        match self.store.create(&mine.session, &mine.validation, claimed, now).await {
            Ok(()) => Ok(mine),
            Err(refused) => self.recover(refused, claimed, mine, now).await,
        }
    }

    /// The client, project and flow, checked against the rules, and the idempotency
    /// record. A refused client answers at once (before any replay: a revoked token gets
    /// nothing). What passed the rules less than the cache's bound ago is taken from the
    /// cache (then only the idempotency record, if any, is read); anything else is read.
    async fn read(
        &self,
        caller: Caller,
        asked: Asked<'_>,
        record: Option<RecordId<'_>>,
        now: Timestamp,
    ) -> Result<Lookup, ApiError> {
        let key = (asked.client, asked.project, asked.flow);
        let cached = self.cache.get(key, now).and_then(|found| {
            client::check_client(caller, found.client.as_ref()).ok()?;
            rules::check(asked, Some(&found.project), Some(&found.flow)).ok()
        });
        telemetry::cache(cached.is_some());
        if let Some(usable) = cached {
            let seen = match record {
                Some(id) => self.store.idempotency_record(id).await.map_err(store_error)?,
                None => None,
            };
            return Ok(Lookup {
                usable: Ok(usable),
                seen,
            });
        }
        let Loaded {
            client,
            project,
            flow,
            idempotency,
        } = self
            .store
            .load(asked.client, asked.project, asked.flow, record)
            .await
            .map_err(store_error)?;
        client::check_client(caller, client.as_ref())?;
        let usable = rules::check(asked, project.as_ref(), flow.as_ref());
        match (project, flow) {
            (Some(project), Some(flow)) => self.cache.put(key, &Found { client, project, flow }, now),
            _ => self.cache.forget(key),
        }
        Ok(Lookup {
            usable,
            seen: idempotency,
        })
    }

    /// A write that did not commit: answer as the request that did, where there is one.
    async fn recover(
        &self,
        refused: CreateError,
        claimed: Option<(RecordId<'_>, &IdempotencyRecord)>,
        mine: Created,
        now: Timestamp,
    ) -> Result<Created, ApiError> {
        match (refused, claimed) {
            // Another request with this key won the race: answer as it did.
            (CreateError::IdempotencyKeyTaken(Some(winner)), Some((_, record))) => {
                self.replay(&winner, &record.fingerprint).await
            }
            (CreateError::IdempotencyKeyTaken(None) | CreateError::Conflict, Some((id, record))) => {
                match self.store.idempotency_record(id).await.map_err(store_error)? {
                    Some(winner) if winner.is_live(now) => self.replay(&winner, &record.fingerprint).await,
                    _ => Err(ApiError::ServiceUnavailable),
                }
            }
            (CreateError::Conflict, None) => Err(ApiError::ServiceUnavailable),
            (CreateError::IdempotencyKeyTaken(_), None) => Err(ApiError::Internal),
            // An SDK retry after an attempt whose answer was lost finds the items that
            // attempt wrote: the transaction is all or nothing, so the pair is ours.
            (CreateError::ItemExists, _) => {
                let stored = self
                    .store
                    .liveness_session(mine.session.id)
                    .await
                    .map_err(store_error)?;
                if stored.as_ref() == Some(&mine.session) {
                    return Ok(mine);
                }
                tracing::error!(liveness_session = %mine.session.id, biometric_validation = %mine.validation.id, "an item with a new id already exists");
                Err(ApiError::Internal)
            }
            (CreateError::Store(e), _) => Err(store_error(e)),
        }
    }

    /// The first answer again: the pair the record names, read back, and its token
    /// signed again (the same bytes with the same key version).
    async fn replay(&self, record: &IdempotencyRecord, fingerprint: &str) -> Result<Created, ApiError> {
        if record.fingerprint != fingerprint {
            return Err(ApiError::IdempotencyKeyReused);
        }
        let pair = self
            .store
            .pair(record.liveness_session, record.biometric_validation)
            .await
            .map_err(store_error)?;
        let Some((session, validation)) = pair else {
            // Written in one transaction with the record and expiring with it.
            tracing::error!(liveness_session = %record.liveness_session, "an idempotency record's pair is missing");
            return Err(ApiError::Internal);
        };
        let token = self.sign(&session, &validation).await?;
        Ok(Created {
            session,
            validation,
            token,
            replayed: true,
        })
    }

    async fn sign(&self, session: &LivenessSession, validation: &BiometricValidation) -> Result<String, ApiError> {
        self.signer.sign(session, validation).await.map_err(|e| {
            tracing::error!(error = %e, "cannot sign a session token");
            ApiError::Internal
        })
    }

    /// The session tokens' public keys, current first; `None` for HS256.
    pub async fn public_keys(&self) -> Option<Vec<Jwk>> {
        self.signer.public_keys().await
    }
}

fn fingerprint(request: &CreateRequest) -> Result<String, ApiError> {
    idempotency::fingerprint(request).map_err(|e| {
        tracing::error!(error = %e, "cannot fingerprint a request");
        ApiError::Internal
    })
}

fn new_record(fingerprint: String, session: &LivenessSession, validation: &BiometricValidation) -> IdempotencyRecord {
    IdempotencyRecord {
        fingerprint,
        liveness_session: session.id,
        biometric_validation: validation.id,
        expires_at: session.expires_at,
    }
}

fn store_error(e: StoreError) -> ApiError {
    match e {
        StoreError::Unavailable(why) => {
            tracing::warn!(error = %why, "DynamoDB unavailable");
            ApiError::ServiceUnavailable
        }
        StoreError::Internal(why) => {
            tracing::error!(error = %why, "DynamoDB error");
            ApiError::Internal
        }
    }
}
