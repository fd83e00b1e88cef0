//! The composition root: start-up reads the configuration, sets up logging, builds the
//! AWS clients and the parts of a request's journey, and hands them to the HTTP adapter.
//! Nothing here runs per request.

use std::convert::Infallible;
use std::sync::Arc;

use lambda_http::{Request, service_fn};
use secrecy::ExposeSecret;

use crate::auth::Authenticator;
use crate::config::Config;
use crate::http::Handler;
use crate::logging;
use crate::model::{Clock, IdSource, RandomIds, SystemClock};
use crate::service::{RecordBuilder, Service};
use crate::store::{self, Store};
use crate::token::SessionSigner;

/// The AWS clients the function talks to, built once.
pub struct Clients {
    pub dynamodb: aws_sdk_dynamodb::Client,
}

impl Clients {
    /// The clients a Lambda instance uses (no I/O: see `store::client`).
    pub fn for_lambda(config: &Config) -> Self {
        Self {
            dynamodb: store::lambda_client(&config.region, config.dynamodb_endpoint.as_deref()),
        }
    }
}

/// Wires the handler from its parts; the clock and the id source come from outside
/// (tests pin them).
pub fn handler(config: &Config, clients: Clients, clock: Arc<dyn Clock>, ids: Arc<dyn IdSource>) -> Handler {
    let store = Store::new(clients.dynamodb, config.table_name.clone());
    let signer = SessionSigner::new(
        config.session_token_secret.expose_secret().as_bytes(),
        config.token_issuer.clone(),
    );
    let records = RecordBuilder {
        ids,
        app_base_url: config.app_base_url.clone(),
        session_seconds: config.session_seconds,
    };
    let service = Service::new(store, signer, records, config.project_cache_seconds);
    let auth = Authenticator::new(config.client_token_secret.expose_secret().as_bytes());
    Handler::new(auth, service, clock)
}

/// The function's life: start-up, then one request at a time until Lambda stops it.
/// A bad setting ends start-up with one log line naming the variable (an init error).
pub async fn run() -> Result<(), lambda_http::Error> {
    // Honours AWS_LAMBDA_LOG_FORMAT (JSON or text) and AWS_LAMBDA_LOG_LEVEL.
    logging::init();
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            tracing::error!(variable = e.variable, "invalid configuration: {e}");
            std::process::exit(1);
        }
    };
    let clients = Clients::for_lambda(&config);
    let handler = Arc::new(handler(
        &config,
        clients,
        Arc::new(SystemClock),
        Arc::new(RandomIds::new()),
    ));
    lambda_http::run(service_fn(move |req: Request| {
        let handler = Arc::clone(&handler);
        async move { Ok::<_, Infallible>(handler.handle(req).await) }
    }))
    .await
}
