//! The session token returned with a new validation (CONTRACT §4): claims in a fixed
//! order, signed with the session key's current version (HS256, or EdDSA with a JWKS).

pub mod keys;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use serde::{Deserialize, Serialize};

use std::sync::Arc;

use crate::keyring::{Keyring, NoKey};
use keys::Signing;
pub use keys::{Jwk, SessionKeys};

use crate::model::{ClientId, FlowId, Pair, ProjectId, SessionId, ValidationId, ValidationType};

/// `aud` of every session token; client tokens carrying it are refused.
pub const SESSION_AUDIENCE: &str = "liveness";

/// Claims in a fixed order, so that the same session always signs to the same token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionClaims {
    pub sub: SessionId,
    pub liveness_session: SessionId,
    pub biometric_validation: ValidationId,
    pub client: ClientId,
    pub project: ProjectId,
    pub project_flow: FlowId,
    #[serde(rename = "type")]
    pub kind: ValidationType,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
}

impl SessionClaims {
    pub fn new(pair: &Pair, issuer: &str) -> Self {
        let Pair { session, validation } = pair;
        Self {
            sub: session.id,
            liveness_session: session.id,
            biometric_validation: validation.id,
            client: session.client,
            project: session.project,
            project_flow: session.project_flow,
            kind: validation.kind,
            iss: issuer.to_owned(),
            aud: SESSION_AUDIENCE.to_owned(),
            iat: session.activated_at.unix_seconds(),
            exp: session.expires_at.unix_seconds(),
        }
    }
}

