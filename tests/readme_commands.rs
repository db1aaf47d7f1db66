//! The README's copy-paste commands, run as written: the cron line against a
//! down and a healthy gateway (the metrics file must change every time), the
//! `--gateway` examples in a real terminal, config init/check, completions,
//! the man page and the fingerprint one-liner. Only addresses and absolute
//! paths are swapped for local ones.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{BIN, Tmux};
use gatewatch::demo::litellm_sim::{LiteLlmState, SimProxy};
use gatewatch::demo::newapi_sim::{self, DEMO_ACCESS_TOKEN, NewApiState};
use tokio_util::sync::CancellationToken;

const README: &str = include_str!("../README.md");
const MASTER: &str = "sk-master-check-test-5555666677778888";

/// Fenced blocks of the README: (language, lines with `\` continuations joined).
fn blocks() -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    let mut cur: Option<(String, Vec<String>)> = None;
    for line in README.lines() {
        if let Some(lang) = line.strip_prefix("```") {
            match cur.take() {
                Some(b) => out.push(b),
                None => cur = Some((lang.trim().to_owned(), Vec::new())),
            }
            continue;
        }
        if let Some((_, lines)) = cur.as_mut() {
            match lines.last_mut() {
                Some(last) if last.ends_with('\\') => {
                    last.pop();
                    last.push_str(line.trim_start());
                }
                _ => lines.push(line.to_owned()),
            }
        }
    }
    out
}

/// The command part of a line (what a `#` comment leaves).
fn command(line: &str) -> String {
    line.split(" # ").next().unwrap_or(line).trim().to_owned()
}

/// A directory with `gatewatch` on it, as an installed binary would be.
fn bin_dir(tmp: &Path) -> PathBuf {
    let dir = tmp.join("bin");
    std::fs::create_dir_all(&dir).unwrap();
    std::os::unix::fs::symlink(BIN.to_string(), dir.join("gatewatch")).unwrap();
    dir
}

fn sh(line: &str, tmp: &Path, envs: &[(&str, String)]) -> (i32, String) {
    let path = format!("{}:{}", bin_dir_path(tmp).display(), std::env::var("PATH").unwrap_or_default());
    let out = std::process::Command::new("sh")
        .args(["-c", line])
        .env_clear()
        .env("PATH", path)
        .env("HOME", tmp.join("home"))
        .env("XDG_CONFIG_HOME", tmp.join("config"))
        .env("XDG_STATE_HOME", tmp.join("state"))
        .envs(envs.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), text)
}

fn bin_dir_path(tmp: &Path) -> PathBuf {
    tmp.join("bin")
}

async fn litellm_sim(dir: &Path) -> (SimProxy, PathBuf) {
    let config = dir.join("litellm-config.yaml");
    std::fs::write(&config, include_str!("fixtures/litellm/sim/check-clean.yaml")).unwrap();
    let st = LiteLlmState::boot(config.clone(), MASTER.into()).unwrap();
    (SimProxy::start(st, 0, CancellationToken::new()).await.unwrap(), config)
}

fn write_config(tmp: &Path, url: &str) {
    let dir = tmp.join("config/gatewatch");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("config.yaml"),
        format!(
            "gateways:\n  - name: prod\n    kind: litellm\n    url: {url}\n    credential_env: LITELLM_MASTER_KEY\n"
        ),
    )
    .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cron_line_refreshes_the_metrics_whatever_the_verdict() {
    let cron = blocks().into_iter().find(|(lang, _)| lang == "cron").expect("a cron block").1;
    let line = cron.iter().find(|l| !l.trim().is_empty()).unwrap();
    // Five schedule fields, then the command as cron's /bin/sh runs it.
    let cmd = line.splitn(6, ' ').nth(5).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let tmp = tmp.path();
    bin_dir(tmp);
    let textfile = tmp.join("textfile");
    std::fs::create_dir_all(&textfile).unwrap();
    std::fs::write(tmp.join("env"), format!("export LITELLM_MASTER_KEY={MASTER}\n")).unwrap();
    let cmd = cmd
        .replace("/etc/gatewatch/env", &tmp.join("env").display().to_string())
        .replace("/var/lib/node_exporter/textfile", &textfile.display().to_string());
    assert_ne!(cmd, line.as_str());
    let prom = textfile.join("gatewatch.prom");
    let up = |text: &str| text.lines().find(|l| l.starts_with("gatewatch_up{")).map(|l| l.ends_with(" 1"));

    // Down: exit 3, and the file says so.
    write_config(tmp, &common::refused_url());
    let (code, out) = sh(&cmd, tmp, &[]);
    assert_eq!(code, 3, "{out}");
    assert_eq!(up(&std::fs::read_to_string(&prom).unwrap()), Some(false));

    // Healthy: the same line replaces the file.
    let (sim, _) = litellm_sim(tmp).await;
    write_config(tmp, &sim.url());
    let (code, out) = sh(&cmd, tmp, &[]);
    assert!(code <= 2, "{code}: {out}");
    assert_eq!(up(&std::fs::read_to_string(&prom).unwrap()), Some(true));

    // Down again: the failure replaces the good values (the old recipe kept them).
    write_config(tmp, &common::refused_url());
    let (code, _) = sh(&cmd, tmp, &[]);
    assert_eq!(code, 3);
    let text = std::fs::read_to_string(&prom).unwrap();
    assert_eq!(up(&text), Some(false), "{text}");
    assert!(!text.contains(MASTER));
    // Nothing left beside it (node_exporter reads every *.prom file there).
    let names: Vec<String> =
        std::fs::read_dir(&textfile).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(names, vec!["gatewatch.prom".to_owned()]);
}

