//! The client commands (CONTRACT §2): a revocation holds through every one of them, and a
//! token `mint-token` makes is never one the client's item refuses.

use std::time::Duration;

use biometric_validations::model::{Client, ClientId, ClientStatus, Clock, SystemClock, Timestamp};
use biometric_validations::store::Admin;
use biometric_validations::store::clients::{PutClient, Revoked};

use super::cli::ClientState;

/// The most `mint-token` waits for a revocation's second to pass.
const MINT_WAITS_AT_MOST: i64 = 5;

fn epoch(t: Option<Timestamp>) -> String {
    t.map_or_else(|| "none".to_owned(), |t| format!("{} ({t})", t.unix_seconds()))
}

pub async fn put(store: &Admin, id: ClientId, status: ClientState, replace: bool) -> Result<String, String> {
    let item = Client {
        id,
        status: match status {
            ClientState::Active => ClientStatus::Active,
            ClientState::Suspended => ClientStatus::Suspended,
        },
        tokens_not_before: None,
    };
    let state = |s: ClientStatus| format!("{s:?}").to_lowercase();
    match store.put_client(&item, replace).await.map_err(|e| e.to_string())? {
        PutClient::Created => Ok(format!("client {id} is {}", state(item.status))),
        PutClient::Replaced { kept_tokens_not_before } => Ok(format!(
            "client {id} is {}; its revocation is kept: tokensNotBefore {}",
            state(item.status),
            epoch(kept_tokens_not_before)
        )),
        PutClient::Exists { existing, would_drop } => Err(format!(
            "client {id} exists (status {}, tokensNotBefore {}): not replaced. --replace would set status {} \
             and keep tokensNotBefore{}; to lift a suspension alone: reactivate-client",
            state(existing.status),
            epoch(existing.tokens_not_before),
            state(item.status),
            if would_drop.is_empty() {
                String::new()
            } else {
                format!(", and drop {}", would_drop.join(", "))
            }
        )),
    }
}

pub async fn suspend(store: &Admin, id: ClientId) -> Result<String, String> {
    store.suspend_client(id).await.map_err(|e| e.to_string())?;
    Ok(format!("client {id} is suspended: every token of it is refused"))
}

pub async fn reactivate(store: &Admin, id: ClientId) -> Result<String, String> {
    store.reactivate_client(id).await.map_err(|e| e.to_string())?;
    let revoked = store.client_item(id).await.map_err(|e| e.to_string())?;
    Ok(format!(
        "client {id} is active; tokens issued up to tokensNotBefore {} stay refused",
        epoch(revoked.and_then(|c| c.tokens_not_before))
    ))
}

pub async fn revoke(store: &Admin, id: ClientId) -> Result<String, String> {
    match store
        .revoke_client_tokens(id, SystemClock.now())
        .await
        .map_err(|e| e.to_string())?
    {
        Revoked::Now(at) => Ok(format!(
            "client {id}: tokens issued up to {} are refused; mint new ones",
            epoch(Some(at))
        )),
        Revoked::Already(at) => Ok(format!(
            "client {id}: tokens issued up to {} were already refused (a revocation never moves back)",
            epoch(Some(at))
        )),
    }
}

/// The instant a new token of `id` may carry as its `iat`: refused for a client that is
/// not active; after its revocation's second (waiting for it, up to a few seconds).
pub async fn issued_at(store: &Admin, id: ClientId) -> Result<Timestamp, String> {
    let item = store.client_item(id).await.map_err(|e| e.to_string())?;
    let Some(item) = item else {
        return Ok(SystemClock.now());
    };
    if item.status != ClientStatus::Active {
        return Err(format!(
            "client {id} is not active: the function refuses every token of it (reactivate-client first)"
        ));
    }
    let Some(not_before) = item.tokens_not_before else {
        return Ok(SystemClock.now());
    };
    let wait = not_before.unix_seconds() + 1 - SystemClock.now().unix_seconds();
    if wait > MINT_WAITS_AT_MOST {
        return Err(format!(
            "client {id}'s tokens are refused up to {}: a token now would be refused too",
            epoch(Some(not_before))
        ));
    }
    while SystemClock.now().unix_seconds() <= not_before.unix_seconds() {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(SystemClock.now())
}
