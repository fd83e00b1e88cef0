//! The session-token signing keys, derived from the session secret's versions: HS256
//! with the secret itself, or an Ed25519 pair derived from it (HKDF-SHA256), whose
//! public halves are served as a JWKS (CONTRACT §9).

use aws_lc_rs::hkdf::{HKDF_SHA256, KeyType, Salt};
use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::EncodingKey;
use secrecy::ExposeSecret;
use serde::Serialize;

use crate::keyring::{KeyVersion, Versions};

/// HKDF-SHA256's `info` for the Ed25519 seed (the salt is empty): a new derivation
/// (another curve, another use) takes another `info`, never this one.
pub const ED25519_INFO: &[u8] = b"biometric-validations/session-token/ed25519/v1";

/// How the current version signs.
pub enum Signing {
    Hs256(EncodingKey),
    EdDsa(Ed25519KeyPair),
}

/// One public key, as RFC 8037 writes it in a JWKS.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Jwk {
    pub kty: &'static str,
    pub crv: &'static str,
    pub x: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    pub alg: &'static str,
    #[serde(rename = "use")]
    pub use_: &'static str,
}

pub struct SessionKeys {
    pub signing: Signing,
    /// The JWT header, base64url: `{"alg":…,"typ":"JWT"}`, then `"kid"` when the key has a version.
    pub header_b64: String,
    /// Current first; empty for HS256 (no public key).
    pub public: Vec<Jwk>,
}

#[derive(Serialize)]
struct Header<'a> {
    alg: &'a str,
    typ: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    kid: Option<&'a str>,
}

fn header_b64(alg: &str, kid: Option<&str>) -> Result<String, String> {
    let json = serde_json::to_vec(&Header { alg, typ: "JWT", kid }).map_err(|e| e.to_string())?;
    Ok(URL_SAFE_NO_PAD.encode(json))
}

pub fn hs256(versions: &Versions) -> Result<SessionKeys, String> {
    let current = &versions.current;
    Ok(SessionKeys {
        signing: Signing::Hs256(EncodingKey::from_secret(current.material.expose_secret().as_bytes())),
        header_b64: header_b64("HS256", current.kid.as_deref())?,
        public: Vec::new(),
    })
}

pub fn eddsa(versions: &Versions) -> Result<SessionKeys, String> {
    let pairs: Vec<(Option<&str>, Ed25519KeyPair)> = versions
        .iter()
        .map(|v| Ok((v.kid.as_deref(), ed25519(v)?)))
        .collect::<Result<_, String>>()?;
    let public = pairs
        .iter()
        .map(|(kid, pair)| Jwk {
            kty: "OKP",
            crv: "Ed25519",
            x: URL_SAFE_NO_PAD.encode(pair.public_key().as_ref()),
            kid: kid.map(str::to_owned),
            alg: "EdDSA",
            use_: "sig",
        })
        .collect();
    let Some((_, current)) = pairs.into_iter().next() else {
        return Err("no current key".to_owned());
    };
    Ok(SessionKeys {
        signing: Signing::EdDsa(current),
        header_b64: header_b64("EdDSA", versions.current.kid.as_deref())?,
        public,
    })
}

struct Seed;

impl KeyType for Seed {
    fn len(&self) -> usize {
        32
    }
}

/// The Ed25519 pair of a key version: its seed is HKDF-SHA256(secret, salt = "", `ED25519_INFO`).
fn ed25519(version: &KeyVersion) -> Result<Ed25519KeyPair, String> {
    let prk = Salt::new(HKDF_SHA256, &[]).extract(version.material.expose_secret().as_bytes());
    let mut seed = [0u8; 32];
    prk.expand(&[ED25519_INFO], Seed)
        .and_then(|okm| okm.fill(&mut seed))
        .map_err(|_| "cannot derive the Ed25519 key".to_owned())?;
    let pair = Ed25519KeyPair::from_seed_unchecked(&seed).map_err(|_| "cannot derive the Ed25519 key".to_owned());
    seed.fill(0);
    pair
}
