//! End to end against real LiteLLM Proxy processes: the gatewatch binary in
//! tmux, the proxies' own restart command, the fake upstream's record of the
//! key it really received.
//!
//! 1. The stale-key scenario: start with key A, change config.yaml to key B;
//!    gatewatch flags drift on that deployment only while the upstream still
//!    receives A; R + y restarts the real proxy; the verification passes, the
//!    drift clears and the upstream now receives B. A wrong master key gives a
//!    clear auth message.
//! 2. Three replicas serving one config, a partial rollout: the roll-up and the
//!    per-replica drift are exact; a rolling restart verifies every replica.
//! 3. Pre-flight: a public default master key, broken YAML, a missing
//!    `include:` file each need the second confirmation, and fail `check`
//!    with the reason. (An unset `os.environ/` name does not: the real proxy
//!    boots with it and loads the deployment without a value.)
//! 4. A key only the proxy's process has: without its env file the TUI shows
//!    the deployment as unknown (never DRIFT), a restart needs one
//!    confirmation and verifies; with `--litellm-env-file` it matches.
//!
//! Needs GATEWATCH_LITELLM (ci/setup-litellm.sh) and tmux; otherwise SKIPPED.

#![allow(clippy::unwrap_used, clippy::default_trait_access, clippy::print_stderr)]

mod common;
mod support;

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{BIN, Tmux};
use support::litellm::{self as real, FakeUpstream, Proxy};

const KEY_A: &str = "sk-upstream-e2e-AAAA-1111aaaa";
const KEY_B: &str = "sk-upstream-e2e-BBBB-2222bbbb";
const MINI: &str = "sk-upstream-e2e-MINI-3333cccc";

fn config(up: &FakeUpstream, key: &str) -> String {
    let base = up.api_base();
    format!(
        "model_list:\n  - model_name: gpt-4o\n    litellm_params:\n      model: openai/gpt-4o\n      api_base: {base}\n      api_key: {key}\n  - model_name: gpt-4o-mini\n    litellm_params:\n      model: openai/gpt-4o-mini\n      api_base: {base}\n      api_key: {MINI}\n\nlitellm_settings:\n  num_retries: 0\n\ngeneral_settings:\n  master_key: os.environ/LITELLM_MASTER_KEY\n"
    )
}

/// An env file (mode 0600) so no key is ever in an argv, and the command that runs gatewatch with it.
fn gatewatch_cmd(dir: &Path, master_key: &str, args: &str) -> String {
    let env = dir.join("gatewatch.env");
    let mut f = std::fs::OpenOptions::new().create(true).truncate(true).write(true).mode(0o600).open(&env).unwrap();
    writeln!(f, "export LITELLM_MASTER_KEY='{master_key}'\nexport XDG_STATE_HOME='{}'\nexport XDG_CONFIG_HOME='{}'\nexport NO_COLOR=1", dir.display(), dir.display()).unwrap();
    format!(". '{}'; {BIN} {args}; echo gatewatch-exit=$?; exec sleep 600", env.display())
}

fn chat(proxy: &Proxy, model: &str) -> u16 {
    let auth = format!("Bearer {}", proxy.master_key());
    let body = format!(
        "{{\"model\":\"{model}\",\"messages\":[{{\"role\":\"user\",\"content\":\"e2e {}\"}}],\"max_tokens\":1}}",
        Instant::now().elapsed().as_nanos()
    );
    real::http(proxy.port(), "POST", "/v1/chat/completions", &[("Authorization", &auth)], Some(&body))
        .map_or(0, |(s, _)| s)
}

fn last_key_for(up: &FakeUpstream, model: &str) -> Option<String> {
    up.chats_for(model).last().and_then(|r| r.key().map(str::to_owned))
}

fn walk_to(t: &Tmux, evidence_title: &str) {
    for _ in 0..40 {
        if t.capture().contains(evidence_title) {
            return;
        }
        t.send("j");
        std::thread::sleep(Duration::from_millis(60));
    }
    panic!("never reached {evidence_title}:\n{}", t.capture());
}

