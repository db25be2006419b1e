//! `ragtrail serve --data DIR --addr ADDR [--public-read]`

use ragtrail::server::{self, Config};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

/// What `serve` was asked for on the command line.
pub struct Options {
    pub data: PathBuf,
    pub addr: SocketAddr,
    pub public_read: bool,
    pub demo: bool,
    pub request_timeout: u64,
    pub tls_proxy: bool,
    pub live_max: usize,
    pub max_connections: usize,
    pub header_timeout: u64,
}

pub async fn run(o: Options) -> ExitCode {
    raise_file_limit(o.max_connections);
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
    match server::run(Config {
        data: o.data,
        addr: o.addr,
        public_read: o.public_read,
        demo: o.demo,
        request_timeout: std::time::Duration::from_secs(o.request_timeout.max(1)),
        secure_cookies: o.tls_proxy,
        live_max: o.live_max.max(1),
        max_connections: o.max_connections.max(1),
        header_timeout: std::time::Duration::from_secs(o.header_timeout.max(1)),
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

/// Raises this process's open-file limit to its hard limit (up to what the
/// connection cap needs, with room for the store), so that the cap, not the
/// default soft limit of 1,024, decides how many connections are served.
fn raise_file_limit(connections: usize) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct given.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return;
        }
        let want = (connections as libc::rlim_t + 256).min(lim.rlim_max);
        if want > lim.rlim_cur {
            lim.rlim_cur = want;
            let _ = libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}
