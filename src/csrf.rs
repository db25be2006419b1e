//! Cross-site request forgery, refused twice over:
//!
//! - every form carries a token that only this server can make: an HMAC
//!   (SHA-256, a key made when the server starts) of the signed-in session's
//!   cookie, or, on the sign-in form, of a random nonce kept in a cookie of its
//!   own; a post without the right one is refused (403);
//! - every request to the pages that changes something (see [`crate::same_origin`]) (any method but GET
//!   and HEAD) is refused (403) when the browser says it comes from another
//!   site or origin: `Sec-Fetch-Site` other than `same-origin` or `none`, or
//!   an `Origin` other than this server's own. SameSite=Strict alone stops
//!   cross-*site* requests only; a page on another port of the same host is
//!   the same site.
//!
//! The JSON API takes bearer tokens only (never the cookie), so a browser
//! cannot be made to call it with its user's rights at all; its requests are
//! not held to the origin check (API clients in other origins, allowed by
//! CORS, hold their own tokens).

use axum::http::{header, HeaderMap};
use sha2::{Digest, Sha256};

/// The cookie that holds the sign-in form's nonce.
pub const NONCE_COOKIE: &str = "ragtrail_csrf";
/// The form field that carries the token.
pub const FIELD: &str = "csrf";

/// The server's key for form tokens, made at start (tokens in pages opened
/// before a restart stop working; the page is simply loaded again).
pub struct Key([u8; 32]);

impl Key {
    pub fn new() -> std::io::Result<Key> {
        let mut k = [0u8; 32];
        getrandom::getrandom(&mut k).map_err(|e| std::io::Error::other(e.to_string()))?;
        Ok(Key(k))
    }

    /// HMAC-SHA256 (RFC 2104) of `what` (a purpose) and `binding`, as hex.
    fn mac(&self, what: &str, binding: &str) -> String {
        let pad = |byte: u8| -> Vec<u8> {
            let mut block = [0u8; 64];
            block[..32].copy_from_slice(&self.0);
            block.iter().map(|b| b ^ byte).collect()
        };
        let inner = Sha256::new()
            .chain_update(pad(0x36))
            .chain_update(what.as_bytes())
            .chain_update([0])
            .chain_update(binding.as_bytes())
            .finalize();
        hex::encode(
            Sha256::new()
                .chain_update(pad(0x5c))
                .chain_update(inner)
                .finalize(),
        )
    }

    /// The token for forms of the session signed in with `session` (the cookie's token).
    pub fn for_session(&self, session: &str) -> String {
        self.mac("session", session)
    }

    /// The token for the sign-in form, bound to its nonce cookie.
    pub fn for_nonce(&self, nonce: &str) -> String {
        self.mac("signin", nonce)
    }
}

/// Whether a posted token is the expected one (in constant time).
pub fn matches(posted: Option<&str>, expected: Option<&str>) -> bool {
    use subtle::ConstantTimeEq;
    match (posted, expected) {
        (Some(p), Some(e)) => p.len() == e.len() && bool::from(p.as_bytes().ct_eq(e.as_bytes())),
        _ => false,
    }
}

/// A fresh nonce for the sign-in form.
pub fn nonce() -> String {
    let mut n = [0u8; 16];
    if getrandom::getrandom(&mut n).is_err() {
        // No randomness: a nonce no token will match, so the form is refused, not weakened.
        return String::new();
    }
    hex::encode(n)
}

/// A cookie's value from the request's headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_bound_to_their_session_and_purpose() {
        let k = Key::new().unwrap();
        let t = k.for_session("rt_abc");
        assert_eq!(t, k.for_session("rt_abc"));
        assert_ne!(t, k.for_session("rt_abd"));
        assert_ne!(t, k.for_nonce("rt_abc"));
        assert_ne!(t, Key::new().unwrap().for_session("rt_abc"));
        assert!(matches(Some(&t), Some(&t)));
        assert!(!matches(Some(&t[1..]), Some(&t)));
        assert!(!matches(None, Some(&t)));
        assert!(!matches(Some(""), None));
    }
}
