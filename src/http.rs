//! The HTTP adapter: API Gateway request → route, method, size, headers → service →
//! response in the contract's shape. Knows nothing of DynamoDB.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Instant;

use futures_util::FutureExt;
use lambda_http::http::Method;
use lambda_http::http::header::{self, HeaderMap, HeaderValue};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};

use crate::auth::Authenticator;
use crate::config::Config;
use crate::error::ApiError;
use crate::idempotency::{self, KEY_RULE};
use crate::model::{Clock, IdSource, ObjectId, RandomIds, SystemClock, Timestamp};
use crate::request::{self, CreateRequest};
use crate::service::{Created, Service};
use crate::store::Store;
use crate::token::SessionSigner;

pub const ROUTE: &str = "/v2/biometric-validations";
pub const MAX_BODY_BYTES: usize = 16 * 1024;
const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// The most a request may spend on storage: under the function's 10 s timeout
/// (template.yaml), with room for start-up and the answer.
pub const REQUEST_DEADLINE: std::time::Duration = std::time::Duration::from_secs(8);
/// Seconds a client should wait after a 503.
const RETRY_AFTER_SECONDS: &str = "1";

/// Everything a request needs, built once at start-up.
pub struct App {
    auth: Authenticator,
    service: Service,
    clock: Arc<dyn Clock>,
    deadline: std::time::Duration,
}

/// What the log line of a request tells, filled in as the request goes.
#[derive(Default)]
struct Trace {
    client: Option<ObjectId>,
    project: Option<ObjectId>,
    created: Option<(ObjectId, ObjectId)>,
}

impl App {
    pub fn new(config: &Config, client: aws_sdk_dynamodb::Client) -> Self {
        Self::with_parts(config, client, Arc::new(SystemClock), Arc::new(RandomIds::new()))
    }

    /// As `new`, with the clock and the id source given (tests pin them).
    pub fn with_parts(
        config: &Config,
        client: aws_sdk_dynamodb::Client,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdSource>,
    ) -> Self {
        let store = Store::new(client, config.table_name.clone());
        let signer = SessionSigner::new(&config.session_token_secret, config.token_issuer.clone());
        Self {
            auth: Authenticator::new(&config.client_token_secret),
            service: Service::new(
                store,
                signer,
                ids,
                config.app_base_url.clone(),
                config.session_seconds,
                config.project_cache_seconds,
            ),
            clock,
            deadline: REQUEST_DEADLINE,
        }
    }

