//! The tamper-evident event log of dso, as pure data and pure functions.
//!
//! Every PIM exchange and activity becomes an [`Event`]: a CloudEvents 1.0
//! envelope whose `type` is a CDEvents type where one exists
//! (`dev.cdevents.pipelinerun.started.0.3.0`) and `dev.cdeventsx.dso.*` for
//! the rest, plus the actor (user and PIM role) who caused it.
//!
//! Stored events form a hash chain (see [`chain`]): entry `n` carries
//! `hash_n = SHA-256(hash_{n-1} ‖ n as u64 big-endian ‖ JCS(envelope_n))`,
//! where JCS is the RFC 8785 canonical JSON form. Every so often a
//! [`Checkpoint`] signs `(n, hash_n)` with the workspace's ed25519 key.
//! [`ChainVerifier`] replays a stored chain and names the first entry that was
//! changed, removed, inserted or reordered.
//!
//! This crate does no I/O: the store reads and writes entries, this crate
//! computes and checks them.

pub mod chain;
pub mod checkpoint;
pub mod event;
pub mod verify;

pub use chain::{GENESIS_HASH, Hash, StoredEntry, entry_hash};
pub use checkpoint::{Checkpoint, KeyPair};
pub use event::{Actor, Event, EventError, NewEvent, format_time};
pub use verify::{ChainVerifier, Problem, ProblemKind, VerifyReport};

#[cfg(test)]
mod tests;
