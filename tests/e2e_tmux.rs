//! Layer 4: the real binary in a real terminal (tmux): `gatewatch demo`,
//! see the drift, walk to the stale-key node, restart, confirm, see the
//! verification pass and the drift clear, quit, terminal restored.

#![allow(clippy::unwrap_used, clippy::default_trait_access, clippy::print_stderr)]

mod common;

use std::time::Duration;

use common::{BIN, Tmux};

fn demo_command(state: &std::path::Path, extra: &str) -> String {
    format!(
        "env XDG_STATE_HOME={} XDG_CONFIG_HOME={} NO_COLOR=1 {BIN} demo {extra}; echo gatewatch-exit=$?; exec sleep 300",
        state.display(),
        state.display()
    )
}

#[test]
fn demo_detect_triage_restart_verify() {
    let state = tempfile::tempdir().unwrap();
    let Some(t) =
        Tmux::start("demo_detect_triage_restart_verify", 120, 40, &demo_command(state.path(), "--only litellm"))
    else {
        return;
    };
    t.wait_for("the drift to be flagged", Duration::from_secs(30), |s| s.contains("DRIFT"));
    // Walk the tree to the stale-key node.
    let mut found = false;
    for _ in 0..40 {
        if t.capture().contains("Evidence: The running proxy holds") {
            found = true;
            break;
        }
        t.send("j");
        std::thread::sleep(Duration::from_millis(60));
    }
    assert!(found, "never reached the stale-key node:\n{}", t.capture());
    t.send("Enter");
    t.wait_for("the node details", Duration::from_secs(5), |s| {
        s.contains("What is true") && s.contains("api_key changed")
    });
    t.send("R");
    t.wait_for("the confirmation", Duration::from_secs(5), |s| {
        s.contains("Restart litellm-demo?") && s.contains("[y] run")
    });
    t.send("y");
    let done = t.wait_for("the verification", Duration::from_secs(45), |s| s.contains("verified: all 1 replica"));
    assert!(!done.contains("NOT verified"), "{done}");
    let cleared = t.wait_for("the drift to clear", Duration::from_secs(20), |s| {
        !s.contains("DRIFT") && s.contains("drift cleared")
    });
    assert!(cleared.contains("✓ match"), "{cleared}");
    // No secret on screen at any point we looked.
    for secret in [gatewatch::demo::DEMO_MASTER_KEY, gatewatch::demo::OLD_KEY, gatewatch::demo::NEW_KEY] {
        assert!(!cleared.contains(secret));
    }
    t.send("q");
    t.wait_for("the process to exit", Duration::from_secs(10), |s| s.contains("gatewatch-exit=0"));
    assert!(!t.alternate_on(), "terminal left in the alternate screen");
    let audit = std::fs::read_to_string(state.path().join("gatewatch/demo/audit.jsonl")).unwrap();
    assert!(
        audit.contains("\"phase\":\"started\"")
            && audit.contains("\"phase\":\"ended\",\"outcome\":\"verified\"")
            && audit.contains("\"outcome\":\"ok\""),
        "{audit}"
    );
}

#[test]
fn tiny_terminal_and_back() {
    let state = tempfile::tempdir().unwrap();
    let Some(t) = Tmux::start("tiny_terminal_and_back", 100, 30, &demo_command(state.path(), "--only litellm")) else {
        return;
    };
    t.wait_for("the first frame", Duration::from_secs(30), |s| s.contains("Triage"));
    t.resize(20, 5);
    t.wait_for("the too-small notice", Duration::from_secs(5), |s| s.contains("terminal too"));
    t.resize(100, 30);
    t.wait_for("the full screen again", Duration::from_secs(5), |s| s.contains("Triage") && s.contains("Timeline"));
    t.send("q");
    t.wait_for("exit", Duration::from_secs(10), |s| s.contains("gatewatch-exit=0"));
    assert!(!t.alternate_on());
}

