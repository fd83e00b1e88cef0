//! The function's IAM policy (template.yaml) against what the function really sends.
//! Every DynamoDB request of the request path is recorded as the SDK puts it on the
//! wire (an interceptor on the function's own client, through a proxy to moto that loses
//! an answer to drive the re-reads), then judged by the role's statements: the action,
//! and every partition key against the statement's `dynamodb:LeadingKeys` patterns.
//! A request the policy would refuse, or a pattern that lets the function write a
//! project, flow or client, fails the test.

use std::sync::{Arc, Mutex};

use crate::helpers::proxy::Fault;
use crate::helpers::*;
use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use biometric_validations::model::{ObjectId, RandomIds, SessionId, SystemClock, ValidationId};
use biometric_validations::store::keys;
use serde_json::Value;

/// One DynamoDB call as IAM authorizes it: the action and the partition keys it names.
#[derive(Debug, Clone, PartialEq)]
struct Call {
    action: String,
    partition_keys: Vec<String>,
}

/// The calls a request on the wire is authorized as. A transaction's `Put`s are each
/// authorized as a `PutItem` of their own key, its `ConditionCheck`s as
/// `ConditionCheckItem`, its `Update`s and `Delete`s as `UpdateItem` and `DeleteItem`.
fn calls(operation: &str, body: &Value) -> Vec<Call> {
    let pk = |item: &Value| item["pk"]["S"].as_str().unwrap_or_default().to_owned();
    let one = |action: &str, keys: Vec<String>| Call {
        action: format!("dynamodb:{action}"),
        partition_keys: keys,
    };
    match operation {
        "GetItem" | "DeleteItem" | "UpdateItem" => vec![one(operation, vec![pk(&body["Key"])])],
        "PutItem" => vec![one(operation, vec![pk(&body["Item"])])],
        "BatchGetItem" => {
            let tables = body["RequestItems"].as_object().unwrap();
            let keys = tables
                .values()
                .flat_map(|t| t["Keys"].as_array().unwrap().iter().map(pk))
                .collect();
            vec![one(operation, keys)]
        }
        "TransactWriteItems" => body["TransactItems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|item| {
                let (kind, inner) = item.as_object().unwrap().iter().next().unwrap();
                let (action, key) = match kind.as_str() {
                    "Put" => ("PutItem", &inner["Item"]),
                    "ConditionCheck" => ("ConditionCheckItem", &inner["Key"]),
                    "Update" => ("UpdateItem", &inner["Key"]),
                    _ => ("DeleteItem", &inner["Key"]),
                };
                one(action, vec![pk(key)])
            })
            .collect(),
        // Query, Scan and the rest: not an action of the role, whatever its keys.
        other => vec![one(other, vec![])],
    }
}

/// Records what the SDK transmits, every attempt included.
#[derive(Debug, Default, Clone)]
struct Recorder(Arc<Mutex<Vec<Call>>>);

impl Intercept for Recorder {
    fn name(&self) -> &'static str {
        "Recorder"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let request = context.request();
        let target = request.headers().get("x-amz-target").unwrap_or_default();
        let operation = target.rsplit('.').next().unwrap_or_default().to_owned();
        let body: Value = serde_json::from_slice(request.body().bytes().unwrap_or(b"{}"))?;
        self.0.lock().unwrap().extend(calls(&operation, &body));
        Ok(())
    }
}

/// The function's role statements, as SAM passes them to IAM.
struct Statement {
    actions: Vec<String>,
    /// `ForAllValues:StringLike` on `dynamodb:LeadingKeys`, if the statement has it.
    patterns: Option<Vec<String>>,
    /// `"Null": {"dynamodb:LeadingKeys": "false"}`.
    requires_a_key: bool,
}

fn yaml_strings(v: &serde_norway::Value) -> Vec<String> {
    match v {
        serde_norway::Value::String(s) => vec![s.clone()],
        serde_norway::Value::Sequence(items) => items.iter().flat_map(yaml_strings).collect(),
        other => panic!("expected a string or a list of strings, got {other:?}"),
    }
}

