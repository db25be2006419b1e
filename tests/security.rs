//! What a penetration test checks first, against the real server: the
//! security headers on every answer, the sign-in cookie marked Secure behind
//! a TLS proxy, and a data directory that only its owner can read.

mod support;

use std::os::unix::fs::PermissionsExt;
use support::*;

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

fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

/// A live-feed subscriber that asks from position 0, reads the status line
/// of the answer (so its place is taken), and then never reads again.
fn idle_subscriber(s: &Server) -> std::net::TcpStream {
    use std::io::{Read, Write};
    let addr = s.base.trim_start_matches("http://");
    let mut tcp = std::net::TcpStream::connect(addr).unwrap();
    let request = format!(
        "GET /api/v1/events/live?after=0 HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\nAccept: text/event-stream\r\n\r\n",
        s.admin
    );
    tcp.write_all(request.as_bytes()).unwrap();
    tcp.set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    let mut status = [0u8; 12];
    tcp.read_exact(&mut status).unwrap();
    assert_eq!(&status, b"HTTP/1.1 200", "a subscriber was refused");
    tcp
}

/// The live feed takes at most `--live-max` subscribers (503 with Retry-After
/// beyond), and a subscriber that never reads holds one page of events, not
/// the log: 100 of them from position 0 leave the server's memory nearly
/// where it was (what the kernel's socket buffers take is not the server's).
#[tokio::test]
async fn the_live_feed_is_capped_and_slow_readers_hold_little() {
    let dir = tempfile::TempDir::new().unwrap();
    let s = Server::start_with(&dir.path().join("data"), &["--live-max", "110"]);
    for b in 0..1 {
        let events: Vec<_> = (0..1000)
            .map(|i| event(PROGRAMME, "NarrativeRecorded", serde_json::json!({"section": "progress", "text": format!("batch {b} update {i}: {}", "x".repeat(300))}), "2024-09-10"))
            .collect();
        s.batch(&serde_json::json!({"events": events})).await;
    }
    let before = rss_kb(s.child.id());
    let idle: Vec<_> = (0..100).map(|_| idle_subscriber(&s)).collect();

    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let after = rss_kb(s.child.id());
    let grown_mb = after.saturating_sub(before) / 1024;
    println!("100 idle subscribers: server RSS {before} kB -> {after} kB");
    // One page of 64 events each is ~3 MB; the 512-event pages of before were ~25 MB.
    assert!(
        grown_mb < 15,
        "100 idle subscribers grew the server by {grown_mb} MB"
    );
    // Ten more fill the places; the next gets 503 with Retry-After.
    let mut more: Vec<_> = (0..10).map(|_| idle_subscriber(&s)).collect();
    let c = reqwest::Client::new();
    let res = c
        .get(s.url("/api/v1/events/live?after=0"))
        .bearer_auth(&s.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 503);
    assert_eq!(res.headers()["retry-after"], "5");
    assert!(res.text().await.unwrap().contains("live-feed places"));
    // One leaves: its place is given back.
    drop(more.pop());
    let mut admitted = false;
    for _ in 0..40 {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let res = c
            .get(s.url("/api/v1/events/live?after=999"))
            .bearer_auth(&s.admin)
            .send()
            .await
            .unwrap();
        if res.status() == 200 {
            admitted = true;
            break;
        }
    }
    assert!(
        admitted,
        "a place freed by a closed subscriber was not given back"
    );
    // The rest of the server answers all along.
    let h: serde_json::Value = s.public_json("/healthz").await;
    assert_eq!(h["status"], "ok");
    drop(idle);
}

/// Raises this test process's open-file limit, to hold many connections.
fn allow_files(n: u64) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct given.
    unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
        lim.rlim_cur = n.min(lim.rlim_max);
        libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
    }
}

