//! Body → `CreateRequest`, with every field error of one body collected.

use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::Duration;
use url::Url;

use crate::error::{ApiError, TYPE_MESSAGE};
use crate::model::{Language, ObjectId, Timestamp, ValidationType};

pub const MAX_IDENTIFIER_CHARS: usize = 256;
pub const MAX_REDIRECT_URL_CHARS: usize = 2048;
pub const MIN_EXPIRY_SECONDS: i64 = 60;
pub const MAX_EXPIRY_SECONDS: i64 = 3600;

/// A validated request. `Serialize` gives the canonical form that idempotency hashes.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CreateRequest {
    pub project: ObjectId,
    #[serde(rename = "projectFlow")]
    pub project_flow: ObjectId,
    pub identifier: String,
    #[serde(rename = "type")]
    pub kind: ValidationType,
    #[serde(rename = "redirectUrl")]
    pub redirect_url: Option<String>,
    #[serde(rename = "requires2FA")]
    pub requires_2fa: Option<bool>,
    /// Already cut to whole seconds.
    #[serde(rename = "expiresAt")]
    pub expires_at: Option<Timestamp>,
    pub language: Option<Language>,
}

const KNOWN_KEYS: [&str; 8] = [
    "project",
    "projectFlow",
    "identifier",
    "type",
    "redirectUrl",
    "requires2FA",
    "expiresAt",
    "language",
];

/// The top level of a body: an object's entries in order (duplicates refused), or
/// "something else".
enum TopLevel {
    Object(Vec<(String, Value)>),
    NotObject,
}

impl<'de> Deserialize<'de> for TopLevel {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TopLevelVisitor)
    }
}

struct TopLevelVisitor;

impl<'de> Visitor<'de> for TopLevelVisitor {
    type Value = TopLevel;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TopLevel, A::Error> {
        let mut entries: Vec<(String, Value)> = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            if entries.iter().any(|(k, _)| *k == key) {
                return Err(de::Error::custom(format_args!("duplicate key \"{}\"", printable(&key))));
            }
            let value = map.next_value::<Value>()?;
            entries.push((key, value));
        }
        Ok(TopLevel::Object(entries))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<TopLevel, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(TopLevel::NotObject)
    }

    fn visit_bool<E>(self, _: bool) -> Result<TopLevel, E> {
        Ok(TopLevel::NotObject)
    }
    fn visit_i64<E>(self, _: i64) -> Result<TopLevel, E> {
        Ok(TopLevel::NotObject)
    }
    fn visit_u64<E>(self, _: u64) -> Result<TopLevel, E> {
        Ok(TopLevel::NotObject)
    }
    fn visit_f64<E>(self, _: f64) -> Result<TopLevel, E> {
        Ok(TopLevel::NotObject)
    }
    fn visit_str<E>(self, _: &str) -> Result<TopLevel, E> {
        Ok(TopLevel::NotObject)
    }
    fn visit_unit<E>(self) -> Result<TopLevel, E> {
        Ok(TopLevel::NotObject)
    }
}

