//! The SDK floor: a hello world on `lambda_http` (tokio `current_thread`, like the function)
//! that makes, per request, the function's one warm DynamoDB call — a `TransactWriteItems`
//! of a liveness session and a biometric validation, each a `Put` conditioned on
//! `attribute_not_exists(pk)`, with the same attributes and value lengths (the harness
//! bills both from the bodies it sees, so any drift shows in its report) — through a client
//! built as the function builds its own (`aws::lambda_config`, `store::client::dynamodb`).
//! Whatever the function spends above this binary's CPU is the function's own work.
//!
//! `BENCH_SDK` changes the client for A/B measurements of per-call settings, a
//! comma-separated list of: `stall=on|off` (stalled-stream protection), `skew=on|off`
//! (clock-skew correction), `creds=env|static` (credentials from the environment on every
//! call through the identity cache, or read once with no cache), `pool=SECONDS` (the
//! connection pool's idle timeout; `pool=90` is hyper's default).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::{Credentials, IdentityCache, StalledStreamProtectionConfig};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use biometric_validations::model::Timestamp;
use lambda_http::{Body, Error, Request, Response, service_fn};

const CLIENT: &str = "613375a1eab2fe08527f81e2";
const PROJECT: &str = "66df5bf5c4d855fb0bdf5da2";
const FLOW: &str = "66df5c22c4d855fb0bdf5da9";

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn empty_list() -> AttributeValue {
    AttributeValue::L(vec![])
}

