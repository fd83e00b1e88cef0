//! The shared steps of a request before any storage: route, body size, authentication,
//! content type, and the create operation's body and `Idempotency-Key`. Pure (no I/O,
//! no AWS client): safe to fuzz. `lambda_http` has already decoded a base64 body.

use lambda_http::http::header::{self, HeaderMap, HeaderValue};
use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};

use super::Trace;
use crate::auth::Authenticator;
use crate::error::ApiError;
use crate::idempotency::{self, IdempotencyKey};
use crate::model::{Caller, Timestamp};
use crate::request::{self, CreateRequest};
use crate::router::{self, Operation};

const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// The largest body accepted, in bytes after any base64 decoding.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// The request's path as sent: HTTP APIs on a named stage put the stage in `rawPath`.
pub fn path(req: &Request) -> &str {
    let raw = req.raw_http_path();
    if raw.is_empty() { req.uri().path() } else { raw }
}

fn stage(req: &Request) -> Option<&str> {
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.stage.as_deref(),
        Some(RequestContext::ApiGatewayV1(ctx)) => ctx.stage.as_deref(),
        _ => None,
    }
}

/// The operation the request's method and path name.
pub fn route(req: &Request) -> Result<Operation, ApiError> {
    router::route(req.method().as_str(), path(req), stage(req))
}

/// The body, if it is within the contract's limit.
pub fn body(req: &Request) -> Result<&[u8], ApiError> {
    let body: &[u8] = req.body().as_ref();
    if body.len() > MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge { limit: MAX_BODY_BYTES });
    }
    Ok(body)
}

/// The caller, from every `Authorization` header the request carried.
pub async fn authenticate(auth: &Authenticator, req: &Request, now: Timestamp) -> Result<Caller, ApiError> {
    let values = req
        .headers()
        .get_all(header::AUTHORIZATION)
        .iter()
        .map(HeaderValue::as_bytes);
    auth.authenticate(values, now).await
}

/// When a Content-Type is sent it must be JSON: `application/json` or `application/*+json`,
/// with any parameters.
pub fn check_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    for value in headers.get_all(header::CONTENT_TYPE) {
        let essence = value
            .to_str()
            .ok()
            .and_then(|v| v.split(';').next())
            .map(|e| e.trim().to_ascii_lowercase())
            .unwrap_or_default();
        let json = essence == "application/json"
            || essence
                .strip_prefix("application/")
                .is_some_and(|sub| sub.len() > "+json".len() && sub.ends_with("+json"));
        if !json {
            return Err(ApiError::UnsupportedMediaType);
        }
    }
    Ok(())
}

/// A request to create a validation that passed every check before storage.
#[derive(Debug)]
pub struct Admitted {
    pub caller: Caller,
    pub request: CreateRequest,
    pub key: Option<IdempotencyKey>,
}

/// The create operation's checks after routing, in the contract's order: body size,
/// authentication, content type, JSON and fields (the key's rule among them).
/// `trace` learns the caller and the project as soon as they are known.
pub async fn admit_create(
    auth: &Authenticator,
    req: &Request,
    now: Timestamp,
    trace: &mut Trace,
) -> Result<Admitted, ApiError> {
    let body = body(req)?;
    let caller = authenticate(auth, req, now).await?;
    trace.client = Some(caller.client);
    check_content_type(req.headers())?;
    let (request, key) = parse_create(body, req.headers(), now)?;
    trace.project = Some(request.project);
    Ok(Admitted { caller, request, key })
}

/// Every check that needs no storage, routing included: what the fuzz target and the
/// property tests drive. `Ok(None)`: a route with nothing to check (the JWKS). With a
/// local key it does no I/O, so its future completes at once.
pub async fn check(auth: &Authenticator, req: &Request, now: Timestamp) -> Result<Option<Admitted>, ApiError> {
    match route(req)? {
        Operation::CreateBiometricValidation => admit_create(auth, req, now, &mut Trace::default()).await.map(Some),
        Operation::PublicKeys => Ok(None),
    }
}

/// The body's fields and the `Idempotency-Key` header, their errors reported together.
fn parse_create(
    body: &[u8],
    headers: &HeaderMap,
    now: Timestamp,
) -> Result<(CreateRequest, Option<IdempotencyKey>), ApiError> {
    let mut keys = headers.get_all(IDEMPOTENCY_KEY).iter();
    let key = match (keys.next(), keys.next()) {
        (None, _) => Ok(None),
        (Some(v), None) => IdempotencyKey::parse(v.as_bytes())
            .map(Some)
            .ok_or_else(idempotency::key_rule),
        _ => Err(idempotency::key_rule()),
    };
    match (request::parse(body, now), key) {
        (Ok(request), Ok(key)) => Ok((request, key)),
        (Ok(_), Err(key_error)) => Err(ApiError::fields(key_error)),
        (Err(ApiError::Fields(mut errors)), Err(key_error)) => {
            errors.push(key_error);
            Err(ApiError::Fields(errors))
        }
        (Err(e), _) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                lambda_http::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn content_types() {
        for ok in [
            "application/json",
            "Application/JSON; charset=utf-8",
            "application/merge-patch+json",
            "application/vnd.api+json;v=1",
        ] {
            assert_eq!(check_content_type(&headers(&[("content-type", ok)])), Ok(()), "{ok}");
        }
        assert_eq!(check_content_type(&headers(&[])), Ok(()));
        for bad in [
            "text/plain",
            "application/jsonx",
            "application/+json",
            "multipart/form-data",
            "",
            "json",
        ] {
            assert_eq!(
                check_content_type(&headers(&[("content-type", bad)])),
                Err(ApiError::UnsupportedMediaType),
                "{bad}"
            );
        }
    }
}
