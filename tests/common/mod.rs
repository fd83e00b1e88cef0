//! Shared harness: a real moto server (started once per test binary), a fresh table per
//! test, the demo data, client tokens and API Gateway events.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use aws_config::BehaviorVersion;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::config::{Credentials, Region};
use aws_sdk_dynamodb::types::AttributeValue;
use biometric_validations::app::{self, Clients};
use biometric_validations::model::{
    Clock, FlowStatus, FlowType, IdSource, ObjectId, Project, ProjectFlow, RandomIds, SystemClock, Timestamp,
};
use biometric_validations::store::{self, Admin};
use biometric_validations::token::{SESSION_AUDIENCE, SessionClaims};
use biometric_validations::{Config, Handler};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use lambda_http::{Body, Request, Response};
use serde_json::{Value, json};

/// The CloudWatch Embedded Metric Format checker.
pub mod emf;
/// The Runtime API emulator and the function's environment (shared with bench/).
pub mod runtime_api;
/// The handler in this process, or the shipped artifact (`ARTIFACT`).
pub mod subject;

/// The documented local test secrets (README, events/, env.json). Never use them on AWS.
pub const CLIENT_SECRET: &str = "local-client-token-secret-0123456789abcdef";
pub const SESSION_SECRET: &str = "local-session-token-secret-0123456789abcdef";
pub const APP_BASE_URL: &str = "https://app.verifik.co";

pub const CLIENT: &str = "613375a1eab2fe08527f81e2";
pub const OTHER_CLIENT: &str = "613375a1eab2fe08527f81e9";
pub const PROJECT: &str = "66df5bf5c4d855fb0bdf5da2";
pub const LOGIN_FLOW: &str = "66df5c22c4d855fb0bdf5da9";
pub const ONBOARDING_FLOW: &str = "66df5c22c4d855fb0bdf5daa";
pub const COLLECTION: &str = "66df5bf5c4d855fb0bdf5da4";
pub const COLLECTION_CODE: &str = "d29fe454-3ecc-4f58-8666-4021ac575d9c";

pub const SEED_BODY: &str = r#"{"project":"66df5bf5c4d855fb0bdf5da2","projectFlow":"66df5c22c4d855fb0bdf5da9","identifier":"03da12fba","type":"login"}"#;

pub fn id(s: &str) -> ObjectId {
    ObjectId::parse(s).expect("test id")
}

struct Moto {
    endpoint: String,
    _child: Child,
    // Held open: the server exits when this test process ends and the pipe closes.
    _stdin: ChildStdin,
}

pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("MOTO_PYTHON") {
        return PathBuf::from(p);
    }
    repo().join(".venv/bin/python")
}

const INSTALL_HINT: &str = "moto is not installed. Run `make test` (it creates .venv with moto[server]), \
     or `python3 -m venv .venv && .venv/bin/pip install 'moto[server]'`, or set MOTO_PYTHON to a Python that has moto.";

/// Fails the calling test with `message` and the install hint, and nothing else: a
/// panic would add a backtrace under RUST_BACKTRACE=1 (pages of it, once per test that
/// needs moto) and bury the one line that says what to do. The message goes to the
/// test's output, which the harness shows with the failure; the test still fails.
fn no_moto(message: String) -> ! {
    let message = format!("{message}. {INSTALL_HINT}");
    eprintln!("{message}");
    std::panic::resume_unwind(Box::new(message))
}

/// moto's `host:port`, what `proxy::start` forwards to.
pub fn moto_upstream() -> String {
    moto_endpoint().trim_start_matches("http://").to_owned()
}

/// The endpoint of this test binary's moto server, started on first use.
pub fn moto_endpoint() -> &'static str {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    &MOTO
        .get_or_init(|| {
            let python = python();
            if !python.exists() {
                no_moto(format!("{} not found", python.display()));
            }
            let mut child = Command::new(&python)
                .arg(repo().join("scripts/moto_server.py"))
                .arg("--exit-on-stdin-eof")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| no_moto(format!("cannot start {}: {e}", python.display())));
            let mut line = String::new();
            BufReader::new(child.stdout.take().expect("stdout"))
                .read_line(&mut line)
                .unwrap_or_else(|e| no_moto(format!("cannot read moto's port: {e}")));
            let Some(port) = line.strip_prefix("PORT ").map(str::trim) else {
                // Its stderr stays closed (moto logs every request there); ask Python why.
                let why = Command::new(&python)
                    .args(["-c", "import moto.server, werkzeug"])
                    .output()
                    .map(|o| {
                        String::from_utf8_lossy(&o.stderr)
                            .lines()
                            .last()
                            .unwrap_or("")
                            .to_owned()
                    })
                    .unwrap_or_default();
                no_moto(format!("moto did not start with {} ({why})", python.display()));
            };
            Moto {
                endpoint: format!("http://127.0.0.1:{port}"),
                _stdin: child.stdin.take().expect("stdin"),
                _child: child,
            }
        })
        .endpoint
}

