//! Where a validation may send its user back (CONTRACT §3, §5): a project's
//! `redirectOrigins` against the `redirectUrl` used, the request's else the flow's.
//! Stored values are held to the request's rules (`request::redirect`) when read, so a
//! value written by another tool is judged, and answered, as the admin CLI writes it.

use url::{Origin, Url};

use crate::error::ApiError;
use crate::request::redirect::{redirect_origin, redirect_url};

/// A project's stored origins; `None` when one breaks the origin rule.
pub fn stored_origins(stored: &[String]) -> Option<Vec<Origin>> {
    stored.iter().map(|o| redirect_origin(o).ok()).collect()
}

/// A flow's stored URL, parsed (its `as_str()` is the serialization); `Err` when it
/// breaks the field rule.
pub fn stored_url(stored: Option<&str>) -> Result<Option<Url>, String> {
    stored.map(redirect_url).transpose()
}

/// The URL used (the request's, else the flow's) must have one of `origins`. No
/// origins, or no URL at all: nothing to check.
pub fn check_origin(origins: &[Origin], sent: Option<&str>, flow: Option<&Url>) -> Result<(), ApiError> {
    if origins.is_empty() {
        return Ok(());
    }
    // The request's URL passed its field rule, so it parses; were it not to, refuse.
    let used = match sent {
        Some(sent) => Some(redirect_url(sent).map_err(|_| ApiError::RedirectOriginNotAllowed)?),
        None => flow.cloned(),
    };
    match used {
        Some(url) if !origins.contains(&url.origin()) => Err(ApiError::RedirectOriginNotAllowed),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origins(list: &[&str]) -> Vec<Origin> {
        stored_origins(&list.iter().map(|o| (*o).to_owned()).collect::<Vec<_>>()).unwrap()
    }

    fn url(s: &str) -> Url {
        redirect_url(s).unwrap()
    }

    #[test]
    fn the_url_used_must_have_one_of_the_origins() {
        let allowed = origins(&["https://app.example", "http://localhost:3000"]);
        let denied = Err(ApiError::RedirectOriginNotAllowed);
        for sent in [
            "https://app.example/cb?x=1",
            "https://APP.example:443/",
            "http://localhost:3000/",
        ] {
            assert_eq!(check_origin(&allowed, Some(sent), None), Ok(()), "{sent}");
            assert_eq!(check_origin(&allowed, None, Some(&url(sent))), Ok(()), "{sent}");
        }
        for elsewhere in [
            "https://evil.example/cb",
            "https://app.example:8443/cb",
            "http://localhost/cb",
            "https://sub.app.example/",
            "http://localhost:3001/",
        ] {
            assert_eq!(check_origin(&allowed, Some(elsewhere), None), denied, "{elsewhere}");
            assert_eq!(
                check_origin(&allowed, None, Some(&url(elsewhere))),
                denied,
                "{elsewhere}"
            );
            // The request's URL overrides the flow's.
            let flow = url(elsewhere);
            assert_eq!(
                check_origin(&allowed, Some("https://app.example/"), Some(&flow)),
                Ok(())
            );
            let flow = url("https://app.example/");
            assert_eq!(check_origin(&allowed, Some(elsewhere), Some(&flow)), denied);
            // No origins: any allowed URL.
            assert_eq!(check_origin(&[], Some(elsewhere), Some(&flow)), Ok(()));
        }
        // No URL at all: nothing to check.
        assert_eq!(check_origin(&allowed, None, None), Ok(()));
    }

    #[test]
    fn stored_values_are_held_to_the_rules() {
        assert_eq!(
            stored_origins(&["HTTPS://App.Example:443".into()]),
            Some(vec![url("https://app.example/").origin()])
        );
        for bad in ["https://app.example/", "app.example", "", "http://evil.example"] {
            assert_eq!(
                stored_origins(&["https://ok.example".into(), bad.into()]),
                None,
                "{bad}"
            );
        }
        let kept = stored_url(Some("HTTPS://Flow.Example:443")).unwrap().unwrap();
        assert_eq!(kept.as_str(), "https://flow.example/");
        assert_eq!(stored_url(None), Ok(None));
        for bad in [
            "http://evil.example/",
            "https:///evil.example",
            "javascript:alert(1)",
            "",
        ] {
            assert!(stored_url(Some(bad)).is_err(), "{bad}");
        }
    }
}
