//! The EMF checker of tests/common/emf.rs on good and bad lines: every rule refuses what
//! breaks it, and only that, and lets the boundary through.

use crate::helpers::emf;

use emf::{Metric, Problem, check, metrics_of};
use serde_json::{Value, json};

const NS: &str = "biometric-validations-dev";

/// A request's line as the metric contract describes it: `Requests` by no dimension, by
/// `Status` and by `Code`; the other metrics without dimensions.
fn good() -> Value {
    json!({
        "_aws": {
            "Timestamp": 1726161986954u64,
            "CloudWatchMetrics": [
                {
                    "Namespace": NS,
                    "Dimensions": [[], ["Status"], ["Code"]],
                    "Metrics": [{"Name": "Requests", "Unit": "Count"}]
                },
                {
                    "Namespace": NS,
                    "Dimensions": [[]],
                    "Metrics": [
                        {"Name": "InternalErrors", "Unit": "Count"},
                        {"Name": "Unavailable", "Unit": "Count"},
                        {"Name": "Latency", "Unit": "Milliseconds"},
                        {"Name": "DynamoDbTime", "Unit": "Milliseconds"},
                        {"Name": "IdempotentReplays", "Unit": "Count"},
                        {"Name": "ProjectCacheHits", "Unit": "Count"},
                        {"Name": "ColdStarts", "Unit": "Count"}
                    ]
                }
            ]
        },
        "level": "INFO",
        "request_id": "8f5e1c2a-0000-4000-8000-000000000000",
        "Status": "200",
        "Code": "OK",
        "Requests": 1,
        "InternalErrors": 0,
        "Unavailable": 0,
        "Latency": 12.5,
        "DynamoDbTime": 9.25,
        "IdempotentReplays": 0,
        "ProjectCacheHits": 1,
        "ColdStarts": 0
    })
}

fn metric(name: &str, unit: &str, dimensions: &[&str]) -> Metric {
    Metric {
        namespace: NS.into(),
        name: name.into(),
        unit: unit.into(),
        dimensions: dimensions.iter().map(|d| (*d).to_owned()).collect(),
    }
}

/// The problems of `good()` after `edit`.
fn problems(edit: impl FnOnce(&mut Value)) -> Vec<Problem> {
    let mut line = good();
    edit(&mut line);
    match check(&line) {
        Ok(metrics) => panic!("accepted: {metrics:?}\n{line}"),
        Err(violations) => violations.into_iter().map(|v| v.problem).collect(),
    }
}

fn accepted(edit: impl FnOnce(&mut Value)) -> Vec<Metric> {
    let mut line = good();
    edit(&mut line);
    metrics_of(&line)
}

fn directive(line: &mut Value, i: usize) -> &mut Value {
    &mut line["_aws"]["CloudWatchMetrics"][i]
}

fn remove(v: &mut Value, key: &str) {
    v.as_object_mut().unwrap().remove(key).expect(key);
}

#[test]
fn a_good_line_declares_each_metric_once_per_dimension_set() {
    let metrics = metrics_of(&good());
    assert_eq!(
        metrics,
        [
            metric("Requests", "Count", &[]),
            metric("Requests", "Count", &["Status"]),
            metric("Requests", "Count", &["Code"]),
            metric("InternalErrors", "Count", &[]),
            metric("Unavailable", "Count", &[]),
            metric("Latency", "Milliseconds", &[]),
            metric("DynamoDbTime", "Milliseconds", &[]),
            metric("IdempotentReplays", "Count", &[]),
            metric("ProjectCacheHits", "Count", &[]),
            metric("ColdStarts", "Count", &[]),
        ]
    );
}

#[test]
fn optional_parts_and_boundaries_are_accepted() {
    // No Unit means "None"; StorageResolution 1 and 60; an array of 100 values.
    let metrics = accepted(|l| {
        let d = directive(l, 1);
        d["Metrics"][0] = json!({"Name": "InternalErrors", "StorageResolution": 1});
        d["Metrics"][1]["StorageResolution"] = json!(60);
        l["Latency"] = json!(vec![1.5; 100]);
    });
    assert_eq!(metrics[3], metric("InternalErrors", "None", &[]));
    assert_eq!(metrics.len(), 10);
    // Every CloudWatch unit.
    for unit in emf::UNITS {
        accepted(|l| directive(l, 1)["Metrics"][2]["Unit"] = json!(unit));
    }
    // A namespace of 1024 characters, 30 dimensions in a set, 100 metrics in a directive,
    // a dimension value of 1024 characters; members the directives do not name are ignored.
    let metrics = accepted(|l| {
        for i in 0..2 {
            directive(l, i)["Namespace"] = json!("n".repeat(1024));
        }
        let names: Vec<String> = (0..30).map(|i| format!("D{i}")).collect();
        for n in &names {
            l[n.as_str()] = json!("v".repeat(1024));
        }
        directive(l, 0)["Dimensions"] = json!([names]);
        let defs: Vec<Value> = (0..100).map(|i| json!({"Name": format!("M{i}")})).collect();
        for i in 0..100 {
            l[format!("M{i}")] = json!(i);
        }
        directive(l, 1)["Metrics"] = json!(defs);
        l["nested"] = json!({"anything": [1, "two", null]});
    });
    assert_eq!(metrics.len(), 101);
    assert_eq!(metrics[0].dimensions.len(), 30);
}

