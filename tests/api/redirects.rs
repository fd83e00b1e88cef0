//! Redirects only where the project allows (CONTRACT §1, §3, §5), against moto through
//! the real SDK: a project's `redirectOrigins` against the request's `redirectUrl`, else
//! the flow's; ownership and the type match first; the WHATWG serialization answered and
//! stored; the admin CLI's `--redirect-origin` and `--redirect-url`.

use crate::helpers::*;
use biometric_validations::model::{FlowStatus, FlowType, Project, ProjectFlow};
use biometric_validations::store::Store;
use serde_json::{Value, json};

const DENIED: &str = "redirectUrl origin is not allowed for this project";
const NOT_FOUND: &str = "404:Project_not_found_or_featured_disabled";

fn body(flow: &str, kind: &str, redirect: Option<&str>) -> String {
    let mut b = json!({"project": PROJECT, "projectFlow": flow, "identifier": "03da12fba", "type": kind});
    if let Some(url) = redirect {
        b["redirectUrl"] = json!(url);
    }
    b.to_string()
}

async fn allow_origins(env: &TestEnv, origins: &[&str]) {
    let project = Project {
        redirect_origins: origins.iter().map(|o| (*o).to_owned()).collect(),
        ..project_of(PROJECT, CLIENT)
    };
    env.store.put_project(&project).await.unwrap();
}

async fn put_flow(env: &TestEnv, flow: &str, kind: FlowType, redirect: Option<&str>) {
    let flow = ProjectFlow {
        redirect_url: redirect.map(str::to_owned),
        ..flow_of(PROJECT, flow, kind, FlowStatus::Active)
    };
    env.store.put_flow(&flow).await.unwrap();
}

/// Refused with `code`/`message`, writing nothing.
async fn refused(env: &TestEnv, event: Value, status: u16, code: &str, message: &str) {
    let before = env.scan().await.len();
    env.call(event).await.assert_error(status, code, message);
    assert_eq!(env.scan().await.len(), before, "a refused request wrote something");
}

/// A 200's `redirectUrl`, as answered and as stored in the validation item.
async fn accepted(env: &TestEnv, body: &str) -> (Option<String>, Option<String>) {
    let reply = env.call(post(body, &[])).await;
    assert_eq!(reply.status, 200, "{body}: {}", reply.body);
    let v = &reply.json()["data"]["biometricValidation"];
    let items = env
        .items(&format!("BIOMETRIC_VALIDATION#{}", v["_id"].as_str().unwrap()))
        .await;
    let stored = items[0].get("redirectUrl").map(|a| a.as_s().unwrap().clone());
    (v["redirectUrl"].as_str().map(str::to_owned), stored)
}

fn both(url: &str) -> (Option<String>, Option<String>) {
    (Some(url.to_owned()), Some(url.to_owned()))
}

#[tokio::test]
async fn without_origins_any_allowed_url_is_kept_in_its_serialization() {
    let env = TestEnv::new().await;
    let sent = "HTTPS://Anywhere.Example:443/done?x=\u{e9}#top";
    let kept = "https://anywhere.example/done?x=%C3%A9#top";
    assert_eq!(accepted(&env, &body(LOGIN_FLOW, "login", Some(sent))).await, both(kept));
    let bad = body(LOGIN_FLOW, "login", Some("https:///anywhere.example"));
    let message = "redirectUrl host must be an ASCII DNS name, a dotted-quad IPv4 address or [::1]";
    refused(&env, post(&bad, &[]), 409, "MissingParameter", message).await;
}

#[tokio::test]
async fn the_requests_url_must_have_one_of_the_projects_origins() {
    // (Origins are set before the first request: a warm instance reuses an accepted
    // project for up to PROJECT_CACHE_SECONDS, narrower origins included.)
    let env = TestEnv::new().await;
    allow_origins(&env, &["https://app.example", "http://localhost:3000"]).await;
    for (sent, kept) in [
        ("https://app.example/done", "https://app.example/done"),
        (
            "HTTPS://App.Example:443/done?x=\u{e9}",
            "https://app.example/done?x=%C3%A9",
        ),
        ("http://LOCALHOST:3000", "http://localhost:3000/"),
    ] {
        assert_eq!(accepted(&env, &body(LOGIN_FLOW, "login", Some(sent))).await, both(kept));
    }
    for url in [
        "https://anywhere.example/done",
        "https://app.example:8443/done",
        "https://sub.app.example/done",
        "http://localhost:3001/",
        "http://127.0.0.1:3000/",
    ] {
        let event = post(&body(LOGIN_FLOW, "login", Some(url)), &[]);
        refused(&env, event, 409, "InvalidArgument", DENIED).await;
    }
    // No redirectUrl at all (the seed's flow has none): nothing to check.
    assert_eq!(accepted(&env, SEED_BODY).await, (None, None));
}

