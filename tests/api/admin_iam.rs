//! The admin CLI's managed policy (template.yaml `AdminPolicy`, on `AdminRole`) against what
//! the CLI really sends. Every command that serves a deployed stack runs as a process against
//! a recording proxy in front of moto; every DynamoDB and Secrets Manager call it makes is
//! then judged by the policy's statements: the action, the resource (the stack's table or one
//! of its two keys' secrets), and for DynamoDB every partition key against the statement's
//! `dynamodb:LeadingKeys` patterns. A call the policy would refuse fails the test, and so does
//! a grant (an action on a resource, or a key pattern) that no command uses.
//!
//! Adding a command: one line in `COMMANDS` (or in `LOCAL_ONLY`, with the reason); a command
//! in neither fails `every_command_is_judged_or_local_only`.

use biometric_validations::store::Admin;

use crate::helpers::policy::{Call, Statement, allowed, dynamodb_calls, like};
use crate::helpers::proxy;
use crate::helpers::*;
use serde_json::Value;

/// The commands that serve a deployed stack, as an operator runs them with `AdminRole`.
/// `{client_key}` and `{session_key}` are the two keys' secrets (their ARNs).
const COMMANDS: &[&[&str]] = &[
    &["put-project", "--client-id", CLIENT, "--id", PROJECT],
    &["put-flow", "--project-id", PROJECT, "--type", "login"],
    &["put-client", "--client-id", CLIENT],
    &["put-client", "--client-id", CLIENT, "--replace"],
    &["suspend-client", "--client-id", CLIENT],
    &["reactivate-client", "--client-id", CLIENT],
    &["revoke-client-tokens", "--client-id", CLIENT],
    &["mint-token", "--client-id", CLIENT, "--secret-id", "{client_key}"],
    &["rotate-key", "--secret-id", "{client_key}"],
    &["rotate-key", "--secret-id", "{session_key}", "--alg", "EdDSA"],
    &["retire-key", "--secret-id", "{client_key}"],
    &["retire-key", "--secret-id", "{session_key}"],
];

/// Commands that never run against a deployed stack with `AdminRole`, and why.
const LOCAL_ONLY: &[(&str, &str)] = &[
    ("create-table", "the stack creates the table"),
    ("create-key", "the stack creates both keys' secrets"),
    ("seed-demo", "the demo data of local runs"),
];

const ROLE: &str = "AdminRole";
const POLICY: &str = "AdminPolicy";

/// The calls one recorded request is authorized as, with its resource named by the template's
/// logical ID (`Table`, `ClientTokenSecret`, `SessionTokenSecret`) or, for anything else, as sent.
fn judged_calls(recorded: &proxy::Recorded, table: &str, secrets: &[(String, &str)]) -> Vec<Call> {
    let (prefix, operation) = recorded.target.split_once('.').unwrap_or(("", &recorded.target));
    let body: Value = serde_json::from_str(&recorded.body).unwrap_or(Value::Null);
    match prefix {
        p if p.starts_with("DynamoDB_") => {
            // The table a call names: its TableName, or a batch's tables.
            let named: Vec<String> = body["TableName"]
                .as_str()
                .map(|t| vec![t.to_owned()])
                .or_else(|| body["RequestItems"].as_object().map(|m| m.keys().cloned().collect()))
                .unwrap_or_default();
            let resource = if named.iter().all(|t| t == table) {
                "Table".to_owned()
            } else {
                named.join(",")
            };
            dynamodb_calls(operation, &body)
                .into_iter()
                .map(|c| Call {
                    resource: resource.clone(),
                    ..c
                })
                .collect()
        }
        "secretsmanager" => {
            let id = body["SecretId"].as_str().unwrap_or_default();
            let resource = secrets
                .iter()
                .find(|(name_or_arn, _)| name_or_arn == id)
                .map_or_else(|| id.to_owned(), |(_, logical)| (*logical).to_owned());
            vec![Call {
                action: format!("secretsmanager:{operation}"),
                resource,
                partition_keys: vec![],
            }]
        }
        other => vec![Call {
            action: format!("{other}:{operation}"),
            resource: String::new(),
            partition_keys: vec![],
        }],
    }
}

