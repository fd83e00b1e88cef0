//! API Gateway events in, the function's answers out, through the real event conversion
//! and the real handler.

use biometric_validations::Handler;
use lambda_http::{Body, Request, Response};
use serde_json::{Value, json};

use super::tokens::bearer;

/// An API Gateway HTTP API (payload 2.0) event.
pub fn event(method: &str, path: &str, headers: &[(&str, &str)], body: Option<&str>) -> Value {
    let headers: serde_json::Map<String, Value> = headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), Value::String((*v).to_owned())))
        .collect();
    json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api-id",
            "domainName": "api.example.com",
            "domainPrefix": "api",
            "http": { "method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1", "userAgent": "tests" },
            "requestId": "test-request",
            "routeKey": "$default",
            "stage": "$default",
            "time": "12/Sep/2024:17:26:26 +0000",
            "timeEpoch": 1726161986954i64
        },
        "body": body,
        "isBase64Encoded": false
    })
}

/// The seed's request, authenticated, with `extra` headers.
pub fn post(body: &str, extra: &[(&str, &str)]) -> Value {
    let auth = bearer();
    let mut headers = vec![("authorization", auth.as_str()), ("content-type", "application/json")];
    headers.extend_from_slice(extra);
    event("POST", "/v2/biometric-validations", &headers, Some(body))
}

pub struct Reply {
    pub status: u16,
    pub headers: lambda_http::http::HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts an error in the contract's shape.
    pub fn assert_error(&self, status: u16, code: &str, message: &str) {
        assert_eq!(
            (self.status, self.json()),
            (status, json!({ "code": code, "message": message })),
            "body: {}",
            self.body
        );
        assert_eq!(self.header("content-type"), Some("application/json"));
    }
}

/// Sends an event through the real event conversion and the real handler.
pub async fn call(app: &Handler, event: Value) -> Reply {
    let req: Request = lambda_http::request::from_str(&event.to_string()).expect("a valid API Gateway event");
    into_reply(app.handle(req).await)
}

pub fn into_reply(resp: Response<Body>) -> Reply {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = match resp.into_body() {
        Body::Text(t) => t,
        Body::Binary(b) => String::from_utf8(b).expect("utf-8 body"),
        Body::Empty => String::new(),
        _ => panic!("unexpected body kind"),
    };
    Reply { status, headers, body }
}
