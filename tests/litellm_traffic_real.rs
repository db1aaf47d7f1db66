//! Issue 19: live traffic from a real LiteLLM Proxy 1.106.12's `/metrics/`
//! (`litellm_settings.callbacks: ["prometheus"]`, no licence): the
//! deployment that fails real requests is named with its error rate, the
//! healthy one is not; after the config is fixed and the proxy restarted, the
//! before/after figures show the errors stopped, read from the history that a
//! previous run of `gatewatch check` left in the state dir. A proxy without
//! the callback is "unknown", with the config line to add, never OK.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

mod common;
mod support;

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use common::{BIN, Tmux};
use support::litellm::{self as real, FakeUpstream, Proxy};

const GOOD_KEY: &str = "sk-upstream-GOOD-1111222233334444";
const BAD_KEY: &str = "sk-upstream-BAD-5555666677778888";

fn traffic_config(up: &FakeUpstream, bad_base: &str, callbacks: bool) -> String {
    let base = up.api_base();
    let cb = if callbacks { "  callbacks: [\"prometheus\"]\n" } else { "" };
    format!(
        "model_list:
  - model_name: good
    litellm_params:
      model: openai/gpt-4o-mini
      api_base: {base}
      api_key: {GOOD_KEY}
  - model_name: bad
    litellm_params:
      model: openai/gpt-4o
      api_base: {bad_base}
      api_key: {BAD_KEY}

litellm_settings:
  num_retries: 0
{cb}
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
"
    )
}

fn chat(proxy: &Proxy, model: &str) -> u16 {
    let auth = format!("Bearer {}", proxy.master_key());
    let body = format!(
        "{{\"model\":\"{model}\",\"messages\":[{{\"role\":\"user\",\"content\":\"t {}\"}}],\"max_tokens\":1}}",
        Instant::now().elapsed().as_nanos()
    );
    real::http(proxy.port(), "POST", "/v1/chat/completions", &[("Authorization", &auth)], Some(&body))
        .map_or(0, |(s, _)| s)
}

fn dead_base() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://127.0.0.1:{}/v1", l.local_addr().unwrap().port())
}

fn gw_config(dir: &Path, proxy: &Proxy) -> std::path::PathBuf {
    let p = dir.join("gatewatch.yaml");
    std::fs::write(
        &p,
        format!(
            "state_dir: {}\ngateways:\n  - name: real\n    kind: litellm\n    url: {}\n    config_file: {}\n    timeout: 20s\n",
            dir.join("state").display(),
            proxy.url(),
            proxy.config_path().display()
        ),
    )
    .unwrap();
    p
}

fn check(proxy: &Proxy, cfg: &Path, extra: &[&str]) -> (i32, String) {
    let out = std::process::Command::new(BIN.to_string())
        .args(["check", "--config"])
        .arg(cfg)
        .args(extra)
        .env("LITELLM_MASTER_KEY", proxy.master_key())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    for secret in [GOOD_KEY, BAD_KEY, proxy.master_key()] {
        assert!(!text.contains(secret), "a secret in check's output:\n{text}");
    }
    (out.status.code().unwrap_or(-1), text)
}

fn live(json: &str) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    v["gateways"][0]["checks"].as_array().unwrap().iter().find(|c| c["id"] == "live-errors").cloned().unwrap()
}

fn traffic(json: &str, name: &str) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    v["gateways"][0]["traffic"].as_array().unwrap().iter().find(|t| t["deployment"] == name).cloned().unwrap()
}

#[test]
fn the_failing_deployment_is_named_and_the_fix_shows_the_errors_stop() {
    if real::require_litellm("the_failing_deployment_is_named").is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let up = FakeUpstream::start();
    let mut proxy = Proxy::start(&traffic_config(&up, &dead_base(), true), &[]);
    for _ in 0..3 {
        assert_eq!(chat(&proxy, "good"), 200);
        assert_ne!(chat(&proxy, "bad"), 200);
    }
    let cfg = gw_config(dir.path(), &proxy);
    let first_at = Instant::now();
    let (code, json) = check(&proxy, &cfg, &["--json"]);
    eprintln!("first look:\n{json}");
    assert_eq!(code, 2, "{json}");
    let l = live(&json);
    assert_eq!(l["verdict"], "fail", "{l}");
    let summary = l["summary"].as_str().unwrap();
    assert!(summary.contains("bad") && summary.contains("3 of 3 request(s) failed"), "{summary}");
    assert!(!summary.contains("good ("), "the healthy deployment is not named failing: {summary}");
    let bad = traffic(&json, "bad");
    assert_eq!((bad["requests"].as_f64(), bad["failures"].as_f64()), (Some(3.0), Some(3.0)), "{bad}");
    assert_eq!(bad["dominant_error"], "500 Openai.InternalServerError", "{bad}");
    let good = traffic(&json, "good");
    assert_eq!(good["failures"].as_f64(), Some(0.0), "{good}");
    // The Prometheus output carries the same figures, and no secret.
    let (_, prom) = check(&proxy, &cfg, &["--format", "prometheus"]);
    assert!(prom.contains("gatewatch_live_failures{gateway=\"real\",kind=\"litellm\",deployment=\"bad\""), "{prom}");

    // The fix: the bad deployment's api_base points at the working upstream; restart.
    proxy.rewrite_config(&traffic_config(&up, &up.api_base(), true));
    proxy.restart();
    for _ in 0..3 {
        assert_eq!(chat(&proxy, "bad"), 200);
        assert_eq!(chat(&proxy, "good"), 200);
    }
    // Rates need an earlier sample at least 30 s older: the first run's.
    let wait = Duration::from_secs(40).saturating_sub(first_at.elapsed());
    std::thread::sleep(wait);
    let (code, human) = check(&proxy, &cfg, &[]);
    eprintln!("after the fix:\n{human}");
    assert!(human.contains("✓ live-errors"), "{human}");
    assert!(human.contains("the errors stopped after the restart"), "{human}");
    let (code2, json) = check(&proxy, &cfg, &["--json"]);
    assert_eq!(code, code2);
    let l = live(&json);
    assert_eq!(l["verdict"], "ok", "{l}");
    let facts = l["facts"].to_string();
    assert!(
        facts.contains("bad (") && facts.contains("0 of 3 request(s) failed (0%) since the proxy restarted with it"),
        "{facts}"
    );
    assert!(facts.contains("before the restart: 3 of 3 failed"), "the history from the first run:\n{facts}");
    let bad = traffic(&json, "bad");
    assert_eq!(bad["appeared"], true, "the fix gave the deployment a new id: {bad}");
    assert_eq!(bad["before_restart"], serde_json::json!([3.0, 3.0]), "{bad}");
    assert_eq!(bad["failures"].as_f64(), Some(0.0), "{bad}");
    // The day at one-minute resolution: the fixed deployment's three requests since the restart.
    let day = &bad["last_24h"];
    assert_eq!((day["requests"].as_f64(), day["failures"].as_f64()), (Some(3.0), Some(0.0)), "{bad}");
    let store = std::fs::read_to_string(dir.path().join("state/traffic.jsonl")).unwrap();
    for secret in [GOOD_KEY, BAD_KEY, proxy.master_key()] {
        assert!(!store.contains(secret));
    }
}

