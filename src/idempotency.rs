//! Idempotency keys: what is stored per key, and how a repeated request is recognised.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::model::{ObjectId, Timestamp};
use crate::request::CreateRequest;

pub const MAX_KEY_LEN: usize = 255;
pub const KEY_RULE: &str = "Idempotency-Key must be 1 to 255 visible ASCII characters";

/// Checks an `Idempotency-Key` header value: 1..=255 visible ASCII characters.
pub fn valid_key(value: &[u8]) -> bool {
    (1..=MAX_KEY_LEN).contains(&value.len()) && value.iter().all(|b| (0x21..=0x7e).contains(b))
}

/// The record's partition key: per client, with the caller's key hashed so that any
/// key fits and none is stored in clear.
pub fn record_pk(client: ObjectId, key: &str) -> String {
    format!("IDEMPOTENCY#{client}#{}", hex::encode(Sha256::digest(key.as_bytes())))
}

/// A digest of the validated request: two bodies that validate to the same request
/// (key order, spacing, case of ids, surrounding spaces) are the same request.
pub fn fingerprint(request: &CreateRequest) -> String {
    let canonical = serde_json::to_vec(request).expect("a request always serialises");
    hex::encode(Sha256::digest(&canonical))
}

/// What an idempotency record holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IdempotencyRecord {
    pub pk: String,
    #[serde(rename = "requestHash")]
    pub fingerprint: String,
    /// The first response's `data` without its token (the token is signed again on replay,
    /// to the same bytes, so no bearer credential rests in the table).
    pub reply: String,
    #[serde(rename = "livenessSession")]
    pub liveness_session: ObjectId,
    #[serde(rename = "biometricValidation")]
    pub biometric_validation: ObjectId,
    #[serde(rename = "expiresAt")]
    pub expires_at: Timestamp,
}

impl IdempotencyRecord {
    /// DynamoDB deletes expired items late: an expired record counts as absent.
    pub fn is_live(&self, now: Timestamp) -> bool {
        self.expires_at.unix_seconds() > now.unix_seconds()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_rule() {
        assert!(valid_key(b"a"));
        assert!(valid_key(&[b'~'; 255]));
        assert!(!valid_key(b""));
        assert!(!valid_key(&[b'a'; 256]));
        assert!(!valid_key(b"a b"));
        assert!(!valid_key(b"a\x7f"));
        assert!(!valid_key("é".as_bytes()));
    }

    #[test]
    fn record_pk_hashes_the_key_per_client() {
        let a = ObjectId::parse("613375a1eab2fe08527f81e2").unwrap();
        let b = ObjectId::parse("613375a1eab2fe08527f81e3").unwrap();
        let pk = record_pk(a, "k1");
        assert!(pk.starts_with("IDEMPOTENCY#613375a1eab2fe08527f81e2#"));
        assert_eq!(pk.len(), "IDEMPOTENCY#".len() + 24 + 1 + 64);
        assert!(!pk.contains("k1"));
        assert_ne!(pk, record_pk(b, "k1"));
        assert_ne!(pk, record_pk(a, "k2"));
    }
}
