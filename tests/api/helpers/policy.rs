//! IAM policies of template.yaml, and IAM's evaluation of them for the calls the tests record:
//! the action, the resource (by the template's logical ID), and for DynamoDB every partition
//! key of the call against the statement's `dynamodb:LeadingKeys` patterns.
//!
//! Used by iam.rs (the function's role) and admin_iam.rs (the admin CLI's managed policy).

use serde_json::Value as Json;
use serde_norway::Value;

/// template.yaml, parsed.
pub fn template() -> Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/template.yaml")).unwrap();
    serde_norway::from_str(&text).expect("template.yaml is YAML")
}

/// One call as IAM authorizes it: the action, the resource it names (a logical ID of the
/// template, e.g. `Table` or `ClientTokenSecret`), and the partition keys it names.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub action: String,
    pub resource: String,
    pub partition_keys: Vec<String>,
}

/// The DynamoDB calls a request on the wire is authorized as, on the template's `Table`. A
/// transaction's `Put`s are each authorized as a `PutItem` of their own key, its
/// `ConditionCheck`s as `ConditionCheckItem`, its `Update`s and `Delete`s as `UpdateItem` and
/// `DeleteItem`.
pub fn dynamodb_calls(operation: &str, body: &Json) -> Vec<Call> {
    let pk = |item: &Json| item["pk"]["S"].as_str().unwrap_or_default().to_owned();
    let one = |action: &str, keys: Vec<String>| Call {
        action: format!("dynamodb:{action}"),
        resource: "Table".to_owned(),
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
        // Query, Scan, CreateTable and the rest: named as sent, whatever their keys.
        other => vec![one(other, vec![])],
    }
}

/// An Allow statement, as IAM reads it.
#[derive(Debug)]
pub struct Statement {
    pub sid: Option<String>,
    pub actions: Vec<String>,
    /// `*`, a logical ID (`!Ref X`, `!GetAtt X.Arn`), or the text of anything else (`!Sub ...`).
    pub resources: Vec<String>,
    /// `ForAllValues:StringLike` on `dynamodb:LeadingKeys`, if the statement has it.
    pub patterns: Option<Vec<String>>,
    /// `"Null": {"dynamodb:LeadingKeys": "false"}`.
    pub requires_a_key: bool,
    /// The statement's whole `Condition`, for checks of other keys.
    pub condition: Value,
}

pub fn yaml_strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Sequence(items) => items.iter().flat_map(yaml_strings).collect(),
        other => panic!("expected a string or a list of strings, got {other:?}"),
    }
}

/// The ARN of a secret of the template by its name, as a policy can write it without a
/// reference to the secret: `<prefix><Name>-??????` (Secrets Manager adds 6 characters).
const SECRET_ARN_PREFIX: &str = "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:";

/// A `Resource` entry: `*`, the logical ID a `!Ref` or `!GetAtt <id>.Arn` names (or a
/// `!Sub` of a secret's ARN by its name), or the text of anything else.
fn resource(template: &Value, v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Sequence(items) => items.iter().flat_map(|i| resource(template, i)).collect(),
        Value::Tagged(t) if t.tag == "Ref" => yaml_strings(&t.value),
        Value::Tagged(t) if t.tag == "GetAtt" => {
            let target = yaml_strings(&t.value).join(".");
            vec![target.strip_suffix(".Arn").unwrap_or(&target).to_owned()]
        }
        Value::Tagged(t) if t.tag == "Sub" => {
            let text = t.value.as_str().unwrap_or_default();
            let secret = text
                .strip_prefix(SECRET_ARN_PREFIX)
                .and_then(|rest| rest.strip_suffix("-??????"))
                .and_then(|name| secret_named(template, name));
            vec![secret.unwrap_or_else(|| format!("{v:?}"))]
        }
        other => vec![format!("{other:?}")],
    }
}

/// The logical ID of the template's secret whose `Name` is `!Sub <name>`.
fn secret_named(template: &Value, name: &str) -> Option<String> {
    template["Resources"]
        .as_mapping()?
        .iter()
        .find(|(_, r)| {
            r["Type"].as_str() == Some("AWS::SecretsManager::Secret")
                && matches!(&r["Properties"]["Name"], Value::Tagged(n) if n.tag == "Sub" && n.value.as_str() == Some(name))
        })
        .and_then(|(id, _)| id.as_str().map(str::to_owned))
}

/// The Allow statements of a policy document of `template`.
pub fn document_statements(template: &Value, document: &Value) -> Vec<Statement> {
    let mut found = Vec::new();
    for s in document["Statement"].as_sequence().expect("Statement is a list") {
        if s["Effect"].as_str() != Some("Allow") {
            continue;
        }
        let condition = s.get("Condition").cloned().unwrap_or(Value::Null);
        found.push(Statement {
            sid: s["Sid"].as_str().map(str::to_owned),
            actions: yaml_strings(&s["Action"]),
            resources: resource(template, &s["Resource"]),
            patterns: condition
                .get("ForAllValues:StringLike")
                .and_then(|c| c.get("dynamodb:LeadingKeys"))
                .map(yaml_strings),
            requires_a_key: condition
                .get("Null")
                .and_then(|c| c.get("dynamodb:LeadingKeys"))
                .is_some_and(|v| yaml_strings(v) == ["false"]),
            condition,
        });
    }
    found
}

/// The Allow statements of every inline policy of the role `logical_id`.
pub fn role_statements(template: &Value, logical_id: &str) -> Vec<Statement> {
    let role = &template["Resources"][logical_id];
    assert_eq!(role["Type"].as_str(), Some("AWS::IAM::Role"), "{logical_id} is a role");
    role["Properties"]["Policies"]
        .as_sequence()
        .expect("the role's Policies is a list")
        .iter()
        .flat_map(|p| document_statements(template, &p["PolicyDocument"]))
        .collect()
}

/// The Allow statements of the managed policy `logical_id`.
pub fn managed_policy_statements(template: &Value, logical_id: &str) -> Vec<Statement> {
    let policy = &template["Resources"][logical_id];
    assert_eq!(
        policy["Type"].as_str(),
        Some("AWS::IAM::ManagedPolicy"),
        "{logical_id} is a managed policy"
    );
    document_statements(template, &policy["Properties"]["PolicyDocument"])
}

/// IAM's `StringLike`: `*` any run of characters, `?` any one.
pub fn like(pattern: &str, value: &str) -> bool {
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
    /// Whether the statement grants `action` (IAM's action names are case-insensitive and
    /// may hold wildcards).
    pub fn grants(&self, action: &str) -> bool {
        self.actions
            .iter()
            .any(|a| like(&a.to_ascii_lowercase(), &action.to_ascii_lowercase()))
    }

    /// As IAM evaluates it: the action, the resource, and the partition keys, where
    /// `ForAllValues` is true of a call with no keys at all, which only the `Null` condition
    /// refuses.
    pub fn allows(&self, call: &Call) -> bool {
        let keys = &call.partition_keys;
        let all_match = |patterns: &Vec<String>| keys.iter().all(|k| patterns.iter().any(|p| like(p, k)));
        self.grants(&call.action)
            && self.resources.iter().any(|r| r == "*" || *r == call.resource)
            && self.patterns.as_ref().is_none_or(all_match)
            && (!self.requires_a_key || !keys.is_empty())
    }
}

pub fn allowed(statements: &[Statement], call: &Call) -> bool {
    statements.iter().any(|s| s.allows(call))
}
