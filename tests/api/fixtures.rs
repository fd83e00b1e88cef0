//! Every `events/*.json` fixture goes through the real handler; status and body are checked.
//! With `SUBJECT=sam-invoke` (make sam-test), through `sam local invoke` of the shipped
//! artifact instead, with the same expectations (helpers/subject.rs).

use crate::helpers::subject::Subject;
use crate::helpers::*;
use serde_json::{Value, json};

const SESSION_KEYS: [&str; 19] = [
    "client",
    "project",
    "projectFlow",
    "identifier",
    "status",
    "livenessResult",
    "comparisonResult",
    "generalInformation",
    "documentTypeFields",
    "location",
    "proFields",
    "studioFields",
    "promptFields",
    "expiresAt",
    "_id",
    "activatedAt",
    "updatedAt",
    "createdAt",
    "__v",
];
const VALIDATION_KEYS: [&str; 16] = [
    "client",
    "project",
    "projectFlow",
    "livenessSession",
    "status",
    "type",
    "url",
    "livenessScore",
    "assignedCollection",
    "collectionCode",
    "requires2FA",
    "_id",
    "updatedAt",
    "createdAt",
    "__v",
    "",
];

enum Expect {
    /// 200 with this type, flow, identifier, url route and extra validation keys.
    Created {
        kind: &'static str,
        flow: &'static str,
        identifier: &'static str,
        route: &'static str,
        language: Option<&'static str>,
    },
    Error(u16, &'static str, &'static str),
}

fn expectation(name: &str) -> Expect {
    use Expect::*;
    const NOT_FOUND: &str = "Project_not_found_or_featured_disabled";
    let login = Created {
        kind: "login",
        flow: LOGIN_FLOW,
        identifier: "03da12fba",
        route: "sign-in",
        language: None,
    };
    match name {
        "http-api-login.json" | "http-api-login-base64.json" | "rest-api-login.json" => login,
        "http-api-onboarding.json" => Created {
            kind: "onboarding",
            flow: ONBOARDING_FLOW,
            identifier: "new-user-77",
            route: "sign-up",
            language: Some("es"),
        },
        "http-api-named-stage.json" => Created {
            kind: "validation",
            flow: LOGIN_FLOW,
            identifier: "03da12fba",
            route: "stand-alone",
            language: None,
        },
        "http-api-missing-field.json" | "rest-api-missing-field.json" => {
            Error(409, "MissingParameter", "missing identifier")
        }
        "http-api-bad-type.json" | "rest-api-bad-type.json" => Error(
            409,
            "MissingParameter",
            "type must be one of: [validation,login,onboarding,oneTimeLink]",
        ),
        "http-api-type-mismatch.json" => Error(
            409,
            "InvalidArgument",
            "type onboarding does not match project flow type login",
        ),
        "http-api-unknown-project.json" => Error(404, NOT_FOUND, "404:Project_not_found_or_featured_disabled"),
        "http-api-no-token.json" | "rest-api-no-token.json" => {
            Error(401, "InvalidCredentials", "No authorization token was found")
        }
        "http-api-get.json" => Error(405, "MethodNotAllowed", "only POST is allowed on this path"),
        other => panic!("events/{other} has no expectation here: add one"),
    }
}

fn keys(v: &Value) -> Vec<&str> {
    v.as_object().expect("object").keys().map(String::as_str).collect()
}

#[tokio::test]
async fn every_fixture_through_the_handler() {
    let env = TestEnv::new().await;
    let subject = Subject::new(&env, &[]).await;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("events");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("events/")
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    assert!(names.len() >= 14, "fixtures: {names:?}");
    for name in &names {
        let event: Value = serde_json::from_str(&std::fs::read_to_string(dir.join(name)).unwrap()).unwrap();
        let reply = subject.call(event).await;
        match expectation(name) {
            Expect::Error(status, code, message) => {
                assert_eq!(
                    (reply.status, reply.json()),
                    (status, json!({"code": code, "message": message})),
                    "{name}"
                );
            }
            Expect::Created {
                kind,
                flow,
                identifier,
                route,
                language,
            } => {
                assert_eq!(reply.status, 200, "{name}: {}", reply.body);
                let body = reply.json();
                assert_eq!(keys(&body), ["data"], "{name}");
                let data = &body["data"];
                assert_eq!(
                    keys(data),
                    ["livenessSession", "biometricValidation", "token"],
                    "{name}"
                );
                let session = &data["livenessSession"];
                let validation = &data["biometricValidation"];
                assert_eq!(keys(session), SESSION_KEYS, "{name}");
                let mut want: Vec<&str> = VALIDATION_KEYS.iter().copied().filter(|k| !k.is_empty()).collect();
                if language.is_some() {
                    want.insert(11, "language");
                }
                assert_eq!(keys(validation), want, "{name}");
                assert_eq!(session["client"], CLIENT);
                assert_eq!(session["projectFlow"], flow, "{name}");
                assert_eq!(session["identifier"], identifier, "{name}");
                assert_eq!(validation["type"], kind, "{name}");
                assert_eq!(validation["livenessSession"], session["_id"], "{name}");
                assert_eq!(
                    validation["url"],
                    format!("https://app.verifik.co/{route}/{PROJECT}?type=liveness"),
                    "{name}"
                );
                assert_eq!(validation["collectionCode"], COLLECTION_CODE);
                assert_eq!(validation.get("language").and_then(Value::as_str), language, "{name}");
                assert_eq!(data["token"].as_str().unwrap().split('.').count(), 3);
                let sid = session["_id"].as_str().unwrap();
                assert_eq!(env.items(&format!("LIVENESS_SESSION#{sid}")).await.len(), 1, "{name}");
            }
        }
    }
}
