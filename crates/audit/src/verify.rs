//! Replaying a stored chain: the first entry that is not what was appended.
//!
//! The verifier is a streaming state machine, so the store can feed it a
//! log of any length page by page. It stops judging at the first problem:
//! after a broken link every later entry is suspect, and the first one is
//! the one an auditor needs.

use std::collections::BTreeMap;
use std::fmt;

use ed25519_dalek::VerifyingKey;
use serde::Serialize;

use crate::chain::{GENESIS_HASH, Hash, StoredEntry, entry_hash, parse_hash};
use crate::checkpoint::Checkpoint;

/// What is wrong with the log, and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The sequence number of the first bad entry (or of the checkpoint).
    pub seq: i64,
    pub kind: ProblemKind,
    pub detail: String,
}

/// The stable categories of [`Problem`], shown kebab-case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProblemKind {
    /// The entry's content does not produce its stored hash.
    Changed,
    /// A sequence number is absent: the entry was removed.
    Missing,
    /// A sequence number appears out of order or twice.
    Reordered,
    /// The entry's `prev_hash` is not the previous entry's hash.
    BrokenLink,
    /// The entry's hash differs from the hash a signed checkpoint recorded.
    CheckpointMismatch,
    /// A checkpoint's signature does not verify with the workspace key.
    BadSignature,
    /// A signed checkpoint names an entry beyond the end of the log.
    Truncated,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "entry {}: {}", self.seq, self.detail)
    }
}

/// The outcome of a verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyReport {
    pub n_entries: u64,
    pub n_checkpoints: u64,
    /// The last entry checked, with its hash.
    pub head_seq: i64,
    pub head_hash: String,
    /// The first problem found, if any.
    pub problem: Option<Problem>,
}

impl VerifyReport {
    pub fn is_intact(&self) -> bool {
        self.problem.is_none()
    }
}

/// Feeds on entries in ascending `seq` order; see the module docs.
pub struct ChainVerifier {
    checkpoints: BTreeMap<i64, Checkpoint>,
    expected_seq: i64,
    prev: Hash,
    n_entries: u64,
    problem: Option<Problem>,
}

impl ChainVerifier {
    /// Starts a verification against the workspace public `key`.
    ///
    /// Checkpoint signatures are checked here; a bad one is the first problem.
    pub fn new(key: &VerifyingKey, checkpoints: Vec<Checkpoint>) -> ChainVerifier {
        let mut problem = None;
        for cp in &checkpoints {
            if !cp.is_signed_by(key) {
                problem = Some(Problem {
                    seq: cp.seq,
                    kind: ProblemKind::BadSignature,
                    detail: format!(
                        "the checkpoint at this entry is not signed by the workspace key (key id {})",
                        cp.key_id
                    ),
                });
                break;
            }
        }
        ChainVerifier {
            checkpoints: checkpoints.into_iter().map(|cp| (cp.seq, cp)).collect(),
            expected_seq: 1,
            prev: GENESIS_HASH,
            n_entries: 0,
            problem,
        }
    }

    /// True once a problem was found; later entries are not judged.
    pub fn failed(&self) -> bool {
        self.problem.is_some()
    }

    /// Checks the next entry.
    pub fn push(&mut self, entry: &StoredEntry) {
        if self.problem.is_some() {
            return;
        }
        if let Err(problem) = self.check(entry) {
            self.problem = Some(problem);
            return;
        }
        self.n_entries += 1;
    }

    fn check(&mut self, entry: &StoredEntry) -> Result<(), Problem> {
        let seq = entry.seq;
        let problem = |kind, detail: String| Problem { seq, kind, detail };
        if seq > self.expected_seq {
            let detail = if seq == self.expected_seq + 1 {
                "this entry is missing: it was removed".to_owned()
            } else {
                format!(
                    "this entry and the next {} are missing: they were removed",
                    seq - self.expected_seq - 1
                )
            };
            return Err(Problem {
                seq: self.expected_seq,
                kind: ProblemKind::Missing,
                detail,
            });
        }
        if seq < self.expected_seq {
            return Err(problem(
                ProblemKind::Reordered,
                format!(
                    "appears after entry {}: entries were reordered or duplicated",
                    self.expected_seq - 1
                ),
            ));
        }
        if parse_hash(&entry.prev_hash) != Some(self.prev) {
            return Err(problem(
                ProblemKind::BrokenLink,
                "its link to the previous entry is broken: an entry was inserted, removed or reordered here".to_owned(),
            ));
        }
        let event = entry.event().map_err(|err| {
            problem(
                ProblemKind::Changed,
                format!("its data is no longer valid JSON ({err}): it was changed"),
            )
        })?;
        let hash = entry_hash(&self.prev, seq, &event);
        if parse_hash(&entry.hash) != Some(hash) {
            return Err(problem(
                ProblemKind::Changed,
                format!(
                    "its content does not match its hash: it was changed (type `{}`, id {})",
                    entry.ty, entry.id
                ),
            ));
        }
        if let Some(cp) = self.checkpoints.get(&seq)
            && parse_hash(&cp.hash) != Some(hash)
        {
            return Err(problem(
                ProblemKind::CheckpointMismatch,
                "its hash differs from the signed checkpoint: the chain was rewritten up to here"
                    .to_owned(),
            ));
        }
        self.prev = hash;
        self.expected_seq = seq + 1;
        Ok(())
    }

    /// Ends the verification: checks that no signed checkpoint lies beyond the end.
    pub fn finish(mut self) -> VerifyReport {
        let head_seq = self.expected_seq - 1;
        if self.problem.is_none()
            && let Some((&seq, _)) = self.checkpoints.range(self.expected_seq..).next()
        {
            self.problem = Some(Problem {
                seq: self.expected_seq,
                kind: ProblemKind::Truncated,
                detail: format!(
                    "this entry is missing: the log ends at entry {head_seq} but a signed checkpoint covers entry {seq}"
                ),
            });
        }
        VerifyReport {
            n_entries: self.n_entries,
            n_checkpoints: self.checkpoints.len() as u64,
            head_seq,
            head_hash: hex::encode(self.prev),
            problem: self.problem,
        }
    }
}