#[test]
fn the_root_and_the_metadata() {
    assert_eq!(check(&json!([good()])).unwrap_err()[0].problem, Problem::RootNotObject);
    assert_eq!(problems(|l| remove(l, "_aws")), [Problem::MissingAws]);
    assert_eq!(problems(|l| l["_aws"] = json!([])), [Problem::AwsNotObject]);
    let big = problems(|l| l["padding"] = json!("x".repeat(256 * 1024)));
    assert!(
        matches!(big[..], [Problem::LineTooLarge(n)] if n > 256 * 1024),
        "{big:?}"
    );
    accepted(|l| l["padding"] = json!("x".repeat(255 * 1024)));
}

#[test]
fn the_timestamp_is_whole_milliseconds() {
    assert_eq!(
        problems(|l| remove(&mut l["_aws"], "Timestamp")),
        [Problem::MissingTimestamp]
    );
    for bad in [json!("1726161986954"), json!(1726161986954.5), json!(-1), json!(null)] {
        assert_eq!(
            problems(|l| l["_aws"]["Timestamp"] = bad),
            [Problem::TimestampNotInteger]
        );
    }
    assert_eq!(
        problems(|l| l["_aws"]["Timestamp"] = json!(1726161986u64)),
        [Problem::TimestampInSeconds(1726161986)]
    );
}

#[test]
fn cloudwatch_metrics_is_an_array_of_directive_objects() {
    assert_eq!(
        problems(|l| remove(&mut l["_aws"], "CloudWatchMetrics")),
        [Problem::MissingCloudWatchMetrics]
    );
    assert_eq!(
        problems(|l| l["_aws"]["CloudWatchMetrics"] = json!({})),
        [Problem::CloudWatchMetricsNotArray]
    );
    assert_eq!(
        problems(|l| *directive(l, 1) = json!("Latency")),
        [Problem::DirectiveNotObject]
    );
}

#[test]
fn the_namespace() {
    assert_eq!(
        problems(|l| remove(directive(l, 0), "Namespace")),
        [Problem::MissingNamespace]
    );
    assert_eq!(
        problems(|l| directive(l, 0)["Namespace"] = json!(7)),
        [Problem::NamespaceNotString]
    );
    assert_eq!(
        problems(|l| directive(l, 0)["Namespace"] = json!("")),
        [Problem::NamespaceLength(0)]
    );
    assert_eq!(
        problems(|l| directive(l, 0)["Namespace"] = json!("é".repeat(1025))),
        [Problem::NamespaceLength(1025)]
    );
}

#[test]
fn the_dimension_sets() {
    assert_eq!(
        problems(|l| remove(directive(l, 0), "Dimensions")),
        [Problem::MissingDimensions]
    );
    assert_eq!(
        problems(|l| directive(l, 0)["Dimensions"] = json!(["Status"])),
        [Problem::DimensionSetNotArray]
    );
    assert_eq!(
        problems(|l| directive(l, 0)["Dimensions"] = json!({"Status": []})),
        [Problem::DimensionsNotArray]
    );
    assert_eq!(
        problems(|l| directive(l, 0)["Dimensions"] = json!([])),
        [Problem::NoDimensionSet]
    );
    assert_eq!(
        problems(|l| {
            let names: Vec<String> = (0..31).map(|i| format!("D{i}")).collect();
            for n in &names {
                l[n.as_str()] = json!("v");
            }
            directive(l, 0)["Dimensions"] = json!([names]);
        }),
        [Problem::TooManyDimensions(31)]
    );
    assert_eq!(
        problems(|l| directive(l, 0)["Dimensions"] = json!([[1]])),
        [Problem::DimensionNameNotString]
    );
}