/// Without the prometheus callback the proxy has no deployment metrics: the
/// check says what to add, and is never OK.
#[test]
fn without_the_callback_it_says_what_to_enable() {
    if real::require_litellm("without_the_callback").is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let up = FakeUpstream::start();
    let proxy = Proxy::start(&traffic_config(&up, &dead_base(), false), &[]);
    let auth = format!("Bearer {}", proxy.master_key());
    let raw = real::http(proxy.port(), "GET", "/metrics/", &[("Authorization", &auth)], None);
    eprintln!("1.106.12 without the callback, GET /metrics/: {:?}", raw.as_ref().map(|r| (r.0, r.1.len())));
    let (_, json) = check(&proxy, &gw_config(dir.path(), &proxy), &["--json"]);
    let l = live(&json);
    assert_eq!(l["verdict"], "unknown", "{l}");
    assert!(l["summary"].as_str().unwrap().contains("callbacks: [\"prometheus\"]"), "{l}");
}

/// The TUI against the real proxy: the failing deployment is red in the
/// table with its failures, and the live node is where the cursor starts.
#[test]
fn the_tui_shows_the_failing_deployment() {
    if real::require_litellm("the_tui_shows_the_failing_deployment").is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let up = FakeUpstream::start();
    let proxy = Proxy::start(&traffic_config(&up, &dead_base(), true), &[]);
    for _ in 0..4 {
        chat(&proxy, "bad");
        chat(&proxy, "good");
    }
    let cfg = gw_config(dir.path(), &proxy);
    let env = dir.path().join("gatewatch.env");
    let mut f = std::fs::OpenOptions::new().create(true).truncate(true).write(true).mode(0o600).open(&env).unwrap();
    writeln!(f, "export LITELLM_MASTER_KEY='{}'\nexport NO_COLOR=1", proxy.master_key()).unwrap();
    let cmd =
        format!(". '{}'; {BIN} --config {}; echo gatewatch-exit=$?; exec sleep 300", env.display(), cfg.display());
    let Some(t) = Tmux::start("the_tui_shows_the_failing_deployment", 160, 45, &cmd) else { return };
    let s = t.wait_for("the live failures", Duration::from_secs(60), |s| {
        s.contains("Live 5m") && s.contains("✗ 4/4 fail") && s.contains("Evidence: Live requests fail with other")
    });
    assert!(s.lines().any(|l| l.contains("good") && l.contains("✓ 4 ok")), "{s}");
    for secret in [GOOD_KEY, BAD_KEY, proxy.master_key()] {
        assert!(!s.contains(secret));
    }
    // Two more failures, seen by a later poll: the per-minute day has them.
    chat(&proxy, "bad");
    chat(&proxy, "bad");
    t.wait_for("the next poll", Duration::from_secs(60), |s| s.contains("✗ 6/6 fail"));
    t.send("q");
    t.wait_for("exit", Duration::from_secs(20), |s| s.contains("gatewatch-exit=0"));
    // The day survives gatewatch: saved at exit, read by the next run even
    // with the sample store gone (what it holds is the day, not the samples).
    let saved = std::fs::read(dir.path().join("state/traffic-day/real.bin")).unwrap();
    for secret in [GOOD_KEY, BAD_KEY, proxy.master_key()] {
        assert!(!saved.windows(secret.len()).any(|w| w == secret.as_bytes()), "a secret in the saved day");
    }
    std::fs::remove_file(dir.path().join("state/traffic.jsonl")).unwrap();
    let (_, json) = check(&proxy, &cfg, &["--json"]);
    let day = traffic(&json, "bad")["last_24h"].clone();
    assert_eq!(day["failures"].as_f64(), Some(2.0), "the two failures between the TUI's looks: {json}");
    assert!(day["covered_min"].as_u64().is_some_and(|m| m >= 1), "{day}");
    assert_eq!(traffic(&json, "good")["last_24h"]["failures"].as_f64(), Some(0.0), "{json}");
}
