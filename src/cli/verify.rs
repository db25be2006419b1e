//! `ragtrail verify --data DIR [--digest FILE]`: walks the hash chain of a
//! store on disk, and proves the log still extends a signed digest kept earlier.

use ragtrail::signing::{SignedDigest, Signer};
use ragtrail_events::verify::verify_dir;
use ragtrail_events::{Store, VerifyError};
use std::path::Path;
use std::process::ExitCode;

pub fn run(data: &Path, digest: Option<&Path>, key: Option<&Path>) -> ExitCode {
    if !data.join("db").exists() {
        eprintln!(
            "error: {} holds no ragtrail store (no `db` file); check the --data path",
            data.display()
        );
        return ExitCode::from(2);
    }
    let kept = match digest.map(read_digest).transpose() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let trusted = match (&kept, key) {
        (None, _) => None,
        (Some(_), Some(file)) => match read_key(file) {
            Ok(k) => Some(k),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        },
        (Some(_), None) => match Signer::public_of(data) {
            Ok(Some(k)) => Some(k),
            Ok(None) => {
                eprintln!("error: {} has no signing key of its own to check the digest against; give --key FILE with the key of the store that signed it (GET /api/v1/digest/key)", data.display());
                return ExitCode::from(2);
            }
            Err(e) => {
                eprintln!("error: cannot read the store's signing key: {e}");
                return ExitCode::from(2);
            }
        },
    };
    let verified = match verify_dir(data) {
        Ok(v) => v,
        Err(VerifyError::Bad { position, problem }) => {
            eprintln!("verification FAILED at position {position}: {problem}");
            return ExitCode::from(1);
        }
        Err(VerifyError::Store(e)) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    println!("verified {} events, head {}", verified.count, verified.head);
    let Some(d) = kept else {
        return ExitCode::SUCCESS;
    };
    if trusted.as_deref() != Some(d.key.as_str()) {
        eprintln!(
            "digest FAILED: it is signed by key {}, not by {} ({}); a digest counts only when signed by the store it is about",
            d.key,
            trusted.unwrap_or_default(),
            if key.is_some() { "the key given with --key" } else { "this store's own key" }
        );
        return ExitCode::from(1);
    }
    if let Err(e) = d.check_signature() {
        eprintln!("digest FAILED: {e}");
        return ExitCode::from(1);
    }
    let rt = match tokio::runtime::Builder::new_current_thread().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let at = rt.block_on(async {
        let store = Store::open(data)?;
        let e = store.get(d.position);
        store.close().await;
        e
    });
    match at {
        Ok(Some(e)) if e.hash.to_hex() == d.head => {
            println!(
                "digest verified: position {} still has head {} (signed {} by key {})",
                d.position, d.head, d.signed_at, d.key
            );
            ExitCode::SUCCESS
        }
        Ok(Some(e)) => {
            eprintln!(
                "digest FAILED at position {}: the digest says hash {}, the log now has {}: the log was rewritten",
                d.position, d.head, e.hash
            );
            ExitCode::from(1)
        }
        Ok(None) => {
            eprintln!(
                "digest FAILED: the digest covers position {}, but the log now ends at {}: events were removed",
                d.position, verified.count
            );
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn read_digest(path: &Path) -> Result<SignedDigest, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the digest {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| {
        format!(
            "{} is not a ragtrail digest (the JSON of GET /api/v1/digest): {e}",
            path.display()
        )
    })
}

/// A public key from a file: 64 hex characters, or the JSON of GET /api/v1/digest/key.
fn read_key(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the key {}: {e}", path.display()))?;
    let hex = match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(v) => v["key"].as_str().map(str::to_string).unwrap_or_default(),
        Err(_) => text.trim().to_string(),
    };
    if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!(
            "{} holds no Ed25519 public key: give 64 hexadecimal characters or the JSON of GET /api/v1/digest/key",
            path.display()
        ));
    }
    Ok(hex.to_lowercase())
}