fn statements() -> Vec<Statement> {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/template.yaml")).unwrap();
    let template: serde_norway::Value = serde_norway::from_str(&text).expect("template.yaml is YAML");
    let policies = &template["Resources"]["CreateBiometricValidationFunction"]["Properties"]["Policies"];
    let mut found = Vec::new();
    for policy in policies.as_sequence().expect("Policies is a list") {
        for s in policy["Statement"].as_sequence().into_iter().flatten() {
            let actions = yaml_strings(&s["Action"]);
            if s["Effect"].as_str() != Some("Allow") || !actions.iter().any(|a| a.starts_with("dynamodb:")) {
                continue;
            }
            let condition = &s["Condition"];
            found.push(Statement {
                actions,
                patterns: condition
                    .get("ForAllValues:StringLike")
                    .and_then(|c| c.get("dynamodb:LeadingKeys"))
                    .map(yaml_strings),
                requires_a_key: condition
                    .get("Null")
                    .and_then(|c| c.get("dynamodb:LeadingKeys"))
                    .is_some_and(|v| yaml_strings(v) == ["false"]),
            });
        }
    }
    assert!(!found.is_empty(), "no DynamoDB statement in the function's policy");
    found
}

/// IAM's `StringLike`: `*` any run of characters, `?` any one.
fn like(pattern: &str, value: &str) -> bool {
    match pattern.chars().next() {
        None => value.is_empty(),
        Some('*') => (0..=value.len())
            .filter(|&i| value.is_char_boundary(i))
            .any(|i| like(&pattern[1..], &value[i..])),
        Some(p) => value
            .chars()
            .next()
            .is_some_and(|v| (p == '?' || p == v) && like(&pattern[p.len_utf8()..], &value[v.len_utf8()..])),
    }
}

impl Statement {
    /// As IAM evaluates it: `ForAllValues` is true of a call with no keys at all, which
    /// only the `Null` condition refuses.
    fn allows(&self, call: &Call) -> bool {
        let keys = &call.partition_keys;
        let all_match = |patterns: &Vec<String>| keys.iter().all(|k| patterns.iter().any(|p| like(p, k)));
        self.actions.contains(&call.action)
            && self.patterns.as_ref().is_none_or(all_match)
            && (!self.requires_a_key || !keys.is_empty())
    }
}

fn allowed(statements: &[Statement], call: &Call) -> bool {
    statements.iter().any(|s| s.allows(call))
}

#[tokio::test]
async fn every_call_of_the_request_path_is_allowed_and_nothing_more() {
    let env = TestEnv::new().await;
    let proxy = proxy::start(moto_upstream()).await;
    let recorder = Recorder::default();
    // The tests' client, with the recorder on it.
    let client = aws_sdk_dynamodb::Client::from_conf(
        local_client(&proxy.endpoint)
            .config()
            .to_builder()
            .interceptor(recorder.clone())
            .build(),
    );
    let app = handler(&env.config(), client, Arc::new(SystemClock), Arc::new(RandomIds::new())).await;
    let send = |extra: &[(&str, &str)]| call(&app, post(SEED_BODY, extra));
    // Cold with an Idempotency-Key, its replay (warm) from a record as the previous
    // version wrote it (no first answer: the pair is read), warm without a key, and two
    // writes whose answers are lost (the retry finds the pair: the session is re-read;
    // with a key, the record is).
    for (n, (key, fault)) in [
        (Some("k1"), None),
        (Some("k1"), None),
        (None, None),
        (None, Some(Fault::DropMidResponse)),
    ]
    .into_iter()
    .enumerate()
    {
        if let Some(f) = fault {
            proxy.script.push("TransactWriteItems", f, 1);
        }
        if n == 1 {
            let record = env.items("IDEMPOTENCY#").await.remove(0);
            env.store
                .client()
                .update_item()
                .table_name(&env.table)
                .key("pk", record["pk"].clone())
                .key("sk", record["sk"].clone())
                .update_expression("REMOVE firstAnswer")
                .send()
                .await
                .expect("update the record");
        }
        let extra: Vec<(&str, &str)> = key.iter().map(|k| ("idempotency-key", *k)).collect();
        let reply = send(&extra).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
    }
    proxy.script.push("TransactWriteItems", Fault::DropMidResponse, 1);
    let reply = send(&[("idempotency-key", "k2")]).await;
    assert_eq!(reply.status, 200, "{}", reply.body);

    let seen = recorder.0.lock().unwrap().clone();
    let statements = statements();
    let refused: Vec<&Call> = seen.iter().filter(|c| !allowed(&statements, c)).collect();
    assert!(
        refused.is_empty(),
        "the policy refuses what the function sends: {refused:#?}"
    );
    // Every kind of call the policy must allow was made (so the run proved it).
    for (action, prefix) in [
        ("dynamodb:BatchGetItem", "PROJECT#"),
        ("dynamodb:BatchGetItem", "IDEMPOTENCY#"),
        ("dynamodb:GetItem", "IDEMPOTENCY#"),
        ("dynamodb:GetItem", "LIVENESS_SESSION#"),
        ("dynamodb:BatchGetItem", "BIOMETRIC_VALIDATION#"),
        ("dynamodb:PutItem", "LIVENESS_SESSION#"),
        ("dynamodb:PutItem", "BIOMETRIC_VALIDATION#"),
        ("dynamodb:PutItem", "IDEMPOTENCY#"),
    ] {
        assert!(
            seen.iter()
                .any(|c| c.action == action && c.partition_keys.iter().any(|k| k.starts_with(prefix))),
            "no {action} of {prefix}* was made: {seen:#?}"
        );
    }
}

