//! Responses in the contract's shape: `{"data":…}` for a created pair, `{"code","message"}`
//! for an error, with the headers each status carries.

use lambda_http::http::StatusCode;
use lambda_http::http::header::{self, HeaderName, HeaderValue};
use lambda_http::{Body, Response};
use serde::Serialize;

use crate::error::ApiError;
use crate::model::{BiometricValidation, LivenessSession};
use crate::service::Created;
use crate::token::Jwk;

/// Seconds a client should wait after a 503.
const RETRY_AFTER_SECONDS: &str = "1";
/// How long verifiers may keep the public keys: a rotation reaches them within this plus
/// the function's own refresh bound, while the previous key is still served.
const JWKS_CACHE_CONTROL: &str = "public, max-age=300";

#[derive(Serialize)]
struct Jwks<'a> {
    keys: &'a [Jwk],
}

#[derive(Serialize)]
struct Envelope<'a> {
    data: Data<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Data<'a> {
    liveness_session: &'a LivenessSession,
    biometric_validation: &'a BiometricValidation,
    token: &'a str,
}

/// A JSON response that is never stored by a cache.
fn json(status: StatusCode, body: String) -> Response<Body> {
    let mut response = Response::new(Body::Text(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The 200 of a created (or replayed) pair. Rendered from the records alone, so a
/// replay renders the first answer's bytes.
pub fn created(created: &Created) -> Response<Body> {
    let body = serde_json::to_string(&Envelope {
        data: Data {
            liveness_session: &created.pair.session,
            biometric_validation: &created.pair.validation,
            token: &created.token,
        },
    });
    let Ok(body) = body else {
        tracing::error!("cannot render a created pair");
        return error(&ApiError::Internal);
    };
    let mut response = json(StatusCode::OK, body);
    if created.replayed {
        response.headers_mut().insert(
            HeaderName::from_static("idempotent-replayed"),
            HeaderValue::from_static("true"),
        );
    }
    response
}

/// The public keys as a JWKS (RFC 7517), current first; `head`: the headers alone.
pub fn jwks(keys: &[Jwk], head: bool) -> Response<Body> {
    let Ok(body) = serde_json::to_string(&Jwks { keys }) else {
        tracing::error!("cannot render the public keys");
        return error(&ApiError::Internal);
    };
    let mut response = json(StatusCode::OK, if head { String::new() } else { body });
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(JWKS_CACHE_CONTROL));
    response
}

pub fn error(error: &ApiError) -> Response<Body> {
    let mut response = json(error.status(), error.body());
    let headers = response.headers_mut();
    match error {
        ApiError::NoToken | ApiError::TokenExpired | ApiError::InvalidToken => {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        ApiError::MethodNotAllowed { allow } => {
            if let Ok(allow) = HeaderValue::from_str(allow) {
                headers.insert(header::ALLOW, allow);
            }
        }
        ApiError::ServiceUnavailable => {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECONDS));
        }
        _ => {}
    }
    response
}
