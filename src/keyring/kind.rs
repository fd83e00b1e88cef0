//! Which algorithm a key serves, as its value says (CONTRACT §8, RFC 8725 §3.1): an HS256
//! key's `SecretString` is the key itself; an EdDSA key's is `{"alg":"EdDSA","key":"…"}`
//! (what CloudFormation's `GenerateSecretString` makes with `SecretStringTemplate`
//! `{"alg":"EdDSA"}` and `GenerateStringKey` `key`). So no value an HS256 verifier holds
//! is ever an EdDSA key, and a ring refuses a version of the other kind.

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::config::MIN_SECRET_BYTES;
use crate::demo;

/// The algorithm a key serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    Hs256,
    EdDsa,
}

/// Why a version's value cannot serve a ring. Never the value itself.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Unusable {
    #[error("is a key of another kind ({found}), not {wanted}")]
    OtherKind { found: String, wanted: &'static str },
    #[error("is not {{\"alg\":\"EdDSA\",\"key\":\"…\"}}")]
    Malformed,
    #[error("must be at least {MIN_SECRET_BYTES} bytes")]
    TooShort,
    #[error("is a documented local test key, which never serves on AWS")]
    LocalTestKey,
    #[error("has no SecretString (a binary secret)")]
    NotText,
}

/// A value that names its algorithm.
#[derive(Deserialize)]
struct Tagged {
    alg: String,
    key: Option<String>,
}

/// The length of a generated key: 64 characters of [A-Za-z0-9], about 381 bits (what the
/// template's `GenerateSecretString` makes too).
pub const KEY_CHARS: usize = 64;

impl KeyKind {
    pub fn name(self) -> &'static str {
        match self {
            Self::Hs256 => "HS256",
            Self::EdDsa => "EdDSA",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        [Self::Hs256, Self::EdDsa].into_iter().find(|k| k.name() == name)
    }

    /// The key material `value` holds for this kind. `on_aws`: the documented local test
    /// keys are refused.
    pub fn material(self, value: &str, on_aws: bool) -> Result<SecretString, Unusable> {
        let tagged = value
            .trim_start()
            .starts_with('{')
            .then(|| serde_json::from_str::<Tagged>(value).ok())
            .flatten();
        let key = match (self, tagged) {
            (Self::Hs256, None) => value.to_owned(),
            (Self::EdDsa, Some(Tagged { alg, key })) if alg == "EdDSA" => key.ok_or(Unusable::Malformed)?,
            (_, Some(Tagged { alg, .. })) => return Err(self.other(alg)),
            (Self::EdDsa, None) => return Err(self.other("HS256".to_owned())),
        };
        if key.len() < MIN_SECRET_BYTES {
            return Err(Unusable::TooShort);
        }
        if on_aws && [demo::CLIENT_TOKEN_KEY, demo::SESSION_TOKEN_KEY].contains(&key.as_str()) {
            return Err(Unusable::LocalTestKey);
        }
        Ok(SecretString::from(key))
    }

    fn other(self, found: String) -> Unusable {
        Unusable::OtherKind {
            found,
            wanted: self.name(),
        }
    }

    /// A value of this kind holding `key`.
    pub fn value(self, key: &SecretString) -> SecretString {
        match self {
            Self::Hs256 => key.clone(),
            Self::EdDsa => {
                SecretString::from(serde_json::json!({"alg": "EdDSA", "key": key.expose_secret()}).to_string())
            }
        }
    }

    /// A new value of this kind: a fresh key from `rand`'s thread-local CSPRNG (ChaCha12,
    /// seeded from the OS).
    pub fn new_value(self) -> SecretString {
        use rand::distr::{Alphanumeric, SampleString};
        self.value(&SecretString::from(
            Alphanumeric.sample_string(&mut rand::rng(), KEY_CHARS),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "k3y-of-at-least-32-bytes-0123456789abcdef";

    fn material(kind: KeyKind, value: &str, on_aws: bool) -> Result<String, Unusable> {
        kind.material(value, on_aws).map(|m| m.expose_secret().to_owned())
    }

    #[test]
    fn each_kind_reads_its_own_values_and_refuses_the_others() {
        let eddsa = format!(r#"{{"alg":"EdDSA","key":"{KEY}"}}"#);
        assert_eq!(material(KeyKind::Hs256, KEY, true), Ok(KEY.to_owned()));
        assert_eq!(material(KeyKind::EdDsa, &eddsa, true), Ok(KEY.to_owned()));
        // No value an HS256 verifier holds yields an EdDSA key, and the reverse.
        assert_eq!(
            material(KeyKind::EdDsa, KEY, true),
            Err(Unusable::OtherKind {
                found: "HS256".into(),
                wanted: "EdDSA"
            })
        );
        assert_eq!(
            material(KeyKind::Hs256, &eddsa, true),
            Err(Unusable::OtherKind {
                found: "EdDSA".into(),
                wanted: "HS256"
            })
        );
        assert_eq!(
            material(KeyKind::EdDsa, r#"{"alg":"EdDSA"}"#, true),
            Err(Unusable::Malformed)
        );
        assert_eq!(
            material(KeyKind::EdDsa, r#"{"alg":"EdDSA","key":"short"}"#, true),
            Err(Unusable::TooShort)
        );
        assert_eq!(material(KeyKind::Hs256, "short", true), Err(Unusable::TooShort));
        // A plain key that only looks like JSON is a plain key.
        let braces = "{not json, but a key of 32+ bytes}";
        assert_eq!(material(KeyKind::Hs256, braces, true), Ok(braces.to_owned()));
    }

    #[test]
    fn the_documented_local_keys_never_serve_on_aws() {
        for key in [demo::CLIENT_TOKEN_KEY, demo::SESSION_TOKEN_KEY] {
            assert_eq!(material(KeyKind::Hs256, key, true), Err(Unusable::LocalTestKey));
            assert_eq!(material(KeyKind::Hs256, key, false), Ok(key.to_owned()));
            let tagged = KeyKind::EdDsa.value(&SecretString::from(key.to_owned()));
            assert_eq!(
                material(KeyKind::EdDsa, tagged.expose_secret(), true),
                Err(Unusable::LocalTestKey)
            );
        }
    }

    #[test]
    fn new_values_are_of_their_kind() {
        for kind in [KeyKind::Hs256, KeyKind::EdDsa] {
            let value = kind.new_value();
            let key = kind.material(value.expose_secret(), true).unwrap();
            assert_eq!(key.expose_secret().len(), KEY_CHARS);
            assert!(key.expose_secret().chars().all(|c| c.is_ascii_alphanumeric()));
        }
        let eddsa: serde_json::Value = serde_json::from_str(KeyKind::EdDsa.new_value().expose_secret()).unwrap();
        assert_eq!(eddsa["alg"], "EdDSA");
    }
}
