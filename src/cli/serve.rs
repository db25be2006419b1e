//! `ragtrail serve`: its options, turned into the server's [`Config`].

use ragtrail::server::{self, Config};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

/// What `serve` was asked for on the command line.
#[derive(clap::Args)]
pub struct Options {
    /// The data directory of the store.
    #[arg(long, value_name = "DIR", default_value = "ragtrail-data")]
    pub data: PathBuf,
    /// Address to listen on (port 0 picks a free port and prints it).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Let anyone read without a token (writes always need one).
    #[arg(long)]
    pub public_read: bool,
    /// Load the demo programmes from the seed reports into an empty store
    /// first, and let anyone read.
    #[arg(long)]
    pub demo: bool,
    /// Seconds a request may take (a slow client included) before it gets 408.
    #[arg(long, value_name = "SECS", default_value_t = server::REQUEST_TIMEOUT.as_secs())]
    pub request_timeout: u64,
    /// A TLS proxy is in front (people reach ragtrail over https): the
    /// sign-in cookie is then marked Secure, so a browser never sends it
    /// over plain http.
    #[arg(long)]
    pub tls_proxy: bool,
    /// The most live-feed (SSE) subscribers at once; more get 503 with Retry-After.
    #[arg(long, value_name = "N", default_value_t = 256)]
    pub live_max: usize,
    /// The most connections served at once; past that, new ones wait
    /// until slow ones time out.
    #[arg(long, value_name = "N", default_value_t = 2048)]
    pub max_connections: usize,
    /// Seconds a client may take to send a request's headers, and a
    /// kept-alive connection may sit idle, before it is closed.
    #[arg(long, value_name = "SECS", default_value_t = server::HEADER_TIMEOUT.as_secs())]
    pub header_timeout: u64,
    /// An origin whose web pages may call the API from a browser (CORS), e.g.
    /// https://dashboard.example.org; give it once per origin. None by default.
    #[arg(long, value_name = "ORIGIN", value_parser = server::parse_origin)]
    pub cors_origin: Vec<axum::http::HeaderValue>,
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
        feed_max: o.live_max.max(1),
        max_connections: o.max_connections.max(1),
        header_timeout: std::time::Duration::from_secs(o.header_timeout.max(1)),
        cors_origins: o.cors_origin,
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
