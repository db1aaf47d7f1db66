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

#[path = "secret_scan/echoed.rs"]
mod echoed;

use std::path::Path;
use std::time::Duration;

use common::{BIN, Tmux};

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
    for _ in 0..5 {
        step(&["n"], "demo: staged", &mut screens);
        std::thread::sleep(Duration::from_millis(700));
        screens.push(t.capture());
    }
    step(&["2"], "Channels (13", &mut screens);
    step(&["Tab", "t"], "Test channel", &mut screens);
    step(&["y"], "test ", &mut screens);
    step(&["e"], "incident report written", &mut screens);
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
            .env("LITELLM_MASTER_KEY", gatewatch::demo::DEMO_MASTER_KEY)
            .env("GATEWATCH_TEST_PANIC", "1")
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
