//! `ragtrail import --data DIR [--actor NAME] FILE`

use super::open_existing_or_new;
use std::path::Path;
use std::process::ExitCode;

pub async fn run(data: &Path, actor: &str, file: &Path) -> ExitCode {
    let bytes = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", file.display());
            return ExitCode::from(2);
        }
    };
    // Check the file before opening (and so creating or locking) the store.
    if let Err(bad) = ragtrail::import::read(&file.display().to_string(), &bytes, actor) {
        eprintln!("{}", ragtrail::import::LoadError::Bad(bad));
        return ExitCode::from(1);
    }
    let store = match open_existing_or_new(data) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let result = ragtrail::import::load(&store, &file.display().to_string(), &bytes, actor).await;
    store.close().await;
    match result {
        Ok(done) => {
            println!("{}: {done}", file.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}
