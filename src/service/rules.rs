//! The project and flow rules. A pair that passes becomes a `Usable` pair: the types
//! say what the rules proved, so building the records needs no further checks.

use url::Origin;

use crate::error::ApiError;
use crate::model::{FlowStatus, FlowType, ObjectId, Project, ProjectFlow, ValidationType};
use crate::request::redirect::{redirect_origin, redirect_url};

/// A project of the caller, with its face collection.
#[derive(Clone, Debug, PartialEq)]
pub struct UsableProject {
    pub id: ObjectId,
    pub assigned_collection: ObjectId,
    pub collection_code: String,
    /// The origins a `redirectUrl` must have; empty: any allowed URL.
    pub redirect_origins: Vec<Origin>,
}

/// An active flow of that project, liveness on, of a known type that accepts the request's.
#[derive(Clone, Debug, PartialEq)]
pub struct UsableFlow {
    pub id: ObjectId,
    pub kind: FlowType,
    pub requires_2fa: bool,
    /// In its WHATWG serialization, whoever stored it.
    pub redirect_url: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Usable {
    pub project: UsableProject,
    pub flow: UsableFlow,
}

/// What the rules are checked against: who asks, for which project, flow and type, and
/// the request's `redirectUrl` (already checked by its field rule), if any.
#[derive(Clone, Copy, Debug)]
pub struct Asked<'a> {
    pub client: ObjectId,
    pub project: ObjectId,
    pub flow: ObjectId,
    pub kind: ValidationType,
    pub redirect_url: Option<&'a str>,
}

