//! The two records a request creates, with the seed's key order (CONTRACT §4).

use serde::{Deserialize, Serialize};

use super::{ClientId, FlowId, Language, ObjectId, ProjectId, SessionId, Timestamp, ValidationId, ValidationType};

/// A liveness session's `status`: `active` when created; the liveness service moves it on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SessionStatus {
    Active,
    /// A status another service wrote (this one writes only `active`), kept as written.
    #[serde(untagged)]
    Other(String),
}

/// A biometric validation's `status`: `new` when created; the liveness service moves it on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ValidationStatus {
    New,
    /// A status another service wrote (this one writes only `new`), kept as written.
    #[serde(untagged)]
    Other(String),
}

/// What one request creates: a session and the validation that drives it, written together.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pair {
    pub session: LivenessSession,
    pub validation: BiometricValidation,
}

/// The liveness session, keys in the seed's order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LivenessSession {
    pub client: ClientId,
    pub project: ProjectId,
    pub project_flow: FlowId,
    pub identifier: String,
    pub status: SessionStatus,
    pub liveness_result: Vec<serde_json::Value>,
    pub comparison_result: Vec<serde_json::Value>,
    pub general_information: Vec<serde_json::Value>,
    pub document_type_fields: Vec<serde_json::Value>,
    pub location: Vec<serde_json::Value>,
    pub pro_fields: Vec<serde_json::Value>,
    pub studio_fields: Vec<serde_json::Value>,
    pub prompt_fields: Vec<serde_json::Value>,
    pub expires_at: Timestamp,
    #[serde(rename = "_id")]
    pub id: SessionId,
    pub activated_at: Timestamp,
    pub updated_at: Timestamp,
    pub created_at: Timestamp,
    #[serde(rename = "__v")]
    pub version: u32,
}

impl LivenessSession {
    /// A new session, `active`, created at `now`, with the contract's empty result lists.
    pub fn new(
        id: SessionId,
        client: ClientId,
        project: ProjectId,
        project_flow: FlowId,
        identifier: String,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Self {
        Self {
            client,
            project,
            project_flow,
            identifier,
            status: SessionStatus::Active,
            liveness_result: vec![],
            comparison_result: vec![],
            general_information: vec![],
            document_type_fields: vec![],
            location: vec![],
            pro_fields: vec![],
            studio_fields: vec![],
            prompt_fields: vec![],
            expires_at,
            id,
            activated_at: now,
            updated_at: now,
            created_at: now,
            version: 0,
        }
    }
}

/// The biometric validation, keys in the seed's order; `redirectUrl` and `language`
/// follow `requires2FA` and are left out when absent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BiometricValidation {
    pub client: ClientId,
    pub project: ProjectId,
    pub project_flow: FlowId,
    pub liveness_session: SessionId,
    pub status: ValidationStatus,
    #[serde(rename = "type")]
    pub kind: ValidationType,
    pub url: String,
    pub liveness_score: u32,
    pub assigned_collection: ObjectId,
    pub collection_code: String,
    #[serde(rename = "requires2FA")]
    pub requires_2fa: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<Language>,
    #[serde(rename = "_id")]
    pub id: ValidationId,
    pub updated_at: Timestamp,
    pub created_at: Timestamp,
    #[serde(rename = "__v")]
    pub version: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_another_service_wrote_is_kept_as_written() {
        for (json, session, validation) in [
            ("\"active\"", Some(SessionStatus::Active), None),
            ("\"new\"", None, Some(ValidationStatus::New)),
            ("\"completed\"", None, None),
            ("\"failed\"", None, None),
        ] {
            let s: SessionStatus = serde_json::from_str(json).unwrap();
            let v: ValidationStatus = serde_json::from_str(json).unwrap();
            if let Some(expected) = session {
                assert_eq!(s, expected);
            }
            if let Some(expected) = validation {
                assert_eq!(v, expected);
            }
            assert_eq!(serde_json::to_string(&s).unwrap(), json);
            assert_eq!(serde_json::to_string(&v).unwrap(), json);
        }
        assert_eq!(
            serde_json::from_str::<ValidationStatus>("\"active\"").unwrap(),
            ValidationStatus::Other("active".into())
        );
    }
}
