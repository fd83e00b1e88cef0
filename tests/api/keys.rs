//! Keys from Secrets Manager (moto, through the real SDK client; CONTRACT §8): rotation
//! with no outage, one consistent view of the labels, retired versions that never come
//! back, re-reads off the request path (and before serving keys found stale after a
//! freeze), made-up `kid`s that can't drive Secrets Manager calls, one algorithm per key, the documented local keys refused on AWS, and EdDSA
//! session tokens verified by an independent library against the served JWKS.

use std::collections::HashMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use biometric_validations::Handler;
use biometric_validations::keyring::RETRY_AFTER;
use biometric_validations::model::{RandomIds, SystemClock, Timestamp};
use biometric_validations::token::keys::ED25519_INFO;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};

use crate::helpers::proxy::{self, Fault};
use crate::helpers::*;

const REFRESH: Duration = Duration::from_secs(1);

fn arns(env: &TestEnv) -> (String, String) {
    match &env.keys {
        Keys::SecretsManager { client, session } => (client.clone(), session.clone()),
        Keys::Local => panic!("this test needs keys in Secrets Manager"),
    }
}

/// A handler on `env`'s table and keys, with `extra` settings and a short refresh bound
/// (unless `extra` sets one).
async fn handler_of(env: &TestEnv, extra: &[(&'static str, &str)], secrets: aws_sdk_secretsmanager::Client) -> Handler {
    try_handler(env, extra, secrets).await.expect("the handler starts")
}

async fn try_handler(
    env: &TestEnv,
    extra: &[(&'static str, &str)],
    secrets: aws_sdk_secretsmanager::Client,
) -> Result<Handler, biometric_validations::config::ConfigError> {
    let mut vars = env.vars();
    for (k, v) in extra {
        vars.insert(k, (*v).to_owned());
    }
    let mut config = config_of(&vars);
    if !vars.contains_key("SECRETS_REFRESH_SECONDS") {
        config.secrets_refresh = REFRESH;
    }
    try_handler_with_secrets(
        &config,
        local_client(moto_endpoint()),
        secrets,
        Arc::new(SystemClock),
        Arc::new(RandomIds::new()),
    )
    .await
}

fn claims() -> Value {
    json!({"clientId": CLIENT, "iat": now_secs() - 1, "exp": now_secs() + 3600})
}

async fn create_with(app: &Handler, token: &str) -> Reply {
    let auth = format!("Bearer {token}");
    let ev = event(
        "POST",
        "/v2/biometric-validations",
        &[("authorization", auth.as_str()), ("content-type", "application/json")],
        Some(SEED_BODY),
    );
    call(app, ev).await
}

fn header_of(token: &str) -> Value {
    let part = token.split('.').next().unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

fn session_claims(token: &str, secret: &str) -> Result<Value, jsonwebtoken::errors::Error> {
    let mut v = Validation::new(Algorithm::HS256);
    v.set_audience(&["liveness"]);
    jsonwebtoken::decode::<Value>(token, &DecodingKey::from_secret(secret.as_bytes()), &v).map(|d| d.claims)
}

/// Waits until `check` holds (a re-read lands within `REFRESH`, later on a busy machine),
/// checking every 50 ms for at most `REFRESH * 5`.
async fn eventually<F: std::future::Future<Output = bool>>(what: &str, mut check: impl FnMut() -> F) {
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < REFRESH * 5, "{what}: not within {:?}", REFRESH * 5);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The `kid`s a JWKS publishes, in order.
fn kids_of(jwks: &Value) -> Vec<String> {
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

/// Whether the proxy has seen a call of `operation` (without counting it as `seen` does).
fn has_seen(proxy: &proxy::Proxy, operation: &str) -> bool {
    proxy.requests.lock().unwrap().iter().any(|t| t.contains(operation))
}

/// A fresh UUID, shaped as Secrets Manager's `VersionId`s are.
fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

const NEW_1: &str = "rotated-client-key-1-0123456789abcdefghijklmnop";
const NEW_2: &str = "rotated-client-key-2-0123456789abcdefghijklmnop";
const NEW_SESSION: &str = "rotated-session-key-0123456789abcdefghijklmnop";

#[tokio::test]
async fn rotation_without_an_outage() {
    let env = TestEnv::new().await;
    let (client_arn, session_arn) = arns(&env);
    let app = handler_of(&env, &[], secrets_client(moto_endpoint())).await;
    let v0 = current_version(&client_arn).await;
    let s0 = current_version(&session_arn).await;
    let plain = client_token(CLIENT_SECRET, None, &claims());
    let with_v0 = client_token(CLIENT_SECRET, Some(&v0), &claims());

    let first = create_with(&app, &plain).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let token = first.json()["data"]["token"].as_str().unwrap().to_owned();
    assert_eq!(header_of(&token), json!({"alg": "HS256", "typ": "JWT", "kid": s0}));
    assert!(
        serde_json::to_string(&header_of(&token))
            .unwrap()
            .starts_with(r#"{"alg":"HS256","typ":"JWT","kid":"#),
        "the contract's key order"
    );
    session_claims(&token, SESSION_SECRET).expect("signed with the session key");

    // A loop of requests across both rotations of this instance's view: every valid token
    // is accepted every time, and session tokens switch kid within the refresh bound.
    let v1 = rotate_secret(&client_arn, NEW_1).await;
    let with_v1 = client_token(NEW_1, Some(&v1), &claims());
    let s1 = rotate_secret(&session_arn, NEW_SESSION).await;
    let rotated_at = Instant::now();
    let mut switched_after = None;
    let mut refusals = Vec::new();
    while rotated_at.elapsed() < REFRESH * 3 {
        for (name, t) in [("old, no kid", &plain), ("old, kid", &with_v0), ("new, kid", &with_v1)] {
            let reply = create_with(&app, t).await;
            if reply.status != 200 {
                refusals.push(format!("{name}: {} {}", reply.status, reply.body));
                continue;
            }
            let token = reply.json()["data"]["token"].as_str().unwrap().to_owned();
            let kid = header_of(&token)["kid"].as_str().unwrap().to_owned();
            if kid == s1 {
                session_claims(&token, NEW_SESSION).expect("signed with the new session key");
                switched_after.get_or_insert(rotated_at.elapsed());
            } else {
                assert!(switched_after.is_none(), "went back to the old session key");
                assert_eq!(kid, s0);
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(refusals.is_empty(), "valid tokens refused: {refusals:?}");
    let switched = switched_after.expect("session tokens switched to the new kid");
    assert!(
        // The bound, with a busy machine's slack.
        switched < REFRESH * 2,
        "switched after {switched:?}"
    );

    // The next rotation retires the first key: tokens signed with it are refused once
    // this instance re-reads (within the bound), with or without their kid.
    let v2 = rotate_secret(&client_arn, NEW_2).await;
    eventually("the first key is refused", || async {
        create_with(&app, &plain).await.status == 401
    })
    .await;
    let bad_signature = create_with(
        &app,
        &client_token("not-the-key-not-the-key-not-the-key!", None, &claims()),
    )
    .await;
    for t in [&plain, &with_v0] {
        let reply = create_with(&app, t).await;
        reply.assert_error(401, "InvalidCredentials", "invalid token");
        assert_eq!(
            (reply.body.as_str(), reply.header("www-authenticate")),
            (bad_signature.body.as_str(), Some("Bearer"))
        );
    }
    for t in [
        with_v1,
        client_token(NEW_2, Some(&v2), &claims()),
        client_token(NEW_2, None, &claims()),
    ] {
        assert_eq!(create_with(&app, &t).await.status, 200);
    }
}

/// A freeze (Lambda between invocations): this runtime's only thread is blocked, so no task
/// of the handler's runs, while two rotations retire V1 (the leaked-key runbook) and the
/// session key rotates; it lasts past the keys' bound. Returns the new session version.
fn freeze_while_rotating(client_arn: String, session_arn: String) -> String {
    let rotated = std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            rotate_secret(&client_arn, NEW_1).await;
            rotate_secret(&client_arn, NEW_2).await;
            rotate_secret(&session_arn, NEW_SESSION).await
        })
    })
    .join()
    .unwrap();
    std::thread::sleep(REFRESH + RETRY_AFTER + Duration::from_millis(500));
    rotated
}

/// After the thaw: V1 is refused, and the session token is signed with the version that is
/// current now.
async fn after_the_thaw(app: &Handler, v1_token: &str, session: &str) {
    create_with(app, v1_token)
        .await
        .assert_error(401, "InvalidCredentials", "invalid token");
    let reply = create_with(app, &client_token(NEW_2, None, &claims())).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let token = reply.json()["data"]["token"].as_str().unwrap().to_owned();
    assert_eq!(header_of(&token)["kid"], session);
    session_claims(&token, NEW_SESSION).expect("signed with the session key current now");
}

/// A frozen instance runs no background re-read: keys found past their bound after the
/// thaw are re-read before they serve, so a version retired while the instance slept is
/// refused by its first request.
#[tokio::test]
async fn keys_found_stale_after_a_freeze_are_re_read_before_they_serve() {
    let env = TestEnv::new().await;
    let (client_arn, session_arn) = arns(&env);
    let (app, proxy) = behind_a_proxy(&env, &[]).await;
    let v1_token = client_token(CLIENT_SECRET, None, &claims());
    assert_eq!(create_with(&app, &v1_token).await.status, 200);
    seen(&proxy, "DescribeSecret");
    let session = freeze_while_rotating(client_arn, session_arn);
    after_the_thaw(&app, &v1_token, &session).await;
    // One read per key: the scheduled re-reads, due since the freeze, find them just read.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let calls = seen(&proxy, "DescribeSecret");
    assert!(calls <= 2, "{calls} reads of the labels after the thaw");
}

/// A re-read in flight when the instance froze ends after the thaw with the labels of
/// before the freeze: that view is as old as the read's start, and is re-read too.
#[tokio::test]
async fn a_re_read_in_flight_across_a_freeze_is_no_fresh_view() {
    let env = TestEnv::new().await;
    let (client_arn, session_arn) = arns(&env);
    let proxy = proxy::start(moto_upstream()).await;
    // Timeouts that outlast the freeze: the in-flight read must succeed after the thaw,
    // with the labels the proxy read before it (the production 1 s would fail it).
    let patient = secrets_client(&proxy.endpoint)
        .config()
        .to_builder()
        .timeout_config(patient())
        .build();
    let app = handler_of(&env, &[], aws_sdk_secretsmanager::Client::from_conf(patient)).await;
    let v1_token = client_token(CLIENT_SECRET, None, &claims());
    assert_eq!(create_with(&app, &v1_token).await.status, 200);
    // Each key's next re-read gets its labels at once and its answer 2 s later.
    proxy
        .script
        .push("DescribeSecret", Fault::SlowAnswer(Duration::from_secs(2)), 2);
    let in_flight = || {
        let n = proxy
            .requests
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.contains("SlowAnswer"))
            .count();
        async move { n == 2 }
    };
    eventually("both keys' re-reads in flight", in_flight).await;
    tokio::time::sleep(Duration::from_millis(200)).await; // the labels are read
    let session = freeze_while_rotating(client_arn, session_arn);
    after_the_thaw(&app, &v1_token, &session).await;
}

/// The calls of `operation` (`DescribeSecret`, `GetSecretValue`) a proxy saw since the last look.
fn seen(proxy: &proxy::Proxy, operation: &str) -> usize {
    let mut seen = proxy.requests.lock().unwrap();
    let n = seen.iter().filter(|t| t.contains(operation)).count();
    seen.retain(|t| !t.contains(operation));
    n
}

/// A handler whose Secrets Manager calls go through a proxy, with `extra` settings.
async fn behind_a_proxy(env: &TestEnv, extra: &[(&'static str, &str)]) -> (Handler, proxy::Proxy) {
    let proxy = proxy::start(moto_upstream()).await;
    let app = handler_of(env, extra, secrets_client(&proxy.endpoint)).await;
    (app, proxy)
}

#[tokio::test]
async fn made_up_kids_cannot_drive_secrets_manager_calls() {
    let env = TestEnv::new().await;
    let (app, proxy) = behind_a_proxy(&env, &[("SECRETS_REFRESH_SECONDS", "3600")]).await;
    // Start-up: the labels of both keys, then each labeled version's value.
    assert_eq!((seen(&proxy, "DescribeSecret"), seen(&proxy, "GetSecretValue")), (2, 2));
    let refused = |t: String| {
        let app = &app;
        async move {
            create_with(app, &t)
                .await
                .assert_error(401, "InvalidCredentials", "invalid token")
        }
    };
    // Kids that can't be a Secrets Manager version, or tokens that can't be ours: no call.
    for n in 0..20 {
        refused(client_token(CLIENT_SECRET, Some(&format!("made-up-{n}")), &claims())).await;
    }
    let hs512 = jsonwebtoken::encode(
        &jsonwebtoken::Header {
            kid: Some(uuid()),
            ..jsonwebtoken::Header::new(Algorithm::HS512)
        },
        &claims(),
        &jsonwebtoken::EncodingKey::from_secret(CLIENT_SECRET.as_bytes()),
    )
    .unwrap();
    refused(hs512).await;
    assert_eq!(seen(&proxy, "DescribeSecret") + seen(&proxy, "GetSecretValue"), 0);
    // Version-shaped kids: one re-read for all of them (the labels; the values are held).
    let started = Instant::now();
    for _ in 0..30 {
        refused(client_token(CLIENT_SECRET, Some(&uuid()), &claims())).await;
    }
    assert!(started.elapsed() < RETRY_AFTER, "the loop outran the bound");
    assert_eq!((seen(&proxy, "DescribeSecret"), seen(&proxy, "GetSecretValue")), (1, 0));
    tokio::time::sleep(RETRY_AFTER).await;
    refused(client_token(CLIENT_SECRET, Some(&uuid()), &claims())).await;
    assert_eq!(seen(&proxy, "DescribeSecret"), 1, "one more after the bound");
    // Valid tokens meanwhile cost no calls.
    let ok = create_with(&app, &client_token(CLIENT_SECRET, None, &claims())).await;
    assert_eq!(ok.status, 200);
    assert_eq!(seen(&proxy, "DescribeSecret") + seen(&proxy, "GetSecretValue"), 0);
}

#[tokio::test]
async fn a_failed_re_read_keeps_the_held_keys() {
    let env = TestEnv::new().await;
    let (app, proxy) = behind_a_proxy(&env, &[]).await;
    let loaded = Instant::now();
    // Secrets Manager fails every call from now on (retries included).
    for op in ["DescribeSecret", "GetSecretValue"] {
        proxy.script.push(op, Fault::InternalServerError, 1000);
    }
    eventually("a re-read", || async { has_seen(&proxy, "DescribeSecret") }).await;
    let reply = create_with(&app, &client_token(CLIENT_SECRET, None, &claims())).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(seen(&proxy, "DescribeSecret") > 0, "the keys were re-read (and failed)");
    let token = reply.json()["data"]["token"].as_str().unwrap().to_owned();
    session_claims(&token, SESSION_SECRET).expect("still signed with the held session key");
    // Past their bound, the keys still serve, and a request does not ask the failing
    // Secrets Manager again when a re-read just failed (the background's, every 5 s).
    tokio::time::sleep_until((loaded + REFRESH + RETRY_AFTER + Duration::from_millis(500)).into()).await;
    seen(&proxy, "DescribeSecret");
    for _ in 0..5 {
        let reply = create_with(&app, &client_token(CLIENT_SECRET, None, &claims())).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
    }
    let calls = seen(&proxy, "DescribeSecret");
    assert!(calls <= 6, "requests re-read a failing Secrets Manager: {calls} calls");
}

/// After V1 → V2 → V3 (the way to kill a leaked V1), a re-read that learns the labels but
/// can't read V3 holds V2 alone: V1, which Secrets Manager no longer labels, is never
/// guessed back. V3 is read again after `RETRY_AFTER`.
#[tokio::test]
async fn a_key_retired_by_two_rotations_never_comes_back() {
    let env = TestEnv::new().await;
    let (client_arn, _) = arns(&env);
    let v2 = rotate_secret(&client_arn, NEW_1).await;
    let (app, proxy) = behind_a_proxy(&env, &[]).await;
    let (v1_token, v2_token) = (
        client_token(CLIENT_SECRET, None, &claims()),
        client_token(NEW_1, Some(&v2), &claims()),
    );
    assert_eq!(create_with(&app, &v1_token).await.status, 200, "V1 is AWSPREVIOUS");
    // V3's value can't be read for a while.
    proxy.script.push("GetSecretValue", Fault::InternalServerError, 1000);
    let v3 = rotate_secret(&client_arn, NEW_2).await;
    eventually("V1 is refused", || async {
        create_with(&app, &v1_token).await.status == 401
    })
    .await;
    create_with(&app, &v1_token)
        .await
        .assert_error(401, "InvalidCredentials", "invalid token");
    assert_eq!(create_with(&app, &v2_token).await.status, 200, "V2 is still labeled");
    let v3_token = client_token(NEW_2, Some(&v3), &claims());
    assert_eq!(create_with(&app, &v3_token).await.status, 401, "V3 not read yet");
    // Secrets Manager recovers: V3 is read at the next try, 5 s after the failure.
    proxy.script.clear();
    tokio::time::sleep(RETRY_AFTER + Duration::from_millis(500)).await;
    assert_eq!(create_with(&app, &v3_token).await.status, 200);
    assert_eq!(create_with(&app, &v2_token).await.status, 200);
}

/// The labels come from one answer and each value by its `VersionId`: a rotation that
/// lands between them changes nothing of what the read holds.
#[tokio::test]
async fn a_rotation_between_the_labels_and_the_values_is_no_guess() {
    let env = TestEnv::new().await;
    let (client_arn, _) = arns(&env);
    let (app, proxy) = behind_a_proxy(&env, &[]).await;
    let v2 = rotate_secret(&client_arn, NEW_1).await;
    // The re-read's value read of V2 waits; a second rotation lands meanwhile.
    proxy
        .script
        .push("GetSecretValue", Fault::Delay(Duration::from_millis(1500)), 1);
    let mut waited = Duration::ZERO;
    while proxy.requests.lock().unwrap().iter().all(|r| !r.contains("Delay")) {
        assert!(waited < REFRESH * 3, "no re-read came");
        tokio::time::sleep(Duration::from_millis(20)).await;
        waited += Duration::from_millis(20);
    }
    rotate_secret(&client_arn, NEW_2).await;
    tokio::time::sleep(Duration::from_millis(1700)).await;
    // What the read held is what the labels said: V2 current, V1 previous, each with its
    // own value; the kid-less V1 token (every outstanding token's key) still verifies.
    let with_v2 = client_token(NEW_1, Some(&v2), &claims());
    assert_eq!(create_with(&app, &with_v2).await.status, 200);
    assert_eq!(
        create_with(&app, &client_token(CLIENT_SECRET, None, &claims()))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn re_reads_run_off_the_request_path() {
    let env = TestEnv::new().await;
    let (app, proxy) = behind_a_proxy(&env, &[]).await;
    for op in ["DescribeSecret", "GetSecretValue"] {
        proxy.script.push(op, Fault::Stall(Duration::from_secs(30)), 1000);
    }
    eventually("a re-read", || async { has_seen(&proxy, "DescribeSecret") }).await;
    // The scheduled re-reads stall; the held keys answer meanwhile, at once.
    for _ in 0..3 {
        let started = Instant::now();
        let reply = create_with(&app, &client_token(CLIENT_SECRET, None, &claims())).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        // Far below the 30 s stall (and the 8 s deadline, which would answer 503).
        assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    }
    assert!(seen(&proxy, "DescribeSecret") > 0, "the keys were being re-read");
}

/// The session key's re-reads fall half a period after the client key's: a Secrets
/// Manager brownout meets one key's re-read at a time.
#[tokio::test]
async fn the_two_keys_fall_due_apart() {
    let env = TestEnv::new().await;
    let (client_arn, session_arn) = arns(&env);
    let (_app, proxy) = behind_a_proxy(&env, &[]).await;
    proxy.requests.lock().unwrap().clear(); // the start-up's reads, which run together
    let started = Instant::now();
    let mut at: Vec<(Duration, &str)> = Vec::new();
    while started.elapsed() < REFRESH * 3 {
        for line in std::mem::take(&mut *proxy.requests.lock().unwrap()) {
            if line.contains("DescribeSecret") {
                let which = if line.ends_with(&client_arn) {
                    "client"
                } else if line.ends_with(&session_arn) {
                    "session"
                } else {
                    "?"
                };
                at.push((started.elapsed(), which));
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let times = |which: &str| {
        at.iter()
            .filter(|(_, w)| *w == which)
            .map(|(t, _)| *t)
            .collect::<Vec<_>>()
    };
    let (client, session) = (times("client"), times("session"));
    assert!(client.len() >= 2 && session.len() >= 2, "{at:?}");
    for c in &client {
        for s in &session {
            assert!(c.abs_diff(*s) >= REFRESH / 4, "re-read together: {at:?}");
        }
    }
}

/// A re-read forced by an unknown (version-shaped) kid is awaited: while it stalls, the
/// request's deadline answers the contract's 503 in time, not Lambda's timeout after it.
#[tokio::test]
async fn a_stalled_forced_re_read_counts_against_the_request_deadline() {
    let env = TestEnv::new().await;
    let proxy = proxy::start(moto_upstream()).await;
    let deadline = Duration::from_millis(700);
    let app = handler_of(
        &env,
        &[("SECRETS_REFRESH_SECONDS", "3600")],
        secrets_client(&proxy.endpoint),
    )
    .await
    .with_deadline(deadline);
    proxy
        .script
        .push("DescribeSecret", Fault::Stall(Duration::from_secs(30)), 1000);
    let started = Instant::now();
    let reply = create_with(&app, &client_token(CLIENT_SECRET, Some(&uuid()), &claims())).await;
    let took = started.elapsed();
    reply.assert_error(503, "ServiceUnavailable", "503:service_unavailable");
    assert_eq!(reply.header("retry-after"), Some("1"));
    assert!(took < deadline + Duration::from_millis(500), "answered after {took:?}");
}

/// A key serves one algorithm (§8): an EdDSA function refuses at start-up an HS256
/// AWSCURRENT; after a switch, the version of the other kind is kept out (neither used
/// nor published), and a running HS256 function keeps signing with its HS256 version.
#[tokio::test]
async fn a_key_serves_one_algorithm() {
    let env = TestEnv::new().await;
    let (_, session_arn) = arns(&env);
    let refused = try_handler(&env, &[("SESSION_TOKEN_ALG", "EdDSA")], secrets_client(moto_endpoint()))
        .await
        .err()
        .expect("an HS256 AWSCURRENT is refused in EdDSA mode");
    assert_eq!(refused.variable, "SESSION_TOKEN_SECRET_ARN");
    assert!(refused.problem.contains("another kind (HS256)"), "{}", refused.problem);

    let hs256 = handler_of(&env, &[], secrets_client(moto_endpoint())).await;
    let s1 = current_version(&session_arn).await;
    // The switch: a new version of the other kind (admin rotate-key --alg EdDSA).
    let s2 = rotate_secret(&session_arn, &eddsa_value(NEW_SESSION)).await;
    tokio::time::sleep(REFRESH + Duration::from_millis(200)).await;
    let reply = create_with(&hs256, &client_token(CLIENT_SECRET, None, &claims())).await;
    let token = reply.json()["data"]["token"].as_str().unwrap().to_owned();
    assert_eq!(header_of(&token), json!({"alg": "HS256", "typ": "JWT", "kid": s1}));
    session_claims(&token, SESSION_SECRET).expect("still the HS256 version");

    let ed = handler_of(&env, &[("SESSION_TOKEN_ALG", "EdDSA")], secrets_client(moto_endpoint())).await;
    let keys = jwks(&ed, "GET", "/.well-known/jwks.json", "$default").await.json();
    assert_eq!(kids_of(&keys), [s2.as_str()], "the HS256 AWSPREVIOUS is not published");
}

/// The documented local test keys never serve when the function talks to AWS itself.
#[tokio::test]
async fn the_documented_local_keys_never_serve_on_aws() {
    let env = TestEnv::new().await;
    let mut vars = env.vars();
    vars.remove("AWS_ENDPOINT_URL");
    let refused = try_handler_with_secrets(
        &config_of(&vars),
        local_client(moto_endpoint()),
        secrets_client(moto_endpoint()),
        Arc::new(SystemClock),
        Arc::new(RandomIds::new()),
    )
    .await
    .err()
    .expect("refused");
    assert_eq!(refused.variable, "CLIENT_TOKEN_SECRET_ARN");
    assert!(
        refused.problem.contains("documented local test key"),
        "{}",
        refused.problem
    );
}

#[tokio::test]
async fn every_client_token_refusal_is_the_same_401() {
    let env = TestEnv::new().await;
    let extra = [
        ("CLIENT_TOKEN_ISSUER", "https://issuer.example"),
        ("CLIENT_TOKEN_AUDIENCE", "biometric-validations"),
        ("CLIENT_TOKEN_MAX_SECONDS", "3600"),
        ("PROJECT_CACHE_SECONDS", "0"),
    ];
    let app = handler_of(&env, &extra, secrets_client(moto_endpoint())).await;
    let now = now_secs();
    let good = json!({"clientId": CLIENT, "iss": "https://issuer.example", "aud": "biometric-validations",
                      "iat": now - 10, "exp": now + 600});
    let with = |k: &str, v: Value| {
        let mut c = good.clone();
        match v {
            Value::Null => {
                c.as_object_mut().unwrap().remove(k);
            }
            v => c[k] = v,
        }
        client_token(CLIENT_SECRET, None, &c)
    };
    assert_eq!(
        create_with(&app, &client_token(CLIENT_SECRET, None, &good))
            .await
            .status,
        200
    );
    let bad_signature = create_with(
        &app,
        &client_token("another-key-another-key-another-key!!", None, &good),
    )
    .await;
    bad_signature.assert_error(401, "InvalidCredentials", "invalid token");
    let refused = [
        ("nbf not reached", with("nbf", json!(now + 60))),
        ("iat in the future", with("iat", json!(now + 60))),
        ("wrong iss", with("iss", json!("https://other.example"))),
        ("no iss", with("iss", Value::Null)),
        ("wrong aud", with("aud", json!(["other"]))),
        ("no aud", with("aud", Value::Null)),
        ("lifetime over the cap", with("exp", json!(now - 10 + 3601))),
        ("no iat under a cap", with("iat", Value::Null)),
        (
            "unknown kid",
            client_token(CLIENT_SECRET, Some("no-such-version"), &good),
        ),
    ];
    for (case, token) in &refused {
        let reply = create_with(&app, token).await;
        assert_eq!(
            (reply.status, reply.body.as_str(), reply.header("www-authenticate")),
            (401, bad_signature.body.as_str(), Some("Bearer")),
            "{case}"
        );
    }

    // A revoked token, then a suspended client: refused with the same bytes, and
    // before anything else is looked at (a replay included).
    let key = [("idempotency-key", "keys-test-1")];
    let keyed = |t: &str| {
        let auth = format!("Bearer {t}");
        let mut h = vec![("authorization", auth), ("content-type", "application/json".to_owned())];
        h.extend(key.iter().map(|(k, v)| (*k, (*v).to_owned())));
        h
    };
    let send = |t: String| {
        let app = &app;
        let headers = keyed(&t);
        async move {
            let pairs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            call(app, event("POST", "/v2/biometric-validations", &pairs, Some(SEED_BODY))).await
        }
    };
    let before = client_token(CLIENT_SECRET, None, &good);
    assert_eq!(send(before.clone()).await.status, 200);
    let revoked_at = Timestamp::from_unix_seconds(now).unwrap();
    env.store.revoke_client_tokens(id(CLIENT), revoked_at).await.unwrap();
    let revoked = send(before).await;
    assert_eq!(
        (revoked.status, revoked.body.as_str()),
        (401, bad_signature.body.as_str()),
        "revoked"
    );
    let issued_after = with("iat", json!(now + 1));
    assert_eq!(
        send(issued_after.clone()).await.status,
        200,
        "a token issued since is accepted"
    );
    env.store.suspend_client(id(CLIENT)).await.unwrap();
    let suspended = send(issued_after.clone()).await;
    assert_eq!(
        (suspended.status, suspended.body.as_str()),
        (401, bad_signature.body.as_str()),
        "suspended"
    );
    let stored = env.store.client_item(id(CLIENT)).await.unwrap().unwrap();
    assert_eq!(stored.tokens_not_before, Some(revoked_at));

    // A revocation holds (§2): a token of the revocation's own second is refused, and no
    // operation on the client lowers or removes it.
    let same_second = with("iat", json!(now));
    let refused_now = |t: String| {
        let send = &send;
        let bytes = bad_signature.body.clone();
        async move {
            let r = send(t).await;
            assert_eq!((r.status, r.body), (401, bytes));
        }
    };
    refused_now(same_second.clone()).await;
    use biometric_validations::store::clients::{PutClient, Revoked};
    env.store.reactivate_client(id(CLIENT)).await.unwrap();
    assert_eq!(send(issued_after.clone()).await.status, 200, "reactivated");
    refused_now(same_second.clone()).await;
    refused_now(before_revocation(&with, now)).await;
    let earlier = Timestamp::from_unix_seconds(now - 60).unwrap();
    assert_eq!(
        env.store.revoke_client_tokens(id(CLIENT), earlier).await.unwrap(),
        Revoked::Already(revoked_at),
        "never moves back"
    );
    let active = biometric_validations::model::Client {
        id: id(CLIENT),
        status: biometric_validations::model::ClientStatus::Active,
        tokens_not_before: None,
    };
    let kept = env.store.put_client(&active, false).await.unwrap();
    assert!(matches!(kept, PutClient::Exists { .. }), "{kept:?}");
    assert_eq!(
        env.store.put_client(&active, true).await.unwrap(),
        PutClient::Replaced {
            kept_tokens_not_before: Some(revoked_at)
        }
    );
    refused_now(same_second).await;
    let stored = env.store.client_item(id(CLIENT)).await.unwrap().unwrap();
    assert_eq!(stored.tokens_not_before, Some(revoked_at), "through every operation");
}

/// A token issued ten seconds before the revocation.
fn before_revocation(with: &impl Fn(&str, Value) -> String, now: i64) -> String {
    with("iat", json!(now - 10))
}

async fn jwks(app: &Handler, method: &str, path: &str, stage: &str) -> Reply {
    let mut ev = event(method, path, &[], None);
    ev["requestContext"]["stage"] = json!(stage);
    call(app, ev).await
}

/// Verifies `tokens` with PyJWT against `keys`, re-deriving each public key from `secrets`.
fn verify_with_pyjwt(keys: &Value, tokens: &[&str], secrets: &HashMap<String, &str>) -> String {
    let input = json!({
        "jwks": keys, "tokens": tokens, "secrets": secrets,
        "info": std::str::from_utf8(ED25519_INFO).unwrap(),
        "audience": "liveness", "issuer": "biometric-validations",
    });
    let mut child = Command::new(python())
        .arg(repo().join("tests/api/helpers/verify_eddsa.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python (make test installs PyJWT into .venv)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "PyJWT refused: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[tokio::test]
async fn eddsa_tokens_verify_against_the_served_jwks_across_a_rotation() {
    let env = TestEnv::new().await;
    // An EdDSA key: {"alg":"EdDSA","key":…}, as the template generates it.
    let session_arn = create_secret_on(
        moto_endpoint(),
        &format!("{}/eddsa", env.table),
        &eddsa_value(SESSION_SECRET),
    )
    .await;
    let extra = [
        ("SESSION_TOKEN_ALG", "EdDSA"),
        ("SESSION_TOKEN_SECRET_ARN", session_arn.as_str()),
    ];
    let app = handler_of(&env, &extra, secrets_client(moto_endpoint())).await;
    let s0 = current_version(&session_arn).await;
    let client = client_token(CLIENT_SECRET, None, &claims());
    let before = create_with(&app, &client).await.json()["data"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(header_of(&before), json!({"alg": "EdDSA", "typ": "JWT", "kid": s0}));

    let served = jwks(&app, "GET", "/.well-known/jwks.json", "$default").await;
    assert_eq!(served.status, 200, "{}", served.body);
    assert_eq!(served.header("cache-control"), Some("public, max-age=300"));
    assert_eq!(served.header("content-type"), Some("application/json"));
    let keys = served.json();
    assert_eq!(keys["keys"].as_array().unwrap().len(), 1, "no previous version yet");
    assert_eq!(
        keys["keys"][0],
        json!({"kty": "OKP", "crv": "Ed25519", "x": keys["keys"][0]["x"], "kid": s0, "alg": "EdDSA", "use": "sig"})
    );
    let secrets = HashMap::from([(s0.clone(), SESSION_SECRET)]);
    let said = verify_with_pyjwt(&keys, &[&before], &secrets);
    assert!(said.starts_with(&format!("OK {s0} ")), "{said}");

    let s1 = rotate_secret(&session_arn, &eddsa_value(NEW_SESSION)).await;
    let published = |n: usize| {
        let app = &app;
        async move {
            let keys = jwks(app, "GET", "/.well-known/jwks.json", "$default").await.json();
            keys["keys"].as_array().unwrap().len() == n
        }
    };
    eventually("the new version is read", || published(2)).await;
    let after = create_with(&app, &client).await.json()["data"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(header_of(&after)["kid"], json!(s1));
    let keys = jwks(&app, "GET", "/prod/.well-known/jwks.json", "prod").await.json();
    assert_eq!(
        kids_of(&keys),
        [s1.as_str(), s0.as_str()],
        "current first, then previous"
    );
    let secrets = HashMap::from([(s0.clone(), SESSION_SECRET), (s1.clone(), NEW_SESSION)]);
    let said = verify_with_pyjwt(&keys, &[&before, &after], &secrets);
    assert_eq!(said.lines().count(), 2, "{said}");

    let head = jwks(&app, "HEAD", "/.well-known/jwks.json", "$default").await;
    assert_eq!((head.status, head.body.as_str()), (200, ""));
    assert_eq!(head.header("cache-control"), Some("public, max-age=300"));

    // The previous version retired (admin retire-key takes AWSPREVIOUS off it): it leaves
    // the JWKS at the next re-read.
    biometric_validations::keyring::secrets_manager::unlabel_previous(
        &secrets_client(moto_endpoint()),
        &session_arn,
        &s0,
    )
    .await
    .unwrap();
    eventually("the retired version leaves the JWKS", || published(1)).await;
    let keys = jwks(&app, "GET", "/.well-known/jwks.json", "$default").await.json();
    assert_eq!(kids_of(&keys), [s1.as_str()]);
}

#[tokio::test]
async fn hs256_has_no_public_keys() {
    let env = TestEnv::new().await;
    let app = handler_of(&env, &[], secrets_client(moto_endpoint())).await;
    jwks(&app, "GET", "/.well-known/jwks.json", "$default")
        .await
        .assert_error(404, "ResourceNotFound", "/.well-known/jwks.json does not exist");
    let post = jwks(&app, "POST", "/.well-known/jwks.json", "$default").await;
    post.assert_error(405, "MethodNotAllowed", "only GET, HEAD are allowed on this path");
    assert_eq!(post.header("allow"), Some("GET, HEAD"));
}
