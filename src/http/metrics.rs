//! The per-request metrics, in CloudWatch Embedded Metric Format: the members the
//! per-request log line carries at its root (`logging` splices them in), so CloudWatch
//! extracts them from the log with no API call and no extra latency.
//!
//! Hand-written rather than the `metrics` facade with `metrics_cloudwatch_embedded`: that
//! recorder aggregates and flushes its own lines, while here the request's one log line
//! is the metric document (one line per request, joined to its trace and its fields).

use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::config::MetricsSettings;
use crate::model::ObjectId;
use crate::telemetry::Stats;

/// What one request did, as its metrics see it.
pub struct Outcome {
    pub status: u16,
    /// The error code; `None` for a 200.
    pub code: Option<&'static str>,
    pub client: Option<ObjectId>,
    pub latency: Duration,
    pub replayed: bool,
    pub cold: bool,
    pub stats: Stats,
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

fn flag(b: bool) -> u8 {
    u8::from(b)
}

/// The EMF members of a request's line: `_aws` (the directives) and the values.
pub fn document(settings: &MetricsSettings, outcome: &Outcome, timestamp_ms: i64) -> Value {
    let mut values = Map::new();
    values.insert("Status".into(), json!(outcome.status.to_string()));
    values.insert("Code".into(), json!(outcome.code.unwrap_or("OK")));
    let mut by = vec![json!([]), json!(["Status"]), json!(["Code"])];
    if settings.client_dimension {
        let client = outcome.client.map(|c| c.to_string()).unwrap_or_else(|| "-".to_owned());
        values.insert("Client".into(), json!(client));
        by.push(json!(["Client"]));
    }
    values.insert("Requests".into(), json!(1));
    let mut plain = vec![
        ("InternalErrors", "Count", json!(flag(outcome.status == 500))),
        ("Unavailable", "Count", json!(flag(outcome.status == 503))),
        ("Latency", "Milliseconds", json!(ms(outcome.latency))),
        ("IdempotentReplays", "Count", json!(flag(outcome.replayed))),
        ("ColdStarts", "Count", json!(flag(outcome.cold))),
    ];
    if let Some(took) = outcome.stats.dynamodb {
        plain.push(("DynamoDbTime", "Milliseconds", json!(ms(took))));
    }
    if let Some(hit) = outcome.stats.cache_hit {
        plain.push(("ProjectCacheHits", "Count", json!(flag(hit))));
    }
    let definitions: Vec<Value> = plain
        .iter()
        .map(|(name, unit, _)| json!({"Name": name, "Unit": unit}))
        .collect();
    for (name, _, value) in plain {
        values.insert(name.into(), value);
    }
    values.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [
                {"Namespace": settings.namespace, "Dimensions": by, "Metrics": [{"Name": "Requests", "Unit": "Count"}]},
                {"Namespace": settings.namespace, "Dimensions": [[]], "Metrics": definitions},
            ],
        }),
    );
    Value::Object(values)
}
