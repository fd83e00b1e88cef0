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

use std::time::Duration;

use aws_sdk_dynamodb::Client as DynamoDb;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, CancellationReason, KeysAndAttributes, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};

pub use admin::Admin;
pub use client::{ATTEMPT_TIMEOUT, MAX_ATTEMPTS, OPERATION_TIMEOUT, client_from_env, lambda_client};
use items::{Item, classify, from_item, internal, item_of, key_item, with_ttl};

use crate::idempotency::{IdempotencyRecord, RecordId};
use crate::model::{BiometricValidation, Client, LivenessSession, ObjectId, Project, ProjectFlow, Timestamp};

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

/// The items of the create transaction, by name: cancellation reasons come back in
/// the order the items were sent, and are read through these names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Written {
    Session,
    Validation,
    Idempotency,
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

    /// Writes the session, the validation and the idempotency record (when given) in one
    /// transaction: all or nothing, never over an existing item.
    pub async fn create(
        &self,
        session: &LivenessSession,
        validation: &BiometricValidation,
        idempotency: Option<(RecordId<'_>, &IdempotencyRecord)>,
        now: Timestamp,
    ) -> Result<(), CreateError> {
        let expires_at = session.expires_at;
        let session_item = with_ttl(item_of(session, keys::session(session.id))?, expires_at);
        let mut validation_item = with_ttl(item_of(validation, keys::validation(validation.id))?, expires_at);
        validation_item.insert("identifier".to_owned(), AttributeValue::S(session.identifier.clone()));
        let mut written = vec![
            (Written::Session, self.put_new(session_item)?),
            (Written::Validation, self.put_new(validation_item)?),
        ];
        if let Some((id, record)) = idempotency {
            let item = with_ttl(
                item_of(record, keys::idempotency(id.client, id.key))?,
                record.expires_at,
            );
            written.push((Written::Idempotency, self.put_claim(item, now)?));
        }
        let names: Vec<Written> = written.iter().map(|(name, _)| *name).collect();
        let items = written
            .into_iter()
            .map(|(_, put)| TransactWriteItem::builder().put(put).build())
            .collect();
        let result = timed(
            self.client
                .transact_write_items()
                .set_transact_items(Some(items))
                .send(),
        )
        .await;
        let Err(err) = result else { return Ok(()) };
        let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) = err.as_service_error() else {
            return Err(classify(&err).into());
        };
        cancelled_because(&names, cancelled.cancellation_reasons())
    }

    /// A put that never replaces an item.
    fn put_new(&self, item: Item) -> Result<Put, StoreError> {
        Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(internal)
    }

    /// The idempotency record's put: replaces only a record that has expired (DynamoDB
    /// deletes late), and returns the holder's record when the key is taken.
    fn put_claim(&self, item: Item, now: Timestamp) -> Result<Put, StoreError> {
        Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk) OR #ttl <= :now")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":now", AttributeValue::N(now.unix_seconds().to_string()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(internal)
    }
}

/// A DynamoDB call, its time counted in the request's metrics.
async fn timed<T>(call: impl std::future::Future<Output = T>) -> T {
    let started = std::time::Instant::now();
    let out = call.await;
    crate::telemetry::dynamodb(started.elapsed());
    out
}

/// What a cancelled transaction says, item by item (reasons come in the order sent).
fn cancelled_because(names: &[Written], reasons: &[CancellationReason]) -> Result<(), CreateError> {
    let reason = |name: Written| names.iter().zip(reasons).find_map(|(n, r)| (*n == name).then_some(r));
    let failed = |name: Written| reason(name).and_then(|r| r.code()) == Some("ConditionalCheckFailed");
    if failed(Written::Idempotency) {
        let holder = reason(Written::Idempotency)
            .and_then(|r| r.item())
            .map(|item| from_item(item.clone()))
            .transpose()?;
        return Err(CreateError::IdempotencyKeyTaken(holder.map(Box::new)));
    }
    if failed(Written::Session) || failed(Written::Validation) {
        return Err(CreateError::ItemExists);
    }
    if reasons.iter().any(|r| r.code() == Some("TransactionConflict")) {
        return Err(CreateError::Conflict);
    }
    if reasons
        .iter()
        .any(|r| matches!(r.code(), Some("ThrottlingError" | "ProvisionedThroughputExceeded")))
    {
        return Err(StoreError::Unavailable("transaction throttled".to_owned()).into());
    }
    Err(StoreError::Internal(format!(
        "transaction cancelled: {:?}",
        reasons.iter().map(|r| r.code()).collect::<Vec<_>>()
    ))
    .into())
}
