//! Reading a key's versions from Secrets Manager: `AWSCURRENT` and, when it exists,
//! `AWSPREVIOUS`, each with its `VersionId` (the `kid` of the tokens it signs).

use aws_config::SdkConfig;
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};
use secrecy::SecretString;

use super::{Fetched, KeyVersion, Versions};
use crate::config::MIN_SECRET_BYTES;

pub const CURRENT: &str = "AWSCURRENT";
pub const PREVIOUS: &str = "AWSPREVIOUS";

/// The handler's Secrets Manager client on the shared configuration (no I/O).
pub fn client(shared: &SdkConfig, endpoint: Option<&str>) -> Client {
    let mut config = aws_sdk_secretsmanager::config::Builder::from(shared);
    config.set_endpoint_url(endpoint.map(str::to_owned));
    Client::from_conf(config.build())
}

/// The secret's current and previous versions. The message of an error names no key
/// material (only the SDK's error code or kind). `AWSPREVIOUS` is a grace period, not a
/// requirement: a failure to read it is no error, but it is told apart from its absence.
pub async fn read(client: &Client, secret_id: &str) -> Result<Fetched, String> {
    let (current, previous) = tokio::join!(stage(client, secret_id, CURRENT), stage(client, secret_id, PREVIOUS));
    let current = current?.ok_or_else(|| format!("the secret has no {CURRENT} version"))?;
    if current.material_len < MIN_SECRET_BYTES {
        return Err(format!("its {CURRENT} value must be at least {MIN_SECRET_BYTES} bytes"));
    }
    let (previous, previous_unread) = match previous {
        Ok(Some(p)) if p.material_len >= MIN_SECRET_BYTES => (Some(p.version), false),
        Ok(Some(_)) => {
            tracing::warn!(secret = secret_id, "the {PREVIOUS} value is too short: not used");
            (None, false)
        }
        Ok(None) => (None, false),
        Err(e) => {
            tracing::warn!(secret = secret_id, error = %e, "cannot read the {PREVIOUS} version");
            (None, true)
        }
    };
    Ok(Fetched {
        versions: Versions {
            current: current.version,
            previous,
        },
        previous_unread,
    })
}

struct Read {
    version: KeyVersion,
    material_len: usize,
}

async fn stage(client: &Client, secret_id: &str, stage: &str) -> Result<Option<Read>, String> {
    let out = client
        .get_secret_value()
        .secret_id(secret_id)
        .version_stage(stage)
        .send()
        .await;
    let out = match out {
        Ok(out) => out,
        Err(SdkError::ServiceError(e)) if stage == PREVIOUS && e.err().is_resource_not_found_exception() => {
            return Ok(None);
        }
        Err(e) => return Err(describe(&e)),
    };
    let Some(material) = out.secret_string else {
        return Err(format!("its {stage} version has no SecretString"));
    };
    Ok(Some(Read {
        material_len: material.len(),
        version: KeyVersion {
            kid: out.version_id,
            material: SecretString::from(material),
        },
    }))
}

fn describe<E: ProvideErrorMetadata>(e: &SdkError<E>) -> String {
    match e {
        SdkError::ServiceError(se) => se.err().code().unwrap_or("service error").to_owned(),
        SdkError::TimeoutError(_) => "timed out".to_owned(),
        SdkError::DispatchFailure(_) => "dispatch failure (unreachable)".to_owned(),
        SdkError::ResponseError(_) => "unreadable response".to_owned(),
        _ => "request not sent".to_owned(),
    }
}

/// The length of a generated key: 64 characters of [A-Za-z0-9], about 381 bits (what the
/// template's `GenerateSecretString` makes too).
pub const KEY_CHARS: usize = 64;

/// A fresh key from `rand`'s thread-local CSPRNG (ChaCha12, seeded from the OS).
pub fn new_key_material() -> SecretString {
    use rand::distr::{Alphanumeric, SampleString};
    SecretString::from(Alphanumeric.sample_string(&mut rand::rng(), KEY_CHARS))
}

/// Rotates a key: `material` becomes `AWSCURRENT`, the old current `AWSPREVIOUS`
/// (`put-secret-value`). Returns the new version's id (the `kid` of what it signs).
pub async fn rotate(client: &Client, secret_id: &str, material: &SecretString) -> Result<String, String> {
    use secrecy::ExposeSecret;
    let out = client
        .put_secret_value()
        .secret_id(secret_id)
        .secret_string(material.expose_secret())
        .send()
        .await
        .map_err(|e| describe(&e))?;
    out.version_id.ok_or_else(|| "no version id in the answer".to_owned())
}

/// Creates a secret holding `material`; returns its ARN.
pub async fn create(client: &Client, name: &str, material: &SecretString) -> Result<String, String> {
    use secrecy::ExposeSecret;
    let out = client
        .create_secret()
        .name(name)
        .secret_string(material.expose_secret())
        .send()
        .await
        .map_err(|e| describe(&e))?;
    out.arn.ok_or_else(|| "no ARN in the answer".to_owned())
}
