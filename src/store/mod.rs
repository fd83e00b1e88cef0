//! DynamoDB: one table, items keyed `pk`/`sk` (`keys`), expiry in `ttl` (epoch seconds).
//!
//! The request path reads project, flow and idempotency record with one `BatchGetItem`
//! and writes the session, the validation and the idempotency record with one
//! `TransactWriteItems`. It says what happened (`CreateError`); the service decides
//! what to answer. Knows nothing of HTTP.

pub mod admin;
pub mod client;
mod items;
pub mod keys;
pub mod warmup;
mod write;

use std::time::Duration;

use aws_sdk_dynamodb::Client as DynamoDb;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};

pub use admin::Admin;
use items::{Item, classify, from_item, internal, key_item};

use crate::idempotency::{IdempotencyRecord, RecordId};
use crate::model::{BiometricValidation, Client, LivenessSession, ObjectId, Project, ProjectFlow};

/// Rounds of `UnprocessedKeys` a batch read retries before giving up.
const BATCH_GET_ROUNDS: u32 = 4;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// Throttled, unavailable or timed out after the retries: worth retrying later.
    #[error("DynamoDB is unavailable: {0}")]
    Unavailable(String),
    #[error("DynamoDB error: {0}")]
    Internal(String),
}

/// Why the write did not commit. Nothing of it was written in any case.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CreateError {
    /// A live record already holds this idempotency key (the record, when known).
    #[error("idempotency key already used")]
    IdempotencyKeyTaken(Option<Box<IdempotencyRecord>>),
    /// An item with one of the new ids already exists.
    #[error("an item with this id already exists")]
    ItemExists,
    /// Another transaction touched the same items at the same time.
    #[error("transaction conflict")]
    Conflict,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a request needs to read.
#[derive(Debug, Default)]
pub struct Loaded {
    pub client: Option<Client>,
    pub project: Option<Project>,
    pub flow: Option<ProjectFlow>,
    pub idempotency: Option<IdempotencyRecord>,
}

/// The request path's repository.
#[derive(Clone)]
pub struct Store {
    client: DynamoDb,
    table: String,
}

impl Store {
    pub fn new(client: DynamoDb, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// Reads the calling client's item, the project, the flow and (when given) the
    /// idempotency record in one call.
    pub async fn load(
        &self,
        client: ObjectId,
        project: ObjectId,
        flow: ObjectId,
        idempotency: Option<RecordId<'_>>,
    ) -> Result<Loaded, StoreError> {
        let mut keys = vec![
            key_item(keys::client(client)),
            key_item(keys::project(project)),
            key_item(keys::flow(project, flow)),
        ];
        if let Some(id) = idempotency {
            keys.push(key_item(keys::idempotency(id.client, id.key)));
        }
        let mut loaded = Loaded::default();
        for item in self.batch_get(keys).await? {
            match item.get("sk") {
                Some(AttributeValue::S(sk)) if sk == keys::PROJECT_SK => loaded.project = Some(from_item(item)?),
                Some(AttributeValue::S(sk)) if sk == keys::CLIENT_SK => loaded.client = Some(from_item(item)?),
                Some(AttributeValue::S(sk)) if sk == keys::IDEMPOTENCY_SK => {
                    loaded.idempotency = Some(from_item(item)?)
                }
                Some(AttributeValue::S(sk)) if sk.starts_with(keys::FLOW_SK_PREFIX) => {
                    loaded.flow = Some(from_item(item)?)
                }
                _ => return Err(StoreError::Internal("unexpected item in batch read".to_owned())),
            }
        }
        Ok(loaded)
    }

    /// Reads a created pair (consistently): what an idempotent replay answers with.
    pub async fn pair(
        &self,
        session: ObjectId,
        validation: ObjectId,
    ) -> Result<Option<(LivenessSession, BiometricValidation)>, StoreError> {
        let keys = vec![key_item(keys::session(session)), key_item(keys::validation(validation))];
        let (mut found_session, mut found_validation) = (None, None);
        for item in self.batch_get(keys).await? {
            match item.get("sk") {
                Some(AttributeValue::S(sk)) if sk == keys::SESSION_SK => found_session = Some(from_item(item)?),
                Some(AttributeValue::S(sk)) if sk == keys::VALIDATION_SK => found_validation = Some(from_item(item)?),
                _ => return Err(StoreError::Internal("unexpected item in batch read".to_owned())),
            }
        }
        Ok(found_session.zip(found_validation))
    }

    /// One strongly consistent `BatchGetItem`, its unprocessed keys retried a few rounds.
    async fn batch_get(&self, keys: Vec<Item>) -> Result<Vec<Item>, StoreError> {
        let mut pending = Some(
            KeysAndAttributes::builder()
                .set_keys(Some(keys))
                .consistent_read(true)
                .build()
                .map_err(internal)?,
        );
        let mut items = Vec::new();
        for _ in 0..BATCH_GET_ROUNDS {
            let Some(request) = pending.take() else { break };
            let out = timed(self.client.batch_get_item().request_items(&self.table, request).send())
                .await
                .map_err(|e| classify(&e))?;
            items.extend(
                out.responses
                    .unwrap_or_default()
                    .remove(&self.table)
                    .unwrap_or_default(),
            );
            pending = out
                .unprocessed_keys
                .and_then(|mut u| u.remove(&self.table))
                .filter(|k| !k.keys.is_empty());
            if pending.is_some() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        match pending {
            None => Ok(items),
            Some(_) => Err(StoreError::Unavailable("batch read left keys unprocessed".to_owned())),
        }
    }

    /// Reads an idempotency record (consistently).
    pub async fn idempotency_record(&self, id: RecordId<'_>) -> Result<Option<IdempotencyRecord>, StoreError> {
        self.get(keys::idempotency(id.client, id.key)).await
    }

    /// Reads a liveness session (consistently).
    pub async fn liveness_session(&self, id: ObjectId) -> Result<Option<LivenessSession>, StoreError> {
        self.get(keys::session(id)).await
    }

    pub(super) async fn get<T: serde::de::DeserializeOwned>(&self, key: keys::Key) -> Result<Option<T>, StoreError> {
        let request = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_item(key)))
            .consistent_read(true);
        let out = timed(request.send()).await.map_err(|e| classify(&e))?;
        out.item.map(from_item).transpose()
    }
}

/// A DynamoDB call, its time counted in the request's metrics. Boxed: the SDK's futures
/// are large, and the request's future would otherwise hold every one of them inline.
pub(crate) fn timed<'a, T: 'a>(
    call: impl std::future::Future<Output = T> + Send + 'a,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>> {
    Box::pin(async move {
        let started = std::time::Instant::now();
        let out = call.await;
        crate::telemetry::dynamodb(started.elapsed());
        out
    })
}