#[test]
fn stale_key_detected_restarted_and_verified_against_the_real_proxy() {
    const TEST: &str = "stale_key_detected_restarted_and_verified_against_the_real_proxy";
    if real::require_litellm(TEST).is_none() {
        return;
    }
    let _serial = real::exclusive();
    let up = FakeUpstream::start();
    let proxy = Proxy::start(&config(&up, KEY_A), &[]);
    real::say(&format!("[{TEST}] proxy ready in {:.1} s", proxy.start_time.as_secs_f64()));
    assert_eq!(chat(&proxy, "gpt-4o"), 200);
    assert_eq!(last_key_for(&up, "gpt-4o").as_deref(), Some(KEY_A));
    // Rotate the key in the file only.
    proxy.rewrite_config(&config(&up, KEY_B));
    let work = tempfile::tempdir().unwrap();

    // A wrong master key first: a clear auth message, not a crash.
    let wrong = gatewatch_cmd(
        work.path(),
        "sk-master-wrong-0000",
        &format!("--gateway litellm={} --litellm-config {}", proxy.url(), proxy.config_path().display()),
    );
    let Some(t) = Tmux::start(TEST, 120, 40, &wrong) else { return };
    let s = t.wait_for("the auth refusal", Duration::from_secs(30), |s| s.contains("AUTH REFUSED"));
    assert!(s.contains("admin-auth") || s.contains("wrong master key") || s.contains("No connected db"), "{s}");
    t.send("q");
    t.wait_for("exit", Duration::from_secs(10), |s| s.contains("gatewatch-exit=0"));
    drop(t);

    let args = format!(
        "--gateway litellm={} --litellm-config {} --restart-command \"{}\" --refresh 2s --timeout 20s",
        proxy.url(),
        proxy.config_path().display(),
        proxy.restart_command().replace('"', "\\\"")
    );
    let Some(t) = Tmux::start(TEST, 130, 42, &gatewatch_cmd(work.path(), proxy.master_key(), &args)) else { return };
    let s = t.wait_for("the drift", Duration::from_secs(60), |s| s.contains("DRIFT"));
    assert!(s.contains("✗ gpt-4o DRIFT"), "{s}");
    assert!(!s.contains("gpt-4o-mini DRIFT"), "only the rotated deployment drifts:\n{s}");
    // The running proxy still uses the old key.
    assert_eq!(chat(&proxy, "gpt-4o"), 200);
    assert_eq!(last_key_for(&up, "gpt-4o").as_deref(), Some(KEY_A));
    walk_to(&t, "Evidence: The running proxy holds");
    t.send("R");
    t.wait_for("the confirmation", Duration::from_secs(10), |s| s.contains("[y] run") && s.contains("proxyctl.sh"));
    let started = Instant::now();
    t.send("y");
    let s = t.wait_for("the verification", Duration::from_secs(180), |s| {
        s.contains("verified: all 1 replica") || s.contains("NOT verified")
    });
    assert!(s.contains("verified: all 1 replica"), "{s}\n{}", proxy.log_tail(40));
    real::say(&format!("[{TEST}] restart + verification took {:.1} s", started.elapsed().as_secs_f64()));
    t.wait_for("the drift to clear", Duration::from_secs(30), |s| !s.contains("DRIFT") && s.contains("drift cleared"));
    // The upstream now receives the new key.
    assert_eq!(chat(&proxy, "gpt-4o"), 200);
    assert_eq!(last_key_for(&up, "gpt-4o").as_deref(), Some(KEY_B));
    let screen = t.capture();
    for k in [KEY_A, KEY_B, MINI, proxy.master_key()] {
        assert!(!screen.contains(k));
    }
    t.send("q");
    t.wait_for("exit", Duration::from_secs(10), |s| s.contains("gatewatch-exit=0"));
    assert!(!t.alternate_on());
}

