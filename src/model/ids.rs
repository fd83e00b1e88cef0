//! ObjectIds: the 12-byte ids Verifik (MongoDB) uses, written as 24 lower-case hex chars.

use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};

use rand::Rng;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A 12-byte ObjectId: 4-byte big-endian seconds, 5 random bytes, 3-byte counter.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectId([u8; 12]);

impl ObjectId {
    pub const fn from_bytes(bytes: [u8; 12]) -> Self {
        Self(bytes)
    }

    pub const fn bytes(&self) -> [u8; 12] {
        self.0
    }

    /// Parses 24 hex characters, either case.
    pub fn parse(s: &str) -> Option<Self> {
        if s.len() != 24 {
            return None;
        }
        let mut bytes = [0u8; 12];
        hex::decode_to_slice(s, &mut bytes).ok()?;
        Some(Self(bytes))
    }

    /// The seconds part, as the creation time ObjectIds carry.
    pub fn seconds(&self) -> u32 {
        u32::from_be_bytes([self.0[0], self.0[1], self.0[2], self.0[3]])
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ObjectId({self})")
    }
}

impl Serialize for ObjectId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ObjectId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ObjectId::parse(&s).ok_or_else(|| serde::de::Error::custom("invalid ObjectId"))
    }
}

/// Where new ids come from; tests pin it to reproduce exact ids.
pub trait IdSource: Send + Sync {
    fn next_id(&self, unix_seconds: u32) -> ObjectId;
}

/// MongoDB's scheme: a random value chosen once per process and a counter that starts
/// at a random point, so two instances never share the middle five bytes.
pub struct RandomIds {
    process: [u8; 5],
    counter: AtomicU32,
}

impl RandomIds {
    pub fn new() -> Self {
        let mut rng = rand::rng();
        let mut process = [0u8; 5];
        rng.fill_bytes(&mut process);
        Self {
            process,
            counter: AtomicU32::new(rng.next_u32() & 0x00ff_ffff),
        }
    }
}

impl Default for RandomIds {
    fn default() -> Self {
        Self::new()
    }
}

impl IdSource for RandomIds {
    fn next_id(&self, unix_seconds: u32) -> ObjectId {
        let count = self.counter.fetch_add(1, Ordering::Relaxed) & 0x00ff_ffff;
        let mut b = [0u8; 12];
        b[..4].copy_from_slice(&unix_seconds.to_be_bytes());
        b[4..9].copy_from_slice(&self.process);
        b[9..].copy_from_slice(&count.to_be_bytes()[1..]);
        ObjectId(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_either_case_and_prints_lower_case() {
        let id = ObjectId::parse("66DF5BF5c4d855fb0bdf5da2").unwrap();
        assert_eq!(id.to_string(), "66df5bf5c4d855fb0bdf5da2");
    }

    #[test]
    fn rejects_wrong_length_and_non_hex() {
        for bad in [
            "",
            "66df5bf5c4d855fb0bdf5da",
            "66df5bf5c4d855fb0bdf5da2a",
            "zzdf5bf5c4d855fb0bdf5da2",
            "66df5bf5c4d855fb0bdf5dé",
        ] {
            assert!(ObjectId::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn new_ids_carry_the_seconds_and_count_up() {
        let ids = RandomIds::new();
        let a = ids.next_id(0x66e3_2442);
        let b = ids.next_id(0x66e3_2442);
        assert_eq!(a.seconds(), 0x66e3_2442);
        assert_eq!(a.to_string()[..8], *"66e32442");
        assert_eq!(a.bytes()[4..9], b.bytes()[4..9], "same process part");
        let ca = u32::from_be_bytes([0, a.bytes()[9], a.bytes()[10], a.bytes()[11]]);
        let cb = u32::from_be_bytes([0, b.bytes()[9], b.bytes()[10], b.bytes()[11]]);
        assert_eq!((ca + 1) & 0x00ff_ffff, cb);
        assert!(a < b);
    }

    #[test]
    fn two_sources_differ() {
        let (a, b) = (RandomIds::new(), RandomIds::new());
        assert_ne!(a.next_id(1), b.next_id(1));
    }
}
