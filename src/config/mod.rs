//! Configuration from the environment, checked once at start-up (CONTRACT §7).

mod values;

use std::ops::RangeInclusive;
use std::time::Duration;

use secrecy::SecretString;

pub use values::MIN_SECRET_BYTES;
use values::{base_url, endpoint, problem, seconds};

pub const DEFAULT_SESSION_SECONDS: i64 = 240;
pub const SESSION_SECONDS: RangeInclusive<i64> = 60..=3600;
/// How long a project and flow that passed the rules may be reused without a read.
pub const DEFAULT_PROJECT_CACHE_SECONDS: u32 = 10;
pub const PROJECT_CACHE_SECONDS: RangeInclusive<u32> = 0..=300;
/// How stale the keys may be after a rotation.
pub const DEFAULT_SECRETS_REFRESH_SECONDS: u64 = 300;
pub const SECRETS_REFRESH_SECONDS: RangeInclusive<u64> = 30..=3600;
/// The longest client-token lifetime `CLIENT_TOKEN_MAX_SECONDS` may allow (a year).
pub const CLIENT_TOKEN_MAX_SECONDS: RangeInclusive<i64> = 1..=31_536_000;
pub const DEFAULT_ISSUER: &str = "biometric-validations";

/// Where a signing key comes from. The environment names only secrets: a key is never
/// configuration (CONTRACT §7).
#[derive(Debug)]
pub enum KeySource {
    /// A Secrets Manager secret (ARN or name): versioned, re-read on rotation.
    SecretsManager { secret_id: String },
    /// A key held in memory, without a version: what an embedding program (the tests)
    /// sets in code; never read from the environment.
    Value(SecretString),
}

/// A signing key's setting: its source, and the variable that named it (for messages).
#[derive(Debug)]
pub struct KeySetting {
    pub variable: &'static str,
    pub source: KeySource,
}

/// How session tokens are signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionAlg {
    /// HMAC with the session key (Verifik-compatible): verifiers need the key.
    Hs256,
    /// Ed25519 derived from an EdDSA key (CONTRACT §8): verifiers need only the public JWKS.
    EdDsa,
}

/// What a client token must carry beyond a good signature, `clientId` and `exp` (§2).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientTokenRules {
    pub issuer: Option<String>,
    pub audience: Option<String>,
    pub max_seconds: Option<i64>,
}

/// Local endpoints for the AWS services, by the SDKs' standard variables; `None` on AWS.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Endpoints {
    pub dynamodb: Option<String>,
    pub secrets_manager: Option<String>,
}

/// The per-request metrics (EMF): their namespace, and whether they are also counted per
/// client (one CloudWatch metric per client: it multiplies their cost).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetricsSettings {
    pub namespace: String,
    pub client_dimension: bool,
}

pub const DEFAULT_METRICS_NAMESPACE: &str = "biometric-validations";

/// The settings. Secrets are `SecretString`s: their `Debug` is redacted, so a logged
/// configuration never shows them.
#[derive(Debug)]
pub struct Config {
    pub table_name: String,
    pub client_key: KeySetting,
    pub session_key: KeySetting,
    pub session_alg: SessionAlg,
    pub secrets_refresh: Duration,
    pub client_tokens: ClientTokenRules,
    /// Without a trailing `/`.
    pub app_base_url: String,
    pub session_seconds: i64,
    /// 0: every request reads its project and flow.
    pub project_cache_seconds: u32,
    pub token_issuer: String,
    pub endpoints: Endpoints,
    pub metrics: MetricsSettings,
    /// Set by Lambda (`AWS_REGION`); `AWS_DEFAULT_REGION` is accepted locally.
    pub region: String,
}

