//! The test binary's moto server (started on first use, shared by every test, each on its
//! own table) and SDK clients for it with dummy credentials.

use std::sync::OnceLock;
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::config::{Credentials, Region};
use biometric_validations::aws;
use test_support::moto::Moto;

/// Fails the calling test with `message` alone: a panic would add a backtrace under
/// RUST_BACKTRACE=1 (pages of it, once per test that needs moto) and bury the one line
/// that says what to do.
fn no_moto(message: String) -> ! {
    eprintln!("{message}");
    std::panic::resume_unwind(Box::new(message))
}

/// Where this binary's moto listens: `MOTO_HOST` (the Docker bridge's address when the
/// subject is `sam local`: helpers/subject.rs), else loopback.
fn host() -> String {
    std::env::var("MOTO_HOST").unwrap_or_else(|_| "127.0.0.1".to_owned())
}

/// This test binary's moto, started on first use.
pub fn moto() -> &'static Moto {
    // Before the first handler logs anything (helpers/logs.rs).
    super::logs::install_log_subscriber();
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(|| Moto::start(&host()).unwrap_or_else(|e| no_moto(e)))
}

/// A moto of the caller's own, for a test that floods it: the others keep theirs
/// responsive. It stops when the test binary exits.
pub fn own_moto() -> &'static Moto {
    Box::leak(Box::new(Moto::start(&host()).unwrap_or_else(|e| no_moto(e))))
}

pub fn moto_endpoint() -> &'static str {
    &moto().endpoint
}

/// moto's `host:port`, what `proxy::start` forwards to.
pub fn moto_upstream() -> String {
    moto().address.clone()
}

/// A DynamoDB client for a local server with dummy credentials and the function's retry
/// policy and timeouts.
pub fn local_client(endpoint: &str) -> aws_sdk_dynamodb::Client {
    local_client_with_timeouts(endpoint, aws::timeout_config())
}

/// As `local_client`, with other timeouts: a single-threaded emulator under heavy
/// concurrency queues requests for far longer than DynamoDB ever answers.
pub fn local_client_with_timeouts(endpoint: &str, timeouts: TimeoutConfig) -> aws_sdk_dynamodb::Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "local"))
        .endpoint_url(endpoint)
        .retry_config(aws::retry_config())
        .timeout_config(timeouts)
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

/// Timeouts for the harness's own reads and writes (seeding, scans): as long as a busy
/// emulator needs; the function keeps its production timeouts.
pub fn patient() -> TimeoutConfig {
    TimeoutConfig::builder()
        .operation_attempt_timeout(Duration::from_secs(60))
        .operation_timeout(Duration::from_secs(120))
        .build()
}

/// A Secrets Manager client for moto (or a proxy before it), with dummy credentials and
/// the function's retries and timeouts, so that faults cost what they would.
pub fn secrets_client(endpoint: &str) -> aws_sdk_secretsmanager::Client {
    let config = aws_sdk_secretsmanager::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "local"))
        .endpoint_url(endpoint)
        .retry_config(aws::retry_config())
        .timeout_config(aws::timeout_config())
        .build();
    aws_sdk_secretsmanager::Client::from_conf(config)
}
