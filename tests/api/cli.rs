//! The binaries as processes: the admin CLI against moto, and the handler's start-up
//! refusing a bad configuration.

use std::process::{Command, Output};

use crate::helpers::*;
use biometric_validations::model::{FlowStatus, FlowType, Id};
use biometric_validations::store::{Admin, Store};

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
    let project_id = Id::parse(&project).expect("prints the new project's id");
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
        .load(id(CLIENT), project_id, id(&flow), None)
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
        // A key and its secret both: which one is meant?
        (
            "CLIENT_TOKEN_SECRET_ARN",
            Some("arn:aws:secretsmanager:us-east-1:1:secret:x"),
        ),
        ("SESSION_TOKEN_ALG", Some("RS256")),
        ("SECRETS_REFRESH_SECONDS", Some("5")),
        ("METRICS_CLIENT_DIMENSION", Some("yes")),
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
    // A key's secret that can't be read (none of that name in moto): an init error naming it.
    let moto = moto_endpoint();
    let mut vars: Vec<(&str, &str)> = good
        .iter()
        .filter(|(k, _)| *k != "CLIENT_TOKEN_SECRET")
        .copied()
        .collect();
    vars.extend([
        ("CLIENT_TOKEN_SECRET_ARN", "bv-cli-no-such-secret"),
        ("AWS_ENDPOINT_URL", moto),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
    ]);
    let out = start_with(&vars);
    assert!(!out.status.success(), "started without its key");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let lines: Vec<&str> = text.lines().filter(|l| l.contains("ERROR")).collect();
    assert_eq!(lines.len(), 1, "{text}");
    assert!(
        lines[0].contains("CLIENT_TOKEN_SECRET_ARN") && lines[0].contains("cannot read the key"),
        "{text}"
    );
}

/// The admin binary with nothing of the caller's environment but `vars`: no AWS_*
/// variables, and a HOME without ~/.aws, as on a fresh machine.
fn bare_admin(vars: &[(&str, &str)], args: &[&str]) -> Output {
    let home = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("bare-home");
    std::fs::create_dir_all(&home).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_admin"));
    cmd.env_clear().env("HOME", &home).args(args);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd.output().expect("run admin")
}

