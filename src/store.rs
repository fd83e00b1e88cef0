//! DynamoDB: one table, items keyed `pk`/`sk`, expiry in `ttl` (epoch seconds).
//!
//! Reads project, flow and idempotency record with one `BatchGetItem`; writes the
//! session, the validation and the idempotency record with one `TransactWriteItems`.
//! Knows nothing of HTTP.

use std::collections::HashMap;
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::{Credentials, Region};
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, KeysAndAttributes, Put,
    ReturnValuesOnConditionCheckFailure, ScalarAttributeType, TimeToLiveSpecification, TransactWriteItem,
};
use serde::Serialize;

use crate::idempotency::IdempotencyRecord;
use crate::model::{BiometricValidation, LivenessSession, ObjectId, Project, ProjectFlow, Timestamp};

pub type Item = HashMap<String, AttributeValue>;

/// Attempts per DynamoDB call (the first one included).
pub const MAX_ATTEMPTS: u32 = 3;
/// One attempt's limit; DynamoDB answers in milliseconds when healthy.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(1000);
/// One call's limit, retries included. A request makes at most two calls (a read and a
/// write) plus one re-read, so it stays well under the function's timeout (10 s).
pub const OPERATION_TIMEOUT: Duration = Duration::from_millis(2500);
pub const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);
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
    pub project: Option<Project>,
    pub flow: Option<ProjectFlow>,
    pub idempotency: Option<IdempotencyRecord>,
}

pub fn project_key(project: ObjectId) -> (String, String) {
    (format!("PROJECT#{project}"), "PROJECT".to_owned())
}

pub fn flow_key(project: ObjectId, flow: ObjectId) -> (String, String) {
    (format!("PROJECT#{project}"), format!("FLOW#{flow}"))
}

pub fn session_key(id: ObjectId) -> (String, String) {
    (format!("LIVENESS_SESSION#{id}"), "LIVENESS_SESSION".to_owned())
}

pub fn validation_key(id: ObjectId) -> (String, String) {
    (format!("BIOMETRIC_VALIDATION#{id}"), "BIOMETRIC_VALIDATION".to_owned())
}

pub const IDEMPOTENCY_SK: &str = "IDEMPOTENCY";

fn key((pk, sk): (String, String)) -> Item {
    HashMap::from([
        ("pk".to_owned(), AttributeValue::S(pk)),
        ("sk".to_owned(), AttributeValue::S(sk)),
    ])
}

fn item_of<T: Serialize>(value: &T, k: (String, String)) -> Result<Item, StoreError> {
    let mut item: Item = serde_dynamo::to_item(value).map_err(|e| StoreError::Internal(format!("serialise: {e}")))?;
    item.extend(key(k));
    Ok(item)
}

fn with_ttl(mut item: Item, expires_at: Timestamp) -> Item {
    item.insert(
        "ttl".to_owned(),
        AttributeValue::N(expires_at.unix_seconds().to_string()),
    );
    item
}

/// The retry policy and timeouts, explicit rather than the SDK's defaults.
pub fn retry_config() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(MAX_ATTEMPTS)
        .with_initial_backoff(Duration::from_millis(25))
        .with_max_backoff(Duration::from_millis(250))
}

pub fn timeout_config() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(OPERATION_TIMEOUT)
        .build()
}

/// The handler's client, built without I/O: Lambda gives the function its role's
/// credentials in `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN` and its
/// region in `AWS_REGION`, so the default chain (profile files, SSO, IMDS, STS) would
/// only cost start-up time and binary size. `endpoint` points it at a local server.
pub fn lambda_client(region: &str, endpoint: Option<&str>) -> Client {
    use aws_sdk_dynamodb::config::StalledStreamProtectionConfig;
    use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
    // The SDK's default HTTPS client (hyper 1, rustls on aws-lc) with the pool's idle
    // timeout under DynamoDB's: DynamoDB closes a connection idle for about 60 s (observed,
    // not documented; BENCHMARKS.md), and a Lambda instance frozen between requests comes
    // back to a pool whose connection the server may have dropped. hyper checks the idle
    // time when it takes a connection from the pool, so one idle longer than this is
    // replaced (a resumed TLS handshake) instead of tried. This client ignores HTTP(S)_PROXY,
    // which Lambda does not set.
    const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(50);
    let http = aws_smithy_http_client::Builder::new()
        .pool_idle_timeout(POOL_IDLE_TIMEOUT)
        .tls_provider(Provider::Rustls(CryptoMode::AwsLc))
        .build_https();
    let mut config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .credentials_provider(EnvironmentVariableCredentialsProvider::new())
        .http_client(http)
        // Off: its grace period (20 s) is longer than a whole call may take (2.5 s), so it
        // could never fire; the attempt timeout bounds a stalled response. Measured: it cost
        // ~25-50 µs of CPU per call (BENCHMARKS.md).
        .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
        .retry_config(retry_config())
        .timeout_config(timeout_config());
    config.set_endpoint_url(endpoint.map(str::to_owned));
    Client::from_conf(config.build())
}

