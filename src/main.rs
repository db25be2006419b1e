//! `ragtrail`: the command line of the audit-trail service.

mod cli;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};
use ragtrail::auth::Role;
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
    /// Serve the HTTP API on the store in DIR (created if missing). On first
    /// start it creates an admin token and writes it to DIR/admin.token.
    Serve(cli::serve::Options),
    /// Manage access tokens (when no server holds the store; otherwise use
    /// the admin API, POST/DELETE /api/v1/tokens).
    Token {
        #[command(subcommand)]
        action: TokenAction,
    },
    /// Check that the stored log is exactly as it was written: walks the hash
    /// chain from the first event. Exit 0 if it verifies, 1 naming the first bad
    /// position, 2 if the store cannot be read.
    Verify {
        /// The data directory of the store.
        #[arg(long, value_name = "DIR")]
        data: PathBuf,
        /// A signed digest kept earlier (the JSON of GET /api/v1/digest): also
        /// prove today's log still extends it.
        #[arg(long, value_name = "FILE")]
        digest: Option<PathBuf>,
        /// The public key the digest must be signed with (hex, or the JSON of
        /// GET /api/v1/digest/key). Default: this store's own key.
        #[arg(long, value_name = "FILE", requires = "digest")]
        key: Option<PathBuf>,
    },
    /// Import a file of events: JSONL (as the API takes them, or an export to
    /// restore exactly) or CSV (metric readings: metric,period,value,rag,note;
    /// RAG updates: item,dimension,rag,effective,reason). The whole file is
    /// checked first: any bad line and nothing is written. Importing the same
    /// file again changes nothing.
    Import {
        /// The data directory of the store (created if missing).
        #[arg(long, value_name = "DIR")]
        data: PathBuf,
        /// Who the events are recorded by.
        #[arg(long, default_value = "import")]
        actor: String,
        /// The title of the report the file's facts come from: recorded on
        /// each programme the file names, with the file's SHA-256, and shown
        /// on the board and item pages.
        #[arg(long, value_name = "TITLE", requires = "source_date")]
        source_title: Option<String>,
        /// The report's date (YYYY-MM-DD).
        #[arg(long, value_name = "DATE", requires = "source_title")]
        source_date: Option<chrono::NaiveDate>,
        /// Who wrote or completed the report.
        #[arg(long, value_name = "NAME", requires = "source_title")]
        source_author: Option<String>,
        /// For an .xlsx tracker: the programme its rows belong to (created if new).
        #[arg(long, value_name = "NAME")]
        programme: Option<String>,
        /// For an .xlsx tracker: the board date the rows apply at (YYYY-MM-DD).
        #[arg(long, value_name = "DATE")]
        as_at: Option<chrono::NaiveDate>,
        /// For an .xlsx tracker whose programme is new: its authority.
        #[arg(long, value_name = "NAME")]
        authority: Option<String>,
        /// For an .xlsx tracker: a JSON file mapping its headers to what they
        /// hold, e.g. {"Our RAG": "rag", "Notes": "ignore"} (see docs/recording.md).
        #[arg(long, value_name = "FILE")]
        map: Option<PathBuf>,
        /// The file to import (.jsonl, .csv, or an .xlsx tracker).
        file: PathBuf,
    },
    /// Export the log (jsonl), the board as at a date (csv), or a board pack (xlsx).
    Export {
        /// The data directory of the store.
        #[arg(long, value_name = "DIR")]
        data: PathBuf,
        #[arg(long, value_enum)]
        format: cli::export::Format,
        /// The board date for csv and xlsx (default today), YYYY-MM-DD.
        #[arg(long)]
        as_at: Option<chrono::NaiveDate>,
        /// Where to write: a new file (never through a symbolic link).
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: PathBuf,
        /// Replace FILE if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Replicate a running ragtrail's log into PostgreSQL (schema `ragtrail`:
    /// the events, read models and `ragtrail.board_as_at`), exactly once and in
    /// order: catch up, then follow the live feed, until Ctrl-C. After any
    /// crash it resumes from what PostgreSQL holds.
    Replicate {
        /// The source's base URL, e.g. http://127.0.0.1:8080.
        #[arg(long, value_name = "URL")]
        from: String,
        /// A reader token of the source (or set RAGTRAIL_TOKEN, which keeps it out of `ps`).
        #[arg(
            long,
            value_name = "TOKEN",
            env = "RAGTRAIL_TOKEN",
            hide_env_values = true
        )]
        token: String,
        /// Where to: a PostgreSQL connection string, e.g. postgresql://ragtrail@127.0.0.1:5432/ragtrail.
        #[arg(long, value_name = "POSTGRESQL_URL")]
        to: String,
        /// The name this source's events are kept under, to keep several authorities apart (default: its URL).
        #[arg(long, value_name = "NAME")]
        instance: Option<String>,
    },
    /// Replay every event of the log through the projections (board, comparison,
    /// trends) from position 1 and print how fast that went, in events/s.
    Rebuild {
        /// The data directory of the store.
        #[arg(long, value_name = "DIR")]
        data: PathBuf,
    },
    /// Erase personal text (a person's name) from every event, on a lawful
    /// request, while no server holds the store. Each field that holds it is
    /// replaced by "[erased …]", the erasure is recorded as an event (the
    /// text only as a salted hash), and the store's files are rewritten so
    /// that none holds the text. Every hash, digest and seal still verifies.
    /// Exports and backups taken before keep the text. With a server running,
    /// use POST /api/v1/erasures (admin) instead. Exit 0 when erased (or, with
    /// --dry-run, when listed), 1 when the text is found nowhere or cannot be
    /// erased, 2 on bad input or an unreadable store.
    Erase {
        /// The data directory of the store.
        #[arg(long, value_name = "DIR")]
        data: PathBuf,
        /// The text to erase. Give it several times for variants
        /// (--text "Jane Smith" --text "J. Smith"). Case is ignored for ASCII letters.
        #[arg(long, value_name = "TEXT", required = true)]
        text: Vec<String>,
        /// Why: the request's reference, recorded as the erasure's reason.
        #[arg(long, value_name = "R")]
        reason: String,
        /// The lawful basis, e.g. "UK GDPR Article 17(1)(a)".
        #[arg(long, value_name = "B")]
        legal_basis: String,
        /// List every event and field that holds the text, and change nothing.
        #[arg(long)]
        dry_run: bool,
        /// The name recorded as who erased (default: your login name).
        #[arg(long, value_name = "NAME")]
        actor: Option<String>,
    },
}

