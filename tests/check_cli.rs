//! `gatewatch check`: the real binary against the simulated LiteLLM proxy —
//! exit codes 0/1/2/3, the JSON schema (golden, normalised), the Prometheus
//! exposition (parsed by Python's prometheus_client when available), and no
//! secret in any output.

#![allow(clippy::unwrap_used, clippy::default_trait_access, clippy::print_stderr)]

mod common;

use common::BIN;

use std::time::Duration;

use gatewatch::demo::litellm_sim::{LiteLlmState, SimProxy};
use tokio_util::sync::CancellationToken;

const MASTER: &str = "sk-master-check-test-5555666677778888";
const KEY_A: &str = "sk-upstream-check-AAAA-1111";
const KEY_B: &str = "sk-upstream-check-BBBB-2222";

/// A config that passes every check: keys from the environment, a budget, no fallbacks.
fn clean_config() -> String {
    format!(
        "model_list:\n  - model_name: gpt-4o\n    litellm_params:\n      model: openai/gpt-4o\n      api_key: os.environ/CHECK_KEY\n      rpm: 100\n\nlitellm_settings:\n  max_budget: 100\n\ngeneral_settings:\n  master_key: {MASTER}\n"
    )
}

struct Env {
    _dir: tempfile::TempDir,
    config: std::path::PathBuf,
    state: std::path::PathBuf,
    url: String,
}

async fn start(text: &str, key: &str) -> (Env, SimProxy) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.yaml");
    let booted = text.replace("os.environ/CHECK_KEY", key);
    // The simulator's ids are recorded from LiteLLM for this exact text.
    assert_eq!(booted, include_str!("fixtures/litellm/sim/check-clean.yaml"), "re-record: scripts/record-sim-ids");
    std::fs::write(&config, booted).unwrap();
    // The running proxy booted from the file with the key resolved; gatewatch resolves it from its env.
    let st = LiteLlmState::boot(config.clone(), MASTER.into()).unwrap();
    std::fs::write(&config, text).unwrap();
    let sim = SimProxy::start(st, 0, CancellationToken::new()).await.unwrap();
    let url = sim.url();
    let state = dir.path().join("state");
    (Env { _dir: dir, config, state, url }, sim)
}

async fn check(env: &Env, key_in_env: &str, extra: &[&str]) -> (i32, String) {
    let out = tokio::process::Command::new(BIN)
        .args(["check", "--gateway", &format!("litellm={}", env.url), "--litellm-config"])
        .arg(&env.config)
        .arg("--state-dir")
        .arg(&env.state)
        .args(extra)
        .env("LITELLM_MASTER_KEY", MASTER)
        .env("CHECK_KEY", key_in_env)
        .env_remove("NO_COLOR")
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    for secret in [MASTER, KEY_A, KEY_B] {
        assert!(!stdout.contains(secret) && !stderr.contains(secret), "{secret} leaked:\n{stdout}\n{stderr}");
    }
    (out.status.code().unwrap_or(-1), stdout)
}

#[tokio::test(flavor = "multi_thread")]
async fn exit_codes() {
    let (env, _sim) = start(&clean_config(), KEY_A).await;
    let (code, out) = check(&env, KEY_A, &[]).await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Result: OK"));
    // The key rotated in the environment, the proxy still runs the old one: drift is a failure.
    let (code, out) = check(&env, KEY_B, &[]).await;
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("✗ key-drift"), "{out}");
    // A plain key in the file (not under git): a warning only.
    let plain = clean_config().replace("os.environ/CHECK_KEY", KEY_A);
    let (env2, _sim2) = start(&plain, KEY_A).await;
    let (code, out) = check(&env2, KEY_A, &[]).await;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("! plain-keys-in-git"), "{out}");
    // Nothing listens: 3.
    let env3 = Env { url: common::refused_url(), ..env };
    let (code, out) = check(&env3, KEY_A, &[]).await;
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("connection refused"), "{out}");
}