/// Where a test handler's keys come from.
#[derive(Clone, Debug)]
pub enum Keys {
    /// The documented local keys, in the environment (no versions: no `kid`).
    Local,
    /// Two Secrets Manager secrets in moto (ARNs), holding the same documented values:
    /// the production path.
    SecretsManager { client: String, session: String },
}

/// The function's settings for `table` with `keys`, as a Lambda environment would give them.
pub fn vars(table: &str, keys: &Keys) -> HashMap<&'static str, String> {
    let mut vars = HashMap::from([
        ("TABLE_NAME", table.to_owned()),
        ("APP_BASE_URL", APP_BASE_URL.to_owned()),
        ("AWS_REGION", "us-east-1".to_owned()),
    ]);
    match keys {
        Keys::Local => {
            vars.insert("CLIENT_TOKEN_SECRET", CLIENT_SECRET.to_owned());
            vars.insert("SESSION_TOKEN_SECRET", SESSION_SECRET.to_owned());
        }
        Keys::SecretsManager { client, session } => {
            vars.insert("CLIENT_TOKEN_SECRET_ARN", client.clone());
            vars.insert("SESSION_TOKEN_SECRET_ARN", session.clone());
        }
    }
    vars
}

pub fn config_of(vars: &HashMap<&'static str, String>) -> Config {
    Config::from_lookup(|k| vars.get(k).cloned()).expect("test config")
}

/// The settings of a handler with the documented local keys.
pub fn config(table: &str) -> Config {
    config_of(&vars(table, &Keys::Local))
}

/// The function's handler on `client` (DynamoDB) and moto's Secrets Manager, with the
/// clock and ids given.
pub async fn handler(
    config: &Config,
    client: aws_sdk_dynamodb::Client,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdSource>,
) -> Handler {
    let clients = Clients {
        dynamodb: client,
        secrets_manager: secrets_client(moto_endpoint()),
    };
    app::handler(config, clients, clock, ids)
        .await
        .expect("the handler starts")
}

/// As `handler`, with the Secrets Manager client given (a proxy's, say).
pub async fn handler_with_secrets(
    config: &Config,
    client: aws_sdk_dynamodb::Client,
    secrets_manager: aws_sdk_secretsmanager::Client,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdSource>,
) -> Handler {
    let clients = Clients {
        dynamodb: client,
        secrets_manager,
    };
    app::handler(config, clients, clock, ids)
        .await
        .expect("the handler starts")
}

/// A Secrets Manager client for moto (or a proxy before it), with dummy credentials.
pub fn secrets_client(endpoint: &str) -> aws_sdk_secretsmanager::Client {
    let config = aws_sdk_secretsmanager::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "local"))
        .endpoint_url(endpoint)
        // The function's retries and timeouts (aws.rs), so that faults cost what they would.
        .retry_config(biometric_validations::aws::retry_config())
        .timeout_config(biometric_validations::aws::timeout_config())
        .build();
    aws_sdk_secretsmanager::Client::from_conf(config)
}

/// A new secret in moto holding `value`; its ARN.
pub async fn create_secret(name: &str, value: &str) -> String {
    secrets_client(moto_endpoint())
        .create_secret()
        .name(name)
        .secret_string(value)
        .send()
        .await
        .expect("create secret")
        .arn
        .expect("an ARN")
}

/// A rotation as `put-secret-value` does it: a new AWSCURRENT, the old one AWSPREVIOUS.
/// Returns the new version's id (the `kid` of what it signs).
pub async fn rotate_secret(arn: &str, value: &str) -> String {
    secrets_client(moto_endpoint())
        .put_secret_value()
        .secret_id(arn)
        .secret_string(value)
        .send()
        .await
        .expect("put secret value")
        .version_id
        .expect("a version id")
}

/// The `VersionId` of a secret's AWSCURRENT.
pub async fn current_version(arn: &str) -> String {
    secrets_client(moto_endpoint())
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .expect("get secret value")
        .version_id
        .expect("a version id")
}

/// A client token signed with `secret`, with `kid` in its header when given.
pub fn client_token(secret: &str, kid: Option<&str>, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
}

