//! The two records a request creates, with the seed's key order (CONTRACT §4).

use serde::{Deserialize, Serialize};

use super::{Language, ObjectId, Timestamp, ValidationType};

/// The liveness session, keys in the seed's order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LivenessSession {
    pub client: ObjectId,
    pub project: ObjectId,
    pub project_flow: ObjectId,
    pub identifier: String,
    pub status: String,
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
    pub id: ObjectId,
    pub activated_at: Timestamp,
    pub updated_at: Timestamp,
    pub created_at: Timestamp,
    #[serde(rename = "__v")]
    pub version: u32,
}

impl LivenessSession {
    /// A new session, `active`, created at `now`, with the contract's empty result lists.
    pub fn new(
        id: ObjectId,
        client: ObjectId,
        project: ObjectId,
        project_flow: ObjectId,
        identifier: String,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Self {
        Self {
            client,
            project,
            project_flow,
            identifier,
            status: "active".to_owned(),
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
    pub client: ObjectId,
    pub project: ObjectId,
    pub project_flow: ObjectId,
    pub liveness_session: ObjectId,
    pub status: String,
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
    pub id: ObjectId,
    pub updated_at: Timestamp,
    pub created_at: Timestamp,
    #[serde(rename = "__v")]
    pub version: u32,
}
