//! Harness for tests against a real LiteLLM Proxy: the fake OpenAI upstream
//! (`ci/fakeup.py`), the proxy itself (`GATEWATCH_LITELLM`, made by
//! `ci/setup-litellm.sh`) and a Redis (`GATEWATCH_REDIS_SERVER`), each on a
//! fresh 127.0.0.1 port, each killed with its whole process group on drop.
//!
//! The proxy is started by a script written into its temp dir,
//! `proxyctl.sh {start|stop|restart|status}`, so that something outside the
//! test process (gatewatch's restart action in an end-to-end test) can restart
//! it exactly as the harness does: [`Proxy::restart_command`]. Its environment,
//! master key included, lives in `proxy.env` (mode 0600) and reaches the
//! proxy through `env -i` + `.`; no secret is ever in an argv.
//!
//! For an end-to-end test of the gatewatch binary against this proxy:
//! `Proxy::url()` is the gateway URL; `master_key()` goes into the
//! environment gatewatch runs in as `LITELLM_MASTER_KEY`, together with
//! `env()` (the variables the config's `os.environ/` references need, so
//! gatewatch computes the same ids); `config_path()` is `config_file`,
//! `pid_file()` is `pid_file`, and `restart_command()` is `restart_command`
//! (it returns once the new process is launched; poll until ready).
//! `rewrite_config()` edits the file under the running proxy.

#![allow(dead_code)]

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write as _};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::process::{alive, finish_dir, kill_child_group, kill_group, require_executable, sh_quote};
#[allow(unused_imports)]
pub use super::process::{exclusive, free_port, http, say, tail};
#[allow(unused_imports)]
pub use super::redis::{Redis, require_redis};

/// How long a proxy may take to answer `/health/liveliness` (5–6 s idle; far
/// more on a loaded 2-core machine).
pub const READY_TIMEOUT: Duration = Duration::from_secs(90);

/// The proxy executable (`GATEWATCH_LITELLM`), or `None` after the SKIPPED line.
pub fn require_litellm(test: &str) -> Option<PathBuf> {
    require_executable(test, "GATEWATCH_LITELLM", "/path/to/venv/bin/litellm")
}

fn repo_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn tempdir(prefix: &str) -> tempfile::TempDir {
    tempfile::Builder::new().prefix(prefix).tempdir().expect("create temp dir")
}

/// The interpreter for `ci/fakeup.py`: `GATEWATCH_PYTHON`, else the venv's own
/// python next to `GATEWATCH_LITELLM` (a pyenv shim costs a second), else python3.
pub fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("GATEWATCH_PYTHON").filter(|v| !v.is_empty()) {
        return PathBuf::from(p);
    }
    if let Some(bin) = std::env::var_os("GATEWATCH_LITELLM").filter(|v| !v.is_empty()) {
        let sibling = Path::new(&bin).with_file_name("python3");
        if sibling.is_file() {
            return sibling;
        }
    }
    PathBuf::from("python3")
}

/// The litellm version installed in the venv of `bin` (from its
/// `litellm-X.Y.Z.dist-info`), without starting Python.
pub fn installed_version(bin: &Path) -> Option<String> {
    let venv = bin.parent()?.parent()?;
    for lib in std::fs::read_dir(venv.join("lib")).ok()?.flatten() {
        for entry in std::fs::read_dir(lib.path().join("site-packages")).ok()?.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(v) = name.strip_prefix("litellm-").and_then(|r| r.strip_suffix(".dist-info")) {
                return Some(v.to_owned());
            }
        }
    }
    None
}

/// A fake key that is obviously fake and unique per call.
pub fn fake_key(prefix: &str) -> String {
    let n = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let low = u64::try_from(n % u128::from(u64::MAX)).unwrap_or(0);
    format!("{prefix}{:016x}", low ^ u64::from(std::process::id()).rotate_left(32))
}

/// One request the fake upstream saw (a line of its JSON log).
#[derive(Debug, Clone, serde::Deserialize)]
pub struct UpstreamRequest {
    pub method: String,
    pub path: String,
    pub auth: Option<String>,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub stream: Option<bool>,
}

impl UpstreamRequest {
    /// The bearer key, without `Bearer `.
    pub fn key(&self) -> Option<&str> {
        self.auth.as_deref().map(|a| a.strip_prefix("Bearer ").unwrap_or(a))
    }
}

/// `ci/fakeup.py` on a free loopback port.
pub struct FakeUpstream {
    child: Child,
    port: u16,
    log: PathBuf,
    reject: PathBuf,
    stderr: PathBuf,
    dir: Option<tempfile::TempDir>,
}

