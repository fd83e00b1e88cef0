//! Caller authentication: `Authorization: Bearer <HS256 JWT>` → the calling client.
//! The key is chosen by the token's `kid`, else the current version then the previous
//! one (CONTRACT §2); the claims are checked in `claims`.

mod claims;

use std::sync::Arc;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use secrecy::ExposeSecret;

use claims::ClientClaims;
pub use claims::LEEWAY_SECONDS;

use crate::config::ClientTokenRules;
use crate::error::ApiError;
use crate::keyring::{Keyring, Versions};
use crate::model::{Caller, Timestamp};

/// The client key's versions as verification keys, current first.
pub struct ClientKeys(Vec<(Option<String>, DecodingKey)>);

/// The `Derive` of the client key ring.
pub fn client_keys(versions: &Versions) -> Result<ClientKeys, String> {
    Ok(ClientKeys(
        versions
            .iter()
            .map(|v| {
                (
                    v.kid.clone(),
                    DecodingKey::from_secret(v.material.expose_secret().as_bytes()),
                )
            })
            .collect(),
    ))
}

/// Why a token did not decode.
enum Undecoded {
    /// Its `kid` names no version the ring holds.
    UnknownKid,
    Invalid,
}

pub struct Authenticator {
    keys: Arc<Keyring<ClientKeys>>,
    rules: ClientTokenRules,
    validation: Validation,
}

impl Authenticator {
    pub fn new(keys: Arc<Keyring<ClientKeys>>, rules: ClientTokenRules) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        // `exp`, `nbf`, `iss` and `aud` are checked in `claims` against the injected clock.
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.required_spec_claims = ["exp".to_owned()].into_iter().collect();
        Self {
            keys,
            rules,
            validation,
        }
    }

    /// An authenticator on one key held in memory, with no claim rules beyond §2's own
    /// (the checks that need no I/O: fuzzing, property tests).
    pub fn local(secret: secrecy::SecretString) -> Result<Self, crate::keyring::KeyError> {
        let ring = Keyring::fixed("CLIENT_TOKEN_SECRET_ARN", secret, client_keys)?;
        Ok(Self::new(Arc::new(ring), ClientTokenRules::default()))
    }

    /// Authenticates the values of every `Authorization` header the request carried.
    pub async fn authenticate<'a>(
        &self,
        authorization: impl Iterator<Item = &'a [u8]>,
        now: Timestamp,
    ) -> Result<Caller, ApiError> {
        let token = bearer(authorization)?;
        // Three parts, the first a JSON header naming a known algorithm.
        let header = jsonwebtoken::decode_header(token).map_err(|_| ApiError::InvalidToken)?;
        let kid = header.kid.as_deref();
        // No usable key version yet: the service's fault, worth a retry.
        let keys = self.keys.fresh_keys().await.map_err(|_| ApiError::ServiceUnavailable)?;
        let claims = match self.decode(&keys, token, kid) {
            Ok(claims) => claims,
            Err(Undecoded::Invalid) => return Err(ApiError::InvalidToken),
            // Perhaps a rotation this instance has not seen yet: only a token that could
            // be ours (HS256, a kid shaped like Secrets Manager's VersionIds) may ask for
            // a re-read, so made-up kids can't drive Secrets Manager calls.
            Err(Undecoded::UnknownKid) if header.alg == Algorithm::HS256 && kid.is_some_and(is_version_id) => {
                match self.keys.reread_for_unknown_kid(kid.unwrap_or_default()).await {
                    Some(keys) => self.decode(&keys, token, kid).map_err(|_| ApiError::InvalidToken)?,
                    None => return Err(ApiError::InvalidToken),
                }
            }
            Err(Undecoded::UnknownKid) => return Err(ApiError::InvalidToken),
        };
        claims.check(&self.rules, now)
    }

    /// A token with a `kid` is checked with that version only; one without, with each
    /// version in turn, current first.
    fn decode(&self, keys: &ClientKeys, token: &str, kid: Option<&str>) -> Result<ClientClaims, Undecoded> {
        let mut candidates = keys
            .0
            .iter()
            .filter(|(k, _)| kid.is_none() || k.as_deref() == kid)
            .peekable();
        if candidates.peek().is_none() {
            return Err(Undecoded::UnknownKid);
        }
        for (_, key) in candidates {
            match jsonwebtoken::decode::<ClientClaims>(token, key, &self.validation) {
                Ok(data) => return Ok(data.claims),
                Err(e) if matches!(e.kind(), jsonwebtoken::errors::ErrorKind::InvalidSignature) => continue,
                Err(_) => return Err(Undecoded::Invalid),
            }
        }
        Err(Undecoded::Invalid)
    }
}

/// Whether `kid` has the shape of a Secrets Manager `VersionId`: a UUID, 8-4-4-4-12 hex digits.
fn is_version_id(kid: &str) -> bool {
    let groups: Vec<&str> = kid.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The token of the one `Authorization` header: `Bearer <jwt>` in any case, or a bare `<jwt>`.
fn bearer<'a>(mut authorization: impl Iterator<Item = &'a [u8]>) -> Result<&'a str, ApiError> {
    let Some(value) = authorization.next() else {
        return Err(ApiError::NoToken);
    };
    if authorization.next().is_some() {
        return Err(ApiError::InvalidToken);
    }
    let value = std::str::from_utf8(value).map_err(|_| ApiError::InvalidToken)?.trim();
    let token = match value.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim_start(),
        Some(_) => return Err(ApiError::InvalidToken),
        None if value.eq_ignore_ascii_case("bearer") => "",
        None => value,
    };
    if token.is_empty() {
        return Err(ApiError::NoToken);
    }
    Ok(token)
}

#[cfg(test)]
mod tests;
