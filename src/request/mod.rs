//! Body → `CreateRequest`, with every field error of one body collected.
//!
//! One table, `fields::FIELDS`, lists the body's keys: their JSON kind (by the kind of
//! rule), whether they are required, and the rule that turns a value into a field of
//! the request. Parsing, the unknown-key check and the messages all read it.

mod fields;
mod json;
pub mod redirect;
pub mod rules;

use serde::Serialize;

use crate::error::ApiError;
use crate::model::{FlowId, Language, ProjectId, Timestamp, ValidationType};
use fields::{Draft, FIELDS};
use json::{MAX_KEYS, TopLevel, json_reason, printable};

pub const MAX_IDENTIFIER_CHARS: usize = 256;

/// What an `identifier` may not hold once trimmed (CONTRACT §1): control characters
/// (Unicode `Cc`) and format characters (`Cf`: the bidirectional controls, zero-width
/// joiners, direction marks, U+FEFF, …), so that two identifiers that look the same are
/// the same.
pub fn is_identifier_control(c: char) -> bool {
    use icu_properties::CodePointMapData;
    use icu_properties::props::GeneralCategory;
    c.is_control() || CodePointMapData::<GeneralCategory>::new().get(c) == GeneralCategory::Format
}

/// A validated request. `Serialize` is its canonical form (idempotency fingerprints):
/// absent optional fields are left out, so a field added later leaves the form of
/// every request without it unchanged.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateRequest {
    pub project: ProjectId,
    pub project_flow: FlowId,
    pub identifier: String,
    #[serde(rename = "type")]
    pub kind: ValidationType,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_url: Option<String>,
    #[serde(rename = "requires2FA", skip_serializing_if = "Option::is_none")]
    pub requires_2fa: Option<bool>,
    /// Already cut to whole seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<Language>,
}

/// Parses and validates a body. `now` is the request's instant (bounds of `expiresAt`).
pub fn parse(body: &[u8], now: Timestamp) -> Result<CreateRequest, ApiError> {
    let top: TopLevel = serde_json::from_slice(body).map_err(|e| ApiError::InvalidJson(json_reason(&e)))?;
    let entries = match top {
        TopLevel::Object(entries) => entries,
        TopLevel::TooManyKeys => return Err(ApiError::fields(format!("body must have at most {MAX_KEYS} keys"))),
        TopLevel::NotObject => return Err(ApiError::fields("body must be an object")),
    };
    let value_of = |key: &str| {
        entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
            .filter(|v| !v.is_null())
    };
    let mut draft = Draft::default();
    let mut errors: Vec<String> = FIELDS
        .iter()
        .filter_map(|field| field.read(value_of(field.name), now, &mut draft).err())
        .collect();
    errors.extend(
        entries
            .iter()
            .filter(|(key, _)| !FIELDS.iter().any(|f| f.name == key))
            .map(|(key, _)| format!("{} is not allowed", printable(key))),
    );
    match draft.finish() {
        Some(request) if errors.is_empty() => Ok(request),
        _ => Err(ApiError::Fields(errors)),
    }
}

#[cfg(test)]
mod tests;
