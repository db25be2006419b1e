//! `ragtrail replicate`: a source ragtrail's log into PostgreSQL, exactly
//! once and in position order, for Power BI and for many authorities side by
//! side. It catches up a page at a time, then follows the live feed. Where
//! it has got to is PostgreSQL's own (`ragtrail.sources`), written in the
//! same transaction as the events, so after a crash of either side, or of
//! the replicator, it resumes from there with no gap and no duplicate.
//!
//! - [`schema`]: the tables, the read models and `ragtrail.board_as_at`.
//! - [`sink`]: applying events to PostgreSQL, checked against the chain.
//! - [`source`]: reading the source over HTTP.

pub mod schema;
pub mod sink;
pub mod source;

use sink::SinkError;
use source::{Source, SourceError};
use std::time::Duration;

/// What to replicate, from where, to where.
pub struct Options {
    /// The source's base URL, e.g. `http://127.0.0.1:8080`.
    pub from: String,
    /// A reader token of the source.
    pub token: String,
    /// A PostgreSQL connection string (`postgresql://user@host:port/db`).
    pub to: String,
    /// The name the source's events are kept under (default: its URL).
    pub instance: Option<String>,
}

/// Why replication stopped for good.
#[derive(Debug, thiserror::Error)]
pub enum ReplicateError {
    #[error(transparent)]
    Sink(#[from] SinkError),
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error("the source holds {source_head} events but PostgreSQL already holds {held} of instance {instance:?}: the source's log was replaced by a shorter one. Nothing is applied; replicate it as a new --instance")]
    Shorter {
        instance: String,
        held: u64,
        source_head: u64,
    },
}

impl ReplicateError {
    /// Whether trying again can help (a connection dropped), or the logs
    /// disagree and replication must stop.
    fn lasting(&self) -> bool {
        matches!(
            self,
            ReplicateError::Sink(SinkError::Fork { .. } | SinkError::Bad { .. })
                | ReplicateError::Shorter { .. }
        )
    }
}

/// The most live events applied in one transaction.
const LIVE_BATCH_MAX: usize = 5000;

/// How often the source's signed digest is recorded while following.
const DIGEST_EVERY: Duration = Duration::from_secs(60);

/// Replicates until `stop` resolves or the logs disagree.
pub async fn run(
    o: &Options,
    stop: impl std::future::Future<Output = ()>,
) -> Result<(), ReplicateError> {
    let instance = o.instance.clone().unwrap_or_else(|| o.from.clone());
    let source = Source::new(&o.from, &o.token)?;
    tokio::pin!(stop);
    let mut backoff = Duration::from_millis(200);
    loop {
        let attempt = session(o, &instance, &source);
        let result = tokio::select! {
            r = attempt => r,
            _ = &mut stop => return Ok(()),
        };
        match result {
            Err(e) if e.lasting() => return Err(e),
            Err(e) => {
                eprintln!("replicate: {e}; trying again in {backoff:?}");
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {},
                    _ = &mut stop => return Ok(()),
                }
                backoff = (backoff * 2).min(Duration::from_secs(10));
            }
            Ok(()) => backoff = Duration::from_millis(200),
        }
    }
}

/// One connection to each side: resume from PostgreSQL's high-water mark,
/// check the source still holds that event, catch up, then follow.
async fn session(o: &Options, instance: &str, source: &Source) -> Result<(), ReplicateError> {
    let (mut pg, conn) = tokio_postgres::connect(&o.to, tokio_postgres::NoTls)
        .await
        .map_err(SinkError::from)?;
    let conn = tokio::spawn(conn);
    sink::migrate(&mut pg).await?;
    let (mut position, held) = sink::high_water(&pg, instance, &o.from).await?;
    if position > 0 {
        match source.at(position).await? {
            Some(e) if e.hash == held => {}
            Some(e) => {
                return Err(SinkError::Fork {
                    instance: instance.into(),
                    position,
                    held,
                    given: e.hash,
                }
                .into())
            }
            None => {
                let source_head = source.digest().await?.position;
                return Err(ReplicateError::Shorter {
                    instance: instance.into(),
                    held: position,
                    source_head,
                });
            }
        }
    }
    // Catch up: the next page is fetched while this one is written.
    let (pages_tx, mut pages) = tokio::sync::mpsc::channel::<Vec<crate::wire::EnvelopeView>>(2);
    let fetch = {
        let source = source.clone();
        let mut after = position;
        tokio::spawn(async move {
            loop {
                let page = source.page(after).await?;
                let Some(last) = page.last().map(|e| e.position) else {
                    return Ok::<(), SourceError>(());
                };
                after = last;
                if pages_tx.send(page).await.is_err() {
                    return Ok(());
                }
            }
        })
    };
    while let Some(page) = pages.recv().await {
        position = sink::apply(&mut pg, instance, &page).await?;
        println!("replicate {instance}: at position {position}");
    }
    match fetch.await {
        Ok(Err(e)) => return Err(e.into()),
        Err(e) => return Err(SourceError::Feed(format!("the page fetcher stopped: {e}")).into()),
        Ok(Ok(())) => {}
    }
    sink::digest(&pg, instance, &source.digest().await?).await?;
    println!("replicate {instance}: caught up at position {position}; following the live feed");
    let (tx, mut rx) = tokio::sync::mpsc::channel(4096);
    let feed = {
        let source = source.clone();
        tokio::spawn(async move { source.follow(position, tx).await })
    };
    let mut digest_at = tokio::time::Instant::now() + DIGEST_EVERY;
    let outcome = loop {
        tokio::select! {
            batch = rx.recv() => match batch {
                Some(mut events) => {
                    // Whatever else has arrived meanwhile goes in the same transaction.
                    while events.len() < LIVE_BATCH_MAX {
                        match rx.try_recv() {
                            Ok(more) => events.extend(more),
                            Err(_) => break,
                        }
                    }
                    position = sink::apply(&mut pg, instance, &events).await?;
                }
                None => break Ok(()),
            },
            _ = tokio::time::sleep_until(digest_at) => {
                sink::digest(&pg, instance, &source.digest().await?).await?;
                digest_at = tokio::time::Instant::now() + DIGEST_EVERY;
            }
        }
    };
    feed.abort();
    conn.abort();
    println!("replicate {instance}: the live feed ended at position {position}; reconnecting");
    match feed.await {
        Ok(Err(e)) => Err(e.into()),
        _ => outcome,
    }
}
