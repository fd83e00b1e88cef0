//! The caller's own rules (CONTRACT §2, §5): a suspended client or a revoked token is
//! refused with the same 401 as a bad token, checked with the project and the flow.

use crate::error::ApiError;
use crate::model::{Caller, Client, ClientStatus};

/// The caller's own item (CONTRACT §2): a suspended client, or a token issued at or
/// before the client's `tokensNotBefore` (or without `iat` while it is set), is refused
/// with the same 401 as a bad token. `iat` and `tokensNotBefore` are whole seconds: a
/// token minted in the revocation's own second, before it, is refused, and so is one
/// minted after it in that second (`mint-token` waits for the next second). No item: an
/// active client with nothing revoked.
pub fn check_client(caller: Caller, item: Option<&Client>) -> Result<(), ApiError> {
    let Some(item) = item else { return Ok(()) };
    let active = item.id == caller.client && item.status == ClientStatus::Active;
    let issued_after = match (item.tokens_not_before, caller.issued_at) {
        (None, _) => true,
        (Some(not_before), Some(iat)) => iat.unix_seconds() > not_before.unix_seconds(),
        (Some(_), None) => false,
    };
    if active && issued_after {
        Ok(())
    } else {
        Err(ApiError::InvalidToken)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ClientId, Timestamp};

    fn id(s: &str) -> ClientId {
        ClientId::parse(s).unwrap()
    }
    fn at(seconds: i64) -> Option<Timestamp> {
        Timestamp::from_unix_seconds(seconds)
    }
    const CLIENT: &str = "613375a1eab2fe08527f81e2";

    #[test]
    fn client_rules() {
        let caller = Caller {
            client: id(CLIENT),
            issued_at: at(1_000),
        };
        let item = |status, tokens_not_before| Client {
            id: id(CLIENT),
            status,
            tokens_not_before,
        };
        assert_eq!(check_client(caller, None), Ok(()));
        assert_eq!(check_client(caller, Some(&item(ClientStatus::Active, None))), Ok(()));
        assert_eq!(check_client(caller, Some(&item(ClientStatus::Active, at(999)))), Ok(()));
        let refused = Err(ApiError::InvalidToken);
        for bad in [
            item(ClientStatus::Suspended, None),
            item(ClientStatus::Unknown, None),
            // Issued in the revocation's own second: before it, or after it, it is refused.
            item(ClientStatus::Active, at(1_000)),
            item(ClientStatus::Active, at(1_001)),
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
        assert_eq!(check_client(no_iat, Some(&item(ClientStatus::Active, at(1)))), refused);
        assert_eq!(check_client(no_iat, Some(&item(ClientStatus::Active, None))), Ok(()));
    }
}
