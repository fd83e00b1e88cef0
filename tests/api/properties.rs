//! Property-based tests over arbitrary bodies and headers: never a panic, never a 5xx
//! for a client's mistake, always a 200 or an error in the contract's shape.

use std::sync::OnceLock;

use crate::helpers::*;
use base64::Engine;
use biometric_validations::ApiError;
use biometric_validations::auth::Authenticator;
use biometric_validations::http::check;
use biometric_validations::model::{Clock, SystemClock};
use futures_util::FutureExt;
use lambda_http::http::{HeaderName, HeaderValue, Request as HttpRequest};
use lambda_http::{Body, Request};
use proptest::prelude::*;
use serde_json::{Value, json};

/// Statuses a client's request may get (no 5xx: nothing here is the server's fault).
const CLIENT_STATUSES: [u16; 8] = [200, 400, 401, 404, 405, 409, 413, 415];

fn string_any() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,40}", // any Unicode, controls and NUL included
        "[a-zA-Z0-9 ]{0,20}",
        "[0-9a-fA-F]{24}", // looks like an ObjectId
        Just("\u{0000}\u{0007}\u{001b}[31m".to_owned()),
        Just("👩‍👩‍👧‍👦🇨🇴🧬".to_owned()),
        Just("x".repeat(256)),
        Just("é".repeat(257)),
        Just(" \u{3000}\u{2028}\t".to_owned()),
    ]
}

fn json_any() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        string_any().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{1,6}", inner, 0..4).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn field(valid: Vec<&'static str>) -> impl Strategy<Value = Option<Value>> {
    let valid: Vec<Value> = valid.into_iter().map(|v| json!(v)).collect();
    prop_oneof![
        3 => prop::sample::select(valid).prop_map(Some),
        1 => Just(None),
        1 => json_any().prop_map(Some),
        1 => string_any().prop_map(|s| Some(Value::String(s))),
    ]
}

/// Objects built from the contract's keys with valid, odd and wrong values, plus extras.
fn body_object() -> impl Strategy<Value = String> {
    (
        field(vec![PROJECT, "66DF5BF5C4D855FB0BDF5DA2", "66df5bf5c4d855fb0bdf5dff"]),
        field(vec![LOGIN_FLOW, ONBOARDING_FLOW]),
        field(vec!["03da12fba", "  someone@example.com ", "👩‍🔬"]),
        field(vec!["login", "onboarding", "validation", "oneTimeLink", "Login"]),
        prop::option::of(field(vec![
            "https://example.com/cb",
            "http://localhost:3000/",
            "javascript:x",
        ])),
        prop::option::of(prop_oneof![Just(json!(true)), Just(json!(false)), json_any()]),
        prop::option::of(field(vec!["en", "es", "fr"])),
        prop::option::of(("[a-zA-Z]{1,12}", json_any())),
    )
        .prop_map(|(project, flow, identifier, kind, redirect, twofa, language, extra)| {
            let mut m = serde_json::Map::new();
            for (k, v) in [
                ("project", project),
                ("projectFlow", flow),
                ("identifier", identifier),
                ("type", kind),
                ("redirectUrl", redirect.flatten()),
                ("language", language.flatten()),
            ] {
                if let Some(v) = v {
                    m.insert(k.to_owned(), v);
                }
            }
            if let Some(v) = twofa {
                m.insert("requires2FA".to_owned(), v);
            }
            if let Some((k, v)) = extra {
                m.insert(k, v);
            }
            Value::Object(m).to_string()
        })
}