fn stderr(o: &Output) -> String {
    assert!(
        !o.status.success(),
        "admin succeeded: {}",
        String::from_utf8_lossy(&o.stdout)
    );
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[tokio::test]
async fn admin_needs_only_the_endpoint_for_a_local_server() {
    let table = format!("bv-cli-bare-{}", std::process::id());
    let moto = moto_endpoint();
    stdout(&bare_admin(
        &[],
        &["--endpoint", moto, "--table", &table, "create-table"],
    ));
    // AWS_ENDPOINT_URL, and the handler's DYNAMODB_ENDPOINT, say the same.
    let project = stdout(&bare_admin(
        &[("AWS_ENDPOINT_URL", moto), ("TABLE_NAME", &table)],
        &["put-project", "--client-id", CLIENT],
    ));
    let flow = stdout(&bare_admin(
        &[("DYNAMODB_ENDPOINT", moto), ("TABLE_NAME", &table)],
        &["put-flow", "--project-id", &project, "--type", "login"],
    ));
    // Written where the function (us-east-1, as in local.env) reads them.
    let store = Store::new(local_client(moto), table);
    let loaded = store.load(id(CLIENT), id(&project), id(&flow), None).await.unwrap();
    assert_eq!(loaded.project.expect("project stored").client.to_string(), CLIENT);
    assert!(loaded.flow.is_some(), "flow stored");
}

#[test]
fn admin_names_the_setting_that_is_missing() {
    let moto = moto_endpoint();
    let no_table = stderr(&bare_admin(&[], &["--endpoint", moto, "create-table"]));
    assert!(no_table.contains("--table or TABLE_NAME is required"), "{no_table}");

    let no_secret = stderr(&bare_admin(&[], &["mint-token", "--client-id", CLIENT]));
    assert!(
        no_secret.contains("--secret-id or CLIENT_TOKEN_SECRET_ARN is required")
            && no_secret.contains("--secret or CLIENT_TOKEN_SECRET for a local key"),
        "{no_secret}"
    );
    let both = stderr(&bare_admin(
        &[("CLIENT_TOKEN_SECRET", CLIENT_SECRET), ("CLIENT_TOKEN_SECRET_ARN", "x")],
        &["mint-token", "--client-id", CLIENT],
    ));
    assert!(both.contains("not both"), "{both}");
    let too_long = stderr(&bare_admin(
        &[("CLIENT_TOKEN_SECRET", CLIENT_SECRET)],
        &["mint-token", "--client-id", CLIENT, "--ttl-seconds", "86401"],
    ));
    assert!(too_long.contains("--ttl-seconds must be from 1 to 86400"), "{too_long}");

    let bad_endpoint = stderr(&bare_admin(
        &[("AWS_ENDPOINT_URL", "127.0.0.1:5005")],
        &["--table", "t", "create-table"],
    ));
    assert!(
        bad_endpoint.contains("AWS_ENDPOINT_URL must be an http(s) URL"),
        "{bad_endpoint}"
    );

    // AWS (no endpoint): the region, then the credentials, named before any call. No
    // IMDS: on a cloud machine it would answer with a region and credentials.
    let no_imds = [("AWS_EC2_METADATA_DISABLED", "true")];
    let no_region = stderr(&bare_admin(&no_imds, &["--table", "t", "create-table"]));
    assert!(no_region.contains("no AWS region: set AWS_REGION"), "{no_region}");
    assert!(no_region.contains("--endpoint"), "points at the local way: {no_region}");
    let aws = [("AWS_REGION", "us-east-1"), ("AWS_EC2_METADATA_DISABLED", "true")];
    let no_credentials = stderr(&bare_admin(&aws, &["--table", "t", "create-table"]));
    assert!(
        no_credentials.contains("no AWS credentials: set AWS_PROFILE")
            && no_credentials.contains("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"),
        "{no_credentials}"
    );
    for opaque in ["dispatch failure", "FailedToLoadToken", "MissingSigningRegion"] {
        assert!(!no_credentials.contains(opaque), "{no_credentials}");
    }

    // Dummy credentials are for a local endpoint only, never for AWS's.
    let remote = stderr(&bare_admin(
        &aws,
        &[
            "--endpoint",
            "https://dynamodb.us-east-1.amazonaws.com",
            "--table",
            "t",
            "create-table",
        ],
    ));
    assert!(remote.contains("no AWS credentials"), "{remote}");
    assert!(remote.contains("only for a local endpoint"), "{remote}");
}

#[test]
fn the_port_check_refuses_a_held_port_and_names_its_holder() {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/check_ports.sh");
    let check = |args: &[&str]| {
        Command::new("bash")
            .arg(&script)
            .args(args)
            .output()
            .expect("run check_ports.sh")
    };
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = held.local_addr().unwrap().port();
    let free = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };

    let out = check(&["--as", "run", &format!("PORT={port}"), &format!("MOTO_PORT={free}")]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "one line, for the held port only: {text}");
    assert!(
        lines[0].starts_with(&format!("run: port {port} (PORT) is already in use by ")),
        "{text}"
    );
    let can_name = ["ss", "lsof", "fuser"].iter().any(|tool| {
        Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if can_name {
        assert!(
            lines[0].contains(&format!("(pid {})", std::process::id())),
            "names this test: {text}"
        );
    }

    let out = check(&[&format!("MOTO_PORT={free}")]);
    assert!(out.status.success() && out.stderr.is_empty(), "{out:?}");
    drop(held);
    let out = check(&[&format!("PORT={port}")]);
    assert!(out.status.success(), "released: {out:?}");
}

#[test]
fn a_test_without_moto_fails_with_the_hint_and_no_backtrace() {
    // This test binary again, one moto test only, with a Python that does not exist and
    // backtraces on, as on a machine that sets RUST_BACKTRACE=1 for everything.
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "cli::admin_names_the_setting_that_is_missing",
            "--exact",
            "--test-threads=1",
        ])
        .env("MOTO_PYTHON", "/nonexistent/python")
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("run the test binary");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "it must fail, not skip: {text}");
    assert!(text.contains("1 failed"), "{text}");
    assert!(
        text.contains("/nonexistent/python not found. moto is not installed. Run `make test`"),
        "{text}"
    );
    assert!(!text.contains("stack backtrace"), "{text}");
    assert!(text.lines().count() < 20, "a few lines, not pages: {text}");
}

