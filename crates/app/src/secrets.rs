//! The workspace secret store: values encrypted at rest, names in the log.
//!
//! A secret is encrypted with XChaCha20-Poly1305 under a key derived from the
//! workspace signing key (`SHA-256("dso-secrets/v1" ‖ secret key)`), with a
//! random nonce and the secret's name as associated data, so a ciphertext
//! moved to another name does not decrypt. Events record that a secret was
//! set or deleted, never its value.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use dso_audit::NewEvent;
use dso_store::SecretRecord;
use sha2::Digest as _;

use crate::{AppError, Context};

pub const SECRET_SET: &str = "dev.cdeventsx.dso.secret.set.0.1.0";
pub const SECRET_DELETED: &str = "dev.cdeventsx.dso.secret.deleted.0.1.0";

/// Longest secret value accepted.
pub const MAX_SECRET_BYTES: usize = 64 * 1024;

fn cipher(ctx: &Context) -> XChaCha20Poly1305 {
    let mut hasher = sha2::Sha256::new();
    hasher.update(b"dso-secrets/v1");
    hasher.update(ctx.key.secret());
    let key: [u8; 32] = hasher.finalize().into();
    XChaCha20Poly1305::new(&key.into())
}

/// Checks a secret name: it becomes an environment variable name.
pub fn check_name(name: &str) -> Result<(), AppError> {
    let mut chars = name.chars();
    let ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_uppercase() || c == '_')
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(AppError::Input {
            location: format!("secret name `{name}`"),
            message: "use upper-case letters, digits and `_`, not starting with a digit (it becomes an environment variable)"
                .into(),
        })
    }
}

/// Stores (or replaces) a secret.
pub async fn set(ctx: &Context, name: &str, value: &str) -> Result<(), AppError> {
    check_name(name)?;
    if value.is_empty() || value.len() > MAX_SECRET_BYTES {
        return Err(AppError::Input {
            location: format!("secret `{name}`"),
            message: format!("the value must be 1 to {MAX_SECRET_BYTES} bytes"),
        });
    }
    let mut nonce = [0u8; 24];
    getrandom::fill(&mut nonce).map_err(|err| AppError::Input {
        location: "random".into(),
        message: err.to_string(),
    })?;
    let ciphertext = cipher(ctx)
        .encrypt(
            &XNonce::from(nonce),
            Payload {
                msg: value.as_bytes(),
                aad: name.as_bytes(),
            },
        )
        .expect("encryption with a valid key and nonce cannot fail");
    let record = SecretRecord {
        name: name.to_owned(),
        nonce: nonce.to_vec(),
        ciphertext,
        updated_at: dso_audit::format_time(jiff::Timestamp::now()),
    };
    let event = ctx.stamp(NewEvent {
        ty: SECRET_SET.into(),
        subject: Some(name.to_owned()),
        data: serde_json::json!({ "name": name }),
    })?;
    let appended = ctx.store.put_secret(&record, &event).await?;
    crate::events::seal(ctx, &appended).await
}

/// Deletes a secret; errors when it does not exist.
pub async fn delete(ctx: &Context, name: &str) -> Result<(), AppError> {
    let event = ctx.stamp(NewEvent {
        ty: SECRET_DELETED.into(),
        subject: Some(name.to_owned()),
        data: serde_json::json!({ "name": name }),
    })?;
    if !ctx.store.delete_secret(name, &event).await? {
        return Err(unknown_secret(ctx, name).await);
    }
    Ok(())
}

/// Secret names with their last update time.
pub async fn list(ctx: &Context) -> Result<Vec<(String, String)>, AppError> {
    Ok(ctx
        .store
        .secrets()
        .await?
        .into_iter()
        .map(|s| (s.name, s.updated_at))
        .collect())
}

/// Decrypts the named secrets, in the order asked; errors on an unknown name.
pub async fn reveal(ctx: &Context, names: &[String]) -> Result<Vec<(String, String)>, AppError> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let stored = ctx.store.secrets().await?;
    let cipher = cipher(ctx);
    let mut out = Vec::new();
    for name in names {
        let Some(record) = stored.iter().find(|s| &s.name == name) else {
            return Err(unknown_secret(ctx, name).await);
        };
        let plain = (record.nonce.len() == 24)
            .then(|| {
                cipher
                    .decrypt(&XNonce::from(<[u8; 24]>::try_from(record.nonce.as_slice()).expect("checked to be 24 bytes above")), Payload { msg: &record.ciphertext, aad: name.as_bytes() })
                    .ok()
            })
            .flatten()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(|| AppError::Input {
                location: format!("secret `{name}`"),
                message: "cannot be decrypted with this workspace's key (it was changed, or the key was replaced)".into(),
            })?;
        out.push((name.clone(), plain));
    }
    Ok(out)
}

async fn unknown_secret(ctx: &Context, name: &str) -> AppError {
    let names: Vec<String> = list(ctx)
        .await
        .map(|l| l.into_iter().map(|(n, _)| n).collect())
        .unwrap_or_default();
    AppError::Unknown {
        kind: "secret",
        value: name.to_owned(),
        hint: Some(if names.is_empty() {
            "no secrets are stored; add one with `dso secret set NAME`".into()
        } else {
            format!("stored secrets: {}", names.join(", "))
        }),
    }
}
