//! `ragtrail erase --data DIR --text TEXT --reason R --legal-basis B [--dry-run]`:
//! the lawful erasure of `POST /api/v1/erasures`, for a store no server holds.

use ragtrail_events::erase::{EraseError, Found, Request};
use std::path::PathBuf;
use std::process::ExitCode;

pub struct Options {
    pub data: PathBuf,
    pub texts: Vec<String>,
    pub reason: String,
    pub legal_basis: String,
    pub dry_run: bool,
    pub actor: Option<String>,
}

fn print(found: &[Found]) {
    for f in found {
        let note = if f.erasable {
            ""
        } else {
            "  (cannot be erased)"
        };
        println!(
            "  position {:>8}  stream {}  {}{note}",
            f.position, f.stream, f.field
        );
    }
}

pub async fn run(o: Options) -> ExitCode {
    let actor = o
        .actor
        .or_else(|| std::env::var("USER").ok())
        .filter(|a| !a.trim().is_empty())
        .unwrap_or_else(|| "cli".to_string());
    let request = Request {
        texts: o.texts,
        reason: o.reason,
        legal_basis: o.legal_basis,
        actor,
    };
    if let Err(e) = request.check() {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    let store = match super::open_existing(&o.data) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let code = if o.dry_run {
        match store.find_text(&request) {
            Ok(found) if found.is_empty() => {
                println!("the text appears nowhere; nothing would be erased");
                ExitCode::from(1)
            }
            Ok(found) => {
                println!(
                    "{} field(s) hold the text (dry run: nothing changed):",
                    found.len()
                );
                print(&found);
                if found.iter().all(|f| f.erasable) {
                    ExitCode::SUCCESS
                } else {
                    println!("some of them cannot be erased, so a real run would be refused");
                    ExitCode::from(1)
                }
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(2)
            }
        }
    } else {
        eprintln!("erasing: searching every event, then rewriting the store…");
        match ragtrail::pending::clear_for_erasure(&store, &request.texts) {
            Ok(0) => {}
            Ok(n) => eprintln!("removed {n} draft(s) and upload(s) waiting on the server"),
            Err(e) => {
                eprintln!("error: {e}");
                store.close().await;
                return ExitCode::from(2);
            }
        }
        match store.erase(request).await {
            Ok(erased) => {
                let last = erased.erasures.last().unwrap_or(&erased.erasure);
                println!(
                    "erased {} field(s) of {} event(s); the erasure is recorded at position {}{} (head hash {})",
                    erased.fields.len(),
                    erased
                        .fields
                        .iter()
                        .map(|f| f.position)
                        .collect::<std::collections::BTreeSet<_>>()
                        .len(),
                    erased.erasure.position,
                    if last.position > erased.erasure.position {
                        format!("-{}", last.position)
                    } else {
                        String::new()
                    },
                    last.hash
                );
                print(&erased.fields);
                println!(
                    "no file of {} holds the text now; exports and backups taken before still do",
                    o.data.display()
                );
                ExitCode::SUCCESS
            }
            Err(e @ (EraseError::Nowhere | EraseError::Unerasable(_))) => {
                eprintln!("error: {e}");
                if let EraseError::Unerasable(found) = &e {
                    print(found);
                }
                ExitCode::from(1)
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(2)
            }
        }
    };
    store.close().await;
    code
}
