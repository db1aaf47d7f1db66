//! The secret scan: run the end-to-end scenarios with recognisable fake keys
//! and scan everything gatewatch produces — every captured screen, the audit
//! log, the incident report, `check --json` and its human and Prometheus
//! forms, the log file (at trace level), panic output, and the argv of
//! gatewatch and of every command it starts — for any raw key or master key.
//! `echoed`: tokens of several shapes a gateway repeats back, literal keys
//! from the LiteLLM config repeated by a command, and the environment of
//! child commands.

#![allow(clippy::unwrap_used, clippy::default_trait_access, clippy::print_stderr)]

mod common;
mod support;

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt;
#[path = "secret_scan/echoed.rs"]
mod echoed;

use std::path::Path;
use std::time::Duration;

use common::{BIN, Tmux};
use support::litellm::{self as real, FakeUpstream, Proxy};

fn scan(what: &str, text: &str, secrets: &[&str]) {
    for s in secrets {
        assert!(!text.contains(s), "secret {s} found in {what}:\n{text}");
        // Also no long fragment of it (masked forms keep at most a few characters).
        let frag: String = s.chars().skip(3).take(12).collect();
        assert!(!text.contains(&frag), "fragment {frag} of a secret found in {what}");
    }
}

fn scan_tree(dir: &Path, secrets: &[&str], seen: &mut usize) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let p = entry.path();
        if p.is_dir() {
            scan_tree(&p, secrets, seen);
        } else if p.file_name().is_some_and(|n| n != "config.yaml") {
            // config.yaml is the (simulated) gateway's own file: it holds keys by design.
            if let Ok(text) = std::fs::read_to_string(&p) {
                *seen += 1;
                scan(&p.display().to_string(), &text, secrets);
            }
        }
    }
}

/// argv of a process and of all its descendants.
fn argv_tree(pid: u32, out: &mut Vec<String>) {
    if let Ok(raw) = std::fs::read(format!("/proc/{pid}/cmdline")) {
        out.push(String::from_utf8_lossy(&raw).replace('\0', " "));
    }
    // Children are listed per thread: the restart command is spawned from a runtime worker.
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return };
    for task in tasks.flatten() {
        if let Ok(children) = std::fs::read_to_string(task.path().join("children")) {
            for c in children.split_whitespace().filter_map(|c| c.parse().ok()) {
                argv_tree(c, out);
            }
        }
    }
}

