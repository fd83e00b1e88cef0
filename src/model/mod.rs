//! The records this service reads and writes, with the seed's key order.

pub mod ids;
mod session;
pub mod time;

use serde::{Deserialize, Serialize};

pub use ids::{ClientId, FlowId, Id, IdSource, ObjectId, ProjectId, RandomIds, SessionId, ValidationId};
pub use session::{BiometricValidation, LivenessSession, Pair, SessionStatus, ValidationStatus};
pub use time::{Clock, SystemClock, Timestamp};

/// Who is calling: the client a verified token names, and when that token was issued
/// (its `iat`), which a client's revocation is checked against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Caller {
    pub client: ClientId,
    pub issued_at: Option<Timestamp>,
}

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
    pub id: ProjectId,
    pub client: ClientId,
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

/// A client's `status` (CONTRACT §5): a suspended client's tokens are all refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClientStatus {
    Active,
    Suspended,
    /// A status this version does not know: refused, like a suspension.
    #[serde(other)]
    Unknown,
}

/// The optional `CLIENT#<id>` item: no item is an active client with nothing revoked.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Client {
    #[serde(rename = "_id")]
    pub id: ClientId,
    pub status: ClientStatus,
    /// Tokens issued (`iat`) at or before this instant are refused; stored as epoch seconds.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "time::epoch_seconds")]
    pub tokens_not_before: Option<Timestamp>,
}

fn yes() -> bool {
    true
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectFlow {
    #[serde(rename = "_id")]
    pub id: FlowId,
    pub project: ProjectId,
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
