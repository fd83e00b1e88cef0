//! Caller authentication: `Authorization: Bearer <HS256 JWT>` → the calling client's id.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use crate::error::ApiError;
use crate::model::{ObjectId, Timestamp};
use crate::token::SESSION_AUDIENCE;

/// Seconds a token may be past its `exp` and still be accepted.
pub const LEEWAY_SECONDS: i64 = 5;

#[derive(Deserialize)]
struct ClientClaims {
    #[serde(rename = "clientId")]
    client_id: Option<String>,
    exp: i64,
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

pub struct Authenticator {
    key: DecodingKey,
    validation: Validation,
}

impl Authenticator {
    pub fn new(client_token_secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        // `exp` is checked below against the injected clock, with our own leeway.
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.required_spec_claims = ["exp".to_owned()].into_iter().collect();
        Self {
            key: DecodingKey::from_secret(client_token_secret),
            validation,
        }
    }

    /// Authenticates the values of every `Authorization` header the request carried.
    pub fn authenticate<'a>(
        &self,
        mut authorization: impl Iterator<Item = &'a [u8]>,
        now: Timestamp,
    ) -> Result<ObjectId, ApiError> {
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
        let data =
            jsonwebtoken::decode::<ClientClaims>(token, &self.key, &self.validation).map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => ApiError::TokenExpired,
                _ => ApiError::InvalidToken,
            })?;
        let claims = data.claims;
        // A session token this service issued is never a client credential.
        if claims.aud.as_ref().is_some_and(|a| a.contains(SESSION_AUDIENCE)) {
            return Err(ApiError::InvalidToken);
        }
        let client = claims
            .client_id
            .as_deref()
            .and_then(ObjectId::parse)
            .ok_or(ApiError::InvalidToken)?;
        // At most LEEWAY_SECONDS past `exp`, counted to the millisecond.
        if claims.exp.saturating_add(LEEWAY_SECONDS).saturating_mul(1000) < now.unix_millis() {
            return Err(ApiError::TokenExpired);
        }
        Ok(client)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header, encode};
    use serde_json::json;

    const SECRET: &[u8] = b"test-client-secret-at-least-32-bytes!!";
    const CLIENT: &str = "613375a1eab2fe08527f81e2";

    fn now() -> Timestamp {
        Timestamp::parse("2024-09-12T17:26:26.954Z").unwrap()
    }

    fn token(claims: serde_json::Value) -> String {
        encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(SECRET),
        )
        .unwrap()
    }

    fn auth(values: &[&str]) -> Result<ObjectId, ApiError> {
        Authenticator::new(SECRET).authenticate(values.iter().map(|v| v.as_bytes()), now())
    }

    fn exp(offset: i64) -> i64 {
        now().unix_seconds() + offset
    }

    #[test]
    fn accepts_bearer_in_any_case_and_bare_tokens() {
        let t = token(json!({"clientId": CLIENT, "exp": exp(60)}));
        for v in [
            format!("Bearer {t}"),
            format!("bearer {t}"),
            format!("BEARER  {t}"),
            t.clone(),
        ] {
            assert_eq!(auth(&[&v]).unwrap().to_string(), CLIENT, "{v}");
        }
    }

    #[test]
    fn missing_tokens() {
        for v in [&[][..], &[""], &["Bearer"], &["Bearer   "]] {
            assert_eq!(auth(v), Err(ApiError::NoToken), "{v:?}");
        }
    }

    #[test]
    fn expiry_and_leeway() {
        // now is hh:mm:26.954: exp(-4) was 4.954 s ago, exp(-5) 5.954 s ago.
        assert!(auth(&[&token(json!({"clientId": CLIENT, "exp": exp(-4)}))]).is_ok());
        assert_eq!(
            auth(&[&token(json!({"clientId": CLIENT, "exp": exp(-5)}))]),
            Err(ApiError::TokenExpired)
        );
        let at = |ms: i64| Timestamp::from_unix_millis(ms).unwrap();
        let t = token(json!({"clientId": CLIENT, "exp": 1_000}));
        let a = Authenticator::new(SECRET);
        assert!(a.authenticate(std::iter::once(t.as_bytes()), at(1_005_000)).is_ok());
        assert_eq!(
            a.authenticate(std::iter::once(t.as_bytes()), at(1_005_001)),
            Err(ApiError::TokenExpired)
        );
    }

    #[test]
    fn invalid_tokens() {
        let good = token(json!({"clientId": CLIENT, "exp": exp(60)}));
        let other_key = encode(
            &Header::new(Algorithm::HS256),
            &json!({"clientId": CLIENT, "exp": exp(60)}),
            &EncodingKey::from_secret(b"another-secret-another-secret-another"),
        )
        .unwrap();
        let cases = [
            "not.a.jwt".to_owned(),
            other_key,
            token(json!({"exp": exp(60)})),
            token(json!({"clientId": "nope", "exp": exp(60)})),
            token(json!({"clientId": 42, "exp": exp(60)})),
            token(json!({"clientId": CLIENT})),
            token(json!({"clientId": CLIENT, "exp": exp(60), "aud": "liveness"})),
            format!("Basic {good}"),
        ];
        for t in cases {
            assert_eq!(auth(&[&t]), Err(ApiError::InvalidToken), "{t}");
        }
        assert_eq!(auth(&[&good, &good]), Err(ApiError::InvalidToken), "two headers");
    }

    #[test]
    fn only_hs256() {
        let claims = b64(&json!({"clientId": CLIENT, "exp": exp(60)}).to_string());
        for alg in ["none", "HS384", "HS512", "RS256", "ES256"] {
            let header = b64(&json!({"alg": alg, "typ": "JWT"}).to_string());
            for sig in ["", "c2ln"] {
                let t = format!("{header}.{claims}.{sig}");
                assert_eq!(auth(&[&t]), Err(ApiError::InvalidToken), "{alg}");
            }
        }
    }

    fn b64(s: &str) -> String {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
    }
}
