//! The caller's own rules (CONTRACT §2, §5): a suspended client or a revoked token is
//! refused with the same 401 as a bad token, checked with the project and the flow.

use crate::error::ApiError;
use crate::model::{Caller, Client, ClientStatus};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ObjectId;

    fn id(s: &str) -> ObjectId {
        ObjectId::parse(s).unwrap()
    }
    const CLIENT: &str = "613375a1eab2fe08527f81e2";

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
}
