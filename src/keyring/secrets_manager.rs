//! A key's versions in Secrets Manager: which versions are labeled `AWSCURRENT` and
//! `AWSPREVIOUS` at one moment (`DescribeSecret`'s `VersionIdsToStages`), each version's
//! value by its `VersionId` (the `kid` of the tokens it signs), and the admin's writes.

use aws_config::SdkConfig;
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::error::SdkError;
use secrecy::{ExposeSecret, SecretString};

use super::{KeyError, Unusable};

pub const CURRENT: &str = "AWSCURRENT";
pub const PREVIOUS: &str = "AWSPREVIOUS";

/// The handler's Secrets Manager client on the shared configuration (no I/O).
pub fn client(shared: &SdkConfig, endpoint: Option<&str>) -> Client {
    let mut config = aws_sdk_secretsmanager::config::Builder::from(shared);
    config.set_endpoint_url(endpoint.map(str::to_owned));
    Client::from_conf(config.build())
}

/// The versions Secrets Manager labels at one moment, by `VersionId`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct View {
    pub current: String,
    pub previous: Option<String>,
}

fn source<E: std::error::Error + Send + Sync + 'static>(e: SdkError<E>) -> super::Source {
    Box::new(e)
}

/// The labels, all from one answer.
pub async fn view(client: &Client, secret_id: &str) -> Result<View, KeyError> {
    let out = client
        .describe_secret()
        .secret_id(secret_id)
        .send()
        .await
        .map_err(|e| KeyError::Describe(source(e)))?;
    let labeled = |stage: &str| {
        out.version_ids_to_stages()
            .into_iter()
            .flatten()
            .find(|(_, stages)| stages.iter().any(|s| s == stage))
            .map(|(id, _)| id.clone())
    };
    Ok(View {
        current: labeled(CURRENT).ok_or(KeyError::NoCurrent)?,
        previous: labeled(PREVIOUS),
    })
}

/// One version's value, by its id (versions never change).
pub async fn value(client: &Client, secret_id: &str, version: &str) -> Result<SecretString, KeyError> {
    let out = client
        .get_secret_value()
        .secret_id(secret_id)
        .version_id(version)
        .send()
        .await
        .map_err(|e| KeyError::Read {
            version: version.to_owned(),
            source: source(e),
        })?;
    out.secret_string
        .map(SecretString::from)
        .ok_or_else(|| KeyError::Unusable {
            version: version.to_owned(),
            problem: Unusable::NotText,
        })
}

/// Creates a secret holding `value`; returns its ARN.
pub async fn create(client: &Client, name: &str, value: &SecretString) -> Result<String, super::Source> {
    let out = client
        .create_secret()
        .name(name)
        .secret_string(value.expose_secret())
        .send()
        .await
        .map_err(source)?;
    out.arn.ok_or_else(|| "no ARN in the answer".into())
}

/// Puts a new version (`put-secret-value`): it becomes `AWSCURRENT`, the old current
/// `AWSPREVIOUS`. Returns its `VersionId`.
pub async fn put(client: &Client, secret_id: &str, value: &SecretString) -> Result<String, super::Source> {
    let out = client
        .put_secret_value()
        .secret_id(secret_id)
        .secret_string(value.expose_secret())
        .send()
        .await
        .map_err(source)?;
    out.version_id.ok_or_else(|| "no version id in the answer".into())
}

/// Takes `AWSPREVIOUS` off `version`: no function holds it after its next re-read.
pub async fn unlabel_previous(client: &Client, secret_id: &str, version: &str) -> Result<(), super::Source> {
    client
        .update_secret_version_stage()
        .secret_id(secret_id)
        .version_stage(PREVIOUS)
        .remove_from_version_id(version)
        .send()
        .await
        .map_err(source)?;
    Ok(())
}
