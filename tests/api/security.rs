//! Hostile callers get nothing: token attacks and broken object-level authorization,
//! through the real handler.

use std::sync::Arc;

use crate::helpers::*;
use base64::Engine;
use biometric_validations::model::{FlowStatus, FlowType, RandomIds};
use serde_json::{Value, json};

const PATH: &str = "/v2/biometric-validations";
const NOW: &str = "2030-01-01T00:00:00.000Z";

fn b64(s: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}

fn with_auth(auth: &str) -> Value {
    event(
        "POST",
        PATH,
        &[("authorization", auth), ("content-type", "application/json")],
        Some(SEED_BODY),
    )
}

async fn pinned() -> TestEnv {
    TestEnv::with_parts(Arc::new(FixedClock(ts(NOW))), Arc::new(RandomIds::new())).await
}

fn now() -> i64 {
    ts(NOW).unix_seconds()
}

async fn assert_invalid(env: &TestEnv, auth: &str, why: &str) {
    let before = env.scan().await.len();
    let reply = env.call(with_auth(auth)).await;
    assert_eq!(
        (reply.status, reply.json()),
        (401, json!({"code": "InvalidCredentials", "message": "invalid token"})),
        "{why}"
    );
    assert_eq!(reply.header("www-authenticate"), Some("Bearer"), "{why}");
    assert_eq!(env.scan().await.len(), before, "{why}: wrote something");
}

#[tokio::test]
async fn forged_and_foreign_tokens_are_refused() {
    let env = pinned().await;
    let claims = json!({"clientId": CLIENT, "exp": now() + 600});
    let body = b64(&claims.to_string());
    let good = sign(&claims, CLIENT_SECRET);
    let good_sig = good.rsplit('.').next().unwrap();

    for alg in ["none", "None", "NONE"] {
        let header = b64(&json!({"alg": alg, "typ": "JWT"}).to_string());
        assert_invalid(&env, &format!("Bearer {header}.{body}."), "alg none").await;
        assert_invalid(
            &env,
            &format!("Bearer {header}.{body}.{good_sig}"),
            "alg none with a signature",
        )
        .await;
    }
    for alg in ["RS256", "ES256", "PS256", "EdDSA", "HS384", "HS512"] {
        let header = b64(&json!({"alg": alg, "typ": "JWT"}).to_string());
        assert_invalid(&env, &format!("Bearer {header}.{body}.{good_sig}"), alg).await;
        assert_invalid(&env, &format!("Bearer {header}.{body}.{}", b64("signature")), alg).await;
    }
    // The HS256 signature of the good token, with its claims changed.
    let other_claims = b64(&json!({"clientId": OTHER_CLIENT, "exp": now() + 600}).to_string());
    let header = good.split('.').next().unwrap();
    assert_invalid(
        &env,
        &format!("Bearer {header}.{other_claims}.{good_sig}"),
        "tampered claims",
    )
    .await;
    assert_invalid(
        &env,
        &format!(
            "Bearer {}",
            sign(&claims, "the-wrong-secret-the-wrong-secret-the-wrong")
        ),
        "wrong secret",
    )
    .await;
    assert_invalid(
        &env,
        &format!("Bearer {}", sign(&json!({"exp": now() + 600}), CLIENT_SECRET)),
        "no clientId",
    )
    .await;
    for bad in [
        json!("613375a1eab2fe08527f81e"),
        json!("613375a1eab2fe08527f81eZ"),
        json!(613375),
        json!(null),
        json!([CLIENT]),
    ] {
        let t = sign(&json!({"clientId": bad, "exp": now() + 600}), CLIENT_SECRET);
        assert_invalid(&env, &format!("Bearer {t}"), "clientId not an ObjectId").await;
    }
    assert_invalid(
        &env,
        &format!(
            "Bearer {}",
            sign(&json!({"clientId": CLIENT, "exp": "tomorrow"}), CLIENT_SECRET)
        ),
        "exp not a number",
    )
    .await;
    let junk: String = (0..8 * 1024).map(|i| (b'a' + (i % 26) as u8) as char).collect();
    assert_invalid(&env, &format!("Bearer {junk}"), "8 KiB junk").await;
    let junk_jwt = format!("{}.{}.{}", &junk[..2730], &junk[2730..5460], &junk[5460..]);
    assert_invalid(&env, &format!("Bearer {junk_jwt}"), "8 KiB junk in three parts").await;
}

