//! The request path's one write: the session, the validation and the idempotency record
//! in one `TransactWriteItems`, and what a cancellation means, item by item.

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, CancellationReason, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};

use super::items::{Item, classify, from_item, internal, item_of, with_ttl};
use super::{CreateError, Store, StoreError, keys, timed};
use crate::idempotency::Claim;
use crate::model::{Pair, Timestamp};

/// The items of the create transaction, by name: cancellation reasons come back in
/// the order the items were sent, and are read through these names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Written {
    Session,
    Validation,
    Idempotency,
}

impl Store {
    /// Writes the session, the validation and the idempotency record (when given) in one
    /// transaction: all or nothing, never over an existing item.
    pub async fn create(&self, pair: &Pair, claim: Option<&Claim<'_>>, now: Timestamp) -> Result<(), CreateError> {
        let Pair { session, validation } = pair;
        let expires_at = session.expires_at;
        let session_item = with_ttl(item_of(session, keys::session(session.id))?, expires_at);
        let mut validation_item = with_ttl(item_of(validation, keys::validation(validation.id))?, expires_at);
        validation_item.insert("identifier".to_owned(), AttributeValue::S(session.identifier.clone()));
        let mut written = vec![
            (Written::Session, self.put_new(session_item)?),
            (Written::Validation, self.put_new(validation_item)?),
        ];
        if let Some(Claim { id, record }) = claim {
            let item = with_ttl(
                item_of(record, keys::idempotency(id.client, id.key))?,
                record.expires_at,
            );
            written.push((Written::Idempotency, self.put_claim(item, now)?));
        }
        let names: Vec<Written> = written.iter().map(|(name, _)| *name).collect();
        let items = written
            .into_iter()
            .map(|(_, put)| TransactWriteItem::builder().put(put).build())
            .collect();
        let result = timed(
            self.client
                .transact_write_items()
                .set_transact_items(Some(items))
                .send(),
        )
        .await;
        let Err(err) = result else { return Ok(()) };
        if let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) = err.as_service_error() {
            return cancelled_because(&names, cancelled.cancellation_reasons());
        }
        Err(classify(err).into())
    }

    /// A put that never replaces an item.
    fn put_new(&self, item: Item) -> Result<Put, StoreError> {
        Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(internal)
    }

    /// The idempotency record's put: replaces only a record that has expired (DynamoDB
    /// deletes late), and returns the holder's record when the key is taken.
    fn put_claim(&self, item: Item, now: Timestamp) -> Result<Put, StoreError> {
        Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk) OR #ttl <= :now")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":now", AttributeValue::N(now.unix_seconds().to_string()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(internal)
    }
}

/// What a cancelled transaction says, item by item (reasons come in the order sent).
fn cancelled_because(names: &[Written], reasons: &[CancellationReason]) -> Result<(), CreateError> {
    let reason = |name: Written| names.iter().zip(reasons).find_map(|(n, r)| (*n == name).then_some(r));
    let failed = |name: Written| reason(name).and_then(|r| r.code()) == Some("ConditionalCheckFailed");
    if failed(Written::Idempotency) {
        let holder = reason(Written::Idempotency)
            .and_then(|r| r.item())
            .map(|item| from_item(item.clone()))
            .transpose()?;
        return Err(CreateError::IdempotencyKeyTaken(holder.map(Box::new)));
    }
    if failed(Written::Session) || failed(Written::Validation) {
        return Err(CreateError::ItemExists);
    }
    if reasons.iter().any(|r| r.code() == Some("TransactionConflict")) {
        return Err(CreateError::Conflict);
    }
    if reasons
        .iter()
        .any(|r| matches!(r.code(), Some("ThrottlingError" | "ProvisionedThroughputExceeded")))
    {
        return Err(StoreError::unavailable("transaction throttled").into());
    }
    Err(StoreError::internal(format!(
        "transaction cancelled: {:?}",
        reasons.iter().map(|r| r.code()).collect::<Vec<_>>()
    ))
    .into())
}
