//! Configuration from the environment, checked once at start-up.

use std::ops::RangeInclusive;

use secrecy::{ExposeSecret, SecretString};
use url::Url;

pub const DEFAULT_SESSION_SECONDS: i64 = 240;
pub const SESSION_SECONDS: RangeInclusive<i64> = 60..=3600;
/// How long a project and flow that passed the rules may be reused without a read.
pub const DEFAULT_PROJECT_CACHE_SECONDS: u32 = 10;
pub const MAX_PROJECT_CACHE_SECONDS: u32 = 300;
pub const DEFAULT_ISSUER: &str = "biometric-validations";
const MIN_SECRET_BYTES: usize = 32;

/// The settings. Secrets are `SecretString`s: their `Debug` is redacted, so a logged
/// configuration never shows them.
#[derive(Debug)]
pub struct Config {
    pub table_name: String,
    pub client_token_secret: SecretString,
    pub session_token_secret: SecretString,
    /// Without a trailing `/`.
    pub app_base_url: String,
    pub session_seconds: i64,
    /// 0: every request reads its project and flow.
    pub project_cache_seconds: u32,
    pub token_issuer: String,
    pub dynamodb_endpoint: Option<String>,
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

fn problem(variable: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        problem: problem.into(),
    }
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup`; an empty value counts as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let required = |name: &'static str| get(name).ok_or_else(|| problem(name, "is required but not set"));

        let table_name = required("TABLE_NAME")?;
        let client_token_secret = secret("CLIENT_TOKEN_SECRET", required("CLIENT_TOKEN_SECRET")?)?;
        let session_token_secret = secret("SESSION_TOKEN_SECRET", required("SESSION_TOKEN_SECRET")?)?;
        if session_token_secret.expose_secret() == client_token_secret.expose_secret() {
            return Err(problem("SESSION_TOKEN_SECRET", "must differ from CLIENT_TOKEN_SECRET"));
        }
        let app_base_url = base_url(&required("APP_BASE_URL")?)?;
        let session_seconds = match get("LIVENESS_SESSION_SECONDS") {
            None => DEFAULT_SESSION_SECONDS,
            Some(v) => v
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|s| SESSION_SECONDS.contains(s))
                .ok_or_else(|| {
                    problem(
                        "LIVENESS_SESSION_SECONDS",
                        format!(
                            "must be a whole number of seconds from {} to {}",
                            SESSION_SECONDS.start(),
                            SESSION_SECONDS.end()
                        ),
                    )
                })?,
        };
        let project_cache_seconds = match get("PROJECT_CACHE_SECONDS") {
            None => DEFAULT_PROJECT_CACHE_SECONDS,
            Some(v) => v
                .trim()
                .parse::<u32>()
                .ok()
                .filter(|s| *s <= MAX_PROJECT_CACHE_SECONDS)
                .ok_or_else(|| {
                    problem(
                        "PROJECT_CACHE_SECONDS",
                        format!("must be a whole number of seconds from 0 (off) to {MAX_PROJECT_CACHE_SECONDS}"),
                    )
                })?,
        };
        let token_issuer = get("TOKEN_ISSUER").unwrap_or_else(|| DEFAULT_ISSUER.to_owned());
        let dynamodb_endpoint = match get("DYNAMODB_ENDPOINT") {
            None => None,
            Some(v) => {
                let url = Url::parse(&v)
                    .ok()
                    .filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host());
                Some(
                    url.map(|_| v)
                        .ok_or_else(|| problem("DYNAMODB_ENDPOINT", "must be an http(s) URL"))?,
                )
            }
        };
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
            client_token_secret,
            session_token_secret,
            app_base_url,
            session_seconds,
            project_cache_seconds,
            token_issuer,
            dynamodb_endpoint,
            region,
        })
    }
}

fn secret(variable: &'static str, value: String) -> Result<SecretString, ConfigError> {
    if value.len() < MIN_SECRET_BYTES {
        return Err(problem(variable, format!("must be at least {MIN_SECRET_BYTES} bytes")));
    }
    Ok(SecretString::from(value))
}

fn base_url(value: &str) -> Result<String, ConfigError> {
    let ok = Url::parse(value).ok().filter(|u| {
        matches!(u.scheme(), "http" | "https") && u.has_host() && u.query().is_none() && u.fragment().is_none()
    });
    match ok {
        Some(_) => Ok(value.trim_end_matches('/').to_owned()),
        None => Err(problem(
            "APP_BASE_URL",
            "must be an absolute http(s) URL without query or fragment",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(over: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let mut vars: HashMap<&str, &str> = HashMap::from([
            ("TABLE_NAME", "t"),
            ("CLIENT_TOKEN_SECRET", "c-secret-c-secret-c-secret-c-secret"),
            ("SESSION_TOKEN_SECRET", "s-secret-s-secret-s-secret-s-secret"),
            ("APP_BASE_URL", "https://app.verifik.co/"),
            ("AWS_REGION", "us-east-1"),
        ]);
        for (k, v) in over {
            vars.insert(k, v);
        }
        Config::from_lookup(|k| vars.get(k).map(|v| v.to_string()))
    }

    #[test]
    fn defaults() {
        let c = env(&[]).unwrap();
        assert_eq!(c.app_base_url, "https://app.verifik.co");
        assert_eq!(c.session_seconds, 240);
        assert_eq!(c.token_issuer, "biometric-validations");
        assert_eq!(c.project_cache_seconds, 10);
        assert_eq!(env(&[("PROJECT_CACHE_SECONDS", "0")]).unwrap().project_cache_seconds, 0);
        assert_eq!(c.dynamodb_endpoint, None);
        assert!(!format!("{c:?}").contains("secret-"), "{c:?}");
    }

    #[test]
    fn each_bad_setting_is_named() {
        let cases: &[(&str, &str)] = &[
            ("TABLE_NAME", ""),
            ("CLIENT_TOKEN_SECRET", ""),
            ("CLIENT_TOKEN_SECRET", "short"),
            ("SESSION_TOKEN_SECRET", "short"),
            ("SESSION_TOKEN_SECRET", "c-secret-c-secret-c-secret-c-secret"),
            ("APP_BASE_URL", "app.verifik.co"),
            ("APP_BASE_URL", ""),
            ("LIVENESS_SESSION_SECONDS", "59"),
            ("LIVENESS_SESSION_SECONDS", "3601"),
            ("LIVENESS_SESSION_SECONDS", "4m"),
            ("DYNAMODB_ENDPOINT", "localhost:8000"),
            ("PROJECT_CACHE_SECONDS", "-1"),
            ("PROJECT_CACHE_SECONDS", "301"),
            ("PROJECT_CACHE_SECONDS", "10s"),
            ("AWS_REGION", ""),
            ("SSL_CERT_FILE", "/nonexistent/ca-bundle.crt"),
        ];
        for (var, value) in cases {
            let e = env(&[(var, value)]).unwrap_err();
            assert_eq!(e.variable, *var, "{var}={value}");
        }
        assert_eq!(
            env(&[("LIVENESS_SESSION_SECONDS", "3600")]).unwrap().session_seconds,
            3600
        );
    }
}
