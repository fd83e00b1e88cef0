//! docs/openapi.yaml is true of the function: real 200 and error answers validate against it,
//! with the headers it promises, and every status the function can answer is documented.
//! With `SUBJECT=sam-api` (make sam-test) the real answers come from `sam local start-api`
//! of the shipped artifact (helpers/subject.rs); the panic's 500 and the 503, which need a
//! broken clock or a failing DynamoDB, are rendered in this process either way.

use std::sync::Arc;

use crate::helpers::subject::Subject;
use crate::helpers::*;
use biometric_validations::ApiError;
use biometric_validations::http::error_response;
use biometric_validations::http::steps::MAX_BODY_BYTES;
use biometric_validations::model::{Clock, RandomIds};
use serde_json::{Value, json};

fn spec() -> Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/openapi.yaml")).unwrap();
    serde_norway::from_str(&text).expect("openapi.yaml is YAML")
}

/// A validator for one of the spec's component schemas (refs resolved inside the spec).
fn validator(spec: &Value, name: &str) -> jsonschema::Validator {
    let doc = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$defs": spec["components"]["schemas"],
        "$ref": format!("#/$defs/{name}"),
    });
    let doc: Value = serde_json::from_str(&doc.to_string().replace("#/components/schemas/", "#/$defs/")).unwrap();
    jsonschema::validator_for(&doc).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn operation(spec: &Value) -> &Value {
    &spec["paths"]["/v2/biometric-validations"]["post"]
}

/// Validates a real answer against the documented response of its status.
fn check(spec: &Value, reply: &Reply) {
    check_on(operation(spec), spec, reply)
}

/// As `check`, against the documented responses of another operation.
fn check_on(operation: &Value, spec: &Value, reply: &Reply) {
    let documented = &operation["responses"][reply.status.to_string()];
    assert!(documented.is_object(), "status {} is not documented", reply.status);
    let schema_ref = documented["content"]["application/json"]["schema"]["$ref"]
        .as_str()
        .unwrap();
    let name = schema_ref.rsplit('/').next().unwrap();
    let body = reply.json();
    let v = validator(spec, name);
    let errors: Vec<String> = v
        .iter_errors(&body)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{} answer does not match {name}: {errors:?}\n{}",
        reply.status,
        reply.body
    );
    if let Some(headers) = documented["headers"].as_object() {
        for (header, h) in headers {
            if h["required"] == true {
                assert!(reply.header(header).is_some(), "{}: {header} missing", reply.status);
            }
        }
    }
}

#[tokio::test]
async fn real_answers_validate_against_openapi() {
    let spec = spec();
    let env = TestEnv::new().await;
    let subject = Subject::new(&env, &[]).await;
    let path = "/v2/biometric-validations";
    let auth = bearer();
    let a = ("authorization", auth.as_str());
    let expired = format!("Bearer {}", sign(&json!({"clientId": CLIENT, "exp": 1}), CLIENT_SECRET));
    let expires = (time::OffsetDateTime::now_utc() + time::Duration::minutes(10))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let full = json!({"project": PROJECT, "projectFlow": LOGIN_FLOW, "identifier": "x", "type": "validation",
        "redirectUrl": "https://example.com/cb", "requires2FA": true, "expiresAt": expires, "language": "es"})
    .to_string();
    let events = vec![
        post(SEED_BODY, &[]),
        post(&full, &[("idempotency-key", "openapi-1")]),
        post(&full, &[("idempotency-key", "openapi-1")]),
        post(SEED_BODY, &[("idempotency-key", "openapi-1")]),
        post("{", &[]),
        post("[]", &[]),
        post("{}", &[]),
        post(&SEED_BODY.replace("login", "onboarding"), &[]),
        post(&SEED_BODY.replace(PROJECT, "66df5bf5c4d855fb0bdf5dff"), &[]),
        event("POST", path, &[], Some(SEED_BODY)),
        event("POST", path, &[("authorization", &expired)], Some(SEED_BODY)),
        event("POST", path, &[("authorization", "Bearer x.y.z")], Some(SEED_BODY)),
        event("GET", path, &[a], None),
        event("POST", "/v2/elsewhere", &[a], None),
        event("POST", path, &[a, ("content-type", "text/plain")], Some(SEED_BODY)),
        event("POST", path, &[a], Some(&" ".repeat(16 * 1024 + 1))),
    ];
    let mut seen = std::collections::BTreeSet::new();
    for ev in events {
        let reply = subject.call(ev).await;
        seen.insert(reply.status);
        check(&spec, &reply);
    }
    // A panic's 500.
    struct Broken;
    impl Clock for Broken {
        fn now(&self) -> biometric_validations::model::Timestamp {
            panic!("broken clock")
        }
    }
    let broken = handler(
        &env.config(),
        env.store.client().clone(),
        Arc::new(Broken),
        Arc::new(RandomIds::new()),
    )
    .await;
    let reply = call(&broken, post(SEED_BODY, &[])).await;
    seen.insert(reply.status);
    check(&spec, &reply);
    // The 503 (produced for real by tests/faults.rs), as the function renders it.
    let reply = into_reply(error_response(&ApiError::ServiceUnavailable));
    seen.insert(reply.status);
    check(&spec, &reply);
    assert_eq!(
        seen.into_iter().collect::<Vec<_>>(),
        [200, 400, 401, 404, 405, 409, 413, 415, 500, 503]
    );
}

