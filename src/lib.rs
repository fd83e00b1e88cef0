//! biometric-validations: Verifik's *Create Biometric Validation* endpoint as an AWS Lambda.
//!
//! One request's journey: `router` (method, path → operation) → `http` (shared steps:
//! size, authentication, content type) → `auth` (client JWT) → `request` (body →
//! `CreateRequest`) → `service` (idempotency, project and flow rules, records) →
//! `store` (DynamoDB) and `token` (session token) → `http` (the answer). `app` builds
//! it all once at start-up. See docs/architecture.md.
// The request path answers every failure in the contract's shape: no unwrap or expect
// outside tests.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod app;
pub mod auth;
pub mod aws;
pub mod config;
pub mod demo;
pub mod error;
pub mod http;
pub mod idempotency;
pub mod keyring;
pub mod logging;
pub mod model;
pub mod project_cache;
pub mod request;
pub mod router;
pub mod service;
pub mod store;
pub mod telemetry;
pub mod token;

pub use config::Config;
pub use error::ApiError;
pub use http::Handler;