fn pane_pid(t: &Tmux) -> u32 {
    let out = std::process::Command::new("tmux")
        .arg("-S")
        .arg(&t.socket)
        .args(["display-message", "-p", "-t", &t.session, "#{pane_pid}"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

#[test]
fn nothing_gatewatch_produces_contains_a_secret() {
    let secrets = gatewatch::demo::secrets();
    let state = tempfile::tempdir().unwrap();
    let cmd = format!(
        "env XDG_STATE_HOME={s} XDG_CONFIG_HOME={s} GATEWATCH_LOG=trace NO_COLOR=1 {BIN} demo; echo gatewatch-exit=$?; exec sleep 300",
        s = state.path().display()
    );
    let Some(t) = Tmux::start("nothing_gatewatch_produces_contains_a_secret", 140, 45, &cmd) else { return };
    let mut screens = Vec::new();
    let mut argvs = Vec::new();
    let step = |keys: &[&str], wait: &str, screens: &mut Vec<String>| {
        for k in keys {
            t.send(k);
            std::thread::sleep(Duration::from_millis(80));
        }
        let s = t.wait_for(wait, Duration::from_secs(40), |s| s.contains(wait));
        screens.push(s);
    };
    step(&[], "DRIFT", &mut screens);
    argv_tree(pane_pid(&t), &mut argvs);
    step(&["?"], "Everywhere", &mut screens);
    step(&["Escape", "Tab", "Enter"], "Esc closes", &mut screens);
    step(&["Escape", "H"], "paid requests", &mut screens);
    step(&["y"], "unhealthy", &mut screens);
    step(&["s"], "Stream probe", &mut screens);
    step(&["y"], "stream probe done:", &mut screens);
    step(&["R"], "Restart litellm-demo?", &mut screens);
    t.send("y");
    // Catch the restart command while it runs.
    for _ in 0..20 {
        argv_tree(pane_pid(&t), &mut argvs);
        std::thread::sleep(Duration::from_millis(100));
    }
    step(&[], "verified: all 1 replica", &mut screens);
    // Each stage is named in the header (a timeline line can scroll away
    // under the changes the stage brings).
    for k in 0..5 {
        step(&["n"], &format!("DEMO {}/6", k + 2), &mut screens);
        std::thread::sleep(Duration::from_millis(700));
        screens.push(t.capture());
    }
    step(&["2"], "Channels (13", &mut screens);
    step(&["Tab", "t"], "Test channel", &mut screens);
    step(&["y"], "test ", &mut screens);
    step(&["e"], "incident report exported to", &mut screens);
    step(&["q"], "gatewatch-exit=0", &mut screens);
    for (i, s) in screens.iter().enumerate() {
        scan(&format!("screen {i}"), s, &secrets);
    }
    for a in &argvs {
        scan("argv", a, &secrets);
    }
    assert!(argvs.iter().any(|a| a.contains("demo-ctl")), "the restart command was not caught: {argvs:?}");
    let mut files = 0;
    scan_tree(state.path(), &secrets, &mut files);
    let demo_dir = state.path().join("gatewatch/demo");
    assert!(demo_dir.join("audit.jsonl").exists());
    assert!(std::fs::read_dir(demo_dir.join("reports")).unwrap().count() >= 1);
    let log = std::fs::read_to_string(demo_dir.join("gatewatch.log")).unwrap();
    assert!(log.contains("action started"), "trace log has content");
    assert!(files >= 4, "scanned {files} files");
}

#[test]
fn panic_output_and_check_output_hold_no_secret() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        use gatewatch::demo::litellm_sim::{LiteLlmState, SimProxy};
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("config.yaml");
        std::fs::write(&cfg, gatewatch::demo::litellm_config(gatewatch::demo::OLD_KEY)).unwrap();
        let st = LiteLlmState::boot(cfg.clone(), gatewatch::demo::DEMO_MASTER_KEY.into()).unwrap();
        let sim = SimProxy::start(st, 0, tokio_util::sync::CancellationToken::new()).await.unwrap();
        std::fs::write(&cfg, gatewatch::demo::litellm_config(gatewatch::demo::NEW_KEY)).unwrap();
        let secrets = gatewatch::demo::secrets();
        for format in [&["--json"][..], &["--format", "prometheus"][..], &[][..]] {
            let out = tokio::process::Command::new(BIN)
                .args(["check", "--gateway", &format!("litellm={}", sim.url()), "--litellm-config"])
                .arg(&cfg)
                .arg("--state-dir")
                .arg(dir.path().join("state"))
                .args(format)
                .env("LITELLM_MASTER_KEY", gatewatch::demo::DEMO_MASTER_KEY)
                .output()
                .await
                .unwrap();
            assert_eq!(out.status.code(), Some(2));
            scan("check stdout", &String::from_utf8_lossy(&out.stdout), &secrets);
            scan("check stderr", &String::from_utf8_lossy(&out.stderr), &secrets);
        }
        // A panic inside the TUI: the report on the terminal must not carry a key either.
        let out = tokio::process::Command::new(BIN)
            .args(["--gateway", &format!("litellm={}", sim.url()), "--litellm-config"])
            .arg(&cfg)
            .arg("--state-dir")
            .arg(dir.path().join("state"))
            .arg("debug-panic")
            .env("LITELLM_MASTER_KEY", gatewatch::demo::DEMO_MASTER_KEY)
            .env("RUST_BACKTRACE", "1")
            .stdin(std::process::Stdio::null())
            .output()
            .await
            .unwrap();
        assert!(!out.status.success());
        let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        scan("panic output", &all, &secrets);
    });
}

/// A real LiteLLM config whose secrets are not named like keys: an
/// `extra_headers` token, an APIM subscription key in `headers`,
/// `aws_secret_access_key`, and a JSON `vertex_credentials` string.
fn unnamed_secrets_config(up: &FakeUpstream, generation: &str) -> String {
    let base = up.api_base();
    format!(
        "model_list:
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o
      api_base: {base}
      api_key: sk-upstream-scan-KEY-{generation}-1111aaaa
      extra_headers:
        X-Org-Token: org-token-SECRET-{generation}-2222bbbb
        X-Trace: trace-tag
  - model_name: gpt-4o-mini
    litellm_params:
      model: openai/gpt-4o-mini
      api_base: {base}
      api_key: sk-upstream-scan-MINI-3333cccc
      headers:
        Ocp-Apim-Subscription-Key: apim-SECRET-{generation}-4444dddd
      aws_secret_access_key: aws-SECRET-{generation}-5555eeee/wJalrXUtnFEMI
      vertex_credentials: '{{\"type\": \"service_account\", \"private_key\": \"-----BEGIN PRIVATE KEY-----vertex-SECRET-{generation}-6666ffff\"}}'
litellm_settings:
  num_retries: 0
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
"
    )
}

