//! The function's IAM policy (template.yaml) against what the function really sends.
//! Every DynamoDB request of the request path is recorded as the SDK puts it on the
//! wire (an interceptor on the function's own client, through a proxy to moto that loses
//! an answer to drive the re-reads), then judged by the role's statements: the action,
//! and every partition key against the statement's `dynamodb:LeadingKeys` patterns.
//! A request the policy would refuse, or a pattern that lets the function write a
//! project, flow or client, fails the test. The role is the function's own (`FunctionRole`),
//! whose other statements are checked here too: its logs go to its own log group only.

use std::sync::{Arc, Mutex};

use crate::helpers::policy::{Call, Statement, allowed, dynamodb_calls, like};
use crate::helpers::proxy::Fault;
use crate::helpers::*;
use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use biometric_validations::model::{ObjectId, RandomIds, SessionId, SystemClock, ValidationId};
use biometric_validations::store::keys;
use serde_json::Value;

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
        self.0.lock().unwrap().extend(dynamodb_calls(&operation, &body));
        Ok(())
    }
}

/// The function's own role (`Role:` on the function), as the template gives it.
const ROLE: &str = "FunctionRole";

/// The function's DynamoDB statements, from its role.
fn statements() -> Vec<Statement> {
    let template = policy::template();
    assert_eq!(
        template["Resources"]["CreateBiometricValidationFunction"]["Properties"]["Role"],
        serde_norway::from_str::<serde_norway::Value>(&format!("!GetAtt {ROLE}.Arn")).unwrap(),
        "the function runs with {ROLE}"
    );
    let found: Vec<Statement> = policy::role_statements(&template, ROLE)
        .into_iter()
        .filter(|s| s.actions.iter().any(|a| a.starts_with("dynamodb:")))
        .collect();
    assert!(!found.is_empty(), "no DynamoDB statement in the function's policy");
    found
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
            env.forget_first_answer().await;
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
        resource: "Table".to_owned(),
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

/// The role's log permissions name the function's own log group and nothing else (SAM's
/// AWSLambdaBasicExecutionRole would let it write to every log group of the region), and the
/// function logs to that group.
#[test]
fn the_role_writes_only_its_own_log_group() {
    let template = policy::template();
    let statements = policy::role_statements(&template, ROLE);
    let logs: Vec<&Statement> = statements
        .iter()
        .filter(|s| {
            s.actions.iter().any(|a| a.to_ascii_lowercase().starts_with("logs:")) || s.grants("logs:PutLogEvents")
        })
        .collect();
    assert!(!logs.is_empty(), "the role cannot write logs");
    for s in &logs {
        assert_eq!(
            s.resources,
            ["FunctionLogGroup"],
            "a log statement names more than the function's log group: {s:?}"
        );
    }
    let call = |action: &str, resource: &str| Call {
        action: action.to_owned(),
        resource: resource.to_owned(),
        partition_keys: vec![],
    };
    for action in ["logs:CreateLogStream", "logs:PutLogEvents"] {
        assert!(allowed(&statements, &call(action, "FunctionLogGroup")), "{action}");
        assert!(
            !allowed(&statements, &call(action, "ApiAccessLogGroup")),
            "{action} on another group"
        );
    }
    assert!(!allowed(&statements, &call("logs:CreateLogGroup", "FunctionLogGroup")));
    let function = &template["Resources"]["CreateBiometricValidationFunction"]["Properties"];
    assert_eq!(
        function["LoggingConfig"]["LogGroup"],
        serde_norway::from_str::<serde_norway::Value>("!Ref FunctionLogGroup").unwrap(),
        "the function logs to FunctionLogGroup"
    );
    assert!(
        template["Resources"][ROLE]["Properties"]
            .get("ManagedPolicyArns")
            .is_none(),
        "no managed policy (such as AWSLambdaBasicExecutionRole) on the function's role"
    );
}

/// Besides its table items and logs: X-Ray's put calls, and its two keys read (DescribeSecret
/// for the stages, GetSecretValue for the values, their KMS key's Decrypt through Secrets
/// Manager), nothing else.
#[test]
fn the_role_reads_its_two_keys_writes_traces_and_nothing_more() {
    let template = policy::template();
    let statements = policy::role_statements(&template, ROLE);
    let call = |action: &str, resource: &str| Call {
        action: action.to_owned(),
        resource: resource.to_owned(),
        partition_keys: vec![],
    };
    for secret in ["ClientTokenSecret", "SessionTokenSecret"] {
        for action in ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"] {
            assert!(allowed(&statements, &call(action, secret)), "{action} on {secret}");
        }
        for action in [
            "secretsmanager:PutSecretValue",
            "secretsmanager:UpdateSecretVersionStage",
            "secretsmanager:UpdateSecret",
        ] {
            assert!(
                !allowed(&statements, &call(action, secret)),
                "the function may {action}"
            );
        }
    }
    assert!(!allowed(
        &statements,
        &call("secretsmanager:GetSecretValue", "SomeOtherSecret")
    ));
    for action in ["xray:PutTraceSegments", "xray:PutTelemetryRecords"] {
        assert!(allowed(&statements, &call(action, "*")), "{action}");
    }
    // Their KMS key: decrypt only, only through Secrets Manager, only the stack's key (by its
    // alias: the key's policy names this role, so the role cannot name the key).
    let yaml = |s: &str| serde_norway::from_str::<serde_norway::Value>(s).unwrap();
    let kms: Vec<&Statement> = statements
        .iter()
        .filter(|s| s.actions.iter().any(|a| a.starts_with("kms:")))
        .collect();
    assert_eq!(kms.len(), 1, "{kms:?}");
    assert_eq!(kms[0].actions, ["kms:Decrypt"]);
    assert_eq!(
        kms[0].condition,
        yaml(
            "StringEquals: {kms:ViaService: !Sub 'secretsmanager.${AWS::Region}.amazonaws.com'}\n\
             ForAnyValue:StringEquals: {kms:ResourceAliases: !Sub 'alias/${AWS::StackName}/signing-keys'}"
        )
    );
    assert_eq!(
        template["Resources"]["SecretsKeyAlias"]["Properties"]["AliasName"],
        yaml("!Sub 'alias/${AWS::StackName}/signing-keys'"),
        "the alias the role names is the key's"
    );
    let mut actions: Vec<&str> = statements
        .iter()
        .flat_map(|s| s.actions.iter().map(String::as_str))
        .collect();
    actions.sort_unstable();
    actions.dedup();
    assert_eq!(
        actions,
        [
            "dynamodb:BatchGetItem",
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "kms:Decrypt",
            "logs:CreateLogStream",
            "logs:PutLogEvents",
            "secretsmanager:DescribeSecret",
            "secretsmanager:GetSecretValue",
            "xray:PutTelemetryRecords",
            "xray:PutTraceSegments",
        ],
        "the function's role grants exactly these actions"
    );
}
