//! The clients' items (CONTRACT §2, §5), for the admin CLI: a revocation holds. Every
//! operation leaves `tokensNotBefore` where it is or moves it forward; none lowers or
//! removes it, and none replaces an existing item unless told to.

use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};

use super::items::{Item, classify, from_item, item_of};
use super::{Admin, StoreError, keys};
use crate::model::{Client, ClientId, ClientStatus, Timestamp};

/// What `put_client` did.
#[derive(Debug, PartialEq)]
pub enum PutClient {
    Created,
    /// An item exists and was left as it is: replacing it would drop these attributes
    /// (`tokensNotBefore` never: a replacement keeps it).
    Exists {
        existing: Client,
        would_drop: Vec<String>,
    },
    Replaced {
        kept_tokens_not_before: Option<Timestamp>,
    },
}

/// What `revoke_client_tokens` did.
#[derive(Debug, PartialEq)]
pub enum Revoked {
    /// `tokensNotBefore` is now the given instant.
    Now(Timestamp),
    /// It already was at or after it: left as it is.
    Already(Timestamp),
}

/// The attributes of a client's item that this service writes; any other is someone else's.
const OURS: [&str; 5] = ["pk", "sk", "_id", "status", "tokensNotBefore"];

fn status_value(status: ClientStatus) -> AttributeValue {
    AttributeValue::S(
        match status {
            ClientStatus::Active => "active",
            ClientStatus::Suspended => "suspended",
            ClientStatus::Unknown => "unknown",
        }
        .to_owned(),
    )
}

impl Admin {
    pub async fn client_item(&self, id: ClientId) -> Result<Option<Client>, StoreError> {
        self.store.get(keys::client(id)).await
    }

    /// Creates a client's item. An existing item is replaced only with `replace`, and
    /// then keeps its `tokensNotBefore` (the client given has none of its own to set).
    pub async fn put_client(&self, client: &Client, replace: bool) -> Result<PutClient, StoreError> {
        let item = item_of(client, keys::client(client.id))?;
        let created = self
            .client()
            .put_item()
            .table_name(self.table())
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let existing: Item = match created {
            Ok(_) => return Ok(PutClient::Created),
            Err(e) => match e.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(failed)) => {
                    failed.item().cloned().unwrap_or_default()
                }
                _ => return Err(classify(e)),
            },
        };
        if !replace {
            let mut would_drop: Vec<String> = existing
                .keys()
                .filter(|k| !OURS.contains(&k.as_str()))
                .cloned()
                .collect();
            would_drop.sort();
            let existing = from_item(existing)?;
            return Ok(PutClient::Exists { existing, would_drop });
        }
        self.replace_client(client, existing).await
    }

    /// Replaces the item, keeping the `tokensNotBefore` it had, on the condition that
    /// nobody moved it meanwhile (else the replacement is tried again on what is there).
    async fn replace_client(&self, client: &Client, mut existing: Item) -> Result<PutClient, StoreError> {
        for _ in 0..3 {
            let kept = existing.get("tokensNotBefore").cloned();
            let mut item = item_of(client, keys::client(client.id))?;
            let mut put = self.client().put_item().table_name(self.table());
            match &kept {
                Some(seen) => {
                    item.insert("tokensNotBefore".to_owned(), seen.clone());
                    put = put
                        .condition_expression("tokensNotBefore = :seen")
                        .expression_attribute_values(":seen", seen.clone());
                }
                None => put = put.condition_expression("attribute_not_exists(tokensNotBefore)"),
            }
            let replaced = put
                .set_item(Some(item))
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
                .send()
                .await;
            match replaced {
                Ok(_) => {
                    let kept = kept
                        .and_then(|v| v.as_n().ok()?.parse::<i64>().ok())
                        .and_then(Timestamp::from_unix_seconds);
                    return Ok(PutClient::Replaced {
                        kept_tokens_not_before: kept,
                    });
                }
                Err(e) => match e.as_service_error() {
                    Some(PutItemError::ConditionalCheckFailedException(failed)) => {
                        existing = failed.item().cloned().unwrap_or_default();
                    }
                    _ => return Err(classify(e)),
                },
            }
        }
        Err(StoreError::unavailable(
            "the client's item kept changing while it was replaced",
        ))
    }

    /// Suspends a client (its item is created if it had none); its revocation stays.
    pub async fn suspend_client(&self, id: ClientId) -> Result<(), StoreError> {
        self.set_status(id, ClientStatus::Suspended).await
    }

    /// Lifts a suspension: `status` alone becomes `active`; its revocation stays.
    pub async fn reactivate_client(&self, id: ClientId) -> Result<(), StoreError> {
        self.set_status(id, ClientStatus::Active).await
    }

    async fn set_status(&self, id: ClientId, status: ClientStatus) -> Result<(), StoreError> {
        let key = keys::client(id);
        self.client()
            .update_item()
            .table_name(self.table())
            .key("pk", AttributeValue::S(key.pk))
            .key("sk", AttributeValue::S(key.sk))
            .update_expression("SET #id = :id, #status = :status")
            .expression_attribute_names("#id", "_id")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":id", AttributeValue::S(id.to_string()))
            .expression_attribute_values(":status", status_value(status))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// Refuses every token of the client issued at or before `now` (whole seconds): moves
    /// `tokensNotBefore` forward to `now`, never back. The status is left as it is
    /// (active when it had no item).
    pub async fn revoke_client_tokens(&self, id: ClientId, now: Timestamp) -> Result<Revoked, StoreError> {
        let key = keys::client(id);
        let seconds = now.unix_seconds();
        let revoked = self
            .client()
            .update_item()
            .table_name(self.table())
            .key("pk", AttributeValue::S(key.pk))
            .key("sk", AttributeValue::S(key.sk))
            .update_expression("SET #id = :id, #status = if_not_exists(#status, :active), tokensNotBefore = :now")
            .condition_expression("attribute_not_exists(tokensNotBefore) OR tokensNotBefore < :now")
            .expression_attribute_names("#id", "_id")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":id", AttributeValue::S(id.to_string()))
            .expression_attribute_values(":active", status_value(ClientStatus::Active))
            .expression_attribute_values(":now", AttributeValue::N(seconds.to_string()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match revoked {
            Ok(_) => Ok(Revoked::Now(now.whole_seconds())),
            Err(e) => match e.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(failed)) => {
                    let held: Client = from_item(failed.item().cloned().unwrap_or_default())?;
                    let at = held
                        .tokens_not_before
                        .ok_or_else(|| StoreError::internal("a failed revocation without tokensNotBefore"))?;
                    Ok(Revoked::Already(at))
                }
                _ => Err(classify(e)),
            },
        }
    }
}
