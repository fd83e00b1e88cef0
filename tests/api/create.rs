//! The endpoint through the real handler against a real moto server.

use std::sync::Arc;

use crate::helpers::*;
use biometric_validations::model::{FlowStatus, FlowType, Project, ProjectFlow};
use biometric_validations::token::SessionClaims;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};

fn decode_session_token(token: &str) -> SessionClaims {
    let mut v = Validation::new(Algorithm::HS256);
    v.set_audience(&["liveness"]);
    v.set_issuer(&["biometric-validations"]);
    v.validate_exp = false;
    jsonwebtoken::decode::<SessionClaims>(token, &DecodingKey::from_secret(SESSION_SECRET.as_bytes()), &v)
        .expect("the session token verifies with the session key")
        .claims
}

fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

#[tokio::test]
async fn seed_request_reproduces_the_seed_response() {
    let clock = Arc::new(FixedClock(ts("2024-09-12T17:26:26.954Z")));
    let ids = Arc::new(ScriptedIds::new(&[
        "66e3244269cd15b505d21063",
        "66e3244369cd15b505d21065",
    ]));
    // The documented local keys have no version, so the token's header is the seed's
    // (a key from Secrets Manager adds its `kid`: tests/keys.rs).
    let env = TestEnv::with_local_keys(clock, ids).await;
    let reply = env.call(post(SEED_BODY, &[])).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert_eq!(reply.header("idempotent-replayed"), None);
    let body = reply.json();
    let token = body["data"]["token"].as_str().unwrap().to_owned();
    let mut expected: Value = serde_json::from_str(
        r#"{"data": {
        "livenessSession": {
            "client": "613375a1eab2fe08527f81e2", "project": "66df5bf5c4d855fb0bdf5da2",
            "projectFlow": "66df5c22c4d855fb0bdf5da9", "identifier": "03da12fba", "status": "active",
            "livenessResult": [], "comparisonResult": [], "generalInformation": [], "documentTypeFields": [],
            "location": [], "proFields": [], "studioFields": [], "promptFields": [],
            "expiresAt": "2024-09-12T17:30:26.000Z", "_id": "66e3244269cd15b505d21063",
            "activatedAt": "2024-09-12T17:26:26.954Z", "updatedAt": "2024-09-12T17:26:26.954Z",
            "createdAt": "2024-09-12T17:26:26.954Z", "__v": 0 },
        "biometricValidation": {
            "client": "613375a1eab2fe08527f81e2", "project": "66df5bf5c4d855fb0bdf5da2",
            "projectFlow": "66df5c22c4d855fb0bdf5da9", "livenessSession": "66e3244269cd15b505d21063",
            "status": "new", "type": "login",
            "url": "https://app.verifik.co/sign-in/66df5bf5c4d855fb0bdf5da2?type=liveness",
            "livenessScore": 0, "assignedCollection": "66df5bf5c4d855fb0bdf5da4",
            "collectionCode": "d29fe454-3ecc-4f58-8666-4021ac575d9c", "requires2FA": false,
            "_id": "66e3244369cd15b505d21065", "updatedAt": "2024-09-12T17:26:26.954Z",
            "createdAt": "2024-09-12T17:26:26.954Z", "__v": 0 },
        "token": "" }}"#,
    )
    .unwrap();
    expected["data"]["token"] = json!(token);
    assert_eq!(body, expected);
    // The seed's key order, byte for byte.
    let order = |name: &str| reply.body.find(&format!("\"{name}\":{{")).unwrap();
    assert!(order("livenessSession") < order("biometricValidation"));
    assert!(
        reply
            .body
            .starts_with(r#"{"data":{"livenessSession":{"client":"613375a1eab2fe08527f81e2","project":"#)
    );
    assert!(
        reply
            .body
            .contains(r#""expiresAt":"2024-09-12T17:30:26.000Z","_id":"66e3244269cd15b505d21063","activatedAt":"#)
    );
    assert!(
        reply
            .body
            .contains(r#""requires2FA":false,"_id":"66e3244369cd15b505d21065","updatedAt":"#)
    );
    assert!(reply.body.ends_with(&format!(r#""__v":0}},"token":"{token}"}}}}"#)));

    let claims = decode_session_token(&token);
    assert_eq!(
        serde_json::to_value(&claims).unwrap(),
        json!({
            "sub": "66e3244269cd15b505d21063", "livenessSession": "66e3244269cd15b505d21063",
            "biometricValidation": "66e3244369cd15b505d21065", "client": CLIENT, "project": PROJECT,
            "projectFlow": LOGIN_FLOW, "type": "login", "iss": "biometric-validations", "aud": "liveness",
            "iat": 1726161986, "exp": 1726162226
        })
    );
    assert!(
        token.starts_with("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."),
        "header {{\"alg\",\"typ\"}} as in the seed"
    );
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!((header.alg, header.typ.as_deref()), (Algorithm::HS256, Some("JWT")));
    assert!(!token.contains("03da12fba"));

    let sessions = env.items("LIVENESS_SESSION#").await;
    let validations = env.items("BIOMETRIC_VALIDATION#").await;
    assert_eq!((sessions.len(), validations.len()), (1, 1));
    assert_eq!(s(&sessions[0], "ttl"), "1726162226");
    assert_eq!(s(&validations[0], "ttl"), "1726162226");
    assert_eq!(s(&sessions[0], "expiresAt"), "2024-09-12T17:30:26.000Z");
    assert_eq!(s(&sessions[0], "_id"), "66e3244269cd15b505d21063");
    assert_eq!(s(&validations[0], "identifier"), "03da12fba");
    assert_eq!(s(&validations[0], "livenessSession"), "66e3244269cd15b505d21063");
    assert!(
        matches!(sessions[0].get("livenessResult"), Some(aws_sdk_dynamodb::types::AttributeValue::L(l)) if l.is_empty())
    );
    assert!(matches!(
        validations[0].get("requires2FA"),
        Some(aws_sdk_dynamodb::types::AttributeValue::Bool(false))
    ));
    assert!(env.items("IDEMPOTENCY#").await.is_empty());
}

#[tokio::test]
async fn live_request_stores_both_items_with_ttl_equal_to_token_exp() {
    let env = TestEnv::new().await;
    let before = now_secs();
    let reply = env.call(post(SEED_BODY, &[])).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let body = reply.json();
    let session = &body["data"]["livenessSession"];
    let claims = decode_session_token(body["data"]["token"].as_str().unwrap());
    let expires_at = ts(session["expiresAt"].as_str().unwrap());
    let activated = ts(session["activatedAt"].as_str().unwrap());
    assert!(session["expiresAt"].as_str().unwrap().ends_with(".000Z"));
    assert_eq!(expires_at.unix_seconds(), activated.unix_seconds() + 240);
    assert!((before..=before + 2).contains(&activated.unix_seconds()));
    assert_eq!(claims.exp, expires_at.unix_seconds());
    assert_eq!(claims.iat, activated.unix_seconds());
    assert_eq!(claims.sub.to_string(), session["_id"].as_str().unwrap());
    let sid = session["_id"].as_str().unwrap();
    let vid = body["data"]["biometricValidation"]["_id"].as_str().unwrap();
    // Ids of one second differ in their random middle bytes; the counter (last 3 bytes)
    // shows the session's was made first.
    let counter = |id: &str| u32::from_str_radix(&id[18..], 16).unwrap();
    assert_eq!(
        counter(vid),
        (counter(sid) + 1) & 0x00ff_ffff,
        "session id is created first"
    );
    assert_ne!(sid[8..18], vid[8..18], "fresh random bytes per id");
    assert_eq!(&sid[..8], &format!("{:08x}", activated.unix_seconds()));
    for item in env
        .items("LIVENESS_SESSION#")
        .await
        .iter()
        .chain(env.items("BIOMETRIC_VALIDATION#").await.iter())
    {
        assert_eq!(s(item, "ttl"), claims.exp.to_string());
    }
    assert_eq!(
        s(&env.items(&format!("LIVENESS_SESSION#{sid}")).await[0], "sk"),
        "LIVENESS_SESSION"
    );
    assert_eq!(
        s(&env.items(&format!("BIOMETRIC_VALIDATION#{vid}")).await[0], "sk"),
        "BIOMETRIC_VALIDATION"
    );
}

#[tokio::test]
async fn optional_fields_and_flow_defaults() {
    let env = TestEnv::new().await;
    // A flow with defaults for requires2FA and redirectUrl.
    let mut flow = flow_of(
        PROJECT,
        "66df5c22c4d855fb0bdf5dab",
        FlowType::Onboarding,
        FlowStatus::Active,
    );
    flow.requires_2fa = true;
    flow.redirect_url = Some("https://flow.example/done".into());
    env.store.put_flow(&flow).await.unwrap();
    let base = r#""project":"66df5bf5c4d855fb0bdf5da2","projectFlow":"66df5c22c4d855fb0bdf5dab","identifier":"  ana@example.com  ""#;

    let reply = env.call(post(&format!(r#"{{{base},"type":"onboarding"}}"#), &[])).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let v = &reply.json()["data"]["biometricValidation"];
    assert_eq!(v["requires2FA"], true);
    assert_eq!(v["redirectUrl"], "https://flow.example/done");
    assert_eq!(v.get("language"), None);
    assert_eq!(
        v["url"],
        "https://app.verifik.co/sign-up/66df5bf5c4d855fb0bdf5da2?type=liveness"
    );
    assert_eq!(reply.json()["data"]["livenessSession"]["identifier"], "ana@example.com");
    let k = keys(v);
    let at = |key: &str| k.iter().position(|x| *x == key).unwrap();
    assert_eq!(
        (at("redirectUrl"), at("_id")),
        (at("requires2FA") + 1, at("requires2FA") + 2)
    );

    let expires = time::OffsetDateTime::now_utc() + time::Duration::seconds(600);
    let expires = expires.format(&time::format_description::well_known::Rfc3339).unwrap();
    let body = format!(
        r#"{{{base},"type":"oneTimeLink","requires2FA":false,"redirectUrl":"http://localhost:3000/cb","language":"es","expiresAt":"{expires}"}}"#
    );
    let reply = env.call(post(&body, &[])).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let data = &reply.json()["data"];
    let v = &data["biometricValidation"];
    assert_eq!(
        (
            v["requires2FA"].clone(),
            v["redirectUrl"].clone(),
            v["language"].clone()
        ),
        (json!(false), json!("http://localhost:3000/cb"), json!("es"))
    );
    assert_eq!(
        v["url"],
        "https://app.verifik.co/one-time-link/66df5bf5c4d855fb0bdf5da2?type=liveness"
    );
    let k = keys(v);
    let at = |key: &str| k.iter().position(|x| *x == key).unwrap();
    assert_eq!(
        (at("redirectUrl"), at("language"), at("_id")),
        (at("requires2FA") + 1, at("requires2FA") + 2, at("requires2FA") + 3)
    );
    let expires_at = ts(data["livenessSession"]["expiresAt"].as_str().unwrap());
    assert_eq!(expires_at.unix_seconds(), ts(&expires).unix_seconds());
    assert!(
        data["livenessSession"]["expiresAt"]
            .as_str()
            .unwrap()
            .ends_with(".000Z")
    );
    let claims = decode_session_token(data["token"].as_str().unwrap());
    assert_eq!(claims.exp, expires_at.unix_seconds());
    let sid = data["livenessSession"]["_id"].as_str().unwrap();
    assert_eq!(
        s(&env.items(&format!("LIVENESS_SESSION#{sid}")).await[0], "ttl"),
        claims.exp.to_string()
    );

    let reply = env.call(post(&format!(r#"{{{base},"type":"validation"}}"#), &[])).await;
    assert_eq!(
        reply.json()["data"]["biometricValidation"]["url"],
        "https://app.verifik.co/stand-alone/66df5bf5c4d855fb0bdf5da2?type=liveness"
    );
}

async fn assert_rejected_without_writes(env: &TestEnv, event: Value, status: u16, code: &str, message: &str) {
    let before = env.scan().await.len();
    env.call(event).await.assert_error(status, code, message);
    assert_eq!(env.scan().await.len(), before, "a rejected request wrote something");
}

#[tokio::test]
async fn authentication_errors() {
    let env = TestEnv::new().await;
    let path = "/v2/biometric-validations";
    let json_ct = ("content-type", "application/json");
    let no_token = event("POST", path, &[json_ct], Some(SEED_BODY));
    let reply = env.call(no_token.clone()).await;
    assert_eq!(reply.header("www-authenticate"), Some("Bearer"));
    assert_rejected_without_writes(
        &env,
        no_token,
        401,
        "InvalidCredentials",
        "No authorization token was found",
    )
    .await;

    let expired = format!(
        "Bearer {}",
        sign(&json!({"clientId": CLIENT, "exp": now_secs() - 60}), CLIENT_SECRET)
    );
    let reply = env
        .call(event(
            "POST",
            path,
            &[("authorization", &expired), json_ct],
            Some(SEED_BODY),
        ))
        .await;
    reply.assert_error(401, "Unauthorized", "The token has expired");
    assert_eq!(reply.header("www-authenticate"), Some("Bearer"));

    let wrong_secret = sign(
        &json!({"clientId": CLIENT, "exp": now_secs() + 60}),
        "another-secret-another-secret-another-secret",
    );
    let no_client = sign(&json!({"exp": now_secs() + 60}), CLIENT_SECRET);
    let bad_client = sign(&json!({"clientId": "me", "exp": now_secs() + 60}), CLIENT_SECRET);
    for token in [
        "garbage",
        "a.b.c",
        wrong_secret.as_str(),
        no_client.as_str(),
        bad_client.as_str(),
    ] {
        let auth = format!("Bearer {token}");
        assert_rejected_without_writes(
            &env,
            event("POST", path, &[("authorization", &auth), json_ct], Some(SEED_BODY)),
            401,
            "InvalidCredentials",
            "invalid token",
        )
        .await;
    }
    // Authentication comes before the body.
    env.call(event("POST", path, &[json_ct], Some("{not json")))
        .await
        .assert_error(401, "InvalidCredentials", "No authorization token was found");
    // A bare token and a lower-case scheme are accepted.
    for auth in [token_for(CLIENT), format!("bearer {}", token_for(CLIENT))] {
        let reply = env
            .call(event(
                "POST",
                path,
                &[("authorization", &auth), json_ct],
                Some(SEED_BODY),
            ))
            .await;
        assert_eq!(reply.status, 200, "{}", reply.body);
    }
}

#[tokio::test]
async fn request_errors_in_check_order() {
    let env = TestEnv::new().await;
    let auth = bearer();
    let a = ("authorization", auth.as_str());
    let path = "/v2/biometric-validations";

    let reply = env.call(event("POST", "/v2/other", &[a], Some(SEED_BODY))).await;
    reply.assert_error(404, "ResourceNotFound", "/v2/other does not exist");
    let reply = env.call(event("GET", path, &[a], None)).await;
    reply.assert_error(405, "MethodNotAllowed", "only POST is allowed on this path");
    assert_eq!(reply.header("allow"), Some("POST"));
    // 405 comes before 401, 404 before 405.
    env.call(event("DELETE", path, &[], None)).await.assert_error(
        405,
        "MethodNotAllowed",
        "only POST is allowed on this path",
    );
    env.call(event("GET", "/nope", &[], None))
        .await
        .assert_error(404, "ResourceNotFound", "/nope does not exist");

    let big = format!(r#"{{"identifier":"{}"}}"#, "x".repeat(16 * 1024));
    assert_rejected_without_writes(
        &env,
        event("POST", path, &[], Some(&big)),
        413,
        "PayloadTooLarge",
        "body must be at most 16384 bytes",
    )
    .await;
    for ct in ["text/plain", "application/x-www-form-urlencoded"] {
        assert_rejected_without_writes(
            &env,
            event("POST", path, &[a, ("content-type", ct)], Some(SEED_BODY)),
            415,
            "UnsupportedMediaType",
            "Content-Type must be application/json",
        )
        .await;
    }
    // No Content-Type is fine; +json and parameters too.
    for extra in [
        vec![a],
        vec![a, ("content-type", "application/vnd.api+json; charset=utf-8")],
    ] {
        assert_eq!(env.call(event("POST", path, &extra, Some(SEED_BODY))).await.status, 200);
    }
    let reply = env.call(post("{\"project\":", &[])).await;
    assert_eq!(
        (reply.status, reply.json()["code"].as_str()),
        (400, Some("InvalidContent"))
    );
    assert!(
        reply.json()["message"].as_str().unwrap().starts_with("Invalid JSON"),
        "{}",
        reply.body
    );
    let reply = env.call(event("POST", path, &[a], None)).await;
    reply.assert_error(400, "InvalidContent", "Invalid JSON: the body is empty");

    let cases: &[(&str, &str)] = &[
        ("[1,2]", "body must be an object"),
        (
            "{}",
            "missing project. missing projectFlow. missing identifier. missing type",
        ),
        (
            r#"{"project":"66df5bf5c4d855fb0bdf5da2","projectFlow":"66df5c22c4d855fb0bdf5da9","identifier":"03da12fba","type":"signup"}"#,
            "type must be one of: [validation,login,onboarding,oneTimeLink]",
        ),
        (
            r#"{"project":"66df5bf5c4d855fb0bdf5da","projectFlow":7,"identifier":" ","type":"login","webhookUrl":"https://x.example"}"#,
            "project must be a valid id. projectFlow must be a string. missing identifier. webhookUrl is not allowed",
        ),
        (
            r#"{"project":"66df5bf5c4d855fb0bdf5da2","projectFlow":"66df5c22c4d855fb0bdf5da9","identifier":"x","type":"login","requires2FA":"true","expiresAt":"2020-01-01T00:00:00Z","redirectUrl":"http://evil.example","language":"de"}"#,
            "redirectUrl must be an absolute https:// URL (http:// only for localhost, 127.0.0.1, [::1]). requires2FA must be a boolean. \
             expiresAt must be between 60 seconds and 1 hour from now. language must be one of: [en,es]",
        ),
    ];
    for (body, message) in cases {
        assert_rejected_without_writes(&env, post(body, &[]), 409, "MissingParameter", message).await;
    }
    // The Idempotency-Key rule is a field error, reported with the body's.
    let long_key = "k".repeat(256);
    for key in ["", "with space", long_key.as_str()] {
        assert_rejected_without_writes(
            &env,
            post(SEED_BODY, &[("idempotency-key", key)]),
            409,
            "MissingParameter",
            "Idempotency-Key must be 1 to 255 visible ASCII characters",
        )
        .await;
    }
    assert_rejected_without_writes(&env, post("{}", &[("idempotency-key", "a b")]), 409, "MissingParameter", "missing project. missing projectFlow. missing identifier. missing type. Idempotency-Key must be 1 to 255 visible ASCII characters").await;
}

#[tokio::test]
async fn stage_prefixes_are_the_same_route() {
    let env = TestEnv::new().await;
    let mut ev = post(SEED_BODY, &[]);
    ev["rawPath"] = json!("/prod/v2/biometric-validations");
    ev["requestContext"]["stage"] = json!("prod");
    assert_eq!(env.call(ev.clone()).await.status, 200);
    // A REST API event: the path has no stage, whatever the stage is called (even `v2`).
    let mut rest: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/events/rest-api-login.json")).unwrap(),
    )
    .unwrap();
    rest["requestContext"]["stage"] = json!("v2");
    rest["headers"]["Authorization"] = json!(bearer());
    rest["multiValueHeaders"]["Authorization"] = json!([bearer()]);
    let reply = env.call(rest).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    // Another prefix than the stage is another path.
    ev["rawPath"] = json!("/dev/v2/biometric-validations");
    env.call(ev)
        .await
        .assert_error(404, "ResourceNotFound", "/dev/v2/biometric-validations does not exist");
}

#[tokio::test]
async fn base64_bodies_are_decoded_and_measured_after_decoding() {
    use base64::Engine;
    let env = TestEnv::new().await;
    let enc = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let mut ev = post(&enc(SEED_BODY), &[]);
    ev["isBase64Encoded"] = json!(true);
    assert_eq!(env.call(ev.clone()).await.status, 200);
    // 16 KiB of JSON (padded with spaces) encodes to more than 16 KiB: still accepted.
    let body = format!("{SEED_BODY}{}", " ".repeat(16 * 1024 - SEED_BODY.len()));
    assert_eq!(body.len(), 16 * 1024);
    ev["body"] = json!(enc(&body));
    let reply = env.call(ev.clone()).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    ev["body"] = json!(enc(&format!("{body} ")));
    env.call(ev)
        .await
        .assert_error(413, "PayloadTooLarge", "body must be at most 16384 bytes");
}

#[tokio::test]
async fn projects_and_flows_that_cannot_be_used() {
    let env = TestEnv::new().await;
    // Another client's project, with an active flow.
    let other_project = "66df5bf5c4d855fb0bdf5db0";
    env.store
        .put_project(&project_of(other_project, OTHER_CLIENT))
        .await
        .unwrap();
    let other_flow = "66df5c22c4d855fb0bdf5db1";
    env.store
        .put_flow(&flow_of(other_project, other_flow, FlowType::Login, FlowStatus::Active))
        .await
        .unwrap();
    // A project without a collection, a paused flow, a draft flow, a flow with liveness off.
    let bare = "66df5bf5c4d855fb0bdf5db2";
    env.store
        .put_project(&Project {
            id: id(bare),
            client: id(CLIENT),
            name: "bare".into(),
            assigned_collection: None,
            collection_code: None,
            redirect_origins: vec![],
        })
        .await
        .unwrap();
    env.store
        .put_flow(&flow_of(
            bare,
            "66df5c22c4d855fb0bdf5db3",
            FlowType::Login,
            FlowStatus::Active,
        ))
        .await
        .unwrap();
    env.store
        .put_flow(&flow_of(
            PROJECT,
            "66df5c22c4d855fb0bdf5db4",
            FlowType::Login,
            FlowStatus::Paused,
        ))
        .await
        .unwrap();
    env.store
        .put_flow(&flow_of(
            PROJECT,
            "66df5c22c4d855fb0bdf5db5",
            FlowType::Login,
            FlowStatus::Draft,
        ))
        .await
        .unwrap();
    env.store
        .put_flow(&ProjectFlow {
            face_liveness: false,
            ..flow_of(PROJECT, "66df5c22c4d855fb0bdf5db6", FlowType::Login, FlowStatus::Active)
        })
        .await
        .unwrap();

    // Flows written by something else, with values this version does not know.
    for (flow, kind, status) in [
        ("66df5c22c4d855fb0bdf5db7", "login", "archived"),
        ("66df5c22c4d855fb0bdf5db8", "kyc", "active"),
    ] {
        let biometric_validations::store::keys::Key { pk, sk } =
            biometric_validations::store::keys::flow(id(PROJECT), id(flow));
        let item = [
            ("pk", pk),
            ("sk", sk),
            ("_id", flow.to_owned()),
            ("project", PROJECT.to_owned()),
            ("type", kind.to_owned()),
            ("status", status.to_owned()),
        ];
        env.store
            .client()
            .put_item()
            .table_name(&env.table)
            .set_item(Some(
                item.into_iter()
                    .map(|(k, v)| (k.to_owned(), aws_sdk_dynamodb::types::AttributeValue::S(v)))
                    .collect(),
            ))
            .send()
            .await
            .unwrap();
    }
    let body = |project: &str, flow: &str, kind: &str| {
        format!(r#"{{"project":"{project}","projectFlow":"{flow}","identifier":"u1","type":"{kind}"}}"#)
    };
    let not_found = [
        (other_project, other_flow),              // another client's project
        (PROJECT, other_flow),                    // a flow of another project
        ("66df5bf5c4d855fb0bdf5dff", LOGIN_FLOW), // no such project
        (PROJECT, "66df5c22c4d855fb0bdf5dff"),    // no such flow
        (bare, "66df5c22c4d855fb0bdf5db3"),       // project without collection
        (PROJECT, "66df5c22c4d855fb0bdf5db4"),    // paused
        (PROJECT, "66df5c22c4d855fb0bdf5db5"),    // draft
        (PROJECT, "66df5c22c4d855fb0bdf5db6"),    // liveness off
        (PROJECT, "66df5c22c4d855fb0bdf5db7"),    // unknown status
        (PROJECT, "66df5c22c4d855fb0bdf5db8"),    // unknown type
    ];
    for (project, flow) in not_found {
        assert_rejected_without_writes(
            &env,
            post(&body(project, flow, "login"), &[]),
            404,
            "Project_not_found_or_featured_disabled",
            "404:Project_not_found_or_featured_disabled",
        )
        .await;
    }
    assert_rejected_without_writes(
        &env,
        post(&body(PROJECT, ONBOARDING_FLOW, "login"), &[]),
        409,
        "InvalidArgument",
        "type login does not match project flow type onboarding",
    )
    .await;
    assert_rejected_without_writes(
        &env,
        post(&body(PROJECT, LOGIN_FLOW, "onboarding"), &[]),
        409,
        "InvalidArgument",
        "type onboarding does not match project flow type login",
    )
    .await;
    // Upper-case ids name the same project and are stored lower-case.
    let reply = env
        .call(post(&body(&PROJECT.to_uppercase(), LOGIN_FLOW, "login"), &[]))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["data"]["livenessSession"]["project"], PROJECT);
}

#[tokio::test]
async fn a_transaction_that_cannot_commit_leaves_no_new_item() {
    let taken = "66e3244369cd15b505d21065";
    let clock = Arc::new(biometric_validations::model::SystemClock);
    // First request takes the validation id; the second draws a fresh session id but the
    // same validation id, so its transaction must fail as a whole.
    let ids = Arc::new(ScriptedIds::new(&[
        "66e3244269cd15b505d21063",
        taken,
        "66e3244269cd15b505d21070",
        taken,
    ]));
    let env = TestEnv::with_parts(clock, ids).await;
    assert_eq!(env.call(post(SEED_BODY, &[])).await.status, 200);
    let before = env.scan().await;
    env.call(post(SEED_BODY, &[]))
        .await
        .assert_error(500, "InternalServer", "500:internal_error");
    let after = env.scan().await;
    assert_eq!(after.len(), before.len());
    assert!(
        env.items("LIVENESS_SESSION#66e3244269cd15b505d21070").await.is_empty(),
        "half a write"
    );
    // The same with an idempotency key: neither the pair nor the record is written.
    let ids = Arc::new(ScriptedIds::new(&[
        "66e3244269cd15b505d21063",
        taken,
        "66e3244269cd15b505d21071",
        taken,
    ]));
    let env = TestEnv::with_parts(Arc::new(biometric_validations::model::SystemClock), ids).await;
    assert_eq!(env.call(post(SEED_BODY, &[])).await.status, 200);
    env.call(post(SEED_BODY, &[("idempotency-key", "k-1")]))
        .await
        .assert_error(500, "InternalServer", "500:internal_error");
    assert!(env.items("LIVENESS_SESSION#66e3244269cd15b505d21071").await.is_empty());
    assert!(env.items("IDEMPOTENCY#").await.is_empty());
}

#[tokio::test]
async fn idempotent_replay_is_byte_identical() {
    let env = TestEnv::new().await;
    let first = env.call(post(SEED_BODY, &[("idempotency-key", "order-42")])).await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.header("idempotent-replayed"), None);
    // The same validated body, written differently.
    let same = r#"{ "type": "login", "identifier": " 03da12fba ", "projectFlow": "66DF5C22C4D855FB0BDF5DA9", "project": "66df5bf5c4d855fb0bdf5da2", "language": null }"#;
    for body in [SEED_BODY, same] {
        let again = env.call(post(body, &[("idempotency-key", "order-42")])).await;
        assert_eq!(again.status, 200);
        assert_eq!(again.body, first.body, "byte for byte");
        assert_eq!(again.header("idempotent-replayed"), Some("true"));
    }
    assert_eq!(env.items("LIVENESS_SESSION#").await.len(), 1);
    assert_eq!(env.items("BIOMETRIC_VALIDATION#").await.len(), 1);
    let records = env.items("IDEMPOTENCY#").await;
    assert_eq!(records.len(), 1);
    assert!(!s(&records[0], "pk").contains("order-42"), "the key is stored hashed");
    let token = first.json()["data"]["token"].as_str().unwrap().to_owned();
    assert!(
        !records[0].values().any(|v| format!("{v:?}").contains(&token)),
        "no token at rest"
    );
    assert_eq!(s(&records[0], "ttl"), decode_session_token(&token).exp.to_string());
    // The record names the pair and holds it as the first answer gave it.
    let mut attributes: Vec<&str> = records[0].keys().map(String::as_str).collect();
    attributes.sort_unstable();
    assert_eq!(
        attributes,
        [
            "biometricValidation",
            "expiresAt",
            "firstAnswer",
            "livenessSession",
            "pk",
            "requestHash",
            "sk",
            "ttl"
        ]
    );

    // Another body with the same key.
    let other = SEED_BODY.replace("03da12fba", "someone-else");
    assert_rejected_without_writes(
        &env,
        post(&other, &[("idempotency-key", "order-42")]),
        409,
        "idempotency_key_reused",
        "409:idempotency_key_reused",
    )
    .await;
    // Keys are per client: another client's same key replays nothing (and the project
    // is not theirs).
    let other_auth = format!("Bearer {}", token_for(OTHER_CLIENT));
    let mut ev = post(SEED_BODY, &[("idempotency-key", "order-42")]);
    ev["headers"]["authorization"] = json!(other_auth);
    env.call(ev).await.assert_error(
        404,
        "Project_not_found_or_featured_disabled",
        "404:Project_not_found_or_featured_disabled",
    );
    // A new key is a new pair.
    let reply = env.call(post(SEED_BODY, &[("idempotency-key", "order-43")])).await;
    assert_ne!(
        reply.json()["data"]["livenessSession"]["_id"],
        first.json()["data"]["livenessSession"]["_id"]
    );
}

/// Sets `status` (and a result) on a stored item, as the liveness service does.
async fn moved_on(env: &TestEnv, pk: &str, sk: &str, status: &str) {
    use aws_sdk_dynamodb::types::AttributeValue::{L, S};
    env.store
        .client()
        .update_item()
        .table_name(&env.table)
        .key("pk", S(pk.to_owned()))
        .key("sk", S(sk.to_owned()))
        .update_expression("SET #status = :status, livenessResult = :result")
        .expression_attribute_names("#status", "status")
        .expression_attribute_values(":status", S(status.to_owned()))
        .expression_attribute_values(":result", L(vec![S("passed".to_owned())]))
        .send()
        .await
        .expect("update the item");
}

#[tokio::test]
async fn a_replay_is_the_first_answer_whatever_happened_to_the_items_since() {
    let env = TestEnv::new().await;
    let first = env.call(post(SEED_BODY, &[("idempotency-key", "k-moved")])).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let data = &first.json()["data"];
    let (sid, vid) = (
        data["livenessSession"]["_id"].as_str().unwrap().to_owned(),
        data["biometricValidation"]["_id"].as_str().unwrap().to_owned(),
    );
    moved_on(
        &env,
        &format!("LIVENESS_SESSION#{sid}"),
        "LIVENESS_SESSION",
        "completed",
    )
    .await;
    moved_on(
        &env,
        &format!("BIOMETRIC_VALIDATION#{vid}"),
        "BIOMETRIC_VALIDATION",
        "completed",
    )
    .await;
    let again = env.call(post(SEED_BODY, &[("idempotency-key", "k-moved")])).await;
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.body, first.body, "the state at creation, byte for byte");
}

#[tokio::test]
async fn a_record_of_an_earlier_version_is_replayed_from_the_items() {
    let env = TestEnv::new().await;
    let first = env.call(post(SEED_BODY, &[("idempotency-key", "k-old")])).await;
    assert_eq!(first.status, 200, "{}", first.body);
    env.forget_first_answer().await;
    let again = env.call(post(SEED_BODY, &[("idempotency-key", "k-old")])).await;
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(again.body, first.body);
}

#[tokio::test]
async fn an_expired_idempotency_record_is_replaced() {
    let start = ts("2024-09-12T17:26:26.954Z");
    let env = TestEnv::with_parts(
        Arc::new(FixedClock(start)),
        Arc::new(biometric_validations::model::RandomIds::new()),
    )
    .await;
    let first = env.call(post(SEED_BODY, &[("idempotency-key", "k")])).await;
    assert_eq!(first.status, 200);
    // Same table, a clock past the first response's expiresAt.
    let later = handler(
        &env.config(),
        env.store.client().clone(),
        Arc::new(FixedClock(start.plus_seconds(241))),
        Arc::new(biometric_validations::model::RandomIds::new()),
    )
    .await;
    let second = call(&later, post(SEED_BODY, &[("idempotency-key", "k")])).await;
    assert_eq!(second.status, 200, "{}", second.body);
    assert_eq!(second.header("idempotent-replayed"), None);
    assert_ne!(
        second.json()["data"]["livenessSession"]["_id"],
        first.json()["data"]["livenessSession"]["_id"]
    );
    assert_eq!(env.items("LIVENESS_SESSION#").await.len(), 2);
    assert_eq!(env.items("IDEMPOTENCY#").await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_requests_with_one_key_create_one_pair() {
    let env = TestEnv::new().await;
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let app = Arc::clone(&env.app);
            tokio::spawn(async move { call(&app, post(SEED_BODY, &[("idempotency-key", "same-key")])).await })
        })
        .collect();
    let mut bodies = Vec::new();
    for t in tasks {
        let reply = t.await.unwrap();
        assert_eq!(reply.status, 200, "{}", reply.body);
        bodies.push(reply.body);
    }
    assert!(bodies.iter().all(|b| *b == bodies[0]), "every caller gets the one pair");
    assert_eq!(env.items("LIVENESS_SESSION#").await.len(), 1);
    assert_eq!(env.items("BIOMETRIC_VALIDATION#").await.len(), 1);
    assert_eq!(env.items("IDEMPOTENCY#").await.len(), 1);
}

#[tokio::test]
async fn a_panic_while_handling_becomes_a_500_and_the_next_request_is_served() {
    struct PanickingClock;
    impl biometric_validations::model::Clock for PanickingClock {
        fn now(&self) -> biometric_validations::model::Timestamp {
            panic!("boom")
        }
    }
    let env = TestEnv::new().await;
    let broken = handler(
        &env.config(),
        env.store.client().clone(),
        Arc::new(PanickingClock),
        Arc::new(biometric_validations::model::RandomIds::new()),
    )
    .await;
    call(&broken, post(SEED_BODY, &[]))
        .await
        .assert_error(500, "InternalServer", "500:internal_error");
    // The same instance keeps answering: the panic is caught per request.
    call(&broken, post(SEED_BODY, &[]))
        .await
        .assert_error(500, "InternalServer", "500:internal_error");
    assert_eq!(env.call(post(SEED_BODY, &[])).await.status, 200);
}
