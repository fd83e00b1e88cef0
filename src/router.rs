//! The routes: one table maps (method, path) to an operation. The API's stage may
//! prefix the path; 404 and 405 (with the path's methods for `Allow`) come from the table.

use crate::error::ApiError;

/// What a request asks the function to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    CreateBiometricValidation,
    /// The session tokens' public keys (CONTRACT §9).
    PublicKeys,
}

pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub operation: Operation,
}

/// Every route the function serves. Adding one is a row here and its handler in `http`.
pub const ROUTES: &[Route] = &[
    Route {
        method: "POST",
        path: "/v2/biometric-validations",
        operation: Operation::CreateBiometricValidation,
    },
    Route {
        method: "GET",
        path: JWKS_PATH,
        operation: Operation::PublicKeys,
    },
    Route {
        method: "HEAD",
        path: JWKS_PATH,
        operation: Operation::PublicKeys,
    },
];

pub const JWKS_PATH: &str = "/.well-known/jwks.json";

/// The operation for a request's method and path. `stage` is the request's own API
/// stage: a path behind it (`/prod/v2/…` on stage `prod`) is the same route; `$default`
/// puts nothing before the path.
pub fn route(method: &str, path: &str, stage: Option<&str>) -> Result<Operation, ApiError> {
    let behind_stage = stage
        .filter(|s| *s != "$default" && !s.is_empty())
        .and_then(|stage| path.strip_prefix('/')?.strip_prefix(stage));
    let routes: Vec<&Route> = ROUTES
        .iter()
        .filter(|r| r.path == path || behind_stage == Some(r.path))
        .collect();
    if routes.is_empty() {
        return Err(ApiError::RouteNotFound(path.to_owned()));
    }
    match routes.iter().find(|r| r.method == method) {
        Some(r) => Ok(r.operation),
        None => Err(ApiError::MethodNotAllowed {
            allow: routes.iter().map(|r| r.method).collect::<Vec<_>>().join(", "),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CREATE: &str = "/v2/biometric-validations";

    #[test]
    fn exact_paths_and_the_requests_own_stage() {
        let ok = Ok(Operation::CreateBiometricValidation);
        assert_eq!(route("POST", CREATE, None), ok);
        assert_eq!(route("POST", CREATE, Some("$default")), ok);
        assert_eq!(route("POST", "/prod/v2/biometric-validations", Some("prod")), ok);
        for (path, stage) in [
            ("/prod/v2/biometric-validations", Some("dev")),
            ("/prod/v2/biometric-validations", None),
            ("/prodv2/biometric-validations", Some("prod")),
            ("/v2/biometric-validations/", None),
            ("/v2/elsewhere", None),
            ("", None),
        ] {
            assert_eq!(
                route("POST", path, stage),
                Err(ApiError::RouteNotFound(path.to_owned())),
                "{path} {stage:?}"
            );
        }
    }

    #[test]
    fn the_public_keys_answer_get_and_head() {
        for method in ["GET", "HEAD"] {
            assert_eq!(route(method, JWKS_PATH, None), Ok(Operation::PublicKeys));
        }
        assert_eq!(
            route("GET", "/prod/.well-known/jwks.json", Some("prod")),
            Ok(Operation::PublicKeys)
        );
        assert_eq!(
            route("POST", JWKS_PATH, None),
            Err(ApiError::MethodNotAllowed {
                allow: "GET, HEAD".into()
            })
        );
    }

    #[test]
    fn other_methods_learn_the_paths_methods() {
        for method in ["GET", "PUT", "OPTIONS", "HEAD", "post"] {
            assert_eq!(
                route(method, CREATE, None),
                Err(ApiError::MethodNotAllowed { allow: "POST".into() }),
                "{method}"
            );
        }
    }
}