/// Every way a project or flow can be unusable answers the same 404, so that a caller
/// learns nothing about projects that are not its own. A stored `redirectOrigins` entry
/// or flow `redirectUrl` that breaks its rule (written by something other than the
/// admin CLI) makes the project or flow unusable, as an unknown status does. Then, for
/// a usable pair: the type (409), then the origin of the `redirectUrl` used (409).
pub fn check(asked: Asked<'_>, project: Option<&Project>, flow: Option<&ProjectFlow>) -> Result<Usable, ApiError> {
    let project = project
        .filter(|p| p.id == asked.project && p.client == asked.client)
        .and_then(|p| {
            let code = p.collection_code.clone().filter(|c| !c.is_empty())?;
            let origins = p.redirect_origins.iter().map(|o| redirect_origin(o).ok());
            Some(UsableProject {
                id: p.id,
                assigned_collection: p.assigned_collection?,
                collection_code: code,
                redirect_origins: origins.collect::<Option<_>>()?,
            })
        })
        .ok_or(ApiError::ProjectNotFound)?;
    let flow = flow
        .filter(|f| f.id == asked.flow && f.project == project.id)
        .filter(|f| f.status == FlowStatus::Active && f.face_liveness && f.kind != FlowType::Unknown)
        .ok_or(ApiError::ProjectNotFound)?;
    let flow_url = match &flow.redirect_url {
        Some(url) => Some(redirect_url(url).map_err(|_| ApiError::ProjectNotFound)?),
        None => None,
    };
    if !flow.kind.accepts(asked.kind) {
        return Err(ApiError::TypeMismatch {
            requested: asked.kind,
            flow: flow.kind,
        });
    }
    if !project.redirect_origins.is_empty() {
        // The request's URL passed its field rule, so it parses; were it not to, refuse.
        let used = match asked.redirect_url {
            Some(sent) => Some(redirect_url(sent).map_err(|_| ApiError::RedirectOriginNotAllowed)?),
            None => flow_url.clone(),
        };
        if used.is_some_and(|url| !project.redirect_origins.contains(&url.origin())) {
            return Err(ApiError::RedirectOriginNotAllowed);
        }
    }
    Ok(Usable {
        project,
        flow: UsableFlow {
            id: flow.id,
            kind: flow.kind,
            requires_2fa: flow.requires_2fa,
            redirect_url: flow_url.map(String::from),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> ObjectId {
        ObjectId::parse(s).unwrap()
    }
    const CLIENT: &str = "613375a1eab2fe08527f81e2";
    const PROJECT: &str = "66df5bf5c4d855fb0bdf5da2";
    const FLOW: &str = "66df5c22c4d855fb0bdf5da9";

    fn asked(kind: ValidationType) -> Asked<'static> {
        Asked {
            client: id(CLIENT),
            project: id(PROJECT),
            flow: id(FLOW),
            kind,
            redirect_url: None,
        }
    }
    fn project() -> Project {
        Project {
            id: id(PROJECT),
            client: id(CLIENT),
            name: "p".into(),
            assigned_collection: Some(id("66df5bf5c4d855fb0bdf5da4")),
            collection_code: Some("code".into()),
            redirect_origins: vec![],
        }
    }
    fn flow() -> ProjectFlow {
        ProjectFlow {
            id: id(FLOW),
            project: id(PROJECT),
            kind: FlowType::Login,
            status: FlowStatus::Active,
            face_liveness: true,
            requires_2fa: false,
            redirect_url: None,
        }
    }

    #[test]
    fn rules() {
        let r = asked(ValidationType::Login);
        let usable = check(r, Some(&project()), Some(&flow())).unwrap();
        assert_eq!(usable.project.collection_code, "code");
        assert_eq!(usable.flow.kind, FlowType::Login);
        let not_found = Err(ApiError::ProjectNotFound);
        assert_eq!(check(r, None, Some(&flow())), not_found);
        assert_eq!(check(r, Some(&project()), None), not_found);
        let other_client = Asked {
            client: id("613375a1eab2fe08527f81e3"),
            ..r
        };
        assert_eq!(check(other_client, Some(&project()), Some(&flow())), not_found);
        for f in [
            ProjectFlow {
                status: FlowStatus::Paused,
                ..flow()
            },
            ProjectFlow {
                status: FlowStatus::Draft,
                ..flow()
            },
            ProjectFlow {
                face_liveness: false,
                ..flow()
            },
            ProjectFlow {
                status: FlowStatus::Unknown,
                ..flow()
            },
            ProjectFlow {
                kind: FlowType::Unknown,
                ..flow()
            },
        ] {
            assert_eq!(check(r, Some(&project()), Some(&f)), not_found);
        }
        for p in [
            Project {
                assigned_collection: None,
                ..project()
            },
            Project {
                collection_code: None,
                ..project()
            },
            Project {
                collection_code: Some(String::new()),
                ..project()
            },
        ] {
            assert_eq!(check(r, Some(&p), Some(&flow())), not_found);
        }
        assert_eq!(
            check(asked(ValidationType::Onboarding), Some(&project()), Some(&flow())),
            Err(ApiError::TypeMismatch {
                requested: ValidationType::Onboarding,
                flow: FlowType::Login
            })
        );
    }

    #[test]
    fn redirect_origins() {
        let limited = Project {
            redirect_origins: vec!["https://app.example".into(), "http://localhost:3000".into()],
            ..project()
        };
        let login = asked(ValidationType::Login);
        let with_url = |url| Asked {
            redirect_url: Some(url),
            ..login
        };
        let flow_to = |url: &str| ProjectFlow {
            redirect_url: Some(url.into()),
            ..flow()
        };
        let denied = Err(ApiError::RedirectOriginNotAllowed);
        // The request's URL, else the flow's, must have one of the project's origins.
        for url in [
            "https://app.example/cb?x=1",
            "https://APP.example:443/",
            "http://localhost:3000/",
        ] {
            assert!(check(with_url(url), Some(&limited), Some(&flow())).is_ok(), "{url}");
        }
        for url in [
            "https://evil.example/cb",
            "https://app.example:8443/cb",
            "http://app.example/cb",
            "https://sub.app.example/",
            "http://localhost:3001/",
        ] {
            assert_eq!(check(with_url(url), Some(&limited), Some(&flow())), denied, "{url}");
        }
        assert_eq!(
            check(login, Some(&limited), Some(&flow_to("https://evil.example/x"))),
            denied
        );
        assert!(check(login, Some(&limited), Some(&flow_to("https://app.example/x"))).is_ok());
        // The request's URL overrides the flow's, for the check as for the answer.
        let sent = with_url("https://app.example/mine");
        assert!(check(sent, Some(&limited), Some(&flow_to("https://evil.example/x"))).is_ok());
        let sent = with_url("https://evil.example/mine");
        assert_eq!(
            check(sent, Some(&limited), Some(&flow_to("https://app.example/x"))),
            denied
        );
        // No URL at all, or no origins: nothing to check.
        assert!(check(login, Some(&limited), Some(&flow())).is_ok());
        assert!(check(with_url("https://evil.example/"), Some(&project()), Some(&flow())).is_ok());
        // Ownership first: a non-owner learns nothing of the origins; then the type.
        let other_client = Asked {
            client: id("613375a1eab2fe08527f81e3"),
            ..with_url("https://evil.example/")
        };
        assert_eq!(
            check(other_client, Some(&limited), Some(&flow())),
            Err(ApiError::ProjectNotFound)
        );
        let onboarding = Asked {
            kind: ValidationType::Onboarding,
            ..with_url("https://evil.example/")
        };
        assert!(matches!(
            check(onboarding, Some(&limited), Some(&flow())),
            Err(ApiError::TypeMismatch { .. })
        ));
    }

    #[test]
    fn stored_redirect_settings_are_held_to_their_rules() {
        let login = asked(ValidationType::Login);
        // A flow's URL is answered in its WHATWG serialization, whoever stored it.
        let flow_to = |url: &str| ProjectFlow {
            redirect_url: Some(url.into()),
            ..flow()
        };
        let usable = check(login, Some(&project()), Some(&flow_to("HTTPS://Flow.Example:443"))).unwrap();
        assert_eq!(usable.flow.redirect_url.as_deref(), Some("https://flow.example/"));
        // One that breaks the rule, or a malformed origin, makes the flow or project unusable.
        for url in [
            "http://evil.example/",
            "https:///evil.example",
            "javascript:alert(1)",
            "",
        ] {
            assert_eq!(
                check(login, Some(&project()), Some(&flow_to(url))),
                Err(ApiError::ProjectNotFound),
                "{url}"
            );
        }
        for origin in ["https://app.example/", "app.example", "", "http://evil.example"] {
            let p = Project {
                redirect_origins: vec!["https://ok.example".into(), origin.into()],
                ..project()
            };
            assert_eq!(
                check(login, Some(&p), Some(&flow())),
                Err(ApiError::ProjectNotFound),
                "{origin}"
            );
        }
    }
}
