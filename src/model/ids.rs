//! ObjectIds: the 12-byte ids Verifik (MongoDB) uses, written as 24 lower-case hex chars.

use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};

use rand::rngs::SysRng;
use rand::{Rng, TryRng};
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

/// MongoDB's layout with fresh random middle bytes per id (CONTRACT §4), not MongoDB's
/// per-process value: ids of different requests share nothing but the second, so they
/// don't say which instance made them. The counter starts at a random point and keeps
/// the ids of one source distinct whatever the random bytes draw.
pub struct RandomIds {
    counter: AtomicU32,
}

impl RandomIds {
    pub fn new() -> Self {
        let mut start = [0u8; 4];
        random_bytes(&mut start);
        Self {
            counter: AtomicU32::new(u32::from_be_bytes(start) & 0x00ff_ffff),
        }
    }
}

/// Bytes from the operating system's CSPRNG, read per call: no generator state in the
/// process that a snapshot and restore of an instance could duplicate. Should it fail
/// (it does not on Linux), the thread-local CSPRNG (ChaCha12 seeded from the OS).
fn random_bytes(out: &mut [u8]) {
    if SysRng.try_fill_bytes(out).is_err() {
        rand::rng().fill_bytes(out);
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
        random_bytes(&mut b[4..9]);
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

    fn counter(id: ObjectId) -> u32 {
        let b = id.bytes();
        u32::from_be_bytes([0, b[9], b[10], b[11]])
    }

    #[test]
    fn new_ids_carry_the_seconds_fresh_random_bytes_and_a_counter() {
        let ids = RandomIds::new();
        let made: Vec<ObjectId> = (0..64).map(|_| ids.next_id(0x66e3_2442)).collect();
        let (a, b) = (made[0], made[1]);
        assert_eq!(a.seconds(), 0x66e3_2442);
        assert_eq!(a.to_string()[..8], *"66e32442");
        // Each id draws its own middle bytes: 64 draws of 40 bits never repeat by chance
        // (a per-process value would make them all equal).
        let mut middles: Vec<[u8; 5]> = made.iter().map(|id| id.bytes()[4..9].try_into().unwrap()).collect();
        middles.sort();
        middles.dedup();
        assert_eq!(middles.len(), made.len(), "middle bytes repeat");
        assert_ne!(a.bytes()[4..9], b.bytes()[4..9]);
        assert_eq!((counter(a) + 1) & 0x00ff_ffff, counter(b));
    }

    #[test]
    fn the_counter_wraps_within_three_bytes() {
        let ids = RandomIds {
            counter: AtomicU32::new(0x00ff_ffff),
        };
        assert_eq!(counter(ids.next_id(1)), 0x00ff_ffff);
        assert_eq!(counter(ids.next_id(1)), 0);
    }

    #[test]
    fn two_sources_differ() {
        let (a, b) = (RandomIds::new(), RandomIds::new());
        assert_ne!(a.next_id(1), b.next_id(1));
    }
}
