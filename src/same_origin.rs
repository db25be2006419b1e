//! The second guard against cross-site request forgery (the first is the
//! forms' tokens, [`crate::csrf`]): a request to the pages that changes
//! something (any method but GET and HEAD) is refused (403) when the browser
//! says it comes from another site or origin.

use crate::error::ApiError;
use axum::extract::Request;
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Refuses a request that changes something when the browser says it comes
/// from another site or origin.
pub async fn same_origin_only(req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS)
        || req.uri().path().starts_with("/api/")
    {
        return next.run(req).await;
    }
    let h = req.headers();
    let fetch_site = h.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    if let Some(site) = fetch_site {
        if site != "same-origin" && site != "none" {
            return refused(&format!(
                "the browser says this request comes from another {}",
                if site == "same-site" {
                    "origin of this site"
                } else {
                    "site"
                }
            ));
        }
    }
    if let Some(origin) = h.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let host = h
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let own = [format!("http://{host}"), format!("https://{host}")];
        if !own.iter().any(|o| o == origin) {
            return refused(&format!("it comes from {origin}, not from this server"));
        }
    }
    next.run(req).await
}

fn refused(why: &str) -> Response {
    ApiError::Forbidden(format!(
        "cross-site request refused: {why}. Use ragtrail's own pages, or call the API with `Authorization: Bearer <token>` from outside a browser"
    ))
    .into_response()
}
