//! DynamoDB clients: the handler's (built without I/O) and the admin CLI's (the full
//! credentials chain), with the retry policy and timeouts stated explicitly.

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::Region;

/// Attempts per DynamoDB call (the first one included).
pub const MAX_ATTEMPTS: u32 = 3;
/// One attempt's limit; DynamoDB answers in milliseconds when healthy.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(1000);
/// One call's limit, retries included. A request makes at most two calls (a read and a
/// write) plus one re-read, so it stays well under the function's timeout (10 s).
pub const OPERATION_TIMEOUT: Duration = Duration::from_millis(2500);
pub const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);

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
    let mut config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .credentials_provider(EnvironmentVariableCredentialsProvider::new())
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
