//! The subcommands of the `ragtrail` binary, one file each.

pub mod rebuild;
pub mod verify;