#[test]
fn demo_with_both_gateways_test_and_enable_a_channel() {
    let state = tempfile::tempdir().unwrap();
    let Some(t) =
        Tmux::start("demo_with_both_gateways_test_and_enable_a_channel", 140, 40, &demo_command(state.path(), ""))
    else {
        return;
    };
    t.wait_for("both gateways", Duration::from_secs(30), |s| {
        s.contains("1:litellm-demo") && s.contains("2:newapi-demo")
    });
    t.send("2");
    t.wait_for("the channels", Duration::from_secs(20), |s| s.contains("Channels (13") && s.contains("openai-backup"));
    // The starved weight-0 channel and the auto-disabled one are flagged.
    t.wait_for("the starved channel flagged", Duration::from_secs(10), |s| {
        s.contains("openai-backup") && s.contains("0%!")
    });
    // Filter to the auto-disabled channel, test it, then enable it.
    t.send("/");
    for c in "openai-eu".chars() {
        t.send(&c.to_string());
    }
    t.send("Enter");
    t.wait_for("the filter", Duration::from_secs(5), |s| s.contains("/openai-eu → 1"));
    t.send("t");
    t.wait_for("the test confirmation", Duration::from_secs(5), |s| s.contains("Test channel #4 openai-eu?"));
    t.send("y");
    t.wait_for("the test result", Duration::from_secs(20), |s| s.contains("test failed") && s.contains("401"));
    // The action ends with its outcome line ("done": the test ran and found
    // the channel failing); until then a second action is refused.
    t.wait_for("the test to end", Duration::from_secs(20), |s| s.lines().any(|l| l.contains("• done: test failed")));
    t.send("x");
    // The failed test is on the first panel, and enabling needs Y.
    t.wait_for("the enable confirmation with the failed test", Duration::from_secs(5), |s| {
        s.contains("Enable channel #4 openai-eu?")
            && s.contains("Last test failed")
            && s.contains("you will be asked again")
    });
    t.send("y");
    t.wait_for("the second confirmation", Duration::from_secs(5), |s| s.contains("SECOND CONFIRMATION"));
    t.send("Y");
    // Enabled, not "serving": its last test failed.
    t.wait_for("the verification", Duration::from_secs(20), |s| {
        s.contains("verified: channel #4 is enabled (its last")
    });
    t.wait_for("the propagation window", Duration::from_secs(5), |s| s.contains("other nodes pick the edit up within"));
    t.send("q");
    t.wait_for("exit", Duration::from_secs(10), |s| s.contains("gatewatch-exit=0"));
    assert!(!t.alternate_on());
}

/// The pid of the gatewatch process started by the pane's shell.
fn child_pid(t: &Tmux) -> u32 {
    let out = std::process::Command::new("tmux")
        .arg("-S")
        .arg(&t.socket)
        .args(["display-message", "-p", "-t", &t.session, "#{pane_pid}"])
        .output()
        .unwrap();
    let shell: u32 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    for _ in 0..50 {
        if let Ok(c) = std::fs::read_to_string(format!("/proc/{shell}/task/{shell}/children"))
            && let Some(pid) = c.split_whitespace().next()
        {
            return pid.parse().unwrap();
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("gatewatch process not found under pane shell {shell}");
}

#[test]
fn signals_restore_the_terminal() {
    for sig in ["TERM", "HUP", "INT"] {
        let state = tempfile::tempdir().unwrap();
        let Some(t) =
            Tmux::start("signals_restore_the_terminal", 100, 30, &demo_command(state.path(), "--only litellm"))
        else {
            return;
        };
        t.wait_for("the first frame", Duration::from_secs(30), |s| s.contains("Triage"));
        let pid = child_pid(&t);
        let st = std::process::Command::new("kill").args([&format!("-{sig}"), &pid.to_string()]).status().unwrap();
        assert!(st.success());
        t.wait_for(&format!("exit after SIG{sig}"), Duration::from_secs(10), |s| s.contains("gatewatch-exit="));
        assert!(!t.alternate_on(), "SIG{sig} left the alternate screen on");
    }
}

#[test]
fn panic_restores_the_terminal_and_says_what_happened() {
    let state = tempfile::tempdir().unwrap();
    let cmd = format!(
        "env XDG_STATE_HOME={s} XDG_CONFIG_HOME={s} RUST_BACKTRACE=0 RUST_LIB_BACKTRACE=0 LITELLM_MASTER_KEY={key} {BIN} debug-panic; echo gatewatch-exit=$?; exec sleep 300",
        s = state.path().display(),
        key = gatewatch::demo::DEMO_MASTER_KEY
    );
    let Some(t) = Tmux::start("panic_restores_the_terminal", 100, 30, &cmd) else { return };
    let s = t.wait_for("the panic report", Duration::from_secs(30), |s| s.contains("gatewatch-exit="));
    assert!(!t.alternate_on(), "panic left the alternate screen on");
    assert!(s.contains("panicking on purpose"), "{s}");
    assert!(!s.contains(gatewatch::demo::DEMO_MASTER_KEY));
}

#[test]
fn ui_answers_keys_while_the_gateway_hangs() {
    // A gateway that accepts connections and never answers, in this process.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming().flatten() {
            held.push(s);
        }
    });
    let state = tempfile::tempdir().unwrap();
    let cmd = format!(
        "env XDG_STATE_HOME={s} XDG_CONFIG_HOME={s} LITELLM_MASTER_KEY=sk-master-e2e-hang-0000 {BIN} --gateway litellm=http://{addr} --timeout 20s; echo gatewatch-exit=$?; exec sleep 300",
        s = state.path().display()
    );
    let Some(t) = Tmux::start("ui_answers_keys_while_the_gateway_hangs", 100, 30, &cmd) else { return };
    t.wait_for("the first frame", Duration::from_secs(10), |s| s.contains("connecting"));
    // Every request hangs; keys still work at once.
    let started = std::time::Instant::now();
    t.send("?");
    t.wait_for("the help overlay", Duration::from_secs(2), |s| s.contains("Everywhere"));
    assert!(started.elapsed() < Duration::from_secs(2));
    t.send("Escape");
    t.send("Tab");
    t.wait_for("focus on the table", Duration::from_secs(2), |s| !s.contains("Everywhere"));
    t.send("q");
    t.wait_for("exit", Duration::from_secs(5), |s| s.contains("gatewatch-exit=0"));
    assert!(!t.alternate_on());
}