/// Two fresh secrets holding the documented local keys.
pub async fn secrets_manager_keys(prefix: &str) -> Keys {
    Keys::SecretsManager {
        client: create_secret(&format!("{prefix}/client-token"), CLIENT_SECRET).await,
        session: create_secret(&format!("{prefix}/session-token"), SESSION_SECRET).await,
    }
}

/// A client for a local server with dummy credentials and the function's retry policy
/// and timeouts.
pub fn local_client(endpoint: &str) -> aws_sdk_dynamodb::Client {
    local_client_with_timeouts(endpoint, store::client::timeout_config())
}

/// As `local_client`, with other timeouts: a single-threaded emulator under heavy
/// concurrency queues requests for far longer than DynamoDB ever answers.
pub fn local_client_with_timeouts(endpoint: &str, timeouts: TimeoutConfig) -> aws_sdk_dynamodb::Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "local"))
        .endpoint_url(endpoint)
        .retry_config(store::client::retry_config())
        .timeout_config(timeouts)
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

/// A clock that always answers the same instant.
pub struct FixedClock(pub Timestamp);

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        self.0
    }
}

/// Verifies session tokens as a consumer of them would (the liveness app's back end):
/// HS256 only, `aud` must be `liveness`, `iss` ours, `exp` in the future.
pub struct SessionVerifier {
    key: DecodingKey,
    validation: Validation,
}

impl SessionVerifier {
    pub fn new(session_token_secret: &[u8], issuer: &str) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[SESSION_AUDIENCE]);
        validation.set_issuer(&[issuer]);
        validation.set_required_spec_claims(&["exp", "aud", "iss", "sub"]);
        validation.leeway = 0;
        Self {
            key: DecodingKey::from_secret(session_token_secret),
            validation,
        }
    }

    pub fn verify(&self, token: &str) -> Result<SessionClaims, jsonwebtoken::errors::Error> {
        jsonwebtoken::decode::<SessionClaims>(token, &self.key, &self.validation).map(|d| d.claims)
    }
}

pub struct TestEnv {
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
        let table = fresh_table();
        let keys = secrets_manager_keys(&table).await;
        Self::build(table, keys, clock, ids).await
    }

    /// A fresh table, with the documented local keys in the environment (no `kid`).
    pub async fn with_local_keys(clock: Arc<dyn Clock>, ids: Arc<dyn IdSource>) -> Self {
        Self::build(fresh_table(), Keys::Local, clock, ids).await
    }

    /// This environment's settings (to build another handler on the same table and keys).
    pub fn vars(&self) -> HashMap<&'static str, String> {
        vars(&self.table, &self.keys)
    }

    pub fn config(&self) -> Config {
        config_of(&self.vars())
    }

    async fn build(table: String, keys: Keys, clock: Arc<dyn Clock>, ids: Arc<dyn IdSource>) -> Self {
        // The harness's own reads and writes (seeding, scans) wait as long as a busy
        // emulator needs; the function keeps its production timeouts.
        let patient = TimeoutConfig::builder()
            .operation_attempt_timeout(std::time::Duration::from_secs(60))
            .operation_timeout(std::time::Duration::from_secs(120))
            .build();
        let store = Admin::new(local_client_with_timeouts(moto_endpoint(), patient), table.clone());
        store.create_table().await.expect("create table");
        seed(&store).await;
        let config = config_of(&vars(&table, &keys));
        let app = Arc::new(handler(&config, local_client(moto_endpoint()), clock, ids).await);
        Self {
            app,
            store,
            table,
            keys,
        }
    }

    pub async fn call(&self, event: Value) -> Reply {
        call(&self.app, event).await
    }

    /// Every item of the table, as JSON-ish maps.
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
}

pub fn s(item: &HashMap<String, AttributeValue>, key: &str) -> String {
    match item.get(key) {
        Some(AttributeValue::S(v)) => v.clone(),
        Some(AttributeValue::N(v)) => v.clone(),
        other => panic!("{key}: {other:?}"),
    }
}

/// The demo data: a client with one project and an active login and onboarding flow.
pub async fn seed(store: &Admin) {
    store
        .put_project(&project_of(PROJECT, CLIENT))
        .await
        .expect("put project");
    for (flow, kind) in [(LOGIN_FLOW, FlowType::Login), (ONBOARDING_FLOW, FlowType::Onboarding)] {
        store
            .put_flow(&flow_of(PROJECT, flow, kind, FlowStatus::Active))
            .await
            .expect("put flow");
    }
}

