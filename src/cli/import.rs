//! `ragtrail import --data DIR [--actor NAME] FILE`: the file is checked as
//! it streams past (a progress bar over its bytes for a large one), then
//! written as one atomic append, or restored if it is an export.

use super::open_existing_or_new;
use std::path::Path;
use std::process::ExitCode;

/// What an .xlsx tracker's import is told.
pub struct TrackerArgs {
    pub programme: Option<String>,
    pub as_at: Option<chrono::NaiveDate>,
    pub authority: Option<String>,
    pub map: Option<std::path::PathBuf>,
}

/// `ragtrail import --programme NAME --as-at DATE FILE.xlsx`: the tracker is
/// read against what the store holds, every bad cell reported by sheet, row
/// and column, and what changed written as one atomic append.
pub async fn tracker(data: &Path, actor: &str, file: &Path, args: TrackerArgs) -> ExitCode {
    let (Some(programme), Some(as_at)) = (args.programme, args.as_at) else {
        eprintln!("error: an .xlsx tracker needs --programme NAME (created if new, with --authority) and --as-at DATE (the board date its rows apply at)");
        return ExitCode::from(2);
    };
    let map = match &args.map {
        None => Default::default(),
        Some(m) => match std::fs::read(m)
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
        {
            Ok(map) => map,
            Err(e) => {
                eprintln!("error: the mapping file {} cannot be read: {e}; it is JSON like {{\"Our RAG\": \"rag\", \"Notes\": \"ignore\"}}", m.display());
                return ExitCode::from(2);
            }
        },
    };
    let bytes = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", file.display());
            return ExitCode::from(2);
        }
    };
    let store = match open_existing_or_new(data) {
        Ok(s) => s,
        Err(code) => return code,
    };
    // What the store holds, to write only what the tracker changes.
    let mut trail = ragtrail_projections::Trail::new();
    for e in store.iter_from(0) {
        match e {
            Ok(e) => trail.apply_owned(e),
            Err(e) => {
                eprintln!("error: {e}");
                store.close().await;
                return ExitCode::from(2);
            }
        }
    }
    let opts = ragtrail::import::tracker::Options {
        programme,
        authority: args.authority,
        as_at,
        map,
    };
    let code = match ragtrail::import::tracker::read(&bytes, &opts, &trail) {
        Err(bad) => {
            eprintln!("{} bad cell(s); nothing was imported:", bad.len());
            for b in &bad {
                eprintln!("  {b}");
            }
            ExitCode::from(1)
        }
        Ok(plan) => {
            for (name, layout, rows) in &plan.sheets {
                println!("sheet {name:?}: {layout}, {rows} row(s)");
            }
            for (name, why) in &plan.skipped {
                println!("sheet {name:?} skipped: {why}");
            }
            if plan.events.is_empty() {
                println!(
                    "{}: nothing changed since the store's last record",
                    file.display()
                );
                ExitCode::SUCCESS
            } else {
                let contents = ragtrail::import::Contents::Events(plan.events);
                match ragtrail::import::write(&store, contents, plan.key, actor).await {
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
        }
    };
    store.close().await;
    code
}

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