/// A client from the environment's full credentials chain (profiles, SSO, ...): the admin
/// CLI's, run by people. `endpoint` points it at a local DynamoDB-compatible server.
pub async fn client_from_env(endpoint: Option<&str>) -> Client {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(retry_config())
        .timeout_config(timeout_config());
    if let Some(endpoint) = endpoint {
        loader = loader.endpoint_url(endpoint);
    }
    Client::new(&loader.load().await)
}

/// A client for a local server with dummy credentials (tests, benchmarks).
pub fn local_client(endpoint: &str) -> Client {
    local_client_with_timeouts(endpoint, timeout_config())
}

/// As `local_client`, with other timeouts: a single-threaded emulator under heavy
/// concurrency queues requests for far longer than DynamoDB ever answers.
pub fn local_client_with_timeouts(endpoint: &str, timeouts: TimeoutConfig) -> Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "local"))
        .endpoint_url(endpoint)
        .retry_config(retry_config())
        .timeout_config(timeouts)
        .build();
    Client::from_conf(config)
}

fn classify<E: ProvideErrorMetadata + std::fmt::Debug>(err: &SdkError<E>) -> StoreError {
    const TRANSIENT: [&str; 6] = [
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "TransactionInProgressException",
    ];
    match err {
        SdkError::TimeoutError(_) => StoreError::Unavailable("timed out".to_owned()),
        SdkError::DispatchFailure(e) => StoreError::Unavailable(format!("dispatch failure: {e:?}")),
        SdkError::ResponseError(_) => StoreError::Unavailable("unreadable response".to_owned()),
        SdkError::ServiceError(se) => {
            let code = se.err().code().unwrap_or("unknown");
            if TRANSIENT.contains(&code) || se.raw().status().as_u16() >= 500 {
                StoreError::Unavailable(code.to_owned())
            } else {
                StoreError::Internal(code.to_owned())
            }
        }
        other => StoreError::Internal(format!("{other:?}")),
    }
}

#[derive(Clone)]
pub struct Store {
    client: Client,
    table: String,
}