/// A purge the gateway answers with HTTP 500: the failure is shown, the app
/// is ready for the next action at once (its confirmation opens), and one
/// `q` quits. Before, the spinner ran forever and every action was "busy".
#[test]
fn a_failed_purge_ends_and_the_next_action_opens() {
    use axum::Router;
    use axum::routing::{get, post};
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let fixture = |name: &str| std::fs::read_to_string(format!("tests/fixtures/litellm/{name}")).unwrap();
    let json = |body: String| ([("content-type", "application/json")], body);
    let (model_info, models, ping, ready) = (
        fixture("model_info.json"),
        fixture("v1_models.json"),
        fixture("cache_ping_redis.json"),
        fixture("health_readiness.json"),
    );
    let app = Router::new()
        .route("/health/liveliness", get(move || async move { json("\"I'm alive!\"".into()) }))
        .route("/health/readiness", get(move || async move { json(ready) }))
        .route("/model/info", get(move || async move { json(model_info) }))
        .route("/v1/models", get(move || async move { json(models) }))
        .route("/cache/ping", get(move || async move { json(ping) }))
        .route(
            "/cache/flushall",
            post(|| async { (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "{\"error\":\"redis write failed\"}") }),
        );
    let url = rt.block_on(common::serve(app));
    let state = tempfile::tempdir().unwrap();
    let cmd = format!(
        "env XDG_STATE_HOME={s} XDG_CONFIG_HOME={s} NO_COLOR=1 LITELLM_MASTER_KEY=sk-e2e-master-0000 {BIN} --gateway litellm={url} --refresh 1s; echo gatewatch-exit=$?; exec sleep 300",
        s = state.path().display()
    );
    let Some(t) = Tmux::start("a_failed_purge_ends_and_the_next_action_opens", 120, 40, &cmd) else { return };
    t.wait_for("the deployments", Duration::from_secs(20), |s| s.contains("gpt-4o") && s.contains("cache redis"));
    t.send("p");
    t.wait_for("the purge confirmation", Duration::from_secs(5), |s| s.contains("POST /cache/flushall"));
    t.send("y");
    t.wait_for("the failure", Duration::from_secs(15), |s| s.contains("FAILED") && s.contains("HTTP 500"));
    // Ready at once: the next action opens its confirmation.
    t.send("p");
    t.wait_for("a second confirmation", Duration::from_secs(5), |s| s.contains("POST /cache/flushall"));
    t.send("Escape");
    std::thread::sleep(Duration::from_millis(300));
    t.send("q");
    t.wait_for("the process to exit on one q", Duration::from_secs(10), |s| s.contains("gatewatch-exit=0"));
    let audit = std::fs::read_to_string(state.path().join("gatewatch/audit.jsonl")).unwrap_or_default();
    assert!(audit.contains("\"phase\":\"ended\",\"outcome\":\"failed\""), "{audit}");
}

