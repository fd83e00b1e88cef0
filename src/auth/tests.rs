//! Client-token authentication, case by case.
use super::*;
use crate::model::ClientId;
use futures_util::FutureExt;
use jsonwebtoken::{EncodingKey, Header, encode};
use serde_json::json;

const SECRET: &[u8] = b"test-client-secret-at-least-32-bytes!!";
const CLIENT: &str = "613375a1eab2fe08527f81e2";

fn now() -> Timestamp {
    Timestamp::parse("2024-09-12T17:26:26.954Z").unwrap()
}

fn token(claims: serde_json::Value) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(SECRET),
    )
    .unwrap()
}

fn authenticator() -> Authenticator {
    Authenticator::local(String::from_utf8(SECRET.to_vec()).unwrap().into()).unwrap()
}

/// A local key needs no I/O: the check completes at once.
fn at(a: &Authenticator, values: &[&[u8]], now: Timestamp) -> Result<ClientId, ApiError> {
    a.authenticate(values.iter().copied(), now)
        .now_or_never()
        .expect("no I/O with a local key")
        .map(|caller| caller.client)
}

fn auth(values: &[&str]) -> Result<ClientId, ApiError> {
    let values: Vec<&[u8]> = values.iter().map(|v| v.as_bytes()).collect();
    at(&authenticator(), &values, now())
}

fn exp(offset: i64) -> i64 {
    now().unix_seconds() + offset
}

#[test]
fn accepts_bearer_in_any_case_and_bare_tokens() {
    let t = token(json!({"clientId": CLIENT, "exp": exp(60)}));
    for v in [
        format!("Bearer {t}"),
        format!("bearer {t}"),
        format!("BEARER  {t}"),
        t.clone(),
    ] {
        assert_eq!(auth(&[&v]).unwrap().to_string(), CLIENT, "{v}");
    }
}

#[test]
fn missing_tokens() {
    for v in [&[][..], &[""], &["Bearer"], &["Bearer   "]] {
        assert_eq!(auth(v), Err(ApiError::NoToken), "{v:?}");
    }
}

#[test]
fn expiry_and_leeway() {
    // now is hh:mm:26.954: exp(-4) was 4.954 s ago, exp(-5) 5.954 s ago.
    assert!(auth(&[&token(json!({"clientId": CLIENT, "exp": exp(-4)}))]).is_ok());
    assert_eq!(
        auth(&[&token(json!({"clientId": CLIENT, "exp": exp(-5)}))]),
        Err(ApiError::TokenExpired)
    );
    let ms = |ms: i64| Timestamp::from_unix_millis(ms).unwrap();
    let t = token(json!({"clientId": CLIENT, "exp": 1_000}));
    let a = authenticator();
    assert!(at(&a, &[t.as_bytes()], ms(1_005_000)).is_ok());
    assert_eq!(at(&a, &[t.as_bytes()], ms(1_005_001)), Err(ApiError::TokenExpired));
}

#[test]
fn invalid_tokens() {
    let good = token(json!({"clientId": CLIENT, "exp": exp(60)}));
    let other_key = encode(
        &Header::new(Algorithm::HS256),
        &json!({"clientId": CLIENT, "exp": exp(60)}),
        &EncodingKey::from_secret(b"another-secret-another-secret-another"),
    )
    .unwrap();
    let cases = [
        "not.a.jwt".to_owned(),
        other_key,
        token(json!({"exp": exp(60)})),
        token(json!({"clientId": "nope", "exp": exp(60)})),
        token(json!({"clientId": 42, "exp": exp(60)})),
        token(json!({"clientId": CLIENT})),
        token(json!({"clientId": CLIENT, "exp": exp(60), "aud": "liveness"})),
        format!("Basic {good}"),
    ];
    for t in cases {
        assert_eq!(auth(&[&t]), Err(ApiError::InvalidToken), "{t}");
    }
    assert_eq!(auth(&[&good, &good]), Err(ApiError::InvalidToken), "two headers");
    // A local key has no version: a token naming one is not ours.
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("v1".into());
    let with_kid = encode(
        &header,
        &json!({"clientId": CLIENT, "exp": exp(60)}),
        &EncodingKey::from_secret(SECRET),
    )
    .unwrap();
    assert_eq!(auth(&[&with_kid]), Err(ApiError::InvalidToken), "unknown kid");
}

#[test]
fn only_hs256() {
    let claims = b64(&json!({"clientId": CLIENT, "exp": exp(60)}).to_string());
    for alg in ["none", "HS384", "HS512", "RS256", "ES256"] {
        let header = b64(&json!({"alg": alg, "typ": "JWT"}).to_string());
        for sig in ["", "c2ln"] {
            let t = format!("{header}.{claims}.{sig}");
            assert_eq!(auth(&[&t]), Err(ApiError::InvalidToken), "{alg}");
        }
    }
}

#[test]
fn only_version_shaped_kids_may_ask_for_a_re_read() {
    assert!(is_version_id("3f2b9c1e-7a4d-4e2b-9c1e-7a4d3f2b9c1e"));
    assert!(is_version_id("3F2B9C1E-7A4D-4E2B-9C1E-7A4D3F2B9C1E"));
    for made_up in [
        "",
        "v1",
        "made-up-1",
        "3f2b9c1e7a4d4e2b9c1e7a4d3f2b9c1e",
        "3f2b9c1e-7a4d-4e2b-9c1e-7a4d3f2b9c1",
        "3f2b9c1e-7a4d-4e2b-9c1e-7a4d3f2b9c1g",
        "3f2b9c1e-7a4d-4e2b-9c1e-7a4d3f2b9c1e-1",
    ] {
        assert!(!is_version_id(made_up), "{made_up}");
    }
}

fn b64(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}