/// The function's two items for a `login` request on the seeded project.
fn items(
    session_id: &str,
    validation_id: &str,
    now: &str,
    expires: &str,
    ttl: u64,
) -> [HashMap<String, AttributeValue>; 2] {
    let mut session: HashMap<String, AttributeValue> = [
        ("client", s(CLIENT)),
        ("project", s(PROJECT)),
        ("projectFlow", s(FLOW)),
        ("identifier", s("03da12fba")),
        ("status", s("active")),
        ("expiresAt", s(expires)),
        ("_id", s(session_id)),
        ("activatedAt", s(now)),
        ("updatedAt", s(now)),
        ("createdAt", s(now)),
        ("__v", n(0)),
        ("pk", s(&format!("LIVENESS_SESSION#{session_id}"))),
        ("sk", s("LIVENESS_SESSION")),
        ("ttl", n(ttl)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    for list in [
        "livenessResult",
        "comparisonResult",
        "generalInformation",
        "documentTypeFields",
        "location",
        "proFields",
        "studioFields",
        "promptFields",
    ] {
        session.insert(list.to_owned(), empty_list());
    }
    let validation = [
        ("client", s(CLIENT)),
        ("project", s(PROJECT)),
        ("projectFlow", s(FLOW)),
        ("livenessSession", s(session_id)),
        ("status", s("new")),
        ("type", s("login")),
        (
            "url",
            s(&format!("https://app.verifik.co/sign-in/{PROJECT}?type=liveness")),
        ),
        ("livenessScore", n(0)),
        ("assignedCollection", s("66df5bf5c4d855fb0bdf5da4")),
        ("collectionCode", s("d29fe454-3ecc-4f58-8666-4021ac575d9c")),
        ("requires2FA", AttributeValue::Bool(false)),
        ("_id", s(validation_id)),
        ("updatedAt", s(now)),
        ("createdAt", s(now)),
        ("__v", n(0)),
        ("pk", s(&format!("BIOMETRIC_VALIDATION#{validation_id}"))),
        ("sk", s("BIOMETRIC_VALIDATION")),
        ("ttl", n(ttl)),
        ("identifier", s("03da12fba")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    [session, validation]
}

/// Applies `BENCH_SDK` to the library's client.
fn variant(client: Client, spec: &str) -> Result<Client, Error> {
    let mut config = client.config().to_builder();
    for setting in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match setting {
            "stall=on" => {
                config.set_stalled_stream_protection(Some(StalledStreamProtectionConfig::enabled().build()));
            }
            "stall=off" => {
                config.set_stalled_stream_protection(Some(StalledStreamProtectionConfig::disabled()));
            }
            "skew=on" => {
                config.set_disable_clock_skew_correction(Some(false));
            }
            "skew=off" => {
                config.set_disable_clock_skew_correction(Some(true));
            }
            "creds=env" => {
                config.set_credentials_provider(Some(aws_sdk_dynamodb::config::SharedCredentialsProvider::new(
                    aws_config::environment::EnvironmentVariableCredentialsProvider::new(),
                )));
                config.set_identity_cache(IdentityCache::lazy().build());
            }
            "creds=static" => {
                let var = |k: &str| std::env::var(k).map_err(|_| format!("{k} is not set"));
                let credentials = Credentials::new(
                    var("AWS_ACCESS_KEY_ID")?,
                    var("AWS_SECRET_ACCESS_KEY")?,
                    std::env::var("AWS_SESSION_TOKEN").ok(),
                    None,
                    "bench-static",
                );
                config.set_credentials_provider(Some(aws_sdk_dynamodb::config::SharedCredentialsProvider::new(
                    credentials,
                )));
                config.set_identity_cache(IdentityCache::no_cache());
            }
            pool if pool.starts_with("pool=") => {
                let seconds: u64 = pool["pool=".len()..]
                    .parse()
                    .map_err(|_| format!("BENCH_SDK: {pool:?}"))?;
                // The SDK's default HTTPS client, as `aws::lambda_config` builds it, with
                // another idle timeout.
                use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
                let client = aws_smithy_http_client::Builder::new()
                    .pool_idle_timeout(std::time::Duration::from_secs(seconds))
                    .tls_provider(Provider::Rustls(CryptoMode::AwsLc))
                    .build_https();
                config.set_http_client(Some(client));
            }
            other => return Err(format!("BENCH_SDK: unknown setting {other:?}").into()),
        }
    }
    Ok(Client::from_conf(config.build()))
}

/// As the function writes times (`model::Timestamp`).
fn timestamp(ms: u64) -> String {
    Timestamp::from_unix_millis(i64::try_from(ms).expect("a valid time"))
        .expect("a valid time")
        .to_string()
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let region = var("AWS_REGION").ok_or("AWS_REGION is not set")?;
    let table = var("TABLE_NAME").ok_or("TABLE_NAME is not set")?;
    let endpoint = var("AWS_ENDPOINT_URL_DYNAMODB").or_else(|| var("AWS_ENDPOINT_URL"));
    let shared = biometric_validations::aws::lambda_config(&region);
    let client = biometric_validations::store::client::dynamodb(&shared, endpoint.as_deref());
    let client = variant(client, &var("BENCH_SDK").unwrap_or_default())?;
    // Fresh 24-hex ids: 4 bytes of the start time, 8 of a counter.
    let start = SystemTime::now().duration_since(UNIX_EPOCH)?;
    let counter = AtomicU64::new(u64::from(std::process::id()) << 32);
    let (client, table, counter) = (&client, &table, &counter);
    lambda_http::run(service_fn(move |_req: Request| async move {
        let now = SystemTime::now().duration_since(UNIX_EPOCH)?;
        let id = || {
            format!(
                "{:08x}{:016x}",
                start.as_secs() as u32,
                counter.fetch_add(1, Ordering::Relaxed)
            )
        };
        let (session_id, validation_id) = (id(), id());
        let ms = now.as_millis() as u64;
        let expires = ms / 1000 + 240;
        let items = items(
            &session_id,
            &validation_id,
            &timestamp(ms),
            &timestamp(expires * 1000),
            expires,
        );
        let mut writes = Vec::with_capacity(2);
        for item in items {
            let put = Put::builder()
                .table_name(table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(pk)")
                .build()?;
            writes.push(TransactWriteItem::builder().put(put).build());
        }
        let result = client
            .transact_write_items()
            .set_transact_items(Some(writes))
            .send()
            .await;
        if let Err(e) = result {
            // moto sometimes answers after the 1 s attempt timeout: the SDK retries, and the
            // retry finds the items its first attempt wrote. The function reads its pair
            // back in that case; the floor accepts it (the ids are fresh, nothing else
            // writes them).
            let own_retry = e.as_service_error().is_some_and(|se| match se {
                TransactWriteItemsError::TransactionCanceledException(c) => c
                    .cancellation_reasons()
                    .iter()
                    .all(|r| r.code() == Some("ConditionalCheckFailed")),
                _ => false,
            });
            if !own_retry {
                return Err(aws_sdk_dynamodb::error::DisplayErrorContext(e).to_string().into());
            }
        }
        Ok::<_, Error>(Response::builder().status(200).body(Body::from("hello"))?)
    }))
    .await
}
