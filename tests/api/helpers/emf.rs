//! A checker for CloudWatch Embedded Metric Format log lines, after the specification
//! (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html):
//! what CloudWatch Logs needs to extract every metric a line declares. [`check`] takes one
//! parsed log line and answers the metrics it declares, or every violation it found.
//!
//! Rules, each a [`Problem`]:
//! - the root is an object with an `_aws` object holding `Timestamp` (a whole number of
//!   milliseconds since the epoch) and `CloudWatchMetrics` (an array of directives);
//! - a directive is an object with `Namespace` (a string of 1..=1024 characters),
//!   `Dimensions` (an array of at least one dimension set; a set is an array of at most 30
//!   names, and may be empty) and `Metrics` (an array of at most 100 definitions);
//! - every dimension name is a string naming a member of the root whose value is a string
//!   of 1..=1024 characters (CloudWatch's limit on a dimension value);
//! - a definition is an object with `Name` (a non-empty string), optionally `Unit` (one of
//!   CloudWatch's units) and `StorageResolution` (1 or 60);
//! - every metric name names a member of the root that is a number or a non-empty array of
//!   at most 100 numbers;
//! - the line is at most 256 KiB (Lambda's limit on a log event).
//!
//! The members are looked up at the root only: `"A.a"` names the member `"A.a"`, never
//! `{"A": {"a": …}}` (the specification's "target members cannot be nested").

use std::fmt;

use serde_json::{Map, Value};

/// CloudWatch's metric units (MetricDatum's `Unit`); `None` is what an absent `Unit` means.
pub const UNITS: [&str; 27] = [
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];

pub const MAX_NAMESPACE_CHARS: usize = 1024;
pub const MAX_DIMENSIONS_PER_SET: usize = 30;
pub const MAX_METRICS_PER_DIRECTIVE: usize = 100;
pub const MAX_VALUES_PER_METRIC: usize = 100;
pub const MAX_DIMENSION_VALUE_CHARS: usize = 1024;
pub const MAX_LINE_BYTES: usize = 256 * 1024;
/// A timestamp below this (2001-09-09 in milliseconds) is in seconds, not milliseconds.
const MIN_MILLIS: u64 = 1_000_000_000_000;

/// One metric CloudWatch extracts from the line: a name in a namespace, with a unit and one
/// dimension set (a metric declared with two sets is extracted twice).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Metric {
    pub namespace: String,
    pub name: String,
    /// `"None"` when the definition has no `Unit`.
    pub unit: String,
    pub dimensions: Vec<String>,
}

/// What is wrong, and where (a path such as `_aws.CloudWatchMetrics[0].Metrics[2]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub at: String,
    pub problem: Problem,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    RootNotObject,
    LineTooLarge(usize),
    MissingAws,
    AwsNotObject,
    MissingTimestamp,
    /// Not a whole non-negative number.
    TimestampNotInteger,
    /// A plausible epoch in seconds: the specification wants milliseconds.
    TimestampInSeconds(u64),
    MissingCloudWatchMetrics,
    CloudWatchMetricsNotArray,
    DirectiveNotObject,
    MissingNamespace,
    NamespaceNotString,
    /// Its length in characters.
    NamespaceLength(usize),
    MissingDimensions,
    DimensionsNotArray,
    NoDimensionSet,
    DimensionSetNotArray,
    TooManyDimensions(usize),
    DimensionNameNotString,
    /// The name of a dimension with no member at the root.
    DimensionMemberMissing(String),
    DimensionValueNotString(String),
    /// The dimension and its value's length in characters.
    DimensionValueLength(String, usize),
    MissingMetrics,
    MetricsNotArray,
    TooManyMetrics(usize),
    DefinitionNotObject,
    MissingMetricName,
    /// Not a string, or empty.
    MetricNameInvalid,
    UnknownUnit(String),
    UnitNotString,
    StorageResolution(Value),
    /// The name of a metric with no member at the root.
    MetricMemberMissing(String),
    MetricValueNotNumeric(String),
    /// The metric and the number of values in its array.
    TooManyValues(String, usize),
    /// An empty array: nothing to extract.
    NoValues(String),
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {:?}",
            if self.at.is_empty() { "(root)" } else { &self.at },
            self.problem
        )
    }
}

