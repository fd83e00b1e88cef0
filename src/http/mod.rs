//! The HTTP adapter: API Gateway request → route → the operation's steps → service →
//! response in the contract's shape, one log line and one metrics line per request.
//! Knows nothing of DynamoDB: the parts it calls are built by `app`.

pub mod metrics;
mod response;
pub mod steps;

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use tracing::Instrument;

pub use response::error as error_response;
pub use steps::{Admitted, check};

use crate::auth::Authenticator;
use crate::config::MetricsSettings;
use crate::error::ApiError;
use crate::model::{ClientId, Clock, ProjectId, SessionId, SystemClock, Timestamp, ValidationId};
use crate::router::Operation;
use crate::service::{Created, Service};
use crate::telemetry;

/// The most a request may spend on its keys and storage, authentication included: under
/// the function's 10 s timeout (template.yaml), with room for the answer.
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(8);

/// Everything a request needs, built once at start-up (by `app`).
pub struct Handler {
    auth: Authenticator,
    service: Service,
    clock: Arc<dyn Clock>,
    deadline: Duration,
    metrics: MetricsSettings,
    sink: Arc<dyn metrics::Sink>,
    /// Until the first request of this process is answered (a cold start).
    cold: AtomicBool,
}

/// What the log line of a request tells, filled in as the request goes.
#[derive(Default)]
pub struct Trace {
    pub client: Option<ClientId>,
    pub project: Option<ProjectId>,
    pub created: Option<(SessionId, ValidationId)>,
}

impl Handler {
    pub fn new(auth: Authenticator, service: Service, clock: Arc<dyn Clock>, metrics: MetricsSettings) -> Self {
        Self {
            auth,
            service,
            clock,
            deadline: REQUEST_DEADLINE,
            metrics,
            sink: Arc::new(metrics::Stdout),
            cold: AtomicBool::new(true),
        }
    }

    /// Another place for the metrics lines than standard output (tests read them).
    pub fn with_metrics_sink(mut self, sink: Arc<dyn metrics::Sink>) -> Self {
        self.sink = sink;
        self
    }

    /// Another deadline than `REQUEST_DEADLINE` (tests against a slow emulator).
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// Answers one request; never fails: every outcome, a panic included, is a response.
    /// Every log line of the request carries its X-Ray trace id (the request's span).
    pub async fn handle(&self, req: Request) -> Response<Body> {
        let trace_id = req.lambda_context_ref().and_then(|c| c.xray_trace_id.clone());
        let span = tracing::info_span!("request", xray_trace_id = trace_id);
        // Boxed: the request's future is large (the SDK's), and callers hold this one inline.
        Box::pin(self.handle_in_span(req).instrument(span)).await
    }

    async fn handle_in_span(&self, req: Request) -> Response<Body> {
        let started = Instant::now();
        let mut trace = Trace::default();
        let answered = AssertUnwindSafe(self.answer(&req, &mut trace)).catch_unwind();
        let (result, stats) = telemetry::measured(answered).await;
        let (response, code) = match result {
            Ok(Ok(response)) => (response, None),
            Ok(Err(e)) => (error_response(&e), Some(e.code())),
            Err(_) => {
                tracing::error!("panic while handling a request");
                (error_response(&ApiError::Internal), Some(ApiError::Internal.code()))
            }
        };
        let latency = started.elapsed();
        let replayed = response.headers().contains_key("idempotent-replayed");
        let request_id = request_id(&req).unwrap_or("-");
        let outcome = metrics::Outcome {
            request_id,
            status: response.status().as_u16(),
            code,
            client: trace.client,
            latency,
            replayed,
            cold: self.cold.swap(false, Ordering::Relaxed),
            stats,
        };
        tracing::info!(
            request_id,
            status = outcome.status,
            code,
            latency_ms = latency.as_secs_f64() * 1000.0,
            client = trace.client.map(tracing::field::display),
            project = trace.project.map(tracing::field::display),
            liveness_session = trace.created.map(|c| tracing::field::display(c.0)),
            biometric_validation = trace.created.map(|c| tracing::field::display(c.1)),
            replayed,
            "request"
        );
        // The metrics' timestamp is the wall clock's (CloudWatch's), not the request's clock.
        let document = metrics::document(&self.metrics, &outcome, SystemClock.now().unix_millis());
        match serde_json::to_vec(&document) {
            Ok(line) => self.sink.write_line(&line),
            Err(e) => tracing::error!(error = %e, "cannot write the metrics"),
        }
        response
    }

    async fn answer(&self, req: &Request, trace: &mut Trace) -> Result<Response<Body>, ApiError> {
        let now = self.clock.now();
        match steps::route(req)? {
            Operation::CreateBiometricValidation => self.create(req, now, trace).await,
            Operation::PublicKeys => self.public_keys(req).await,
        }
    }

    /// `GET /.well-known/jwks.json` (and `HEAD`): no authentication; a 404 when session
    /// tokens are HS256, which has no public key.
    async fn public_keys(&self, req: &Request) -> Result<Response<Body>, ApiError> {
        // Keys past their bound are re-read first (CONTRACT §8): within the deadline.
        let keys = tokio::time::timeout(self.deadline, self.service.public_keys())
            .await
            .map_err(|_| {
                tracing::warn!("request deadline reached");
                ApiError::ServiceUnavailable
            })??;
        match keys {
            Some(keys) => Ok(response::jwks(&keys, req.method() == lambda_http::http::Method::HEAD)),
            None => Err(ApiError::RouteNotFound(steps::path(req).to_owned())),
        }
    }

    /// `POST /v2/biometric-validations`.
    async fn create(&self, req: &Request, now: Timestamp, trace: &mut Trace) -> Result<Response<Body>, ApiError> {
        let create = async {
            let Admitted { caller, request, key } = steps::admit_create(&self.auth, req, now, trace).await?;
            self.service.create(caller, &request, key.as_ref(), now).await
        };
        // Whatever Secrets Manager (a key re-read while authenticating) and DynamoDB do,
        // answer in the contract's shape before Lambda's timeout would answer for us. A
        // write cut short here is whole or absent (one transaction).
        let created: Created = tokio::time::timeout(self.deadline, create).await.map_err(|_| {
            tracing::warn!("request deadline reached");
            ApiError::ServiceUnavailable
        })??;
        trace.created = Some((created.pair.session.id, created.pair.validation.id));
        Ok(response::created(&created))
    }
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