/// Every `ApiError` variant, one after the other. The match has no wildcard: a new
/// variant fails to compile here until it joins the chain, and so the test below.
fn next_variant(previous: Option<&ApiError>) -> Option<ApiError> {
    use biometric_validations::model::{FlowType, ValidationType};
    Some(match previous {
        None => ApiError::NoToken,
        Some(ApiError::NoToken) => ApiError::TokenExpired,
        Some(ApiError::TokenExpired) => ApiError::InvalidToken,
        Some(ApiError::InvalidToken) => ApiError::InvalidJson("x".into()),
        Some(ApiError::InvalidJson(_)) => ApiError::fields("x"),
        Some(ApiError::Fields(_)) => ApiError::IdempotencyKeyReused,
        Some(ApiError::IdempotencyKeyReused) => ApiError::ProjectNotFound,
        Some(ApiError::ProjectNotFound) => ApiError::TypeMismatch {
            requested: ValidationType::Login,
            flow: FlowType::Onboarding,
        },
        Some(ApiError::TypeMismatch { .. }) => ApiError::RedirectOriginNotAllowed,
        Some(ApiError::RedirectOriginNotAllowed) => ApiError::UnsupportedMediaType,
        Some(ApiError::UnsupportedMediaType) => ApiError::PayloadTooLarge { limit: MAX_BODY_BYTES },
        Some(ApiError::PayloadTooLarge { .. }) => ApiError::MethodNotAllowed { allow: "POST".into() },
        Some(ApiError::MethodNotAllowed { .. }) => ApiError::RouteNotFound("/x".into()),
        Some(ApiError::RouteNotFound(_)) => ApiError::ServiceUnavailable,
        Some(ApiError::ServiceUnavailable) => ApiError::Internal,
        Some(ApiError::Internal) => return None,
    })
}

