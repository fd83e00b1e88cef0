//! Every item's key: the table's `pk`/`sk` formats, in one place (CONTRACT §5).

use sha2::{Digest, Sha256};

use crate::idempotency::IdempotencyKey;
use crate::model::{ClientId, FlowId, ProjectId, SessionId, ValidationId};

pub const PROJECT_SK: &str = "PROJECT";
pub const FLOW_SK_PREFIX: &str = "FLOW#";
pub const SESSION_SK: &str = "LIVENESS_SESSION";
pub const VALIDATION_SK: &str = "BIOMETRIC_VALIDATION";
pub const IDEMPOTENCY_SK: &str = "IDEMPOTENCY";
pub const CLIENT_SK: &str = "CLIENT";

/// An item's primary key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

fn key(pk: String, sk: impl Into<String>) -> Key {
    Key { pk, sk: sk.into() }
}

pub fn project(id: ProjectId) -> Key {
    key(format!("PROJECT#{id}"), PROJECT_SK)
}

/// A flow lives under its project's partition, so one read finds both.
pub fn flow(project: ProjectId, flow: FlowId) -> Key {
    key(format!("PROJECT#{project}"), format!("{FLOW_SK_PREFIX}{flow}"))
}

pub fn client(id: ClientId) -> Key {
    key(format!("CLIENT#{id}"), CLIENT_SK)
}

/// The start-up read's key: under `PROJECT#` (which the role may read) but no ObjectId, so
/// no item is ever written there.
pub fn warm_up() -> Key {
    key("PROJECT#WARMUP".to_owned(), PROJECT_SK)
}

pub fn session(id: SessionId) -> Key {
    key(format!("LIVENESS_SESSION#{id}"), SESSION_SK)
}

pub fn validation(id: ValidationId) -> Key {
    key(format!("BIOMETRIC_VALIDATION#{id}"), VALIDATION_SK)
}

/// Per client, with the caller's key hashed so that any key fits and none is stored in clear.
pub fn idempotency(client: ClientId, key_: &IdempotencyKey) -> Key {
    let digest = hex::encode(Sha256::digest(key_.as_str().as_bytes()));
    key(format!("IDEMPOTENCY#{client}#{digest}"), IDEMPOTENCY_SK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotency_keys_hash_the_key_per_client() {
        let a = ClientId::parse("613375a1eab2fe08527f81e2").unwrap();
        let b = ClientId::parse("613375a1eab2fe08527f81e3").unwrap();
        let k = |s: &str| IdempotencyKey::parse(s.as_bytes()).unwrap();
        let pk = idempotency(a, &k("k1")).pk;
        assert!(pk.starts_with("IDEMPOTENCY#613375a1eab2fe08527f81e2#"));
        assert_eq!(pk.len(), "IDEMPOTENCY#".len() + 24 + 1 + 64);
        assert!(!pk.contains("k1"));
        assert_ne!(pk, idempotency(b, &k("k1")).pk);
        assert_ne!(pk, idempotency(a, &k("k2")).pk);
        assert_eq!(idempotency(a, &k("k1")).sk, "IDEMPOTENCY");
    }

    #[test]
    fn formats() {
        let object = crate::model::ObjectId::parse("66df5bf5c4d855fb0bdf5da2").unwrap();
        let id = ProjectId::new(object);
        let f = FlowId::parse("66df5c22c4d855fb0bdf5da9").unwrap();
        assert_eq!(project(id), key("PROJECT#66df5bf5c4d855fb0bdf5da2".into(), "PROJECT"));
        assert_eq!(
            flow(id, f),
            key(
                "PROJECT#66df5bf5c4d855fb0bdf5da2".into(),
                "FLOW#66df5c22c4d855fb0bdf5da9"
            )
        );
        assert_eq!(
            session(SessionId::new(object)).pk,
            "LIVENESS_SESSION#66df5bf5c4d855fb0bdf5da2"
        );
        assert_eq!(validation(ValidationId::new(object)).sk, "BIOMETRIC_VALIDATION");
        assert_eq!(
            client(ClientId::new(object)),
            key("CLIENT#66df5bf5c4d855fb0bdf5da2".into(), "CLIENT")
        );
    }
}