/// Parses and validates a body. `now` is the request's instant (bounds of `expiresAt`).
pub fn parse(body: &[u8], now: Timestamp) -> Result<CreateRequest, ApiError> {
    let top: TopLevel = serde_json::from_slice(body).map_err(|e| ApiError::InvalidJson(json_reason(&e)))?;
    let TopLevel::Object(entries) = top else {
        return Err(ApiError::fields("body must be an object"));
    };
    let get = |key: &str| {
        entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
            .filter(|v| !v.is_null())
    };
    let mut errors = Vec::new();

    let project = required_id("project", get("project"), &mut errors);
    let project_flow = required_id("projectFlow", get("projectFlow"), &mut errors);
    let identifier = required_string("identifier", get("identifier"), &mut errors).and_then(|s| {
        let trimmed = s.trim();
        if trimmed.chars().count() > MAX_IDENTIFIER_CHARS {
            errors.push(format!("identifier must be at most {MAX_IDENTIFIER_CHARS} characters"));
            None
        } else {
            Some(trimmed.to_owned())
        }
    });
    let kind = required_string("type", get("type"), &mut errors).and_then(|s| {
        let t = ValidationType::parse(s);
        if t.is_none() {
            errors.push(TYPE_MESSAGE.to_owned());
        }
        t
    });
    let redirect_url = optional_string("redirectUrl", get("redirectUrl"), &mut errors).and_then(|s| {
        let ok = check_redirect_url(s);
        if let Err(why) = &ok {
            errors.push(format!("redirectUrl {why}"));
        }
        ok.ok().map(|()| s.to_owned())
    });
    let requires_2fa = match get("requires2FA") {
        None => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => {
            errors.push("requires2FA must be a boolean".to_owned());
            None
        }
    };
    let expires_at = optional_string("expiresAt", get("expiresAt"), &mut errors).and_then(|s| {
        let ok = check_expires_at(s, now);
        if let Err(why) = &ok {
            errors.push(format!("expiresAt {why}"));
        }
        ok.ok()
    });
    let language = optional_string("language", get("language"), &mut errors).and_then(|s| {
        let l = Language::parse(s);
        if l.is_none() {
            errors.push("language must be one of: [en,es]".to_owned());
        }
        l
    });
    for (key, _) in &entries {
        if !KNOWN_KEYS.contains(&key.as_str()) {
            errors.push(format!("{} is not allowed", printable(key)));
        }
    }

    match (project, project_flow, identifier, kind) {
        (Some(project), Some(project_flow), Some(identifier), Some(kind)) if errors.is_empty() => Ok(CreateRequest {
            project,
            project_flow,
            identifier,
            kind,
            redirect_url,
            requires_2fa,
            expires_at,
            language,
        }),
        _ => Err(ApiError::Fields(errors)),
    }
}

/// A short reason for a JSON syntax error, without echoing the body.
fn json_reason(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    match e.classify() {
        Category::Eof if e.line() == 1 && e.column() == 0 => "the body is empty".to_owned(),
        Category::Eof => "the body ends too early".to_owned(),
        Category::Io => "the body could not be read".to_owned(),
        Category::Syntax | Category::Data => {
            let text = e.to_string();
            // serde_json ends its messages with " at line L column C"; keep the cause.
            let cause = text.split(" at line ").next().unwrap_or("syntax error");
            format!("{cause} at line {} column {}", e.line(), e.column())
        }
    }
}

/// Keys are echoed in messages: keep them short and free of control characters.
fn printable(key: &str) -> String {
    let mut s: String = key
        .chars()
        .take(64)
        .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
        .collect();
    if key.chars().count() > 64 {
        s.push('…');
    }
    s
}

fn required_string<'a>(key: &str, v: Option<&'a Value>, errors: &mut Vec<String>) -> Option<&'a str> {
    match v {
        None => {
            errors.push(format!("missing {key}"));
            None
        }
        Some(Value::String(s)) if s.trim().is_empty() => {
            errors.push(format!("missing {key}"));
            None
        }
        Some(Value::String(s)) => Some(s),
        Some(_) => {
            errors.push(format!("{key} must be a string"));
            None
        }
    }
}

fn optional_string<'a>(key: &str, v: Option<&'a Value>, errors: &mut Vec<String>) -> Option<&'a str> {
    match v {
        None => None,
        Some(Value::String(s)) => Some(s),
        Some(_) => {
            errors.push(format!("{key} must be a string"));
            None
        }
    }
}

fn required_id(key: &str, v: Option<&Value>, errors: &mut Vec<String>) -> Option<ObjectId> {
    let s = required_string(key, v, errors)?;
    let id = ObjectId::parse(s);
    if id.is_none() {
        errors.push(format!("{key} must be a valid id"));
    }
    id
}