impl FakeUpstream {
    pub fn start() -> Self {
        let dir = tempdir("gatewatch-fakeup-");
        let log = dir.path().join("upstream.jsonl");
        let reject = dir.path().join("reject.txt");
        let stderr = dir.path().join("fakeup.stderr");
        let mut child = Command::new(python())
            .arg(repo_path("ci/fakeup.py"))
            .args(["--port", "0", "--log"])
            .arg(&log)
            .arg("--reject")
            .arg(&reject)
            .args(["--parent-pid", &std::process::id().to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).expect("fakeup stderr file"))
            .process_group(0)
            .spawn()
            .expect("spawn python3 ci/fakeup.py");
        let stdout = child.stdout.take().expect("fakeup stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(Duration::from_secs(30)).unwrap_or_default();
        let port = line.trim().rsplit(':').next().and_then(|p| p.parse::<u16>().ok());
        let Some(port) = port else {
            kill_child_group(&mut child);
            panic!("fakeup did not report its port (got {line:?})\n{}", tail(&stderr, 30));
        };
        let up = Self { child, port, log, reject, stderr, dir: Some(dir) };
        let deadline = Instant::now() + Duration::from_secs(10);
        while http(port, "GET", "/v1/models", &[], None).is_none() {
            assert!(Instant::now() < deadline, "fakeup on {port} does not answer\n{}", tail(&up.stderr, 30));
            std::thread::sleep(Duration::from_millis(50));
        }
        // The readiness probe is not a test request.
        let _ = std::fs::remove_file(&up.log);
        up
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT/v1`, for `litellm_params.api_base`.
    pub fn api_base(&self) -> String {
        format!("http://127.0.0.1:{}/v1", self.port)
    }

    /// From now on answer 401 `invalid_api_key` to this key.
    pub fn reject(&self, key: &str) {
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(&self.reject).expect("reject file");
        writeln!(f, "{key}").expect("write reject file");
    }

    pub fn requests(&self) -> Vec<UpstreamRequest> {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
    }

    /// Chat requests for an upstream `model`, in order.
    pub fn chats_for(&self, model: &str) -> Vec<UpstreamRequest> {
        self.requests()
            .into_iter()
            .filter(|r| {
                r.method == "POST" && r.path.ends_with("/chat/completions") && r.model.as_deref() == Some(model)
            })
            .collect()
    }

    pub fn log_tail(&self) -> String {
        format!("{}\n{}", tail(&self.log, 20), tail(&self.stderr, 20))
    }
}

impl Drop for FakeUpstream {
    fn drop(&mut self) {
        kill_child_group(&mut self.child);
        if let Some(dir) = self.dir.take() {
            finish_dir(dir);
        }
    }
}

const PROXYCTL: &str = r#"#!/bin/sh
# Start, stop or restart the LiteLLM proxy of one gatewatch test, from inside
# or outside the test process. The proxy runs detached in its own session and
# process group; its pid is in proxy.pid. Its whole environment, the master key
# included, comes from proxy.env (mode 0600), never from the command line.
set -eu
here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
pidfile="$here/proxy.pid"

alive() {
    [ -s "$pidfile" ] || return 1
    pid=$(cat "$pidfile")
    [ -r "/proc/$pid/stat" ] || return 1
    state=$(sed 's/.*) //' "/proc/$pid/stat" | cut -c1)
    case "$state" in Z|X) return 1 ;; esac
    tr '\0' ' ' < "/proc/$pid/cmdline" | grep -qF -- "$here"
}

start() {
    if alive; then echo "proxy already running (pid $(cat "$pidfile"))" >&2; return 1; fi
    echo "=== proxyctl start $(date '+%H:%M:%S')" >> "$here/proxy.log"
    cd "$here"
    setsid env -i /bin/sh -c '. "$1/proxy.env" && exec "$LITELLM_BIN" --config "$1/config.yaml" --host 127.0.0.1 --port "$PROXY_PORT"' \
        proxyctl "$here" >> "$here/proxy.log" 2>&1 < /dev/null &
    echo $! > "$pidfile"
}

stop() {
    if ! alive; then rm -f "$pidfile"; return 0; fi
    pid=$(cat "$pidfile")
    echo "=== proxyctl stop $(date '+%H:%M:%S')" >> "$here/proxy.log"
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    i=0
    while alive; do
        i=$((i + 1))
        [ "$i" -eq 150 ] && { kill -KILL -- "-$pid" 2>/dev/null || true; }
        [ "$i" -ge 200 ] && { echo "proxy pid $pid did not exit" >&2; return 1; }
        sleep 0.1
    done
    rm -f "$pidfile"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    restart) stop && start ;;
    status) if alive; then echo "running pid $(cat "$pidfile")"; else echo stopped; exit 1; fi ;;
    *) echo "usage: $0 start|stop|restart|status" >&2; exit 2 ;;
esac
"#;

/// A real LiteLLM Proxy on a free 127.0.0.1 port.
pub struct Proxy {
    dir: Option<tempfile::TempDir>,
    root: PathBuf,
    port: u16,
    master_key: String,
    env: Vec<(String, String)>,
    /// Launch to first `/health/liveliness` answer, of the last (re)start.
    pub start_time: Duration,
}

impl Proxy {
    /// Write `config_text` as config.yaml, start the proxy and wait until it is
    /// ready. `extra_env` is all the proxy sees besides PATH, HOME, LANG,
    /// `LITELLM_MASTER_KEY` and `LITELLM_LOCAL_MODEL_COST_MAP=True`.
    pub fn start(config_text: &str, extra_env: &[(&str, &str)]) -> Self {
        let bin = std::env::var_os("GATEWATCH_LITELLM")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .expect("GATEWATCH_LITELLM (check with require_litellm first)");
        let mut p = Self::prepare(&bin, config_text, extra_env);
        p.launch();
        p.start_time = p.wait_ready(READY_TIMEOUT);
        p
    }

    /// Write the files without starting anything.
    pub fn prepare(bin: &Path, config_text: &str, extra_env: &[(&str, &str)]) -> Self {
        Self::prepare_with_key(bin, config_text, extra_env, &fake_key("sk-master-test-"))
    }

    /// Like [`Proxy::prepare`] with a given master key (replicas of one gateway share one).
    pub fn prepare_with_key(bin: &Path, config_text: &str, extra_env: &[(&str, &str)], master_key: &str) -> Self {
        let dir = tempdir("gatewatch-litellm-");
        let root = dir.path().to_owned();
        let port = free_port();
        let master_key = master_key.to_owned();
        let env: Vec<(String, String)> = extra_env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        let p = Self { dir: Some(dir), root, port, master_key, env, start_time: Duration::ZERO };
        p.rewrite_config(config_text);
        p.write_env(bin);
        let ctl = p.root.join("proxyctl.sh");
        std::fs::write(&ctl, PROXYCTL).expect("write proxyctl.sh");
        std::fs::set_permissions(&ctl, std::fs::Permissions::from_mode(0o700)).expect("chmod proxyctl.sh");
        p
    }

    fn write_env(&self, bin: &Path) {
        let mut vars: Vec<(String, String)> = Vec::new();
        for name in ["PATH", "HOME", "TMPDIR"] {
            if let Ok(v) = std::env::var(name) {
                vars.push((name.to_owned(), v));
            }
        }
        vars.push(("LANG".into(), "C.UTF-8".into()));
        vars.push(("LITELLM_BIN".into(), bin.display().to_string()));
        vars.push(("PROXY_PORT".into(), self.port.to_string()));
        vars.push(("LITELLM_MASTER_KEY".into(), self.master_key.clone()));
        vars.push(("LITELLM_LOCAL_MODEL_COST_MAP".into(), "True".into()));
        vars.extend(self.env.iter().cloned());
        let mut text = String::from("# Environment of the test proxy (read by proxyctl.sh). Fake keys only.\n");
        for (k, v) in &vars {
            assert!(
                !k.is_empty()
                    && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    && !k.starts_with(|c: char| c.is_ascii_digit()),
                "bad env name {k:?}"
            );
            let _ = writeln!(text, "export {k}={}", sh_quote(v));
        }
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .mode(0o600)
            .open(self.root.join("proxy.env"))
            .expect("create proxy.env");
        f.write_all(text.as_bytes()).expect("write proxy.env");
    }

    fn ctl(&self, verb: &str) -> std::process::Output {
        Command::new("/bin/sh")
            .arg(self.root.join("proxyctl.sh"))
            .arg(verb)
            .stdin(Stdio::null())
            .output()
            .expect("run proxyctl.sh")
    }

    /// Start the process (no waiting).
    pub fn launch(&self) {
        let out = self.ctl("start");
        assert!(
            out.status.success(),
            "proxyctl start failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            self.log_tail(40)
        );
    }

    /// Poll `/health/liveliness` until it answers 200, for at most `deadline`.
    /// Returns how long that took (called right after [`Proxy::launch`], the
    /// start time). Panics with the proxy log when the process died or the
    /// deadline passed.
    pub fn wait_ready(&self, deadline: Duration) -> Duration {
        let started = Instant::now();
        // While the launcher execs its way to the proxy (setsid → env → sh →
        // python), /proc/PID/cmdline can be empty for an instant: only a pid
        // missing several polls in a row is a process that exited.
        let mut missing = 0;
        loop {
            if let Some((200, body)) = http(self.port, "GET", "/health/liveliness", &[], None)
                && body.contains("alive")
            {
                return started.elapsed();
            }
            missing = if self.pid().is_some() { 0 } else { missing + 1 };
            assert!(missing < 5, "the proxy exited before it was ready\n{}", self.log_tail(60));
            assert!(started.elapsed() < deadline, "proxy not ready after {deadline:?}\n{}", self.log_tail(60));
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// SIGTERM the process group, wait for it to exit, start it again the
    /// same way on the same port, and wait until ready. It runs exactly the
    /// [`Proxy::restart_command`] line through `/bin/sh -c`, so the path an
    /// outside caller (gatewatch's restart action) takes is the one tested.
    /// Returns (how long the command took, which is the stop, since the start
    /// is detached; time from then until ready).
    pub fn restart(&mut self) -> (Duration, Duration) {
        let old = self.pid();
        let t = Instant::now();
        let out = Command::new("/bin/sh")
            .args(["-c", &self.restart_command()])
            .stdin(Stdio::null())
            .output()
            .expect("run the restart command");
        let took = t.elapsed();
        assert!(
            out.status.success(),
            "restart command failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            self.log_tail(40)
        );
        self.start_time = self.wait_ready(READY_TIMEOUT);
        assert_ne!(self.pid(), old, "the restart did not replace the process");
        (took, self.start_time)
    }

    /// Replace config.yaml (the running proxy does not notice).
    pub fn rewrite_config(&self, text: &str) {
        std::fs::write(self.config_path(), text).expect("write config.yaml");
    }

    /// A shell command line that restarts this proxy from anywhere (for
    /// gatewatch's `restart_command`). It returns once the new process is
    /// launched, not once it is ready.
    pub fn restart_command(&self) -> String {
        format!("/bin/sh {} restart", sh_quote(&self.root.join("proxyctl.sh").display().to_string()))
    }

    /// `proxyctl.sh` itself (`start|stop|restart|status`).
    pub fn ctl_script(&self) -> PathBuf {
        self.root.join("proxyctl.sh")
    }

    pub fn pid_file(&self) -> PathBuf {
        self.root.join("proxy.pid")
    }

    /// The running proxy's pid (= its process group), if it runs.
    pub fn pid(&self) -> Option<i32> {
        let pid: i32 = std::fs::read_to_string(self.pid_file()).ok()?.trim().parse().ok()?;
        alive(pid, &self.root.display().to_string()).then_some(pid)
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn master_key(&self) -> &str {
        &self.master_key
    }

    /// The extra environment the proxy runs with (what gatewatch needs to
    /// resolve the config's `os.environ/` references the same way).
    pub fn env(&self) -> &[(String, String)] {
        &self.env
    }

    pub fn env_lookup(&self, name: &str) -> Option<String> {
        self.env.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    pub fn dir(&self) -> &Path {
        &self.root
    }

    pub fn config_path(&self) -> PathBuf {
        self.root.join("config.yaml")
    }

    /// The proxy's whole environment, as `proxyctl.sh` sources it
    /// (`export K='v'` lines, mode 0600): what gatewatch's `env_file` names.
    pub fn env_file(&self) -> PathBuf {
        self.root.join("proxy.env")
    }

    /// Write another file next to config.yaml (an `include:`d one).
    pub fn write_file(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.root.join(rel);
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d).expect("create include dir");
        }
        std::fs::write(&p, text).expect("write included file");
        p
    }

    pub fn log_path(&self) -> PathBuf {
        self.root.join("proxy.log")
    }

    pub fn log_tail(&self, n: usize) -> String {
        tail(&self.log_path(), n)
    }

    /// Stop the proxy now (Drop does the same).
    pub fn stop(&mut self) {
        if let Some(pid) = self.pid() {
            kill_group(pid, &self.root.display().to_string(), Duration::from_secs(10));
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if std::thread::panicking() {
            say(&format!("proxy at {} (dir {}):\n{}", self.url(), self.root.display(), self.log_tail(60)));
        }
        self.stop();
        if let Some(dir) = self.dir.take() {
            finish_dir(dir);
        }
    }
}
