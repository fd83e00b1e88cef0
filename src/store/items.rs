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
    let mut item: Item = serde_dynamo::to_item(value).map_err(|e| StoreError::Internal {
        what: "cannot write an item".to_owned(),
        source: Some(Box::new(e)),
    })?;
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
    serde_dynamo::from_item(item).map_err(|e| StoreError::Internal {
        what: "unreadable item".to_owned(),
        source: Some(Box::new(e)),
    })
}

/// A request the SDK's builders refuse (a bug of ours).
pub fn internal(e: aws_sdk_dynamodb::error::BuildError) -> StoreError {
    StoreError::Internal {
        what: "cannot build the request".to_owned(),
        source: Some(Box::new(e)),
    }
}

/// Throttling, 5xx answers, timeouts and broken connections are worth retrying later
/// (503); anything else is ours to fix (500).
pub fn classify<E>(err: SdkError<E>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    const TRANSIENT: [&str; 6] = [
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "TransactionInProgressException",
    ];
    let (transient, what) = match &err {
        SdkError::TimeoutError(_) => (true, "timed out".to_owned()),
        SdkError::DispatchFailure(_) => (true, "dispatch failure".to_owned()),
        SdkError::ResponseError(_) => (true, "unreadable response".to_owned()),
        SdkError::ServiceError(se) => {
            let code = se.err().code().unwrap_or("unknown");
            (
                TRANSIENT.contains(&code) || se.raw().status().as_u16() >= 500,
                code.to_owned(),
            )
        }
        _ => (false, "request not sent".to_owned()),
    };
    let source = Some(Box::new(err) as super::Source);
    if transient {
        StoreError::Unavailable { what, source }
    } else {
        StoreError::Internal { what, source }
    }
}
