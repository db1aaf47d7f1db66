//! Shared helpers for the integration tests: a fixed clock, staged
//! snapshots built from the captured LiteLLM fixtures, and tmux driving.
#![allow(dead_code, clippy::unwrap_used, clippy::print_stderr, clippy::missing_panics_doc)]

pub mod skip;

use std::path::Path;
use std::time::{Duration, SystemTime};

use gatewatch::config::{Config, GatewayKind, GatewaySpec};
use gatewatch::fleet::{LocalView, PollReport};
use gatewatch::gateway::litellm::config_file;
use gatewatch::gateway::litellm::drift::MatchMemory;
use gatewatch::gateway::{
    AuthState, CacheState, Deployment, GatewayError, Readiness, ReplicaSnapshot, RouterSettings, Section,
};

pub const SHARED_CONFIG: &str = include_str!("../fixtures/litellm/config.yaml");
pub const OLD: &str = "sk-upstream-OLD-1234567890abcd";
pub const NEW: &str = "sk-upstream-NEW-0987654321wxyz";

pub fn t0() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000)
}

pub fn env(name: &str) -> Option<String> {
    (name == "THIRD_KEY").then(|| "sk-upstream-THIRD-env-9999aaaabbbb".to_owned())
}

pub fn litellm_spec() -> GatewaySpec {
    let mut s = GatewaySpec::new("litellm-prod", GatewayKind::LiteLlm, "http://127.0.0.1:4000");
    s.config_file = Some("/etc/litellm/config.yaml".into());
    s.restart_command = Some("docker restart litellm-proxy".into());
    s
}

pub fn config(gateways: Vec<GatewaySpec>) -> Config {
    Config {
        gateways,
        read_only: false,
        allow_probes: false,
        tree_file: None,
        state_dir: "/tmp/gatewatch-test-state".into(),
        source: None,
        bindings: gatewatch::keys::Bindings::default(),
        mouse: true,
    }
}

/// Deployments as a proxy running `text` reports them (ids computed the way LiteLLM does).
pub fn running(text: &str) -> Vec<Deployment> {
    let cfg = config_file::parse(text, Path::new("/etc/litellm/config.yaml"), &env).unwrap();
    cfg.deployments
        .iter()
        .map(|d| {
            let mut dep = Deployment::new(d.id.clone(), d.model_name.clone());
            dep.provider = "openai".into();
            dep.upstream_model = d.upstream_model.as_deref().map(Into::into);
            dep.api_base = d.api_base.as_deref().map(Into::into);
            let (i, o) = match d.model_name.as_str() {
                "gpt-4o" => (2.5e-6, 1e-5),
                "gpt-4o-mini" => (1.5e-7, 6e-7),
                _ => (5e-7, 1.5e-6),
            };
            dep.input_cost_per_token = i.into();
            dep.output_cost_per_token = o.into();
            if let Some(m) = &d.upstream_model {
                dep.models = dep.models.with(m);
            }
            dep
        })
        .collect()
}

pub fn snapshot(deps: Vec<Deployment>) -> ReplicaSnapshot {
    let mut s = ReplicaSnapshot::new(Duration::from_millis(4));
    s.version = Some("1.106.12".into());
    s.auth = AuthState::Ok;
    s.readiness = Section::Ok(Readiness {
        status: "healthy".into(),
        db: Some("Not connected".into()),
        cache: Some("local".into()),
    });
    s.served_models = Section::Ok(deps.iter().map(|d| d.name.to_string()).collect());
    s.deployments = Section::Ok(deps.into());
    s.router = Section::Ok(RouterSettings {
        fallbacks: vec![("gpt-4o-mini".into(), vec!["gpt-4o".into()])],
        num_retries: Some(0),
        allowed_fails: Some(3),
        cooldown_time: Some(5.0),
        routing_strategy: Some("simple-shuffle".into()),
        ..RouterSettings::default()
    });
    s.cache = Section::Ok(CacheState { kind: "local".into(), healthy: true, detail: String::new() });
    s.requests = 6;
    s
}

