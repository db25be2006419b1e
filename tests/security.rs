//! What a penetration test checks first, against the real server: the
//! security headers on every answer, the sign-in cookie marked Secure behind
//! a TLS proxy, and a data directory that only its owner can read.

mod support;

use reqwest::redirect::Policy;
use std::os::unix::fs::PermissionsExt;
use support::*;

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let s = Server::start(true);
    let c = no_redirects();
    for path in [
        "/",
        "/compare",
        "/trends",
        "/audit",
        "/signin",
        "/api/v1/board?as_at=2024-09-10",
        "/api/v1/openapi.json",
        "/healthz",
        "/no-such-page",
    ] {
        let res = c.get(s.url(path)).send().await.unwrap();
        let h = res.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("default-src 'none'") && !csp.contains("script-src"),
            "{path}: {csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["referrer-policy"], "same-origin", "{path}");
    }
}

#[tokio::test]
async fn the_cookie_is_secure_behind_a_tls_proxy() {
    for (extra, secure) in [(&["--tls-proxy"][..], true), (&[][..], false)] {
        let dir = tempfile::TempDir::new().unwrap();
        let s = Server::start_with(&dir.path().join("data"), extra);
        let c = no_redirects();
        let res = c
            .post(s.url("/signin"))
            .body(format!("token={}&next=%2F", s.admin))
            .send()
            .await
            .unwrap();
        let cookie = res.headers()["set-cookie"].to_str().unwrap().to_string();
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
            "{cookie}"
        );
        assert_eq!(cookie.contains("; Secure"), secure, "{extra:?}: {cookie}");
        let res = c.post(s.url("/signout")).send().await.unwrap();
        let cookie = res.headers()["set-cookie"].to_str().unwrap().to_string();
        assert_eq!(cookie.contains("; Secure"), secure, "{extra:?}: {cookie}");
    }
}

fn modes(dir: &std::path::Path, out: &mut Vec<(String, u32, bool)>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let meta = e.metadata().unwrap();
        out.push((
            e.path().display().to_string(),
            meta.permissions().mode() & 0o777,
            meta.is_dir(),
        ));
        if meta.is_dir() {
            modes(&e.path(), out);
        }
    }
}

#[tokio::test]
async fn the_data_directory_is_its_owners_alone() {
    let dir = tempfile::TempDir::new().unwrap();
    let data = dir.path().join("data");
    // A directory an earlier release left readable by others is tightened too.
    std::fs::create_dir_all(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(data.join("notes.txt"), "left by hand").unwrap();
    std::fs::set_permissions(
        data.join("notes.txt"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let mut s = Server::start_on(&data, false);
    s.batch(&serde_json::json!({"events": [event(PROGRAMME, "ProgrammeRegistered", serde_json::json!({"name": "P", "authority": "A"}), "2024-09-10")]})).await;
    assert_eq!(s.stop(), Some(0));
    assert_eq!(
        std::fs::metadata(&data).unwrap().permissions().mode() & 0o777,
        0o700
    );
    let mut all = Vec::new();
    modes(&data, &mut all);
    assert!(all.iter().any(|(p, _, _)| p.ends_with("/db")), "{all:?}");
    assert!(
        all.iter().any(|(p, _, _)| p.ends_with("/signing.key")),
        "{all:?}"
    );
    for (path, mode, is_dir) in all {
        assert_eq!(mode, if is_dir { 0o700 } else { 0o600 }, "{path}");
    }
}
