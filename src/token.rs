//! The session token returned with a new validation.

use jsonwebtoken::{Algorithm, EncodingKey};
use serde::{Deserialize, Serialize};

use crate::model::{BiometricValidation, LivenessSession, ObjectId, ValidationType};

/// `aud` of every session token; client tokens carrying it are refused.
pub const SESSION_AUDIENCE: &str = "liveness";

/// Claims in a fixed order, so that the same session always signs to the same token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionClaims {
    pub sub: ObjectId,
    pub liveness_session: ObjectId,
    pub biometric_validation: ObjectId,
    pub client: ObjectId,
    pub project: ObjectId,
    pub project_flow: ObjectId,
    #[serde(rename = "type")]
    pub kind: ValidationType,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
}

impl SessionClaims {
    pub fn new(session: &LivenessSession, validation: &BiometricValidation, issuer: &str) -> Self {
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

pub struct SessionSigner {
    key: EncodingKey,
    issuer: String,
}

/// `{"alg":"HS256","typ":"JWT"}` in base64url: the seed's header, byte for byte
/// (jsonwebtoken's own `Header` writes `typ` first).
const HEADER_B64: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

impl SessionSigner {
    pub fn new(session_token_secret: &[u8], issuer: String) -> Self {
        Self {
            key: EncodingKey::from_secret(session_token_secret),
            issuer,
        }
    }

    pub fn sign(
        &self,
        session: &LivenessSession,
        validation: &BiometricValidation,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        use base64::Engine;
        let claims = serde_json::to_vec(&SessionClaims::new(session, validation, &self.issuer))?;
        let message = format!(
            "{HEADER_B64}.{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims)
        );
        let signature = jsonwebtoken::crypto::sign(message.as_bytes(), &self.key, Algorithm::HS256)?;
        Ok(format!("{message}.{signature}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{DecodingKey, Validation};

    use crate::model::{ObjectId, Timestamp, ValidationType};

    fn pair() -> (LivenessSession, BiometricValidation) {
        let id = |s: &str| ObjectId::parse(s).unwrap();
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
            status: "new".into(),
            kind: ValidationType::Login,
            url: String::new(),
            liveness_score: 0,
            assigned_collection: id("66df5bf5c4d855fb0bdf5da4"),
            collection_code: "c".into(),
            requires_2fa: false,
            redirect_url: None,
            language: None,
            id: id("66e3244369cd15b505d21065"),
            updated_at: at,
            created_at: at,
            version: 0,
        };
        (session, validation)
    }

    #[test]
    fn claims_in_order_without_the_identifier() {
        let (session, validation) = pair();
        let claims = serde_json::to_string(&SessionClaims::new(&session, &validation, "iss-x")).unwrap();
        assert_eq!(
            claims,
            r#"{"sub":"66e3244269cd15b505d21063","livenessSession":"66e3244269cd15b505d21063","biometricValidation":"66e3244369cd15b505d21065","client":"613375a1eab2fe08527f81e2","project":"66df5bf5c4d855fb0bdf5da2","projectFlow":"66df5c22c4d855fb0bdf5da9","type":"login","iss":"iss-x","aud":"liveness","iat":1726161986,"exp":1726162226}"#
        );
    }

    #[test]
    fn signed_tokens_verify_and_are_deterministic() {
        let (session, validation) = pair();
        let signer = SessionSigner::new(b"session-secret-session-secret-session", "iss-x".into());
        let token = signer.sign(&session, &validation).unwrap();
        assert_eq!(
            token,
            signer.sign(&session, &validation).unwrap(),
            "replays re-sign to the same bytes"
        );
        assert!(token.starts_with(HEADER_B64));
        let mut v = Validation::new(Algorithm::HS256);
        v.set_audience(&[SESSION_AUDIENCE]);
        v.validate_exp = false;
        let key = DecodingKey::from_secret(b"session-secret-session-secret-session");
        let claims = jsonwebtoken::decode::<SessionClaims>(&token, &key, &v).unwrap().claims;
        assert_eq!(claims, SessionClaims::new(&session, &validation, "iss-x"));
        let wrong = DecodingKey::from_secret(b"another-secret-another-secret-another");
        assert!(jsonwebtoken::decode::<SessionClaims>(&token, &wrong, &v).is_err());
    }

    #[test]
    fn the_header_is_the_seeds() {
        use base64::Engine;
        let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(HEADER_B64)
            .unwrap();
        assert_eq!(header, br#"{"alg":"HS256","typ":"JWT"}"#);
    }
}
