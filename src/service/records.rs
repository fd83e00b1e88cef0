//! The new session and validation of an accepted request (CONTRACT §4).

use std::sync::Arc;

use super::rules::Usable;
use crate::model::{
    BiometricValidation, ClientId, IdSource, LivenessSession, Pair, SessionId, Timestamp, ValidationId,
    ValidationStatus,
};
use crate::request::CreateRequest;

/// What a new pair is made from besides the request: ids, the app's URL, the default lifetime.
pub struct RecordBuilder {
    pub ids: Arc<dyn IdSource>,
    /// Without a trailing `/`.
    pub app_base_url: String,
    pub session_seconds: i64,
}

impl RecordBuilder {
    pub fn build(&self, client: ClientId, request: &CreateRequest, usable: &Usable, now: Timestamp) -> Pair {
        let seconds = u32::try_from(now.unix_seconds()).unwrap_or(u32::MAX);
        // The session's id first (the contract's order): ids of one second differ in
        // their random middle bytes, so only their seconds order them.
        let session_id = SessionId::new(self.ids.next_id(seconds));
        let validation_id = ValidationId::new(self.ids.next_id(seconds));
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
            status: ValidationStatus::New,
            kind: request.kind,
            url: format!(
                "{}/{}/{}?type=liveness",
                self.app_base_url,
                request.kind.route(),
                request.project
            ),
            liveness_score: 0,
            assigned_collection: usable.project.assigned_collection,
            collection_code: usable.project.collection_code.clone(),
            requires_2fa: request.requires_2fa.unwrap_or(usable.flow.requires_2fa),
            redirect_url: request
                .redirect_url
                .clone()
                .or_else(|| usable.flow.redirect_url.clone()),
            language: request.language,
            id: validation_id,
            updated_at: now,
            created_at: now,
            version: 0,
        };
        Pair { session, validation }
    }
}