#[derive(Subcommand)]
enum TokenAction {
    /// Create a token and print it (it is shown this once only).
    Create {
        #[arg(long, value_name = "DIR")]
        data: PathBuf,
        #[arg(long, value_enum)]
        role: Role,
        /// Who it is for; becomes the actor of every event recorded with it.
        #[arg(long)]
        name: String,
    },
    /// List token names and roles.
    List {
        #[arg(long, value_name = "DIR")]
        data: PathBuf,
    },
    /// Revoke a token by name.
    Revoke {
        #[arg(long, value_name = "DIR")]
        data: PathBuf,
        #[arg(long)]
        name: String,
    },
}

fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Runtime::new().map_err(|e| {
        eprintln!("error: cannot start the async runtime: {e}");
        ExitCode::from(2)
    })
}

fn main() -> ExitCode {
    // Everything ragtrail creates (the store, tokens, keys, exports) is its
    // owner's alone: files 0600, directories 0700.
    // SAFETY: umask only sets the process's file-creation mask.
    unsafe {
        libc::umask(0o077);
    }
    let cli = Cli::parse();
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    match cli.command {
        Command::Serve(options) => rt.block_on(cli::serve::run(options)),
        Command::Token { action } => match action {
            TokenAction::Create { data, role, name } => {
                rt.block_on(cli::token::create(data, role, name))
            }
            TokenAction::List { data } => rt.block_on(cli::token::list(data)),
            TokenAction::Revoke { data, name } => rt.block_on(cli::token::revoke(data, name)),
        },
        Command::Verify { data, digest, key } => {
            cli::verify::run(&data, digest.as_deref(), key.as_deref())
        }
        Command::Rebuild { data } => rt.block_on(cli::rebuild::run(&data)),
        Command::Erase {
            data,
            text,
            reason,
            legal_basis,
            dry_run,
            actor,
        } => rt.block_on(cli::erase::run(cli::erase::Options {
            data,
            texts: text,
            reason,
            legal_basis,
            dry_run,
            actor,
        })),
        Command::Replicate {
            from,
            token,
            to,
            instance,
        } => rt.block_on(cli::replicate::run(ragtrail::replicate::Options {
            from,
            token,
            to,
            instance,
        })),
        Command::Import {
            data,
            actor,
            source_title,
            source_date,
            source_author,
            programme,
            as_at,
            authority,
            map,
            file,
        } => {
            if file
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("xlsx"))
            {
                return rt.block_on(cli::import::tracker(
                    &data,
                    &actor,
                    &file,
                    cli::import::TrackerArgs {
                        programme,
                        as_at,
                        authority,
                        map,
                    },
                ));
            }
            let source = source_title.zip(source_date).map(|(title, date)| {
                ragtrail::import::source::Source {
                    title,
                    date,
                    author: source_author,
                }
            });
            rt.block_on(cli::import::run(&data, &actor, &file, source.as_ref()))
        }
        Command::Export {
            data,
            format,
            as_at,
            output,
            force,
        } => rt.block_on(cli::export::run(&data, format, as_at, &output, force)),
    }
}