fn check_redirect_url(s: &str) -> Result<(), String> {
    const RULE: &str = "must be an absolute https:// URL (http:// only for localhost)";
    if s.chars().count() > MAX_REDIRECT_URL_CHARS {
        return Err(format!("must be at most {MAX_REDIRECT_URL_CHARS} characters"));
    }
    // The URL parser forgives what browsers forgive (surrounding spaces, backslashes for
    // slashes, `https:host` without `//`, `127.1` for `127.0.0.1`); a redirect target is
    // checked as written instead.
    if s.chars().any(|c| c.is_whitespace() || c.is_control() || c == '\\') {
        return Err(RULE.to_owned());
    }
    let lower = s.get(..8).map(str::to_ascii_lowercase).unwrap_or_default();
    let (https, rest) = if lower.starts_with("https://") {
        (true, &s[8..])
    } else if lower.starts_with("http://") {
        (false, &s[7..])
    } else {
        return Err(RULE.to_owned());
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err("must not carry credentials".to_owned());
    }
    let url = Url::parse(s).map_err(|_| RULE.to_owned())?;
    if url.host_str().is_none_or(str::is_empty) {
        return Err(RULE.to_owned());
    }
    if https {
        return Ok(());
    }
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().map(|h| format!("[{h}]")).unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default().to_owned(),
    };
    if ["localhost", "127.0.0.1", "[::1]"]
        .iter()
        .any(|h| h.eq_ignore_ascii_case(&host))
    {
        Ok(())
    } else {
        Err(RULE.to_owned())
    }
}

fn check_expires_at(s: &str, now: Timestamp) -> Result<Timestamp, String> {
    let sent = Timestamp::parse_exact(s).ok_or("must be an ISO-8601 date-time such as 2024-09-12T17:30:26Z")?;
    let now = now.datetime();
    let earliest = now + Duration::seconds(MIN_EXPIRY_SECONDS);
    let latest = now + Duration::seconds(MAX_EXPIRY_SECONDS);
    if sent < earliest || sent > latest {
        return Err("must be between 60 seconds and 1 hour from now".to_owned());
    }
    Ok(Timestamp::from_datetime(sent).whole_seconds())
}

#[cfg(test)]
mod tests {
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
    fn redirect_url_rules() {
        for ok in [
            "https://a.example/x",
            "http://localhost:3000/cb",
            "http://127.0.0.1/cb",
            "http://[::1]:8080/",
            "HTTPS://A.example/Path?q=1#frag",
            "http://LOCALHOST/",
        ] {
            assert_eq!(check_redirect_url(ok), Ok(()), "{ok}");
        }
        for bad in [
            "http://example.com",
            "ftp://x.example",
            "/relative",
            "https://",
            " https://a.example",
            "https://u:p@a.example",
            "javascript:alert(1)",
            "http://127.0.0.2/",
            "https:example.com",
            "https:\\\\evil.example",
            "https://a.example\\@b.example",
            "http://127.1/",
            "http://0x7f.0.0.1/",
            "http://localhost.evil.example/",
            "http://[::2]/",
            "http://user@localhost/",
        ] {
            assert!(check_redirect_url(bad).is_err(), "{bad}");
        }
        let long = format!("https://a.example/{}", "x".repeat(2048));
        assert_eq!(check_redirect_url(&long), Err("must be at most 2048 characters".into()));
    }

    #[test]
    fn expires_at_bounds_are_inclusive_and_checked_as_sent() {
        let at = |s: &str| check_expires_at(s, now());
        assert_eq!(
            at("2024-09-12T17:27:26.954Z").unwrap().to_string(),
            "2024-09-12T17:27:26.000Z"
        );
        assert!(at("2024-09-12T17:27:26.953Z").is_err());
        assert_eq!(
            at("2024-09-12T18:26:26.954Z").unwrap().to_string(),
            "2024-09-12T18:26:26.000Z"
        );
        assert!(at("2024-09-12T18:26:26.955Z").is_err());
        assert_eq!(
            at("2024-09-12T19:00:00+01:00").unwrap().to_string(),
            "2024-09-12T18:00:00.000Z"
        );
        assert!(at("2024-09-12").is_err());
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
    fn unknown_keys_are_named_in_body_order() {
        assert_eq!(errors(&with(r#""b":1,"a":2"#)), "b is not allowed. a is not allowed");
    }
}
