//! Load: N requests (`LOAD_REQUESTS`, default 200; `make load` runs 1000) from 32 concurrent tasks
//! through the handler against moto. Zero 5xx, N distinct stored pairs, each with
//! `ttl` == token `exp`. Latency percentiles are printed (`-- --nocapture`).
//!
//! moto answers one request at a time and deep-copies the table on every transaction
//! (so it slows as the table grows: 1000 pairs take minutes): 32 concurrent callers
//! queue for longer than the production per-attempt timeout (1 s, sized for DynamoDB's
//! milliseconds), so this test gives its client generous timeouts and the handler a
//! long deadline. What it checks is the
//! function under concurrency, not the emulator's speed.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::helpers::*;
use biometric_validations::token::SessionClaims;

const TASKS: usize = 32;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_concurrent_requests() {
    let total: usize = std::env::var("LOAD_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    // Its own moto: the flood must not slow the other tests' requests past their timeouts.
    let env = TestEnv::alone().await;
    let timeouts = aws_config::timeout::TimeoutConfig::builder()
        .operation_attempt_timeout(Duration::from_secs(300))
        .operation_timeout(Duration::from_secs(600))
        .build();
    let app = Arc::new(
        handler_with_secrets(
            &env.config(),
            local_client_with_timeouts(env.endpoint, timeouts),
            secrets_client(env.endpoint),
            Arc::new(biometric_validations::model::SystemClock),
            Arc::new(biometric_validations::model::RandomIds::new()),
        )
        .await
        .with_deadline(Duration::from_secs(900)),
    );
    let started = Instant::now();
    let tasks: Vec<_> = (0..TASKS)
        .map(|t| {
            let app = Arc::clone(&app);
            tokio::spawn(async move {
                let mut out = Vec::new();
                for i in (t..total).step_by(TASKS) {
                    let body = SEED_BODY.replace("03da12fba", &format!("user-{i}"));
                    let at = Instant::now();
                    let reply = call(&app, post(&body, &[])).await;
                    out.push((at.elapsed(), reply));
                }
                out
            })
        })
        .collect();
    let mut latencies: Vec<Duration> = Vec::new();
    let mut replies = Vec::new();
    for t in tasks {
        for (latency, reply) in t.await.unwrap() {
            latencies.push(latency);
            replies.push(reply);
        }
    }
    let wall = started.elapsed();
    assert_eq!(replies.len(), total);
    let errors: Vec<_> = replies
        .iter()
        .filter(|r| r.status != 200)
        .map(|r| (r.status, r.body.clone()))
        .collect();
    assert!(
        errors.is_empty(),
        "{} non-200 answers, e.g. {:?}",
        errors.len(),
        errors.first()
    );

    // Signature, issuer and audience checked; not freshness: a long run outlives tokens.
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.set_audience(&["liveness"]);
    validation.set_issuer(&["biometric-validations"]);
    validation.validate_exp = false;
    let key = jsonwebtoken::DecodingKey::from_secret(SESSION_SECRET.as_bytes());
    let mut exp_by_session = HashMap::new();
    for r in &replies {
        let token = r.json()["data"]["token"].as_str().unwrap().to_owned();
        let claims = jsonwebtoken::decode::<SessionClaims>(&token, &key, &validation)
            .unwrap()
            .claims;
        exp_by_session.insert(
            claims.liveness_session.to_string(),
            (claims.biometric_validation.to_string(), claims.exp),
        );
    }
    assert_eq!(exp_by_session.len(), total, "distinct sessions");

    let sessions = env.items("LIVENESS_SESSION#").await;
    let validations = env.items("BIOMETRIC_VALIDATION#").await;
    assert_eq!((sessions.len(), validations.len()), (total, total));
    let validation_ids: HashSet<String> = validations.iter().map(|v| s(v, "_id")).collect();
    for item in &sessions {
        let (vid, exp) = &exp_by_session[&s(item, "_id")];
        assert_eq!(s(item, "ttl"), exp.to_string());
        assert!(validation_ids.contains(vid));
    }
    for item in &validations {
        assert_eq!(
            s(item, "ttl"),
            exp_by_session[&s(item, "livenessSession")].1.to_string()
        );
    }

    latencies.sort();
    let p = |q: f64| latencies[((latencies.len() as f64 * q).ceil() as usize).saturating_sub(1)];
    eprintln!(
        "load: {total} requests, {TASKS} tasks, {:.1} s wall, {:.0} req/s; latency p50 {:?} p90 {:?} p99 {:?} max {:?}",
        wall.as_secs_f64(),
        total as f64 / wall.as_secs_f64(),
        p(0.50),
        p(0.90),
        p(0.99),
        latencies[latencies.len() - 1]
    );
}
