//! `ragtrail serve --data DIR --addr ADDR [--public-read]`

use ragtrail::server::{self, Config};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

pub async fn run(data: PathBuf, addr: SocketAddr, public_read: bool, demo: bool) -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
    match server::run(Config {
        data,
        addr,
        public_read,
        demo,
    })
    .await
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
