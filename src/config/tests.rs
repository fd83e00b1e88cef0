//! The settings, one by one: defaults, and every bad value named.
use super::*;
use std::collections::HashMap;

fn env(over: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let mut vars: HashMap<&str, &str> = HashMap::from([
        ("TABLE_NAME", "t"),
        ("CLIENT_TOKEN_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:1:secret:c"),
        ("SESSION_TOKEN_SECRET_ARN", "bv/session"),
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
    assert_eq!(c.endpoints, Endpoints::default());
    assert_eq!(c.session_alg, SessionAlg::Hs256);
    assert_eq!(c.secrets_refresh, Duration::from_secs(300));
    assert_eq!(c.client_tokens, ClientTokenRules::default());
    assert!(matches!(&c.session_key.source, KeySource::SecretsManager { secret_id } if secret_id == "bv/session"));
    assert_eq!(c.client_key.variable, "CLIENT_TOKEN_SECRET_ARN");
}

#[test]
fn each_bad_setting_is_named() {
    let cases: &[(&str, &str)] = &[
        ("TABLE_NAME", ""),
        ("APP_BASE_URL", "app.verifik.co"),
        ("APP_BASE_URL", ""),
        ("LIVENESS_SESSION_SECONDS", "59"),
        ("LIVENESS_SESSION_SECONDS", "3601"),
        ("LIVENESS_SESSION_SECONDS", "4m"),
        ("PROJECT_CACHE_SECONDS", "-1"),
        ("PROJECT_CACHE_SECONDS", "301"),
        ("PROJECT_CACHE_SECONDS", "10s"),
        ("AWS_REGION", ""),
        ("SSL_CERT_FILE", "/nonexistent/ca-bundle.crt"),
        ("AWS_ENDPOINT_URL", "localhost:5005"),
        ("AWS_ENDPOINT_URL_DYNAMODB", "x"),
        ("AWS_ENDPOINT_URL_SECRETS_MANAGER", "ftp://x"),
        ("SESSION_TOKEN_ALG", "RS256"),
        ("SECRETS_REFRESH_SECONDS", "29"),
        ("SECRETS_REFRESH_SECONDS", "3601"),
        ("CLIENT_TOKEN_MAX_SECONDS", "0"),
        ("CLIENT_TOKEN_SECRET_ARN", ""),
        ("SESSION_TOKEN_SECRET_ARN", ""),
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

#[test]
fn keys_from_secrets_manager_and_endpoints() {
    let c = env(&[
        ("SESSION_TOKEN_ALG", "EdDSA"),
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:5005"),
        ("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:6006"),
        ("CLIENT_TOKEN_ISSUER", "https://issuer.example"),
        ("CLIENT_TOKEN_MAX_SECONDS", "3600"),
    ])
    .unwrap();
    assert_eq!(c.session_alg, SessionAlg::EdDsa);
    assert_eq!(
        c.endpoints.dynamodb.as_deref(),
        Some("http://127.0.0.1:6006"),
        "its own"
    );
    assert_eq!(c.endpoints.secrets_manager.as_deref(), Some("http://127.0.0.1:5005"));
    assert_eq!(c.client_tokens.max_seconds, Some(3600));
    // A key is never configuration: the old local-run variables are not read.
    let ignored = env(&[("CLIENT_TOKEN_SECRET", "c-secret-c-secret-c-secret-c-secret")]).unwrap();
    assert!(matches!(ignored.client_key.source, KeySource::SecretsManager { .. }));
}
