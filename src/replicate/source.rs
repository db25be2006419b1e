//! The source's side: its log over HTTP with a reader token, a page at a
//! time (`GET /api/v1/events?after=`), then live (`GET /api/v1/events/live`
//! with `Last-Event-ID`), and its signed digest.

use crate::signing::SignedDigest;
use crate::wire::EnvelopeView;
use futures::StreamExt;
use serde::Deserialize;

/// Why the source could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("cannot reach the source: {0}")]
    Http(#[from] reqwest::Error),
    #[error("the source answered {status}: {detail}")]
    Refused { status: u16, detail: String },
    #[error("the source sent an event that is not JSON of an event: {0}")]
    Garbled(String),
    #[error("the source's live feed says: {0}")]
    Feed(String),
}

/// A ragtrail server, read with a token.
#[derive(Clone)]
pub struct Source {
    base: String,
    token: String,
    http: reqwest::Client,
}

#[derive(Deserialize)]
struct Page {
    events: Vec<EnvelopeView>,
}

impl Source {
    pub fn new(base: &str, token: &str) -> Result<Source, SourceError> {
        Ok(Source {
            base: base.trim_end_matches('/').to_string(),
            token: token.to_string(),
            http: reqwest::Client::builder()
                .connect_timeout(std::time::Duration::from_secs(10))
                .build()?,
        })
    }

    async fn get(&self, path: &str) -> Result<reqwest::Response, SourceError> {
        let res = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .timeout(std::time::Duration::from_secs(60))
            .send()
            .await?;
        let status = res.status();
        if !status.is_success() {
            let detail = res.text().await.unwrap_or_default();
            return Err(SourceError::Refused {
                status: status.as_u16(),
                detail,
            });
        }
        Ok(res)
    }

    /// Up to 1000 events after `after`.
    pub async fn page(&self, after: u64) -> Result<Vec<EnvelopeView>, SourceError> {
        let page: Page = self
            .get(&format!("/api/v1/events?after={after}&limit=1000"))
            .await?
            .json()
            .await?;
        Ok(page.events)
    }

    /// The event at `position`, if the source holds it.
    pub async fn at(&self, position: u64) -> Result<Option<EnvelopeView>, SourceError> {
        if position == 0 {
            return Ok(None);
        }
        Ok(self
            .page(position - 1)
            .await?
            .into_iter()
            .next()
            .filter(|e| e.position == position))
    }

    /// The source's signed digest of its head.
    pub async fn digest(&self) -> Result<SignedDigest, SourceError> {
        Ok(self.get("/api/v1/digest").await?.json().await?)
    }

    /// Follows the live feed from after `after`, sending each run of events
    /// that arrived together, until the feed ends (Ok) or fails.
    pub async fn follow(
        &self,
        after: u64,
        out: tokio::sync::mpsc::Sender<Vec<EnvelopeView>>,
    ) -> Result<(), SourceError> {
        let res = self
            .http
            .get(format!("{}/api/v1/events/live", self.base))
            .bearer_auth(&self.token)
            .header("last-event-id", after.to_string())
            .send()
            .await?;
        if !res.status().is_success() {
            let status = res.status().as_u16();
            let detail = res.text().await.unwrap_or_default();
            return Err(SourceError::Refused { status, detail });
        }
        let mut body = res.bytes_stream();
        let mut buf: Vec<u8> = Vec::new();
        let (mut kind, mut data) = (String::new(), String::new());
        while let Some(chunk) = body.next().await {
            buf.extend_from_slice(&chunk?);
            let mut ready = Vec::new();
            while let Some(end) = buf.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = buf.drain(..=end).collect();
                let line = String::from_utf8_lossy(&line);
                let line = line.trim_end_matches(['\n', '\r']);
                if line.is_empty() {
                    // One event of the stream is complete.
                    if kind == "error" {
                        return Err(SourceError::Feed(data));
                    }
                    if !data.is_empty() {
                        let e: EnvelopeView = serde_json::from_str(&data)
                            .map_err(|e| SourceError::Garbled(e.to_string()))?;
                        ready.push(e);
                    }
                    kind.clear();
                    data.clear();
                } else if let Some(v) = line.strip_prefix("data:") {
                    if !data.is_empty() {
                        data.push('\n');
                    }
                    data.push_str(v.strip_prefix(' ').unwrap_or(v));
                } else if let Some(v) = line.strip_prefix("event:") {
                    kind = v.trim().to_string();
                }
            }
            if !ready.is_empty() && out.send(ready).await.is_err() {
                return Ok(());
            }
        }
        Ok(())
    }
}
