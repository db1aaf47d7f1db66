//! A throwaway Prometheus server for real-component tests
//! (`GATEWATCH_PROMETHEUS`: Debian's `prometheus` package), scraping one
//! target on loopback every second.

#![allow(dead_code)]

use std::os::unix::fs::OpenOptionsExt as _;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::process::{free_port, http, kill_child_group, require_executable, tail};

/// `prometheus` (`GATEWATCH_PROMETHEUS`), or `None` after the SKIPPED line.
pub fn require_prometheus(test: &str) -> Option<PathBuf> {
    require_executable(test, "GATEWATCH_PROMETHEUS", "/usr/bin/prometheus")
}

pub struct Prometheus {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Prometheus {
    /// Scrape `target` (`host:port`) at `/metrics/` with `bearer` as the
    /// credential, as job `job`, every second.
    pub fn start(bin: &std::path::Path, target: &str, bearer: &str, job: &str) -> Self {
        let dir = tempfile::Builder::new().prefix("gatewatch-prometheus-").tempdir().expect("temp dir");
        let cfg = dir.path().join("prometheus.yml");
        let text = format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: {job}\n    metrics_path: /metrics/\n    authorization:\n      credentials: '{bearer}'\n    static_configs:\n      - targets: ['{target}']\n"
        );
        // The scrape credential is a secret: owner-only, like any config holding one.
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .mode(0o600)
            .open(&cfg)
            .expect("write prometheus.yml");
        std::io::Write::write_all(&mut f, text.as_bytes()).expect("write prometheus.yml");
        let port = free_port();
        let log = dir.path().join("prometheus.log");
        let child = Command::new(bin)
            .arg(format!("--config.file={}", cfg.display()))
            .arg(format!("--storage.tsdb.path={}", dir.path().join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("prometheus log"))
            .process_group(0)
            .spawn()
            .expect("spawn prometheus");
        let mut p = Self { child, port, dir };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if http(port, "GET", "/-/ready", &[], None).is_some_and(|(s, _)| s == 200) {
                return p;
            }
            if matches!(p.child.try_wait(), Ok(Some(_))) {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let log_text = tail(&log, 30);
        kill_child_group(&mut p.child);
        panic!("prometheus did not start\n{log_text}");
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// An instant query's raw JSON answer.
    pub fn query(&self, promql: &str) -> String {
        let mut u = String::from("/api/v1/query?query=");
        for b in promql.bytes() {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                u.push(b as char);
            } else {
                u.push_str(&format!("%{b:02X}"));
            }
        }
        http(self.port, "GET", &u, &[], None).map(|(_, body)| body).unwrap_or_default()
    }

    pub fn log_tail(&self) -> String {
        tail(&self.dir.path().join("prometheus.log"), 30)
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        kill_child_group(&mut self.child);
    }
}