#[test]
fn every_dimension_names_a_string_member_of_the_root() {
    assert_eq!(
        problems(|l| remove(l, "Code")),
        [Problem::DimensionMemberMissing("Code".into())]
    );
    // The directive and the member drifted apart.
    assert_eq!(
        problems(|l| directive(l, 0)["Dimensions"][1] = json!(["status"])),
        [Problem::DimensionMemberMissing("status".into())]
    );
    // Looked up at the root only, never nested.
    assert_eq!(
        problems(|l| {
            l["A"] = json!({"a": "x"});
            directive(l, 0)["Dimensions"][1] = json!(["A.a"]);
        }),
        [Problem::DimensionMemberMissing("A.a".into())]
    );
    assert!(
        accepted(|l| {
            l["A.a"] = json!("x");
            directive(l, 0)["Dimensions"][1] = json!(["A.a"]);
        })
        .contains(&metric("Requests", "Count", &["A.a"]))
    );
    assert_eq!(
        problems(|l| l["Status"] = json!(200)),
        [Problem::DimensionValueNotString("Status".into())]
    );
    assert_eq!(
        problems(|l| l["Code"] = json!("")),
        [Problem::DimensionValueLength("Code".into(), 0)]
    );
    assert_eq!(
        problems(|l| l["Code"] = json!("c".repeat(1025))),
        [Problem::DimensionValueLength("Code".into(), 1025)]
    );
}

#[test]
fn the_metric_definitions() {
    assert_eq!(
        problems(|l| remove(directive(l, 1), "Metrics")),
        [Problem::MissingMetrics]
    );
    assert_eq!(
        problems(|l| directive(l, 1)["Metrics"] = json!({"Name": "Latency"})),
        [Problem::MetricsNotArray]
    );
    assert_eq!(
        problems(|l| {
            let defs: Vec<Value> = (0..101).map(|i| json!({"Name": format!("M{i}")})).collect();
            for i in 0..101 {
                l[format!("M{i}")] = json!(i);
            }
            directive(l, 1)["Metrics"] = json!(defs);
        }),
        [Problem::TooManyMetrics(101)]
    );
    assert_eq!(
        problems(|l| directive(l, 1)["Metrics"][2] = json!("Latency")),
        [Problem::DefinitionNotObject]
    );
    assert_eq!(
        problems(|l| directive(l, 1)["Metrics"][2] = json!({"Unit": "Milliseconds"})),
        [Problem::MissingMetricName]
    );
    for bad in [json!(""), json!(3), json!(["Latency"])] {
        assert_eq!(
            problems(|l| directive(l, 1)["Metrics"][2]["Name"] = bad),
            [Problem::MetricNameInvalid]
        );
    }
}

#[test]
fn units_and_storage_resolution() {
    for bad in ["ms", "Millisecond", "milliseconds", "Count/Minute", ""] {
        assert_eq!(
            problems(|l| directive(l, 1)["Metrics"][2]["Unit"] = json!(bad)),
            [Problem::UnknownUnit(bad.into())]
        );
    }
    assert_eq!(
        problems(|l| directive(l, 1)["Metrics"][2]["Unit"] = json!(null)),
        [Problem::UnitNotString]
    );
    for bad in [json!(5), json!("1"), json!(1.0), json!(0)] {
        assert_eq!(
            problems(|l| directive(l, 1)["Metrics"][2]["StorageResolution"] = bad.clone()),
            [Problem::StorageResolution(bad)]
        );
    }
}

#[test]
fn every_metric_names_a_numeric_member_of_the_root() {
    assert_eq!(
        problems(|l| remove(l, "Latency")),
        [Problem::MetricMemberMissing("Latency".into())]
    );
    // The directive and the member drifted apart: the member was renamed.
    assert_eq!(
        problems(|l| {
            let v = l.as_object_mut().unwrap().remove("Latency").unwrap();
            l["LatencyMs"] = v;
        }),
        [Problem::MetricMemberMissing("Latency".into())]
    );
    for bad in [
        json!("12.5"),
        json!(true),
        json!(null),
        json!({"value": 1}),
        json!([1, "2"]),
    ] {
        assert_eq!(
            problems(|l| l["Latency"] = bad),
            [Problem::MetricValueNotNumeric("Latency".into())]
        );
    }
    assert_eq!(
        problems(|l| l["Latency"] = json!(vec![1; 101])),
        [Problem::TooManyValues("Latency".into(), 101)]
    );
    assert_eq!(
        problems(|l| l["Latency"] = json!([])),
        [Problem::NoValues("Latency".into())]
    );
}

#[test]
fn every_violation_of_a_line_is_reported_with_where_it_is() {
    let mut line = good();
    remove(&mut line, "Code");
    remove(&mut line, "ColdStarts");
    directive(&mut line, 1)["Metrics"][2]["Unit"] = json!("ms");
    let violations = check(&line).unwrap_err();
    let found: Vec<String> = violations.iter().map(ToString::to_string).collect();
    assert_eq!(
        found,
        [
            r#"_aws.CloudWatchMetrics[0].Dimensions[2][0]: DimensionMemberMissing("Code")"#,
            r#"_aws.CloudWatchMetrics[1].Metrics[2].Unit: UnknownUnit("ms")"#,
            r#"_aws.CloudWatchMetrics[1].Metrics[6]: MetricMemberMissing("ColdStarts")"#,
        ]
    );
}