fn body_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        6 => body_object().prop_map(String::into_bytes),
        2 => json_any().prop_map(|v| v.to_string().into_bytes()),
        1 => prop::collection::vec(any::<u8>(), 0..200),
        1 => Just(br#"{"type":"login","type":"login"}"#.to_vec()),
        1 => Just(format!("{}{}", "[".repeat(1000), "]".repeat(1000)).into_bytes()),
        1 => Just(format!("{}1{}", r#"{"a":"#.repeat(1000), "}".repeat(1000)).into_bytes()),
        1 => (16 * 1024 - 2..16 * 1024 + 2usize).prop_map(|n| {
            let mut b = SEED_BODY.as_bytes().to_vec();
            b.resize(n, b' ');
            b
        }),
    ]
}

fn authorization() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        4 => Just(Some(bearer())),
        1 => Just(Some(format!("bearer {}", token_for(CLIENT)))),
        1 => Just(Some(token_for(OTHER_CLIENT))),
        1 => Just(None),
        1 => "[ -~]{0,64}".prop_map(Some),
        1 => Just(Some(format!("Bearer {}", sign(&json!({"clientId": CLIENT, "exp": 1}), CLIENT_SECRET)))),
    ]
}

fn content_type() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        4 => Just(Some("application/json".to_owned())),
        2 => Just(None),
        1 => Just(Some("application/json; charset=utf-8".to_owned())),
        1 => Just(Some("text/plain".to_owned())),
        1 => "[ -~]{0,30}".prop_map(Some),
    ]
}

fn idempotency_key() -> impl Strategy<Value = Option<String>> {
    prop_oneof![4 => Just(None), 1 => "[!-~]{1,8}".prop_map(Some), 1 => "[ -~]{0,300}".prop_map(Some)]
}

fn assert_contract(status: u16, body: &str) -> Result<(), TestCaseError> {
    prop_assert!(CLIENT_STATUSES.contains(&status), "status {status}: {body}");
    let v: Value = serde_json::from_str(body).map_err(|e| TestCaseError::fail(format!("not JSON ({e}): {body}")))?;
    if status == 200 {
        prop_assert!(
            v["data"]["livenessSession"]["_id"].is_string() && v["data"]["token"].is_string(),
            "{body}"
        );
    } else {
        let o = v.as_object().unwrap();
        prop_assert_eq!(o.len(), 2, "{}", body);
        prop_assert!(o["code"].is_string() && o["message"].is_string(), "{body}");
    }
    Ok(())
}

/// The client-token check, as the function builds it: the checks before storage need
/// nothing else (no AWS client).
fn authenticator() -> &'static Authenticator {
    static AUTH: OnceLock<Authenticator> = OnceLock::new();
    AUTH.get_or_init(|| Authenticator::local(CLIENT_SECRET.to_owned().into()).expect("a local key"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1500))]

    /// The checks before storage, with raw bytes for bodies and header values.
    #[test]
    fn checks_before_storage_never_panic_and_answer_client_errors(
        body in body_bytes(),
        method in prop::sample::select(vec!["POST", "POST", "POST", "GET", "PUT"]),
        path in prop::sample::select(vec!["/v2/biometric-validations", "/v2/biometric-validations/", "/", "/prod/v2/biometric-validations"]),
        auth in authorization(),
        ct in content_type(),
        key in idempotency_key(),
        raw_headers in prop::collection::vec(("[a-z-]{1,12}", prop::collection::vec(any::<u8>(), 0..40)), 0..3),
    ) {
        let mut req = HttpRequest::builder().method(method).uri(path);
        for (name, value) in [("authorization", auth), ("content-type", ct), ("idempotency-key", key)] {
            if let Some(v) = value {
                req = req.header(name, v);
            }
        }
        let mut req: Request = req.body(Body::Binary(body)).unwrap();
        for (name, value) in raw_headers {
            if let (Ok(n), Ok(v)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_bytes(&value)) {
                req.headers_mut().append(n, v);
            }
        }
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(authenticator(), &req, SystemClock.now()).now_or_never().expect("no I/O with a local key")));
        let result = result.map_err(|_| TestCaseError::fail("panicked"))?;
        if let Err(e) = result {
            prop_assert!(CLIENT_STATUSES.contains(&e.status().as_u16()), "{e:?}");
            prop_assert!(!matches!(e, ApiError::Internal | ApiError::ServiceUnavailable));
        }
    }
}

struct Live {
    rt: tokio::runtime::Runtime,
    env: TestEnv,
}

