//! A client token's claims and what they must prove (CONTRACT §2), once its signature
//! checked out: pure, against the request's instant.

use serde::Deserialize;

use crate::config::ClientTokenRules;
use crate::error::ApiError;
use crate::model::{Caller, ClientId, Timestamp};
use crate::token::SESSION_AUDIENCE;

/// Seconds a token may be past its `exp` (or before its `nbf`/`iat`) and still be accepted.
pub const LEEWAY_SECONDS: i64 = 5;

#[derive(Deserialize)]
pub struct ClientClaims {
    #[serde(rename = "clientId")]
    client_id: Option<String>,
    exp: i64,
    #[serde(default)]
    nbf: Option<i64>,
    #[serde(default)]
    iat: Option<i64>,
    #[serde(default)]
    iss: Option<String>,
    #[serde(default)]
    aud: Option<Audience>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    fn contains(&self, aud: &str) -> bool {
        match self {
            Audience::One(a) => a == aud,
            Audience::Many(all) => all.iter().any(|a| a == aud),
        }
    }
}

/// Whether `seconds` (epoch) is later than `now` plus the leeway, to the millisecond.
fn after_leeway(seconds: i64, now: Timestamp) -> bool {
    seconds.saturating_mul(1000) > now.unix_millis().saturating_add(LEEWAY_SECONDS * 1000)
}

impl ClientClaims {
    /// The caller these claims prove, or why they prove nothing: `TokenExpired` only for
    /// a token that is otherwise good.
    pub fn check(&self, rules: &ClientTokenRules, now: Timestamp) -> Result<Caller, ApiError> {
        let invalid = Err(ApiError::InvalidToken);
        // A session token this service issued is never a client credential.
        if self.aud.as_ref().is_some_and(|a| a.contains(SESSION_AUDIENCE)) {
            return invalid;
        }
        let Some(client) = self.client_id.as_deref().and_then(ClientId::parse) else {
            return invalid;
        };
        if rules
            .issuer
            .as_ref()
            .is_some_and(|want| self.iss.as_ref() != Some(want))
        {
            return invalid;
        }
        if let Some(want) = &rules.audience
            && !self.aud.as_ref().is_some_and(|a| a.contains(want))
        {
            return invalid;
        }
        if let Some(max) = rules.max_seconds {
            match self.iat {
                Some(iat) if self.exp.saturating_sub(iat) <= max => {}
                _ => return invalid,
            }
        }
        if self.nbf.is_some_and(|nbf| after_leeway(nbf, now)) || self.iat.is_some_and(|iat| after_leeway(iat, now)) {
            return invalid;
        }
        // At most LEEWAY_SECONDS past `exp`, counted to the millisecond.
        if self.exp.saturating_add(LEEWAY_SECONDS).saturating_mul(1000) < now.unix_millis() {
            return Err(ApiError::TokenExpired);
        }
        Ok(Caller {
            client,
            issued_at: self.iat.and_then(Timestamp::from_unix_seconds),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const CLIENT: &str = "613375a1eab2fe08527f81e2";

    fn now() -> Timestamp {
        Timestamp::parse("2024-09-12T17:26:26.954Z").unwrap()
    }

    fn at(offset: i64) -> i64 {
        now().unix_seconds() + offset
    }

    fn check(claims: serde_json::Value, rules: &ClientTokenRules) -> Result<Caller, ApiError> {
        serde_json::from_value::<ClientClaims>(claims)
            .unwrap()
            .check(rules, now())
    }

    #[test]
    fn nbf_and_iat_with_the_leeway() {
        let none = ClientTokenRules::default();
        let ok = |c| check(c, &none).is_ok();
        // now is hh:mm:26.954: at(5) is 4.046 s ahead (within the leeway), at(6) 5.046 s.
        assert!(ok(
            json!({"clientId": CLIENT, "exp": at(60), "nbf": at(5), "iat": at(5)})
        ));
        assert_eq!(
            check(json!({"clientId": CLIENT, "exp": at(60), "nbf": at(6)}), &none),
            Err(ApiError::InvalidToken)
        );
        assert_eq!(
            check(json!({"clientId": CLIENT, "exp": at(60), "iat": at(6)}), &none),
            Err(ApiError::InvalidToken)
        );
        let caller = check(json!({"clientId": CLIENT, "exp": at(60), "iat": at(-10)}), &none).unwrap();
        assert_eq!(caller.issued_at.map(|t| t.unix_seconds()), Some(at(-10)));
    }

    #[test]
    fn issuer_audience_and_lifetime_when_configured() {
        let rules = ClientTokenRules {
            issuer: Some("https://issuer.example".into()),
            audience: Some("biometric-validations".into()),
            max_seconds: Some(3600),
        };
        let good = json!({"clientId": CLIENT, "iss": "https://issuer.example", "aud": "biometric-validations",
                          "iat": at(-10), "exp": at(3590)});
        assert!(check(good.clone(), &rules).is_ok());
        let with = |k: &str, v: serde_json::Value| {
            let mut c = good.clone();
            c[k] = v;
            c
        };
        assert!(check(with("aud", json!(["other", "biometric-validations"])), &rules).is_ok());
        for bad in [
            with("iss", json!("https://other.example")),
            with("iss", serde_json::Value::Null),
            with("aud", json!("other")),
            with("aud", json!(["other"])),
            with("exp", json!(at(3591))),
            with("iat", serde_json::Value::Null),
        ] {
            assert_eq!(check(bad.clone(), &rules), Err(ApiError::InvalidToken), "{bad}");
        }
        // Unset, they are not checked (Verifik's own tokens carry none of them).
        let plain = json!({"clientId": CLIENT, "exp": at(60)});
        assert!(check(plain, &ClientTokenRules::default()).is_ok());
    }

    #[test]
    fn a_bad_token_is_invalid_before_it_is_expired() {
        let rules = ClientTokenRules {
            issuer: Some("i".into()),
            ..ClientTokenRules::default()
        };
        assert_eq!(
            check(json!({"clientId": CLIENT, "exp": at(-60), "iss": "other"}), &rules),
            Err(ApiError::InvalidToken)
        );
        assert_eq!(
            check(json!({"clientId": CLIENT, "exp": at(-60), "iss": "i"}), &rules),
            Err(ApiError::TokenExpired)
        );
    }
}
