//! The client, project and flow rules. A pair that passes becomes a `Usable` pair: the
//! types say what the rules proved, so building the records needs no further checks.

use crate::error::ApiError;
use crate::model::{
    Caller, Client, ClientStatus, FlowStatus, FlowType, ObjectId, Project, ProjectFlow, ValidationType,
};

/// A project of the caller, with its face collection.
#[derive(Clone, Debug, PartialEq)]
pub struct UsableProject {
    pub id: ObjectId,
    pub assigned_collection: ObjectId,
    pub collection_code: String,
}

/// An active flow of that project, liveness on, of a known type that accepts the request's.
#[derive(Clone, Debug, PartialEq)]
pub struct UsableFlow {
    pub id: ObjectId,
    pub kind: FlowType,
    pub requires_2fa: bool,
    pub redirect_url: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Usable {
    pub project: UsableProject,
    pub flow: UsableFlow,
}

/// What the rules are checked against: who asks, for which project, flow and type.
#[derive(Clone, Copy, Debug)]
pub struct Asked {
    pub client: ObjectId,
    pub project: ObjectId,
    pub flow: ObjectId,
    pub kind: ValidationType,
}

/// The caller's own item (CONTRACT §2): a suspended client, or a token issued before the
/// client's `tokensNotBefore` (or without `iat` while it is set), is refused with the
/// same 401 as a bad token. No item: an active client with nothing revoked.
pub fn check_client(caller: Caller, item: Option<&Client>) -> Result<(), ApiError> {
    let Some(item) = item else { return Ok(()) };
    let active = item.id == caller.client && item.status == ClientStatus::Active;
    let issued_in_time = match (item.tokens_not_before, caller.issued_at) {
        (None, _) => true,
        (Some(not_before), Some(iat)) => iat >= not_before,
        (Some(_), None) => false,
    };
    if active && issued_in_time {
        Ok(())
    } else {
        Err(ApiError::InvalidToken)
    }
}

/// Every way a project or flow can be unusable answers the same 404, so that a caller
/// learns nothing about projects that are not its own.
pub fn check(asked: Asked, project: Option<&Project>, flow: Option<&ProjectFlow>) -> Result<Usable, ApiError> {
    let project = project
        .filter(|p| p.id == asked.project && p.client == asked.client)
        .and_then(|p| {
            let code = p.collection_code.clone().filter(|c| !c.is_empty())?;
            Some(UsableProject {
                id: p.id,
                assigned_collection: p.assigned_collection?,
                collection_code: code,
            })
        })
        .ok_or(ApiError::ProjectNotFound)?;
    let flow = flow
        .filter(|f| f.id == asked.flow && f.project == project.id)
        .filter(|f| f.status == FlowStatus::Active && f.face_liveness && f.kind != FlowType::Unknown)
        .ok_or(ApiError::ProjectNotFound)?;
    if !flow.kind.accepts(asked.kind) {
        return Err(ApiError::TypeMismatch {
            requested: asked.kind,
            flow: flow.kind,
        });
    }
    Ok(Usable {
        project,
        flow: UsableFlow {
            id: flow.id,
            kind: flow.kind,
            requires_2fa: flow.requires_2fa,
            redirect_url: flow.redirect_url.clone(),
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

    fn asked(kind: ValidationType) -> Asked {
        Asked {
            client: id(CLIENT),
            project: id(PROJECT),
            flow: id(FLOW),
            kind,
        }
    }
    fn project() -> Project {
        Project {
            id: id(PROJECT),
            client: id(CLIENT),
            name: "p".into(),
            assigned_collection: Some(id("66df5bf5c4d855fb0bdf5da4")),
            collection_code: Some("code".into()),
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
    fn client_rules() {
        let caller = Caller {
            client: id(CLIENT),
            issued_at: Some(1_000),
        };
        let item = |status, tokens_not_before| Client {
            id: id(CLIENT),
            status,
            tokens_not_before,
        };
        assert_eq!(check_client(caller, None), Ok(()));
        assert_eq!(check_client(caller, Some(&item(ClientStatus::Active, None))), Ok(()));
        assert_eq!(
            check_client(caller, Some(&item(ClientStatus::Active, Some(1_000)))),
            Ok(())
        );
        let refused = Err(ApiError::InvalidToken);
        for bad in [
            item(ClientStatus::Suspended, None),
            item(ClientStatus::Unknown, None),
            item(ClientStatus::Active, Some(1_001)),
            Client {
                id: id("613375a1eab2fe08527f81e3"),
                ..item(ClientStatus::Active, None)
            },
        ] {
            assert_eq!(check_client(caller, Some(&bad)), refused, "{bad:?}");
        }
        let no_iat = Caller {
            issued_at: None,
            ..caller
        };
        assert_eq!(
            check_client(no_iat, Some(&item(ClientStatus::Active, Some(1)))),
            refused
        );
        assert_eq!(check_client(no_iat, Some(&item(ClientStatus::Active, None))), Ok(()));
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
}
