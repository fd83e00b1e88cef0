//! DynamoDB: one table, items keyed `pk`/`sk` (`keys`), expiry in `ttl` (epoch seconds).
//!
//! The request path reads project, flow and idempotency record with one `BatchGetItem`
//! and writes the session, the validation and the idempotency record with one
//! `TransactWriteItems`. It says what happened (`CreateError`); the service decides
//! what to answer. Knows nothing of HTTP.

pub mod admin;
pub mod client;
pub mod clients;
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
use crate::model::{
    Client, ClientId, FlowId, LivenessSession, Pair, Project, ProjectFlow, ProjectId, SessionId, ValidationId,
};

/// Rounds of `UnprocessedKeys` a batch read retries before giving up.
const BATCH_GET_ROUNDS: u32 = 4;

/// An error from the SDK (or serde_dynamo), kept whole for the log line.
pub type Source = Box<dyn std::error::Error + Send + Sync>;

/// What went wrong in DynamoDB, with the SDK's error as its source: the log line of the
/// request shows the whole chain (`DisplayErrorContext`), the answer only 503 or 500.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Throttled, unavailable or timed out after the retries: worth retrying later.
    #[error("DynamoDB is unavailable: {what}")]
    Unavailable {
        what: String,
        #[source]
        source: Option<Source>,
    },
    #[error("DynamoDB error: {what}")]
    Internal {
        what: String,
        #[source]
        source: Option<Source>,
    },
}

impl StoreError {
    pub fn unavailable(what: impl Into<String>) -> Self {
        Self::Unavailable {
            what: what.into(),
            source: None,
        }
    }

    pub fn internal(what: impl Into<String>) -> Self {
        Self::Internal {
            what: what.into(),
            source: None,
        }
    }

    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Unavailable { .. })
    }
}

/// Why the write did not commit. Nothing of it was written in any case.
#[derive(Debug, thiserror::Error)]
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
        client: ClientId,
        project: ProjectId,
        flow: FlowId,
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
                _ => return Err(StoreError::internal("unexpected item in batch read")),
            }
        }
        Ok(loaded)
    }

    /// Reads a created pair (consistently): what the replay of a record without its
    /// first answer (one written by an earlier version) answers with.
    pub async fn pair(&self, session: SessionId, validation: ValidationId) -> Result<Option<Pair>, StoreError> {
        let keys = vec![key_item(keys::session(session)), key_item(keys::validation(validation))];
        let (mut found_session, mut found_validation) = (None, None);
        for item in self.batch_get(keys).await? {
            match item.get("sk") {
                Some(AttributeValue::S(sk)) if sk == keys::SESSION_SK => found_session = Some(from_item(item)?),
                Some(AttributeValue::S(sk)) if sk == keys::VALIDATION_SK => found_validation = Some(from_item(item)?),
                _ => return Err(StoreError::internal("unexpected item in batch read")),
            }
        }
        Ok(found_session
            .zip(found_validation)
            .map(|(session, validation)| Pair { session, validation }))
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
                .map_err(classify)?;
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
            Some(_) => Err(StoreError::unavailable("batch read left keys unprocessed")),
        }
    }

    /// Reads an idempotency record (consistently).
    pub async fn idempotency_record(&self, id: RecordId<'_>) -> Result<Option<IdempotencyRecord>, StoreError> {
        self.get(keys::idempotency(id.client, id.key)).await
    }

    /// Reads a liveness session (consistently).
    pub async fn liveness_session(&self, id: SessionId) -> Result<Option<LivenessSession>, StoreError> {
        self.get(keys::session(id)).await
    }

    pub(super) async fn get<T: serde::de::DeserializeOwned>(&self, key: keys::Key) -> Result<Option<T>, StoreError> {
        let request = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_item(key)))
            .consistent_read(true);
        let out = timed(request.send()).await.map_err(classify)?;
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
