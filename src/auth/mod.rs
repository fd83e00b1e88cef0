//! Caller authentication: `Authorization: Bearer <HS256 JWT>` → the calling client.
//! The key is chosen by the token's `kid`, else the current version then the previous
//! one (CONTRACT §2); the claims are checked in `claims`.

mod claims;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use secrecy::ExposeSecret;

use claims::ClientClaims;
pub use claims::LEEWAY_SECONDS;

use crate::config::ClientTokenRules;
use crate::error::ApiError;
use crate::keyring::{Keyring, Versions};
use crate::model::{Caller, Timestamp};

/// The client key's versions as verification keys, current first.
pub struct ClientKeys(Vec<(Option<String>, DecodingKey)>);

/// The `Derive` of the client key ring.
pub fn client_keys(versions: &Versions) -> Result<ClientKeys, String> {
    Ok(ClientKeys(
        versions
            .iter()
            .map(|v| {
                (
                    v.kid.clone(),
                    DecodingKey::from_secret(v.material.expose_secret().as_bytes()),
                )
            })
            .collect(),
    ))
}

/// Why a token did not decode.
enum Undecoded {
    /// Its `kid` names no version the ring holds.
    UnknownKid,
    Invalid,
}

pub struct Authenticator {
    keys: Keyring<ClientKeys>,
    rules: ClientTokenRules,
    validation: Validation,
}

impl Authenticator {
    pub fn new(keys: Keyring<ClientKeys>, rules: ClientTokenRules) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        // `exp`, `nbf`, `iss` and `aud` are checked in `claims` against the injected clock.
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.required_spec_claims = ["exp".to_owned()].into_iter().collect();
        Self {
            keys,
            rules,
            validation,
        }
    }

    /// An authenticator on one key given directly, with no claim rules beyond §2's
    /// own (local runs, and the checks that need no I/O: fuzzing, property tests).
    pub fn local(secret: secrecy::SecretString) -> Result<Self, String> {
        let ring = Keyring::fixed("CLIENT_TOKEN_SECRET", secret, client_keys)?;
        Ok(Self::new(ring, ClientTokenRules::default()))
    }

    /// Authenticates the values of every `Authorization` header the request carried.
    pub async fn authenticate<'a>(
        &self,
        authorization: impl Iterator<Item = &'a [u8]>,
        now: Timestamp,
    ) -> Result<Caller, ApiError> {
        let token = bearer(authorization)?;
        let kid = jsonwebtoken::decode_header(token)
            .map_err(|_| ApiError::InvalidToken)?
            .kid;
        let keys = self.keys.fresh().await;
        let claims = match self.decode(&keys, token, kid.as_deref()) {
            Ok(claims) => claims,
            Err(Undecoded::Invalid) => return Err(ApiError::InvalidToken),
            // Perhaps a rotation this instance has not seen yet.
            Err(Undecoded::UnknownKid) => match self.keys.reread_for_unknown_kid().await {
                Some(keys) => self
                    .decode(&keys, token, kid.as_deref())
                    .map_err(|_| ApiError::InvalidToken)?,
                None => return Err(ApiError::InvalidToken),
            },
        };
        claims.check(&self.rules, now)
    }

    /// A token with a `kid` is checked with that version only; one without, with each
    /// version in turn, current first.
    fn decode(&self, keys: &ClientKeys, token: &str, kid: Option<&str>) -> Result<ClientClaims, Undecoded> {
        let mut candidates = keys
            .0
            .iter()
            .filter(|(k, _)| kid.is_none() || k.as_deref() == kid)
            .peekable();
        if candidates.peek().is_none() {
            return Err(Undecoded::UnknownKid);
        }
        for (_, key) in candidates {
            match jsonwebtoken::decode::<ClientClaims>(token, key, &self.validation) {
                Ok(data) => return Ok(data.claims),
                Err(e) if matches!(e.kind(), jsonwebtoken::errors::ErrorKind::InvalidSignature) => continue,
                Err(_) => return Err(Undecoded::Invalid),
            }
        }
        Err(Undecoded::Invalid)
    }
}

/// The token of the one `Authorization` header: `Bearer <jwt>` in any case, or a bare `<jwt>`.
fn bearer<'a>(mut authorization: impl Iterator<Item = &'a [u8]>) -> Result<&'a str, ApiError> {
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
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ClientId;
    use futures_util::FutureExt;
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

    fn authenticator() -> Authenticator {
        Authenticator::local(String::from_utf8(SECRET.to_vec()).unwrap().into()).unwrap()
    }

    /// A local key needs no I/O: the check completes at once.
    fn at(a: &Authenticator, values: &[&[u8]], now: Timestamp) -> Result<ClientId, ApiError> {
        a.authenticate(values.iter().copied(), now)
            .now_or_never()
            .expect("no I/O with a local key")
            .map(|caller| caller.client)
    }

    fn auth(values: &[&str]) -> Result<ClientId, ApiError> {
        let values: Vec<&[u8]> = values.iter().map(|v| v.as_bytes()).collect();
        at(&authenticator(), &values, now())
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
        let ms = |ms: i64| Timestamp::from_unix_millis(ms).unwrap();
        let t = token(json!({"clientId": CLIENT, "exp": 1_000}));
        let a = authenticator();
        assert!(at(&a, &[t.as_bytes()], ms(1_005_000)).is_ok());
        assert_eq!(at(&a, &[t.as_bytes()], ms(1_005_001)), Err(ApiError::TokenExpired));
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
        // A local key has no version: a token naming one is not ours.
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("v1".into());
        let with_kid = encode(
            &header,
            &json!({"clientId": CLIENT, "exp": exp(60)}),
            &EncodingKey::from_secret(SECRET),
        )
        .unwrap();
        assert_eq!(auth(&[&with_kid]), Err(ApiError::InvalidToken), "unknown kid");
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
