//! `template.yaml`'s parameters accept exactly what the function accepts at start-up: a
//! value CloudFormation lets through but the function refuses would deploy, then fail
//! every cold start with an init error.

use std::ops::RangeInclusive;

use biometric_validations::config::{
    CLIENT_TOKEN_MAX_SECONDS, PROJECT_CACHE_SECONDS, SECRETS_REFRESH_SECONDS, SESSION_SECONDS,
};
use serde_norway::Value;

/// The template's `Parameters`, read once per test.
fn parameters() -> Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/template.yaml")).unwrap();
    let template: Value = serde_norway::from_str(&text).expect("template.yaml is YAML");
    template["Parameters"].clone()
}

fn bound(p: &Value, key: &str) -> i64 {
    p[key].as_i64().unwrap_or_else(|| panic!("{key} missing in {p:?}"))
}

#[test]
fn number_parameters_have_the_settings_ranges() {
    let ranges: [(&str, RangeInclusive<i64>); 3] = [
        ("LivenessSessionSeconds", SESSION_SECONDS),
        (
            "ProjectCacheSeconds",
            (*PROJECT_CACHE_SECONDS.start()).into()..=(*PROJECT_CACHE_SECONDS.end()).into(),
        ),
        (
            "SecretsRefreshSeconds",
            i64::try_from(*SECRETS_REFRESH_SECONDS.start()).unwrap()
                ..=i64::try_from(*SECRETS_REFRESH_SECONDS.end()).unwrap(),
        ),
    ];
    let parameters = parameters();
    for (name, range) in ranges {
        let p = &parameters[name];
        assert_eq!(p["Type"].as_str(), Some("Number"), "{name}");
        assert_eq!(bound(p, "MinValue")..=bound(p, "MaxValue"), range, "{name}");
    }
}

/// `ClientTokenMaxSeconds` is a string (empty: no cap), so its range is a pattern.
#[test]
fn the_client_token_lifetime_pattern_is_the_settings_range() {
    let p = &parameters()["ClientTokenMaxSeconds"];
    let pattern = p["AllowedPattern"].as_str().expect("an AllowedPattern");
    let default = p["Default"].as_str().expect("a string default");
    let schema = serde_json::json!({"type": "string", "pattern": pattern});
    let validator = jsonschema::validator_for(&schema).expect("a valid pattern");
    let accepts = |v: &str| validator.is_valid(&serde_json::json!(v));
    assert!(
        accepts(default) && default.is_empty(),
        "the default leaves the cap unset"
    );

    let (lo, hi) = (*CLIENT_TOKEN_MAX_SECONDS.start(), *CLIENT_TOKEN_MAX_SECONDS.end());
    // Around every power of ten, every digit boundary of the maximum, and the bounds.
    let mut values: Vec<i64> = (0..=120).collect();
    let mut p10 = 1;
    while p10 <= hi * 10 {
        values.extend([p10 - 1, p10, p10 + 1, 2 * p10, 3 * p10 + 1]);
        p10 *= 10;
    }
    let digits = hi.to_string();
    for i in 1..=digits.len() {
        let head: i64 = digits[..i].parse().unwrap();
        let scale = 10_i64.pow(u32::try_from(digits.len() - i).unwrap());
        values.extend([
            head * scale - 1,
            head * scale,
            (head + 1) * scale - 1,
            (head + 1) * scale,
        ]);
    }
    values.extend([lo - 1, lo, hi - 1, hi, hi + 1, 99_999_999]);
    for v in values {
        assert_eq!(
            accepts(&v.to_string()),
            CLIENT_TOKEN_MAX_SECONDS.contains(&v),
            "{v}: the pattern and the setting's range disagree"
        );
    }
    for v in ["01", "-1", "+5", " 5", "5 ", "1e3", "3600s"] {
        assert!(!accepts(v), "{v:?} accepted");
    }
}

/// AWS WAF's bounds for a rate-based rule's `Limit` (requests per evaluation window; the
/// template's window is a minute): a value outside them passes CloudFormation's parameter
/// checks and then fails the stack update at the web ACL.
const WAF_RATE_LIMIT: RangeInclusive<i64> = 10..=2_000_000_000;

#[test]
fn the_waf_parameters_accept_only_what_waf_accepts() {
    let parameters = parameters();
    let limit = &parameters["WafRateLimit"];
    assert_eq!(limit["Type"].as_str(), Some("Number"));
    assert_eq!(bound(limit, "MinValue")..=bound(limit, "MaxValue"), WAF_RATE_LIMIT);
    assert!(WAF_RATE_LIMIT.contains(&bound(limit, "Default")));
}