#[tokio::test]
async fn session_and_client_tokens_are_not_interchangeable() {
    let env = pinned().await;
    let reply = env
        .call(with_auth(&format!(
            "Bearer {}",
            sign(&json!({"clientId": CLIENT, "exp": now() + 600}), CLIENT_SECRET)
        )))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let session_token = reply.json()["data"]["token"].as_str().unwrap().to_owned();
    // A session token is not a client credential...
    assert_invalid(
        &env,
        &format!("Bearer {session_token}"),
        "session token as client token",
    )
    .await;
    // ...not even signed with the client secret and carrying a clientId, because of its aud.
    let mimic = sign(
        &json!({"clientId": CLIENT, "exp": now() + 600, "aud": "liveness"}),
        CLIENT_SECRET,
    );
    assert_invalid(
        &env,
        &format!("Bearer {mimic}"),
        "client-signed token with the session audience",
    )
    .await;
    // And a client token is not a session token.
    let verifier = SessionVerifier::new(SESSION_SECRET.as_bytes(), "biometric-validations");
    let client_token = sign(&json!({"clientId": CLIENT, "exp": i64::MAX / 2}), CLIENT_SECRET);
    assert!(verifier.verify(&client_token).is_err());
    let as_session = sign(
        &json!({"clientId": CLIENT, "sub": CLIENT, "iss": "biometric-validations", "exp": i64::MAX / 2}),
        SESSION_SECRET,
    );
    assert!(verifier.verify(&as_session).is_err(), "no aud: not a session token");
    // The session token itself does verify as one (its exp is in 2030).
    let claims = verifier.verify(&session_token).expect("a session token verifies");
    assert_eq!(claims.client.to_string(), CLIENT);
}

#[tokio::test]
async fn expiry_leeway_is_five_seconds() {
    let env = pinned().await;
    let at = |offset: i64| {
        format!(
            "Bearer {}",
            sign(&json!({"clientId": CLIENT, "exp": now() + offset}), CLIENT_SECRET)
        )
    };
    for offset in [-5, -1, 0] {
        let reply = env.call(with_auth(&at(offset))).await;
        assert_eq!(reply.status, 200, "exp {offset}: {}", reply.body);
    }
    for offset in [-6, -3600] {
        let reply = env.call(with_auth(&at(offset))).await;
        reply.assert_error(401, "Unauthorized", "The token has expired");
        assert_eq!(reply.header("www-authenticate"), Some("Bearer"));
    }
}

#[tokio::test]
async fn scheme_spelling_and_repeated_headers() {
    let env = pinned().await;
    let token = sign(&json!({"clientId": CLIENT, "exp": now() + 600}), CLIENT_SECRET);
    for auth in [format!("bearer {token}"), format!("BEARER {token}"), token.clone()] {
        assert_eq!(env.call(with_auth(&auth)).await.status, 200, "{auth}");
    }
    assert_invalid(&env, &format!("Basic {token}"), "another scheme").await;
    // HTTP API joins repeated headers with a comma.
    assert_invalid(&env, &format!("Bearer {token},Bearer {token}"), "two headers joined").await;
    // REST API keeps them apart.
    let mut rest: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/events/rest-api-login.json")).unwrap(),
    )
    .unwrap();
    let auth = format!("Bearer {token}");
    rest["headers"].as_object_mut().unwrap().remove("Authorization");
    rest["multiValueHeaders"]["Authorization"] = json!([auth, auth]);
    env.call(rest.clone())
        .await
        .assert_error(401, "InvalidCredentials", "invalid token");
    rest["multiValueHeaders"]["Authorization"] = json!([auth]);
    assert_eq!(env.call(rest).await.status, 200);
}

#[tokio::test]
async fn no_client_reaches_another_clients_project() {
    let env = TestEnv::new().await;
    // The demo project belongs to CLIENT; OTHER_CLIENT owns a project with an active flow.
    let theirs = "66df5bf5c4d855fb0bdf5dc0";
    let their_flow = "66df5c22c4d855fb0bdf5dc1";
    env.store.put_project(&project_of(theirs, OTHER_CLIENT)).await.unwrap();
    env.store
        .put_flow(&flow_of(theirs, their_flow, FlowType::Login, FlowStatus::Active))
        .await
        .unwrap();
    let attacker = format!("Bearer {}", token_for(OTHER_CLIENT));
    let victim = bearer();
    let ask = |auth: &str, project: &str, flow: &str| {
        let body = format!(r#"{{"project":"{project}","projectFlow":"{flow}","identifier":"u","type":"login"}}"#);
        event(
            "POST",
            PATH,
            &[("authorization", auth), ("content-type", "application/json")],
            Some(&body),
        )
    };
    let cases = [
        (attacker.as_str(), PROJECT, LOGIN_FLOW), // another client's project and flow
        (attacker.as_str(), theirs, LOGIN_FLOW),  // own project, a flow of another project
        (victim.as_str(), PROJECT, their_flow),   // own project, another client's flow
        (victim.as_str(), theirs, their_flow),    // another client's project
        (attacker.as_str(), "66df5bf5c4d855fb0bdf5dff", LOGIN_FLOW), // a project that does not exist
        (attacker.as_str(), theirs, "66df5c22c4d855fb0bdf5dff"), // a flow that does not exist
    ];
    let mut answers = Vec::new();
    for (auth, project, flow) in cases {
        let reply = env.call(ask(auth, project, flow)).await;
        answers.push((reply.status, reply.body, reply.headers.len()));
    }
    assert!(answers.iter().all(|a| *a == answers[0]), "answers differ: {answers:?}");
    assert_eq!(answers[0].0, 404);
    assert!(env.items("LIVENESS_SESSION#").await.is_empty());
    assert!(env.items("BIOMETRIC_VALIDATION#").await.is_empty());
    // Each client does reach its own.
    assert_eq!(env.call(ask(&attacker, theirs, their_flow)).await.status, 200);
    assert_eq!(env.call(ask(&victim, PROJECT, LOGIN_FLOW)).await.status, 200);
}