    /// Another deadline than `REQUEST_DEADLINE` (tests against a slow emulator).
    pub fn with_deadline(mut self, deadline: std::time::Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// Answers one request; never fails: every outcome, a panic included, is a response.
    pub async fn handle(&self, req: Request) -> Response<Body> {
        let started = Instant::now();
        let mut trace = Trace::default();
        let result = AssertUnwindSafe(self.answer(&req, &mut trace)).catch_unwind().await;
        let (response, code) = match result {
            Ok(Ok(created)) => (success(&created), None),
            Ok(Err(e)) => (error_response(&e), Some(e.code())),
            Err(_) => {
                tracing::error!("panic while handling a request");
                (error_response(&ApiError::Internal), Some(ApiError::Internal.code()))
            }
        };
        tracing::info!(
            request_id = request_id(&req).unwrap_or("-"),
            status = response.status().as_u16(),
            code,
            latency_ms = started.elapsed().as_secs_f64() * 1000.0,
            client = trace.client.map(tracing::field::display),
            project = trace.project.map(tracing::field::display),
            liveness_session = trace.created.map(|c| tracing::field::display(c.0)),
            biometric_validation = trace.created.map(|c| tracing::field::display(c.1)),
            replayed = response.headers().contains_key("idempotent-replayed"),
            "request"
        );
        response
    }

    async fn answer(&self, req: &Request, trace: &mut Trace) -> Result<Created, ApiError> {
        let now = self.clock.now();
        let admitted = self.admit(req, now, trace)?;
        let create = self
            .service
            .create(admitted.client, &admitted.request, admitted.key.as_deref(), now);
        // Whatever DynamoDB does, answer in the contract's shape before Lambda's timeout
        // would answer for us. A write cut short here is whole or absent (one transaction).
        let created = tokio::time::timeout(self.deadline, create).await.map_err(|_| {
            tracing::warn!("request deadline reached");
            ApiError::ServiceUnavailable
        })??;
        trace.created = Some((created.liveness_session, created.biometric_validation));
        Ok(created)
    }

    /// Every check that needs no storage, in the contract's order: path, method, body
    /// size, authentication, content type, JSON and fields. Pure: safe to fuzz.
    pub fn check(&self, req: &Request, now: Timestamp) -> Result<Admitted, ApiError> {
        self.admit(req, now, &mut Trace::default())
    }

    fn admit(&self, req: &Request, now: Timestamp, trace: &mut Trace) -> Result<Admitted, ApiError> {
        let (path, ours) = route(req);
        if !ours {
            return Err(ApiError::RouteNotFound(path.to_owned()));
        }
        if req.method() != Method::POST {
            return Err(ApiError::MethodNotAllowed);
        }
        let body: &[u8] = req.body().as_ref();
        if body.len() > MAX_BODY_BYTES {
            return Err(ApiError::PayloadTooLarge);
        }
        let authorization = req
            .headers()
            .get_all(header::AUTHORIZATION)
            .iter()
            .map(HeaderValue::as_bytes);
        let client = self.auth.authenticate(authorization, now)?;
        trace.client = Some(client);
        check_content_type(req.headers())?;
        let (request, key) = parse(body, req.headers(), now)?;
        trace.project = Some(request.project);
        Ok(Admitted {
            client,
            request,
            key: key.map(str::to_owned),
        })
    }
}

/// A request that passed every check before storage.
#[derive(Debug)]
pub struct Admitted {
    pub client: ObjectId,
    pub request: CreateRequest,
    pub key: Option<String>,
}

/// The request's path, and whether it is this function's route: exactly, or behind
/// the request's own stage (HTTP APIs on a named stage put it in `rawPath`).
fn route(req: &Request) -> (&str, bool) {
    let raw = req.raw_http_path();
    let path = if raw.is_empty() { req.uri().path() } else { raw };
    if path == ROUTE {
        return (path, true);
    }
    let stage = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.stage.as_deref(),
        Some(RequestContext::ApiGatewayV1(ctx)) => ctx.stage.as_deref(),
        _ => None,
    };
    let behind_stage = stage
        .filter(|s| *s != "$default" && !s.is_empty())
        .and_then(|stage| path.strip_prefix('/')?.strip_prefix(stage))
        .is_some_and(|rest| rest == ROUTE);
    (path, behind_stage)
}

fn request_id(req: &Request) -> Option<&str> {
    if let Some(ctx) = req.lambda_context_ref() {
        return Some(ctx.request_id.as_str());
    }
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.request_id.as_deref(),
        Some(RequestContext::ApiGatewayV1(ctx)) => ctx.request_id.as_deref(),
        _ => None,
    }
}

/// When a Content-Type is sent it must be JSON: `application/json` or `application/*+json`,
/// with any parameters.
fn check_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
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

/// The body's fields and the `Idempotency-Key` header, their errors reported together.
fn parse<'h>(
    body: &[u8],
    headers: &'h HeaderMap,
    now: Timestamp,
) -> Result<(CreateRequest, Option<&'h str>), ApiError> {
    let mut keys = headers.get_all(IDEMPOTENCY_KEY).iter();
    let key = match (keys.next(), keys.next()) {
        (None, _) => Ok(None),
        (Some(v), None) if idempotency::valid_key(v.as_bytes()) => Ok(v.to_str().ok()),
        _ => Err(KEY_RULE.to_owned()),
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

fn base(status: u16) -> lambda_http::http::response::Builder {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CACHE_CONTROL, "no-store")
}

fn success(created: &Created) -> Response<Body> {
    let mut builder = base(200);
    if created.replayed {
        builder = builder.header("Idempotent-Replayed", "true");
    }
    builder.body(Body::Text(created.body.clone())).expect("valid response")
}

pub fn error_response(error: &ApiError) -> Response<Body> {
    let mut builder = base(error.status());
    match error {
        ApiError::NoToken | ApiError::TokenExpired | ApiError::InvalidToken => {
            builder = builder.header(header::WWW_AUTHENTICATE, "Bearer");
        }
        ApiError::MethodNotAllowed => builder = builder.header(header::ALLOW, "POST"),
        ApiError::ServiceUnavailable => builder = builder.header(header::RETRY_AFTER, RETRY_AFTER_SECONDS),
        _ => {}
    }
    builder.body(Body::Text(error.body())).expect("valid response")
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
