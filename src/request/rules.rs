//! The rules of the fields whose checks are more than a type: `redirectUrl` and
//! `expiresAt`, and the wording shared by every message that states a limit or a choice.

use time::Duration;
use url::Url;

use crate::model::Timestamp;

pub const MAX_REDIRECT_URL_CHARS: usize = 2048;
pub const MIN_EXPIRY_SECONDS: i64 = 60;
pub const MAX_EXPIRY_SECONDS: i64 = 3600;
/// The hosts an `http://` redirect may name, as they must be written.
pub const LOOPBACK_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "[::1]"];

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

pub fn check_redirect_url(s: &str) -> Result<(), String> {
    const RULE: &str = "must be an absolute https:// URL (http:// only for localhost)";
    if s.chars().count() > MAX_REDIRECT_URL_CHARS {
        return Err(format!("must be at most {MAX_REDIRECT_URL_CHARS} characters"));
    }
    // The URL parser forgives what browsers forgive (surrounding spaces, backslashes for
    // slashes, `https:host` without `//`, `127.1` for `127.0.0.1`); a redirect target is
    // checked as written instead.
    if s.chars().any(|c| c.is_whitespace() || c.is_control() || c == '\\') {
        return Err(RULE.to_owned());
    }
    let lower = s.get(..8).map(str::to_ascii_lowercase).unwrap_or_default();
    let (https, rest) = if lower.starts_with("https://") {
        (true, &s[8..])
    } else if lower.starts_with("http://") {
        (false, &s[7..])
    } else {
        return Err(RULE.to_owned());
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err("must not carry credentials".to_owned());
    }
    let url = Url::parse(s).map_err(|_| RULE.to_owned())?;
    if url.host_str().is_none_or(str::is_empty) {
        return Err(RULE.to_owned());
    }
    if https {
        return Ok(());
    }
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().map(|h| format!("[{h}]")).unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default().to_owned(),
    };
    if LOOPBACK_HOSTS.iter().any(|h| h.eq_ignore_ascii_case(&host)) {
        Ok(())
    } else {
        Err(RULE.to_owned())
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
    fn redirect_url_rules() {
        for ok in [
            "https://a.example/x",
            "http://localhost:3000/cb",
            "http://127.0.0.1/cb",
            "http://[::1]:8080/",
            "HTTPS://A.example/Path?q=1#frag",
            "http://LOCALHOST/",
        ] {
            assert_eq!(check_redirect_url(ok), Ok(()), "{ok}");
        }
        for bad in [
            "http://example.com",
            "ftp://x.example",
            "/relative",
            "https://",
            " https://a.example",
            "https://u:p@a.example",
            "javascript:alert(1)",
            "http://127.0.0.2/",
            "https:example.com",
            "https:\\\\evil.example",
            "https://a.example\\@b.example",
            "http://127.1/",
            "http://0x7f.0.0.1/",
            "http://localhost.evil.example/",
            "http://[::2]/",
            "http://user@localhost/",
        ] {
            assert!(check_redirect_url(bad).is_err(), "{bad}");
        }
        let long = format!("https://a.example/{}", "x".repeat(2048));
        assert_eq!(check_redirect_url(&long), Err("must be at most 2048 characters".into()));
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