/// A rolling restart of several proxies, for gatewatch's restart_command.
fn rolling(proxies: &[Proxy]) -> String {
    proxies.iter().map(Proxy::restart_command).collect::<Vec<_>>().join(" && sleep 1 && ")
}

/// Start `n` proxies of one gateway (one master key), booting side by side.
fn fleet(n: usize, text: &str) -> Vec<Proxy> {
    let bin = PathBuf::from(std::env::var_os("GATEWATCH_LITELLM").unwrap());
    let key = real::fake_key("sk-master-fleet-");
    let proxies: Vec<Proxy> = (0..n).map(|_| Proxy::prepare_with_key(&bin, text, &[], &key)).collect();
    for p in &proxies {
        p.launch();
    }
    for p in &proxies {
        p.wait_ready(real::READY_TIMEOUT);
    }
    proxies
}

fn check_json(work: &Path, master: &str, args: &str) -> (i32, serde_json::Value) {
    let cmd = gatewatch_cmd(work, master, &format!("check --json {args}"))
        .replace("; echo gatewatch-exit=$?; exec sleep 600", "");
    let out = std::process::Command::new("/bin/sh").args(["-c", &cmd]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    (out.status.code().unwrap_or(-1), serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}")))
}

#[test]
fn three_replicas_partial_rollout_and_rolling_restart() {
    const TEST: &str = "three_replicas_partial_rollout_and_rolling_restart";
    if real::require_litellm(TEST).is_none() {
        return;
    }
    let _serial = real::exclusive();
    let up = FakeUpstream::start();
    let boot = Instant::now();
    let mut proxies = fleet(3, &config(&up, KEY_A));
    real::say(&format!("[{TEST}] three proxies ready in {:.1} s", boot.elapsed().as_secs_f64()));
    let master = proxies[0].master_key().to_owned();
    // The rollout: every replica's file says B, only replicas 1 and 2 restarted.
    for p in &proxies {
        p.rewrite_config(&config(&up, KEY_B));
    }
    for p in &mut proxies[..2] {
        p.restart();
    }
    let work = tempfile::tempdir().unwrap();
    let urls = proxies.iter().map(Proxy::url).collect::<Vec<_>>().join(",");
    let base_args =
        format!("--gateway litellm={urls} --litellm-config {} --timeout 20s", proxies[0].config_path().display());

    // `check`: per-replica drift is exact, and the time of one full refresh of three replicas.
    let t0 = Instant::now();
    let (code, v) = check_json(work.path(), &master, &base_args);
    real::say(&format!(
        "[{TEST}] gatewatch check (one full refresh of 3 replicas, process included): {:.0} ms",
        t0.elapsed().as_secs_f64() * 1000.0
    ));
    assert_eq!(code, 2);
    let drifted: Vec<i64> = v["gateways"][0]["replicas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["drifted_deployments"].as_i64().unwrap())
        .collect();
    assert_eq!(drifted, vec![0, 0, 1], "{v:#}");
    let drift = v["gateways"][0]["checks"].as_array().unwrap().iter().find(|c| c["id"] == "key-drift").unwrap();
    assert!(drift["summary"].as_str().unwrap().contains("2 of 3 replicas hold the file's keys"), "{drift}");
    let agree = v["gateways"][0]["checks"].as_array().unwrap().iter().find(|c| c["id"] == "replica-agreement").unwrap();
    assert_eq!(agree["verdict"], "fail", "{agree}");

    // The TUI shows it replica by replica; a rolling restart verifies every replica.
    let args = format!("{base_args} --refresh 2s --restart-command \"{}\"", rolling(&proxies).replace('"', "\\\""));
    let Some(t) = Tmux::start(TEST, 140, 44, &gatewatch_cmd(work.path(), &master, &args)) else { return };
    let s = t.wait_for("the roll-up", Duration::from_secs(60), |s| s.contains("2 of 3 replicas hold the file's keys"));
    let third = proxies[2].url().trim_start_matches("http://").to_owned();
    assert!(s.contains(&format!("✗{third}")), "replica 3 is the one behind:\n{s}");
    assert!(s.contains("3/3 replicas"), "{s}");
    walk_to(&t, "Evidence: The running proxy holds");
    t.send("R");
    t.wait_for("the confirmation", Duration::from_secs(10), |s| s.contains("[y] run"));
    let started = Instant::now();
    t.send("y");
    let s = t.wait_for("the verification", Duration::from_secs(300), |s| {
        s.contains("verified: all 3 replica") || s.contains("NOT verified")
    });
    assert!(s.contains("verified: all 3 replica"), "{s}");
    real::say(&format!(
        "[{TEST}] rolling restart of 3 replicas + verification: {:.1} s",
        started.elapsed().as_secs_f64()
    ));
    t.wait_for("all replicas clean", Duration::from_secs(30), |s| s.contains("all 3 replicas hold the file's keys"));
    assert_eq!(chat(&proxies[2], "gpt-4o"), 200);
    assert_eq!(last_key_for(&up, "gpt-4o").as_deref(), Some(KEY_B));
    t.send("q");
    t.wait_for("exit", Duration::from_secs(10), |s| s.contains("gatewatch-exit=0"));
}

#[test]
fn a_restart_that_would_strand_the_gateway_needs_two_confirmations() {
    const TEST: &str = "a_restart_that_would_strand_the_gateway_needs_two_confirmations";
    let Some(bin) = real::require_litellm(TEST) else { return };
    let _serial = real::exclusive();
    let up = FakeUpstream::start();
    let proxy = Proxy::start(&config(&up, KEY_A), &[]);
    let good = config(&up, KEY_A);
    let cases = [
        (
            "the public default master key",
            good.replace("os.environ/LITELLM_MASTER_KEY", "sk-1234"),
            "publicly known default",
        ),
        ("broken YAML", good.replace("  - model_name: gpt-4o-mini", "  - model_name: [gpt-4o-mini"), "YAML error"),
        ("a missing include", format!("include:\n  - gone.yaml\n{good}"), "gone.yaml"),
    ];
    let work = tempfile::tempdir().unwrap();
    for (what, text, reason) in &cases {
        proxy.rewrite_config(text);
        let validate = format!(
            "env LITELLM_LOCAL_MODEL_COST_MAP=True {} --config {} --validate_config",
            bin.display(),
            proxy.config_path().display()
        );
        let with_validate = *what == "broken YAML";
        let args = format!(
            "--gateway litellm={} --litellm-config {} --restart-command \"{}\" --timeout 20s",
            proxy.url(),
            proxy.config_path().display(),
            proxy.restart_command().replace('"', "\\\"")
        );
        // check reports it, for the cron job.
        let (code, v) = check_json(work.path(), proxy.master_key(), &args);
        assert_eq!(code, 2, "{what}");
        let pre =
            v["gateways"][0]["checks"].as_array().unwrap().iter().find(|c| c["id"] == "restart-preflight").unwrap();
        assert_eq!(pre["verdict"], "fail", "{what}: {pre}");
        let summary = pre["summary"].as_str().unwrap();
        assert!(summary.contains("the next restart will fail"), "{what}: {summary}");
        assert!(format!("{pre}").contains(reason), "{what}: {pre}");
        // In the TUI: one y is not enough.
        let cfg_file = work.path().join("gw.yaml");
        std::fs::write(
            &cfg_file,
            format!(
                "gateways:\n  - name: prod\n    kind: litellm\n    url: {}\n    config_file: {}\n    restart_command: \"{}\"\n{}",
                proxy.url(),
                proxy.config_path().display(),
                proxy.restart_command().replace('"', "\\\""),
                if with_validate { format!("    validate_command: \"{}\"\n", validate.replace('"', "\\\"")) } else { String::new() }
            ),
        )
        .unwrap();
        let Some(t) = Tmux::start(
            TEST,
            130,
            42,
            &gatewatch_cmd(work.path(), proxy.master_key(), &format!("--config {}", cfg_file.display())),
        ) else {
            return;
        };
        t.wait_for("the pre-flight verdict", Duration::from_secs(60), |s| s.contains("restart-preflight"));
        t.send("R");
        if with_validate {
            let s = t.wait_for("the validation", Duration::from_secs(120), |s| {
                s.contains("validate_command FAILED") || s.contains("validate_command passed")
            });
            assert!(s.contains("validate_command FAILED"), "{s}");
        }
        t.wait_for("the first confirmation", Duration::from_secs(10), |s| {
            s.contains("[y] run") && s.contains("you will be asked again")
        });
        t.send("y");
        let s = t.wait_for("the second confirmation", Duration::from_secs(10), |s| s.contains("SECOND CONFIRMATION"));
        assert!(s.contains(reason), "{what}: {s}");
        t.send("y");
        t.wait_for("the nudge", Duration::from_secs(5), |s| s.contains("needs Y (shift+y)"));
        t.send("Escape");
        t.wait_for("cancelled", Duration::from_secs(5), |s| s.contains("cancelled"));
        t.send("q");
        t.wait_for("exit", Duration::from_secs(10), |s| s.contains("gatewatch-exit=0"));
        // Nothing was restarted.
        assert!(proxy.pid().is_some());
    }
}

#[test]
fn a_key_only_the_proxy_has_is_unknown_not_drift_and_a_restart_verifies() {
    const TEST: &str = "a_key_only_the_proxy_has_is_unknown_not_drift_and_a_restart_verifies";
    if real::require_litellm(TEST).is_none() {
        return;
    }
    let _serial = real::exclusive();
    let up = FakeUpstream::start();
    let text = config(&up, KEY_A).replace(KEY_A, "os.environ/PROXY_ONLY_KEY");
    let proxy = Proxy::start(&text, &[("PROXY_ONLY_KEY", KEY_B)]);
    let work = tempfile::tempdir().unwrap();
    let args = format!(
        "--gateway litellm={} --litellm-config {} --restart-command \"{}\" --refresh 2s --timeout 20s",
        proxy.url(),
        proxy.config_path().display(),
        proxy.restart_command().replace('"', "\\\"")
    );
    let Some(t) = Tmux::start(TEST, 130, 42, &gatewatch_cmd(work.path(), proxy.master_key(), &args)) else { return };
    let s = t.wait_for("the comparison", Duration::from_secs(60), |s| s.contains("env unknown"));
    assert!(!s.contains("DRIFT"), "a key gatewatch cannot see is not drift:\n{s}");
    assert!(s.contains("? gpt-4o env unknown"), "{s}");
    assert!(s.contains("✓ gpt-4o-mini"), "{s}");
    t.send("R");
    let s = t.wait_for("the confirmation", Duration::from_secs(10), |s| s.contains("[y] run"));
    assert!(!s.contains("you will be asked again"), "no second confirmation:\n{s}");
    t.send("y");
    let s = t.wait_for("the verification", Duration::from_secs(180), |s| {
        s.contains("verified: all 1 replica") || s.contains("NOT verified")
    });
    assert!(s.contains("verified: all 1 replica"), "{s}\n{}", proxy.log_tail(40));
    t.send("q");
    t.wait_for("exit", Duration::from_secs(10), |s| s.contains("gatewatch-exit=0"));
    drop(t);
    // With the proxy's env file the id is exact: it matches.
    let args = format!("{args} --litellm-env-file {}", proxy.env_file().display());
    let Some(t) = Tmux::start(TEST, 130, 42, &gatewatch_cmd(work.path(), proxy.master_key(), &args)) else { return };
    let s = t.wait_for("the match", Duration::from_secs(60), |s| s.contains("config and proxy agree"));
    assert!(!s.contains("env unknown") && !s.contains("DRIFT"), "{s}");
    for k in [KEY_A, KEY_B, MINI, proxy.master_key()] {
        assert!(!s.contains(k));
    }
    t.send("q");
    t.wait_for("exit", Duration::from_secs(10), |s| s.contains("gatewatch-exit=0"));
}
