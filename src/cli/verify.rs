//! `ragtrail verify --data DIR [--digest FILE]`: walks the hash chain of a
//! store on disk, and proves the log still extends a signed digest kept earlier.

use ragtrail::signing::SignedDigest;
use ragtrail_events::verify::verify_dir;
use ragtrail_events::{Store, VerifyError};
use std::path::Path;
use std::process::ExitCode;

pub fn run(data: &Path, digest: Option<&Path>) -> ExitCode {
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
