//! Process plumbing for the real-component harness: free loopback ports, a
//! tiny blocking HTTP/1.0 client, process-group kills, shell quoting, and the
//! skip rules. No async: tests call these around their tokio runtimes.

#![allow(dead_code)]

use std::fmt::Write as _;
use std::io::{Read, Write as _};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

// One skip rule for every test crate; some crates also load it through `common`.
#[allow(clippy::duplicate_mod)]
#[path = "../common/skip.rs"]
mod skip;
pub use skip::say;
/// Keep the temp dirs (configs, logs) of real-component tests for inspection.
pub const KEEP_ENV: &str = "GATEWATCH_KEEP_TMP";

/// An executable named by `var`, or `None` after printing the visible
/// `SKIPPED <test>: set VAR=…` line. A set but wrong path is a failure, and so
/// is an unset variable when `GATEWATCH_REQUIRE_REAL=1`.
pub fn require_executable(test: &str, var: &str, example: &str) -> Option<PathBuf> {
    if let Some(v) = std::env::var_os(var).filter(|v| !v.is_empty()) {
        let p = PathBuf::from(v);
        assert!(p.is_file(), "{var}={} is not a file", p.display());
        return Some(p);
    }
    skip::skip(test, &format!("set {var}={example}"));
    None
}

/// Real-component tests take this lock so that two proxies never boot at once
/// on a small CI machine (a boot is ~5 s of one core).
pub fn exclusive() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    let l = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
    l.local_addr().expect("local addr").port()
}

pub fn keep_tmp() -> bool {
    std::env::var_os(KEEP_ENV).is_some_and(|v| !v.is_empty() && v != "0")
}

/// Drop a temp dir, or keep it (and say where) under `GATEWATCH_KEEP_TMP=1`.
pub fn finish_dir(dir: tempfile::TempDir) {
    if keep_tmp() {
        let kept = dir.keep();
        say(&format!("kept {}", kept.display()));
    }
}

/// `'…'` for /bin/sh.
pub fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Is `pid` running (not a zombie) with `marker` in its command line? The
/// marker guards against a recycled pid.
pub fn alive(pid: i32, marker: &str) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return false };
    let state = stat.rsplit_once(") ").map_or('?', |(_, rest)| rest.chars().next().unwrap_or('?'));
    if matches!(state, 'Z' | 'X') {
        return false;
    }
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .is_ok_and(|c| String::from_utf8_lossy(&c).replace('\0', " ").contains(marker))
}

/// SIGTERM the process group `pgid`, wait up to `grace`, then SIGKILL it.
/// Returns how long the group leader took to exit.
pub fn kill_group(pgid: i32, marker: &str, grace: Duration) -> Duration {
    let started = Instant::now();
    if !alive(pgid, marker) {
        return Duration::ZERO;
    }
    let _ = killpg(Pid::from_raw(pgid), Signal::SIGTERM);
    while alive(pgid, marker) && started.elapsed() < grace {
        std::thread::sleep(Duration::from_millis(50));
    }
    if alive(pgid, marker) {
        let _ = killpg(Pid::from_raw(pgid), Signal::SIGKILL);
        let hard = Instant::now();
        while alive(pgid, marker) && hard.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    started.elapsed()
}

/// SIGKILL a whole process group we own (the child is its leader).
pub fn kill_child_group(child: &mut std::process::Child) {
    if let Ok(pid) = i32::try_from(child.id()) {
        let _ = killpg(Pid::from_raw(pid), Signal::SIGTERM);
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(3) {
            if matches!(child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// A blocking HTTP/1.0 exchange with 127.0.0.1:`port`: (status, body).
pub fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Option<(u16, String)> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    s.set_write_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut req = format!("{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    for (k, v) in headers {
        let _ = write!(req, "{k}: {v}\r\n");
    }
    if let Some(b) = body {
        let _ = write!(req, "Content-Type: application/json\r\nContent-Length: {}\r\n", b.len());
    }
    req.push_str("\r\n");
    if let Some(b) = body {
        req.push_str(b);
    }
    s.write_all(req.as_bytes()).ok()?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).ok()?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, body.to_owned()))
}

/// The last `n` lines of a log file, for failure messages.
pub fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| format!("(cannot read {}: {e})", path.display()));
    let lines: Vec<&str> = text.lines().collect();
    let from = lines.len().saturating_sub(n);
    format!("--- last {} lines of {} ---\n{}", lines.len() - from, path.display(), lines[from..].join("\n"))
}
