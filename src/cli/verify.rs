//! `ragtrail verify --data DIR`: walks the hash chain of a store on disk.

use ragtrail_events::verify::verify_dir;
use ragtrail_events::VerifyError;
use std::path::Path;
use std::process::ExitCode;

pub fn run(data: &Path) -> ExitCode {
    if !data.join("db").exists() {
        eprintln!(
            "error: {} holds no ragtrail store (no `db` file); check the --data path",
            data.display()
        );
        return ExitCode::from(2);
    }
    match verify_dir(data) {
        Ok(v) => {
            println!("verified {} events, head {}", v.count, v.head);
            ExitCode::SUCCESS
        }
        Err(VerifyError::Bad { position, problem }) => {
            eprintln!("verification FAILED at position {position}: {problem}");
            ExitCode::from(1)
        }
        Err(VerifyError::Store(e)) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
