//! The body's top level read as JSON: an object's entries in order, duplicates refused,
//! at most `MAX_KEYS` kept, and short reasons for syntax errors that never echo the body.
//! Linear in the body's size, whatever it holds.

use std::collections::HashSet;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

/// The most keys a body may have (CONTRACT §3): a body of more gets one short error,
/// before the field rules.
pub const MAX_KEYS: usize = 32;

/// The top level of a body: an object's entries in order (duplicates refused), an object
/// of more than `MAX_KEYS` keys, or "something else".
pub enum TopLevel {
    Object(Vec<(String, Value)>),
    TooManyKeys,
    NotObject,
}

impl<'de> Deserialize<'de> for TopLevel {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TopLevelVisitor)
    }
}

struct TopLevelVisitor;

impl<'de> Visitor<'de> for TopLevelVisitor {
    type Value = TopLevel;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TopLevel, A::Error> {
        let mut entries: Vec<(String, Value)> = Vec::new();
        // Every key is checked for duplicates (a JSON error comes before the key count),
        // each in constant time; the values past the limit are read and dropped.
        let mut seen: HashSet<String> = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                return Err(de::Error::custom(format_args!("duplicate key \"{}\"", printable(&key))));
            }
            if entries.len() < MAX_KEYS {
                let value = map.next_value::<Value>()?;
                entries.push((key, value));
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        if seen.len() > MAX_KEYS {
            return Ok(TopLevel::TooManyKeys);
        }
        Ok(TopLevel::Object(entries))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<TopLevel, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(TopLevel::NotObject)
    }

    fn visit_bool<E>(self, _: bool) -> Result<TopLevel, E> {
        Ok(TopLevel::NotObject)
    }
    fn visit_i64<E>(self, _: i64) -> Result<TopLevel, E> {
        Ok(TopLevel::NotObject)
    }
    fn visit_u64<E>(self, _: u64) -> Result<TopLevel, E> {
        Ok(TopLevel::NotObject)
    }
    fn visit_f64<E>(self, _: f64) -> Result<TopLevel, E> {
        Ok(TopLevel::NotObject)
    }
    fn visit_str<E>(self, _: &str) -> Result<TopLevel, E> {
        Ok(TopLevel::NotObject)
    }
    fn visit_unit<E>(self) -> Result<TopLevel, E> {
        Ok(TopLevel::NotObject)
    }
}

/// A short reason for a JSON syntax error, without echoing the body.
pub fn json_reason(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    match e.classify() {
        Category::Eof if e.line() == 1 && e.column() == 0 => "the body is empty".to_owned(),
        Category::Eof => "the body ends too early".to_owned(),
        Category::Io => "the body could not be read".to_owned(),
        Category::Syntax | Category::Data => {
            let text = e.to_string();
            // serde_json ends its messages with " at line L column C"; keep the cause.
            let cause = text.split(" at line ").next().unwrap_or("syntax error");
            format!("{cause} at line {} column {}", e.line(), e.column())
        }
    }
}

/// Keys are echoed in messages: keep them short and free of control characters.
pub fn printable(key: &str) -> String {
    let mut s: String = key
        .chars()
        .take(64)
        .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
        .collect();
    if key.chars().count() > 64 {
        s.push('…');
    }
    s
}
