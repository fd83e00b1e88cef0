//! The records this service reads and writes, with the seed's key order.

pub mod ids;
pub mod time;

use serde::{Deserialize, Serialize};

pub use ids::{IdSource, ObjectId, RandomIds};
pub use time::{Clock, SystemClock, Timestamp};

/// `type` of a biometric validation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ValidationType {
    Validation,
    Login,
    Onboarding,
    OneTimeLink,
}

impl ValidationType {
    pub const ALL: [ValidationType; 4] = [
        ValidationType::Validation,
        ValidationType::Login,
        ValidationType::Onboarding,
        ValidationType::OneTimeLink,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Validation => "validation",
            Self::Login => "login",
            Self::Onboarding => "onboarding",
            Self::OneTimeLink => "oneTimeLink",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// The app's route for this type, used to build `url`.
    pub fn route(self) -> &'static str {
        match self {
            Self::Login => "sign-in",
            Self::Validation => "stand-alone",
            Self::Onboarding => "sign-up",
            Self::OneTimeLink => "one-time-link",
        }
    }
}

/// `language` of the liveness app.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    En,
    Es,
}

impl Language {
    pub const ALL: [Language; 2] = [Language::En, Language::Es];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Es => "es",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == s)
    }
}

/// A project flow's `type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FlowType {
    Login,
    Onboarding,
    /// A type this version does not know (written by something else): never usable.
    #[serde(other)]
    Unknown,
}

impl FlowType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::Onboarding => "onboarding",
            Self::Unknown => "unknown",
        }
    }

    /// `validation` and `oneTimeLink` run on either kind of flow; `login` and
    /// `onboarding` only on a flow of their own kind.
    pub fn accepts(self, t: ValidationType) -> bool {
        !matches!(
            (self, t),
            (FlowType::Login, ValidationType::Onboarding) | (FlowType::Onboarding, ValidationType::Login)
        )
    }
}

/// A project flow's `status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FlowStatus {
    Draft,
    Active,
    Paused,
    /// A status this version does not know: not active.
    #[serde(other)]
    Unknown,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Project {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub client: ObjectId,
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigned_collection: Option<ObjectId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collection_code: Option<String>,
    /// The origins a `redirectUrl` must have (`https://host[:port]`, or `http://` for the
    /// loopback hosts), in their serialization; empty or absent: any allowed URL.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redirect_origins: Vec<String>,
}

fn yes() -> bool {
    true
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectFlow {
    #[serde(rename = "_id")]
    pub id: ObjectId,
    pub project: ObjectId,
    #[serde(rename = "type")]
    pub kind: FlowType,
    pub status: FlowStatus,
    #[serde(default = "yes")]
    pub face_liveness: bool,
    #[serde(rename = "requires2FA", default)]
    pub requires_2fa: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_url: Option<String>,
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_by_type() {
        let routes: Vec<_> = ValidationType::ALL.iter().map(|t| t.route()).collect();
        assert_eq!(routes, ["stand-alone", "sign-in", "sign-up", "one-time-link"]);
    }

    #[test]
    fn flow_types_accept_their_own_and_the_neutral_types() {
        use ValidationType::*;
        assert!(FlowType::Login.accepts(Login));
        assert!(!FlowType::Login.accepts(Onboarding));
        assert!(FlowType::Onboarding.accepts(Onboarding));
        assert!(!FlowType::Onboarding.accepts(Login));
        for t in [Validation, OneTimeLink] {
            assert!(FlowType::Login.accepts(t) && FlowType::Onboarding.accepts(t));
        }
    }

    #[test]
    fn type_names_round_trip() {
        for t in ValidationType::ALL {
            assert_eq!(ValidationType::parse(t.as_str()), Some(t));
            assert_eq!(serde_json::to_value(t).unwrap(), t.as_str());
        }
        assert_eq!(ValidationType::parse("Login"), None);
    }
}
