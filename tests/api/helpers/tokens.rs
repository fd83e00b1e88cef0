//! Client tokens as callers sign them, and session tokens as their consumers verify them.

use biometric_validations::token::{SESSION_AUDIENCE, SessionClaims};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Value, json};

use super::clock::now_secs;
use super::{CLIENT, CLIENT_SECRET};

/// A client token signed with `secret`, with `kid` in its header when given.
pub fn client_token(secret: &str, kid: Option<&str>, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
}

pub fn sign(claims: &Value, secret: &str) -> String {
    client_token(secret, None, claims)
}

/// A valid client token for `client`, an hour long.
pub fn token_for(client: &str) -> String {
    sign(&json!({ "clientId": client, "exp": now_secs() + 3600 }), CLIENT_SECRET)
}

pub fn bearer() -> String {
    format!("Bearer {}", token_for(CLIENT))
}

/// Verifies session tokens as a consumer of them would (the liveness app's back end):
/// HS256 only, `aud` must be `liveness`, `iss` ours, `exp` in the future.
pub struct SessionVerifier {
    key: DecodingKey,
    validation: Validation,
}

impl SessionVerifier {
    pub fn new(session_token_secret: &[u8], issuer: &str) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[SESSION_AUDIENCE]);
        validation.set_issuer(&[issuer]);
        validation.set_required_spec_claims(&["exp", "aud", "iss", "sub"]);
        validation.leeway = 0;
        Self {
            key: DecodingKey::from_secret(session_token_secret),
            validation,
        }
    }

    pub fn verify(&self, token: &str) -> Result<SessionClaims, jsonwebtoken::errors::Error> {
        jsonwebtoken::decode::<SessionClaims>(token, &self.key, &self.validation).map(|d| d.claims)
    }
}
