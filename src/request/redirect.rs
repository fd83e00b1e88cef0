//! `redirectUrl` (CONTRACT §1) and a project's `redirectOrigins` (§5).
//!
//! A URL parser forgives what browsers forgive (surrounding spaces, backslashes for
//! slashes, `https:host` without `//`, `127.1` or `0x7f.1` for `127.0.0.1`, IDNA
//! mapping of non-ASCII and percent-encoded hosts), so a redirect target is checked as
//! written first. What passes is kept in its WHATWG URL serialization (`Url::as_str`),
//! so the hosted page and every other reader parse the same URL.

use url::{Origin, Url};

pub const MAX_REDIRECT_URL_CHARS: usize = 2048;
/// The hosts an `http://` redirect may name, as they must be written.
pub const LOOPBACK_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", IPV6_LOOPBACK];
/// The one IPv6 literal a host may be, as written.
const IPV6_LOOPBACK: &str = "[::1]";
/// DNS limits: a label of at most 63 octets, a name of at most 253.
const MAX_LABEL: usize = 63;
const MAX_NAME: usize = 253;

/// `must be an absolute https:// URL (http:// only for localhost, 127.0.0.1, [::1])`.
fn rule() -> String {
    format!(
        "must be an absolute https:// URL (http:// only for {})",
        LOOPBACK_HOSTS.join(", ")
    )
}

fn host_rule() -> String {
    format!("host must be an ASCII DNS name, a dotted-quad IPv4 address or {IPV6_LOOPBACK}")
}

fn origin_rule() -> String {
    "must be an origin: scheme, host and optional port, with no path, query or fragment".to_owned()
}

/// An absolute http(s) URL split as written.
struct Written<'a> {
    https: bool,
    host: &'a str,
    /// What follows the authority: path, query and fragment as sent.
    rest: &'a str,
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &s[prefix.len()..])
}

fn written(s: &str) -> Result<Written<'_>, String> {
    if s.chars().count() > MAX_REDIRECT_URL_CHARS {
        return Err(format!("must be at most {MAX_REDIRECT_URL_CHARS} characters"));
    }
    if s.chars().any(|c| c.is_whitespace() || c.is_control() || c == '\\') {
        return Err(rule());
    }
    let (https, after_scheme) = match strip_prefix_ignore_case(s, "https://") {
        Some(rest) => (true, rest),
        None => (false, strip_prefix_ignore_case(s, "http://").ok_or_else(rule)?),
    };
    let end = after_scheme.find(['/', '?', '#']).unwrap_or(after_scheme.len());
    let (authority, rest) = after_scheme.split_at(end);
    if authority.contains('@') {
        return Err("must not carry credentials".to_owned());
    }
    let (host, port) = match authority.find(']') {
        Some(close) if authority.starts_with('[') => {
            let (host, after) = authority.split_at(close + 1);
            match after.strip_prefix(':') {
                Some(port) => (host, Some(port)),
                None if after.is_empty() => (host, None),
                None => return Err(rule()),
            }
        }
        _ => match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    if port.is_some_and(|p| p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit())) {
        return Err(rule());
    }
    if !(host == IPV6_LOOPBACK || is_dotted_quad(host) || is_dns_name(host)) {
        return Err(host_rule());
    }
    Ok(Written { https, host, rest })
}

/// Four decimal parts of 0..=255 with no leading zeros (the URL parser reads `010` as
/// octal and `0x7f` as hex).
fn is_dotted_quad(host: &str) -> bool {
    let parts: Vec<&str> = host.split('.').collect();
    parts.len() == 4
        && parts.iter().all(|p| {
            (1..=3).contains(&p.len())
                && p.bytes().all(|b| b.is_ascii_digit())
                && (p.len() == 1 || !p.starts_with('0'))
                && p.parse::<u8>().is_ok()
        })
}

