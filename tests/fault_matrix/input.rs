//! Files that are too large, not files at all, or built to explode: every
//! read is bounded in size and time, and names the cap or the file type.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::{BIN, refused_url};

/// Run `gatewatch check` with `args`, bounded: a hang fails the test instead of blocking it.
async fn check(args: &[&str], state: &Path) -> (i32, String, Duration) {
    let started = Instant::now();
    let child = tokio::process::Command::new(BIN)
        .arg("check")
        .args(args)
        .arg("--state-dir")
        .arg(state)
        .env("LITELLM_MASTER_KEY", "sk-master-input-test-000000000000")
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(30), child).await.expect("check hung").unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), text, started.elapsed())
}

fn fifo(dir: &Path, name: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    nix::unistd::mkfifo(&p, nix::sys::stat::Mode::S_IRWXU).unwrap();
    p
}

#[tokio::test]
async fn devices_fifos_and_huge_files_are_refused_quickly_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let gw = format!("litellm={}", refused_url());
    let big = dir.path().join("big.yaml");
    std::fs::File::create(&big).unwrap().set_len(9 * 1024 * 1024).unwrap();
    let litellm_fifo = fifo(dir.path(), "litellm.yaml");
    for (path, expect) in [
        (Path::new("/dev/zero"), "not a regular file (a character device)"),
        (litellm_fifo.as_path(), "not a regular file (a FIFO)"),
        (dir.path(), "not a regular file (a directory)"),
        (big.as_path(), "larger than the 8 MiB limit for a LiteLLM config (it is 9 MiB)"),
    ] {
        let p = path.display().to_string();
        let (_, out, took) = check(&["--gateway", &gw, "--litellm-config", &p], &state).await;
        assert!(out.contains(expect), "{p}: {out}");
        assert!(took < Duration::from_secs(20), "{p} took {took:?}");
    }
    // gatewatch's own config as a FIFO: a cron job that never ends, before.
    let own = fifo(dir.path(), "gatewatch.yaml");
    let (code, out, _) = check(&["--config", &own.display().to_string()], &state).await;
    assert_eq!(code, 64, "{out}");
    assert!(out.contains("gatewatch.yaml: cannot read: not a regular file (a FIFO)"), "{out}");
    // The nginx config and the channel keys file go through the same door.
    let nginx = fifo(dir.path(), "nginx.conf");
    let keys = fifo(dir.path(), "keys.yaml");
    let cfg = dir.path().join("gw.yaml");
    std::fs::write(
        &cfg,
        format!(
            "gateways:\n  - name: a\n    kind: litellm\n    url: {}\n    nginx_config: {}\n  - name: b\n    kind: newapi\n    url: {}\n    channel_keys_file: {}\n",
            refused_url(),
            nginx.display(),
            refused_url(),
            keys.display()
        ),
    )
    .unwrap();
    let (_, out, took) = check(&["--config", &cfg.display().to_string()], &state).await;
    assert!(took < Duration::from_secs(25), "{took:?}: {out}");
    assert!(out.contains("Result:"), "{out}");
}

#[tokio::test]
async fn a_huge_anchor_aliased_thousands_of_times_stops_at_the_budget() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.yaml");
    // ~1 MB anchor, 2,000 aliases: 2 GB expanded. Measured before: 9.4 s and 4.3 GB.
    let text = format!(
        "big: &b '{}'\nmodel_list:\n  - model_name: a\n    litellm_params:\n      model: openai/a\n      extra: [{}]\n",
        "x".repeat(1_000_000),
        vec!["*b"; 2000].join(", ")
    );
    std::fs::write(&cfg, text).unwrap();
    let (_, out, took) = check(
        &["--gateway", &format!("litellm={}", refused_url()), "--litellm-config", &cfg.display().to_string()],
        &dir.path().join("state"),
    )
    .await;
    assert!(out.contains("aliases expand to more than 32 MiB"), "{out}");
    assert!(took < Duration::from_secs(10), "{took:?}");
}

#[tokio::test]
async fn deep_flow_nesting_in_gatewatchs_config_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("gw.yaml");
    std::fs::write(&cfg, format!("gateways: {}{}\n", "[".repeat(100_000), "]".repeat(100_000))).unwrap();
    let (code, out, took) = check(&["--config", &cfg.display().to_string()], &dir.path().join("state")).await;
    assert_eq!(code, 64, "{out}");
    assert!(out.contains("gw.yaml:1: [ and { nested deeper than 64 levels"), "{out}");
    assert!(took < Duration::from_secs(5), "{took:?} (16 s before)");
}

#[tokio::test]
async fn the_litellm_config_is_parsed_again_only_when_it_changes() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.yaml");
    std::fs::write(&cfg, "model_list:\n  - model_name: a\n    litellm_params: {model: openai/a}\n").unwrap();
    let mut s = crate::spec(&refused_url());
    s.config_file = Some(cfg.clone());
    let gw: std::sync::Arc<dyn gatewatch::gateway::Gateway> =
        std::sync::Arc::new(gatewatch::gateway::litellm::LiteLlm::with_key(s, None));
    let mut mem = Default::default();
    for _ in 0..4 {
        let r = gatewatch::poller::cycle(&gw, 0, &mut mem, None, None).await;
        assert!(matches!(r.local.proxy_config(), Some(Ok(_))));
    }
    assert_eq!(gatewatch::configcache::parses_of(&cfg), 1, "four polls, one parse");
    std::fs::write(&cfg, "model_list:\n  - model_name: b\n    litellm_params: {model: openai/b}\n").unwrap();
    let r = gatewatch::poller::cycle(&gw, 0, &mut mem, None, None).await;
    let Some(Ok(c)) = r.local.proxy_config().cloned() else { panic!() };
    assert_eq!(c.deployments[0].model_name, "b");
    assert_eq!(gatewatch::configcache::parses_of(&cfg), 2);
}