#[test]
fn config_init_check_completions_and_man_as_written() {
    let tmp = tempfile::tempdir().unwrap();
    let tmp = tmp.path();
    bin_dir(tmp);
    for inline in ["`gatewatch config init`", "`gatewatch config check`"] {
        assert!(README.contains(inline), "{inline} left the README");
        let (code, out) = sh(inline.trim_matches('`'), tmp, &[]);
        assert_eq!(code, 0, "{inline}: {out}");
    }
    assert!(tmp.join("config/gatewatch/config.yaml").is_file());
    let sh_lines: Vec<String> = blocks()
        .into_iter()
        .filter(|(lang, _)| lang == "sh")
        .flat_map(|(_, l)| l)
        .map(|l| command(&l))
        .filter(|l| {
            l.starts_with("mkdir -p ~/") || l.starts_with("gatewatch completions") || l.starts_with("gatewatch man")
        })
        .collect();
    assert_eq!(sh_lines.len(), 3, "{sh_lines:?}");
    for line in &sh_lines {
        let (code, out) = sh(line, tmp, &[]);
        assert_eq!(code, 0, "{line}: {out}");
    }
    let completions =
        std::fs::read_to_string(tmp.join("home/.local/share/bash-completion/completions/gatewatch")).unwrap();
    assert!(completions.contains("gatewatch"));
    let man = std::fs::read_to_string(tmp.join("home/.local/share/man/man1/gatewatch.1")).unwrap();
    assert!(man.contains(".TH"));
}

#[test]
fn the_fingerprint_one_liner_agrees_with_gatewatch() {
    let inline = README.split('`').find(|s| s.starts_with("printf %s \"$KEY\"")).expect("the one-liner");
    let key = "sk-upstream-readme-check-0123456789";
    let tmp = tempfile::tempdir().unwrap();
    bin_dir(tmp.path());
    let (code, out) = sh(inline, tmp.path(), &[("KEY", key.to_owned())]);
    assert_eq!(code, 0);
    let ours = gatewatch::secret::Secret::new(key).fingerprint().to_string();
    assert_eq!(format!("sha256:{}", out.trim()), ours);
}

/// The `--gateway` examples of "Watch your gateway", each in a real terminal:
/// it starts, shows the gateway's data, and one q ends it with exit 0.
#[tokio::test(flavor = "multi_thread")]
async fn the_gateway_examples_run_as_written() {
    let block = blocks()
        .into_iter()
        .find(|(lang, lines)| lang == "sh" && lines.iter().any(|l| l.starts_with("gatewatch --gateway")))
        .expect("the examples")
        .1;
    let tmp = tempfile::tempdir().unwrap();
    let tmp = tmp.path();
    bin_dir(tmp);
    let (a, config) = litellm_sim(tmp).await;
    let b = {
        let dir = tmp.join("b");
        std::fs::create_dir_all(&dir).unwrap();
        litellm_sim(&dir).await.0
    };
    let state = newapi_sim::Shared::new(std::sync::Mutex::new(NewApiState::demo()));
    let newapi = format!("http://{}", newapi_sim::serve(state, CancellationToken::new()).await.unwrap());
    let mut exports: Vec<(String, String)> = Vec::new();
    let mut ran = 0;
    for line in block.iter().map(|l| command(l)).filter(|l| !l.is_empty()) {
        if let Some(rest) = line.strip_prefix("export ") {
            for kv in rest.split_whitespace() {
                let (k, v) = kv.split_once('=').unwrap();
                let v = match (k, v) {
                    ("LITELLM_MASTER_KEY", "…") => MASTER.to_owned(),
                    ("NEW_API_ACCESS_TOKEN", "…") => DEMO_ACCESS_TOKEN.to_owned(),
                    (_, v) => v.to_owned(),
                };
                exports.push((k.to_owned(), v));
            }
            continue;
        }
        assert!(line.starts_with("gatewatch "), "a command this test does not know: {line}");
        let swapped = line
            .replace("http://10.0.0.11:4000,http://10.0.0.12:4000", &format!("{},{}", a.url(), b.url()))
            .replace("http://127.0.0.1:4000", &a.url())
            .replace("http://127.0.0.1:3000", &newapi)
            .replace("/etc/litellm/config.yaml", &config.display().to_string());
        let want = if line.contains("newapi=") { "Channels (" } else { "Deployments (" };
        let env = exports.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ") + " ";
        let run = format!(
            "cd {t} && env -i PATH={p}:/usr/bin:/bin HOME={t} XDG_STATE_HOME={t}/state XDG_CONFIG_HOME={t}/none NO_COLOR=1 {env}{swapped}; echo readme-exit=$?; exec sleep 300",
            t = tmp.display(),
            p = bin_dir_path(tmp).display()
        );
        let Some(t) = Tmux::start("the_gateway_examples_run_as_written", 120, 40, &run) else { return };
        let s = t.wait_for(want, Duration::from_secs(20), |s| s.contains(want) && s.contains("● UP"));
        if line.contains(',') {
            assert!(s.contains("2/2 replicas"), "{s}");
        }
        t.send("q");
        t.wait_for("exit 0", Duration::from_secs(10), |s| s.contains("readme-exit=0"));
        ran += 1;
    }
    assert_eq!(ran, 3);
}
