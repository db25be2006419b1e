//! `ragtrail rebuild --data DIR`: replays the whole log through the
//! projections and reports the speed.

use ragtrail_projections::Trail;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

pub async fn run(data: &Path) -> ExitCode {
    let store = match super::open_existing(data) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let head = store.head().position;
    let start = Instant::now();
    let mut trail = Trail::new();
    for (n, env) in store.iter_from(0).enumerate() {
        match env {
            Ok(env) => trail.apply_owned(env),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(1);
            }
        }
        if (n + 1) % 100_000 == 0 {
            eprintln!("  {} / {head} events", n + 1);
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let n = trail.position();
    println!(
        "rebuilt projections from {n} events in {secs:.2} s ({:.0} events/s)",
        n as f64 / secs.max(1e-9)
    );
    store.close().await;
    ExitCode::SUCCESS
}
