//! Every per-request log line is a valid CloudWatch Embedded Metric Format document
//! (checked by tests/common/emf.rs against the specification), with the metrics the
//! README's Operations section lists, their units and dimensions; and every line of a
//! request carries its X-Ray trace id.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::helpers::emf::{self, Metric};
use crate::helpers::*;
use biometric_validations::model::{Clock, RandomIds, SystemClock};
use lambda_http::RequestExt;
use serde_json::{Value, json};

/// The request lines logged since the last call.
fn request_lines(logs: &LogCapture) -> Vec<Value> {
    logs.take()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("JSON lines"))
        .filter(|l| l["fields"]["message"] == "request")
        .collect()
}

/// The metric names of a line, by name: (unit, its dimension sets).
fn declared(metrics: &[Metric]) -> BTreeSet<(String, String, String)> {
    metrics
        .iter()
        .map(|m| (m.name.clone(), m.unit.clone(), m.dimensions.join(",")))
        .collect()
}

fn row(name: &str, unit: &str, dims: &str) -> (String, String, String) {
    (name.to_owned(), unit.to_owned(), dims.to_owned())
}

#[tokio::test]
async fn every_request_line_is_an_emf_document() {
    let (logs, _logs) = capture_logs(tracing_subscriber::filter::LevelFilter::INFO);
    let env = TestEnv::new().await;
    let mut vars = env.vars();
    vars.insert("METRICS_NAMESPACE", "bv-test-stack".into());
    let app = handler(
        &config_of(&vars),
        local_client(moto_endpoint()),
        Arc::new(SystemClock),
        Arc::new(RandomIds::new()),
    )
    .await;
    let keyed = [("idempotency-key", "metrics-1")];
    let cases = [
        (post(SEED_BODY, &keyed), 200),
        (post(SEED_BODY, &keyed), 200),
        (post(SEED_BODY, &[]), 200),
        (event("POST", "/v2/biometric-validations", &[], Some(SEED_BODY)), 401),
        (post(&SEED_BODY.replace(PROJECT, "66df5bf5c4d855fb0bdf5dff"), &[]), 404),
    ];
    request_lines(&logs);
    let mut lines = Vec::new();
    for (ev, status) in cases {
        assert_eq!(call(&app, ev).await.status, status);
        lines.extend(request_lines(&logs));
    }
    assert_eq!(lines.len(), 5, "one line per request");
    let base: BTreeSet<_> = [
        row("Requests", "Count", ""),
        row("Requests", "Count", "Status"),
        row("Requests", "Count", "Code"),
        row("InternalErrors", "Count", ""),
        row("Unavailable", "Count", ""),
        row("Latency", "Milliseconds", ""),
        row("IdempotentReplays", "Count", ""),
        row("ColdStarts", "Count", ""),
    ]
    .into_iter()
    .collect();
    let with = |extra: &[(&str, &str)]| {
        let mut all = base.clone();
        all.extend(extra.iter().map(|(n, u)| row(n, u, "")));
        all
    };
    let looked_up = with(&[("DynamoDbTime", "Milliseconds"), ("ProjectCacheHits", "Count")]);
    for (i, line) in lines.iter().enumerate() {
        let metrics = emf::metrics_of(line);
        assert!(metrics.iter().all(|m| m.namespace == "bv-test-stack"), "{line}");
        let want = if i == 3 { base.clone() } else { looked_up.clone() };
        assert_eq!(declared(&metrics), want, "line {i}: {line}");
        assert_eq!(line["Requests"], 1);
        assert_eq!(line["Status"], json!(line["fields"]["status"].to_string()));
        assert!(line["Latency"].as_f64().unwrap() >= 0.0);
    }
    let col = |name: &str| lines.iter().map(|l| l[name].clone()).collect::<Vec<_>>();
    assert_eq!(
        col("Code"),
        [
            json!("OK"),
            json!("OK"),
            json!("OK"),
            json!("InvalidCredentials"),
            json!("Project_not_found_or_featured_disabled")
        ]
    );
    assert_eq!(col("IdempotentReplays"), [0, 1, 0, 0, 0].map(|n| json!(n)));
    assert_eq!(col("ColdStarts"), [1, 0, 0, 0, 0].map(|n| json!(n)));
    // The first request reads (a miss); the replay and the next are served by the cache.
    assert_eq!(col("ProjectCacheHits")[..3], [0, 1, 1].map(|n| json!(n)));
    assert!(lines[0]["DynamoDbTime"].as_f64().unwrap() > 0.0);
    assert!(
        col("InternalErrors")
            .iter()
            .chain(&col("Unavailable"))
            .all(|v| *v == json!(0))
    );
    assert!(
        lines.iter().all(|l| l.get("Client").is_none()),
        "no per-client metrics unless asked"
    );
}