#[test]
fn the_policy_allows_no_other_item_and_no_other_action() {
    let statements = statements();
    let (p, f) = (id(PROJECT), id(LOGIN_FLOW));
    let some_id = ObjectId::parse("66e3244269cd15b505d21063").unwrap();
    let (session, validation) = (SessionId::new(some_id), ValidationId::new(some_id));
    let call = |action: &str, keys: &[&str]| Call {
        action: format!("dynamodb:{action}"),
        partition_keys: keys.iter().map(|k| (*k).to_owned()).collect(),
    };
    // The function reads projects, flows, clients and its own items, and writes only
    // sessions, validations and idempotency records.
    for key in [keys::project(p).pk, keys::flow(p, f).pk, format!("CLIENT#{CLIENT}")] {
        assert!(allowed(&statements, &call("GetItem", &[&key])), "{key}");
        assert!(
            !allowed(&statements, &call("PutItem", &[&key])),
            "the function may write {key}"
        );
    }
    for key in [keys::session(session).pk, keys::validation(validation).pk] {
        assert!(allowed(&statements, &call("PutItem", &[&key])), "{key}");
    }
    // The start-up read that opens the connection (store::warmup).
    assert!(allowed(&statements, &call("GetItem", &[&keys::warm_up().pk])));
    assert!(
        !allowed(&statements, &call("GetItem", &[&keys::validation(validation).pk])),
        "validations (with identifiers) are read back only with their session, for a replay"
    );
    let pair = [keys::session(session).pk, keys::validation(validation).pk];
    assert!(allowed(&statements, &call("BatchGetItem", &[&pair[0], &pair[1]])));
    assert!(
        !allowed(&statements, &call("BatchGetItem", &[&pair[1], &keys::project(p).pk])),
        "a validation in another batch"
    );
    for key in ["", "OTHER#x", "project#x", "XPROJECT#x"] {
        assert!(!allowed(&statements, &call("GetItem", &[key])), "{key:?}");
        assert!(!allowed(&statements, &call("PutItem", &[key])), "{key:?}");
    }
    // One disallowed key spoils a batch; no key at all is no permission.
    let project = keys::project(p).pk;
    assert!(!allowed(&statements, &call("BatchGetItem", &[&project, "OTHER#x"])));
    assert!(!allowed(&statements, &call("BatchGetItem", &[])));
    for action in [
        "Scan",
        "Query",
        "UpdateItem",
        "DeleteItem",
        "ConditionCheckItem",
        "BatchWriteItem",
    ] {
        assert!(!allowed(&statements, &call(action, &[&project])), "{action}");
    }
    assert!(like("PROJECT#*", "PROJECT#") && like("a?c", "abc") && !like("a?c", "ac") && !like("PROJECT#*", "PROJECT"));
}