fn normalise(json: &str, url: &str, config: &std::path::Path) -> String {
    let mut v: serde_json::Value = serde_json::from_str(json).unwrap();
    v["generated_at"] = "<time>".into();
    for g in v["gateways"].as_array_mut().unwrap() {
        for r in g["replicas"].as_array_mut().unwrap() {
            r["latency_ms"] = "<ms>".into();
        }
    }
    let text = serde_json::to_string_pretty(&v).unwrap();
    let text = regex::Regex::new(r"\b\d+(\.\d+)?(ms|s|m|h)\b").unwrap().replace_all(&text, "<dur>").into_owned();
    // The simulated proxy's background traffic grows with the time it has run.
    let text =
        regex::Regex::new(r"\d+ of \d+ request\(s\)").unwrap().replace_all(&text, "<n> of <n> request(s)").into_owned();
    let text =
        regex::Regex::new(r#""requests": \d+\.\d+"#).unwrap().replace_all(&text, r#""requests": "<n>""#).into_owned();
    let text = regex::Regex::new(r"newest sample \d+ s old")
        .unwrap()
        .replace_all(&text, "newest sample <age> old")
        .into_owned();
    // The simulated proxy runs inside the test binary: its name and pid vary.
    let text =
        regex::Regex::new(r"held by \S+ \(pid \d+\)").unwrap().replace_all(&text, "held by <test binary>").into_owned();
    text.replace(url, "http://127.0.0.1:PORT")
        .replace(&config.display().to_string(), "/etc/litellm/config.yaml")
        .replace(url.trim_start_matches("http://"), "127.0.0.1:PORT")
}

#[tokio::test(flavor = "multi_thread")]
async fn json_is_stable_and_documented() {
    let (env, _sim) = start(&clean_config(), KEY_A).await;
    let (code, out) = check(&env, KEY_B, &["--json"]).await;
    assert_eq!(code, 2);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["schema"], "gatewatch.check/v1");
    assert_eq!(v["exit_code"], 2);
    let drift = v["gateways"][0]["checks"].as_array().unwrap().iter().find(|c| c["id"] == "key-drift").unwrap();
    assert_eq!(drift["verdict"], "fail");
    assert_eq!(v["gateways"][0]["replicas"][0]["drifted_deployments"], 1);
    insta::assert_snapshot!("check_json_drift", normalise(&out, &env.url, &env.config));
}

#[tokio::test(flavor = "multi_thread")]
async fn prometheus_exposition() {
    let (env, _sim) = start(&clean_config(), KEY_A).await;
    let (code, out) = check(&env, KEY_B, &["--format", "prometheus"]).await;
    assert_eq!(code, 2);
    assert!(out.contains("# TYPE gatewatch_up gauge"));
    assert!(
        out.contains(&format!(
            "gatewatch_drifted_deployments{{gateway=\"litellm\",kind=\"litellm\",replica=\"{}\"}} 1",
            env.url
        )),
        "{out}"
    );
    assert!(
        out.contains("gatewatch_check_failing{gateway=\"litellm\",kind=\"litellm\",check=\"key-drift\"} 1"),
        "{out}"
    );
    assert!(
        out.contains("gatewatch_live_failures{gateway=\"litellm\",kind=\"litellm\",deployment=\"gpt-4o\""),
        "{out}"
    );
    // Every sample line: name{labels} value, with names in snake_case and a HELP/TYPE before.
    for line in out.lines().filter(|l| !l.starts_with('#')) {
        let (name, rest) = line.split_once('{').unwrap();
        assert!(name.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{line}");
        let value = rest.rsplit_once("} ").unwrap().1;
        value.parse::<f64>().unwrap();
    }
    // A real parser, when the CI venv has one.
    let Ok(python) = std::env::var("GATEWATCH_PYTHON") else {
        common::skip::skip(
            "prometheus_exposition real-parser step",
            "set GATEWATCH_PYTHON to a python with prometheus_client (.ci/run does)",
        );
        return;
    };
    let script = "import sys\nfrom prometheus_client.parser import text_string_to_metric_families\nfams = list(text_string_to_metric_families(sys.stdin.read()))\nprint(len(fams), sum(len(f.samples) for f in fams))\n";
    let mut child = std::process::Command::new(python)
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(out.as_bytes()).unwrap();
    let res = child.wait_with_output().unwrap();
    assert!(res.status.success(), "prometheus_client rejected the output");
    let text = String::from_utf8_lossy(&res.stdout);
    let families: usize = text.split_whitespace().next().unwrap().parse().unwrap();
    // 7 families, and the 2 of live traffic (the simulated proxy serves /metrics/).
    assert_eq!(families, 9, "{text}");
}

#[test]
fn timeouts_are_bounded() {
    // The whole check against a gateway that never answers ends by itself.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let url = common::hanging_url().await;
        let started = std::time::Instant::now();
        let out = tokio::process::Command::new(BIN)
            .args(["check", "--gateway", &format!("litellm={url}"), "--timeout", "1s"])
            .env("LITELLM_MASTER_KEY", MASTER)
            .output()
            .await
            .unwrap();
        assert_eq!(out.status.code(), Some(3));
        assert!(started.elapsed() < Duration::from_secs(15), "took {:?}", started.elapsed());
    });
}
