//! Keys from Secrets Manager (moto, through the real SDK client): rotation with no
//! outage, `kid`s, made-up `kid`s that can't drive Secrets Manager calls, re-reads that
//! fail and keep the held keys, and EdDSA session tokens verified by an independent
//! library against the served JWKS.

use crate::helpers::proxy;

use std::collections::HashMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::helpers::*;
use base64::Engine;
use biometric_validations::Handler;
use biometric_validations::model::{RandomIds, SystemClock};
use biometric_validations::token::keys::ED25519_INFO;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};

const REFRESH: Duration = Duration::from_secs(1);

fn arns(env: &TestEnv) -> (String, String) {
    match &env.keys {
        Keys::SecretsManager { client, session } => (client.clone(), session.clone()),
        Keys::Local => panic!("this test needs keys in Secrets Manager"),
    }
}

/// A handler on `env`'s table and keys, with `extra` settings and a short refresh bound.
async fn handler_of(env: &TestEnv, extra: &[(&'static str, &str)], secrets: aws_sdk_secretsmanager::Client) -> Handler {
    let mut vars = env.vars();
    for (k, v) in extra {
        vars.insert(k, (*v).to_owned());
    }
    let mut config = config_of(&vars);
    config.secrets_refresh = REFRESH;
    handler_with_secrets(
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
        switched < REFRESH + Duration::from_millis(500),
        "switched after {switched:?}"
    );

    // The next rotation retires the first key: tokens signed with it are refused once
    // this instance re-reads (within the bound), with or without their kid.
    let v2 = rotate_secret(&client_arn, NEW_2).await;
    tokio::time::sleep(REFRESH + Duration::from_millis(100)).await;
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

/// The Secrets Manager calls a proxy saw since the last look.
fn secret_reads(proxy: &proxy::Proxy) -> usize {
    let mut seen = proxy.requests.lock().unwrap();
    let n = seen.iter().filter(|t| t.contains("GetSecretValue")).count();
    seen.clear();
    n
}

#[tokio::test]
async fn made_up_kids_cannot_drive_secrets_manager_calls() {
    let env = TestEnv::new().await;
    let proxy = proxy::start(moto_upstream()).await;
    let mut vars = env.vars();
    vars.insert("SECRETS_REFRESH_SECONDS", "3600".into());
    let app = handler_with_secrets(
        &config_of(&vars),
        local_client(moto_endpoint()),
        secrets_client(&proxy.endpoint),
        Arc::new(SystemClock),
        Arc::new(RandomIds::new()),
    )
    .await;
    assert_eq!(secret_reads(&proxy), 4, "start-up: current and previous of both keys");
    let started = Instant::now();
    for n in 0..30 {
        let t = client_token(CLIENT_SECRET, Some(&format!("made-up-{n}")), &claims());
        create_with(&app, &t)
            .await
            .assert_error(401, "InvalidCredentials", "invalid token");
    }
    assert!(started.elapsed() < keyring_every(), "the loop outran the bound");
    assert_eq!(
        secret_reads(&proxy),
        2,
        "one re-read of the client key for 30 unknown kids"
    );
    tokio::time::sleep(keyring_every()).await;
    let t = client_token(CLIENT_SECRET, Some("made-up-again"), &claims());
    create_with(&app, &t)
        .await
        .assert_error(401, "InvalidCredentials", "invalid token");
    assert_eq!(secret_reads(&proxy), 2, "one more after the bound");
    // Valid tokens meanwhile cost no reads.
    assert_eq!(
        create_with(&app, &client_token(CLIENT_SECRET, None, &claims()))
            .await
            .status,
        200
    );
    assert_eq!(secret_reads(&proxy), 0);
}

fn keyring_every() -> Duration {
    biometric_validations::keyring::FORCED_EVERY
}

#[tokio::test]
async fn a_failed_re_read_keeps_the_held_keys() {
    let env = TestEnv::new().await;
    let proxy = proxy::start(moto_upstream()).await;
    let app = handler_of(&env, &[], secrets_client(&proxy.endpoint)).await;
    // Secrets Manager fails every call from now on (retries included).
    proxy
        .script
        .push("GetSecretValue", proxy::Fault::InternalServerError, 1000);
    tokio::time::sleep(REFRESH + Duration::from_millis(100)).await;
    let reply = create_with(&app, &client_token(CLIENT_SECRET, None, &claims())).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(secret_reads(&proxy) > 0, "the stale keys were re-read (and failed)");
    let token = reply.json()["data"]["token"].as_str().unwrap().to_owned();
    session_claims(&token, SESSION_SECRET).expect("still signed with the held session key");
}

/// Re-reads whose `AWSCURRENT` answers but whose `AWSPREVIOUS` fails keep a previous key:
/// the held one while the current key is unchanged, the held current one after a rotation.
#[tokio::test]
async fn a_re_read_that_cannot_read_the_previous_version_keeps_a_previous_key() {
    let env = TestEnv::new().await;
    let (client_arn, _) = arns(&env);
    rotate_secret(&client_arn, NEW_1).await;
    let proxy = proxy::start(moto_upstream()).await;
    // Held from start-up: NEW_1 current, CLIENT_SECRET previous.
    let app = handler_of(&env, &[], secrets_client(&proxy.endpoint)).await;
    let (old, new_1) = (
        client_token(CLIENT_SECRET, None, &claims()),
        client_token(NEW_1, None, &claims()),
    );
    assert_eq!(create_with(&app, &old).await.status, 200);
    proxy
        .script
        .push_when("GetSecretValue", "AWSPREVIOUS", proxy::Fault::InternalServerError, 1000);

    tokio::time::sleep(REFRESH + Duration::from_millis(100)).await;
    for (name, t) in [("the held previous key", &old), ("the current key", &new_1)] {
        let reply = create_with(&app, t).await;
        assert_eq!(reply.status, 200, "{name}: {}", reply.body);
    }
    assert!(secret_reads(&proxy) > 0, "the stale keys were re-read");

    // A rotation read while AWSPREVIOUS still fails: the key it retired becomes the previous.
    let v2 = rotate_secret(&client_arn, NEW_2).await;
    tokio::time::sleep(REFRESH + Duration::from_millis(100)).await;
    let with_v2 = client_token(NEW_2, Some(&v2), &claims());
    for (name, t) in [("the new key", &with_v2), ("the key the rotation retired", &new_1)] {
        let reply = create_with(&app, t).await;
        assert_eq!(reply.status, 200, "{name}: {}", reply.body);
    }
    create_with(&app, &old)
        .await
        .assert_error(401, "InvalidCredentials", "invalid token");
    assert!(proxy.script.remaining() < 1000, "AWSPREVIOUS reads failed");
}

/// A key re-read that stalls while authenticating counts against the request's deadline:
/// the answer is the contract's 503 in time, not Lambda's timeout after it.
#[tokio::test]
async fn a_stalled_key_re_read_counts_against_the_request_deadline() {
    let env = TestEnv::new().await;
    let proxy = proxy::start(moto_upstream()).await;
    let deadline = Duration::from_millis(700);
    let app = handler_of(&env, &[], secrets_client(&proxy.endpoint))
        .await
        .with_deadline(deadline);
    proxy
        .script
        .push("GetSecretValue", proxy::Fault::Stall(Duration::from_secs(30)), 1000);
    tokio::time::sleep(REFRESH + Duration::from_millis(100)).await;
    let started = Instant::now();
    let reply = create_with(&app, &client_token(CLIENT_SECRET, None, &claims())).await;
    let took = started.elapsed();
    reply.assert_error(503, "ServiceUnavailable", "503:service_unavailable");
    assert_eq!(reply.header("retry-after"), Some("1"));
    assert!(took < deadline + Duration::from_millis(500), "answered after {took:?}");
    assert!(secret_reads(&proxy) > 0, "the stale keys were being re-read");
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
    let revoked_at = biometric_validations::model::Timestamp::from_unix_seconds(now).unwrap();
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
    let suspended = send(issued_after).await;
    assert_eq!(
        (suspended.status, suspended.body.as_str()),
        (401, bad_signature.body.as_str()),
        "suspended"
    );
    let stored = env.store.client_item(id(CLIENT)).await.unwrap().unwrap();
    assert_eq!(stored.tokens_not_before, Some(revoked_at));
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
    let (_, session_arn) = arns(&env);
    let app = handler_of(&env, &[("SESSION_TOKEN_ALG", "EdDSA")], secrets_client(moto_endpoint())).await;
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

    let s1 = rotate_secret(&session_arn, NEW_SESSION).await;
    tokio::time::sleep(REFRESH + Duration::from_millis(100)).await;
    let after = create_with(&app, &client).await.json()["data"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(header_of(&after)["kid"], json!(s1));
    let keys = jwks(&app, "GET", "/prod/.well-known/jwks.json", "prod").await.json();
    let kids: Vec<&str> = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids, [s1.as_str(), s0.as_str()], "current first, then previous");
    let secrets = HashMap::from([(s0.clone(), SESSION_SECRET), (s1.clone(), NEW_SESSION)]);
    let said = verify_with_pyjwt(&keys, &[&before, &after], &secrets);
    assert_eq!(said.lines().count(), 2, "{said}");

    let head = jwks(&app, "HEAD", "/.well-known/jwks.json", "$default").await;
    assert_eq!((head.status, head.body.as_str()), (200, ""));
    assert_eq!(head.header("cache-control"), Some("public, max-age=300"));
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
