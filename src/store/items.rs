//! Records ↔ DynamoDB items (native types, CONTRACT §5), and how SDK errors are told apart.

use std::collections::HashMap;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::StoreError;
use super::keys::Key;
use crate::model::Timestamp;

pub type Item = HashMap<String, AttributeValue>;

/// The key's attributes alone (reads).
pub fn key_item(key: Key) -> Item {
    HashMap::from([
        ("pk".to_owned(), AttributeValue::S(key.pk)),
        ("sk".to_owned(), AttributeValue::S(key.sk)),
    ])
}

/// A record as an item under `key`.
pub fn item_of<T: Serialize>(value: &T, key: Key) -> Result<Item, StoreError> {
    let mut item: Item = serde_dynamo::to_item(value).map_err(|e| StoreError::Internal(format!("serialise: {e}")))?;
    item.extend(key_item(key));
    Ok(item)
}

/// `ttl` (epoch seconds): DynamoDB deletes the item some time after it.
pub fn with_ttl(mut item: Item, expires_at: Timestamp) -> Item {
    item.insert(
        "ttl".to_owned(),
        AttributeValue::N(expires_at.unix_seconds().to_string()),
    );
    item
}

pub fn from_item<T: DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    serde_dynamo::from_item(item).map_err(|e| StoreError::Internal(format!("unreadable item: {e}")))
}

pub fn internal(e: impl std::fmt::Display) -> StoreError {
    StoreError::Internal(e.to_string())
}

/// Throttling, 5xx answers, timeouts and broken connections are worth retrying later
/// (503); anything else is ours to fix (500).
pub fn classify<E: ProvideErrorMetadata + std::fmt::Debug>(err: &SdkError<E>) -> StoreError {
    const TRANSIENT: [&str; 6] = [
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "TransactionInProgressException",
    ];
    match err {
        SdkError::TimeoutError(_) => StoreError::Unavailable("timed out".to_owned()),
        SdkError::DispatchFailure(e) => StoreError::Unavailable(format!("dispatch failure: {e:?}")),
        SdkError::ResponseError(_) => StoreError::Unavailable("unreadable response".to_owned()),
        SdkError::ServiceError(se) => {
            let code = se.err().code().unwrap_or("unknown");
            if TRANSIENT.contains(&code) || se.raw().status().as_u16() >= 500 {
                StoreError::Unavailable(code.to_owned())
            } else {
                StoreError::Internal(code.to_owned())
            }
        }
        other => StoreError::Internal(format!("{other:?}")),
    }
}
