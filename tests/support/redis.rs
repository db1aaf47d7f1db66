//! A throwaway Redis for real-component tests (`GATEWATCH_REDIS_SERVER`).

#![allow(dead_code)]

use std::fmt::Write as _;
use std::io::{Read, Write as _};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::process::{free_port, kill_child_group, require_executable, tail};

/// `redis-server` (`GATEWATCH_REDIS_SERVER`), or `None` after the SKIPPED line.
pub fn require_redis(test: &str) -> Option<PathBuf> {
    require_executable(test, "GATEWATCH_REDIS_SERVER", "/usr/bin/redis-server")
}

/// A throwaway `redis-server` on a free loopback port, no persistence.
pub struct Redis {
    child: Child,
    port: u16,
    dir: Option<tempfile::TempDir>,
}

impl Redis {
    /// `redis-server` from `GATEWATCH_REDIS_SERVER` (check with [`require_redis`] first).
    pub fn start() -> Self {
        let bin = std::env::var_os("GATEWATCH_REDIS_SERVER")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .expect("GATEWATCH_REDIS_SERVER (check with require_redis first)");
        Self::start_with(&bin)
    }

    pub fn start_with(bin: &Path) -> Self {
        let mut last = String::new();
        for _ in 0..3 {
            let dir = tempfile::Builder::new().prefix("gatewatch-redis-").tempdir().expect("create temp dir");
            let port = free_port();
            let log = dir.path().join("redis.log");
            let child = Command::new(bin)
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
                .arg("--dir")
                .arg(dir.path())
                .stdin(Stdio::null())
                .stdout(std::fs::File::create(&log).expect("redis log"))
                .stderr(Stdio::inherit())
                .process_group(0)
                .spawn()
                .expect("spawn redis-server");
            let mut r = Self { child, port, dir: Some(dir) };
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if r.command(&["PING"]).as_deref() == Some("+PONG") {
                    return r;
                }
                if matches!(r.child.try_wait(), Ok(Some(_))) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            last = tail(&log, 20);
            kill_child_group(&mut r.child);
        }
        panic!("redis-server did not start\n{last}");
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// One command in RESP; the reply's first line (`+OK`, `:3`, `$-1`, …).
    pub fn command(&self, args: &[&str]) -> Option<String> {
        let addr = std::net::SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, self.port));
        let mut s = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        let mut req = format!("*{}\r\n", args.len());
        for a in args {
            let _ = write!(req, "${}\r\n{a}\r\n", a.len());
        }
        s.write_all(req.as_bytes()).ok()?;
        let mut buf = [0u8; 512];
        let mut got = Vec::new();
        while !got.windows(2).any(|w| w == b"\r\n") {
            let n = s.read(&mut buf).ok()?;
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        let text = String::from_utf8_lossy(&got).into_owned();
        text.split("\r\n").next().map(str::to_owned)
    }

    /// `DBSIZE` over raw RESP.
    pub fn dbsize(&self) -> u64 {
        let reply = self.command(&["DBSIZE"]).expect("redis DBSIZE");
        reply.strip_prefix(':').and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("DBSIZE reply {reply:?}"))
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        kill_child_group(&mut self.child);
        if let Some(dir) = self.dir.take() {
            super::process::finish_dir(dir);
        }
    }
}
