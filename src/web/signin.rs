//! `/signin` and `/signout`: a token in an HttpOnly, SameSite=Strict cookie.

use super::html::{esc, layout, params};
use crate::caller::Caller;
use crate::caller::COOKIE;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};

/// Where to go after signing in: a path on this site, or `/`. Browsers
/// read `//host`, `/\\host` and paths with tabs or line breaks in them as
/// other hosts (or refuse them), so only visible ASCII without a backslash,
/// starting with one `/`, is kept; everything else falls back to `/`.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && n.bytes().all(|b| (0x21..=0x7e).contains(&b) && b != b'\\') =>
        {
            n.to_string()
        }
        _ => "/".into(),
    }
}

fn form_html(next: &str, csrf: &str, error: Option<&str>) -> String {
    format!(
        "<form class=\"record\" method=\"post\" action=\"/signin\" id=\"signin-form\">{}<input type=\"hidden\" name=\"next\" value=\"{}\"><label class=\"wide\">Access token<input type=\"password\" name=\"token\" id=\"token\" autocomplete=\"current-password\" required{}></label>{}<div class=\"wide\"><button class=\"primary\" id=\"signin\">Sign in</button></div></form><p class=\"muted\">Tokens come from your admin (<code>ragtrail token create</code>). Readers can view; writers can also record changes.</p>",
        super::html::csrf_field(Some(csrf)),
        esc(next),
        if error.is_some() { " class=\"field-error\" aria-invalid=\"true\"" } else { "" },
        error.map(|e| format!("<p class=\"error wide\" role=\"alert\">{}</p>", esc(e))).unwrap_or_default()
    )
}

/// The sign-in form's nonce: the one its cookie holds, or a new one (and the cookie to set).
fn nonce_of(headers: &HeaderMap, secure: bool) -> (String, Option<header::HeaderValue>) {
    match crate::csrf::cookie(headers, crate::csrf::NONCE_COOKIE).filter(|n| n.len() == 32) {
        Some(n) => (n, None),
        None => {
            let n = crate::csrf::nonce();
            let secure = if secure { "; Secure" } else { "" };
            let cookie = format!(
                "{}={n}; Path=/signin; HttpOnly; SameSite=Strict{secure}",
                crate::csrf::NONCE_COOKIE
            );
            (n, header::HeaderValue::from_str(&cookie).ok())
        }
    }
}

pub async fn form(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let p = params(uri.query());
    let (nonce, set) = nonce_of(&headers, state.secure_cookies);
    let mut res = layout(
        "Sign in",
        &caller,
        &form_html(
            &safe_next(p.text("next")),
            &state.csrf.for_nonce(&nonce),
            None,
        ),
    )
    .into_response();
    if let Some(v) = set {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

pub async fn submit(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let text = String::from_utf8_lossy(&body);
    let p = crate::params::Params::from_form(Some(&text));
    let next = safe_next(p.text("next"));
    let token = p.text("token").unwrap_or("").trim().to_string();
    let nonce = crate::csrf::cookie(&headers, crate::csrf::NONCE_COOKIE);
    let expected = nonce.as_deref().map(|n| state.csrf.for_nonce(n));
    if !crate::csrf::matches(p.text(crate::csrf::FIELD), expected.as_deref()) {
        let (nonce, set) = nonce_of(&HeaderMap::new(), state.secure_cookies);
        let mut res = (
            StatusCode::FORBIDDEN,
            layout(
                "Sign in",
                &caller,
                &form_html(&next, &state.csrf.for_nonce(&nonce), Some("This sign-in form had expired or did not come from this server; nothing was done. Sign in again here.")),
            ),
        )
            .into_response();
        if let Some(v) = set {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
        return res;
    }
    if state.tokens.authenticate(&token).is_none() {
        return (
            StatusCode::UNAUTHORIZED,
            layout(
                "Sign in",
                &caller,
                &form_html(
                    &next,
                    &state.csrf.for_nonce(nonce.as_deref().unwrap_or_default()),
                    Some("That token is not known (or was revoked)."),
                ),
            ),
        )
            .into_response();
    }
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    let cookie =
        format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200{secure}");
    let mut res = Redirect::to(&next).into_response();
    if let Ok(v) = header::HeaderValue::from_str(&cookie) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}

pub async fn signout(State(state): State<AppState>, caller: Caller, body: Bytes) -> Response {
    let text = String::from_utf8_lossy(&body);
    let p = crate::params::Params::from_form(Some(&text));
    if caller.0.is_some() && !crate::csrf::matches(p.text(crate::csrf::FIELD), caller.1.as_deref())
    {
        return super::html::csrf_refused(&caller);
    }
    let mut res = Redirect::to("/").into_response();
    let secure = if state.secure_cookies { "; Secure" } else { "" };
    let cookie = format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}");
    if let Ok(v) = header::HeaderValue::from_str(&cookie) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_paths_on_this_site_are_kept() {
        for good in ["/", "/items/1?as_at=2024-09-10", "/compare#movement"] {
            assert_eq!(safe_next(Some(good)), good);
        }
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "/\t/evil",
            "/x\r\nSet-Cookie: a=b",
            "https://evil.example",
            "evil",
            "",
            "/caf\u{e9}",
            "/ space",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