/// A usable project (with its collection) of `client`.
pub fn project_of(project: &str, client: &str) -> Project {
    Project {
        id: id(project),
        client: id(client),
        name: "Demo project".into(),
        assigned_collection: Some(id(COLLECTION)),
        collection_code: Some(COLLECTION_CODE.into()),
        redirect_origins: vec![],
    }
}

pub fn flow_of(project: &str, flow: &str, kind: FlowType, status: FlowStatus) -> ProjectFlow {
    ProjectFlow {
        id: id(flow),
        project: id(project),
        kind,
        status,
        face_liveness: true,
        requires_2fa: false,
        redirect_url: None,
    }
}

pub fn now_secs() -> i64 {
    SystemClock.now().unix_seconds()
}

pub fn sign(claims: &Value, secret: &str) -> String {
    client_token(secret, None, claims)
}

/// A valid client token for `client`, an hour long.
pub fn token_for(client: &str) -> String {
    sign(&json!({ "clientId": client, "exp": now_secs() + 3600 }), CLIENT_SECRET)
}

pub fn bearer() -> String {
    format!("Bearer {}", token_for(CLIENT))
}

/// An API Gateway HTTP API (payload 2.0) event.
pub fn event(method: &str, path: &str, headers: &[(&str, &str)], body: Option<&str>) -> Value {
    let headers: serde_json::Map<String, Value> = headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), Value::String((*v).to_owned())))
        .collect();
    json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api-id",
            "domainName": "api.example.com",
            "domainPrefix": "api",
            "http": { "method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1", "userAgent": "tests" },
            "requestId": "test-request",
            "routeKey": "$default",
            "stage": "$default",
            "time": "12/Sep/2024:17:26:26 +0000",
            "timeEpoch": 1726161986954i64
        },
        "body": body,
        "isBase64Encoded": false
    })
}

/// The seed's request, authenticated, with `extra` headers.
pub fn post(body: &str, extra: &[(&str, &str)]) -> Value {
    let auth = bearer();
    let mut headers = vec![("authorization", auth.as_str()), ("content-type", "application/json")];
    headers.extend_from_slice(extra);
    event("POST", "/v2/biometric-validations", &headers, Some(body))
}

pub struct Reply {
    pub status: u16,
    pub headers: lambda_http::http::HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts an error in the contract's shape.
    pub fn assert_error(&self, status: u16, code: &str, message: &str) {
        assert_eq!(
            (self.status, self.json()),
            (status, json!({ "code": code, "message": message })),
            "body: {}",
            self.body
        );
        assert_eq!(self.header("content-type"), Some("application/json"));
    }
}

/// Sends an event through the real event conversion and the real handler.
pub async fn call(app: &Handler, event: Value) -> Reply {
    let req: Request = lambda_http::request::from_str(&event.to_string()).expect("a valid API Gateway event");
    into_reply(app.handle(req).await)
}

pub fn into_reply(resp: Response<Body>) -> Reply {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = match resp.into_body() {
        Body::Text(t) => t,
        Body::Binary(b) => String::from_utf8(b).expect("utf-8 body"),
        Body::Empty => String::new(),
        _ => panic!("unexpected body kind"),
    };
    Reply { status, headers, body }
}

/// Ids handed out in the order given (then fresh random ones).
pub struct ScriptedIds {
    next: Mutex<Vec<ObjectId>>,
    fallback: RandomIds,
}

impl ScriptedIds {
    pub fn new(ids: &[&str]) -> Self {
        Self {
            next: Mutex::new(ids.iter().rev().map(|s| id(s)).collect()),
            fallback: RandomIds::new(),
        }
    }
}

impl IdSource for ScriptedIds {
    fn next_id(&self, seconds: u32) -> ObjectId {
        self.next
            .lock()
            .unwrap()
            .pop()
            .unwrap_or_else(|| self.fallback.next_id(seconds))
    }
}

pub fn ts(s: &str) -> Timestamp {
    Timestamp::parse(s).expect("timestamp")
}

/// The admin CLI on `table` against this binary's moto, with dummy credentials and the
/// documented local client key.
pub fn admin(table: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_admin"))
        .args(args)
        .env("TABLE_NAME", table)
        .env("DYNAMODB_ENDPOINT", moto_endpoint())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("CLIENT_TOKEN_SECRET", CLIENT_SECRET)
        .output()
        .expect("run admin")
}

/// What a successful admin command printed, trimmed; its stderr when it failed.
pub fn stdout(o: &std::process::Output) -> String {
    assert!(
        o.status.success(),
        "admin failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).unwrap().trim().to_owned()
}

/// What the function logs, captured: a writer for `logging::json_layer`.
#[derive(Clone, Default)]
pub struct LogCapture(pub Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
