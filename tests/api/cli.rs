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

/// The admin CLI on `env`'s table and keys (`make admin`'s settings).
fn admin_of(env: &TestEnv, args: &[&str]) -> Output {
    let Keys::SecretsManager { client, session } = &env.keys else {
        panic!("keys in Secrets Manager")
    };
    bare_admin(
        &[
            ("AWS_ENDPOINT_URL", moto_endpoint()),
            ("TABLE_NAME", &env.table),
            ("CLIENT_TOKEN_SECRET_ARN", client),
            ("SESSION_TOKEN_SECRET_ARN", session),
        ],
        args,
    )
}

/// seed-demo writes the documented local test keys: it refuses unless DynamoDB and Secrets
/// Manager are both local, before writing anything.
#[tokio::test]
async fn seed_demo_runs_only_against_local_endpoints() {
    let table = format!("bv-seed-guard-{}", std::process::id());
    let moto = moto_endpoint();
    for endpoints in [
        vec![],
        vec![("AWS_ENDPOINT_URL_DYNAMODB", moto)],
        vec![("AWS_ENDPOINT_URL_SECRETS_MANAGER", moto)],
        vec![
            ("AWS_ENDPOINT_URL_DYNAMODB", moto),
            (
                "AWS_ENDPOINT_URL_SECRETS_MANAGER",
                "https://secretsmanager.us-east-1.amazonaws.com",
            ),
        ],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_admin"))
            .args([
                "seed-demo",
                "--table",
                &table,
                "--client-key-secret",
                "bv-guard-c",
                "--session-key-secret",
                "bv-guard-s",
            ])
            .env_remove("AWS_ENDPOINT_URL")
            .env_remove("AWS_ENDPOINT_URL_DYNAMODB")
            .env_remove("AWS_ENDPOINT_URL_SECRETS_MANAGER")
            .envs(endpoints.iter().copied())
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{endpoints:?}");
        assert!(
            err.contains("runs only against local endpoints"),
            "{endpoints:?}: {err}"
        );
    }
    let tables = local_client(moto).list_tables().send().await.unwrap();
    assert!(!tables.table_names().contains(&table), "no table was written");
    let secrets = secrets_client(moto).list_secrets().send().await.unwrap();
    assert!(
        !secrets
            .secret_list()
            .iter()
            .any(|s| matches!(s.name(), Some("bv-guard-c" | "bv-guard-s"))),
        "no key was written"
    );
}

#[tokio::test]
async fn admin_mints_client_tokens_the_handler_accepts_and_never_one_it_refuses() {
    let env = TestEnv::new().await;
    let send = |token: String| env.call(with_token(&token));
    let help = String::from_utf8(admin("unused", &["--help"]).stdout).unwrap();
    for sub in [
        "create-table",
        "seed-demo",
        "put-project",
        "put-flow",
        "mint-token",
        "retire-key",
        "reactivate-client",
    ] {
        assert!(help.contains(sub), "{help}");
    }
    assert!(!admin("unused", &["bogus"]).status.success());

    // Revoked up to the next second: a token minted now would be refused, so mint-token
    // waits until that second has passed.
    let next_second = biometric_validations::model::Timestamp::from_unix_seconds(now_secs() + 1).unwrap();
    env.store.revoke_client_tokens(id(CLIENT), next_second).await.unwrap();
    // (The function reads the client's item here for the first time: its project cache
    // holds nothing of it yet.)
    let after = stdout(&admin_of(
        &env,
        &["mint-token", "--client-id", CLIENT, "--ttl-seconds", "120"],
    ));
    assert_eq!(send(after).await.status, 200, "minted after the revocation's second");
    // A suspended client gets no token at all.
    stdout(&admin_of(&env, &["suspend-client", "--client-id", CLIENT]));
    let refused = stderr(&admin_of(&env, &["mint-token", "--client-id", CLIENT]));
    assert!(refused.contains("is not active"), "{refused}");
}

