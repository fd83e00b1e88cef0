//! The one error type every step answers with: the contract's §3 table, readable from
//! the `match`es below.

use std::borrow::Cow;

use lambda_http::http::StatusCode;

use crate::model::{FlowType, ValidationType};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    #[error("no authorization token")]
    NoToken,
    #[error("token expired")]
    TokenExpired,
    #[error("invalid token")]
    InvalidToken,
    #[error("invalid JSON: {0}")]
    InvalidJson(String),
    /// Every field error of one request, in a stable order.
    #[error("invalid fields: {}", .0.join(". "))]
    Fields(Vec<String>),
    #[error("idempotency key reused with another body")]
    IdempotencyKeyReused,
    #[error("project or flow not found or disabled")]
    ProjectNotFound,
    #[error("type {requested:?} does not match flow type {flow:?}")]
    TypeMismatch { requested: ValidationType, flow: FlowType },
    /// The project has `redirectOrigins` and the `redirectUrl` used has none of them.
    #[error("redirectUrl origin not allowed for the project")]
    RedirectOriginNotAllowed,
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// The body is over `limit` bytes.
    #[error("payload too large")]
    PayloadTooLarge { limit: usize },
    /// `allow`: the path's methods, as the `Allow` header lists them (`POST`, `GET, HEAD`).
    #[error("method not allowed")]
    MethodNotAllowed { allow: String },
    #[error("no route for {0}")]
    RouteNotFound(String),
    #[error("service unavailable")]
    ServiceUnavailable,
    #[error("internal error")]
    Internal,
}

impl ApiError {
    pub fn fields(message: impl Into<String>) -> Self {
        Self::Fields(vec![message.into()])
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::NoToken | Self::TokenExpired | Self::InvalidToken => StatusCode::UNAUTHORIZED,
            Self::InvalidJson(_) => StatusCode::BAD_REQUEST,
            Self::Fields(_) | Self::IdempotencyKeyReused => StatusCode::CONFLICT,
            Self::TypeMismatch { .. } | Self::RedirectOriginNotAllowed => StatusCode::CONFLICT,
            Self::ProjectNotFound | Self::RouteNotFound(_) => StatusCode::NOT_FOUND,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::NoToken | Self::InvalidToken => "InvalidCredentials",
            Self::TokenExpired => "Unauthorized",
            Self::InvalidJson(_) => "InvalidContent",
            Self::Fields(_) => "MissingParameter",
            Self::IdempotencyKeyReused => "idempotency_key_reused",
            Self::ProjectNotFound => "Project_not_found_or_featured_disabled",
            Self::TypeMismatch { .. } | Self::RedirectOriginNotAllowed => "InvalidArgument",
            Self::UnsupportedMediaType => "UnsupportedMediaType",
            Self::PayloadTooLarge { .. } => "PayloadTooLarge",
            Self::MethodNotAllowed { .. } => "MethodNotAllowed",
            Self::RouteNotFound(_) => "ResourceNotFound",
            Self::ServiceUnavailable => "ServiceUnavailable",
            Self::Internal => "InternalServer",
        }
    }

    pub fn message(&self) -> Cow<'static, str> {
        match self {
            Self::NoToken => "No authorization token was found".into(),
            Self::TokenExpired => "The token has expired".into(),
            Self::InvalidToken => "invalid token".into(),
            Self::InvalidJson(reason) => format!("Invalid JSON: {reason}").into(),
            Self::Fields(errors) => errors.join(". ").into(),
            Self::IdempotencyKeyReused => "409:idempotency_key_reused".into(),
            Self::ProjectNotFound => "404:Project_not_found_or_featured_disabled".into(),
            Self::TypeMismatch { requested, flow } => format!(
                "type {} does not match project flow type {}",
                requested.as_str(),
                flow.as_str()
            )
            .into(),
            Self::RedirectOriginNotAllowed => "redirectUrl origin is not allowed for this project".into(),
            Self::UnsupportedMediaType => "Content-Type must be application/json".into(),
            Self::PayloadTooLarge { limit } => format!("body must be at most {limit} bytes").into(),
            Self::MethodNotAllowed { allow } => {
                let verb = if allow.contains(',') { "are" } else { "is" };
                format!("only {allow} {verb} allowed on this path").into()
            }
            Self::RouteNotFound(path) => format!("{path} does not exist").into(),
            Self::ServiceUnavailable => "503:service_unavailable".into(),
            Self::Internal => "500:internal_error".into(),
        }
    }

    /// The body: `{"code": ..., "message": ...}`.
    pub fn body(&self) -> String {
        serde_json::json!({ "code": self.code(), "message": self.message() }).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_errors_are_joined() {
        let e = ApiError::Fields(vec![
            "missing project".into(),
            "type must be one of: [validation,login,onboarding,oneTimeLink]".into(),
        ]);
        assert_eq!(e.status(), StatusCode::CONFLICT);
        assert_eq!(
            e.body(),
            r#"{"code":"MissingParameter","message":"missing project. type must be one of: [validation,login,onboarding,oneTimeLink]"}"#
        );
    }

    #[test]
    fn type_mismatch_message() {
        let e = ApiError::TypeMismatch {
            requested: ValidationType::Login,
            flow: FlowType::Onboarding,
        };
        assert_eq!(e.message(), "type login does not match project flow type onboarding");
        assert_eq!((e.status(), e.code()), (StatusCode::CONFLICT, "InvalidArgument"));
    }

    #[test]
    fn redirect_origin_message() {
        let e = ApiError::RedirectOriginNotAllowed;
        assert_eq!(
            e.body(),
            r#"{"code":"InvalidArgument","message":"redirectUrl origin is not allowed for this project"}"#
        );
        assert_eq!(e.status(), StatusCode::CONFLICT);
    }

    #[test]
    fn messages_state_their_limits() {
        let large = ApiError::PayloadTooLarge { limit: 16384 };
        assert_eq!(large.message(), "body must be at most 16384 bytes");
        let one = ApiError::MethodNotAllowed { allow: "POST".into() };
        assert_eq!(one.message(), "only POST is allowed on this path");
        let two = ApiError::MethodNotAllowed {
            allow: "GET, HEAD".into(),
        };
        assert_eq!(two.message(), "only GET, HEAD are allowed on this path");
    }
}