/// Why a session token could not be signed.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// No key version can serve yet (CONTRACT §8): worth retrying later.
    #[error(transparent)]
    NoKey(#[from] NoKey),
    #[error("cannot write the claims")]
    Claims(#[from] serde_json::Error),
    #[error("cannot sign the token")]
    Sign(#[from] jsonwebtoken::errors::Error),
}

/// Signs session tokens with the current version of the session key.
pub struct SessionSigner {
    keys: Arc<Keyring<SessionKeys>>,
    issuer: String,
}

impl SessionSigner {
    pub fn new(keys: Arc<Keyring<SessionKeys>>, issuer: String) -> Self {
        Self { keys, issuer }
    }

    /// The same session always signs to the same token with the same key version.
    pub async fn sign(&self, pair: &Pair) -> Result<String, SignError> {
        let keys = self.keys.fresh_keys().await?;
        let claims = serde_json::to_vec(&SessionClaims::new(pair, &self.issuer))?;
        let message = format!("{}.{}", keys.header_b64, URL_SAFE_NO_PAD.encode(claims));
        let signature = match &keys.signing {
            Signing::Hs256(key) => jsonwebtoken::crypto::sign(message.as_bytes(), key, Algorithm::HS256)?,
            Signing::EdDsa(pair) => URL_SAFE_NO_PAD.encode(pair.sign(message.as_bytes()).as_ref()),
        };
        Ok(format!("{message}.{signature}"))
    }

    /// The public keys (current first), or `None` when tokens are HS256 (no public key).
    pub async fn public_keys(&self) -> Result<Option<Vec<Jwk>>, NoKey> {
        let keys = self.keys.fresh_keys().await?;
        Ok((!keys.public.is_empty()).then(|| keys.public.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{DecodingKey, Validation};

    use crate::model::{BiometricValidation, LivenessSession, Timestamp, ValidationType};

    fn pair() -> Pair {
        fn id<K>(s: &str) -> crate::model::Id<K> {
            crate::model::Id::parse(s).unwrap()
        }
        let at = Timestamp::parse("2024-09-12T17:26:26.954Z").unwrap();
        let session = LivenessSession::new(
            id("66e3244269cd15b505d21063"),
            id("613375a1eab2fe08527f81e2"),
            id("66df5bf5c4d855fb0bdf5da2"),
            id("66df5c22c4d855fb0bdf5da9"),
            "03da12fba".into(),
            at,
            at.whole_seconds().plus_seconds(240),
        );
        let validation = BiometricValidation {
            client: session.client,
            project: session.project,
            project_flow: session.project_flow,
            liveness_session: session.id,
            status: crate::model::ValidationStatus::New,
            kind: ValidationType::Login,
            url: String::new(),
            liveness_score: 0,
            assigned_collection: crate::model::ObjectId::parse("66df5bf5c4d855fb0bdf5da4").unwrap(),
            collection_code: "c".into(),
            requires_2fa: false,
            redirect_url: None,
            language: None,
            id: id("66e3244369cd15b505d21065"),
            updated_at: at,
            created_at: at,
            version: 0,
        };
        Pair { session, validation }
    }

    #[test]
    fn claims_in_order_without_the_identifier() {
        let pair = pair();
        let claims = serde_json::to_string(&SessionClaims::new(&pair, "iss-x")).unwrap();
        assert_eq!(
            claims,
            r#"{"sub":"66e3244269cd15b505d21063","livenessSession":"66e3244269cd15b505d21063","biometricValidation":"66e3244369cd15b505d21065","client":"613375a1eab2fe08527f81e2","project":"66df5bf5c4d855fb0bdf5da2","projectFlow":"66df5c22c4d855fb0bdf5da9","type":"login","iss":"iss-x","aud":"liveness","iat":1726161986,"exp":1726162226}"#
        );
    }

    const SECRET: &str = "session-secret-session-secret-session";

    async fn signer(derive: crate::keyring::Derive<SessionKeys>) -> SessionSigner {
        let ring = Keyring::fixed("SESSION_TOKEN_SECRET_ARN", SECRET.to_owned().into(), derive).unwrap();
        SessionSigner::new(Arc::new(ring), "iss-x".into())
    }

    fn header(token: &str) -> String {
        String::from_utf8(URL_SAFE_NO_PAD.decode(token.split('.').next().unwrap()).unwrap()).unwrap()
    }

    #[tokio::test]
    async fn signed_tokens_verify_and_are_deterministic() {
        let pair = pair();
        let signer = signer(keys::hs256).await;
        let token = signer.sign(&pair).await.unwrap();
        assert_eq!(
            token,
            signer.sign(&pair).await.unwrap(),
            "replays re-sign to the same bytes"
        );
        // A local key has no version: the seed's header, byte for byte.
        assert_eq!(header(&token), r#"{"alg":"HS256","typ":"JWT"}"#);
        let mut v = Validation::new(Algorithm::HS256);
        v.set_audience(&[SESSION_AUDIENCE]);
        v.validate_exp = false;
        let key = DecodingKey::from_secret(SECRET.as_bytes());
        let claims = jsonwebtoken::decode::<SessionClaims>(&token, &key, &v).unwrap().claims;
        assert_eq!(claims, SessionClaims::new(&pair, "iss-x"));
        let wrong = DecodingKey::from_secret(b"another-secret-another-secret-another");
        assert!(jsonwebtoken::decode::<SessionClaims>(&token, &wrong, &v).is_err());
        assert_eq!(signer.public_keys().await.unwrap(), None, "HS256 has no public key");
    }

    #[tokio::test]
    async fn eddsa_tokens_verify_with_the_published_key() {
        let pair = pair();
        let signer = signer(keys::eddsa).await;
        let token = signer.sign(&pair).await.unwrap();
        assert_eq!(header(&token), r#"{"alg":"EdDSA","typ":"JWT"}"#);
        let jwks = signer.public_keys().await.unwrap().unwrap();
        assert_eq!(jwks.len(), 1);
        let key = DecodingKey::from_ed_components(&jwks[0].x).unwrap();
        let mut v = Validation::new(Algorithm::EdDSA);
        v.set_audience(&[SESSION_AUDIENCE]);
        v.validate_exp = false;
        let claims = jsonwebtoken::decode::<SessionClaims>(&token, &key, &v).unwrap().claims;
        assert_eq!(claims.sub, pair.session.id);
        assert_eq!(token, signer.sign(&pair).await.unwrap(), "deterministic");
    }

    #[test]
    fn versioned_keys_name_their_kid_and_both_versions_are_published() {
        use crate::keyring::{KeyVersion, Versions};
        let version = |kid: &str, secret: &str| KeyVersion {
            kid: Some(kid.into()),
            material: secret.to_owned().into(),
        };
        let versions = Versions {
            current: version("v2", "second-secret-second-secret-second!!"),
            previous: Some(version("v1", SECRET)),
        };
        let hs = keys::hs256(&versions).unwrap();
        let decoded = String::from_utf8(URL_SAFE_NO_PAD.decode(&hs.header_b64).unwrap()).unwrap();
        assert_eq!(decoded, r#"{"alg":"HS256","typ":"JWT","kid":"v2"}"#);
        let ed = keys::eddsa(&versions).unwrap();
        let kids: Vec<_> = ed.public.iter().map(|k| k.kid.as_deref()).collect();
        assert_eq!(kids, [Some("v2"), Some("v1")], "current first");
        assert_ne!(ed.public[0].x, ed.public[1].x);
        let json = serde_json::to_value(&ed.public[0]).unwrap();
        assert_eq!(
            json.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["kty", "crv", "x", "kid", "alg", "use"]
        );
        assert_eq!(
            (json["kty"].as_str(), json["crv"].as_str()),
            (Some("OKP"), Some("Ed25519"))
        );
    }
}