/// The stale-key incident: the file says NEW, the proxy runs OLD, and gatewatch
/// remembers OLD's fingerprints from the last match.
pub fn stale_key_report(at: SystemTime) -> PollReport {
    let new_text = SHARED_CONFIG.replace(OLD, NEW);
    let file = config_file::parse(&new_text, Path::new("/etc/litellm/config.yaml"), &env).unwrap();
    let old_cfg = config_file::parse(SHARED_CONFIG, Path::new("/etc/litellm/config.yaml"), &env).unwrap();
    let mut memory = MatchMemory::default();
    memory.remember(&old_cfg, 1_794_000_000);
    PollReport {
        gateway: 0,
        at,
        replicas: vec![("http://127.0.0.1:4000".into(), Ok(snapshot(running(SHARED_CONFIG))))],
        local: LocalView::with_config(Ok(file)),
        memory,
        discovery_error: None,
        budget: None,
        prometheus: None,
        changes: Vec::new(),
        warmed: None,
    }
}

/// After a restart: the proxy runs the file.
pub fn fixed_report(at: SystemTime) -> PollReport {
    let new_text = SHARED_CONFIG.replace(OLD, NEW);
    let mut r = stale_key_report(at);
    r.replicas = vec![("http://127.0.0.1:4000".into(), Ok(snapshot(running(&new_text))))];
    r
}

pub fn down_report(at: SystemTime, err: GatewayError) -> PollReport {
    let mut r = stale_key_report(at);
    r.replicas = vec![("http://127.0.0.1:4000".into(), Err(err))];
    r
}

/// Serve an axum router on 127.0.0.1:0; the server lives as long as the test's runtime.
pub async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

/// A port where nothing listens.
pub fn refused_url() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    format!("http://127.0.0.1:{port}")
}

/// Accepts connections and never answers.
pub async fn hanging_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = listener.accept().await {
            held.push(sock);
        }
    });
    format!("http://{addr}")
}

/// A tmux server of our own (private socket), killed on drop.
pub struct Tmux {
    pub socket: std::path::PathBuf,
    pub session: String,
    _dir: tempfile::TempDir,
}

