//! A real `ragtrail serve` on 127.0.0.1 with a temp data dir, for end-to-end tests.
#![allow(dead_code)]

use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct Server {
    pub child: Child,
    log: std::sync::Arc<std::sync::Mutex<String>>,
    pub base: String,
    pub data: PathBuf,
    pub admin: String,
    _dir: Option<tempfile::TempDir>,
}

/// Reads a starting server's output until it says where it listens, and
/// returns that base URL; the rest of the output is drained in the
/// background, so the server never blocks on it.
pub fn listening_on(stdout: impl std::io::Read + Send + 'static) -> String {
    let mut lines = BufReader::new(stdout).lines();
    let mut base = None;
    for _ in 0..20 {
        let Some(Ok(line)) = lines.next() else { break };
        if let Some(rest) = line.split("listening on ").nth(1) {
            base = rest.split_whitespace().next().map(str::to_string);
            break;
        }
    }
    std::thread::spawn(move || for _ in lines {});
    base.expect("the server said where it listens")
}

impl Server {
    /// Starts a server on a fresh temp dir.
    pub fn start(public_read: bool) -> Server {
        let dir = tempfile::TempDir::new().expect("tempdir");
        let data = dir.path().join("data");
        let mut s = Server::start_on(&data, public_read);
        s._dir = Some(dir);
        s
    }

    /// Starts a server on `data` (which it may create).
    pub fn start_on(data: &Path, public_read: bool) -> Server {
        Server::start_with(data, if public_read { &["--public-read"] } else { &[] })
    }

    /// Starts the demo on a fresh temp dir.
    pub fn start_demo() -> Server {
        let dir = tempfile::TempDir::new().expect("tempdir");
        let mut s = Server::start_with(&dir.path().join("data"), &["--demo"]);
        s._dir = Some(dir);
        s
    }

    /// Starts a server on `data` with extra `serve` arguments.
    pub fn start_with(data: &Path, extra: &[&str]) -> Server {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ragtrail"));
        cmd.args(["serve", "--data"]).arg(data);
        if !extra.contains(&"--addr") {
            cmd.args(["--addr", "127.0.0.1:0"]);
        }
        cmd.args(extra);
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start ragtrail serve");
        let base = listening_on(child.stdout.take().expect("stdout"));
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        if let Some(stderr) = child.stderr.take() {
            let log = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    if let Ok(mut l) = log.lock() {
                        l.push_str(&line);
                        l.push('\n');
                    }
                }
            });
        }
        let admin = std::fs::read_to_string(data.join("admin.token"))
            .expect("admin token")
            .trim()
            .to_string();
        Server {
            child,
            log,
            base,
            data: data.to_path_buf(),
            admin,
            _dir: None,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Sends SIGTERM and waits (bounded) for a clean exit; returns the exit code.
    pub fn stop(&mut self) -> Option<i32> {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        for _ in 0..100 {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        None
    }

    /// GETs a path as the admin and parses the JSON answer.
    pub async fn admin_json(&self, path: &str) -> Value {
        self.json(path, Some(&self.admin)).await
    }

    /// GETs a path without a token and parses the JSON answer.
    pub async fn public_json(&self, path: &str) -> Value {
        self.json(path, None).await
    }

    async fn json(&self, path: &str, token: Option<&str>) -> Value {
        let mut req = client().get(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send()
            .await
            .expect("request")
            .json()
            .await
            .expect("a JSON answer")
    }

    /// POSTs `{"events": [...]}` to `/api/v1/batches` as the admin; it must be accepted.
    pub async fn batch(&self, body: &Value) {
        let res = client()
            .post(self.url("/api/v1/batches"))
            .bearer_auth(&self.admin)
            .json(body)
            .send()
            .await
            .expect("request");
        let status = res.status();
        assert_eq!(status, 201, "{}", res.text().await.unwrap_or_default());
    }

    /// Creates a token named `name` with `role` (as the admin) and returns its secret.
    pub async fn token(&self, name: &str, role: &str) -> String {
        let res = client()
            .post(self.url("/api/v1/tokens"))
            .bearer_auth(&self.admin)
            .json(&serde_json::json!({"name": name, "role": role}))
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), 201, "creating token {name}");
        let made: Value = res.json().await.expect("a JSON answer");
        made["token"].as_str().expect("a token").to_string()
    }

    /// The server's log (stderr) so far.
    pub fn log(&self) -> String {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

pub const PROGRAMME: &str = "00000000-0000-0000-0000-000000000001";

pub fn event(stream: &str, kind: &str, data: Value, effective: &str) -> Value {
    json!({ "stream": stream, "type": kind, "data": data, "effective": effective })
}

/// The value of a page's hidden CSRF field (the first form's).
pub fn csrf_of(html: &str) -> String {
    html.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default()
        .to_string()
}

/// Signs in through the form as a browser does: GET /signin (the form's
/// nonce cookie and token), then POST `token` with `next` (already
/// URL-encoded). Returns the answer to the post.
pub async fn sign_in(
    c: &reqwest::Client,
    s: &Server,
    token: &str,
    next: &str,
) -> reqwest::Response {
    let form = c.get(s.url("/signin")).send().await.expect("GET /signin");
    let nonce = form
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("ragtrail_csrf="))
        .and_then(|v| v.split(';').next())
        .unwrap_or_default()
        .to_string();
    let csrf = csrf_of(&form.text().await.expect("sign-in form"));
    c.post(s.url("/signin"))
        .header("Cookie", nonce)
        .body(format!("csrf={csrf}&token={token}&next={next}"))
        .send()
        .await
        .expect("POST /signin")
}

/// Signs in through the form and returns the cookie to send (`name=value`).
pub async fn signed_in(c: &reqwest::Client, s: &Server, token: &str) -> String {
    let res = sign_in(c, s, token, "%2F").await;
    assert_eq!(res.status(), 303, "signing in");
    res.headers()["set-cookie"]
        .to_str()
        .expect("a cookie")
        .split(';')
        .next()
        .unwrap_or_default()
        .to_string()
}

/// A client that shows redirects instead of following them.
pub fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// Every event of the log, paged through `GET /api/v1/events` as the admin.
pub async fn whole_log(s: &Server) -> Vec<Value> {
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let page: Value = s
            .admin_json(&format!("/api/v1/events?after={after}&limit=1000"))
            .await;
        let events = page["events"].as_array().cloned().unwrap_or_default();
        if events.is_empty() {
            return out;
        }
        after = page["next_after"].as_u64().expect("next_after");
        out.extend(events);
    }
}