/// A setting that is missing or invalid; the message names the variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {problem}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup`; an empty value counts as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let required = |name: &'static str| get(name).ok_or_else(|| problem(name, "is required but not set"));
        let key = |arn: &'static str| -> Result<KeySetting, ConfigError> {
            Ok(KeySetting {
                variable: arn,
                source: KeySource::SecretsManager {
                    secret_id: required(arn)?,
                },
            })
        };

        let table_name = required("TABLE_NAME")?;
        let client_key = key("CLIENT_TOKEN_SECRET_ARN")?;
        let session_key = key("SESSION_TOKEN_SECRET_ARN")?;
        let session_alg = match get("SESSION_TOKEN_ALG").as_deref().map(str::trim) {
            None | Some("HS256") => SessionAlg::Hs256,
            Some("EdDSA") => SessionAlg::EdDsa,
            Some(_) => return Err(problem("SESSION_TOKEN_ALG", "must be HS256 or EdDSA")),
        };
        let refresh = seconds(
            "SECRETS_REFRESH_SECONDS",
            get("SECRETS_REFRESH_SECONDS"),
            SECRETS_REFRESH_SECONDS,
        )?;
        let client_tokens = ClientTokenRules {
            issuer: get("CLIENT_TOKEN_ISSUER"),
            audience: get("CLIENT_TOKEN_AUDIENCE"),
            max_seconds: seconds(
                "CLIENT_TOKEN_MAX_SECONDS",
                get("CLIENT_TOKEN_MAX_SECONDS"),
                CLIENT_TOKEN_MAX_SECONDS,
            )?,
        };
        let app_base_url = base_url(&required("APP_BASE_URL")?)?;
        let session_seconds = seconds(
            "LIVENESS_SESSION_SECONDS",
            get("LIVENESS_SESSION_SECONDS"),
            SESSION_SECONDS,
        )?
        .unwrap_or(DEFAULT_SESSION_SECONDS);
        let project_cache_seconds = seconds(
            "PROJECT_CACHE_SECONDS",
            get("PROJECT_CACHE_SECONDS"),
            PROJECT_CACHE_SECONDS,
        )?
        .unwrap_or(DEFAULT_PROJECT_CACHE_SECONDS);
        let token_issuer = get("TOKEN_ISSUER").unwrap_or_else(|| DEFAULT_ISSUER.to_owned());
        // The SDKs' precedence: the service's own variable, then the shared one.
        let shared = endpoint("AWS_ENDPOINT_URL", get("AWS_ENDPOINT_URL"))?;
        let dynamodb = endpoint("AWS_ENDPOINT_URL_DYNAMODB", get("AWS_ENDPOINT_URL_DYNAMODB"))?;
        let secrets_manager = endpoint(
            "AWS_ENDPOINT_URL_SECRETS_MANAGER",
            get("AWS_ENDPOINT_URL_SECRETS_MANAGER"),
        )?;
        let endpoints = Endpoints {
            dynamodb: dynamodb.or_else(|| shared.clone()),
            secrets_manager: secrets_manager.or(shared),
        };
        let metrics = MetricsSettings {
            namespace: get("METRICS_NAMESPACE").unwrap_or_else(|| DEFAULT_METRICS_NAMESPACE.to_owned()),
            client_dimension: match get("METRICS_CLIENT_DIMENSION").as_deref().map(str::trim) {
                None | Some("false") => false,
                Some("true") => true,
                Some(_) => return Err(problem("METRICS_CLIENT_DIMENSION", "must be true or false")),
            },
        };
        if metrics.namespace.chars().count() > 1024 {
            return Err(problem("METRICS_NAMESPACE", "must be at most 1024 characters"));
        }
        // The TLS roots (rustls-native-certs): from this one file when set, instead of every
        // file of the system's certificate directory. A wrong path would fail every request.
        if let Some(path) = get("SSL_CERT_FILE")
            && !std::path::Path::new(&path).is_file()
        {
            return Err(problem("SSL_CERT_FILE", "is set but is not a file"));
        }
        let region = get("AWS_REGION")
            .or_else(|| get("AWS_DEFAULT_REGION"))
            .ok_or_else(|| problem("AWS_REGION", "is required but not set (Lambda sets it)"))?;
        Ok(Self {
            table_name,
            client_key,
            session_key,
            session_alg,
            secrets_refresh: Duration::from_secs(refresh.unwrap_or(DEFAULT_SECRETS_REFRESH_SECONDS)),
            client_tokens,
            app_base_url,
            session_seconds,
            project_cache_seconds,
            token_issuer,
            endpoints,
            metrics,
            region,
        })
    }
}

#[cfg(test)]
mod tests;
