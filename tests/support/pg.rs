//! A PostgreSQL of the test's own, from Debian's package: initdb in a temp
//! dir, a loopback port, stopped when dropped (as the benchmark harness runs it).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct Postgres {
    child: Option<Child>,
    dir: PathBuf,
    pub port: u16,
    bin: PathBuf,
    settings: Vec<String>,
    _tmp: tempfile::TempDir,
}

fn bin() -> Option<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("initdb").exists())
        .collect();
    versions.sort();
    versions.pop()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// A PostgreSQL program, as user postgres when we are root (initdb refuses root).
fn cmd(bin: &Path, program: &str) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin.join(program));
        c
    } else {
        Command::new(bin.join(program))
    }
}

impl Postgres {
    /// A fresh PostgreSQL, or None (saying why) where the package is missing
    /// outside CI; in CI (`CI` set) a missing package fails the test.
    pub fn start() -> Option<Postgres> {
        Postgres::start_with(&[])
    }

    /// As [`Postgres::start`], with server settings (`-c name=value` pairs).
    pub fn start_with(settings: &[&str]) -> Option<Postgres> {
        let Some(bin) = bin() else {
            assert!(
                std::env::var("CI").is_err(),
                "CI must have PostgreSQL: .ci/run installs Debian's postgresql package"
            );
            eprintln!("skipped: Debian's postgresql package is not installed (apt-get install -y postgresql)");
            return None;
        };
        let tmp = tempfile::TempDir::new().expect("tempdir");
        let dir = tmp.path().join("pg");
        std::fs::create_dir_all(&dir).expect("pg dir");
        if is_root() {
            let _ = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(tmp.path())
                .status();
        }
        let ok = cmd(&bin, "initdb")
            .arg("-D")
            .arg(&dir)
            .args(["-U", "ragtrail", "--auth=trust", "-E", "UTF8"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "initdb failed");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut pg = Postgres {
            child: None,
            dir,
            port,
            bin,
            settings: settings.iter().map(|s| s.to_string()).collect(),
            _tmp: tmp,
        };
        pg.run();
        Some(pg)
    }

    /// Starts the server on its data dir and waits until it takes connections.
    pub fn run(&mut self) {
        let child = cmd(&self.bin, "postgres")
            .arg("-D")
            .arg(&self.dir)
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-k", ""])
            .args(&self.settings)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start postgres");
        self.child = Some(child);
        for _ in 0..200 {
            let ready = cmd(&self.bin, "pg_isready")
                .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if ready {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("postgres did not start");
    }

    /// Stops it the hard way, as a power cut or `kill -9` would (no checkpoint).
    pub fn crash(&mut self) {
        let _ = cmd(&self.bin, "pg_ctl")
            .arg("-D")
            .arg(&self.dir)
            .args(["-m", "immediate", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if let Some(mut c) = self.child.take() {
            let _ = c.wait();
        }
    }

    pub fn url(&self) -> String {
        format!("postgresql://ragtrail@127.0.0.1:{}/postgres", self.port)
    }

    pub async fn connect(&self) -> tokio_postgres::Client {
        let (client, conn) = tokio_postgres::connect(&self.url(), tokio_postgres::NoTls)
            .await
            .expect("connect to postgres");
        tokio::spawn(conn);
        client
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = cmd(&self.bin, "pg_ctl")
            .arg("-D")
            .arg(&self.dir)
            .args(["-m", "fast", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if let Some(mut c) = self.child.take() {
            let _ = c.wait();
        }
    }
}
