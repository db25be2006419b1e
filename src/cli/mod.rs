//! The subcommands of the `ragtrail` binary, one file each.

pub mod verify;
pub mod rebuild;
