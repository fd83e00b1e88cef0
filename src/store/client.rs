//! DynamoDB clients: the handler's (built without I/O, on `aws::lambda_config`) and the
//! admin CLI's (the full credentials chain), with the same retry policy and timeouts.

use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_dynamodb::Client;

pub use crate::aws::{ATTEMPT_TIMEOUT, CONNECT_TIMEOUT, MAX_ATTEMPTS, OPERATION_TIMEOUT, retry_config, timeout_config};

/// The handler's client on the shared configuration; `endpoint` points it at a local server.
pub fn dynamodb(shared: &SdkConfig, endpoint: Option<&str>) -> Client {
    let mut config = aws_sdk_dynamodb::config::Builder::from(shared);
    config.set_endpoint_url(endpoint.map(str::to_owned));
    Client::from_conf(config.build())
}

/// The handler's client for `region` (the benchmark's SDK floor builds it this way too).
pub fn lambda_client(region: &str, endpoint: Option<&str>) -> Client {
    dynamodb(&crate::aws::lambda_config(region), endpoint)
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
