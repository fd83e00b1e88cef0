//! How one setting is read: numbers in a range, URLs, endpoints, keys.

use std::ops::RangeInclusive;

use url::Url;

use super::ConfigError;

/// Keys shorter than this are refused (HS256 wants at least the hash's size).
pub const MIN_SECRET_BYTES: usize = 32;

pub fn problem(variable: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        problem: problem.into(),
    }
}

/// A whole number of seconds in `range`, when set.
pub fn seconds<T>(
    variable: &'static str,
    value: Option<String>,
    range: RangeInclusive<T>,
) -> Result<Option<T>, ConfigError>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display,
{
    let Some(v) = value else { return Ok(None) };
    let n = v.trim().parse::<T>().ok().filter(|n| range.contains(n));
    n.map(Some).ok_or_else(|| {
        problem(
            variable,
            format!(
                "must be a whole number of seconds from {} to {}",
                range.start(),
                range.end()
            ),
        )
    })
}

/// An `http(s)` URL with a host (a local endpoint).
pub fn endpoint(variable: &'static str, value: Option<String>) -> Result<Option<String>, ConfigError> {
    let Some(v) = value else { return Ok(None) };
    let ok = Url::parse(&v)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host());
    match ok {
        Some(_) => Ok(Some(v)),
        None => Err(problem(variable, "must be an http(s) URL")),
    }
}

pub fn base_url(value: &str) -> Result<String, ConfigError> {
    let ok = Url::parse(value).ok().filter(|u| {
        matches!(u.scheme(), "http" | "https") && u.has_host() && u.query().is_none() && u.fragment().is_none()
    });
    match ok {
        Some(_) => Ok(value.trim_end_matches('/').to_owned()),
        None => Err(problem(
            "APP_BASE_URL",
            "must be an absolute http(s) URL without query or fragment",
        )),
    }
}
