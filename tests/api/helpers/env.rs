//! A test's environment: a fresh table with the demo data, keys, and the function's
//! handler on them, built as `app` builds it in Lambda.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use aws_sdk_dynamodb::types::AttributeValue;
use biometric_validations::app::{self, Clients};
use biometric_validations::config::KeySource;
use biometric_validations::model::{Clock, IdSource, RandomIds, SystemClock};
use biometric_validations::store::Admin;
use biometric_validations::{Config, Handler, demo};
use serde_json::Value;

use super::events::{Reply, call};
use super::moto::{local_client, local_client_with_timeouts, moto_endpoint, own_moto, patient, secrets_client};
use super::secrets::{Keys, secrets_manager_keys};
use super::{APP_BASE_URL, CLIENT_SECRET, SESSION_SECRET, s};

/// The function's settings for `table` with `keys`, as a Lambda environment would give them.
pub fn vars(table: &str, keys: &Keys) -> HashMap<&'static str, String> {
    let mut vars = HashMap::from([
        ("TABLE_NAME", table.to_owned()),
        ("APP_BASE_URL", APP_BASE_URL.to_owned()),
        ("AWS_REGION", "us-east-1".to_owned()),
        // As in every local run: the documented local keys serve only off AWS. (The
        // handler's clients are given to it, on this binary's moto or a proxy before it.)
        ("AWS_ENDPOINT_URL", moto_endpoint().to_owned()),
    ]);
    let (client, session) = match keys {
        // Named, but held in memory (`with_keys`), never read.
        Keys::Local => (
            "in-memory/client-token".to_owned(),
            "in-memory/session-token".to_owned(),
        ),
        Keys::SecretsManager { client, session } => (client.clone(), session.clone()),
    };
    vars.insert("CLIENT_TOKEN_SECRET_ARN", client);
    vars.insert("SESSION_TOKEN_SECRET_ARN", session);
    vars
}

pub fn config_of(vars: &HashMap<&'static str, String>) -> Config {
    Config::from_lookup(|k| vars.get(k).cloned()).expect("test config")
}

/// `config` with `keys`: the documented local keys held in memory (no version: no `kid`),
/// as an embedding program sets them in code; else as configured.
pub fn with_keys(mut config: Config, keys: &Keys) -> Config {
    if let Keys::Local = keys {
        config.client_key.source = KeySource::Value(CLIENT_SECRET.to_owned().into());
        config.session_key.source = KeySource::Value(SESSION_SECRET.to_owned().into());
    }
    config
}

/// The function's handler on `client` (DynamoDB) and moto's Secrets Manager, with the
/// clock and ids given.
pub async fn handler(
    config: &Config,
    client: aws_sdk_dynamodb::Client,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdSource>,
) -> Handler {
    handler_with_secrets(config, client, secrets_client(moto_endpoint()), clock, ids).await
}

/// As `handler`, with the Secrets Manager client given (a proxy's, say).
pub async fn handler_with_secrets(
    config: &Config,
    dynamodb: aws_sdk_dynamodb::Client,
    secrets_manager: aws_sdk_secretsmanager::Client,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdSource>,
) -> Handler {
    try_handler_with_secrets(config, dynamodb, secrets_manager, clock, ids)
        .await
        .expect("the handler starts")
}

/// As `handler_with_secrets`, or why the handler refused to start.
pub async fn try_handler_with_secrets(
    config: &Config,
    dynamodb: aws_sdk_dynamodb::Client,
    secrets_manager: aws_sdk_secretsmanager::Client,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdSource>,
) -> Result<Handler, biometric_validations::config::ConfigError> {
    let clients = Clients {
        dynamodb,
        secrets_manager,
    };
    // Its metrics lines, kept from the tests' output (the metrics tests read them).
    Ok(app::handler(config, clients, clock, ids)
        .await?
        .with_metrics_sink(Arc::new(super::MetricsCapture::default())))
}

pub struct TestEnv {
    /// The moto it lives in.
    pub endpoint: &'static str,
    pub app: Arc<Handler>,
    pub store: Admin,
    pub table: String,
    pub keys: Keys,
}

fn fresh_table() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!("bv-test-{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

impl TestEnv {
    /// A fresh table with the demo data, the system clock and random ids.
    pub async fn new() -> Self {
        Self::with_parts(Arc::new(SystemClock), Arc::new(RandomIds::new())).await
    }

    /// A fresh table and fresh keys in Secrets Manager (the production path).
    pub async fn with_parts(clock: Arc<dyn Clock>, ids: Arc<dyn IdSource>) -> Self {
        Self::on(moto_endpoint(), clock, ids).await
    }

    /// As `new`, on a moto of its own (`own_moto`).
    pub async fn alone() -> Self {
        Self::on(&own_moto().endpoint, Arc::new(SystemClock), Arc::new(RandomIds::new())).await
    }

    async fn on(endpoint: &'static str, clock: Arc<dyn Clock>, ids: Arc<dyn IdSource>) -> Self {
        let table = fresh_table();
        let keys = secrets_manager_keys(endpoint, &table).await;
        Self::build(endpoint, table, keys, clock, ids).await
    }

    /// A fresh table, with the documented local keys held in memory (no `kid`).
    pub async fn with_local_keys(clock: Arc<dyn Clock>, ids: Arc<dyn IdSource>) -> Self {
        Self::build(moto_endpoint(), fresh_table(), Keys::Local, clock, ids).await
    }

    /// This environment's settings (to build another handler on the same table and keys).
    pub fn vars(&self) -> HashMap<&'static str, String> {
        vars(&self.table, &self.keys)
    }

    pub fn config(&self) -> Config {
        with_keys(config_of(&self.vars()), &self.keys)
    }

    async fn build(
        endpoint: &'static str,
        table: String,
        keys: Keys,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdSource>,
    ) -> Self {
        let store = Admin::new(local_client_with_timeouts(endpoint, patient()), table.clone());
        store.create_table().await.expect("create table");
        demo::seed(&store).await.expect("seed the demo data");
        let config = with_keys(config_of(&vars(&table, &keys)), &keys);
        let app = handler_with_secrets(&config, local_client(endpoint), secrets_client(endpoint), clock, ids).await;
        Self {
            endpoint,
            app: Arc::new(app),
            store,
            table,
            keys,
        }
    }

    pub async fn call(&self, event: Value) -> Reply {
        call(&self.app, event).await
    }

    /// Every item of the table.
    pub async fn scan(&self) -> Vec<HashMap<String, AttributeValue>> {
        // Page by page: one Scan answers at most 1 MB (a 1000-pair load run is more).
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .store
                .client()
                .scan()
                .table_name(&self.table)
                .set_exclusive_start_key(start)
                .send()
                .await
                .expect("scan");
            items.extend(out.items.unwrap_or_default());
            start = out.last_evaluated_key;
            if start.is_none() {
                return items;
            }
        }
    }

    /// Items whose `pk` starts with `prefix`.
    pub async fn items(&self, prefix: &str) -> Vec<HashMap<String, AttributeValue>> {
        self.scan()
            .await
            .into_iter()
            .filter(|i| s(i, "pk").starts_with(prefix))
            .collect()
    }

    /// Makes the (only) idempotency record look as the previous version wrote them: the
    /// ids, no first answer.
    pub async fn forget_first_answer(&self) {
        let record = self.items("IDEMPOTENCY#").await.remove(0);
        self.store
            .client()
            .update_item()
            .table_name(&self.table)
            .key("pk", record["pk"].clone())
            .key("sk", record["sk"].clone())
            .update_expression("REMOVE firstAnswer")
            .send()
            .await
            .expect("update the record");
    }
}