/// The admin binary with only the settings an operator gives it, against `endpoint` (both
/// services), with dummy credentials.
async fn run_admin(endpoint: &str, table: &str, args: &[String]) -> std::process::Output {
    let home = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("admin-iam-home");
    std::fs::create_dir_all(&home).unwrap();
    tokio::process::Command::new(env!("CARGO_BIN_EXE_admin"))
        .env_clear()
        .env("HOME", &home)
        .env("TABLE_NAME", table)
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .args(args)
        .output()
        .await
        .expect("run admin")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_call_of_every_command_is_allowed_and_every_grant_is_used() {
    let stack = format!("bv-admin-iam-{}", std::process::id());
    let table = format!("{stack}-table");
    Admin::new(local_client(moto_endpoint()), table.clone())
        .create_table()
        .await
        .expect("create table");
    // The stack's two keys, named as the template names them.
    let client_key = create_secret_on(moto_endpoint(), &format!("{stack}/client-token-key"), CLIENT_SECRET).await;
    let session_key = create_secret_on(moto_endpoint(), &format!("{stack}/session-token-key"), SESSION_SECRET).await;
    let secrets = [
        (client_key.clone(), "ClientTokenSecret"),
        (format!("{stack}/client-token-key"), "ClientTokenSecret"),
        (session_key.clone(), "SessionTokenSecret"),
        (format!("{stack}/session-token-key"), "SessionTokenSecret"),
    ];

    let proxy = proxy::start(moto_upstream()).await;
    let statements = policy::managed_policy_statements(&policy::template(), POLICY);
    let mut seen: Vec<Call> = Vec::new();
    let mut refused = Vec::new();
    for command in COMMANDS {
        let args: Vec<String> = command
            .iter()
            .map(|a| {
                a.replace("{client_key}", &client_key)
                    .replace("{session_key}", &session_key)
            })
            .collect();
        let before = proxy.calls.lock().unwrap().len();
        let out = run_admin(&proxy.endpoint, &table, &args).await;
        assert!(
            out.status.success(),
            "admin {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let recorded: Vec<proxy::Recorded> = proxy.calls.lock().unwrap()[before..].to_vec();
        assert!(!recorded.is_empty(), "admin {args:?} made no call");
        for call in recorded.iter().flat_map(|r| judged_calls(r, &table, &secrets)) {
            if !allowed(&statements, &call) {
                refused.push((command[0], call.clone()));
            }
            seen.push(call);
        }
    }
    assert!(
        refused.is_empty(),
        "{POLICY} refuses what the admin CLI sends: {refused:#?}"
    );

    // Every grant is used by some command.
    let mut unused = Vec::new();
    for s in &statements {
        for action in &s.actions {
            for resource in &s.resources {
                let used = seen
                    .iter()
                    .any(|c| c.action == *action && c.resource == *resource && s.allows(c));
                if !used {
                    unused.push(format!("{action} on {resource} ({:?})", s.sid));
                }
            }
        }
        for pattern in s.patterns.iter().flatten() {
            let used = seen
                .iter()
                .any(|c| s.allows(c) && c.partition_keys.iter().any(|k| like(pattern, k)));
            if !used {
                unused.push(format!("dynamodb:LeadingKeys {pattern} ({:?})", s.sid));
            }
        }
    }
    assert!(
        unused.is_empty(),
        "{POLICY} grants what no command uses (remove it, or run the command that needs it): {unused:#?}"
    );
}

/// No command goes unjudged: each one `admin --help` lists is in `COMMANDS` or `LOCAL_ONLY`.
#[test]
fn every_command_is_judged_or_local_only() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_admin"))
        .arg("--help")
        .output()
        .expect("run admin --help");
    let help = String::from_utf8(out.stdout).unwrap();
    let commands: Vec<&str> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .collect();
    assert!(commands.contains(&"mint-token"), "{help}");
    for command in commands {
        assert!(
            COMMANDS.iter().any(|c| c[0] == command) || LOCAL_ONLY.iter().any(|(c, _)| *c == command),
            "admin {command} is neither judged against {POLICY} (COMMANDS) nor local-only (LOCAL_ONLY)"
        );
    }
}

/// The policy is the role's whole grant, and the role is assumed from the account only, with
/// MFA unless AdminRoleMfa=false.
#[test]
fn the_admin_role_holds_the_policy_and_trusts_only_the_account() {
    let template = policy::template();
    let yaml = |s: &str| serde_norway::from_str::<serde_norway::Value>(s).unwrap();
    let role = &template["Resources"][ROLE];
    assert_eq!(role["Type"].as_str(), Some("AWS::IAM::Role"));
    let props = &role["Properties"];
    assert!(props.get("Policies").is_none(), "no inline policy on {ROLE}");
    assert!(
        props.get("ManagedPolicyArns").is_none(),
        "no other managed policy on {ROLE}"
    );
    assert_eq!(
        template["Resources"][POLICY]["Properties"]["Roles"],
        yaml(&format!("[!Ref {ROLE}]")),
        "{POLICY} is attached to {ROLE} alone"
    );
    let trust = props["AssumeRolePolicyDocument"]["Statement"]
        .as_sequence()
        .expect("a trust policy");
    assert_eq!(trust.len(), 1, "{trust:?}");
    let statement = &trust[0];
    assert_eq!(statement["Effect"].as_str(), Some("Allow"));
    assert_eq!(statement["Action"].as_str(), Some("sts:AssumeRole"));
    assert_eq!(
        statement["Principal"],
        yaml("AWS: !Sub arn:${AWS::Partition}:iam::${AWS::AccountId}:root"),
        "only the account's own principals"
    );
    assert_eq!(
        statement["Condition"],
        yaml("!If [AdminMfa, {Bool: {aws:MultiFactorAuthPresent: \"true\"}}, !Ref AWS::NoValue]"),
    );
    assert_eq!(
        template["Conditions"]["AdminMfa"],
        yaml("!Equals [!Ref AdminRoleMfa, \"true\"]")
    );
    assert_eq!(template["Parameters"]["AdminRoleMfa"]["Default"].as_str(), Some("true"));
}

/// The statements' shape the judgement relies on: every statement names its resources.
#[test]
fn the_policy_names_only_the_stacks_table_and_keys() {
    let statements: Vec<Statement> = policy::managed_policy_statements(&policy::template(), POLICY);
    assert!(!statements.is_empty());
    for s in &statements {
        for r in &s.resources {
            assert!(
                ["Table", "ClientTokenSecret", "SessionTokenSecret"].contains(&r.as_str()),
                "{POLICY} grants on {r}: {s:?}"
            );
        }
        if s.actions.iter().any(|a| a.starts_with("dynamodb:")) {
            assert!(
                s.patterns.is_some() && s.requires_a_key,
                "a DynamoDB grant without LeadingKeys patterns: {s:?}"
            );
        }
    }
}