/// The seed's request with `token`.
fn with_token(token: &str) -> serde_json::Value {
    let auth = format!("Bearer {token}");
    event(
        "POST",
        "/v2/biometric-validations",
        &[("authorization", &auth), ("content-type", "application/json")],
        Some(SEED_BODY),
    )
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
        ("CLIENT_TOKEN_SECRET_ARN", "bv-cli/client-token-key"),
        ("SESSION_TOKEN_SECRET_ARN", "bv-cli/session-token-key"),
        ("APP_BASE_URL", "https://app.verifik.co"),
        ("AWS_REGION", "us-east-1"),
    ];
    let cases: &[(&str, Option<&str>)] = &[
        ("TABLE_NAME", None),
        ("CLIENT_TOKEN_SECRET_ARN", None),
        ("SESSION_TOKEN_SECRET_ARN", None),
        ("APP_BASE_URL", None),
        ("APP_BASE_URL", Some("not a url")),
        ("LIVENESS_SESSION_SECONDS", Some("30")),
        ("LIVENESS_SESSION_SECONDS", Some("abc")),
        ("AWS_ENDPOINT_URL_DYNAMODB", Some("nowhere")),
        ("PROJECT_CACHE_SECONDS", Some("301")),
        ("AWS_REGION", None),
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
        .filter(|(k, _)| *k != "CLIENT_TOKEN_SECRET_ARN")
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
    // AWS_ENDPOINT_URL, and AWS_ENDPOINT_URL_DYNAMODB, say the same.
    let project = stdout(&bare_admin(
        &[("AWS_ENDPOINT_URL", moto), ("TABLE_NAME", &table)],
        &["put-project", "--client-id", CLIENT],
    ));
    let flow = stdout(&bare_admin(
        &[("AWS_ENDPOINT_URL_DYNAMODB", moto), ("TABLE_NAME", &table)],
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
        no_secret.contains("--secret-id or CLIENT_TOKEN_SECRET_ARN is required"),
        "{no_secret}"
    );
    let too_long = stderr(&bare_admin(
        &[("CLIENT_TOKEN_SECRET_ARN", "x")],
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

/// The key commands, against moto's Secrets Manager: a key of each algorithm, a rotation
/// that keeps the key's algorithm or switches it, and a leaked version retired at once.
#[tokio::test]
async fn admin_creates_rotates_and_retires_keys() {
    let moto = moto_endpoint();
    let local = |args: &[&str]| bare_admin(&[("AWS_ENDPOINT_URL", moto)], args);
    let name = format!("bv-cli-keys-{}", std::process::id());
    let value_of = |arn: String, version: Option<String>| async move {
        let mut get = secrets_client(moto).get_secret_value().secret_id(arn);
        if let Some(v) = version {
            get = get.version_id(v);
        }
        get.send().await.unwrap().secret_string.unwrap()
    };
    // create-key prints the ARN, never the value: 64 random characters, or for EdDSA
    // {"alg":"EdDSA","key":…}.
    let hs = stdout(&local(&["create-key", "--name", &format!("{name}/hs")]));
    let ed = stdout(&local(&[
        "create-key",
        "--name",
        &format!("{name}/ed"),
        "--alg",
        "EdDSA",
    ]));
    assert!(hs.starts_with("arn:aws:secretsmanager:"), "{hs}");
    let plain = value_of(hs.clone(), None).await;
    assert!(plain.len() == 64 && plain.chars().all(|c| c.is_ascii_alphanumeric()));
    let tagged: serde_json::Value = serde_json::from_str(&value_of(ed.clone(), None).await).unwrap();
    assert_eq!(
        (tagged["alg"].as_str(), tagged["key"].as_str().map(str::len)),
        (Some("EdDSA"), Some(64))
    );
    // rotate-key keeps the algorithm; --alg switches it.
    let said = stdout(&local(&["rotate-key", "--secret-id", &ed]));
    assert!(
        said.contains("(EdDSA) is AWSCURRENT") && !said.contains(tagged["key"].as_str().unwrap()),
        "{said}"
    );
    let v0 = current_version(&hs).await;
    stdout(&local(&["rotate-key", "--secret-id", &hs, "--alg", "EdDSA"]));
    assert!(value_of(hs.clone(), None).await.starts_with(r#"{"alg":"EdDSA""#));
    assert_eq!(
        value_of(hs.clone(), Some(v0.clone())).await,
        plain,
        "the old version is AWSPREVIOUS"
    );
    // retire-key: the leaked AWSCURRENT is rotated away and left without a label.
    let leaked = current_version(&hs).await;
    let said = stdout(&local(&["retire-key", "--secret-id", &hs]));
    let stages = secrets_client(moto)
        .describe_secret()
        .secret_id(&hs)
        .send()
        .await
        .unwrap();
    let labels = stages.version_ids_to_stages().unwrap();
    assert!(labels.get(&leaked).is_none_or(|s| s.is_empty()), "{said}: {labels:?}");
    assert!(!labels.values().flatten().any(|s| s == "AWSPREVIOUS"), "{labels:?}");
    assert!(said.contains(&format!("version {leaked} has no label")), "{said}");
}

/// The client commands write the CLIENT# item the function reads, and a revocation holds
/// through every one of them.
#[tokio::test]
async fn admin_client_commands_never_undo_a_revocation() {
    let table = format!("bv-cli-clients-{}", std::process::id());
    let local = |args: &[&str]| {
        bare_admin(
            &[("AWS_ENDPOINT_URL", moto_endpoint()), ("TABLE_NAME", table.as_str())],
            args,
        )
    };
    stdout(&local(&["create-table"]));
    let store = Admin::new(local_client(moto_endpoint()), table.clone());
    let item = || async { store.client_item(id(CLIENT)).await.unwrap().expect("an item") };
    use biometric_validations::model::ClientStatus::{Active, Suspended};

    stdout(&local(&["revoke-client-tokens", "--client-id", CLIENT]));
    let revoked = item().await;
    assert_eq!(revoked.status, Active);
    let at = revoked.tokens_not_before.expect("revoked");
    assert!(at.unix_seconds() >= now_secs() - 2);
    stdout(&local(&["suspend-client", "--client-id", CLIENT]));
    assert_eq!(
        (item().await.status, item().await.tokens_not_before),
        (Suspended, Some(at))
    );
    // put-client does not replace an existing client unless told to, and says what
    // replacing it would do.
    let refused = stderr(&local(&["put-client", "--client-id", CLIENT]));
    assert!(
        refused.contains("exists (status suspended")
            && refused.contains("--replace would set status active and keep tokensNotBefore"),
        "{refused}"
    );
    assert_eq!(item().await.status, Suspended, "left as it was");
    // reactivate-client changes the status alone.
    let said = stdout(&local(&["reactivate-client", "--client-id", CLIENT]));
    assert_eq!(
        (item().await.status, item().await.tokens_not_before),
        (Active, Some(at)),
        "{said}"
    );
    // --replace keeps the revocation.
    stdout(&local(&[
        "put-client",
        "--client-id",
        CLIENT,
        "--status",
        "suspended",
        "--replace",
    ]));
    assert_eq!(
        (item().await.status, item().await.tokens_not_before),
        (Suspended, Some(at))
    );
    // A new client is created as asked.
    let other = "613375a1eab2fe08527f81aa";
    stdout(&local(&["put-client", "--client-id", other]));
    let created = store.client_item(id(other)).await.unwrap().unwrap();
    assert_eq!((created.status, created.tokens_not_before), (Active, None));
}