#[tokio::test]
async fn the_flows_url_is_held_to_the_origins_too() {
    let env = TestEnv::new().await;
    let (outside, inside, broken) = (
        "66df5c22c4d855fb0bdf5db1",
        "66df5c22c4d855fb0bdf5db2",
        "66df5c22c4d855fb0bdf5db3",
    );
    put_flow(&env, outside, FlowType::Login, Some("https://elsewhere.example/x")).await;
    // As another tool might have written it: answered in its serialization anyway.
    put_flow(&env, inside, FlowType::Login, Some("HTTPS://App.Example/welcome")).await;
    put_flow(&env, broken, FlowType::Login, Some("http://elsewhere.example/")).await;
    allow_origins(&env, &["https://app.example"]).await;

    refused(
        &env,
        post(&body(outside, "login", None), &[]),
        409,
        "InvalidArgument",
        DENIED,
    )
    .await;
    // The request's URL overrides the flow's, for the check as for the answer.
    let mine = body(outside, "login", Some("https://app.example/mine"));
    assert_eq!(accepted(&env, &mine).await, both("https://app.example/mine"));
    let elsewhere = body(inside, "login", Some("https://elsewhere.example/x"));
    refused(&env, post(&elsewhere, &[]), 409, "InvalidArgument", DENIED).await;
    assert_eq!(
        accepted(&env, &body(inside, "login", None)).await,
        both("https://app.example/welcome")
    );
    // A stored flow URL that breaks the field rule makes the flow unusable, URL sent or not.
    for sent in [None, Some("https://app.example/mine")] {
        refused(
            &env,
            post(&body(broken, "login", sent), &[]),
            404,
            "Project_not_found_or_featured_disabled",
            NOT_FOUND,
        )
        .await;
    }
}

#[tokio::test]
async fn ownership_then_type_come_before_the_origin() {
    let env = TestEnv::new().await;
    allow_origins(&env, &["https://app.example"]).await;
    let evil = body(LOGIN_FLOW, "login", Some("https://evil.example/"));
    // Another client gets the 404 of a project that does not exist, byte for byte.
    let as_other = |body: &str| {
        let auth = format!("Bearer {}", token_for(OTHER_CLIENT));
        let headers = [("authorization", auth.as_str()), ("content-type", "application/json")];
        event("POST", "/v2/biometric-validations", &headers, Some(body))
    };
    let theirs = env.call(as_other(&evil)).await;
    let missing = env
        .call(as_other(&evil.replace(PROJECT, "66df5bf5c4d855fb0bdf5dff")))
        .await;
    assert_eq!((theirs.status, &theirs.body), (missing.status, &missing.body));
    refused(
        &env,
        as_other(&evil),
        404,
        "Project_not_found_or_featured_disabled",
        NOT_FOUND,
    )
    .await;
    // The owner, with the wrong type and a refused origin, hears of the type first.
    let onboarding = body(LOGIN_FLOW, "onboarding", Some("https://evil.example/"));
    let message = "type onboarding does not match project flow type login";
    refused(&env, post(&onboarding, &[]), 409, "InvalidArgument", message).await;
    refused(&env, post(&evil, &[]), 409, "InvalidArgument", DENIED).await;
}

#[tokio::test]
async fn an_added_origin_is_accepted_at_once() {
    // A warm instance reuses pairs that passed the rules; a refusal is always read again.
    let env = TestEnv::new().await;
    allow_origins(&env, &["https://app.example"]).await;
    assert!(accepted(&env, SEED_BODY).await.0.is_none()); // the pair is now cached
    let other = body(LOGIN_FLOW, "login", Some("https://other.example/cb"));
    refused(&env, post(&other, &[]), 409, "InvalidArgument", DENIED).await;
    allow_origins(&env, &["https://app.example", "https://other.example"]).await;
    assert_eq!(accepted(&env, &other).await, both("https://other.example/cb"));
}

fn refused_by_admin(table: &str, args: &[&str], says: &str) {
    let out = admin(table, args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains(says), "{args:?}: {stderr}");
}

#[tokio::test]
async fn the_admin_cli_checks_and_normalises_origins_and_flow_urls() {
    let env = TestEnv::new().await;
    let project = ["put-project", "--client-id", CLIENT, "--id", PROJECT];
    let with = |extra: &[&'static str]| [&project[..], extra].concat();
    stdout(&admin(
        &env.table,
        &with(&[
            "--redirect-origin",
            "HTTPS://App.Example:443",
            "--redirect-origin",
            "http://localhost:3000",
            "--redirect-origin",
            "https://app.example",
        ]),
    ));
    let stored = env.store.project(id(PROJECT)).await.unwrap().unwrap();
    assert_eq!(
        stored.redirect_origins,
        ["https://app.example", "http://localhost:3000"]
    );

    for (origin, says) in [
        ("https://app.example/", "must be an origin"),
        ("https://app.example/cb", "must be an origin"),
        ("https://app.example?x", "must be an origin"),
        ("http://app.example", "must be an absolute https:// URL"),
        ("https://u@app.example", "must not carry credentials"),
        ("https://%61pp.example", "host must be an ASCII DNS name"),
    ] {
        refused_by_admin(&env.table, &with(&["--redirect-origin", origin]), says);
    }
    let stored_after = env.store.project(id(PROJECT)).await.unwrap().unwrap();
    assert_eq!(stored_after, stored, "a refused put-project wrote nothing");

    let flow = ["put-flow", "--project-id", PROJECT, "--type", "login", "--redirect-url"];
    refused_by_admin(
        &env.table,
        &[&flow[..], &["https:///app.example"]].concat(),
        "host must be",
    );
    let flow_id = stdout(&admin(
        &env.table,
        &[&flow[..], &["HTTPS://App.Example/Welcome?x=\u{e9}"]].concat(),
    ));
    let loaded = Store::new(local_client(moto_endpoint()), env.table.clone())
        .load(id(CLIENT), id(PROJECT), id(&flow_id), None)
        .await
        .unwrap();
    let kept = "https://app.example/Welcome?x=%C3%A9";
    assert_eq!(loaded.flow.unwrap().redirect_url.as_deref(), Some(kept));
    // The handler holds requests to what the CLI stored.
    assert_eq!(accepted(&env, &body(&flow_id, "login", None)).await, both(kept));
    let evil = body(&flow_id, "login", Some("https://evil.example/"));
    refused(&env, post(&evil, &[]), 409, "InvalidArgument", DENIED).await;
}
