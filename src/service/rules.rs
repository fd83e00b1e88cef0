//! The client, project and flow rules. A pair that passes becomes a `Usable` pair: the
//! types say what the rules proved, so building the records needs no further checks.

use url::Origin;

use super::redirects;
use crate::error::ApiError;
use crate::model::{ClientId, FlowId, FlowStatus, FlowType, ObjectId, Project, ProjectFlow, ProjectId, ValidationType};

/// A project of the caller, with its face collection.
#[derive(Clone, Debug, PartialEq)]
pub struct UsableProject {
    pub id: ProjectId,
    pub assigned_collection: ObjectId,
    pub collection_code: String,
    /// The origins a `redirectUrl` must have; empty: any allowed URL.
    pub redirect_origins: Vec<Origin>,
}

/// An active flow of that project, liveness on, of a known type that accepts the request's.
#[derive(Clone, Debug, PartialEq)]
pub struct UsableFlow {
    pub id: FlowId,
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
    pub client: ClientId,
    pub project: ProjectId,
    pub flow: FlowId,
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
            Some(UsableProject {
                id: p.id,
                assigned_collection: p.assigned_collection?,
                collection_code: code,
                redirect_origins: redirects::stored_origins(&p.redirect_origins)?,
            })
        })
        .ok_or(ApiError::ProjectNotFound)?;
    let flow = flow
        .filter(|f| f.id == asked.flow && f.project == project.id)
        .filter(|f| f.status == FlowStatus::Active && f.face_liveness && f.kind != FlowType::Unknown)
        .ok_or(ApiError::ProjectNotFound)?;
    let flow_url = redirects::stored_url(flow.redirect_url.as_deref()).map_err(|_| ApiError::ProjectNotFound)?;
    if !flow.kind.accepts(asked.kind) {
        return Err(ApiError::TypeMismatch {
            requested: asked.kind,
            flow: flow.kind,
        });
    }
    redirects::check_origin(&project.redirect_origins, asked.redirect_url, flow_url.as_ref())?;
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

    fn id<K>(s: &str) -> crate::model::Id<K> {
        crate::model::Id::parse(s).unwrap()
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
            assigned_collection: Some(ObjectId::parse("66df5bf5c4d855fb0bdf5da4").unwrap()),
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

    fn flow_to(url: &str) -> ProjectFlow {
        ProjectFlow {
            redirect_url: Some(url.into()),
            ..flow()
        }
    }

    #[test]
    fn redirect_settings_come_after_ownership_and_type() {
        let limited = Project {
            redirect_origins: vec!["https://app.example".into()],
            ..project()
        };
        let login = asked(ValidationType::Login);
        let sent = |url| Asked {
            redirect_url: Some(url),
            ..login
        };
        let denied = Err(ApiError::RedirectOriginNotAllowed);
        assert_eq!(
            check(sent("https://evil.example/"), Some(&limited), Some(&flow())),
            denied
        );
        let from_flow = check(login, Some(&limited), Some(&flow_to("https://evil.example/")));
        assert_eq!(from_flow, denied);
        let usable = check(sent("HTTPS://App.Example:443/x"), Some(&limited), Some(&flow())).unwrap();
        assert_eq!(usable.project.redirect_origins.len(), 1);
        // The flow's URL is answered in its serialization, whoever stored it.
        let usable = check(login, Some(&project()), Some(&flow_to("HTTPS://Flow.Example:443"))).unwrap();
        assert_eq!(usable.flow.redirect_url.as_deref(), Some("https://flow.example/"));
        // A non-owner learns nothing of the origins; the owner hears of the type first.
        let evil = Asked {
            kind: ValidationType::Onboarding,
            ..sent("https://evil.example/")
        };
        let other_client = Asked {
            client: id("613375a1eab2fe08527f81e3"),
            ..evil
        };
        let not_found = Err(ApiError::ProjectNotFound);
        assert_eq!(check(other_client, Some(&limited), Some(&flow())), not_found);
        let type_first = check(evil, Some(&limited), Some(&flow()));
        assert!(
            matches!(type_first, Err(ApiError::TypeMismatch { .. })),
            "{type_first:?}"
        );
        // A stored URL or origin that breaks its rule makes the flow or project unusable.
        for url in ["http://evil.example/", "https:///evil.example"] {
            assert_eq!(
                check(sent("https://app.example/"), Some(&limited), Some(&flow_to(url))),
                not_found
            );
        }
        let broken = Project {
            redirect_origins: vec!["https://app.example/path".into()],
            ..project()
        };
        assert_eq!(check(login, Some(&broken), Some(&flow())), not_found);
    }
}