/// Slowloris: 1,100 connections that each send one header line and then a
/// line now and again, never finishing. `/healthz` keeps answering all along,
/// every slow connection is closed once the header timeout passes, and a
/// kept-alive connection left idle is closed too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_are_cut_off_and_the_server_keeps_answering() {
    use std::io::{Read, Write};
    allow_files(4096);
    let dir = tempfile::TempDir::new().unwrap();
    let s = Server::start_with(
        &dir.path().join("data"),
        &["--header-timeout", "2", "--public-read"],
    );
    let addr = s.base.trim_start_matches("http://").to_string();
    let mut slow = Vec::new();
    for _ in 0..1100 {
        let mut tcp = std::net::TcpStream::connect(&addr).unwrap();
        tcp.write_all(b"GET /healthz HTTP/1.1\r\n").unwrap();
        slow.push(tcp);
    }
    let started = std::time::Instant::now();
    // During the attack: a well-behaved client is answered.
    for _ in 0..3 {
        let h: serde_json::Value = s.public_json("/healthz").await;
        assert_eq!(h["status"], "ok");
        for t in slow.iter_mut() {
            let _ = t.write_all(b"X-Slow: 1\r\n");
        }
        tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    }
    // A kept-alive connection that made one request and then idles.
    let mut idle = std::net::TcpStream::connect(&addr).unwrap();
    idle.write_all(format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes())
        .unwrap();
    let mut answer = [0u8; 12];
    idle.read_exact(&mut answer).unwrap();
    assert_eq!(&answer, b"HTTP/1.1 200");
    // Past the header timeout (2 s) for the slow ones, and for the idle one.
    tokio::time::sleep(std::time::Duration::from_millis(2600).saturating_sub(started.elapsed()))
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(2600)).await;
    fn closed(t: &mut std::net::TcpStream) -> bool {
        t.set_read_timeout(Some(std::time::Duration::from_millis(50)))
            .unwrap();
        let mut buf = [0u8; 4096];
        loop {
            match t.read(&mut buf) {
                Ok(0) => return true,
                Ok(_) => continue, // an answer (408 or 400) before the close
                Err(e)
                    if e.kind() == std::io::ErrorKind::WouldBlock
                        || e.kind() == std::io::ErrorKind::TimedOut =>
                {
                    return false
                }
                Err(_) => return true,
            }
        }
    }
    let still_open = slow.iter_mut().map(closed).filter(|c| !c).count();
    assert_eq!(
        still_open, 0,
        "{still_open} of 1,100 slow connections were left open"
    );
    assert!(
        closed(&mut idle),
        "an idle kept-alive connection was left open"
    );
    let h: serde_json::Value = s.public_json("/healthz").await;
    assert_eq!(h["status"], "ok");
}

/// The penetration test's same-site attacks: a page on another port of this
/// host posting the RAG form with the signed-in writer's cookie, and a
/// `text/plain` form posting to the JSON API. Every one is refused and the
/// log is unchanged; the real form, posted from the server's own page, works.
#[tokio::test]
async fn forms_from_another_origin_and_non_json_api_bodies_are_refused() {
    let s = Server::start(false);
    let c = no_redirects();
    let item = "00000000-0000-0000-0000-000000000014";
    s.batch(&serde_json::json!({"events": [
        event(PROGRAMME, "ProgrammeRegistered", serde_json::json!({"name": "P", "authority": "A"}), "2024-09-10"),
        event(item, "ItemRegistered", serde_json::json!({"programme": PROGRAMME, "kind": "priority", "reference": "4", "title": "Leadership"}), "2024-09-10"),
    ]})).await;
    let log = || async { s.admin_json("/api/v1/events?after=0&limit=1000").await };
    let before = log().await;
    let writer = s.token("secretary", "writer").await;
    let res = sign_in(&c, &s, &writer, "%2F").await;
    let pair = res.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let page = c
        .get(s.url(&format!("/items/{item}")))
        .header("Cookie", &pair)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&page);
    assert_eq!(csrf.len(), 64, "the form carries a token");
    let form = |token: &str| {
        format!("csrf={token}&dimension=overall&rag=red&effective=2024-10-01&reason=forged")
    };
    let evil = "http://127.0.0.1:9";
    // Another origin of this site, as the browser reports it: refused even with the right token.
    for (name, value) in [
        ("Origin", evil),
        ("Sec-Fetch-Site", "same-site"),
        ("Sec-Fetch-Site", "cross-site"),
    ] {
        let res = c
            .post(s.url(&format!("/items/{item}/rag")))
            .header("Cookie", &pair)
            .header(name, value)
            .body(form(&csrf))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "{name}: {value}");
    }
    // No token, or another session's: refused.
    for token in ["", &"0".repeat(64)] {
        let res = c
            .post(s.url(&format!("/items/{item}/rag")))
            .header("Cookie", &pair)
            .body(form(token))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "token {token:?}");
        assert!(res.text().await.unwrap().contains("Nothing was recorded"));
    }
    // The JSON API never takes the cookie, and never a body that is not JSON.
    let body = serde_json::json!({"stream": item, "type": "RagChanged", "data": {"dimension": "overall", "rag": "red"}, "effective": "2024-10-01", "reason": "forged"}).to_string();
    let res = c
        .post(s.url("/api/v1/events"))
        .header("Cookie", &pair)
        .header("Content-Type", "application/json")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        401,
        "the cookie is not a credential for the API"
    );
    for kind in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let res = c
            .post(s.url("/api/v1/events"))
            .bearer_auth(&writer)
            .header("Content-Type", kind)
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 415, "{kind}");
        assert_eq!(res.headers()["content-type"], "application/problem+json");
    }
    assert_eq!(
        log().await,
        before,
        "every refused attack left the log unchanged"
    );
    // The form from the server's own page, as a browser posts it, records the change.
    let res = c
        .post(s.url(&format!("/items/{item}/rag")))
        .header("Cookie", &pair)
        .header("Origin", s.base.as_str())
        .header("Sec-Fetch-Site", "same-origin")
        .body(form(&csrf).replace("forged", "agreed+at+the+board"))
        .send()
        .await
        .unwrap();
    let status = res.status();
    assert_eq!(status, 303, "{}", res.text().await.unwrap());
    let after = log().await;
    assert_eq!(
        after["events"].as_array().unwrap().len(),
        before["events"].as_array().unwrap().len() + 1
    );
}