/// Issues 17 and 18 in a real terminal: the tree starts on the failing node,
/// a `keys:` rebinding is what the keys, the footer and `?` do, and the `:`
/// palette runs a command by name with the same confirmation.
#[test]
fn rebound_keys_the_palette_and_the_first_failure() {
    let state = tempfile::tempdir().unwrap();
    let cfg = state.path().join("keys.yaml");
    std::fs::write(
        &cfg,
        "gateways:\n  - {name: unused, kind: litellm, url: 'http://127.0.0.1:9'}\nkeys:\n  restart: X\n  purge: none\n",
    )
    .unwrap();
    let extra = format!("--only litellm --config {}", cfg.display());
    let Some(t) =
        Tmux::start("rebound_keys_the_palette_and_the_first_failure", 120, 40, &demo_command(state.path(), &extra))
    else {
        return;
    };
    // Launch → the failing node's evidence and remedy, no key pressed: the
    // demo's deepseek-chat is failing live requests (its upstream is down).
    let first = t.wait_for("the live failure, selected", Duration::from_secs(30), |s| {
        s.contains("DRIFT") && s.contains("Evidence: Live requests fail with other errors")
    });
    assert!(first.contains("deepseek-chat") && first.contains("500 Open"), "{first}");
    assert!(first.contains("X:restart") && !first.contains("R:restart"), "{first}");
    t.send("R");
    std::thread::sleep(Duration::from_millis(400));
    assert!(!t.capture().contains("Restart litellm-demo?"), "R is no longer restart");
    t.send("X");
    t.wait_for("the rebound restart", Duration::from_secs(5), |s| s.contains("Restart litellm-demo?"));
    t.send("n");
    t.send("?");
    let help = t.wait_for("the help", Duration::from_secs(5), |s| s.contains("Keys here"));
    assert!(help.contains("X ") && !help.contains("purge the"), "{help}");
    t.send("Escape");
    t.send(":");
    for c in "restart".chars() {
        t.send(&c.to_string());
    }
    t.wait_for("the palette", Duration::from_secs(5), |s| s.contains(":restart"));
    t.send("Enter");
    t.wait_for("the palette's restart asks the same", Duration::from_secs(5), |s| {
        s.contains("Restart litellm-demo?") && s.contains("[y] run")
    });
    t.send("n");
    t.send("q");
    t.wait_for("exit", Duration::from_secs(10), |s| s.contains("gatewatch-exit=0"));
    assert!(!t.alternate_on());
}

/// Issue 18 at the sizes: at 80x24 one pane at a time (the tree with the
/// failing node's evidence and remedy, Tab to the table), at 200x60 every
/// pane, and the footer of keys at both.
#[test]
fn small_and_large_terminals_show_the_failure_and_its_remedy() {
    let state = tempfile::tempdir().unwrap();
    let Some(t) = Tmux::start("small_and_large_terminals", 80, 24, &demo_command(state.path(), "--only litellm"))
    else {
        return;
    };
    let small = t.wait_for("the focused tree", Duration::from_secs(30), |s| {
        s.contains("Evidence: Live requests fail") && s.contains("→ ") && s.contains("J next failure")
    });
    assert!(!small.contains("Deployments ("), "one pane at a time at 80x24:\n{small}");
    t.send("Tab");
    t.wait_for("the table, alone", Duration::from_secs(5), |s| {
        s.contains("Deployments (4") && s.contains("Live 5m") && s.contains("/32 fail") && !s.contains("Triage (")
    });
    t.resize(200, 60);
    let large = t.wait_for("every pane", Duration::from_secs(10), |s| {
        s.contains("Triage (") && s.contains("Deployments (4") && s.contains("Keys (") && s.contains("Timeline (")
    });
    assert!(large.contains("Live 5m") && large.contains("Fail/30m"), "{large}");
    t.send("q");
    t.wait_for("exit", Duration::from_secs(10), |s| s.contains("gatewatch-exit=0"));
    assert!(!t.alternate_on());
}

