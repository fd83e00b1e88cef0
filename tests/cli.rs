//! The binaries as processes: the admin CLI against moto, and the handler's start-up
//! refusing a bad configuration.

mod common;

use std::process::{Command, Output};

use biometric_validations::model::{FlowStatus, FlowType, ObjectId};
use biometric_validations::store::{Admin, Store};
use common::*;

fn admin(table: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_admin"))
        .args(args)
        .env("TABLE_NAME", table)
        .env("DYNAMODB_ENDPOINT", moto_endpoint())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("CLIENT_TOKEN_SECRET", CLIENT_SECRET)
        .output()
        .expect("run admin")
}

fn stdout(o: &Output) -> String {
    assert!(
        o.status.success(),
        "admin failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).unwrap().trim().to_owned()
}

#[tokio::test]
async fn admin_creates_the_table_and_puts_projects_and_flows() {
    let table = format!("bv-cli-{}", std::process::id());
    stdout(&admin(&table, &["create-table"]));
    stdout(&admin(&table, &["create-table"])); // twice is fine
    let store = Admin::new(local_client(moto_endpoint()), table.clone());
    let ttl = store
        .client()
        .describe_time_to_live()
        .table_name(&table)
        .send()
        .await
        .unwrap();
    let ttl = ttl.time_to_live_description().unwrap();
    assert_eq!(ttl.attribute_name(), Some("ttl"));

    let project = stdout(&admin(&table, &["put-project", "--client-id", CLIENT]));
    let project_id = ObjectId::parse(&project).expect("prints the new project's id");
    let stored = store.project(project_id).await.unwrap().expect("stored");
    assert_eq!(stored.client.to_string(), CLIENT);
    assert!(stored.assigned_collection.is_some());
    let code = stored.collection_code.unwrap();
    assert!(
        uuid::Uuid::parse_str(&code).is_ok_and(|u| u.get_version_num() == 4),
        "{code}"
    );

    let flow = stdout(&admin(
        &table,
        &[
            "put-flow",
            "--project-id",
            &project,
            "--type",
            "onboarding",
            "--status",
            "paused",
            "--requires-2fa",
            "true",
        ],
    ));
    let loaded = Store::new(local_client(moto_endpoint()), table.clone())
        .load(id(CLIENT), project_id, ObjectId::parse(&flow).unwrap(), None)
        .await
        .unwrap();
    let flow = loaded.flow.expect("flow stored");
    assert_eq!(
        (flow.kind, flow.status, flow.requires_2fa, flow.face_liveness),
        (FlowType::Onboarding, FlowStatus::Paused, true, true)
    );

    let fixed = stdout(&admin(
        &table,
        &[
            "put-project",
            "--client-id",
            CLIENT,
            "--id",
            PROJECT,
            "--collection-code",
            "abc",
        ],
    ));
    assert_eq!(fixed, PROJECT);

    let missing = admin(
        &table,
        &[
            "put-flow",
            "--project-id",
            "66df5bf5c4d855fb0bdf5dff",
            "--type",
            "login",
        ],
    );
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("project 66df5bf5c4d855fb0bdf5dff does not exist"));
    let bad = admin(&table, &["put-project", "--client-id", "nope"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--client-id must be 24 hex characters"));
}

#[test]
fn admin_mints_client_tokens_the_handler_accepts() {
    let token = stdout(&admin(
        "unused",
        &["mint-token", "--client-id", CLIENT, "--ttl-seconds", "120"],
    ));
    use futures_util::FutureExt;
    let auth = biometric_validations::auth::Authenticator::local(CLIENT_SECRET.to_owned().into()).unwrap();
    let caller = auth
        .authenticate(std::iter::once(token.as_bytes()), {
            use biometric_validations::model::Clock;
            biometric_validations::model::SystemClock.now()
        })
        .now_or_never()
        .expect("no I/O with a local key")
        .unwrap();
    assert_eq!(caller.client.to_string(), CLIENT);
    let help = String::from_utf8(admin("unused", &["--help"]).stdout).unwrap();
    for sub in ["create-table", "put-project", "put-flow", "mint-token"] {
        assert!(help.contains(sub), "{help}");
    }
    assert!(!admin("unused", &["bogus"]).status.success());
}

/// Runs the handler binary with `vars` only; it must stop at start-up.
fn start_with(vars: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_biometric-validations"));
    cmd.env_clear().env("AWS_LAMBDA_LOG_FORMAT", "JSON");
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd.output().expect("run the handler")
}

#[test]
fn bad_configuration_stops_the_function_at_start_up_with_one_line_naming_the_variable() {
    let good = [
        ("TABLE_NAME", "t"),
        ("CLIENT_TOKEN_SECRET", CLIENT_SECRET),
        ("SESSION_TOKEN_SECRET", SESSION_SECRET),
        ("APP_BASE_URL", "https://app.verifik.co"),
        ("AWS_REGION", "us-east-1"),
    ];
    let cases: &[(&str, Option<&str>)] = &[
        ("TABLE_NAME", None),
        ("CLIENT_TOKEN_SECRET", None),
        ("CLIENT_TOKEN_SECRET", Some("too-short")),
        ("SESSION_TOKEN_SECRET", None),
        ("SESSION_TOKEN_SECRET", Some(CLIENT_SECRET)),
        ("APP_BASE_URL", None),
        ("APP_BASE_URL", Some("not a url")),
        ("LIVENESS_SESSION_SECONDS", Some("30")),
        ("LIVENESS_SESSION_SECONDS", Some("abc")),
        ("DYNAMODB_ENDPOINT", Some("nowhere")),
        ("PROJECT_CACHE_SECONDS", Some("301")),
        ("AWS_REGION", None),
    ];
    for (var, value) in cases {
        let mut vars: Vec<(&str, &str)> = good.iter().filter(|(k, _)| k != var).copied().collect();
        if let Some(v) = value {
            vars.push((var, v));
        }
        let out = start_with(&vars);
        assert!(!out.status.success(), "{var}={value:?} started");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "{var}: {text}");
        assert!(lines[0].contains(var), "{var}: {text}");
        let line: serde_json::Value = serde_json::from_str(lines[0]).expect("a JSON log line");
        assert_eq!(line["level"], "ERROR", "{text}");
        for secret in [CLIENT_SECRET, SESSION_SECRET] {
            assert!(!text.contains(secret), "a secret reached the log: {text}");
        }
    }
}
