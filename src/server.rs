//! `ragtrail serve`: the store, the current trail, tokens and the signing
//! key behind one axum router; request logging, body limit, timeouts, and a
//! graceful shutdown that acknowledges nothing it has not made durable.

use crate::api;
use crate::auth::{Role, Tokens};
use crate::current::CurrentTrail;
use crate::error::ApiError;
use crate::signing::{write_private, Signer};
use crate::state::{AppState, Services};
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, Request, StatusCode};
use axum::response::IntoResponse;
use axum::Router;
use ragtrail_events::Store;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

/// How long a request may take before it is answered 408, unless configured.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// How to run the server.
pub struct Config {
    pub data: PathBuf,
    pub addr: SocketAddr,
    pub public_read: bool,
    /// Load the demo programmes into an empty store first (and read publicly).
    pub demo: bool,
    /// How long a request (headers and body) may take before it is answered 408.
    pub request_timeout: Duration,
    /// Mark the sign-in cookie Secure (a TLS proxy is in front).
    pub secure_cookies: bool,
    /// The most live-feed (SSE) subscribers at once.
    pub feed_max: usize,
    /// The most connections served at once.
    pub max_connections: usize,
    /// How long a client may take to send a request's headers (and a kept-alive connection may idle).
    pub header_timeout: Duration,
    /// The origins whose pages may call the API from a browser (CORS); none by default.
    pub cors_origins: Vec<HeaderValue>,
}

/// Errors that stop the server from starting.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] ragtrail_events::StoreError),
    #[error(transparent)]
    Tokens(#[from] crate::auth::TokenError),
    #[error("cannot use the data directory {path}: {source}")]
    Files {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot load the demo: {0}")]
    Demo(#[from] crate::import::LoadError),
    #[error("cannot listen on {addr}: {source}; is another server using that port?")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// The whole router, with its layers.
pub fn router(state: AppState, request_timeout: Duration) -> Router {
    let mut prompt = api::routes()
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::etag::revalidate,
        ))
        .layer(axum::middleware::from_fn(api::body::json_only))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            request_timeout,
        ));
    let mut streaming = api::streaming_routes();
    if let Some(cors) = cors_layer(&state.cors_origins) {
        prompt = prompt.layer(cors.clone());
        streaming = streaming.layer(cors);
    }
    Router::new()
        .merge(prompt)
        .merge(crate::web::routes().layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            request_timeout,
        )))
        .merge(streaming)
        .fallback(|| async {
            ApiError::NotFound("no such route; see the README for the API".into()).into_response()
        })
        .layer(DefaultBodyLimit::max(api::body::BODY_LIMIT))
        // gzip or br when the client asks; never the live feed (its events must not wait in a buffer).
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(axum::middleware::from_fn(crate::same_origin::same_origin_only))
        .layer(axum::middleware::map_response(security_headers))
        .layer(
            // Method and path only: query strings could carry things that must not be logged.
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request<_>| {
                    tracing::info_span!("request", method = %req.method(), path = %req.uri().path())
                })
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .with_state(state)
}

/// CORS for the API, when origins are named (`--cors-origin`); none otherwise,
/// so a browser page of another origin cannot read the API.
fn cors_layer(origins: &[HeaderValue]) -> Option<tower_http::cors::CorsLayer> {
    use axum::http::{header, Method};
    use tower_http::cors::{AllowOrigin, CorsLayer};
    if origins.is_empty() {
        return None;
    }
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins.iter().cloned()))
            .allow_methods([Method::GET, Method::POST, Method::DELETE])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::IF_NONE_MATCH,
                header::ACCEPT,
                header::HeaderName::from_static("idempotency-key"),
                header::HeaderName::from_static("last-event-id"),
            ])
            .expose_headers([
                header::ETAG,
                header::CONTENT_DISPOSITION,
                header::RETRY_AFTER,
                header::WWW_AUTHENTICATE,
            ])
            .max_age(Duration::from_secs(600)),
    )
}

/// An origin as a browser sends it: `scheme://host[:port]`, nothing more.
pub fn parse_origin(text: &str) -> Result<HeaderValue, String> {
    let t = text.trim().trim_end_matches('/');
    let ok = match t.split_once("://") {
        Some(("http" | "https", host)) => {
            !host.is_empty() && !host.contains(['/', '?', '#', ' ', '*'])
        }
        _ => false,
    };
    if !ok {
        return Err(format!(
            "{text:?} is not an origin; give it as https://dashboard.example.org (scheme and host, and a port if not the default)"
        ));
    }
    HeaderValue::from_str(t).map_err(|_| format!("{text:?} is not an origin"))
}

/// The headers every answer carries: no script may run (the pages have none),
/// no site may frame a page, no type is sniffed, and no full URL (which can
/// carry an as-at date or an id) leaks to another site.
async fn security_headers(mut res: axum::response::Response) -> axum::response::Response {
    use axum::http::header::{self, HeaderValue};
    let h = res.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, name: header::HeaderName, value: &'static str| {
        h.entry(name).or_insert(HeaderValue::from_static(value));
    };
    set(
        h,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::REFERRER_POLICY, "same-origin");
    res
}

