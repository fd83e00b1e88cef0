//! The demo data and the documented local test keys: what `make run` seeds
//! (`admin seed-demo`), what the `events/` fixtures are made for, and what the tests and
//! the benchmark start from. One place for all of them.
//!
//! The keys are public (docs/contract.md §8): never use them on AWS. The function refuses
//! them when it talks to AWS itself (`keyring::kind`).

use crate::model::{FlowStatus, FlowType, Id, Project, ProjectFlow};
use crate::store::{Admin, StoreError};

/// The documented local client-token key (HS256): the `events/` tokens are signed with it.
pub const CLIENT_TOKEN_KEY: &str = "local-client-token-secret-0123456789abcdef";
/// The documented local session-token key (HS256).
pub const SESSION_TOKEN_KEY: &str = "local-session-token-secret-0123456789abcdef";

pub const CLIENT: &str = "613375a1eab2fe08527f81e2";
pub const PROJECT: &str = "66df5bf5c4d855fb0bdf5da2";
pub const LOGIN_FLOW: &str = "66df5c22c4d855fb0bdf5da9";
pub const ONBOARDING_FLOW: &str = "66df5c22c4d855fb0bdf5daa";
pub const COLLECTION: &str = "66df5bf5c4d855fb0bdf5da4";
pub const COLLECTION_CODE: &str = "d29fe454-3ecc-4f58-8666-4021ac575d9c";

fn id<K>(s: &str) -> Id<K> {
    Id::parse(s).unwrap_or_else(|| unreachable!("the demo ids are ObjectIds"))
}

/// A usable project (with its face collection) of `client`.
pub fn project(project: &str, client: &str) -> Project {
    Project {
        id: id(project),
        client: id(client),
        name: "Demo project".into(),
        assigned_collection: Some(id::<()>(COLLECTION).object_id()),
        collection_code: Some(COLLECTION_CODE.into()),
        redirect_origins: vec![],
    }
}

/// A flow of `project` with liveness on and no defaults.
pub fn flow(project: &str, flow: &str, kind: FlowType, status: FlowStatus) -> ProjectFlow {
    ProjectFlow {
        id: id(flow),
        project: id(project),
        kind,
        status,
        face_liveness: true,
        requires_2fa: false,
        redirect_url: None,
    }
}

/// The demo client's project with an active login flow and an active onboarding flow, in
/// a table that exists. Writing them again changes nothing.
pub async fn seed(store: &Admin) -> Result<(), StoreError> {
    store.put_project(&project(PROJECT, CLIENT)).await?;
    for (id, kind) in [(LOGIN_FLOW, FlowType::Login), (ONBOARDING_FLOW, FlowType::Onboarding)] {
        store.put_flow(&flow(PROJECT, id, kind, FlowStatus::Active)).await?;
    }
    Ok(())
}