fn live() -> &'static Live {
    static LIVE: OnceLock<Live> = OnceLock::new();
    LIVE.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let env = rt.block_on(TestEnv::new());
        Live { rt, env }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Whole requests through the event conversion, the handler and moto.
    #[test]
    fn whole_requests_answer_a_200_or_a_contract_error(
        body in body_bytes(),
        base64 in any::<bool>(),
        auth in authorization(),
        ct in content_type(),
        key in idempotency_key(),
    ) {
        let text = String::from_utf8(body.clone()).ok();
        let (payload, encoded) = match (&text, base64) {
            (Some(t), false) => (t.clone(), false),
            _ => (base64::engine::general_purpose::STANDARD.encode(&body), true),
        };
        let mut headers: Vec<(&str, &str)> = Vec::new();
        for (name, value) in [("authorization", &auth), ("content-type", &ct), ("idempotency-key", &key)] {
            if let Some(v) = value {
                headers.push((name, v.as_str()));
            }
        }
        let mut ev = event("POST", "/v2/biometric-validations", &headers, Some(&payload));
        ev["isBase64Encoded"] = json!(encoded);
        let live = live();
        let reply = live.rt.block_on(live.env.call(ev));
        assert_contract(reply.status, &reply.body)?;
    }
}

#[test]
fn edge_cases_through_the_handler() {
    let live = live();
    let call = |body: &[u8], b64: bool| {
        let payload = if b64 {
            base64::engine::general_purpose::STANDARD.encode(body)
        } else {
            String::from_utf8(body.to_vec()).unwrap()
        };
        let mut ev = post(&payload, &[]);
        ev["isBase64Encoded"] = json!(b64);
        live.rt.block_on(live.env.call(ev))
    };
    let with_identifier = |id: &str| {
        json!({"project": PROJECT, "projectFlow": LOGIN_FLOW, "identifier": id, "type": "login"}).to_string()
    };
    for id in ["👩🔬 ana", "\t\n padded \r\n", &"x".repeat(256), &"ñ".repeat(256)] {
        let r = call(with_identifier(id).as_bytes(), false);
        assert_eq!(r.status, 200, "{id:?}: {}", r.body);
        assert_eq!(r.json()["data"]["livenessSession"]["identifier"], id.trim());
    }
    for id in [
        "\u{0000}nul",
        "tab\tand\u{001b}esc",
        "a\u{202e}b",
        "👩‍🔬 ana",
        "ana\u{feff}",
    ] {
        let r = call(with_identifier(id).as_bytes(), false);
        r.assert_error(
            409,
            "MissingParameter",
            "identifier must not contain control characters",
        );
    }
    let r = call(with_identifier(&"x".repeat(257)).as_bytes(), false);
    r.assert_error(409, "MissingParameter", "identifier must be at most 256 characters");
    let r = call(br#"{"project":1,"projectFlow":2.5,"identifier":3,"type":4}"#, false);
    r.assert_error(
        409,
        "MissingParameter",
        "project must be a string. projectFlow must be a string. identifier must be a string. type must be a string",
    );
    let r = call(b"\xff\xfe{\"a\":1}", true);
    assert_eq!((r.status, r.json()["code"].as_str()), (400, Some("InvalidContent")));
    // Deep nesting: an array is "not an object" however deep (8 KiB of brackets included);
    // an object nests its values, past serde_json's recursion limit: invalid JSON.
    for depth in [1000, 8 * 1024] {
        let deep = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        call(deep.as_bytes(), false).assert_error(409, "MissingParameter", "body must be an object");
    }
    let deep = format!("{}1{}", r#"{"a":"#.repeat(1000), "}".repeat(1000));
    let r = call(deep.as_bytes(), false);
    assert_eq!(
        (r.status, r.json()["code"].as_str()),
        (400, Some("InvalidContent")),
        "{}",
        r.body
    );
    let r = call(
        br#"{"project":"66df5bf5c4d855fb0bdf5da2","project":"66df5bf5c4d855fb0bdf5da2"}"#,
        false,
    );
    assert_eq!((r.status, r.json()["code"].as_str()), (400, Some("InvalidContent")));
}
