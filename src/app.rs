//! The composition root: start-up reads the configuration, sets up logging, builds the
//! AWS clients, reads the signing keys, builds the parts of a request's journey and hands
//! them to the HTTP adapter. Nothing here runs per request.

use std::convert::Infallible;
use std::sync::Arc;

use lambda_http::{Request, service_fn};

use crate::auth::{self, Authenticator};
use crate::config::{Config, ConfigError, KeySetting, KeySource, SessionAlg};
use crate::http::Handler;
use crate::keyring::{self, Derive, KeyKind, Keyring, Settings};
use crate::logging::Chain;
use crate::model::{Clock, IdSource, RandomIds, SystemClock};
use crate::service::{RecordBuilder, Service};
use crate::store::{self, Store};
use crate::token::{self, SessionSigner};
use crate::{aws, logging};

/// The AWS clients the function talks to, built once (no I/O).
pub struct Clients {
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub secrets_manager: aws_sdk_secretsmanager::Client,
}

impl Clients {
    /// The clients a Lambda instance uses, on one shared configuration.
    pub fn for_lambda(config: &Config) -> Self {
        let shared = aws::lambda_config(&config.region);
        Self {
            dynamodb: store::client::dynamodb(&shared, config.endpoints.dynamodb.as_deref()),
            secrets_manager: keyring::secrets_manager::client(&shared, config.endpoints.secrets_manager.as_deref()),
        }
    }
}

/// Wires the handler from its parts, reading the keys; the clock and the id source come
/// from outside (tests pin them). A key that can't be read is a start-up error.
pub async fn handler(
    config: &Config,
    clients: Clients,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdSource>,
) -> Result<Handler, ConfigError> {
    let (session_kind, session_derive): (KeyKind, Derive<token::SessionKeys>) = match config.session_alg {
        SessionAlg::Hs256 => (KeyKind::Hs256, token::keys::hs256),
        SessionAlg::EdDsa => (KeyKind::EdDsa, token::keys::eddsa),
    };
    let sm = &clients.secrets_manager;
    // On AWS (no local endpoint), the documented local test keys are refused.
    let on_aws = config.endpoints.secrets_manager.is_none();
    let every = config.secrets_refresh;
    let settings = |setting: &KeySetting, kind, first_refresh| Settings {
        variable: setting.variable,
        kind,
        refresh_every: every,
        first_refresh,
        on_aws,
    };
    // The session key's re-reads fall half a period after the client key's.
    let (client_keys, session_keys) = tokio::join!(
        ring(
            &config.client_key,
            settings(&config.client_key, KeyKind::Hs256, every),
            sm,
            auth::client_keys
        ),
        ring(
            &config.session_key,
            settings(&config.session_key, session_kind, every / 2),
            sm,
            session_derive
        ),
    );
    let (client_keys, session_keys) = (client_keys?, session_keys?);
    if client_keys.same_current_key(&session_keys) {
        return Err(ConfigError {
            variable: config.session_key.variable,
            problem: "must be another key than the client-token key".to_owned(),
        });
    }
    let store = Store::new(clients.dynamodb, config.table_name.clone());
    let signer = SessionSigner::new(session_keys, config.token_issuer.clone());
    let records = RecordBuilder {
        ids,
        app_base_url: config.app_base_url.clone(),
        session_seconds: config.session_seconds,
    };
    let service = Service::new(store, signer, records, config.project_cache_seconds);
    let auth = Authenticator::new(client_keys, config.client_tokens.clone());
    Ok(Handler::new(auth, service, clock, config.metrics.clone()))
}

/// A key's ring, read from Secrets Manager (or held in memory, when an embedding program
/// set one in code).
async fn ring<T: Send + Sync + 'static>(
    setting: &KeySetting,
    settings: Settings,
    secrets_manager: &aws_sdk_secretsmanager::Client,
    derive: Derive<T>,
) -> Result<Arc<Keyring<T>>, ConfigError> {
    let failed = |e: keyring::KeyError| ConfigError {
        variable: setting.variable,
        problem: format!("cannot read the key: {}", Chain(&e)),
    };
    match &setting.source {
        KeySource::Value(material) => Keyring::fixed(setting.variable, material.clone(), derive)
            .map(Arc::new)
            .map_err(failed),
        KeySource::SecretsManager { secret_id } => {
            Keyring::load(settings, secrets_manager.clone(), secret_id.clone(), derive)
                .await
                .map_err(failed)
        }
    }
}

/// The function's life: start-up, then one request at a time until Lambda stops it.
/// A bad setting or an unreadable key ends start-up with one log line naming the
/// variable (an init error).
pub async fn run() -> Result<(), lambda_http::Error> {
    // Honours AWS_LAMBDA_LOG_FORMAT (JSON or text) and AWS_LAMBDA_LOG_LEVEL.
    logging::init();
    let started = async {
        let config = Config::from_env()?;
        let clients = Clients::for_lambda(&config);
        // The DynamoDB connection opens (TCP, TLS) while the keys are read: both during
        // init, which runs with burst CPU, and not on the first request (docs/performance.md).
        let dynamodb = clients.dynamodb.clone();
        let (handler, ()) = tokio::join!(
            handler(&config, clients, Arc::new(SystemClock), Arc::new(RandomIds::new())),
            store::warmup::connect(&dynamodb, &config.table_name),
        );
        handler
    };
    let handler = match started.await {
        Ok(handler) => Arc::new(handler),
        Err(e) => {
            tracing::error!(variable = e.variable, "invalid configuration: {e}");
            std::process::exit(1);
        }
    };
    lambda_http::run(service_fn(move |req: Request| {
        let handler = Arc::clone(&handler);
        async move { Ok::<_, Infallible>(handler.handle(req).await) }
    }))
    .await
}
