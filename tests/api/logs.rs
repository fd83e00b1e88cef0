//! One structured JSON line per request, and never a token, a secret or an identifier.

use std::sync::Arc;

use crate::helpers::*;
use biometric_validations::model::{Clock, RandomIds};
use serde_json::{Value, json};

#[tokio::test]
async fn logs_are_one_json_line_per_request_and_hold_no_secret() {
    // As in Lambda with AWS_LAMBDA_LOG_FORMAT=JSON and AWS_LAMBDA_LOG_LEVEL=TRACE: the
    // most the function can be asked to log, through the function's own filter.
    let (capture, _logs) = capture_logs();

    let env = TestEnv::new().await;
    let pii = "pii-5f2b9c-ana.maria@example.com";
    let body = |id: &str| {
        json!({"project": PROJECT, "projectFlow": LOGIN_FLOW, "identifier": id, "type": "login"}).to_string()
    };
    let good = bearer();
    let expired = format!("Bearer {}", sign(&json!({"clientId": CLIENT, "exp": 1}), CLIENT_SECRET));
    let forged = format!(
        "Bearer {}",
        sign(
            &json!({"clientId": CLIENT, "exp": now_secs() + 60}),
            "forged-secret-forged-secret-forged-secret"
        )
    );
    let mut requests = 0;
    let mut secrets: Vec<String> = vec![
        CLIENT_SECRET.into(),
        SESSION_SECRET.into(),
        pii.into(),
        "forged-secret".into(),
    ];
    for auth in [&good, &expired, &forged] {
        secrets.push(auth.trim_start_matches("Bearer ").to_owned());
    }
    let mut send = |ev: Value| {
        requests += 1;
        ev
    };
    let mut replies = Vec::new();
    let cases = vec![
        send(post(&body(pii), &[])),
        send(post(&body(pii), &[("idempotency-key", "log-key-1")])),
        send(post(&body(pii), &[("idempotency-key", "log-key-1")])),
        send(post(&body(&format!("{pii}-2")), &[("idempotency-key", "log-key-1")])),
        send(post(&body(&format!("  {pii}  ")), &[("authorization", &expired)])),
        send(post(&body(pii), &[("authorization", &forged)])),
        send(post(&format!(r#"{{"identifier":"{pii}","#), &[])),
        send(post(&format!(r#"{{"identifier":"{pii}","{pii}":1}}"#), &[])),
        send(post(&format!(r#"{{"identifier":"{pii}","identifier":"x"}}"#), &[])),
        send(post(&body(pii).replace(PROJECT, "66df5bf5c4d855fb0bdf5dff"), &[])),
        send(event(
            "GET",
            "/v2/biometric-validations",
            &[("authorization", &good)],
            None,
        )),
        send(event("POST", "/nope", &[("authorization", &good)], Some(&body(pii)))),
    ];
    for ev in cases {
        replies.push(env.call(ev).await);
    }
    // A panic, logged too.
    struct Panicking;
    impl Clock for Panicking {
        fn now(&self) -> biometric_validations::model::Timestamp {
            panic!("clock broke while handling {}", "a request")
        }
    }
    let broken = handler(
        &env.config(),
        env.store.client().clone(),
        Arc::new(Panicking),
        Arc::new(RandomIds::new()),
    )
    .await;
    replies.push(call(&broken, post(&body(pii), &[])).await);
    requests += 1;

    for r in &replies {
        if let Some(t) = r.json()["data"]["token"].as_str() {
            secrets.push(t.to_owned());
        }
    }
    assert!(replies.iter().any(|r| r.status == 200));

    let text = capture.take();
    for secret in &secrets {
        assert!(!text.contains(secret.as_str()), "{secret:?} reached the logs:\n{text}");
    }
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("every line is JSON"))
        .collect();
    let request_lines: Vec<&Value> = lines.iter().filter(|l| l["fields"]["message"] == "request").collect();
    assert_eq!(request_lines.len(), requests, "{text}");
    for (line, reply) in request_lines.iter().zip(&replies) {
        let f = &line["fields"];
        assert_eq!(f["status"], reply.status, "{line}");
        assert_eq!(f["request_id"], "test-request");
        assert!(f["latency_ms"].as_f64().is_some(), "{line}");
        if reply.status == 200 {
            assert_eq!(f["client"], CLIENT);
            assert_eq!(f["project"], PROJECT);
            assert_eq!(f["liveness_session"], reply.json()["data"]["livenessSession"]["_id"]);
            assert_eq!(
                f["biometric_validation"],
                reply.json()["data"]["biometricValidation"]["_id"]
            );
            assert!(f.get("code").is_none());
        } else {
            assert_eq!(f["code"], reply.json()["code"], "{line}");
        }
    }
}