/// The key commands and the client commands, against moto's Secrets Manager and table.
#[tokio::test]
async fn admin_keys_and_clients() {
    let moto = moto_endpoint();
    let name = format!("bv-cli-keys-{}/client-token-key", std::process::id());
    let table = format!("bv-cli-clients-{}", std::process::id());
    let local = |extra: &[(&str, &str)], args: &[&str]| {
        let mut vars = vec![
            ("AWS_ENDPOINT_URL", moto),
            ("LOCAL_KEY", CLIENT_SECRET),
            ("TABLE_NAME", table.as_str()),
        ];
        vars.extend_from_slice(extra);
        bare_admin(&vars, args)
    };
    // create-key prints the ARN, never the value.
    let arn = stdout(&local(
        &[],
        &["create-key", "--name", &name, "--value-from-env", "LOCAL_KEY"],
    ));
    assert!(arn.starts_with("arn:aws:secretsmanager:"), "{arn}");
    let v0 = current_version(&arn).await;
    // mint-token from the secret: its kid, iat, and the handler's checks pass.
    let token = stdout(&local(
        &[("CLIENT_TOKEN_SECRET_ARN", &arn)],
        &["mint-token", "--client-id", CLIENT],
    ));
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.kid.as_deref(), Some(v0.as_str()));
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::Engine::decode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            token.split('.').nth(1).unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    let iat = claims["iat"].as_i64().expect("iat always written");
    assert_eq!(claims["exp"].as_i64().unwrap() - iat, 3600);
    // rotate-key: a new AWSCURRENT, the value not printed, the old one AWSPREVIOUS.
    let said = stdout(&local(&[], &["rotate-key", "--secret-id", &arn]));
    let v1 = current_version(&arn).await;
    assert_ne!(v0, v1);
    assert!(said.contains(&v1) && !said.contains(CLIENT_SECRET), "{said}");
    let previous = secrets_client(moto)
        .get_secret_value()
        .secret_id(&arn)
        .version_stage("AWSPREVIOUS")
        .send()
        .await
        .unwrap();
    assert_eq!(previous.secret_string(), Some(CLIENT_SECRET));
    let new = secrets_client(moto)
        .get_secret_value()
        .secret_id(&arn)
        .send()
        .await
        .unwrap();
    let value = new.secret_string().unwrap();
    assert!(
        value.len() == 64 && value.chars().all(|c| c.is_ascii_alphanumeric()),
        "64 random characters"
    );

    // The client commands write the CLIENT# item the function reads.
    stdout(&local(&[], &["create-table"]));
    let store = Admin::new(local_client(moto), table.clone());
    stdout(&local(&[], &["revoke-client-tokens", "--client-id", CLIENT]));
    let revoked = store.client_item(id(CLIENT)).await.unwrap().expect("created");
    assert_eq!(revoked.status, biometric_validations::model::ClientStatus::Active);
    assert!(revoked.tokens_not_before.unwrap().unix_seconds() >= iat);
    stdout(&local(&[], &["suspend-client", "--client-id", CLIENT]));
    let suspended = store.client_item(id(CLIENT)).await.unwrap().unwrap();
    assert_eq!(suspended.status, biometric_validations::model::ClientStatus::Suspended);
    assert_eq!(
        suspended.tokens_not_before, revoked.tokens_not_before,
        "the revocation stays"
    );
    stdout(&local(
        &[],
        &["put-client", "--client-id", CLIENT, "--status", "active"],
    ));
    let lifted = store.client_item(id(CLIENT)).await.unwrap().unwrap();
    assert_eq!(
        (lifted.status, lifted.tokens_not_before),
        (biometric_validations::model::ClientStatus::Active, None)
    );
}