/// Labels of ASCII letters, digits, `-` and `_`, the last starting with a letter (a
/// name ending in a number is read as an IPv4 address by the URL parser).
fn is_dns_name(host: &str) -> bool {
    let labels: Vec<&str> = host.split('.').collect();
    let last_starts_with_letter = labels
        .last()
        .and_then(|l| l.chars().next())
        .is_some_and(|c| c.is_ascii_alphabetic());
    host.len() <= MAX_NAME
        && last_starts_with_letter
        && labels.iter().all(|l| {
            (1..=MAX_LABEL).contains(&l.len()) && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// Checks a `redirectUrl` as written and parses it. The answer's `as_str()` is the
/// form to store and answer. An `Err` is the message after the field's name.
pub fn redirect_url(s: &str) -> Result<Url, String> {
    let w = written(s)?;
    if !w.https && !LOOPBACK_HOSTS.iter().any(|h| h.eq_ignore_ascii_case(w.host)) {
        return Err(rule());
    }
    let url = Url::parse(s).map_err(|_| rule())?;
    // The parser must have read the host that was written (only lower-cased).
    let same_host = url.host_str().is_some_and(|h| h.eq_ignore_ascii_case(w.host));
    if !same_host || !url.username().is_empty() || url.password().is_some() {
        return Err(rule());
    }
    Ok(url)
}

/// Checks an entry of a project's `redirectOrigins`: `https://host[:port]` (or `http://`
/// for the loopback hosts) under the same host rule, nothing after the authority.
pub fn redirect_origin(s: &str) -> Result<Origin, String> {
    if !written(s)?.rest.is_empty() {
        return Err(origin_rule());
    }
    Ok(redirect_url(s)?.origin())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(s: &str) -> Result<String, String> {
        redirect_url(s).map(String::from)
    }

    fn normal(s: &str) -> String {
        redirect_url(s)
            .unwrap_or_else(|e| panic!("{s}: {e}"))
            .as_str()
            .to_owned()
    }

    #[test]
    fn accepted_urls_are_kept_in_their_whatwg_serialization() {
        for (sent, kept) in [
            ("https://a.example/x", "https://a.example/x"),
            ("HTTPS://A.Example/Path?Q=1#Frag", "https://a.example/Path?Q=1#Frag"),
            ("https://a.example", "https://a.example/"),
            ("https://a.example?x=1", "https://a.example/?x=1"),
            ("https://a.example:443/x", "https://a.example/x"),
            ("https://a.example:8443/x", "https://a.example:8443/x"),
            ("http://localhost:80/cb", "http://localhost/cb"),
            ("http://LOCALHOST:3000/cb", "http://localhost:3000/cb"),
            ("http://127.0.0.1/cb", "http://127.0.0.1/cb"),
            ("http://[::1]:8080/", "http://[::1]:8080/"),
            ("https://[::1]/", "https://[::1]/"),
            ("https://10.0.0.1/", "https://10.0.0.1/"),
            ("https://a_b.example-1.com/", "https://a_b.example-1.com/"),
            ("https://xn--mnchen-3ya.de/", "https://xn--mnchen-3ya.de/"),
            (
                "https://a.example/caf\u{e9}?q=\u{e9}#\u{e9}",
                "https://a.example/caf%C3%A9?q=%C3%A9#%C3%A9",
            ),
            ("https://a.example/a/../b/./c", "https://a.example/b/c"),
            ("https://a.example/<x>", "https://a.example/%3Cx%3E"),
        ] {
            assert_eq!(normal(sent), kept, "{sent}");
            assert_eq!(normal(kept), kept, "serialization is stable: {kept}");
        }
    }

    #[test]
    fn refused_urls_say_why() {
        let general = Err(rule());
        assert_eq!(
            rule(),
            "must be an absolute https:// URL (http:// only for localhost, 127.0.0.1, [::1])"
        );
        for bad in [
            "",
            "/relative",
            "ftp://x.example",
            "javascript:alert(1)",
            "https:example.com",
            "https:/example.com",
            "https:\\\\evil.example",
            "https://a.example\\@b.example",
            " https://a.example",
            "https://a.example/\t",
            "https://a.example/x y",
            "https://a.example/\u{0}",
            "https://a.example/\u{85}",
            "http://example.com",
            "http://127.0.0.2/",
            "http://localhost.evil.example/",
            "https://a.example:/",
            "https://a.example:x/",
            "https://a.example:123456/",
            "https://a.example:99999/",
            "https://[::1]x/",
            "https://xn--zz/",
        ] {
            assert_eq!(verdict(bad), general, "{bad:?}");
        }
        for bad in [
            "https:///evil.example",
            "https://",
            "https://:443/",
            "https://%65vil.example/",
            "https://ex\u{e4}mple.com/",
            "https://\u{ff41}.example/",
            "https://evil.example\u{3002}com/",
            "https://a..example/",
            "https://a.example./",
            "https://.a.example/",
            "https://a.123/",
            "https://1.2.3/",
            "https://127.1/",
            "http://127.1/",
            "http://0x7f.0.0.1/",
            "https://010.0.0.1/",
            "https://256.0.0.1/",
            "https://1.2.3.4.5/",
            "https://[::2]/",
            "https://[0:0:0:0:0:0:0:1]/",
            "https://[2001:db8::1]/",
            "https://a!b.example/",
            "https://*.example/",
        ] {
            assert_eq!(verdict(bad), Err(host_rule()), "{bad:?}");
        }
        // A label of 64 characters; a name of 257.
        assert_eq!(
            verdict(&format!("https://{}.example/", "a".repeat(64))),
            Err(host_rule())
        );
        assert_eq!(
            verdict(&format!("https://{}example/", "a.".repeat(125))),
            Err(host_rule())
        );
        for bad in [
            "https://u:p@a.example",
            "https://u@a.example/",
            "https://@a.example/",
            "http://user@localhost/",
            "https://a.example@b.example/",
        ] {
            assert_eq!(verdict(bad), Err("must not carry credentials".into()), "{bad}");
        }
    }

    #[test]
    fn length_is_counted_as_sent() {
        let at = |n: usize| format!("https://a.example/{}", "\u{e9}".repeat(n - "https://a.example/".len()));
        let longest = normal(&at(2048));
        assert!(longest.len() > 2048, "the stored form may be longer than the sent one");
        assert_eq!(verdict(&at(2049)), Err("must be at most 2048 characters".into()));
    }

    #[test]
    fn origins() {
        let origin = |s: &str| redirect_origin(s).map(|o| o.ascii_serialization());
        assert_eq!(origin("https://App.Example.com"), Ok("https://app.example.com".into()));
        assert_eq!(origin("https://a.example:443"), Ok("https://a.example".into()));
        assert_eq!(origin("https://a.example:8443"), Ok("https://a.example:8443".into()));
        assert_eq!(origin("http://localhost:3000"), Ok("http://localhost:3000".into()));
        assert_eq!(origin("http://[::1]"), Ok("http://[::1]".into()));
        for bad in [
            "https://a.example/",
            "https://a.example/x",
            "https://a.example?x",
            "https://a.example#x",
        ] {
            assert_eq!(origin(bad), Err(origin_rule()), "{bad}");
        }
        assert_eq!(origin("http://a.example"), Err(rule()));
        assert_eq!(origin("https://u@a.example"), Err("must not carry credentials".into()));
        assert_eq!(origin("https://%61.example"), Err(host_rule()));
        // The origin of a URL is compared with the origins a project allows.
        let url = redirect_url("https://A.example:443/cb?x=1").unwrap();
        assert_eq!(Ok(url.origin()), redirect_origin("https://a.example"));
        assert_ne!(Ok(url.origin()), redirect_origin("https://a.example:8443"));
        assert_ne!(Ok(url.origin()), redirect_origin("https://b.a.example"));
    }
}
