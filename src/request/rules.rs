//! The rules of the fields whose checks are more than a type (`expiresAt` here,
//! `redirectUrl` in `redirect`), and the wording shared by every message that states a
//! limit or a choice.

use time::Duration;

use crate::model::Timestamp;

pub const MIN_EXPIRY_SECONDS: i64 = 60;
pub const MAX_EXPIRY_SECONDS: i64 = 3600;

/// `must be one of: [a,b]`, from the list that defines the choice.
pub fn one_of<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    format!("must be one of: [{}]", names.into_iter().collect::<Vec<_>>().join(","))
}

/// A number of seconds in words: whole hours as hours, anything else as seconds.
pub fn duration_words(seconds: i64) -> String {
    match seconds {
        3600 => "1 hour".to_owned(),
        s if s % 3600 == 0 => format!("{} hours", s / 3600),
        1 => "1 second".to_owned(),
        s => format!("{s} seconds"),
    }
}

pub fn check_expires_at(s: &str, now: Timestamp) -> Result<Timestamp, String> {
    let sent = Timestamp::parse_exact(s).ok_or("must be an ISO-8601 date-time such as 2024-09-12T17:30:26Z")?;
    let now = now.datetime();
    let earliest = now + Duration::seconds(MIN_EXPIRY_SECONDS);
    let latest = now + Duration::seconds(MAX_EXPIRY_SECONDS);
    if sent < earliest || sent > latest {
        return Err(format!(
            "must be between {} and {} from now",
            duration_words(MIN_EXPIRY_SECONDS),
            duration_words(MAX_EXPIRY_SECONDS)
        ));
    }
    Ok(Timestamp::from_datetime(sent).whole_seconds())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        Timestamp::parse("2024-09-12T17:26:26.954Z").unwrap()
    }

    #[test]
    fn expires_at_bounds_are_inclusive_and_checked_as_sent() {
        let at = |s: &str| check_expires_at(s, now());
        assert_eq!(
            at("2024-09-12T17:27:26.954Z").unwrap().to_string(),
            "2024-09-12T17:27:26.000Z"
        );
        assert!(at("2024-09-12T17:27:26.953Z").is_err());
        assert_eq!(
            at("2024-09-12T18:26:26.954Z").unwrap().to_string(),
            "2024-09-12T18:26:26.000Z"
        );
        assert!(at("2024-09-12T18:26:26.955Z").is_err());
        assert_eq!(
            at("2024-09-12T19:00:00+01:00").unwrap().to_string(),
            "2024-09-12T18:00:00.000Z"
        );
        assert!(at("2024-09-12").is_err());
    }

    #[test]
    fn words_for_limits() {
        assert_eq!(one_of(["en", "es"]), "must be one of: [en,es]");
        assert_eq!(duration_words(60), "60 seconds");
        assert_eq!(duration_words(3600), "1 hour");
        assert_eq!(duration_words(7200), "2 hours");
        assert_eq!(duration_words(1), "1 second");
    }
}
