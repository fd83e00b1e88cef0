//! Raw body bytes and header values through every check before storage (route, method,
//! size, authentication, content type, JSON, fields, Idempotency-Key).
//!
//! Input: byte 0 picks method, path and whether a valid client token is used; the rest
//! is split on 0xFF into authorization, content-type, idempotency-key and body.
#![no_main]

use std::sync::OnceLock;

use biometric_validations::auth::Authenticator;
use biometric_validations::http::check;
use biometric_validations::model::Timestamp;
use lambda_http::Body;
use lambda_http::http::{HeaderValue, Request};
use futures_util::FutureExt;
use libfuzzer_sys::fuzz_target;

const CLIENT_SECRET: &str = "local-client-token-secret-0123456789abcdef";

struct Fixture {
    auth: Authenticator,
    now: Timestamp,
    token: String,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let now = Timestamp::parse("2030-01-01T00:00:00Z").unwrap();
        // The checks before storage need only the client-token check: no AWS client.
        let auth = Authenticator::local(CLIENT_SECRET.to_owned().into()).unwrap();
        let claims = serde_json::json!({"clientId": "613375a1eab2fe08527f81e2", "exp": now.unix_seconds() + 600});
        let token = jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(CLIENT_SECRET.as_bytes()),
        )
        .unwrap();
        Fixture { auth, now, token }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let f = fixture();
    let mut parts = rest.splitn(4, |b| *b == 0xFF);
    let auth = parts.next().unwrap_or_default();
    let content_type = parts.next().unwrap_or_default();
    let key = parts.next().unwrap_or_default();
    let body = parts.next().unwrap_or_default();

    let method = if selector & 0x03 == 3 { "GET" } else { "POST" };
    let path = if selector & 0x04 != 0 {
        "/prod/v2/biometric-validations"
    } else {
        "/v2/biometric-validations"
    };
    let mut req = Request::builder().method(method).uri(path);
    if selector & 0x80 != 0 {
        req = req.header("authorization", format!("Bearer {}", f.token));
    } else if let Ok(v) = HeaderValue::from_bytes(auth) {
        req = req.header("authorization", v);
    }
    if selector & 0x40 != 0 {
        if let Ok(v) = HeaderValue::from_bytes(content_type) {
            req = req.header("content-type", v);
        }
    }
    if selector & 0x20 != 0 {
        if let Ok(v) = HeaderValue::from_bytes(key) {
            req = req.header("idempotency-key", v);
        }
    }
    let Ok(req) = req.body(Body::Binary(body.to_vec())) else {
        return;
    };
    let result = check(&f.auth, &req, f.now).now_or_never().expect("no I/O with a local key");
    if let Err(e) = result {
        assert!(!e.status().is_server_error(), "a client mistake answered {}: {e:?}", e.status());
        let _ = e.body();
    }
});
