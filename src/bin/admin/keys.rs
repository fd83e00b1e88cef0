//! The key commands: mint a client token (signed with the key's `AWSCURRENT`, with its
//! `kid`), create, rotate and retire a key. Key material is never printed.

use biometric_validations::keyring::{KeyKind, Unusable, secrets_manager};
use biometric_validations::logging::Chain;
use biometric_validations::model::{ClientId, Timestamp};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use secrecy::{ExposeSecret, SecretString};

use super::aws;
use super::cli::Alg;

/// The longest client token `mint-token` makes: a leaked token is good for at most this.
pub const MAX_TTL_SECONDS: u64 = 86_400;

/// What signs a client token: the client-token key's `AWSCURRENT` and its version.
pub struct SigningKey {
    material: SecretString,
    kid: String,
}

pub async fn client(endpoint_flag: Option<&str>) -> Result<aws_sdk_secretsmanager::Client, String> {
    let endpoint = aws::endpoint(endpoint_flag, aws::SECRETS_MANAGER_ENDPOINT_VARS)?;
    Ok(aws_sdk_secretsmanager::Client::new(
        &aws::sdk_config(endpoint.as_ref()).await?,
    ))
}

impl From<Alg> for KeyKind {
    fn from(alg: Alg) -> Self {
        match alg {
            Alg::Hs256 => KeyKind::Hs256,
            Alg::EdDsa => KeyKind::EdDsa,
        }
    }
}

/// The client-token key (an HS256 key: its value is the key itself).
pub async fn signing_key(endpoint_flag: Option<&str>, secret_id: Option<&str>) -> Result<SigningKey, String> {
    let id = secret_id.map(str::trim).filter(|v| !v.is_empty()).ok_or(
        "--secret-id or CLIENT_TOKEN_SECRET_ARN is required (the client-token key's secret; \
         the stack's ClientTokenSecretArn output)",
    )?;
    let client = client(endpoint_flag).await?;
    // Against AWS's own Secrets Manager the function refuses the documented local keys:
    // no token is minted with one there.
    let on_aws = aws::endpoint(endpoint_flag, aws::SECRETS_MANAGER_ENDPOINT_VARS)?.is_none();
    let failed =
        |e: biometric_validations::keyring::KeyError| format!("cannot read the client-token key {id}: {}", Chain(&e));
    let view = secrets_manager::view(&client, id).await.map_err(failed)?;
    let value = secrets_manager::value(&client, id, &view.current)
        .await
        .map_err(failed)?;
    let material = KeyKind::Hs256
        .material(value.expose_secret(), on_aws)
        .map_err(|why| format!("the client-token key {id}'s AWSCURRENT {why}"))?;
    Ok(SigningKey {
        material,
        kid: view.current,
    })
}

/// A lifetime `mint-token` makes, checked before anything is read.
pub fn check_ttl(ttl_seconds: u64) -> Result<(), String> {
    if ttl_seconds == 0 || ttl_seconds > MAX_TTL_SECONDS {
        return Err(format!("--ttl-seconds must be from 1 to {MAX_TTL_SECONDS} (a day)"));
    }
    Ok(())
}

/// The claims a token for `client` carries: `clientId`, `iat` (always: revocations and
/// lifetime caps are checked against it), `exp`, and `iss`/`aud` when given.
pub fn mint(
    client: ClientId,
    key: &SigningKey,
    ttl_seconds: u64,
    issuer: Option<&str>,
    audience: Option<&str>,
    now: Timestamp,
) -> Result<String, String> {
    check_ttl(ttl_seconds)?;
    let now = now.unix_seconds();
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
    header.kid = Some(key.kid.clone());
    jsonwebtoken::encode(
        &header,
        &claims,
        &EncodingKey::from_secret(key.material.expose_secret().as_bytes()),
    )
    .map_err(|e| e.to_string())
}

/// The algorithm a version's value serves.
fn kind_of(value: &SecretString) -> KeyKind {
    match KeyKind::EdDsa.material(value.expose_secret(), false) {
        Err(Unusable::OtherKind { found, .. }) if found == "HS256" => KeyKind::Hs256,
        _ => KeyKind::EdDsa,
    }
}

