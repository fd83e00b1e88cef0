//! Instants as the API writes them: UTC, millisecond precision, `Z`.

use std::fmt;
use std::time::SystemTime;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Duration, OffsetDateTime, UtcOffset};

const FORMAT: &[time::format_description::BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");

/// A UTC instant with millisecond precision.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(OffsetDateTime);

impl Timestamp {
    /// Cuts to whole milliseconds and moves to UTC.
    pub fn from_datetime(dt: OffsetDateTime) -> Self {
        let dt = dt.to_offset(UtcOffset::UTC);
        Self(dt - Duration::nanoseconds(i64::from(dt.nanosecond() % 1_000_000)))
    }

    pub fn from_unix_seconds(seconds: i64) -> Option<Self> {
        OffsetDateTime::from_unix_timestamp(seconds).ok().map(Self)
    }

    pub fn from_unix_millis(ms: i64) -> Option<Self> {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
            .ok()
            .map(Self)
    }

    /// Parses an RFC 3339 (ISO-8601) instant with an offset or `Z`.
    pub fn parse(s: &str) -> Option<Self> {
        OffsetDateTime::parse(s, &Rfc3339).ok().map(Self::from_datetime)
    }

    /// The instant exactly as sent, without cutting to milliseconds (for bound checks).
    pub fn parse_exact(s: &str) -> Option<OffsetDateTime> {
        OffsetDateTime::parse(s, &Rfc3339).ok()
    }

    pub fn datetime(&self) -> OffsetDateTime {
        self.0
    }

    pub fn unix_seconds(&self) -> i64 {
        self.0.unix_timestamp()
    }

    pub fn unix_millis(&self) -> i64 {
        i64::try_from(self.0.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
    }

    /// Cuts to whole seconds.
    pub fn whole_seconds(&self) -> Self {
        Self(self.0 - Duration::nanoseconds(i64::from(self.0.nanosecond())))
    }

    pub fn plus_seconds(&self, seconds: i64) -> Self {
        Self(self.0 + Duration::seconds(seconds))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0.format(FORMAT).map_err(|_| fmt::Error)?;
        f.write_str(&s)
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({self})")
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Timestamp::parse(&s).ok_or_else(|| serde::de::Error::custom("invalid timestamp"))
    }
}

/// An optional instant stored as whole epoch seconds (a DynamoDB number), as
/// `tokensNotBefore` is (CONTRACT §5): `#[serde(with = "epoch_seconds")]`.
pub mod epoch_seconds {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::Timestamp;

    pub fn serialize<S: Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
        t.map(|t| t.unix_seconds()).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
        Option::<i64>::deserialize(d)?
            .map(|n| Timestamp::from_unix_seconds(n).ok_or_else(|| serde::de::Error::custom("invalid epoch seconds")))
            .transpose()
    }
}

/// Where "now" comes from; tests pin it.
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_datetime(OffsetDateTime::from(SystemTime::now()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_with_milliseconds_and_z() {
        let t = Timestamp::parse("2024-09-12T19:26:26.954123+02:00").unwrap();
        assert_eq!(t.to_string(), "2024-09-12T17:26:26.954Z");
        assert_eq!(t.whole_seconds().to_string(), "2024-09-12T17:26:26.000Z");
        assert_eq!(
            t.whole_seconds().plus_seconds(240).to_string(),
            "2024-09-12T17:30:26.000Z"
        );
    }

    #[test]
    fn round_trips_through_serde() {
        let t = Timestamp::parse("2024-09-12T17:26:26.954Z").unwrap();
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, "\"2024-09-12T17:26:26.954Z\"");
        assert_eq!(serde_json::from_str::<Timestamp>(&json).unwrap(), t);
    }

    #[test]
    fn rejects_non_instants() {
        for bad in [
            "",
            "2024-09-12",
            "2024-09-12T17:26:26",
            "yesterday",
            "2024-13-12T17:26:26Z",
        ] {
            assert!(Timestamp::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn unix_millis() {
        let t = Timestamp::from_unix_millis(1_726_161_986_954).unwrap();
        assert_eq!(t.to_string(), "2024-09-12T17:26:26.954Z");
        assert_eq!(t.unix_seconds(), 1_726_161_986);
    }
}
