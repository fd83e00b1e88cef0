//! DynamoDB misbehaving: every fault gets the contract's 503/500 or a 200 after a retry,
//! within the function's timeout, and the table never holds half a write.

use crate::helpers::proxy;

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::helpers::proxy::Fault;
use crate::helpers::*;
use biometric_validations::aws::{self, MAX_ATTEMPTS};
use biometric_validations::model::{RandomIds, SystemClock};

/// The function's timeout in template.yaml.
const FUNCTION_TIMEOUT: Duration = Duration::from_secs(10);
const WRITE: &str = "TransactWriteItems";
const READ: &str = "BatchGetItem";

struct Faulty {
    env: TestEnv,
    app: biometric_validations::Handler,
    proxy: proxy::Proxy,
}

async fn faulty() -> Faulty {
    let env = TestEnv::new().await;
    let proxy = proxy::start(moto_upstream()).await;
    let app = handler(
        &env.config(),
        local_client(&proxy.endpoint),
        Arc::new(SystemClock),
        Arc::new(RandomIds::new()),
    )
    .await;
    Faulty { env, app, proxy }
}

impl Faulty {
    /// Sends the seed's request; checks the time bound and that the table is whole.
    async fn send(&self, extra: &[(&str, &str)]) -> Reply {
        let started = Instant::now();
        let reply = call(&self.app, post(SEED_BODY, extra)).await;
        assert!(
            started.elapsed() < FUNCTION_TIMEOUT,
            "answered after {:?}",
            started.elapsed()
        );
        self.assert_whole(&reply).await;
        reply
    }

    /// Sessions and validations come in pairs; a 200's pair is stored.
    async fn assert_whole(&self, reply: &Reply) {
        let sessions = self.env.items("LIVENESS_SESSION#").await;
        let validations = self.env.items("BIOMETRIC_VALIDATION#").await;
        assert_eq!(sessions.len(), validations.len(), "half a write");
        for v in &validations {
            let sid = s(v, "livenessSession");
            assert!(
                sessions.iter().any(|x| s(x, "_id") == sid),
                "validation without its session"
            );
        }
        if reply.status == 200 {
            let sid = reply.json()["data"]["livenessSession"]["_id"]
                .as_str()
                .unwrap()
                .to_owned();
            let vid = reply.json()["data"]["biometricValidation"]["_id"]
                .as_str()
                .unwrap()
                .to_owned();
            assert!(
                sessions.iter().any(|x| s(x, "_id") == sid),
                "a 200 whose session is not stored"
            );
            assert!(
                validations.iter().any(|x| s(x, "_id") == vid),
                "a 200 whose validation is not stored"
            );
        }
    }

    async fn pairs(&self) -> usize {
        self.env.items("LIVENESS_SESSION#").await.len()
    }
}

fn assert_unavailable(reply: &Reply) {
    reply.assert_error(503, "ServiceUnavailable", "503:service_unavailable");
    assert_eq!(reply.header("retry-after"), Some("1"));
}

#[tokio::test]
async fn transient_write_faults_are_retried_to_a_200() {
    for fault in [
        Fault::ProvisionedThroughputExceeded,
        Fault::Throttling,
        Fault::InternalServerError,
    ] {
        let f = faulty().await;
        f.proxy.script.push(WRITE, fault, MAX_ATTEMPTS as usize - 1);
        let reply = f.send(&[]).await;
        assert_eq!(reply.status, 200, "{fault:?}: {}", reply.body);
        assert_eq!(f.proxy.script.remaining(), 0, "{fault:?}: every injected fault was met");
        assert_eq!(f.pairs().await, 1);
    }
}

#[tokio::test]
async fn persistent_faults_answer_503_and_write_nothing() {
    for (op, fault) in [
        (WRITE, Fault::ProvisionedThroughputExceeded),
        (WRITE, Fault::Throttling),
        (WRITE, Fault::InternalServerError),
        (READ, Fault::ProvisionedThroughputExceeded),
        (READ, Fault::InternalServerError),
    ] {
        let f = faulty().await;
        f.proxy.script.push(op, fault, 10);
        let reply = f.send(&[]).await;
        assert_unavailable(&reply);
        // Bounded: exactly MAX_ATTEMPTS tries of the failing call.
        assert_eq!(10 - f.proxy.script.remaining(), MAX_ATTEMPTS as usize, "{op} {fault:?}");
        assert_eq!(f.pairs().await, 0);
    }
}