#[tokio::test]
async fn failures_count_and_clients_only_when_asked() {
    let (logs, _logs) = capture_logs(tracing_subscriber::filter::LevelFilter::INFO);
    let env = TestEnv::new().await;
    let mut vars = env.vars();
    vars.insert("METRICS_CLIENT_DIMENSION", "true".into());
    // A 503: DynamoDB unreachable (a closed port), with a short deadline.
    let down = handler(
        &config_of(&vars),
        local_client("http://127.0.0.1:9"),
        Arc::new(SystemClock),
        Arc::new(RandomIds::new()),
    )
    .await;
    // A 500: a clock that breaks.
    struct Broken;
    impl Clock for Broken {
        fn now(&self) -> biometric_validations::model::Timestamp {
            panic!("broken clock")
        }
    }
    let broken = handler(
        &config_of(&vars),
        local_client(moto_endpoint()),
        Arc::new(Broken),
        Arc::new(RandomIds::new()),
    )
    .await;
    request_lines(&logs);
    assert_eq!(call(&down, post(SEED_BODY, &[])).await.status, 503);
    assert_eq!(call(&broken, post(SEED_BODY, &[])).await.status, 500);
    assert_eq!(call(&down, event("GET", "/nope", &[], None)).await.status, 404);
    let lines = request_lines(&logs);
    assert_eq!(lines.len(), 3);
    for line in &lines {
        let metrics = emf::metrics_of(line);
        assert!(
            metrics
                .iter()
                .any(|m| m.name == "Requests" && m.dimensions == ["Client"]),
            "{line}"
        );
    }
    assert_eq!(
        (lines[0]["Unavailable"].clone(), lines[0]["InternalErrors"].clone()),
        (json!(1), json!(0))
    );
    assert_eq!(
        (lines[1]["Unavailable"].clone(), lines[1]["InternalErrors"].clone()),
        (json!(0), json!(1))
    );
    assert_eq!(lines[0]["Client"], CLIENT);
    assert_eq!(lines[2]["Client"], "-", "no client known before authentication");
    assert_eq!(lines[0]["Code"], "ServiceUnavailable");
}

#[tokio::test]
async fn every_line_of_a_request_carries_its_trace_id() {
    let (logs, _logs) = capture_logs(tracing_subscriber::filter::LevelFilter::INFO);
    let env = TestEnv::new().await;
    request_lines(&logs);
    let mut all = Vec::new();
    for trace in [
        "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
        "Root=1-00000000-000000000000000000000002",
    ] {
        let ev = post(SEED_BODY, &[]);
        let mut req: lambda_http::Request =
            lambda_http::request::from_str(&ev.to_string()).expect("a valid API Gateway event");
        let mut context = lambda_runtime::Context::default();
        context.request_id = "trace-test".into();
        context.xray_trace_id = Some(trace.into());
        req = req.with_lambda_context(context);
        assert_eq!(into_reply(env.app.handle(req).await).status, 200);
        let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert!(!lines.is_empty());
        for line in &lines {
            assert_eq!(line["xray_trace_id"], trace, "{line}");
        }
        all.extend(request_lines(&logs));
    }
    assert_eq!(all.len(), 2);
}
