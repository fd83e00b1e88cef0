//! The per-request metrics: one CloudWatch Embedded Metric Format (EMF) document per
//! request, on a line of its own, as Powertools for AWS Lambda writes them. CloudWatch
//! Logs extracts the metrics from the function's log with no API call and no latency.
//! The document follows the specification:
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html>
//!
//! Weighed: `metrics_cloudwatch_embedded` (the `metrics` facade's EMF recorder). It is a
//! global recorder that aggregates and flushes on its own, and would add two crates for
//! what is here one serialized struct per request.

use std::io::Write;
use std::time::Duration;

use serde::Serialize;

use crate::config::MetricsSettings;
use crate::model::ClientId;
use crate::telemetry::Stats;

/// Where the documents go, one line each: standard output in Lambda (CloudWatch Logs),
/// a buffer in tests.
pub trait Sink: Send + Sync {
    fn write_line(&self, line: &[u8]);
}

/// Standard output, a line per document written at once.
pub struct Stdout;

impl Sink for Stdout {
    fn write_line(&self, line: &[u8]) {
        let mut out = std::io::stdout().lock();
        // Nothing to do if standard output is gone; the request was answered.
        let _ = out.write_all(line).and_then(|()| out.write_all(b"\n"));
        let _ = out.flush();
    }
}

/// What one request did, as its metrics see it.
pub struct Outcome<'a> {
    pub request_id: &'a str,
    pub status: u16,
    /// The error code; `None` for a 200.
    pub code: Option<&'static str>,
    pub client: Option<ClientId>,
    pub latency: Duration,
    pub replayed: bool,
    pub cold: bool,
    pub stats: Stats,
}

/// The EMF document of one request: the directives (`_aws`), the dimensions' values, the
/// metrics' values and the request id (a property, to join the request's log line).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Document<'a> {
    #[serde(rename = "_aws")]
    aws: Directives<'a>,
    status: String,
    code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    client: Option<String>,
    requests: u8,
    internal_errors: u8,
    unavailable: u8,
    latency: f64,
    idempotent_replays: u8,
    cold_starts: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    dynamo_db_time: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    project_cache_hits: Option<u8>,
    #[serde(rename = "requestId")]
    request_id: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Directives<'a> {
    timestamp: i64,
    cloud_watch_metrics: [MetricDirective<'a>; 2],
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct MetricDirective<'a> {
    namespace: &'a str,
    dimensions: Vec<&'static [&'static str]>,
    metrics: Vec<Metric>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Metric {
    name: &'static str,
    unit: &'static str,
}

const fn metric(name: &'static str, unit: &'static str) -> Metric {
    Metric { name, unit }
}

/// Milliseconds, to the microsecond.
fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

/// `Requests` is counted in total, by `Status`, by `Code` and (when asked) by `Client`;
/// the other metrics in total only, each only when the request measured it.
pub fn document<'a>(settings: &'a MetricsSettings, outcome: &Outcome<'a>, timestamp_ms: i64) -> Document<'a> {
    let mut by: Vec<&'static [&'static str]> = vec![&[], &["Status"], &["Code"]];
    if settings.client_dimension {
        by.push(&["Client"]);
    }
    let mut plain = vec![
        metric("InternalErrors", "Count"),
        metric("Unavailable", "Count"),
        metric("Latency", "Milliseconds"),
        metric("IdempotentReplays", "Count"),
        metric("ColdStarts", "Count"),
    ];
    if outcome.stats.dynamodb.is_some() {
        plain.push(metric("DynamoDbTime", "Milliseconds"));
    }
    if outcome.stats.cache_hit.is_some() {
        plain.push(metric("ProjectCacheHits", "Count"));
    }
    let namespace = settings.namespace.as_str();
    Document {
        aws: Directives {
            timestamp: timestamp_ms,
            cloud_watch_metrics: [
                MetricDirective {
                    namespace,
                    dimensions: by,
                    metrics: vec![metric("Requests", "Count")],
                },
                MetricDirective {
                    namespace,
                    dimensions: vec![&[]],
                    metrics: plain,
                },
            ],
        },
        status: outcome.status.to_string(),
        code: outcome.code.unwrap_or("OK"),
        client: settings
            .client_dimension
            .then(|| outcome.client.map_or_else(|| "-".to_owned(), |c| c.to_string())),
        requests: 1,
        internal_errors: u8::from(outcome.status == 500),
        unavailable: u8::from(outcome.status == 503),
        latency: ms(outcome.latency),
        idempotent_replays: u8::from(outcome.replayed),
        cold_starts: u8::from(outcome.cold),
        dynamo_db_time: outcome.stats.dynamodb.map(ms),
        project_cache_hits: outcome.stats.cache_hit.map(u8::from),
        request_id: outcome.request_id,
    }
}
