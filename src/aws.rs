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
/// read and a write) and, rarely, awaits key re-reads (an unknown `kid`; keys past their
/// bound after a long idle): the request deadline (8 s) answers 503 before the function's
/// timeout (10 s) whatever they cost.
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

/// How long a pooled connection may sit idle and still be used: under DynamoDB's own limit.
/// DynamoDB closes a connection idle for about 60 s (observed, not documented;
/// docs/performance.md), and a Lambda instance frozen between requests comes back to a pool whose
/// connection the server may have dropped. hyper checks the idle time when it takes a
/// connection from the pool, so one idle longer than this is replaced (a resumed TLS
/// handshake) instead of tried and timed out.
pub const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(50);

/// The handler's shared configuration: region, Lambda's credentials, retries, timeouts,
/// and the HTTP client.
pub fn lambda_config(region: &str) -> SdkConfig {
    use aws_config::stalled_stream_protection::StalledStreamProtectionConfig;
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .credentials_provider(SharedCredentialsProvider::new(
            EnvironmentVariableCredentialsProvider::new(),
        ))
        .http_client(https_client(POOL_IDLE_TIMEOUT))
        // Off: its grace period (20 s) is longer than a whole call may take (2.5 s), so it
        // could never fire; the attempt timeout bounds a stalled response. Measured: it cost
        // ~25-50 µs of CPU per call (docs/performance.md).
        .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
        .retry_config(retry_config())
        .timeout_config(timeout_config())
        .build()
}

/// The SDK's default HTTPS client (hyper 1, rustls on aws-lc), named only to set the
/// pool's idle timeout. It ignores HTTP(S)_PROXY, which Lambda does not set.
fn https_client(pool_idle: Duration) -> aws_sdk_dynamodb::config::SharedHttpClient {
    use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
    aws_smithy_http_client::Builder::new()
        .pool_idle_timeout(pool_idle)
        .tls_provider(Provider::Rustls(CryptoMode::AwsLc))
        .build_https()
}