/// The metrics `line` declares, or every violation of the specification in it.
pub fn check(line: &Value) -> Result<Vec<Metric>, Vec<Violation>> {
    let mut c = Checker::default();
    c.line(line);
    if c.violations.is_empty() {
        Ok(c.metrics)
    } else {
        Err(c.violations)
    }
}

/// [`check`] for a line that must be valid: panics with every violation and the line.
pub fn metrics_of(line: &Value) -> Vec<Metric> {
    check(line).unwrap_or_else(|violations| {
        let list: Vec<String> = violations.iter().map(ToString::to_string).collect();
        panic!("not a valid EMF line ({}):\n{line}", list.join("; "))
    })
}

#[derive(Default)]
struct Checker {
    metrics: Vec<Metric>,
    violations: Vec<Violation>,
}

impl Checker {
    fn fail(&mut self, at: impl Into<String>, problem: Problem) {
        self.violations.push(Violation { at: at.into(), problem });
    }

    /// `obj[key]` as an array, or a violation (missing / not an array).
    fn array<'v>(
        &mut self,
        obj: &'v Map<String, Value>,
        key: &str,
        at: &str,
        missing: Problem,
        not_array: Problem,
    ) -> Option<&'v Vec<Value>> {
        let path = format!("{at}.{key}");
        match obj.get(key) {
            None => self.fail(path, missing),
            Some(Value::Array(items)) => return Some(items),
            Some(_) => self.fail(path, not_array),
        }
        None
    }

    fn line(&mut self, line: &Value) {
        let Some(root) = line.as_object() else {
            return self.fail("", Problem::RootNotObject);
        };
        let size = line.to_string().len();
        if size > MAX_LINE_BYTES {
            self.fail("", Problem::LineTooLarge(size));
        }
        let aws = match root.get("_aws") {
            None => return self.fail("_aws", Problem::MissingAws),
            Some(Value::Object(aws)) => aws,
            Some(_) => return self.fail("_aws", Problem::AwsNotObject),
        };
        match aws.get("Timestamp") {
            None => self.fail("_aws.Timestamp", Problem::MissingTimestamp),
            Some(t) => match t.as_u64() {
                None => self.fail("_aws.Timestamp", Problem::TimestampNotInteger),
                Some(ms) if ms < MIN_MILLIS => self.fail("_aws.Timestamp", Problem::TimestampInSeconds(ms)),
                Some(_) => {}
            },
        }
        let Some(directives) = self.array(
            aws,
            "CloudWatchMetrics",
            "_aws",
            Problem::MissingCloudWatchMetrics,
            Problem::CloudWatchMetricsNotArray,
        ) else {
            return;
        };
        for (i, directive) in directives.iter().enumerate() {
            self.directive(root, directive, &format!("_aws.CloudWatchMetrics[{i}]"));
        }
    }

    fn directive(&mut self, root: &Map<String, Value>, directive: &Value, at: &str) {
        let Some(d) = directive.as_object() else {
            return self.fail(at, Problem::DirectiveNotObject);
        };
        let namespace = match d.get("Namespace") {
            None => {
                self.fail(format!("{at}.Namespace"), Problem::MissingNamespace);
                None
            }
            Some(Value::String(ns)) => {
                let n = ns.chars().count();
                if !(1..=MAX_NAMESPACE_CHARS).contains(&n) {
                    self.fail(format!("{at}.Namespace"), Problem::NamespaceLength(n));
                }
                Some(ns.clone())
            }
            Some(_) => {
                self.fail(format!("{at}.Namespace"), Problem::NamespaceNotString);
                None
            }
        };
        let sets = self.dimension_sets(root, d, at);
        let definitions = self.definitions(root, d, at);
        if let (Some(namespace), Some(sets), Some(definitions)) = (namespace, sets, definitions) {
            for dimensions in &sets {
                for (name, unit) in &definitions {
                    self.metrics.push(Metric {
                        namespace: namespace.clone(),
                        name: name.clone(),
                        unit: unit.clone(),
                        dimensions: dimensions.clone(),
                    });
                }
            }
        }
    }

    /// The directive's dimension sets, each name checked against its member at the root.
    fn dimension_sets(
        &mut self,
        root: &Map<String, Value>,
        d: &Map<String, Value>,
        at: &str,
    ) -> Option<Vec<Vec<String>>> {
        let sets = self.array(
            d,
            "Dimensions",
            at,
            Problem::MissingDimensions,
            Problem::DimensionsNotArray,
        )?;
        if sets.is_empty() {
            // The specification's schema wants at least one set; `[[]]` is "no dimensions".
            self.fail(format!("{at}.Dimensions"), Problem::NoDimensionSet);
        }
        let mut out = Vec::new();
        for (s, set) in sets.iter().enumerate() {
            let set_at = format!("{at}.Dimensions[{s}]");
            let Some(names) = set.as_array() else {
                self.fail(set_at, Problem::DimensionSetNotArray);
                continue;
            };
            if names.len() > MAX_DIMENSIONS_PER_SET {
                self.fail(&set_at, Problem::TooManyDimensions(names.len()));
            }
            let mut dims = Vec::new();
            for (k, name) in names.iter().enumerate() {
                let Some(name) = name.as_str() else {
                    self.fail(format!("{set_at}[{k}]"), Problem::DimensionNameNotString);
                    continue;
                };
                match root.get(name) {
                    None => self.fail(format!("{set_at}[{k}]"), Problem::DimensionMemberMissing(name.into())),
                    Some(Value::String(v)) => {
                        let n = v.chars().count();
                        if !(1..=MAX_DIMENSION_VALUE_CHARS).contains(&n) {
                            self.fail(name, Problem::DimensionValueLength(name.into(), n));
                        }
                    }
                    Some(_) => self.fail(name, Problem::DimensionValueNotString(name.into())),
                }
                dims.push(name.to_owned());
            }
            out.push(dims);
        }
        Some(out)
    }

    /// The directive's metric definitions as (name, unit), each checked against its member.
    fn definitions(
        &mut self,
        root: &Map<String, Value>,
        d: &Map<String, Value>,
        at: &str,
    ) -> Option<Vec<(String, String)>> {
        let defs = self.array(d, "Metrics", at, Problem::MissingMetrics, Problem::MetricsNotArray)?;
        if defs.len() > MAX_METRICS_PER_DIRECTIVE {
            self.fail(format!("{at}.Metrics"), Problem::TooManyMetrics(defs.len()));
        }
        let mut out = Vec::new();
        for (m, def) in defs.iter().enumerate() {
            let def_at = format!("{at}.Metrics[{m}]");
            let Some(def) = def.as_object() else {
                self.fail(def_at, Problem::DefinitionNotObject);
                continue;
            };
            let unit = match def.get("Unit") {
                None => "None".to_owned(),
                Some(Value::String(u)) if UNITS.contains(&u.as_str()) => u.clone(),
                Some(Value::String(u)) => {
                    self.fail(format!("{def_at}.Unit"), Problem::UnknownUnit(u.clone()));
                    u.clone()
                }
                Some(_) => {
                    self.fail(format!("{def_at}.Unit"), Problem::UnitNotString);
                    String::new()
                }
            };
            match def.get("StorageResolution") {
                Some(r) if !matches!(r.as_u64(), Some(1 | 60)) => {
                    self.fail(
                        format!("{def_at}.StorageResolution"),
                        Problem::StorageResolution(r.clone()),
                    );
                }
                _ => {}
            }
            let name = match def.get("Name") {
                None => {
                    self.fail(format!("{def_at}.Name"), Problem::MissingMetricName);
                    continue;
                }
                Some(Value::String(n)) if !n.is_empty() => n,
                Some(_) => {
                    self.fail(format!("{def_at}.Name"), Problem::MetricNameInvalid);
                    continue;
                }
            };
            match root.get(name) {
                None => self.fail(def_at, Problem::MetricMemberMissing(name.clone())),
                Some(Value::Number(_)) => {}
                Some(Value::Array(values)) => {
                    if values.is_empty() {
                        self.fail(name, Problem::NoValues(name.clone()));
                    }
                    if values.len() > MAX_VALUES_PER_METRIC {
                        self.fail(name, Problem::TooManyValues(name.clone(), values.len()));
                    }
                    if !values.iter().all(Value::is_number) {
                        self.fail(name, Problem::MetricValueNotNumeric(name.clone()));
                    }
                }
                Some(_) => self.fail(name, Problem::MetricValueNotNumeric(name.clone())),
            }
            out.push((name.clone(), unit));
        }
        Some(out)
    }
}
