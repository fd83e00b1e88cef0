//! The per-request metrics: one CloudWatch Embedded Metric Format document per request, on
//! a line of its own, checked against golden documents written from the specification
//! (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html>):
//! a root `_aws` with `Timestamp` (epoch milliseconds) and `CloudWatchMetrics`, whose
//! directives name a `Namespace`, `Dimensions` (arrays of member names, `[]` for none) and
//! `Metrics` (`Name`, `Unit`), every dimension and metric a member of the root. Also: every
//! log line of a request carries its X-Ray trace id.

use std::sync::Arc;

use biometric_validations::Handler;
use biometric_validations::model::{Clock, RandomIds, SystemClock};
use lambda_http::RequestExt;
use serde_json::{Value, json};

use crate::helpers::*;

const NAMESPACE: &str = "bv-test-stack";

/// The handler of `env` with `extra` settings and `dynamodb`, its metrics captured.
async fn measured(
    env: &TestEnv,
    extra: &[(&'static str, &str)],
    dynamodb: aws_sdk_dynamodb::Client,
    clock: Arc<dyn Clock>,
) -> (Handler, MetricsCapture) {
    let mut vars = env.vars();
    vars.insert("METRICS_NAMESPACE", NAMESPACE.into());
    for (k, v) in extra {
        vars.insert(k, (*v).to_owned());
    }
    let capture = MetricsCapture::default();
    let app = handler(&config_of(&vars), dynamodb, clock, Arc::new(RandomIds::new()))
        .await
        .with_metrics_sink(Arc::new(capture.clone()));
    (app, capture)
}

/// The one document a request wrote, its measured values checked and then replaced by the
/// golden documents' placeholders: the wall clock's time, the latency, the time in DynamoDB.
fn one_document(capture: &MetricsCapture, since_ms: i64) -> Value {
    let mut docs = capture.take();
    assert_eq!(docs.len(), 1, "one document per request: {docs:?}");
    let mut doc = docs.remove(0);
    let now_ms = SystemClock.now().unix_millis();
    let at = doc["_aws"]["Timestamp"]
        .as_i64()
        .expect("Timestamp: epoch milliseconds");
    assert!((since_ms..=now_ms).contains(&at), "the wall clock's time: {at}");
    doc["_aws"]["Timestamp"] = json!("<now>");
    assert!(doc["Latency"].as_f64().is_some_and(|ms| ms >= 0.0), "{doc}");
    doc["Latency"] = json!("<ms>");
    if let Some(ms) = doc.get("DynamoDbTime") {
        assert!(ms.as_f64().is_some_and(|ms| ms > 0.0), "{doc}");
        doc["DynamoDbTime"] = json!("<ms>");
    }
    doc
}

/// The directives every document carries: `Requests` by no dimension, by `Status` and by
/// `Code` (and by `Client` when asked); the other metrics without dimensions.
fn directives(client_dimension: bool, measured: &[(&str, &str)]) -> Value {
    let mut by = vec![json!([]), json!(["Status"]), json!(["Code"])];
    if client_dimension {
        by.push(json!(["Client"]));
    }
    let mut metrics = vec![
        json!({"Name": "InternalErrors", "Unit": "Count"}),
        json!({"Name": "Unavailable", "Unit": "Count"}),
        json!({"Name": "Latency", "Unit": "Milliseconds"}),
        json!({"Name": "IdempotentReplays", "Unit": "Count"}),
        json!({"Name": "ColdStarts", "Unit": "Count"}),
    ];
    metrics.extend(measured.iter().map(|(name, unit)| json!({"Name": name, "Unit": unit})));
    json!({
        "Timestamp": "<now>",
        "CloudWatchMetrics": [
            {"Namespace": NAMESPACE, "Dimensions": by, "Metrics": [{"Name": "Requests", "Unit": "Count"}]},
            {"Namespace": NAMESPACE, "Dimensions": [[]], "Metrics": metrics},
        ]
    })
}

#[tokio::test]
async fn a_200_a_4xx_and_a_503_write_their_golden_documents() {
    let env = TestEnv::new().await;
    let (app, capture) = measured(&env, &[], local_client(moto_endpoint()), Arc::new(SystemClock)).await;

    let since = SystemClock.now().unix_millis();
    assert_eq!(call(&app, post(SEED_BODY, &[])).await.status, 200);
    let read = [("DynamoDbTime", "Milliseconds"), ("ProjectCacheHits", "Count")];
    assert_eq!(
        one_document(&capture, since),
        json!({
            "_aws": directives(false, &read),
            "Status": "200", "Code": "OK", "Requests": 1, "InternalErrors": 0, "Unavailable": 0,
            "Latency": "<ms>", "IdempotentReplays": 0, "ColdStarts": 1,
            "DynamoDbTime": "<ms>", "ProjectCacheHits": 0, "requestId": "test-request"
        })
    );

    let since = SystemClock.now().unix_millis();
    let no_token = event("POST", "/v2/biometric-validations", &[], Some(SEED_BODY));
    assert_eq!(call(&app, no_token).await.status, 401);
    assert_eq!(
        one_document(&capture, since),
        json!({
            "_aws": directives(false, &[]),
            "Status": "401", "Code": "InvalidCredentials", "Requests": 1, "InternalErrors": 0,
            "Unavailable": 0, "Latency": "<ms>", "IdempotentReplays": 0, "ColdStarts": 0,
            "requestId": "test-request"
        })
    );

    // A 503: DynamoDB unreachable (a closed port), with clients counted.
    let (down, capture) = measured(
        &env,
        &[("METRICS_CLIENT_DIMENSION", "true")],
        local_client("http://127.0.0.1:9"),
        Arc::new(SystemClock),
    )
    .await;
    let since = SystemClock.now().unix_millis();
    assert_eq!(call(&down, post(SEED_BODY, &[])).await.status, 503);
    assert_eq!(
        one_document(&capture, since),
        json!({
            "_aws": directives(true, &[("DynamoDbTime", "Milliseconds"), ("ProjectCacheHits", "Count")]),
            "Status": "503", "Code": "ServiceUnavailable", "Client": CLIENT, "Requests": 1,
            "InternalErrors": 0, "Unavailable": 1, "Latency": "<ms>", "IdempotentReplays": 0,
            "ColdStarts": 1, "DynamoDbTime": "<ms>", "ProjectCacheHits": 0, "requestId": "test-request"
        })
    );
}

#[tokio::test]
async fn replays_cache_hits_cold_starts_panics_and_unknown_callers_count() {
    let env = TestEnv::new().await;
    let (app, capture) = measured(
        &env,
        &[("METRICS_CLIENT_DIMENSION", "true")],
        local_client(moto_endpoint()),
        Arc::new(SystemClock),
    )
    .await;
    let keyed = [("idempotency-key", "metrics-1")];
    for (ev, status) in [
        (post(SEED_BODY, &keyed), 200),
        (post(SEED_BODY, &keyed), 200),
        (post(SEED_BODY, &[]), 200),
        (event("GET", "/nope", &[], None), 404),
    ] {
        assert_eq!(call(&app, ev).await.status, status);
    }
    let docs = capture.take();
    let col = |name: &str| docs.iter().map(|d| d[name].clone()).collect::<Vec<_>>();
    assert_eq!(col("IdempotentReplays"), [0, 1, 0, 0].map(|n| json!(n)));
    assert_eq!(col("ColdStarts"), [1, 0, 0, 0].map(|n| json!(n)));
    // The first request reads (a miss); the replay and the next are served by the cache.
    assert_eq!(col("ProjectCacheHits"), [json!(0), json!(1), json!(1), Value::Null]);
    assert_eq!(
        col("Client"),
        [CLIENT, CLIENT, CLIENT, "-"].map(|c| json!(c)),
        "no client before authentication"
    );
    assert_eq!(col("Code")[3], "ResourceNotFound");

    // A 500: a clock that breaks.
    struct Broken;
    impl Clock for Broken {
        fn now(&self) -> biometric_validations::model::Timestamp {
            panic!("broken clock")
        }
    }
    let (broken, capture) = measured(&env, &[], local_client(moto_endpoint()), Arc::new(Broken)).await;
    assert_eq!(call(&broken, post(SEED_BODY, &[])).await.status, 500);
    let docs = capture.take();
    assert_eq!(
        (
            docs[0]["InternalErrors"].clone(),
            docs[0]["Unavailable"].clone(),
            docs[0]["Code"].clone()
        ),
        (json!(1), json!(0), json!("InternalServer"))
    );
}

#[tokio::test]
async fn every_line_of_a_request_carries_its_trace_id() {
    let (logs, _logs) = capture_logs();
    let env = TestEnv::new().await;
    logs.take();
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
        let text = logs.take();
        let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert!(lines.iter().any(|l| l["fields"]["message"] == "request"), "{text}");
        for line in &lines {
            assert_eq!(line["span"]["xray_trace_id"], trace, "{line}");
        }
    }
}
