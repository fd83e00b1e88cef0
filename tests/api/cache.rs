//! The project/flow cache: a warm request makes one DynamoDB call (its write), a cold one
//! two; acceptance may be stale by less than `PROJECT_CACHE_SECONDS`, rejection never is.
//! Round trips are counted at a proxy between the SDK and moto.

use std::sync::Arc;

use crate::helpers::*;
use biometric_validations::config::DEFAULT_PROJECT_CACHE_SECONDS;
use biometric_validations::model::{Clock, FlowStatus, FlowType, RandomIds, Timestamp};

struct Counted {
    env: TestEnv,
    app: biometric_validations::Handler,
    proxy: proxy::Proxy,
    clock: Arc<Hand>,
}

async fn counted() -> Counted {
    let env = TestEnv::new().await;
    let proxy = proxy::start(moto_upstream()).await;
    let clock = Arc::new(Hand::at(Timestamp::from_unix_millis(now_secs() * 1000).unwrap()));
    let app = handler(
        &env.config(),
        local_client(&proxy.endpoint),
        Arc::clone(&clock) as Arc<dyn Clock>,
        Arc::new(RandomIds::new()),
    )
    .await;
    Counted { env, app, proxy, clock }
}

impl Counted {
    /// Sends `body`; returns the status and the DynamoDB operations it caused.
    async fn send(&self, body: &str, extra: &[(&str, &str)]) -> (u16, Vec<String>) {
        self.proxy.requests.lock().unwrap().clear();
        let reply = call(&self.app, post(body, extra)).await;
        let ops = self
            .proxy
            .requests
            .lock()
            .unwrap()
            .iter()
            // Recorded as "<X-Amz-Target> <fault>".
            .map(|t| {
                t.split_whitespace()
                    .next()
                    .unwrap_or("")
                    .rsplit('.')
                    .next()
                    .unwrap_or("")
                    .to_owned()
            })
            .collect();
        (reply.status, ops)
    }

    async fn set_login_flow(&self, status: FlowStatus) {
        self.env
            .store
            .put_flow(&flow_of(PROJECT, LOGIN_FLOW, FlowType::Login, status))
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn a_warm_request_makes_one_call_and_a_cold_one_two() {
    let c = counted().await;
    let (status, ops) = c.send(SEED_BODY, &[]).await;
    assert_eq!(
        (status, ops),
        (200, vec!["BatchGetItem".into(), "TransactWriteItems".into()])
    );
    for _ in 0..3 {
        let (status, ops) = c.send(SEED_BODY, &[]).await;
        assert_eq!((status, ops), (200, vec!["TransactWriteItems".to_owned()]));
    }
    // With an Idempotency-Key, the record is read (one GetItem), the pair is not.
    let (status, ops) = c.send(SEED_BODY, &[("Idempotency-Key", "cache-key-1")]).await;
    assert_eq!(
        (status, ops),
        (200, vec!["GetItem".into(), "TransactWriteItems".into()])
    );
    // Its replay reads the record, which holds the first answer, and writes nothing.
    let (status, ops) = c.send(SEED_BODY, &[("Idempotency-Key", "cache-key-1")]).await;
    assert_eq!((status, ops), (200, vec!["GetItem".to_owned()]));
    // Another flow of the same project is its own entry.
    let onboarding = SEED_BODY
        .replace(LOGIN_FLOW, ONBOARDING_FLOW)
        .replace("\"login\"", "\"onboarding\"");
    let (status, ops) = c.send(&onboarding, &[]).await;
    assert_eq!(
        (status, ops),
        (200, vec!["BatchGetItem".into(), "TransactWriteItems".into()])
    );
}

#[tokio::test]
async fn a_paused_flow_stops_being_accepted_within_the_bound() {
    let c = counted().await;
    assert_eq!(c.send(SEED_BODY, &[]).await.0, 200);
    c.set_login_flow(FlowStatus::Paused).await;
    // Within the bound the cached acceptance stands (the documented staleness)...
    c.clock.advance_ms(i64::from(DEFAULT_PROJECT_CACHE_SECONDS) * 1000 - 1);
    assert_eq!(
        c.send(SEED_BODY, &[]).await,
        (200, vec!["TransactWriteItems".to_owned()])
    );
    // ...and at the bound it is read again and refused.
    c.clock.advance_ms(1);
    let (status, ops) = c.send(SEED_BODY, &[]).await;
    assert_eq!((status, ops), (404, vec!["BatchGetItem".to_owned()]));
    // Refusals are never cached: re-activated, it is accepted at once.
    c.set_login_flow(FlowStatus::Active).await;
    assert_eq!(c.send(SEED_BODY, &[]).await.0, 200);
}

#[tokio::test]
async fn the_owner_and_type_rules_run_on_cached_pairs() {
    let c = counted().await;
    assert_eq!(c.send(SEED_BODY, &[]).await.0, 200);
    // Another client, the same (cached) project and flow: refused, after a fresh read.
    let other = post(
        SEED_BODY,
        &[("Authorization", &format!("Bearer {}", token_for(OTHER_CLIENT)))],
    );
    let reply = call(&c.app, other).await;
    reply.assert_error(
        404,
        "Project_not_found_or_featured_disabled",
        "404:Project_not_found_or_featured_disabled",
    );
    // The wrong type for the cached flow.
    let onboarding = SEED_BODY.replace("\"login\"", "\"onboarding\"");
    let reply = call(&c.app, post(&onboarding, &[])).await;
    assert_eq!(reply.status, 409, "{}", reply.body);
    // The owner's requests still come from the cache.
    assert_eq!(
        c.send(SEED_BODY, &[]).await,
        (200, vec!["TransactWriteItems".to_owned()])
    );
}

#[tokio::test]
async fn a_deleted_project_is_forgotten() {
    let c = counted().await;
    assert_eq!(c.send(SEED_BODY, &[]).await.0, 200);
    c.env
        .store
        .client()
        .delete_item()
        .table_name(&c.env.table)
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("PROJECT#{PROJECT}")),
        )
        .key("sk", aws_sdk_dynamodb::types::AttributeValue::S("PROJECT".into()))
        .send()
        .await
        .unwrap();
    c.clock.advance_ms(i64::from(DEFAULT_PROJECT_CACHE_SECONDS) * 1000);
    assert_eq!(c.send(SEED_BODY, &[]).await, (404, vec!["BatchGetItem".to_owned()]));
    assert_eq!(c.send(SEED_BODY, &[]).await, (404, vec!["BatchGetItem".to_owned()]));
}
