//! The body's fields: one table of name, JSON kind (the kind of rule), presence and
//! rule. Adding a field is a row here and a field of `CreateRequest` and `Draft`.

use serde_json::Value;

use super::redirect::redirect_url;
use super::rules::{check_expires_at, one_of};
use super::{CreateRequest, MAX_IDENTIFIER_CHARS, is_identifier_control};
use crate::model::{FlowId, Id, Language, ProjectId, Timestamp, ValidationType};

/// The request as its fields are read; `finish` makes it a request once every
/// required field is there.
#[derive(Default)]
pub struct Draft {
    project: Option<ProjectId>,
    project_flow: Option<FlowId>,
    identifier: Option<String>,
    kind: Option<ValidationType>,
    redirect_url: Option<String>,
    requires_2fa: Option<bool>,
    expires_at: Option<Timestamp>,
    language: Option<Language>,
}

impl Draft {
    pub fn finish(self) -> Option<CreateRequest> {
        Some(CreateRequest {
            project: self.project?,
            project_flow: self.project_flow?,
            identifier: self.identifier?,
            kind: self.kind?,
            redirect_url: self.redirect_url,
            requires_2fa: self.requires_2fa,
            expires_at: self.expires_at,
            language: self.language,
        })
    }
}

/// A field's rule; its variant is the JSON kind the value must have. An `Err` is the
/// rest of the message after the field's name (`must be …`).
#[derive(Clone, Copy)]
enum Rule {
    Text(fn(&str, Timestamp, &mut Draft) -> Result<(), String>),
    Flag(fn(bool, &mut Draft)),
}

pub struct Field {
    pub name: &'static str,
    required: bool,
    rule: Rule,
}

fn object_id<K>(s: &str) -> Result<Id<K>, String> {
    Id::parse(s).ok_or_else(|| "must be a valid id".to_owned())
}

/// The body's keys, in the order their errors are reported.
pub const FIELDS: [Field; 8] = [
    Field {
        name: "project",
        required: true,
        rule: Rule::Text(|s, _, d| {
            d.project = Some(object_id(s)?);
            Ok(())
        }),
    },
    Field {
        name: "projectFlow",
        required: true,
        rule: Rule::Text(|s, _, d| {
            d.project_flow = Some(object_id(s)?);
            Ok(())
        }),
    },
    Field {
        name: "identifier",
        required: true,
        rule: Rule::Text(|s, _, d| {
            let trimmed = s.trim();
            if trimmed.chars().any(is_identifier_control) {
                return Err("must not contain control characters".to_owned());
            }
            if trimmed.chars().count() > MAX_IDENTIFIER_CHARS {
                return Err(format!("must be at most {MAX_IDENTIFIER_CHARS} characters"));
            }
            d.identifier = Some(trimmed.to_owned());
            Ok(())
        }),
    },
    Field {
        name: "type",
        required: true,
        rule: Rule::Text(|s, _, d| {
            let kind =
                ValidationType::parse(s).ok_or_else(|| one_of(ValidationType::ALL.map(ValidationType::as_str)))?;
            d.kind = Some(kind);
            Ok(())
        }),
    },
    Field {
        name: "redirectUrl",
        required: false,
        rule: Rule::Text(|s, _, d| {
            d.redirect_url = Some(redirect_url(s)?.into());
            Ok(())
        }),
    },
    Field {
        name: "requires2FA",
        required: false,
        rule: Rule::Flag(|b, d| d.requires_2fa = Some(b)),
    },
    Field {
        name: "expiresAt",
        required: false,
        rule: Rule::Text(|s, now, d| {
            d.expires_at = Some(check_expires_at(s, now)?);
            Ok(())
        }),
    },
    Field {
        name: "language",
        required: false,
        rule: Rule::Text(|s, _, d| {
            let language = Language::parse(s).ok_or_else(|| one_of(Language::ALL.map(Language::as_str)))?;
            d.language = Some(language);
            Ok(())
        }),
    },
];

impl Field {
    /// Applies the field's rule to its value (`None`: absent or `null`); an error is
    /// the whole message.
    pub fn read(&self, value: Option<&Value>, now: Timestamp, draft: &mut Draft) -> Result<(), String> {
        let name = self.name;
        match (self.rule, value) {
            (_, None) if self.required => Err(format!("missing {name}")),
            (_, None) => Ok(()),
            (Rule::Text(_), Some(Value::String(s))) if self.required && s.trim().is_empty() => {
                Err(format!("missing {name}"))
            }
            (Rule::Text(rule), Some(Value::String(s))) => rule(s, now, draft).map_err(|why| format!("{name} {why}")),
            (Rule::Text(_), Some(_)) => Err(format!("{name} must be a string")),
            (Rule::Flag(rule), Some(Value::Bool(b))) => {
                rule(*b, draft);
                Ok(())
            }
            (Rule::Flag(_), Some(_)) => Err(format!("{name} must be a boolean")),
        }
    }
}
