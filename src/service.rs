//! `create()`: idempotency → project and flow rules → build records → store → reply.
//! Knows nothing of HTTP events nor of the SDK's types.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::idempotency::{self, IdempotencyRecord};
use crate::model::{
    BiometricValidation, FlowStatus, FlowType, IdSource, LivenessSession, ObjectId, Project, ProjectFlow, Timestamp,
};
use crate::project_cache::ProjectCache;
use crate::request::CreateRequest;
use crate::store::{CreateError, Loaded, Store, StoreError};
use crate::token::SessionSigner;

/// The created (or replayed) pair and the exact body to answer with.
#[derive(Debug)]
pub struct Created {
    pub body: String,
    pub replayed: bool,
    pub liveness_session: ObjectId,
    pub biometric_validation: ObjectId,
}

/// The reply's records, as stored with an idempotency key.
#[derive(Serialize, Deserialize)]
struct Reply {
    #[serde(rename = "livenessSession")]
    session: LivenessSession,
    #[serde(rename = "biometricValidation")]
    validation: BiometricValidation,
}

#[derive(Serialize)]
struct Body<'a> {
    data: Data<'a>,
}

#[derive(Serialize)]
struct Data<'a> {
    #[serde(rename = "livenessSession")]
    session: &'a LivenessSession,
    #[serde(rename = "biometricValidation")]
    validation: &'a BiometricValidation,
    token: &'a str,
}

pub struct Service {
    store: Store,
    cache: ProjectCache,
    signer: SessionSigner,
    ids: Arc<dyn IdSource>,
    app_base_url: String,
    session_seconds: i64,
}

impl Service {
    pub fn new(
        store: Store,
        signer: SessionSigner,
        ids: Arc<dyn IdSource>,
        app_base_url: String,
        session_seconds: i64,
        cache_seconds: u32,
    ) -> Self {
        Self {
            store,
            cache: ProjectCache::new(cache_seconds),
            signer,
            ids,
            app_base_url,
            session_seconds,
        }
    }

    pub async fn create(
        &self,
        client: ObjectId,
        request: &CreateRequest,
        idempotency_key: Option<&str>,
        now: Timestamp,
    ) -> Result<Created, ApiError> {
        let key = idempotency_key.map(|k| (idempotency::record_pk(client, k), idempotency::fingerprint(request)));
        let (checked, seen) = self
            .read(client, request, key.as_ref().map(|(pk, _)| pk.as_str()), now)
            .await?;
        if let (Some((_, fingerprint)), Some(record)) = (&key, seen.filter(|r| r.is_live(now))) {
            return self.replay(&record, fingerprint);
        }
        let (project, flow) = checked?;
        let (session, validation) = self.build(client, request, &project, &flow, now);
        let token = self.sign(&session, &validation)?;
        let record = match key {
            Some((pk, fingerprint)) => Some(IdempotencyRecord {
                pk,
                fingerprint,
                reply: serde_json::to_string(&Reply {
                    session: session.clone(),
                    validation: validation.clone(),
                })
                .map_err(|_| ApiError::Internal)?,
                liveness_session: session.id,
                biometric_validation: validation.id,
                expires_at: session.expires_at,
            }),
            None => None,
        };
        match self.store.create(&session, &validation, record.as_ref(), now).await {
            Ok(()) => Ok(Created {
                body: render(&session, &validation, &token)?,
                replayed: false,
                liveness_session: session.id,
                biometric_validation: validation.id,
            }),
            // Another request with this key won the race: answer as it did.
            Err(CreateError::IdempotencyKeyTaken(Some(winner))) => {
                self.replay(&winner, &record.expect("keyed").fingerprint)
            }
            Err(CreateError::IdempotencyKeyTaken(None) | CreateError::Conflict) if record.is_some() => {
                let record = record.expect("keyed");
                match self.store.idempotency_record(&record.pk).await.map_err(store_error)? {
                    Some(winner) if winner.is_live(now) => self.replay(&winner, &record.fingerprint),
                    _ => Err(ApiError::ServiceUnavailable),
                }
            }
            Err(CreateError::Conflict) => Err(ApiError::ServiceUnavailable),
            Err(CreateError::IdempotencyKeyTaken(None)) => Err(ApiError::Internal),
            Err(CreateError::ItemExists) => {
                // An SDK retry after an attempt whose answer was lost finds the items that
                // attempt wrote: the transaction is all or nothing, so the pair is ours.
                if self
                    .store
                    .liveness_session(session.id)
                    .await
                    .map_err(store_error)?
                    .as_ref()
                    == Some(&session)
                {
                    return Ok(Created {
                        body: render(&session, &validation, &token)?,
                        replayed: false,
                        liveness_session: session.id,
                        biometric_validation: validation.id,
                    });
                }
                tracing::error!(liveness_session = %session.id, biometric_validation = %validation.id, "an item with a new id already exists");
                Err(ApiError::Internal)
            }
            Err(CreateError::Store(e)) => Err(store_error(e)),
        }
    }

