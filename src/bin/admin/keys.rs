//! The key commands: mint a client token (signed with the key's `AWSCURRENT`, with its
//! `kid`), rotate a key, create a key's secret. Key material is never printed.

use biometric_validations::keyring::secrets_manager;
use biometric_validations::model::ClientId;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use secrecy::{ExposeSecret, SecretString};

use super::aws;

/// The longest client token `mint-token` makes: a leaked token is good for at most this.
pub const MAX_TTL_SECONDS: u64 = 86_400;

/// What signs a client token: the key and, from Secrets Manager, its version.
pub struct SigningKey {
    material: SecretString,
    kid: Option<String>,
}

async fn client(endpoint_flag: Option<&str>) -> Result<aws_sdk_secretsmanager::Client, String> {
    let endpoint = aws::endpoint(endpoint_flag, aws::SECRETS_MANAGER_ENDPOINT_VARS)?;
    Ok(aws_sdk_secretsmanager::Client::new(
        &aws::sdk_config(endpoint.as_ref()).await?,
    ))
}

/// The client-token key: `--secret-id`/`CLIENT_TOKEN_SECRET_ARN` (its AWSCURRENT), or
/// `--secret`/`CLIENT_TOKEN_SECRET` (a local key, no version); exactly one, as the
/// function wants it.
pub async fn signing_key(
    endpoint_flag: Option<&str>,
    secret_id: Option<&str>,
    secret: Option<&str>,
) -> Result<SigningKey, String> {
    let given = |v: Option<&str>| v.map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned);
    match (given(secret_id), given(secret)) {
        (Some(_), Some(_)) => {
            Err("give --secret-id (CLIENT_TOKEN_SECRET_ARN) or --secret (CLIENT_TOKEN_SECRET), not both".into())
        }
        (None, None) => Err(
            "--secret-id or CLIENT_TOKEN_SECRET_ARN is required (the client-token key's secret; \
             the stack's ClientTokenSecretArn output), or --secret or CLIENT_TOKEN_SECRET for a local key"
                .into(),
        ),
        (Some(id), None) => {
            let versions = secrets_manager::read(&client(endpoint_flag).await?, &id)
                .await
                .map_err(|why| format!("cannot read the client-token key {id}: {why}"))?
                .versions;
            Ok(SigningKey {
                kid: versions.current.kid.clone(),
                material: versions.current.material,
            })
        }
        (None, Some(local)) if local.len() < biometric_validations::config::MIN_SECRET_BYTES => Err(format!(
            "--secret or CLIENT_TOKEN_SECRET must be at least {} bytes",
            biometric_validations::config::MIN_SECRET_BYTES
        )),
        (None, Some(local)) => Ok(SigningKey {
            material: SecretString::from(local),
            kid: None,
        }),
    }
}

/// The claims a token for `client` carries: `clientId`, `iat` (always: revocations and
/// lifetime caps are checked against it), `exp`, and `iss`/`aud` when given.
pub fn mint(
    client: ClientId,
    key: &SigningKey,
    ttl_seconds: u64,
    issuer: Option<&str>,
    audience: Option<&str>,
    now: i64,
) -> Result<String, String> {
    if ttl_seconds == 0 || ttl_seconds > MAX_TTL_SECONDS {
        return Err(format!("--ttl-seconds must be from 1 to {MAX_TTL_SECONDS} (a day)"));
    }
    let mut claims = serde_json::json!({
        "clientId": client.to_string(),
        "iat": now,
        "exp": now.saturating_add(i64::try_from(ttl_seconds).unwrap_or(i64::MAX)),
    });
    if let Some(iss) = issuer.filter(|s| !s.is_empty()) {
        claims["iss"] = iss.into();
    }
    if let Some(aud) = audience.filter(|s| !s.is_empty()) {
        claims["aud"] = aud.into();
    }
    let mut header = Header::new(Algorithm::HS256);
    header.kid = key.kid.clone();
    jsonwebtoken::encode(
        &header,
        &claims,
        &EncodingKey::from_secret(key.material.expose_secret().as_bytes()),
    )
    .map_err(|e| e.to_string())
}

/// Rotates a key's secret to a fresh random value; the answer names the new version.
pub async fn rotate(endpoint_flag: Option<&str>, secret_id: &str) -> Result<String, String> {
    let material = secrets_manager::new_key_material();
    let version = secrets_manager::rotate(&client(endpoint_flag).await?, secret_id, &material)
        .await
        .map_err(|why| format!("cannot rotate {secret_id}: {why}"))?;
    Ok(format!(
        "{secret_id}: version {version} is AWSCURRENT (the previous one is AWSPREVIOUS); \
         instances pick it up within SECRETS_REFRESH_SECONDS"
    ))
}

/// Creates a key's secret holding `material` (a documented local key), unless a secret of
/// that name exists.
pub async fn create_unless_exists(endpoint_flag: Option<&str>, name: &str, material: &str) -> Result<(), String> {
    let client = client(endpoint_flag).await?;
    match secrets_manager::create(&client, name, &SecretString::from(material.to_owned())).await {
        Ok(_) => Ok(()),
        Err(why) if why == "ResourceExistsException" => Ok(()),
        Err(why) => Err(format!("cannot create {name}: {why}")),
    }
}

/// Creates a key's secret with a fresh random value, or with the value of the variable
/// `from_env` (the documented local keys); prints its ARN.
pub async fn create(endpoint_flag: Option<&str>, name: &str, from_env: Option<&str>) -> Result<String, String> {
    let material = match from_env {
        None => secrets_manager::new_key_material(),
        Some(var) => aws::var(var)
            .map(SecretString::from)
            .ok_or_else(|| format!("--value-from-env {var}: {var} is not set"))?,
    };
    if material.expose_secret().len() < biometric_validations::config::MIN_SECRET_BYTES {
        return Err(format!(
            "a key must be at least {} bytes",
            biometric_validations::config::MIN_SECRET_BYTES
        ));
    }
    secrets_manager::create(&client(endpoint_flag).await?, name, &material)
        .await
        .map_err(|why| format!("cannot create {name}: {why}"))
}