fn unnamed_secrets(generation: &str) -> Vec<String> {
    vec![
        format!("sk-upstream-scan-KEY-{generation}-1111aaaa"),
        format!("org-token-SECRET-{generation}-2222bbbb"),
        format!("apim-SECRET-{generation}-4444dddd"),
        format!("aws-SECRET-{generation}-5555eeee/wJalrXUtnFEMI"),
        format!("vertex-SECRET-{generation}-6666ffff"),
        "sk-upstream-scan-MINI-3333cccc".to_owned(),
    ]
}

#[test]
fn secrets_of_any_name_stay_fingerprints_against_the_real_proxy() {
    const TEST: &str = "secrets_of_any_name_stay_fingerprints_against_the_real_proxy";
    if real::require_litellm(TEST).is_none() {
        return;
    }
    let _serial = real::exclusive();
    let up = FakeUpstream::start();
    let proxy = Proxy::start(&unnamed_secrets_config(&up, "OLD"), &[]);
    let mut secrets = unnamed_secrets("OLD");
    secrets.extend(unnamed_secrets("NEW"));
    secrets.push(proxy.master_key().to_owned());
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    let state = tempfile::tempdir().unwrap();
    // The environment gatewatch runs in (the master key, never in an argv) lives outside the scanned state dir.
    let env_dir = tempfile::tempdir().unwrap();
    let env = env_dir.path().join("gatewatch.env");
    let mut f = std::fs::OpenOptions::new().create(true).truncate(true).write(true).mode(0o600).open(&env).unwrap();
    writeln!(
        f,
        "export LITELLM_MASTER_KEY='{}'\nexport XDG_STATE_HOME='{s}'\nexport XDG_CONFIG_HOME='{s}'\nexport GATEWATCH_LOG=trace\nexport NO_COLOR=1",
        proxy.master_key(),
        s = state.path().display()
    )
    .unwrap();
    drop(f);
    let gw_args =
        format!("--gateway litellm={} --litellm-config {} --timeout 20s", proxy.url(), proxy.config_path().display());
    let check = |format: &str| {
        let out = std::process::Command::new("/bin/sh")
            .args(["-c", &format!(". '{}' && {BIN} check {gw_args} {format}", env.display())])
            .output()
            .unwrap();
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        scan("check stderr", &stderr, &secrets);
        (out.status.code(), stdout.into_owned())
    };
    // The proxy matches the file: gatewatch remembers the fields' fingerprints.
    let (code, out) = check("--json");
    assert!(code.is_some_and(|c| c < 2), "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let drift = v["gateways"][0]["checks"].as_array().unwrap().iter().find(|c| c["id"] == "key-drift").unwrap();
    assert_eq!(drift["verdict"], "ok", "the match gatewatch remembers: {drift}");
    scan("check (match)", &out, &secrets);
    // Every unnamed secret changes in the file, the header dict among them.
    proxy.rewrite_config(&unnamed_secrets_config(&up, "NEW"));
    for format in ["--json", "--format prometheus", ""] {
        let (code, out) = check(format);
        assert_eq!(code, Some(2), "{out}");
        scan(&format!("check {format}"), &out, &secrets);
        if format.is_empty() {
            assert!(
                out.contains("X-Org-Token changed (sha256:"),
                "the header is named, its value fingerprinted:\n{out}"
            );
        }
    }
    let cmd = format!(". '{}' && {BIN} {gw_args}; echo gatewatch-exit=$?; exec sleep 300", env.display());
    let Some(t) = Tmux::start(TEST, 160, 50, &cmd) else { return };
    let mut screens = vec![t.wait_for("the drift", Duration::from_secs(60), |s| s.contains("DRIFT"))];
    for (keys, wait) in [(&["Tab", "Enter"][..], "Esc closes"), (&["Escape", "e"][..], "incident report exported to")] {
        for k in keys {
            t.send(k);
            std::thread::sleep(Duration::from_millis(150));
        }
        screens.push(t.wait_for(wait, Duration::from_secs(30), |s| s.contains(wait)));
    }
    t.send("q");
    screens.push(t.wait_for("exit", Duration::from_secs(10), |s| s.contains("gatewatch-exit=0")));
    for (i, s) in screens.iter().enumerate() {
        scan(&format!("screen {i}"), s, &secrets);
    }
    let mut files = 0;
    scan_tree(state.path(), &secrets, &mut files);
    let memory = state.path().join("gatewatch/fingerprints/litellm.json");
    let remembered = std::fs::read_to_string(&memory).unwrap();
    assert!(remembered.contains("X-Org-Token"), "per-entry fingerprints are remembered: {remembered}");
    assert!(files >= 3, "scanned {files} files");
    for f in ["gatewatch/gatewatch.log", "gatewatch/fingerprints/litellm.json"] {
        assert!(state.path().join(f).is_file(), "{f} was not written");
    }
    assert!(std::fs::read_dir(state.path().join("gatewatch/reports")).unwrap().count() >= 1);
}
