//! `ragtrail import` streams its file: a large import's peak memory is the
//! events it will append, not the file read whole (and copied) as well.
//! (Alone in its test binary, so the children's peak RSS is the import's.)

use std::io::Write;
use std::process::Command;

#[test]
fn a_large_import_streams_its_file() {
    let dir = tempfile::TempDir::new().unwrap();
    let file = dir.path().join("big.jsonl");
    {
        let mut w = std::io::BufWriter::new(std::fs::File::create(&file).unwrap());
        writeln!(w, r#"{{"stream": "big", "type": "ProgrammeRegistered", "data": {{"name": "Big", "authority": "A"}}, "effective": "2024-09-01"}}"#).unwrap();
        // Lines the checker skips (comments) make the file large without adding events.
        let filler = "#".repeat(1000);
        for i in 0..60_000 {
            writeln!(w, "{filler}").unwrap();
            if i % 10 == 0 {
                writeln!(w, r#"{{"stream": "big", "type": "NarrativeRecorded", "data": {{"section": "progress", "text": "update {i}"}}, "effective": "2024-09-02"}}"#).unwrap();
            }
        }
    }
    let size_mb = std::fs::metadata(&file).unwrap().len() / (1024 * 1024);
    let small = dir.path().join("small.jsonl");
    std::fs::write(&small, "{\"stream\": \"small\", \"type\": \"ProgrammeRegistered\", \"data\": {\"name\": \"Small\", \"authority\": \"A\"}, \"effective\": \"2024-09-01\"}\n").unwrap();
    let base_mb = import_peak_mb(&dir.path().join("small-data"), &small, "imported 1 events");
    let peak_mb = import_peak_mb(&dir.path().join("data"), &file, "imported 6001 events");
    println!("a {size_mb} MB file: peak RSS {peak_mb} MB (a 1-line file: {base_mb} MB)");
    assert!(size_mb >= 55, "the file is {size_mb} MB");
    assert!(
        // Reading the file whole would take at least its size on its own.
        peak_mb.saturating_sub(base_mb) < size_mb * 3 / 4,
        "a {size_mb} MB file took {peak_mb} MB against {base_mb} MB for one line: it was read whole"
    );
}

/// Runs `ragtrail import` and returns its own peak RSS (wait4's rusage; the
/// child is reaped by wait4, not by `Child::wait`).
#[allow(clippy::zombie_processes)]
fn import_peak_mb(data: &std::path::Path, file: &std::path::Path, says: &str) -> u64 {
    let child = Command::new(env!("CARGO_BIN_EXE_ragtrail"))
        .args(["import", "--data"])
        .arg(data)
        .arg(file)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    let mut stdout = child.stdout.unwrap();
    let mut said = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut said).unwrap();
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: wait4 reaps our own child and fills the structs given.
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(reaped, pid);
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{said}"
    );
    assert!(said.contains(says), "{said}");
    usage.ru_maxrss as u64 / 1024
}
