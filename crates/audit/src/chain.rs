//! The hash chain: how an entry's hash is computed from its predecessor.
//!
//! `hash_n = SHA-256(hash_{n-1} ‖ n as u64 big-endian ‖ JCS(envelope_n))`
//! with `hash_0` = 32 zero bytes ([`GENESIS_HASH`]). Putting the sequence
//! number into the hash makes a renumbered (inserted or reordered) entry
//! detectable even when its content is unchanged.

use sha2::{Digest, Sha256};

use crate::event::Event;

/// A SHA-256 digest, shown and stored as 64 lowercase hex characters.
pub type Hash = [u8; 32];

/// The `prev_hash` of entry 1.
pub const GENESIS_HASH: Hash = [0u8; 32];

/// One entry of the log exactly as the store holds it: raw columns, not yet
/// trusted. The verifier decides whether it is intact.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEntry {
    pub seq: i64,
    pub id: String,
    pub source: String,
    pub ty: String,
    pub subject: Option<String>,
    pub time: String,
    pub actor: String,
    pub actor_role: Option<String>,
    /// The `data` attribute as stored JSON text.
    pub data: String,
    /// Hex of the previous entry's hash as stored.
    pub prev_hash: String,
    /// Hex of this entry's hash as stored.
    pub hash: String,
}

impl StoredEntry {
    /// Rebuilds the envelope from the stored columns.
    ///
    /// Errors when the stored `data` is not JSON (a sign of tampering).
    pub fn event(&self) -> Result<Event, serde_json::Error> {
        Ok(Event {
            specversion: "1.0".to_owned(),
            id: self.id.clone(),
            source: self.source.clone(),
            ty: self.ty.clone(),
            subject: self.subject.clone(),
            time: self.time.clone(),
            datacontenttype: "application/json".to_owned(),
            data: serde_json::from_str(&self.data)?,
            actor: self.actor.clone(),
            actorrole: self.actor_role.clone(),
        })
    }

    /// Builds the row to store for `event` at position `seq` after `prev`.
    pub fn link(seq: i64, prev: &Hash, event: &Event) -> (StoredEntry, Hash) {
        let hash = entry_hash(prev, seq, event);
        let entry = StoredEntry {
            seq,
            id: event.id.clone(),
            source: event.source.clone(),
            ty: event.ty.clone(),
            subject: event.subject.clone(),
            time: event.time.clone(),
            actor: event.actor.clone(),
            actor_role: event.actorrole.clone(),
            data: serde_json::to_string(&event.data)
                .expect("serialising a serde_json::Value cannot fail"),
            prev_hash: hex::encode(prev),
            hash: hex::encode(hash),
        };
        (entry, hash)
    }
}

/// Computes the hash of `event` stored at `seq` after an entry hashed `prev`.
pub fn entry_hash(prev: &Hash, seq: i64, event: &Event) -> Hash {
    // NOTE: JCS of a struct of strings and a serde_json::Value cannot fail;
    // the only error serde_json_canonicalizer reports is a non-string map key.
    let canonical = serde_json_canonicalizer::to_vec(event)
        .expect("an Event always serialises to canonical JSON");
    let mut hasher = Sha256::new();
    hasher.update(prev);
    hasher.update((seq as u64).to_be_bytes());
    hasher.update(&canonical);
    hasher.finalize().into()
}

/// Parses 64 hex characters into a [`Hash`]; `None` for anything else.
pub fn parse_hash(text: &str) -> Option<Hash> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(text, &mut out).ok()?;
    Some(out)
}