    /// The project and flow, checked against the rules, and the idempotency record.
    /// A pair that passed the rules less than the cache's bound ago is taken from the
    /// cache (then only the idempotency record, if any, is read); anything else is read.
    async fn read(
        &self,
        client: ObjectId,
        request: &CreateRequest,
        idempotency_pk: Option<&str>,
        now: Timestamp,
    ) -> Result<(Result<(Project, ProjectFlow), ApiError>, Option<IdempotencyRecord>), ApiError> {
        let cached = self
            .cache
            .get(request.project, request.project_flow, now)
            .and_then(|(project, flow)| check_rules(client, request, Some(project), Some(flow)).ok());
        if let Some(pair) = cached {
            let seen = match idempotency_pk {
                Some(pk) => self.store.idempotency_record(pk).await.map_err(store_error)?,
                None => None,
            };
            return Ok((Ok(pair), seen));
        }
        let Loaded {
            project,
            flow,
            idempotency,
        } = self
            .store
            .load(request.project, request.project_flow, idempotency_pk)
            .await
            .map_err(store_error)?;
        match (&project, &flow) {
            (Some(p), Some(f)) => self.cache.put(p, f, now),
            _ => self.cache.forget(request.project, request.project_flow),
        }
        Ok((check_rules(client, request, project, flow), idempotency))
    }

    fn replay(&self, record: &IdempotencyRecord, fingerprint: &str) -> Result<Created, ApiError> {
        if record.fingerprint != fingerprint {
            return Err(ApiError::IdempotencyKeyReused);
        }
        let reply: Reply = serde_json::from_str(&record.reply).map_err(|e| {
            tracing::error!(error = %e, "unreadable idempotency record");
            ApiError::Internal
        })?;
        let token = self.sign(&reply.session, &reply.validation)?;
        Ok(Created {
            body: render(&reply.session, &reply.validation, &token)?,
            replayed: true,
            liveness_session: reply.session.id,
            biometric_validation: reply.validation.id,
        })
    }

    fn build(
        &self,
        client: ObjectId,
        request: &CreateRequest,
        project: &Project,
        flow: &ProjectFlow,
        now: Timestamp,
    ) -> (LivenessSession, BiometricValidation) {
        let seconds = u32::try_from(now.unix_seconds()).unwrap_or(u32::MAX);
        let session_id = self.ids.next_id(seconds);
        let validation_id = self.ids.next_id(seconds);
        let expires_at = request
            .expires_at
            .unwrap_or_else(|| now.whole_seconds().plus_seconds(self.session_seconds));
        let session = LivenessSession::new(
            session_id,
            client,
            request.project,
            request.project_flow,
            request.identifier.clone(),
            now,
            expires_at,
        );
        let validation = BiometricValidation {
            client,
            project: request.project,
            project_flow: request.project_flow,
            liveness_session: session_id,
            status: "new".to_owned(),
            kind: request.kind,
            url: format!(
                "{}/{}/{}?type=liveness",
                self.app_base_url,
                request.kind.route(),
                request.project
            ),
            liveness_score: 0,
            assigned_collection: project.assigned_collection.expect("checked by the rules"),
            collection_code: project.collection_code.clone().expect("checked by the rules"),
            requires_2fa: request.requires_2fa.unwrap_or(flow.requires_2fa),
            redirect_url: request.redirect_url.clone().or_else(|| flow.redirect_url.clone()),
            language: request.language,
            id: validation_id,
            updated_at: now,
            created_at: now,
            version: 0,
        };
        (session, validation)
    }

