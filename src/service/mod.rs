//! `create()`: idempotency → project and flow rules → build records → store → the
//! created (or replayed) pair and its token. Knows nothing of HTTP nor of the SDK's types.

mod client;
mod records;
mod redirects;
pub mod rules;

pub use records::RecordBuilder;
use rules::{Asked, Usable};

use crate::error::ApiError;
use crate::idempotency::{self, Claim, IdempotencyKey, IdempotencyRecord, RecordId};
use crate::logging::Chain;
use crate::model::{Caller, Pair, Timestamp};
use crate::project_cache::{Found, ProjectCache};
use crate::request::CreateRequest;
use crate::store::{CreateError, Loaded, Store, StoreError};
use crate::telemetry;
use crate::token::{Jwk, SessionSigner, SignError};

/// A created (or replayed) pair, with the session token.
#[derive(Debug, Clone, PartialEq)]
pub struct Created {
    pub pair: Pair,
    pub token: String,
    /// Answered from an idempotency record, not written now.
    pub replayed: bool,
}

/// A request sent with an `Idempotency-Key`: where its record lives, and what it asks.
struct Keyed<'a> {
    id: RecordId<'a>,
    fingerprint: String,
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
        let keyed = match key {
            Some(key) => Some(Keyed {
                id: RecordId {
                    client: caller.client,
                    key,
                },
                fingerprint: fingerprint(request)?,
            }),
            None => None,
        };
        let asked = Asked {
            client: caller.client,
            project: request.project,
            flow: request.project_flow,
            kind: request.kind,
            redirect_url: request.redirect_url.as_deref(),
        };
        let Lookup { usable, seen } = self.read(caller, asked, keyed.as_ref().map(|k| k.id), now).await?;
        if let (Some(keyed), Some(record)) = (&keyed, seen.filter(|r| r.is_live(now))) {
            return self.replay(record, &keyed.fingerprint).await;
        }
        let pair = self.records.build(caller.client, request, &usable?, now);
        let token = self.sign(&pair).await?;
        let claim = keyed.map(|k| Claim {
            record: IdempotencyRecord::first(k.fingerprint, &pair),
            id: k.id,
        });
        let mine = Created {
            pair,
            token,
            replayed: false,
        };
        match self.store.create(&mine.pair, claim.as_ref(), now).await {
            Ok(()) => Ok(mine),
            Err(refused) => self.recover(refused, claim.as_ref(), mine, now).await,
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
        claim: Option<&Claim<'_>>,
        mine: Created,
        now: Timestamp,
    ) -> Result<Created, ApiError> {
        match (refused, claim) {
            (CreateError::IdempotencyKeyTaken(Some(holder)), Some(claim)) => self.answer_as(*holder, claim, mine).await,
            (CreateError::IdempotencyKeyTaken(None) | CreateError::Conflict, Some(claim)) => {
                match self.store.idempotency_record(claim.id).await.map_err(store_error)? {
                    Some(holder) if holder.is_live(now) => self.answer_as(holder, claim, mine).await,
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
                    .liveness_session(mine.pair.session.id)
                    .await
                    .map_err(store_error)?;
                if stored.as_ref() == Some(&mine.pair.session) {
                    return Ok(mine);
                }
                tracing::error!(liveness_session = %mine.pair.session.id, biometric_validation = %mine.pair.validation.id, "an item with a new id already exists");
                Err(ApiError::Internal)
            }
            (CreateError::Store(e), _) => Err(store_error(e)),
        }
    }

    /// The answer when `holder` holds this request's key: this request's own record (its
    /// write committed, the answer was lost and a retry found it) is no replay (§6);
    /// another request's record is that request's first answer.
    async fn answer_as(
        &self,
        holder: IdempotencyRecord,
        claim: &Claim<'_>,
        mine: Created,
    ) -> Result<Created, ApiError> {
        if holder.names(&mine.pair) {
            return Ok(mine);
        }
        self.replay(holder, &claim.record.fingerprint).await
    }

    /// The first answer again: the pair as it was created, and its token signed again
    /// (the same bytes with the same key version).
    async fn replay(&self, record: IdempotencyRecord, fingerprint: &str) -> Result<Created, ApiError> {
        if record.fingerprint != fingerprint {
            return Err(ApiError::IdempotencyKeyReused);
        }
        let pair = match record.first_answer {
            Some(pair) => pair,
            // A record written before records held their first answer: the items.
            None => {
                let read = self
                    .store
                    .pair(record.liveness_session, record.biometric_validation)
                    .await
                    .map_err(store_error)?;
                // Written in one transaction with the record and expiring with it.
                read.ok_or_else(|| {
                    tracing::error!(liveness_session = %record.liveness_session, "an idempotency record's pair is missing");
                    ApiError::Internal
                })?
            }
        };
        let token = self.sign(&pair).await?;
        Ok(Created {
            pair,
            token,
            replayed: true,
        })
    }

    async fn sign(&self, pair: &Pair) -> Result<String, ApiError> {
        self.signer.sign(pair).await.map_err(|e| match e {
            SignError::NoKey(_) => {
                tracing::warn!("no session key version can serve yet");
                ApiError::ServiceUnavailable
            }
            e => {
                tracing::error!(error = %Chain(&e), "cannot sign a session token");
                ApiError::Internal
            }
        })
    }

    /// The session tokens' public keys, current first; `None` for HS256.
    pub async fn public_keys(&self) -> Result<Option<Vec<Jwk>>, ApiError> {
        self.signer
            .public_keys()
            .await
            .map_err(|_| ApiError::ServiceUnavailable)
    }
}

fn fingerprint(request: &CreateRequest) -> Result<String, ApiError> {
    idempotency::fingerprint(request).map_err(|e| {
        tracing::error!(error = %e, "cannot fingerprint a request");
        ApiError::Internal
    })
}

/// 503 for what is worth retrying, 500 for the rest; the SDK's whole error chain goes to
/// the log line, never to the answer.
fn store_error(e: StoreError) -> ApiError {
    let chain = Chain(&e);
    if e.is_unavailable() {
        tracing::warn!(error = %chain, "DynamoDB unavailable");
        ApiError::ServiceUnavailable
    } else {
        tracing::error!(error = %chain, "DynamoDB error");
        ApiError::Internal
    }
}
