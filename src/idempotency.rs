//! Idempotency keys: the header's rule, the fingerprint of a request, and what is
//! stored per key. Where a record is stored (its key) is the store's business.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::model::{ClientId, Pair, SessionId, Timestamp, ValidationId};
use crate::request::CreateRequest;

pub const MAX_KEY_LEN: usize = 255;
/// The fingerprint format; bump it only when the canonical form of a request changes
/// meaning, since a record of another version never matches.
const FINGERPRINT_VERSION: &str = "v1";

/// The message of a broken `Idempotency-Key` rule.
pub fn key_rule() -> String {
    format!("Idempotency-Key must be 1 to {MAX_KEY_LEN} visible ASCII characters")
}

/// An `Idempotency-Key` header value that passed its rule: 1..=255 visible ASCII characters.
#[derive(Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(value: &[u8]) -> Option<Self> {
        let visible = (1..=MAX_KEY_LEN).contains(&value.len()) && value.iter().all(|b| (0x21..=0x7e).contains(b));
        visible
            .then(|| std::str::from_utf8(value).ok())
            .flatten()
            .map(|s| Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The caller's key is a credential-like value: it never reaches a log line.
impl std::fmt::Debug for IdempotencyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdempotencyKey(<redacted>)")
    }
}

/// Where a record lives: the calling client and its key (keys are per client).
#[derive(Clone, Copy, Debug)]
pub struct RecordId<'a> {
    pub client: ClientId,
    pub key: &'a IdempotencyKey,
}

/// A request's claim on its key: where the record goes and what it holds, written with
/// the pair in one transaction.
#[derive(Debug)]
pub struct Claim<'a> {
    pub id: RecordId<'a>,
    pub record: IdempotencyRecord,
}

/// A digest of the validated request, versioned: two bodies that validate to the same
/// request (key order, spacing, case of ids, surrounding spaces, `null` optionals) are
/// the same request. The canonical form leaves absent optional fields out, so adding
/// an optional field keeps every fingerprint of requests without it.
pub fn fingerprint(request: &CreateRequest) -> Result<String, serde_json::Error> {
    fingerprint_of(request)
}

fn fingerprint_of(canonical: &impl Serialize) -> Result<String, serde_json::Error> {
    let bytes = serde_json::to_vec(canonical)?;
    Ok(format!("{FINGERPRINT_VERSION}:{}", hex::encode(Sha256::digest(&bytes))))
}

/// What an idempotency record holds. No bearer credential: a replay signs the first
/// answer's token again (to the same bytes with the same key version).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdempotencyRecord {
    #[serde(rename = "requestHash")]
    pub fingerprint: String,
    /// The pair the first request created, by id.
    pub liveness_session: SessionId,
    pub biometric_validation: ValidationId,
    /// That pair as the first answer gave it (CONTRACT §6: a replay is the state at
    /// creation, whatever other services write to the items since). Records written
    /// before it existed have none: their replays read the items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_answer: Option<Pair>,
    pub expires_at: Timestamp,
}

impl IdempotencyRecord {
    /// The record of a request that creates `pair`.
    pub fn first(fingerprint: String, pair: &Pair) -> Self {
        Self {
            fingerprint,
            liveness_session: pair.session.id,
            biometric_validation: pair.validation.id,
            first_answer: Some(pair.clone()),
            expires_at: pair.session.expires_at,
        }
    }

    /// Whether the record is the one a request creating `pair` wrote.
    pub fn names(&self, pair: &Pair) -> bool {
        self.liveness_session == pair.session.id && self.biometric_validation == pair.validation.id
    }

    /// DynamoDB deletes expired items late: an expired record counts as absent.
    pub fn is_live(&self, now: Timestamp) -> bool {
        self.expires_at.unix_seconds() > now.unix_seconds()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ValidationType;

    #[test]
    fn key_rule() {
        let valid = |v: &[u8]| IdempotencyKey::parse(v).is_some();
        assert!(valid(b"a"));
        assert!(valid(&[b'~'; 255]));
        assert!(!valid(b""));
        assert!(!valid(&[b'a'; 256]));
        assert!(!valid(b"a b"));
        assert!(!valid(b"a\x7f"));
        assert!(!valid("é".as_bytes()));
        assert_eq!(
            super::key_rule(),
            "Idempotency-Key must be 1 to 255 visible ASCII characters"
        );
        assert_eq!(
            format!("{:?}", IdempotencyKey::parse(b"k1").unwrap()),
            "IdempotencyKey(<redacted>)"
        );
    }

    fn request() -> CreateRequest {
        CreateRequest {
            project: crate::model::ProjectId::parse("66df5bf5c4d855fb0bdf5da2").unwrap(),
            project_flow: crate::model::FlowId::parse("66df5c22c4d855fb0bdf5da9").unwrap(),
            identifier: "03da12fba".into(),
            kind: ValidationType::Login,
            redirect_url: None,
            requires_2fa: None,
            expires_at: None,
            language: None,
        }
    }

    #[test]
    fn the_fingerprint_is_versioned_and_pinned() {
        // The seed's request. Stored in live records, so it must not drift: "v1:" and the
        // SHA-256 of {"project":…,"projectFlow":…,"identifier":"03da12fba","type":"login"}
        // (computed independently, with Python's hashlib).
        assert_eq!(
            fingerprint(&request()).unwrap(),
            "v1:0e30fe512fcdc427f606262c4cb2ae609e560741e818140b8e60a1da2379557a"
        );
    }

    #[test]
    fn a_new_optional_field_keeps_the_fingerprints_of_requests_without_it() {
        /// `CreateRequest` as a later version might have it, with one more optional field.
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Later {
            #[serde(flatten)]
            today: CreateRequest,
            #[serde(skip_serializing_if = "Option::is_none")]
            webhook_url: Option<String>,
        }
        let today = request();
        let later = Later {
            today: today.clone(),
            webhook_url: None,
        };
        assert_eq!(fingerprint_of(&later).unwrap(), fingerprint(&today).unwrap());
        let with_it = Later {
            today: today.clone(),
            webhook_url: Some("https://x.example".into()),
        };
        assert_ne!(fingerprint_of(&with_it).unwrap(), fingerprint(&today).unwrap());
        let other = CreateRequest {
            requires_2fa: Some(false),
            ..today.clone()
        };
        assert_ne!(
            fingerprint(&other).unwrap(),
            fingerprint(&today).unwrap(),
            "false is not absent"
        );
    }
}
