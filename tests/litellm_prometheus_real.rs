//! Issue 19: live traffic read from a real Prometheus (Debian's 2.42)
//! scraping a real LiteLLM Proxy 1.106.12's `/metrics/` with the master key.
//! A first run of `gatewatch check`, with an empty state dir, names the
//! deployment failing live requests with a rate over the half hour that
//! Prometheus kept before gatewatch ever ran, says where the figures come
//! from, and does not name the healthy one. With the server gone it says so
//! and reads each replica's `/metrics/` instead.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

mod common;
mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use common::BIN;
use support::litellm::{self as real, FakeUpstream, Proxy};
use support::prometheus::{Prometheus, require_prometheus};

const GOOD_KEY: &str = "sk-upstream-GOOD-9999000011112222";
const BAD_KEY: &str = "sk-upstream-BAD-3333444455556666";

fn proxy_config(up: &FakeUpstream, bad_base: &str) -> String {
    let base = up.api_base();
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
  callbacks: [\"prometheus\"]

general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
"
    )
}

fn chat(proxy: &Proxy, model: &str) -> u16 {
    let auth = format!("Bearer {}", proxy.master_key());
    let body =
        format!("{{\"model\":\"{model}\",\"messages\":[{{\"role\":\"user\",\"content\":\"p\"}}],\"max_tokens\":1}}");
    real::http(proxy.port(), "POST", "/v1/chat/completions", &[("Authorization", &auth)], Some(&body))
        .map_or(0, |(s, _)| s)
}

fn dead_base() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://127.0.0.1:{}/v1", l.local_addr().unwrap().port())
}

fn gw_config(dir: &Path, name: &str, proxy: &Proxy, prometheus_url: &str) -> std::path::PathBuf {
    let p = dir.join(format!("{name}.yaml"));
    std::fs::write(
        &p,
        format!(
            "state_dir: {}\ngateways:\n  - name: real\n    kind: litellm\n    url: {}\n    config_file: {}\n    timeout: 20s\n    prometheus_url: {prometheus_url}\n    prometheus_job: litellm\n",
            dir.join(format!("state-{name}")).display(),
            proxy.url(),
            proxy.config_path().display()
        ),
    )
    .unwrap();
    p
}

