//! Signed checkpoints: the workspace key vouches for `(seq, hash)` pairs.
//!
//! Without checkpoints, someone with write access to the database could
//! rewrite an entry and recompute every hash after it. A checkpoint signed
//! with the workspace's ed25519 key (kept outside the database, file mode
//! 0600) pins the chain up to its entry: a rewrite before it no longer
//! matches the signed hash.

use base64::Engine as _;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::chain::Hash;

/// A signed statement that entry `seq` of the log had hash `hash`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub seq: i64,
    /// Hex of the entry's hash.
    pub hash: String,
    /// RFC 3339 UTC time of signing.
    pub time: String,
    /// Hex of the first 8 bytes of SHA-256 of the public key that signed.
    pub key_id: String,
    /// Base64 of the ed25519 signature over [`Checkpoint::message`].
    pub signature: String,
}

impl Checkpoint {
    /// The exact bytes that are signed.
    pub fn message(seq: i64, hash: &str, time: &str) -> Vec<u8> {
        format!("dso-audit-checkpoint/v1\n{seq}\n{hash}\n{time}\n").into_bytes()
    }

    /// Checks the signature against `key`. Returns false on any mismatch,
    /// including a malformed signature.
    pub fn is_signed_by(&self, key: &VerifyingKey) -> bool {
        let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(&self.signature) else {
            return false;
        };
        let Ok(signature) = Signature::from_slice(&bytes) else {
            return false;
        };
        key.verify(&Self::message(self.seq, &self.hash, &self.time), &signature)
            .is_ok()
    }
}

/// The workspace signing key.
pub struct KeyPair {
    signing: SigningKey,
}

impl KeyPair {
    /// Wraps 32 secret bytes.
    pub fn from_secret(secret: [u8; 32]) -> KeyPair {
        KeyPair {
            signing: SigningKey::from_bytes(&secret),
        }
    }

    /// The 32 secret bytes (to write the key file).
    pub fn secret(&self) -> [u8; 32] {
        self.signing.to_bytes()
    }

    pub fn public(&self) -> VerifyingKey {
        self.signing.verifying_key()
    }

    /// Signs a checkpoint for entry `seq` with hash `hash`, at time `time`.
    pub fn checkpoint(&self, seq: i64, hash: &Hash, time: &str) -> Checkpoint {
        let hash = hex::encode(hash);
        let signature = self.signing.sign(&Checkpoint::message(seq, &hash, time));
        Checkpoint {
            seq,
            hash,
            time: time.to_owned(),
            key_id: key_id(&self.public()),
            signature: base64::engine::general_purpose::STANDARD.encode(signature.to_bytes()),
        }
    }
}

/// A short, stable name for a public key: hex of the first 8 bytes of its SHA-256.
pub fn key_id(key: &VerifyingKey) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(key.as_bytes());
    hex::encode(&digest[..8])
}