#[tokio::test]
async fn a_transaction_conflict_answers_503_and_writes_nothing() {
    for key in [None, Some("conflict-key")] {
        let f = faulty().await;
        f.proxy.script.push(WRITE, Fault::TransactionConflict, 1);
        let extra: Vec<(&str, &str)> = key.iter().map(|k| ("idempotency-key", *k)).collect();
        let reply = f.send(&extra).await;
        assert_unavailable(&reply);
        assert_eq!(f.pairs().await, 0);
        assert!(f.env.items("IDEMPOTENCY#").await.is_empty());
        // The client's retry succeeds.
        assert_eq!(f.send(&extra).await.status, 200);
    }
}

#[tokio::test]
async fn stalls_past_the_attempt_timeout() {
    let stall = aws::ATTEMPT_TIMEOUT + Duration::from_millis(500);
    // One stalled attempt: the retry answers.
    let f = faulty().await;
    f.proxy.script.push(READ, Fault::Stall(stall), 1);
    assert_eq!(f.send(&[]).await.status, 200);
    // Every attempt stalls: the operation timeout answers 503, long before the function's.
    for op in [READ, WRITE] {
        let f = faulty().await;
        f.proxy.script.push(op, Fault::Stall(Duration::from_secs(30)), 10);
        let started = Instant::now();
        let reply = f.send(&[]).await;
        assert_unavailable(&reply);
        assert!(
            started.elapsed() < aws::OPERATION_TIMEOUT + Duration::from_secs(1),
            "{op}: {:?}",
            started.elapsed()
        );
        assert_eq!(f.pairs().await, 0);
    }
}

#[tokio::test]
async fn a_connection_dropped_after_the_write_never_leaves_half_a_write() {
    for key in [None, Some("dropped-key")] {
        let f = faulty().await;
        f.proxy.script.push(WRITE, Fault::DropMidResponse, 1);
        let extra: Vec<(&str, &str)> = key.iter().map(|k| ("idempotency-key", *k)).collect();
        let reply = f.send(&extra).await;
        // The write happened; the answer was lost. The retry finds its own items (and,
        // with a key, its own record): the first answer, never a replay (§6).
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(reply.header("idempotent-replayed"), None, "{key:?}");
        let seen = f.proxy.requests.lock().unwrap().clone();
        assert_eq!(
            seen.iter().filter(|r| r.contains(WRITE)).count(),
            2,
            "the write was retried: {seen:?}"
        );
        assert_eq!(f.pairs().await, 1, "the dropped attempt's pair is stored whole, once");
        if let Some(k) = key {
            // With a key, asking again replays the stored pair: no second pair.
            let again = f.send(&[("idempotency-key", k)]).await;
            assert_eq!(again.status, 200, "{}", again.body);
            assert_eq!(again.header("idempotent-replayed"), Some("true"));
            assert_eq!(again.body, reply.body, "the first answer");
            assert_eq!(f.pairs().await, 1);
        }
    }
}

#[tokio::test]
async fn the_request_deadline_answers_before_the_function_timeout() {
    // A client whose own timeouts are far too long: the handler's deadline still answers.
    let env = TestEnv::new().await;
    let proxy = proxy::start(moto_upstream()).await;
    let slow = aws_config::timeout::TimeoutConfig::builder()
        .operation_attempt_timeout(Duration::from_secs(60))
        .build();
    let app = handler(
        &env.config(),
        local_client_with_timeouts(&proxy.endpoint, slow),
        Arc::new(SystemClock),
        Arc::new(RandomIds::new()),
    )
    .await;
    proxy.script.push(WRITE, Fault::Stall(Duration::from_secs(60)), 1);
    let started = Instant::now();
    let reply = call(&app, post(SEED_BODY, &[])).await;
    assert_unavailable(&reply);
    let took = started.elapsed();
    assert!(
        took >= biometric_validations::http::REQUEST_DEADLINE && took < FUNCTION_TIMEOUT,
        "{took:?}"
    );
    assert_eq!(env.items("LIVENESS_SESSION#").await.len(), 0);
}
