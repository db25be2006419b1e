//! The subcommands of the `ragtrail` binary, one file each.

pub mod rebuild;
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