/// Puts a fresh value of `kind` (by default, AWSCURRENT's); the answer names the new version.
pub async fn rotate(
    client: &aws_sdk_secretsmanager::Client,
    secret_id: &str,
    kind: Option<KeyKind>,
) -> Result<(String, KeyKind), String> {
    let failed = |e: &(dyn std::error::Error + 'static)| format!("cannot rotate {secret_id}: {}", Chain(e));
    let kind = match kind {
        Some(kind) => kind,
        None => {
            let view = secrets_manager::view(client, secret_id).await.map_err(|e| failed(&e))?;
            let current = secrets_manager::value(client, secret_id, &view.current)
                .await
                .map_err(|e| failed(&e))?;
            kind_of(&current)
        }
    };
    let version = secrets_manager::put(client, secret_id, &kind.new_value())
        .await
        .map_err(|e| failed(&*e))?;
    Ok((version, kind))
}

pub async fn rotate_key(endpoint_flag: Option<&str>, secret_id: &str, alg: Option<Alg>) -> Result<String, String> {
    let (version, kind) = rotate(&client(endpoint_flag).await?, secret_id, alg.map(KeyKind::from)).await?;
    Ok(format!(
        "{secret_id}: version {version} ({}) is AWSCURRENT (the previous one is AWSPREVIOUS); \
         instances pick it up within SECRETS_REFRESH_SECONDS",
        kind.name()
    ))
}

/// Retires `version` (AWSCURRENT by default): a rotation first if it is AWSCURRENT, then
/// AWSPREVIOUS taken off it, so no instance holds it after its next re-read.
pub async fn retire(endpoint_flag: Option<&str>, secret_id: &str, version: Option<&str>) -> Result<String, String> {
    let client = client(endpoint_flag).await?;
    let failed =
        |e: &(dyn std::error::Error + 'static)| format!("cannot retire a version of {secret_id}: {}", Chain(e));
    let view = secrets_manager::view(&client, secret_id)
        .await
        .map_err(|e| failed(&e))?;
    let leaked = version.unwrap_or(&view.current).to_owned();
    let mut said = Vec::new();
    let previous = if leaked == view.current {
        let (new, _) = rotate(&client, secret_id, None).await?;
        said.push(format!("version {new} is AWSCURRENT"));
        Some(leaked.clone())
    } else {
        view.previous.clone().filter(|p| *p == leaked)
    };
    match previous {
        Some(leaked) => {
            secrets_manager::unlabel_previous(&client, secret_id, &leaked)
                .await
                .map_err(|e| failed(&*e))?;
            said.push(format!(
                "version {leaked} has no label: every instance refuses it within SECRETS_REFRESH_SECONDS"
            ));
        }
        None => said.push(format!(
            "version {leaked} is neither AWSCURRENT nor AWSPREVIOUS: nothing serves it"
        )),
    }
    Ok(format!("{secret_id}: {}", said.join("; ")))
}

/// Creates a key's secret with a fresh random key of `alg`; prints its ARN.
pub async fn create(endpoint_flag: Option<&str>, name: &str, alg: Alg) -> Result<String, String> {
    secrets_manager::create(&client(endpoint_flag).await?, name, &KeyKind::from(alg).new_value())
        .await
        .map_err(|e| format!("cannot create {name}: {}", Chain(&*e)))
}

/// Creates a key's secret holding `key` (a documented local key) in the form of `kind`,
/// unless a secret of that name exists.
pub async fn create_unless_exists(
    endpoint_flag: Option<&str>,
    name: &str,
    kind: KeyKind,
    key: &str,
) -> Result<(), String> {
    let client = client(endpoint_flag).await?;
    let value = kind.value(&SecretString::from(key.to_owned()));
    match client
        .create_secret()
        .name(name)
        .secret_string(value.expose_secret())
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_exists_exception()) => Ok(()),
        Err(e) => Err(format!("cannot create {name}: {}", Chain(&e))),
    }
}
