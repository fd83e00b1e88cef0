//! The contract's answers at the HTTP level, through whatever serves them: the handler in
//! this process by default, and `sam local start-api` of the shipped artifact with
//! `SUBJECT=sam-api` (make sam-test): a create (200, its shape and headers), an idempotent
//! replay, no token (401), an unknown path (404), a wrong method (405 with `Allow`), a body
//! over 16 KiB (413), a body that is not JSON (415), and the public keys in EdDSA mode.

use serde_json::{Value, json};

use crate::helpers::subject::Subject;
use crate::helpers::*;

const PATH: &str = "/v2/biometric-validations";

fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

#[tokio::test]
async fn the_contracts_http_answers() {
    let env = TestEnv::new().await;
    let session = format!("{}/eddsa-session-token", env.table);
    let arn = create_secret_on(moto_endpoint(), &session, &eddsa_value(SESSION_SECRET)).await;
    let api = Subject::new(
        &env,
        &[("SESSION_TOKEN_ALG", "EdDSA"), ("SESSION_TOKEN_SECRET_ARN", &arn)],
    )
    .await;

    let created = api.call(post(SEED_BODY, &[("idempotency-key", "http-1")])).await;
    assert_eq!(created.status, 200, "{}", created.body);
    assert_eq!(created.header("content-type"), Some("application/json"));
    assert_eq!(created.header("cache-control"), Some("no-store"));
    assert_eq!(created.header("idempotent-replayed"), None);
    let data = &created.json()["data"];
    assert_eq!(keys(data), ["livenessSession", "biometricValidation", "token"]);
    assert_eq!(data["livenessSession"]["status"], "active");
    assert_eq!(data["biometricValidation"]["status"], "new");
    let header = data["token"].as_str().unwrap().split('.').next().unwrap();
    let header: Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, header).unwrap(),
    )
    .unwrap();
    assert_eq!(header["alg"], "EdDSA");

    let replay = api.call(post(SEED_BODY, &[("idempotency-key", "http-1")])).await;
    assert_eq!(replay.header("idempotent-replayed"), Some("true"));
    assert_eq!(replay.body, created.body, "the first answer, byte for byte");

    let no_token = event("POST", PATH, &[("content-type", "application/json")], Some(SEED_BODY));
    let r = api.call(no_token).await;
    r.assert_error(401, "InvalidCredentials", "No authorization token was found");
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));

    api.call(event("POST", "/v2/unknown", &[], Some(SEED_BODY)))
        .await
        .assert_error(404, "ResourceNotFound", "/v2/unknown does not exist");
    let auth = bearer();
    let wrong = api.call(event("GET", PATH, &[("authorization", &auth)], None)).await;
    wrong.assert_error(405, "MethodNotAllowed", "only POST is allowed on this path");
    assert_eq!(wrong.header("allow"), Some("POST"));

    let big = json!({"project": PROJECT, "projectFlow": LOGIN_FLOW, "identifier": "x".repeat(17_000), "type": "login"});
    api.call(post(&big.to_string(), &[])).await.assert_error(
        413,
        "PayloadTooLarge",
        "body must be at most 16384 bytes",
    );
    let text = event(
        "POST",
        PATH,
        &[("authorization", &auth), ("content-type", "text/plain")],
        Some(SEED_BODY),
    );
    api.call(text)
        .await
        .assert_error(415, "UnsupportedMediaType", "Content-Type must be application/json");

    let jwks = api.call(event("GET", "/.well-known/jwks.json", &[], None)).await;
    assert_eq!(jwks.status, 200, "{}", jwks.body);
    assert_eq!(jwks.header("cache-control"), Some("public, max-age=300"));
    let served = jwks.json();
    let key = &served["keys"][0];
    assert_eq!(
        (key["kty"].as_str(), key["crv"].as_str(), key["alg"].as_str()),
        (Some("OKP"), Some("Ed25519"), Some("EdDSA"))
    );
    assert_eq!(key["kid"], json!(current_version(&arn).await));
}
