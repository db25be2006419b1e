//! The service's own Ed25519 key, and digests signed with it: a position and
//! the hash of the event there, which an inspector keeps outside the service
//! and can later check today's log still extends.

use chrono::{DateTime, SecondsFormat, Utc};
use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::Path;

const KEY_FILE: &str = "signing.key";

/// A signed statement: "at `signed_at`, the log's event `position` had hash `head`".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SignedDigest {
    pub position: u64,
    pub head: String,
    pub signed_at: DateTime<Utc>,
    /// The public key (hex) that made the signature.
    pub key: String,
    /// Ed25519 signature (hex) over [`SignedDigest::message`].
    pub signature: String,
}

impl SignedDigest {
    /// The exact bytes signed.
    pub fn message(&self) -> Vec<u8> {
        format!(
            "ragtrail digest v1\nposition {}\nhead {}\nsigned_at {}\n",
            self.position,
            self.head,
            self.signed_at.to_rfc3339_opts(SecondsFormat::Micros, true)
        )
        .into_bytes()
    }

    /// Checks the signature against the key it names.
    pub fn check_signature(&self) -> Result<(), String> {
        let mut key = [0u8; 32];
        hex::decode_to_slice(&self.key, &mut key)
            .map_err(|_| "key is not 64 hexadecimal characters".to_string())?;
        let key = VerifyingKey::from_bytes(&key).map_err(|e| format!("key is not valid: {e}"))?;
        let mut sig = [0u8; 64];
        hex::decode_to_slice(&self.signature, &mut sig)
            .map_err(|_| "signature is not 128 hexadecimal characters".to_string())?;
        key.verify(&self.message(), &Signature::from_bytes(&sig))
            .map_err(|_| {
                "the signature does not match the digest: it was altered or signed by another key"
                    .to_string()
            })
    }
}

/// The service's signing key.
pub struct Signer {
    key: SigningKey,
}

impl Signer {
    /// The public key (hex) of the store in `dir`, if it has made one.
    pub fn public_of(dir: &Path) -> std::io::Result<Option<String>> {
        if !dir.join(KEY_FILE).exists() {
            return Ok(None);
        }
        Signer::load_or_create(dir).map(|s| Some(s.public_hex()))
    }

    /// Loads `DIR/signing.key`, or creates it (mode 0600) on first start.
    pub fn load_or_create(dir: &Path) -> std::io::Result<Signer> {
        let path = dir.join(KEY_FILE);
        if path.exists() {
            let text = std::fs::read_to_string(&path)?;
            let mut secret = [0u8; 32];
            hex::decode_to_slice(text.trim(), &mut secret).map_err(|_| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("{} is not a ragtrail signing key", path.display()),
                )
            })?;
            return Ok(Signer {
                key: SigningKey::from_bytes(&secret),
            });
        }
        let mut secret = [0u8; 32];
        getrandom::getrandom(&mut secret).map_err(|e| std::io::Error::other(e.to_string()))?;
        write_private(&path, hex::encode(secret).as_bytes())?;
        Ok(Signer {
            key: SigningKey::from_bytes(&secret),
        })
    }

    pub fn public_hex(&self) -> String {
        hex::encode(self.key.verifying_key().to_bytes())
    }

    /// Signs a digest of the log at `position` with head hash `head`.
    pub fn sign(&self, position: u64, head: String) -> SignedDigest {
        let mut d = SignedDigest {
            position,
            head,
            signed_at: Utc::now(),
            key: self.public_hex(),
            signature: String::new(),
        };
        d.signature = hex::encode(self.key.sign(&d.message()).to_bytes());
        d
    }
}

/// Writes a secret file readable by its owner only, durably.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)?;
    if let Some(parent) = path.parent() {
        std::fs::File::open(parent)?.sync_all()?;
    }
    Ok(())
}