impl Store {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Reads the project, the flow and (when given) the idempotency record in one call.
    pub async fn load(
        &self,
        project: ObjectId,
        flow: ObjectId,
        idempotency_pk: Option<&str>,
    ) -> Result<Loaded, StoreError> {
        let mut keys = vec![key(project_key(project)), key(flow_key(project, flow))];
        if let Some(pk) = idempotency_pk {
            keys.push(key((pk.to_owned(), IDEMPOTENCY_SK.to_owned())));
        }
        let mut pending = Some(
            KeysAndAttributes::builder()
                .set_keys(Some(keys))
                .consistent_read(true)
                .build()
                .map_err(internal)?,
        );
        let mut loaded = Loaded::default();
        for _ in 0..BATCH_GET_ROUNDS {
            let Some(request) = pending.take() else { break };
            let out = self
                .client
                .batch_get_item()
                .request_items(&self.table, request)
                .send()
                .await
                .map_err(|e| classify(&e))?;
            for item in out
                .responses
                .unwrap_or_default()
                .remove(&self.table)
                .unwrap_or_default()
            {
                match item.get("sk") {
                    Some(AttributeValue::S(sk)) if sk == "PROJECT" => loaded.project = Some(from_item(item)?),
                    Some(AttributeValue::S(sk)) if sk == IDEMPOTENCY_SK => loaded.idempotency = Some(from_item(item)?),
                    Some(AttributeValue::S(sk)) if sk.starts_with("FLOW#") => loaded.flow = Some(from_item(item)?),
                    _ => {
                        return Err(StoreError::Internal("unexpected item in batch read".to_owned()));
                    }
                }
            }
            pending = out
                .unprocessed_keys
                .and_then(|mut u| u.remove(&self.table))
                .filter(|k| !k.keys.is_empty());
            if pending.is_some() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        match pending {
            None => Ok(loaded),
            Some(_) => Err(StoreError::Unavailable("batch read left keys unprocessed".to_owned())),
        }
    }

    /// Reads an idempotency record (consistently).
    pub async fn idempotency_record(&self, pk: &str) -> Result<Option<IdempotencyRecord>, StoreError> {
        self.get((pk.to_owned(), IDEMPOTENCY_SK.to_owned())).await
    }

    /// Reads a liveness session (consistently).
    pub async fn liveness_session(&self, id: ObjectId) -> Result<Option<LivenessSession>, StoreError> {
        self.get(session_key(id)).await
    }

    async fn get<T: serde::de::DeserializeOwned>(&self, k: (String, String)) -> Result<Option<T>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(k)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| classify(&e))?;
        out.item.map(from_item).transpose()
    }

    /// Writes the session, the validation and the idempotency record (when given) in one
    /// transaction: all or nothing, never over an existing item.
    pub async fn create(
        &self,
        session: &LivenessSession,
        validation: &BiometricValidation,
        idempotency: Option<&IdempotencyRecord>,
        now: Timestamp,
    ) -> Result<(), CreateError> {
        let expires_at = session.expires_at;
        let session_item = with_ttl(item_of(session, session_key(session.id))?, expires_at);
        let mut validation_item = with_ttl(item_of(validation, validation_key(validation.id))?, expires_at);
        validation_item.insert("identifier".to_owned(), AttributeValue::S(session.identifier.clone()));
        let mut puts = vec![self.put_new(session_item)?, self.put_new(validation_item)?];
        if let Some(record) = idempotency {
            let item = with_ttl(
                item_of(record, (record.pk.clone(), IDEMPOTENCY_SK.to_owned()))?,
                record.expires_at,
            );
            let put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(pk) OR #ttl <= :now")
                .expression_attribute_names("#ttl", "ttl")
                .expression_attribute_values(":now", AttributeValue::N(now.unix_seconds().to_string()))
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
                .build()
                .map_err(internal)?;
            puts.push(put);
        }
        let items = puts
            .into_iter()
            .map(|p| TransactWriteItem::builder().put(p).build())
            .collect();
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        let Err(err) = result else { return Ok(()) };
        let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) = err.as_service_error() else {
            return Err(classify(&err).into());
        };
        let reasons = cancelled.cancellation_reasons();
        let code = |i: usize| reasons.get(i).and_then(|r| r.code()).unwrap_or("None");
        if code(2) == "ConditionalCheckFailed" {
            let record = reasons[2].item().map(|item| from_item(item.clone())).transpose()?;
            return Err(CreateError::IdempotencyKeyTaken(record.map(Box::new)));
        }
        if code(0) == "ConditionalCheckFailed" || code(1) == "ConditionalCheckFailed" {
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

    fn put_new(&self, item: Item) -> Result<Put, StoreError> {
        Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(internal)
    }

    // ---- administration (the admin CLI and tests) ----

    /// Creates the table (pk/sk strings, on-demand) and turns TTL on for `ttl`.
    /// An existing table is left as it is.
    pub async fn create_table(&self) -> Result<(), StoreError> {
        let attr = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(internal)
        };
        let schema = |name: &str, t: KeyType| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(t)
                .build()
                .map_err(internal)
        };
        let created = self
            .client
            .create_table()
            .table_name(&self.table)
            .attribute_definitions(attr("pk")?)
            .attribute_definitions(attr("sk")?)
            .key_schema(schema("pk", KeyType::Hash)?)
            .key_schema(schema("sk", KeyType::Range)?)
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await;
        if let Err(e) = created {
            if e.as_service_error().is_some_and(|s| s.is_resource_in_use_exception()) {
                return Ok(());
            }
            return Err(classify(&e));
        }
        self.wait_until_active().await?;
        self.client
            .update_time_to_live()
            .table_name(&self.table)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name("ttl")
                    .enabled(true)
                    .build()
                    .map_err(internal)?,
            )
            .send()
            .await
            .map_err(|e| classify(&e))?;
        Ok(())
    }

    async fn wait_until_active(&self) -> Result<(), StoreError> {
        use aws_sdk_dynamodb::types::TableStatus;
        for _ in 0..120 {
            let out = self
                .client
                .describe_table()
                .table_name(&self.table)
                .send()
                .await
                .map_err(|e| classify(&e))?;
            if out.table().and_then(|t| t.table_status()) == Some(&TableStatus::Active) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        Err(StoreError::Unavailable(
            "table did not become active in 60 s".to_owned(),
        ))
    }

    pub async fn put_project(&self, project: &Project) -> Result<(), StoreError> {
        self.put(item_of(project, project_key(project.id))?).await
    }

    pub async fn put_flow(&self, flow: &ProjectFlow) -> Result<(), StoreError> {
        self.put(item_of(flow, flow_key(flow.project, flow.id))?).await
    }

    pub async fn project(&self, id: ObjectId) -> Result<Option<Project>, StoreError> {
        self.get(project_key(id)).await
    }

    async fn put(&self, item: Item) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| classify(&e))?;
        Ok(())
    }
}

fn from_item<T: serde::de::DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    serde_dynamo::from_item(item).map_err(|e| StoreError::Internal(format!("unreadable item: {e}")))
}

fn internal(e: impl std::fmt::Display) -> StoreError {
    StoreError::Internal(e.to_string())
}
