//! What every AWS client of the handler shares, built without I/O: Lambda gives the
//! function its role's credentials in `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/
//! `AWS_SESSION_TOKEN` and its region in `AWS_REGION`, so the default chain (profile
//! files, SSO, IMDS, STS) would only cost start-up time and binary size. The retry
//! policy and timeouts are stated explicitly.

use std::time::Duration;

use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;

/// Attempts per call (the first one included).
pub const MAX_ATTEMPTS: u32 = 3;
/// One attempt's limit; DynamoDB and Secrets Manager answer in milliseconds when healthy.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(1000);
/// One call's limit, retries included. A request makes at most two DynamoDB calls (a
/// read and a write) plus one re-read, so it stays well under the function's timeout (10 s).
pub const OPERATION_TIMEOUT: Duration = Duration::from_millis(2500);
pub const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);

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

/// The handler's shared configuration: region, Lambda's credentials, retries, timeouts.
pub fn lambda_config(region: &str) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .credentials_provider(SharedCredentialsProvider::new(
            EnvironmentVariableCredentialsProvider::new(),
        ))
        .retry_config(retry_config())
        .timeout_config(timeout_config())
        .build()
}
