//! biometric-validations: Verifik's *Create Biometric Validation* endpoint as an AWS Lambda.
//!
//! One request's journey: `http` (route, method, size, headers) → `auth` (client JWT)
//! → `request` (body → `CreateRequest`) → `service` (idempotency, project and flow
//! rules, records) → `store` (DynamoDB) and `token` (session token) → `http` (reply).

pub mod auth;
pub mod config;
pub mod error;
pub mod http;
pub mod idempotency;
pub mod logging;
pub mod model;
pub mod project_cache;
pub mod request;
pub mod service;
pub mod store;
pub mod token;
pub mod warmup;

pub use config::Config;
pub use error::ApiError;
pub use http::App;
