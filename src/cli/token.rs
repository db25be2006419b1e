//! `ragtrail token create|list|revoke --data DIR`

use super::open_existing;
use ragtrail::auth::{Role, Tokens};
use std::path::PathBuf;
use std::process::ExitCode;

async fn with_tokens(data: PathBuf, f: impl FnOnce(&Tokens) -> ExitCode) -> ExitCode {
    let store = match open_existing(&data) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let code = match Tokens::open(&store) {
        Ok(tokens) => f(&tokens),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    };
    store.close().await;
    code
}

pub async fn create(data: PathBuf, role: Role, name: String) -> ExitCode {
    with_tokens(data, |t| match t.create(&name, role) {
        Ok(token) => {
            eprintln!("created token {name:?} ({role:?}); it is shown this once:");
            println!("{token}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    })
    .await
}

pub async fn list(data: PathBuf) -> ExitCode {
    with_tokens(data, |t| match t.list() {
        Ok(all) => {
            for id in all {
                println!("{}\t{:?}", id.name, id.role);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    })
    .await
}

pub async fn revoke(data: PathBuf, name: String) -> ExitCode {
    with_tokens(data, |t| match t.revoke(&name) {
        Ok(true) => {
            println!("revoked {name:?}");
            ExitCode::SUCCESS
        }
        Ok(false) => {
            eprintln!("error: no token named {name:?}");
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    })
    .await
}
