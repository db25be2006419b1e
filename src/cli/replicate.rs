//! `ragtrail replicate --from URL --token TOKEN --to postgresql://…`: runs
//! until Ctrl-C or SIGTERM, or until the logs disagree (exit 1, saying why).

use ragtrail::replicate::{self, Options};
use std::process::ExitCode;

pub async fn run(o: Options) -> ExitCode {
    let stop = async {
        #[cfg(unix)]
        {
            let mut term =
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(t) => t,
                    Err(_) => return std::future::pending().await,
                };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {},
                _ = term.recv() => {},
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    };
    match replicate::run(&o, stop).await {
        Ok(()) => {
            println!("replicate: stopped");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}