fn check_json(proxy: &Proxy, cfg: &Path) -> serde_json::Value {
    let out = std::process::Command::new(BIN.to_string())
        .args(["check", "--json", "--config"])
        .arg(cfg)
        .env("LITELLM_MASTER_KEY", proxy.master_key())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    for secret in [GOOD_KEY, BAD_KEY, proxy.master_key()] {
        assert!(!text.contains(secret), "a secret in check's output:\n{text}");
    }
    eprintln!("check --json:\n{text}\n{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_str(&text).unwrap()
}

fn live(v: &serde_json::Value) -> serde_json::Value {
    v["gateways"][0]["checks"].as_array().unwrap().iter().find(|c| c["id"] == "live-errors").cloned().unwrap()
}

/// The value of an instant query's first sample, if any.
fn value(p: &Prometheus, q: &str) -> Option<f64> {
    let v: serde_json::Value = serde_json::from_str(&p.query(q)).ok()?;
    v["data"]["result"][0]["value"][1].as_str()?.parse().ok()
}

fn wait_value(p: &Prometheus, q: &str, want: f64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if value(p, q) == Some(want) {
            return;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    panic!("Prometheus never saw {q} = {want}: {:?}\n{}", p.query(q), p.log_tail());
}

#[test]
fn prometheus_history_names_the_failing_deployment_on_a_first_run() {
    if real::require_litellm("prometheus_history_names_the_failing_deployment").is_none() {
        return;
    }
    let Some(bin) = require_prometheus("prometheus_history_names_the_failing_deployment") else { return };
    let dir = tempfile::tempdir().unwrap();
    let up = FakeUpstream::start();
    let proxy = Proxy::start(&proxy_config(&up, &dead_base()), &[]);
    let prom = Prometheus::start(&bin, &format!("127.0.0.1:{}", proxy.port()), proxy.master_key(), "litellm");
    let bad = "sum(litellm_deployment_total_requests_total{model_group=\"bad\"})";
    // The proxy counts a failure after it has answered (its failure callback
    // runs after the response): a scrape can hold a request and not yet its
    // failure, so both counters are waited for (seen once short by one).
    let bad_failed = "sum(litellm_deployment_failure_responses_total{model_group=\"bad\"})";
    for _ in 0..2 {
        assert_eq!(chat(&proxy, "good"), 200);
        assert_ne!(chat(&proxy, "bad"), 200);
    }
    wait_value(&prom, bad, 2.0);
    wait_value(&prom, bad_failed, 2.0);
    // Rates need two points at least 30 s apart: Prometheus's, before gatewatch runs.
    let first = Instant::now();
    std::thread::sleep(Duration::from_secs(32));
    for _ in 0..4 {
        assert_eq!(chat(&proxy, "good"), 200);
        assert_ne!(chat(&proxy, "bad"), 200);
    }
    wait_value(&prom, bad, 6.0);
    wait_value(&prom, bad_failed, 6.0);
    eprintln!("history in Prometheus: {:?}", first.elapsed());

    let v = check_json(&proxy, &gw_config(dir.path(), "prom", &proxy, &prom.url()));
    let g = &v["gateways"][0];
    assert_eq!(g["traffic_source"], "prometheus", "{g}");
    let read = g["prometheus"].as_str().unwrap();
    assert!(read.contains("1 scrape instance(s)") && read.contains("job litellm"), "{read}");
    assert!(!read.contains("not scraped"), "the one replica is scraped: {read}");
    let l = live(&v);
    assert_eq!(l["verdict"], "fail", "{l}");
    let summary = l["summary"].as_str().unwrap();
    // The counts of the last window, a rate (not "since the proxy started"): the history is Prometheus's.
    assert!(summary.contains("bad (") && summary.contains("4 of 4 request(s) failed"), "{summary}");
    assert!(summary.contains("failures/min") && !summary.contains("since the proxy started"), "{summary}");
    assert!(!summary.contains("good ("), "the healthy deployment is not named: {summary}");
    let facts = l["facts"].to_string();
    assert!(facts.contains("from Prometheus at http://127.0.0.1:"), "{facts}");
    let traffic = g["traffic"].as_array().unwrap();
    let bad_t = traffic.iter().find(|t| t["deployment"] == "bad").unwrap();
    assert!(bad_t["window_s"].as_i64().unwrap() >= 30 && bad_t["since_start"] == false, "{bad_t}");
    assert_eq!(bad_t["dominant_error"], "500 Openai.InternalServerError", "{bad_t}");
    let good_t = traffic.iter().find(|t| t["deployment"] == "good").unwrap();
    assert_eq!((good_t["requests"].as_f64(), good_t["failures"].as_f64()), (Some(4.0), Some(0.0)), "{good_t}");
    // What `check` stored is the newest sample, no secret.
    let store = std::fs::read_to_string(dir.path().join("state-prom/traffic.jsonl")).unwrap();
    assert!(
        store.contains(&format!("\"replica\":\"{}\"", proxy.url())),
        "keyed by the replica gatewatch polls:\n{store}"
    );
    for secret in [GOOD_KEY, BAD_KEY, proxy.master_key()] {
        assert!(!store.contains(secret));
    }

    // The server gone: said, and the replica's own /metrics/ read instead.
    let gone = format!("http://127.0.0.1:{}", support::process::free_port());
    let v = check_json(&proxy, &gw_config(dir.path(), "gone", &proxy, &gone));
    let g = &v["gateways"][0];
    assert_eq!(g["traffic_source"], "metrics", "{g}");
    let l = live(&v);
    let facts = l["facts"].to_string();
    assert!(facts.contains("not usable") && facts.contains("read each replica's /metrics/ instead"), "{facts}");
    assert_eq!(l["verdict"], "fail", "the proxy's own counters and state still name it: {l}");
    assert!(l["summary"].as_str().unwrap().contains("6 of 6 request(s) failed"), "{l}");
}