/// Issue 20: past 20,000 channels the list is assembled page by page and
/// carried to the next run; reopening gatewatch shows that list at once
/// (held once: the poller hands the app the adapter's list rather than the
/// app reading the snapshot beside it), unless a newer one was saved.
#[test]
fn the_list_the_last_run_assembled_shows_at_once_when_the_gateway_does_not_answer() {
    use gatewatch::gateway::Deployment;
    use gatewatch::gateway::newapi::crawl::Assembled;
    use gatewatch::snapshot::{self, ListSnapshot};
    let state = tempfile::tempdir().unwrap();
    let dir = state.path().join("gatewatch");
    // An address that accepts and never answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming().flatten() {
            held.push(s);
        }
    });
    let now = gatewatch::poller::unix_now(std::time::SystemTime::now());
    let list = |prefix: &str, n: usize| {
        std::sync::Arc::new((1..=n).map(|i| Deployment::new(i.to_string(), format!("{prefix}-{i:02}"))).collect())
    };
    let assembled =
        Assembled { deployments: list("carried", 12), first_at: now - 7200, last_at: now - 600, pages: 1, steps: 3 };
    let carry = gatewatch::poller::carry_path(&dir, &url, "lists.json");
    std::fs::create_dir_all(carry.parent().unwrap()).unwrap();
    std::fs::write(&carry, serde_json::json!({ "server": url, "assembled": assembled }).to_string()).unwrap();
    // The snapshot the run before saved, older than the carried list.
    let old =
        ListSnapshot { gateway: "newapi".into(), replica: url.clone(), at: now - 9000, deployments: list("older", 3) };
    snapshot::save(&snapshot::path(&dir, "newapi"), &old).unwrap();
    let cmd = format!(
        "env XDG_STATE_HOME={s} XDG_CONFIG_HOME={s} NEW_API_ACCESS_TOKEN=e2e-newapi-token-0000 NEW_API_USER_ID=1 NO_COLOR=1 {BIN} --gateway newapi={url} --timeout 30s; echo gatewatch-exit=$?; exec sleep 300",
        s = state.path().display(),
    );
    let Some(t) = Tmux::start("the_list_the_last_run_assembled_shows_at_once", 160, 45, &cmd) else { return };
    let s = t.wait_for("the carried list", Duration::from_secs(10), |s| {
        s.contains("carried-01") && s.contains("carried-12") && s.contains("Channels (12")
    });
    assert!(!s.contains("older-01"), "the older snapshot is not shown:\n{s}");
    timeline_then_quit(&t, "the timeline gives the list's age", |s| {
        s.contains("showing the channel list saved 2h ago") && s.contains("(12 channel(s), read from http://")
    });
}

/// Open the timeline (the fourth pane, all of it), wait for `what`, quit.
fn timeline_then_quit(t: &Tmux, what: &str, until: impl Fn(&str) -> bool) {
    for _ in 0..3 {
        t.send("Tab");
    }
    t.send("/");
    t.wait_for(what, Duration::from_secs(5), until);
    t.send("q");
    t.wait_for("exit", Duration::from_secs(10), |s| s.contains("gatewatch-exit=0"));
}

/// Issue 20: reopening gatewatch on a gateway that does not answer (yet):
/// the channel list the last `check` saved is on screen at once, with its
/// age, not an empty table — and the gateway is not called up.
#[test]
fn the_last_saved_list_shows_at_once_when_the_gateway_does_not_answer() {
    use gatewatch::demo::newapi_sim::{self, captured};
    let state = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let cancel = tokio_util::sync::CancellationToken::new();
    let addr = rt
        .block_on(newapi_sim::serve(
            std::sync::Arc::new(std::sync::Mutex::new(captured::four_channels())),
            cancel.clone(),
        ))
        .unwrap();
    let out = std::process::Command::new(BIN.to_string())
        .args(["check", "--gateway", &format!("newapi=http://{addr}"), "--state-dir"])
        .arg(state.path().join("gatewatch"))
        .env("NEW_API_ACCESS_TOKEN", captured::ROOT_TOKEN)
        .env("NEW_API_USER_ID", "1")
        .output()
        .unwrap();
    assert!(state.path().join("gatewatch/snapshot/newapi.json").exists(), "{}", String::from_utf8_lossy(&out.stdout));
    cancel.cancel();
    drop(rt);
    // The same address now accepts and never answers.
    let listener = (0..50)
        .find_map(|_| {
            std::net::TcpListener::bind(addr).ok().or_else(|| {
                std::thread::sleep(Duration::from_millis(100));
                None
            })
        })
        .unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming().flatten() {
            held.push(s);
        }
    });
    let cmd = format!(
        "env XDG_STATE_HOME={s} XDG_CONFIG_HOME={s} NEW_API_ACCESS_TOKEN={t} NEW_API_USER_ID=1 NO_COLOR=1 {BIN} --gateway newapi=http://{addr} --timeout 30s; echo gatewatch-exit=$?; exec sleep 300",
        s = state.path().display(),
        t = captured::ROOT_TOKEN
    );
    let Some(t) = Tmux::start("the_last_saved_list_shows_at_once", 160, 45, &cmd) else { return };
    let s = t.wait_for("the saved list", Duration::from_secs(10), |s| {
        s.contains("dead-upstream")
            && s.contains("zero-weight")
            && s.contains("connecting newapi")
            && s.contains("showing the list saved")
    });
    assert!(!s.contains(captured::ROOT_TOKEN));
    timeline_then_quit(&t, "the timeline says where the list comes from", |s| {
        s.contains("showing the channel list saved") && s.contains("(4 channel(s), read from http://")
    });
}
