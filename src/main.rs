//! `ragtrail`: the command line of the audit-trail service.

mod cli;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// An event-sourced audit trail for children's services improvement programmes:
/// every RAG change, update and metric reading, kept tamper-evident.
#[derive(Parser)]
#[command(name = "ragtrail", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check that the stored log is exactly as it was written: walks the hash
    /// chain from the first event. Exit 0 if it verifies, 1 naming the first bad
    /// position, 2 if the store cannot be read.
    Verify {
        /// The data directory of the store.
        #[arg(long, value_name = "DIR")]
        data: PathBuf,
    },
    /// Replay every event of the log through the projections (board, comparison,
    /// trends) from position 1 and print how fast that went, in events/s.
    Rebuild {
        /// The data directory of the store.
        #[arg(long, value_name = "DIR")]
        data: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Verify { data } => cli::verify::run(&data),
        Command::Rebuild { data } => match tokio::runtime::Runtime::new() {
            Ok(rt) => rt.block_on(cli::rebuild::run(&data)),
            Err(e) => {
                eprintln!("error: cannot start the async runtime: {e}");
                ExitCode::from(2)
            }
        },
    }
}
