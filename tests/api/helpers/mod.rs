//! The harness, by concern: moto and its clients, a test's environment (table, keys,
//! handler), events and replies, client tokens, clocks and ids, the fault proxy, captured
//! logs, the admin CLI, and what a test sends its events to (`subject`).

pub mod admin;
pub mod clock;
pub mod env;
pub mod events;
pub mod logs;
pub mod moto;
pub mod policy;
pub mod proxy;
pub mod secrets;
pub mod subject;
pub mod tokens;

pub use admin::*;
pub use clock::*;
pub use env::*;
pub use events::*;
pub use logs::*;
pub use moto::*;
pub use secrets::*;
pub use tokens::*;

pub use biometric_validations::demo::{
    CLIENT, COLLECTION_CODE, LOGIN_FLOW, ONBOARDING_FLOW, PROJECT, flow as flow_of, project as project_of,
};

/// The documented local test keys (`biometric_validations::demo`).
pub const CLIENT_SECRET: &str = biometric_validations::demo::CLIENT_TOKEN_KEY;
pub const SESSION_SECRET: &str = biometric_validations::demo::SESSION_TOKEN_KEY;
pub const APP_BASE_URL: &str = "https://app.verifik.co";
/// A client with nothing in the table.
pub const OTHER_CLIENT: &str = "613375a1eab2fe08527f81e9";

pub const SEED_BODY: &str = r#"{"project":"66df5bf5c4d855fb0bdf5da2","projectFlow":"66df5c22c4d855fb0bdf5da9","identifier":"03da12fba","type":"login"}"#;

/// A typed id (`ClientId`, `ProjectId`, …), as the call site needs it.
pub fn id<K>(s: &str) -> biometric_validations::model::Id<K> {
    biometric_validations::model::Id::parse(s).expect("test id")
}

pub use test_support::moto::repo;

/// The Python of `.venv` (moto, PyJWT).
pub fn python() -> std::path::PathBuf {
    test_support::moto::python()
}

/// Every item of a DynamoDB answer's attribute `key` as text (S or N).
pub fn s(item: &std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>, key: &str) -> String {
    use aws_sdk_dynamodb::types::AttributeValue;
    match item.get(key) {
        Some(AttributeValue::S(v)) => v.clone(),
        Some(AttributeValue::N(v)) => v.clone(),
        other => panic!("{key}: {other:?}"),
    }
}
