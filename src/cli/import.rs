//! `ragtrail import --data DIR [--actor NAME] FILE`: the file is checked as
//! it streams past (a progress bar over its bytes for a large one), then
//! written as one atomic append, or restored if it is an export.

use super::open_existing_or_new;
use std::path::Path;
use std::process::ExitCode;

/// Files larger than this show a progress bar while they are checked.
const PROGRESS_OVER: u64 = 4 * 1024 * 1024;

pub async fn run(
    data: &Path,
    actor: &str,
    file: &Path,
    source: Option<&ragtrail::import::source::Source>,
) -> ExitCode {
    let opened = std::fs::File::open(file).and_then(|f| Ok((f.metadata()?.len(), f)));
    let (size, handle) = match opened {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", file.display());
            return ExitCode::from(2);
        }
    };
    let bar = if size > PROGRESS_OVER {
        let bar = indicatif::ProgressBar::new(size);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "checking [{bar:40}] {bytes}/{total_bytes} ({bytes_per_sec})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    // Check the file before opening (and so creating or locking) the store.
    let name = file.display().to_string();
    let checked = ragtrail::import::read_from(&name, bar.wrap_read(handle), actor);
    bar.finish_and_clear();
    let checked = match (checked, source) {
        (Ok((contents, key)), Some(s)) => {
            ragtrail::import::source::with_source(contents, key, s).map_err(|b| vec![b])
        }
        (other, _) => other,
    };
    let (contents, key) = match checked {
        Ok(c) => c,
        Err(bad) => {
            eprintln!("{}", ragtrail::import::LoadError::Bad(bad));
            return ExitCode::from(1);
        }
    };
    let store = match open_existing_or_new(data) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let result = ragtrail::import::write(&store, contents, key, actor).await;
    store.close().await;
    match result {
        Ok(done) => {
            println!("{}: {done}", file.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}
