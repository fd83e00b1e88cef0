//! ObjectIds: the 12-byte ids Verifik (MongoDB) uses, written as 24 lower-case hex chars,
//! and `Id<K>`: an ObjectId that names one kind of record, so that a client's id passed
//! where a project's is expected does not compile.

use std::fmt;
use std::marker::PhantomData;
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

/// A kind of record an `Id` names.
pub trait Kind {
    const NAME: &'static str;
}

macro_rules! kinds {
    ($($kind:ident => $alias:ident),* $(,)?) => {$(
        #[doc = concat!("The kind of `", stringify!($alias), "`.")]
        pub enum $kind {}
        impl Kind for $kind {
            const NAME: &'static str = stringify!($alias);
        }
        pub type $alias = Id<$kind>;
    )*};
}

kinds! {
    ClientKind => ClientId,
    ProjectKind => ProjectId,
    FlowKind => FlowId,
    SessionKind => SessionId,
    ValidationKind => ValidationId,
}

/// The id of one kind of record: an ObjectId on the wire and in storage, a distinct type
/// in the code.
pub struct Id<K>(ObjectId, PhantomData<fn() -> K>);

impl<K> Id<K> {
    pub const fn new(id: ObjectId) -> Self {
        Self(id, PhantomData)
    }

    pub fn parse(s: &str) -> Option<Self> {
        ObjectId::parse(s).map(Self::new)
    }

    pub const fn object_id(self) -> ObjectId {
        self.0
    }
}

impl<K> Clone for Id<K> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<K> Copy for Id<K> {}
impl<K> PartialEq for Id<K> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}
impl<K> Eq for Id<K> {}
impl<K> std::hash::Hash for Id<K> {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.0.hash(h);
    }
}

impl<K> fmt::Display for Id<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<K: Kind> fmt::Debug for Id<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({})", K::NAME, self.0)
    }
}

impl<K> Serialize for Id<K> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de, K> Deserialize<'de> for Id<K> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        ObjectId::deserialize(d).map(Self::new)
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
    fn typed_ids_are_object_ids_on_the_wire() {
        let id = ClientId::parse("613375A1eab2fe08527f81e2").unwrap();
        assert_eq!(id.to_string(), "613375a1eab2fe08527f81e2");
        assert_eq!(format!("{id:?}"), "ClientId(613375a1eab2fe08527f81e2)");
        assert_eq!(serde_json::to_string(&id).unwrap(), r#""613375a1eab2fe08527f81e2""#);
        let back: ClientId = serde_json::from_str(r#""613375a1eab2fe08527f81e2""#).unwrap();
        assert_eq!(back, id);
        assert!(serde_json::from_str::<ProjectId>(r#""nope""#).is_err());
    }

    #[test]
    fn two_sources_differ() {
        let (a, b) = (RandomIds::new(), RandomIds::new());
        assert_ne!(a.next_id(1), b.next_id(1));
    }
}
