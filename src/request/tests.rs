//! The request body's rules, case by case.
use super::*;

fn now() -> Timestamp {
    Timestamp::parse("2024-09-12T17:26:26.954Z").unwrap()
}

fn errors(body: &str) -> String {
    match parse(body.as_bytes(), now()) {
        Err(ApiError::Fields(e)) => e.join(". "),
        other => panic!("expected field errors, got {other:?}"),
    }
}

const SEED: &str = r#"{"project":"66df5bf5c4d855fb0bdf5da2","projectFlow":"66df5c22c4d855fb0bdf5da9","identifier":"03da12fba","type":"login"}"#;

#[test]
fn seed_request_is_valid() {
    let r = parse(SEED.as_bytes(), now()).unwrap();
    assert_eq!(r.project.to_string(), "66df5bf5c4d855fb0bdf5da2");
    assert_eq!(r.kind, ValidationType::Login);
    assert_eq!(
        (r.redirect_url, r.requires_2fa, r.expires_at, r.language),
        (None, None, None, None)
    );
}

#[test]
fn ids_are_lower_cased_and_identifier_trimmed() {
    let r = parse(
        "{\"project\":\"66DF5BF5C4D855FB0BDF5DA2\",\"projectFlow\":\"66df5c22c4d855fb0bdf5da9\",\"identifier\":\"\u{3000} ab \\n\",\"type\":\"validation\"}".as_bytes(),
        now(),
    )
    .unwrap();
    assert_eq!(r.project.to_string(), "66df5bf5c4d855fb0bdf5da2");
    assert_eq!(r.identifier, "ab");
}

#[test]
fn empty_object_reports_every_missing_field() {
    assert_eq!(
        errors("{}"),
        "missing project. missing projectFlow. missing identifier. missing type"
    );
}