impl Tmux {
    /// `None` (with a visible SKIPPED line) when tmux is not installed.
    pub fn start(test: &str, w: u16, h: u16, command: &str) -> Option<Self> {
        if std::process::Command::new("tmux").arg("-V").output().is_err() {
            skip::skip(test, "tmux is not installed (.ci/run installs it)");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("tmux.sock");
        let session = "gw".to_owned();
        let st = std::process::Command::new("tmux")
            .arg("-S")
            .arg(&socket)
            .args([
                "-f",
                "/dev/null",
                "new-session",
                "-d",
                "-s",
                &session,
                "-x",
                &w.to_string(),
                "-y",
                &h.to_string(),
                command,
            ])
            .status()
            .unwrap();
        assert!(st.success(), "tmux new-session failed");
        Some(Self { socket, session, _dir: dir })
    }

    fn tmux(&self, args: &[&str]) -> String {
        let out = std::process::Command::new("tmux").arg("-S").arg(&self.socket).args(args).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn send(&self, keys: &str) {
        self.tmux(&["send-keys", "-t", &self.session, keys]);
        if keys == "Escape" {
            // A lone ESC byte followed closely by another key reads as Alt+key
            // when both land in one read (a loaded machine delays the app):
            // give the app time to take the ESC on its own.
            std::thread::sleep(std::time::Duration::from_millis(300));
        }
    }

    pub fn capture(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", &self.session])
    }

    /// Whether the pane shows the alternate screen (a TUI that did not restore it).
    pub fn alternate_on(&self) -> bool {
        self.tmux(&["display-message", "-p", "-t", &self.session, "#{alternate_on}"]).trim() == "1"
    }

    pub fn resize(&self, w: u16, h: u16) {
        self.tmux(&["resize-window", "-t", &self.session, "-x", &w.to_string(), "-y", &h.to_string()]);
    }

    /// Poll the screen until `pred` holds; panics with the last screen at the deadline.
    pub fn wait_for(&self, what: &str, deadline: Duration, pred: impl Fn(&str) -> bool) -> String {
        let start = std::time::Instant::now();
        loop {
            let screen = self.capture();
            if pred(&screen) {
                return screen;
            }
            assert!(start.elapsed() < deadline, "timed out after {deadline:?} waiting for {what}; screen:\n{screen}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = std::process::Command::new("tmux").arg("-S").arg(&self.socket).arg("kill-server").output();
    }
}

/// The New API demo incident, polled through the real adapter from the
/// simulator, with timestamps pinned to `t0()` and a fixed URL and latency.
pub async fn newapi_report(gateway: usize) -> (GatewaySpec, PollReport) {
    use gatewatch::demo::newapi_sim::{self, NewApiState, scenario};
    use gatewatch::gateway::{Gateway, ReplicaTarget, newapi::NewApi};
    use gatewatch::secret::Secret;
    let t0s = i64::try_from(t0().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs()).unwrap();
    let mut state = NewApiState::demo();
    state.channels = scenario::demo(t0s);
    // The logs are dated from one instant and the server's clock is pinned to
    // it below, so the ages on screen ("newest 30 s old") do not depend on a
    // second boundary falling between building the state and the read.
    // A whole minute, so that the per-minute day's bars do not move either.
    let logs_at =
        i64::try_from(SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs()).unwrap() / 60 * 60;
    state.error_logs = scenario::error_logs(logs_at);
    state.consume_logs = scenario::consume_logs(logs_at);
    let shared = std::sync::Arc::new(std::sync::Mutex::new(state));
    let cancel = tokio_util::sync::CancellationToken::new();
    let addr = newapi_sim::serve(shared, cancel.clone()).await.unwrap();
    let url = format!("http://{addr}");
    let mut spec = GatewaySpec::new("newapi-prod", GatewayKind::NewApi, "http://127.0.0.1:3000");
    spec.user_id = Some(newapi_sim::DEMO_USER_ID);
    let live = GatewaySpec { url: url.clone(), ..spec.clone() };
    let gw = NewApi::with_credentials(live, Some(Secret::new(newapi_sim::DEMO_ACCESS_TOKEN)), Some("1".into()));
    let mut snap = gw.poll(&ReplicaTarget { index: 0, url }).await.unwrap();
    cancel.cancel();
    snap.latency = Duration::from_millis(3);
    assert!(snap.server_time.is_some(), "the simulator sends a Date header");
    snap.server_time = Some(logs_at);
    let report = PollReport {
        gateway,
        at: t0(),
        replicas: vec![("http://127.0.0.1:3000".into(), Ok(snap))],
        local: LocalView::default(),
        memory: MatchMemory::default(),
        discovery_error: None,
        budget: gw.rate_budget(),
        prometheus: None,
        changes: Vec::new(),
        warmed: None,
    };
    (spec, report)
}

/// The gatewatch binary under test: `GATEWATCH_E2E_BIN` (scripts/test points
/// it at the release build), else the one cargo built for this test run.
pub struct Bin;

pub const BIN: Bin = Bin;

impl Bin {
    pub fn path() -> String {
        std::env::var("GATEWATCH_E2E_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_gatewatch").to_owned())
    }
}

impl std::fmt::Display for Bin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&Self::path())
    }
}

impl AsRef<std::ffi::OsStr> for Bin {
    fn as_ref(&self) -> &std::ffi::OsStr {
        // Leaked once per process: the path lives as long as the tests.
        static PATH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        std::ffi::OsStr::new(PATH.get_or_init(Self::path).as_str())
    }
}