#[test]
fn every_status_and_code_the_function_answers_is_documented() {
    let spec = spec();
    let responses = operation(&spec)["responses"].as_object().unwrap();
    let codes: Vec<&str> = spec["components"]["schemas"]["Error"]["properties"]["code"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let all = std::iter::successors(next_variant(None), |e| next_variant(Some(e)));
    for e in all {
        assert!(
            responses.contains_key(e.status().as_str()),
            "{e:?}: status {} undocumented",
            e.status()
        );
        assert!(codes.contains(&e.code()), "{e:?}: code {} undocumented", e.code());
        // Its body and headers as the function renders them.
        check(&spec, &into_reply(error_response(&e)));
    }
    assert!(spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer");
    let params = operation(&spec)["parameters"].as_array().unwrap();
    assert!(
        params
            .iter()
            .any(|p| p["name"] == "Idempotency-Key" && p["in"] == "header")
    );
}

#[tokio::test]
async fn the_public_keys_validate_against_openapi() {
    let spec = spec();
    let keys = &spec["paths"]["/.well-known/jwks.json"]["get"];
    let env = TestEnv::new().await;
    let get = || event("GET", "/.well-known/jwks.json", &[], None);
    // HS256 (the default): no public key.
    check_on(keys, &spec, &env.call(get()).await);
    let mut vars = env.vars();
    let session = format!("{}/eddsa-session-token", env.table);
    let arn = create_secret_on(moto_endpoint(), &session, &eddsa_value(SESSION_SECRET)).await;
    vars.insert("SESSION_TOKEN_ALG", "EdDSA".into());
    vars.insert("SESSION_TOKEN_SECRET_ARN", arn);
    let eddsa = handler(
        &config_of(&vars),
        local_client(moto_endpoint()),
        Arc::new(biometric_validations::model::SystemClock),
        Arc::new(RandomIds::new()),
    )
    .await;
    let reply = call(&eddsa, get()).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    check_on(keys, &spec, &reply);
    check_on(
        keys,
        &spec,
        &call(&eddsa, event("DELETE", "/.well-known/jwks.json", &[], None)).await,
    );
}

#[test]
fn the_request_schema_matches_the_validation_rules() {
    let spec = spec();
    let v = validator(&spec, "CreateRequest");
    let example = &operation(&spec)["requestBody"]["content"]["application/json"]["examples"]["seed"]["value"];
    assert!(v.is_valid(example));
    assert!(v.is_valid(&serde_json::from_str::<Value>(SEED_BODY).unwrap()));
    for bad in [
        json!({}),
        json!({"project": PROJECT, "projectFlow": LOGIN_FLOW, "identifier": "x", "type": "signup"}),
        json!({"project": PROJECT, "projectFlow": LOGIN_FLOW, "identifier": " \u{3000}", "type": "login"}),
        json!({"project": "nope", "projectFlow": LOGIN_FLOW, "identifier": "x", "type": "login"}),
        json!({"project": PROJECT, "projectFlow": LOGIN_FLOW, "identifier": "x", "type": "login", "webhookUrl": "https://x"}),
        json!({"project": PROJECT, "projectFlow": LOGIN_FLOW, "identifier": "x", "type": "login", "language": "fr"}),
    ] {
        assert!(!v.is_valid(&bad), "{bad}");
    }
    // The identifier and redirectUrl rules, as far as a schema can say them.
    let with = |identifier: &str, redirect: Option<&str>| json!({"project": PROJECT, "projectFlow": LOGIN_FLOW, "identifier": identifier, "type": "login", "redirectUrl": redirect});
    for ok in ["x", " \t ana \n\u{85}", "a b", "Ana María Ñúñez 李 \u{1f469}\u{1f4bb}"] {
        assert!(v.is_valid(&with(ok, None)), "{ok:?}");
    }
    for bad in [
        "a\u{0}b",
        "a\tb",
        "a\u{1b}[31m",
        "a\u{9f}",
        "\u{202e}ab",
        "a\u{2066}b",
        " \u{85} ",
        // Format characters (Cf).
        "\u{1f469}\u{200d}\u{1f4bb}",
        "a\u{200f}b",
        "\u{feff}ab",
        "ab\u{ad}",
    ] {
        assert!(!v.is_valid(&with(bad, None)), "{bad:?}");
    }
    for ok in [
        "https://a.example",
        "HTTP://localhost:3000/cb?x=1#y",
        "https://a.example/\u{e9}",
    ] {
        assert!(v.is_valid(&with("x", Some(ok))), "{ok}");
    }
    for bad in [
        "",
        "ftp://a.example",
        "https:///a.example",
        "https://u@a.example/",
        "https:a.example",
        "https:\\\\a",
    ] {
        assert!(!v.is_valid(&with("x", Some(bad))), "{bad}");
    }
}