/// Starts the server and runs until SIGTERM or Ctrl-C.
pub async fn run(config: Config) -> Result<(), StartError> {
    let files = |source| StartError::Files {
        path: config.data.clone(),
        source,
    };
    std::fs::create_dir_all(&config.data).map_err(files)?;
    let store = Store::open(&config.data)?;
    let tokens = Tokens::open(&store)?;
    if tokens.is_empty() {
        let token = tokens.create("admin", Role::Admin)?;
        let path = config.data.join("admin.token");
        write_private(&path, format!("{token}\n").as_bytes()).map_err(files)?;
        println!(
            "created the first admin token \"admin\" and wrote it to {} (mode 0600); use it to create other tokens",
            path.display()
        );
    }
    if config.demo {
        let loaded = crate::demo::load_into(&store).await?;
        if loaded.is_empty() {
            println!("the store already holds events; serving it as it is (the demo loads only into an empty store)");
        }
        for (name, what) in loaded {
            println!("demo {name}: {what}");
        }
    }
    let signer = Arc::new(Signer::load_or_create(&config.data).map_err(files)?);
    let (trail, follower) = CurrentTrail::follow(store.clone()).await?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let state = AppState(Arc::new(Services {
        store: store.clone(),
        trail,
        tokens,
        signer,
        public_read: config.public_read || config.demo,
        secure_cookies: config.secure_cookies,
        csrf: crate::csrf::Key::new().map_err(files)?,
        feed_max: config.feed_max,
        feed_places: Arc::new(tokio::sync::Semaphore::new(config.feed_max)),
        shutdown: stop_rx,
        cors_origins: config.cors_origins.clone(),
    }));
    let shutdown = shutdown_signal();
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|source| StartError::Listen {
            addr: config.addr,
            source,
        })?;
    let addr = listener.local_addr().map_err(files)?;
    let head = store.head();
    println!(
        "ragtrail listening on http://{addr} (data {}, {} events, head {}{})",
        config.data.display(),
        head.position,
        head.hash,
        if config.public_read || config.demo {
            ", public read"
        } else {
            ""
        }
    );
    let app = router(state, config.request_timeout);
    serve(listener, app, &config, shutdown, move || {
        let _ = stop_tx.send(true);
    })
    .await;
    follower.abort();
    // Every acknowledged append was durable before its 201; commit anything queued, then stop.
    store.close().await;
    println!(
        "ragtrail stopped cleanly at position {}",
        store.head().position
    );
    Ok(())
}

/// How long a client may take to send a request's headers, and how long a
/// kept-alive connection may sit idle waiting for the next request.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// Accepts connections until `shutdown`, each served by hyper with a
/// header-read timeout (which also closes kept-alive connections idle that
/// long), at most `max_connections` at once (past that, new ones wait in the
/// kernel's queue while the slow ones time out), backing off when accept fails
/// (out of file descriptors, say) instead of spinning. At shutdown it stops
/// accepting, calls `stopping` (which ends the live feeds), and lets requests
/// in flight finish (for up to 30 s).
async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    config: &Config,
    shutdown: impl std::future::Future<Output = ()>,
    stopping: impl FnOnce(),
) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    let places = Arc::new(tokio::sync::Semaphore::new(config.max_connections.max(1)));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut backoff = Duration::from_millis(10);
    tokio::pin!(shutdown);
    loop {
        let place = tokio::select! {
            p = places.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            _ = &mut shutdown => break,
        };
        let tcp = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => {
                    backoff = Duration::from_millis(10);
                    tcp
                }
                Err(e) => {
                    tracing::warn!("cannot accept a connection ({e}); trying again in {backoff:?}");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(1));
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        // Answers go out at once, not held back to be merged with later bytes (Nagle).
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!("cannot set TCP_NODELAY on a connection: {e}");
        }
        let service = hyper_util::service::TowerToHyperService::new(app.clone());
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(config.header_timeout)
            .serve_connection(TokioIo::new(tcp), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!("connection ended: {e}");
            }
            drop(place);
        });
    }
    tracing::info!("shutting down: finishing requests in flight");
    stopping();
    if tokio::time::timeout(Duration::from_secs(30), graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still in flight after 30 s; stopping anyway");
    }
}

/// Resolves on SIGTERM or Ctrl-C. The handlers are installed when this is
/// called (before the server says it is listening), not when first polled, so a
/// signal sent the moment the address is printed is still a clean shutdown.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let ctrl_c = tokio::signal::ctrl_c();
    async move {
        #[cfg(unix)]
        let term = async move {
            match term {
                Some(mut s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let term = std::future::pending::<()>();
        tokio::select! {
            _ = ctrl_c => {},
            _ = term => {},
        }
    }
}
