//! The subcommands of the `ragtrail` binary, one file each.

pub mod erase;
pub mod export;
pub mod import;
pub mod rebuild;
pub mod replicate;
pub mod serve;
pub mod token;
pub mod verify;

use ragtrail_events::Store;
use std::path::Path;
use std::process::ExitCode;

/// Opens an existing store for a command, explaining what is wrong if it cannot.
pub fn open_existing(data: &Path) -> Result<Store, ExitCode> {
    if !data.join("db").exists() {
        eprintln!(
            "error: {} holds no ragtrail store (no `db` file); check the --data path",
            data.display()
        );
        return Err(ExitCode::from(2));
    }
    Store::open(data).map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(2)
    })
}

/// Opens the store in DIR for writing, creating it if the directory is new.
pub fn open_existing_or_new(data: &Path) -> Result<Store, ExitCode> {
    if let Err(e) = std::fs::create_dir_all(data) {
        eprintln!("error: cannot create {}: {e}", data.display());
        return Err(ExitCode::from(2));
    }
    Store::open(data).map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(2)
    })
}