    fn sign(&self, session: &LivenessSession, validation: &BiometricValidation) -> Result<String, ApiError> {
        self.signer.sign(session, validation).map_err(|e| {
            tracing::error!(error = %e, "cannot sign a session token");
            ApiError::Internal
        })
    }
}

/// Every way a project or flow can be unusable answers the same 404, so that a caller
/// learns nothing about projects that are not its own.
fn check_rules(
    client: ObjectId,
    request: &CreateRequest,
    project: Option<Project>,
    flow: Option<ProjectFlow>,
) -> Result<(Project, ProjectFlow), ApiError> {
    let project = project
        .filter(|p| p.id == request.project && p.client == client)
        .filter(|p| p.assigned_collection.is_some() && p.collection_code.as_deref().is_some_and(|c| !c.is_empty()))
        .ok_or(ApiError::ProjectNotFound)?;
    let flow = flow
        .filter(|f| f.id == request.project_flow && f.project == project.id)
        .filter(|f| f.status == FlowStatus::Active && f.face_liveness && f.kind != FlowType::Unknown)
        .ok_or(ApiError::ProjectNotFound)?;
    if !flow.kind.accepts(request.kind) {
        return Err(ApiError::TypeMismatch {
            requested: request.kind,
            flow: flow.kind,
        });
    }
    Ok((project, flow))
}

fn render(session: &LivenessSession, validation: &BiometricValidation, token: &str) -> Result<String, ApiError> {
    serde_json::to_string(&Body {
        data: Data {
            session,
            validation,
            token,
        },
    })
    .map_err(|_| ApiError::Internal)
}

fn store_error(e: StoreError) -> ApiError {
    match e {
        StoreError::Unavailable(why) => {
            tracing::warn!(error = %why, "DynamoDB unavailable");
            ApiError::ServiceUnavailable
        }
        StoreError::Internal(why) => {
            tracing::error!(error = %why, "DynamoDB error");
            ApiError::Internal
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{FlowType, ValidationType};

    fn id(s: &str) -> ObjectId {
        ObjectId::parse(s).unwrap()
    }
    const CLIENT: &str = "613375a1eab2fe08527f81e2";
    const PROJECT: &str = "66df5bf5c4d855fb0bdf5da2";
    const FLOW: &str = "66df5c22c4d855fb0bdf5da9";

    fn request(kind: ValidationType) -> CreateRequest {
        CreateRequest {
            project: id(PROJECT),
            project_flow: id(FLOW),
            identifier: "x".into(),
            kind,
            redirect_url: None,
            requires_2fa: None,
            expires_at: None,
            language: None,
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
    fn rules() {
        let r = request(ValidationType::Login);
        assert!(check_rules(id(CLIENT), &r, Some(project()), Some(flow())).is_ok());
        let not_found = Err(ApiError::ProjectNotFound);
        assert_eq!(check_rules(id(CLIENT), &r, None, Some(flow())), not_found);
        assert_eq!(check_rules(id(CLIENT), &r, Some(project()), None), not_found);
        assert_eq!(
            check_rules(id("613375a1eab2fe08527f81e3"), &r, Some(project()), Some(flow())),
            not_found
        );
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
            assert_eq!(check_rules(id(CLIENT), &r, Some(project()), Some(f)), not_found);
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
            assert_eq!(check_rules(id(CLIENT), &r, Some(p), Some(flow())), not_found);
        }
        assert_eq!(
            check_rules(
                id(CLIENT),
                &request(ValidationType::Onboarding),
                Some(project()),
                Some(flow())
            ),
            Err(ApiError::TypeMismatch {
                requested: ValidationType::Onboarding,
                flow: FlowType::Login
            })
        );
    }
}
