//! The command line around the TUI: version with the commit, completions, man
//! page, `config init` (and that its file loads), config errors naming file,
//! line and field, and the message when nothing is configured.

#![allow(clippy::unwrap_used, clippy::default_trait_access, clippy::print_stderr)]

mod common;

use std::process::Command;

use common::BIN;

fn run(args: &[&str], home: &std::path::Path) -> (i32, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .env("XDG_CONFIG_HOME", home)
        .env("XDG_STATE_HOME", home)
        .env("HOME", home)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn version_names_the_commit() {
    let d = tempfile::tempdir().unwrap();
    let (code, out, _) = run(&["--version"], d.path());
    assert_eq!(code, 0);
    assert!(out.starts_with("gatewatch 0."), "{out}");
    assert!(out.contains("(commit "), "{out}");
}

#[test]
fn completions_and_man_page() {
    let d = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish"] {
        let (code, out, _) = run(&["completions", shell], d.path());
        assert_eq!(code, 0);
        assert!(out.contains("gatewatch") && out.contains("check") && out.len() > 500, "{shell}");
    }
    let (code, out, _) = run(&["man"], d.path());
    assert_eq!(code, 0);
    assert!(out.contains(".TH gatewatch") && out.contains("LITELLM_MASTER_KEY"), "{out}");
}

#[test]
fn config_init_writes_a_file_that_loads() {
    let d = tempfile::tempdir().unwrap();
    let (code, out, err) = run(&["config", "init"], d.path());
    assert_eq!(code, 0, "{err}");
    let path = d.path().join("gatewatch/config.yaml");
    assert!(out.contains(&path.display().to_string()));
    let (code, out, err) = run(&["config", "check"], d.path());
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("litellm-prod (litellm)") && out.contains("newapi-prod (newapi)"), "{out}");
    assert!(out.contains("$LITELLM_MASTER_KEY"));
    // Refuses to overwrite without --force.
    let (code, _, err) = run(&["config", "init"], d.path());
    assert_ne!(code, 0);
    assert!(err.contains("--force"), "{err}");
}

#[test]
fn bad_config_names_file_line_and_field() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("gw.yaml");
    std::fs::write(
        &f,
        "gateways:\n  - name: prod\n    kind: litellm\n    url: http://127.0.0.1:4000\n    refresh: 5 parsecs\n",
    )
    .unwrap();
    let (code, _, err) = run(&["check", "--config", f.to_str().unwrap()], d.path());
    assert_eq!(code, 64);
    assert!(err.contains(&format!("{}:5", f.display())), "{err}");
    assert!(err.contains("gateways[0].refresh"), "{err}");
    assert!(err.contains("parsecs"), "{err}");
}

#[test]
fn nothing_configured_points_to_the_demo() {
    let d = tempfile::tempdir().unwrap();
    let (code, _, err) = run(&[], d.path());
    assert_eq!(code, 64);
    assert!(err.contains("gatewatch demo") && err.contains("config init"), "{err}");
}

#[test]
fn a_tree_override_is_validated() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("tree.yaml");
    std::fs::write(
        &f,
        "version: 1\nnodes:\n  - id: x\n    title: X\n    checks: [no-such-check]\n    remedy: [do it]\n",
    )
    .unwrap();
    let (code, _, err) = run(&["tree", f.to_str().unwrap()], d.path());
    assert_ne!(code, 0);
    assert!(err.contains("unknown check \"no-such-check\""), "{err}");
    let (code, out, _) = run(&["tree", concat!(env!("CARGO_MANIFEST_DIR"), "/assets/triage.yaml")], d.path());
    assert_eq!(code, 0);
    assert!(out.contains("valid"));
}
