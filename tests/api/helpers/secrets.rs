//! Keys in moto's Secrets Manager, as the stack holds them: create, rotate, look up.

use super::moto::{moto_endpoint, secrets_client};
use super::{CLIENT_SECRET, SESSION_SECRET};

/// A new secret in the moto at `endpoint` holding `value`; its ARN.
pub async fn create_secret_on(endpoint: &str, name: &str, value: &str) -> String {
    secrets_client(endpoint)
        .create_secret()
        .name(name)
        .secret_string(value)
        .send()
        .await
        .expect("create secret")
        .arn
        .expect("an ARN")
}

/// A rotation as `put-secret-value` does it: a new AWSCURRENT, the old one AWSPREVIOUS.
/// Returns the new version's id (the `kid` of what it signs).
pub async fn rotate_secret(arn: &str, value: &str) -> String {
    secrets_client(moto_endpoint())
        .put_secret_value()
        .secret_id(arn)
        .secret_string(value)
        .send()
        .await
        .expect("put secret value")
        .version_id
        .expect("a version id")
}

/// The `VersionId` of a secret's AWSCURRENT.
pub async fn current_version(arn: &str) -> String {
    secrets_client(moto_endpoint())
        .get_secret_value()
        .secret_id(arn)
        .send()
        .await
        .expect("get secret value")
        .version_id
        .expect("a version id")
}

/// An EdDSA key's value (CONTRACT §8): `{"alg":"EdDSA","key":…}`.
pub fn eddsa_value(key: &str) -> String {
    use secrecy::ExposeSecret;
    let kind = biometric_validations::keyring::KeyKind::EdDsa;
    kind.value(&key.to_owned().into()).expose_secret().to_owned()
}

/// Where a test handler's keys come from.
#[derive(Clone, Debug)]
pub enum Keys {
    /// The documented local keys, held in memory (no versions: no `kid`).
    Local,
    /// Two Secrets Manager secrets in moto (ARNs), holding the same documented values:
    /// the production path.
    SecretsManager { client: String, session: String },
}

/// Two fresh secrets in the moto at `endpoint` holding the documented local keys.
pub async fn secrets_manager_keys(endpoint: &str, prefix: &str) -> Keys {
    Keys::SecretsManager {
        client: create_secret_on(endpoint, &format!("{prefix}/client-token"), CLIENT_SECRET).await,
        session: create_secret_on(endpoint, &format!("{prefix}/session-token"), SESSION_SECRET).await,
    }
}