#[test]
fn null_and_blank_count_as_missing() {
    assert_eq!(
        errors(r#"{"project":null,"projectFlow":"  ","identifier":"","type":"login"}"#),
        "missing project. missing projectFlow. missing identifier"
    );
}

#[test]
fn wrong_types_and_bad_values() {
    assert_eq!(
        errors(
            r#"{"project":1,"projectFlow":"xyz","identifier":true,"type":"signup","requires2FA":"yes","language":"fr","webhookUrl":"https://x"}"#
        ),
        "project must be a string. projectFlow must be a valid id. identifier must be a string. \
         type must be one of: [validation,login,onboarding,oneTimeLink]. requires2FA must be a boolean. \
         language must be one of: [en,es]. webhookUrl is not allowed"
    );
}

#[test]
fn identifier_length_counts_code_points() {
    let body = |n: usize| {
        format!(
            r#"{{"project":"66df5bf5c4d855fb0bdf5da2","projectFlow":"66df5c22c4d855fb0bdf5da9","identifier":"{}","type":"login"}}"#,
            "é".repeat(n)
        )
    };
    assert_eq!(
        parse(body(256).as_bytes(), now()).unwrap().identifier.chars().count(),
        256
    );
    assert_eq!(errors(&body(257)), "identifier must be at most 256 characters");
}

#[test]
fn identifier_refuses_control_and_bidi_characters_once_trimmed() {
    let body = |identifier: &str| {
        let identifier = serde_json::to_string(identifier).unwrap();
        format!(
            r#"{{"project":"66df5bf5c4d855fb0bdf5da2","projectFlow":"66df5c22c4d855fb0bdf5da9","identifier":{identifier},"type":"login"}}"#
        )
    };
    for bad in [
        "a\u{0}b",
        "a\nb",
        "a\tb",
        "a\u{1b}[31mb",
        "a\u{7f}",
        "a\u{85}b",
        "a\u{9f}",
        "\u{202a}a",
        "a\u{202e}b",
        "a\u{2066}",
        "a\u{2069}b",
        // Format characters (Cf): two identifiers that look the same are the same.
        "ana\u{200d}",
        "a\u{200c}na",
        "\u{200e}ana",
        "ana\u{200f}",
        "an\u{ad}a",
        "\u{feff}ana",
        "\u{1f469}\u{200d}\u{1f4bb}",
        "a\u{2060}b",
        "a\u{e0001}",
    ] {
        assert_eq!(
            errors(&body(bad)),
            "identifier must not contain control characters",
            "{bad:?}"
        );
    }
    // Surrounding white space (control characters among it) is trimmed first.
    for (sent, kept) in [
        ("\n\t ana \r\n\u{85}", "ana"),
        ("\u{3000}ana\u{2028}", "ana"),
        ("a\u{2029}b", "a\u{2029}b"),
        ("Ana María Ñúñez 李", "Ana María Ñúñez 李"),
    ] {
        assert_eq!(
            parse(body(sent).as_bytes(), now()).unwrap().identifier,
            kept,
            "{sent:?}"
        );
    }
}

#[test]
fn redirect_url_is_kept_in_its_whatwg_serialization() {
    let r = parse(
        with(r#""redirectUrl":"HTTPS://App.Example:443/done?x=\u00e9""#).as_bytes(),
        now(),
    )
    .unwrap();
    assert_eq!(r.redirect_url.as_deref(), Some("https://app.example/done?x=%C3%A9"));
    assert_eq!(
        errors(&with(r#""redirectUrl":"https:///evil.example""#)),
        "redirectUrl host must be an ASCII DNS name, a dotted-quad IPv4 address or [::1]"
    );
    assert_eq!(
        errors(&with(r#""redirectUrl":"https://u@a.example""#)),
        "redirectUrl must not carry credentials"
    );
}

fn with(extra: &str) -> String {
    format!("{},{extra}}}", &SEED[..SEED.len() - 1])
}

#[test]
fn optional_fields() {
    let r = parse(
        with(r#""redirectUrl":"https://example.com/done?x=1","requires2FA":true,"expiresAt":"2024-09-12T17:36:26.999Z","language":"es""#).as_bytes(),
        now(),
    )
    .unwrap();
    assert_eq!(r.redirect_url.as_deref(), Some("https://example.com/done?x=1"));
    assert_eq!(r.requires_2fa, Some(true));
    assert_eq!(r.expires_at.unwrap().to_string(), "2024-09-12T17:36:26.000Z");
    assert_eq!(r.language, Some(Language::Es));
    let r = parse(
        with(r#""redirectUrl":null,"requires2FA":null,"expiresAt":null,"language":null"#).as_bytes(),
        now(),
    )
    .unwrap();
    assert_eq!(
        (r.redirect_url, r.requires_2fa, r.expires_at, r.language),
        (None, None, None, None)
    );
}

#[test]
fn empty_optional_strings_break_their_rule() {
    let e = errors(&with(r#""redirectUrl":"","expiresAt":"","language":"""#));
    assert!(e.starts_with("redirectUrl must be an absolute https:// URL"), "{e}");
    assert!(e.contains("expiresAt must be an ISO-8601 date-time"), "{e}");
    assert!(e.ends_with("language must be one of: [en,es]"), "{e}");
}

#[test]
fn invalid_json_and_non_objects() {
    for (body, want) in [
        ("", "Invalid JSON: the body is empty"),
        ("{", "Invalid JSON: the body ends too early"),
    ] {
        assert_eq!(parse(body.as_bytes(), now()).unwrap_err().message(), want);
    }
    let dup = parse(br#"{"type":"login","type":"x"}"#, now()).unwrap_err();
    assert!(
        matches!(&dup, ApiError::InvalidJson(m) if m.contains("duplicate key \"type\"")),
        "{dup:?}"
    );
    assert!(matches!(parse(b"\xff", now()), Err(ApiError::InvalidJson(_))));
    for body in ["[]", "[1,{\"a\":2}]", "1", "\"s\"", "null", "true"] {
        assert_eq!(
            parse(body.as_bytes(), now()),
            Err(ApiError::fields("body must be an object")),
            "{body}"
        );
    }
}

#[test]
fn at_most_32_keys_and_duplicates_found_in_linear_time() {
    let body = |n: usize| {
        let keys: Vec<String> = (0..n).map(|i| format!(r#""k{i}":{i}"#)).collect();
        format!("{{{}}}", keys.join(","))
    };
    assert_eq!(errors(&body(33)), "body must have at most 32 keys");
    assert_eq!(errors(&body(2_080)), "body must have at most 32 keys");
    // 32 unknown keys: each named, and the missing fields.
    assert!(errors(&body(32)).ends_with("k31 is not allowed"));
    // A duplicate is a JSON error, wherever it is.
    let late = format!("{},\"k5\":1}}", &body(40)[..body(40).len() - 1]);
    let e = parse(late.as_bytes(), now()).unwrap_err();
    assert!(
        matches!(&e, ApiError::InvalidJson(m) if m.contains("duplicate key \"k5\"")),
        "{e:?}"
    );
}

#[test]
fn unknown_keys_are_named_in_body_order() {
    assert_eq!(errors(&with(r#""b":1,"a":2"#)), "b is not allowed. a is not allowed");
}
