//! Verdicts where the gateway really runs, against a real LiteLLM Proxy
//! 1.106.12 and the fake upstream: a key only the proxy's process has (with
//! and without its env file), `environment_variables:`, `include:`d model
//! lists, pinned ids, the process age, and a restart verified after the
//! replica set changed. Each case asserts the verdict the proxy's real
//! behaviour justifies, through the same evidence the TUI shows (one poll
//! cycle folded into a `Fleet`, every check evaluated) and, where it says
//! something else, through `gatewatch check --json`.
//!
//! Needs `GATEWATCH_LITELLM`; otherwise SKIPPED (a failure under
//! `GATEWATCH_REQUIRE_REAL=1`).

#![allow(clippy::unwrap_used, clippy::print_stderr)]

mod common;
mod support;

use std::path::Path;
use std::time::{Duration, SystemTime};

use gatewatch::actions::plan::preflight_warnings;
use gatewatch::actions::verify::{self, Before, Expect};
use gatewatch::config::{GatewayKind, GatewaySpec};
use gatewatch::fleet::{Fleet, GatewayObs};
use gatewatch::gateway::litellm::LiteLlm;
use gatewatch::gateway::litellm::drift::{DriftRow, DriftState, MatchMemory};
use gatewatch::poller;
use gatewatch::secret::Secret;
use gatewatch::triage::evidence::{self, Evidence, Finding, Verdict};
use support::litellm::{self as real, FakeUpstream, Proxy};

const MINI: &str = "sk-upstream-env-MINI-3333cccc";
const PROXY_ONLY: &str = "sk-upstream-PROXY-ONLY-4444dddd";
const SECTION: &str = "sk-upstream-SECTION-ONLY-5555eeee";

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

fn spec(proxy: &Proxy, env_file: Option<&Path>) -> GatewaySpec {
    let mut s = GatewaySpec::new("real-litellm", GatewayKind::LiteLlm, proxy.url());
    s.config_file = Some(proxy.config_path());
    s.env_file = env_file.map(Path::to_owned);
    s.timeout = Duration::from_secs(20);
    s.action_timeout = Duration::from_secs(60);
    s
}

/// One poll cycle folded into a fleet and every check evaluated: what the
/// TUI's panes and `check` both show.
fn observe(
    rt: &tokio::runtime::Runtime,
    proxy: &Proxy,
    spec: &GatewaySpec,
    memory: &mut MatchMemory,
) -> (GatewayObs, Evidence) {
    let gw: std::sync::Arc<dyn gatewatch::gateway::Gateway> =
        std::sync::Arc::new(LiteLlm::with_key(spec.clone(), Some(Secret::new(proxy.master_key()))));
    let report = rt.block_on(poller::cycle(&gw, 0, memory, None, None));
    let mut fleet = Fleet::new(std::slice::from_ref(spec));
    fleet.apply_poll(report);
    let obs = fleet.gateways.remove(0);
    let ev = evidence::evaluate(&obs, SystemTime::now());
    (obs, ev)
}

fn finding<'a>(ev: &'a Evidence, id: &str) -> &'a Finding {
    ev.get(id).unwrap_or_else(|| panic!("no finding {id}"))
}

fn rows(obs: &GatewayObs) -> Vec<DriftRow> {
    obs.replicas[0].drift.clone().unwrap_or_else(|| panic!("no comparison: {:?}", obs.replicas[0].last))
}

fn row<'a>(rows: &'a [DriftRow], name: &str) -> &'a DriftRow {
    rows.iter().find(|r| r.model_name == name).unwrap_or_else(|| panic!("no row {name}: {rows:#?}"))
}

fn all_text(f: &Finding) -> String {
    format!("{} | {}", f.summary, f.facts.join(" | "))
}

fn say(test: &str, what: &str, f: &Finding) {
    real::say(&format!("[{test}] {what}: {} {}: {}", f.check, f.verdict.label(), f.summary));
}

/// `gatewatch check --json` against the proxy: (exit code, report).
fn check_json(proxy: &Proxy, extra: &[&str]) -> (i32, serde_json::Value) {
    let state = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(common::BIN)
        .args(["check", "--json", "--timeout", "20s", "--gateway", &format!("litellm={}", proxy.url())])
        .arg("--litellm-config")
        .arg(proxy.config_path())
        .arg("--state-dir")
        .arg(state.path())
        .args(extra)
        .env("LITELLM_MASTER_KEY", proxy.master_key())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    (out.status.code().unwrap_or(-1), serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}")))
}

fn check_verdict(v: &serde_json::Value, id: &str) -> String {
    let c = v["gateways"][0]["checks"].as_array().unwrap().iter().find(|c| c["id"] == id).unwrap();
    c["verdict"].as_str().unwrap().to_owned()
}

fn two_models(up: &FakeUpstream, gpt4o_key: &str, extra: &str) -> String {
    let base = up.api_base();
    format!(
        "model_list:
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o
      api_base: {base}
      api_key: {gpt4o_key}
  - model_name: gpt-4o-mini
    litellm_params:
      model: openai/gpt-4o-mini
      api_base: {base}
      api_key: {MINI}
{extra}
litellm_settings:
  num_retries: 0
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
"
    )
}

/// Restart with the harness (the same command gatewatch runs), then verify as
/// gatewatch does after its restart action.
fn restart_and_verify(rt: &tokio::runtime::Runtime, proxy: &mut Proxy, spec: &GatewaySpec) -> verify::Verification {
    let before: Before = rt.block_on(verify::before(spec));
    assert!(before.process.is_some(), "the proxy listens on 127.0.0.1: its process must be visible");
    proxy.restart();
    let gw = LiteLlm::with_key(spec.clone(), Some(Secret::new(proxy.master_key())));
    let expect = rt.block_on(verify::expected_after_restart(spec));
    assert!(matches!(expect, Expect::Ids(_)));
    rt.block_on(verify::until_verified(&gw, &[proxy.url()], &expect, &before, Duration::from_secs(60), |_| {}))
}

#[test]
fn a_key_only_in_the_proxys_environment_is_unknown_without_its_env_and_exact_with_it() {
    const TEST: &str = "a_key_only_in_the_proxys_environment_is_unknown_without_its_env_and_exact_with_it";
    if real::require_litellm(TEST).is_none() {
        return;
    }
    assert!(std::env::var_os("PROXY_ONLY_KEY").is_none(), "the test needs gatewatch's environment without it");
    let _serial = real::exclusive();
    let up = FakeUpstream::start();
    let mut proxy = Proxy::start(&two_models(&up, "os.environ/PROXY_ONLY_KEY", ""), &[("PROXY_ONLY_KEY", PROXY_ONLY)]);
    let rt = rt();
    let mut memory = MatchMemory::default();

    // gatewatch's own environment lacks the name: unknown, never DRIFT, no failed pre-flight.
    let own = spec(&proxy, None);
    let (obs, ev) = observe(&rt, &proxy, &own, &mut memory);
    let r = rows(&obs);
    assert!(
        matches!(&row(&r, "gpt-4o").state, DriftState::Unverifiable { missing, .. } if missing == &["PROXY_ONLY_KEY"])
    );
    assert_eq!(row(&r, "gpt-4o").running_key, None);
    assert_eq!(row(&r, "gpt-4o-mini").state, DriftState::Match);
    let drift = finding(&ev, "key-drift");
    say(TEST, "own environment", drift);
    assert_eq!(drift.verdict, Verdict::Unknown, "{drift:#?}");
    assert!(all_text(drift).contains("gatewatch's own environment"), "{drift:#?}");
    assert!(all_text(drift).contains("env_file"), "the remedy is named: {drift:#?}");
    let pre = finding(&ev, "restart-preflight");
    say(TEST, "own environment", pre);
    assert_ne!(pre.verdict, Verdict::Fail, "{pre:#?}");
    assert!(preflight_warnings(&obs).is_empty(), "no second confirmation: {:?}", preflight_warnings(&obs));
    let (code, v) = check_json(&proxy, &[]);
    assert_eq!(check_verdict(&v, "key-drift"), "unknown");
    assert_ne!(check_verdict(&v, "restart-preflight"), "fail");
    assert!(code < 2, "exit {code}: {v:#}");

    // The proxy's env file: the id is exact and matches.
    let with_env = spec(&proxy, Some(&proxy.env_file()));
    let (obs, ev) = observe(&rt, &proxy, &with_env, &mut memory);
    let r = rows(&obs);
    assert_eq!(row(&r, "gpt-4o").state, DriftState::Match, "{r:#?}");
    assert_eq!(finding(&ev, "key-drift").verdict, Verdict::Ok, "{:#?}", finding(&ev, "key-drift"));
    say(TEST, "env_file", finding(&ev, "key-drift"));
    let env_file = proxy.env_file().display().to_string();
    let (_, v) = check_json(&proxy, &["--litellm-env-file", &env_file]);
    assert_eq!(check_verdict(&v, "key-drift"), "ok", "{v:#}");
    // The same environment printed by a command (as `docker exec litellm env` would).
    let mut by_command = spec(&proxy, None);
    by_command.env_command = Some(format!("env -i /bin/sh -c '. {env_file} && env'"));
    let (obs, ev) = observe(&rt, &proxy, &by_command, &mut memory);
    assert_eq!(row(&rows(&obs), "gpt-4o").state, DriftState::Match);
    assert_eq!(finding(&ev, "key-drift").verdict, Verdict::Ok);

    // The env file says another value than the proxy runs with: exact drift on that deployment only.
    let other = proxy.dir().join("other.env");
    let text = std::fs::read_to_string(proxy.env_file()).unwrap().replace(PROXY_ONLY, "sk-upstream-PROXY-ROTATED-9999");
    std::fs::write(&other, text).unwrap();
    let (obs, ev) = observe(&rt, &proxy, &spec(&proxy, Some(&other)), &mut memory);
    let r = rows(&obs);
    assert!(matches!(row(&r, "gpt-4o").state, DriftState::Drift { explained: true, .. }), "{r:#?}");
    assert!(row(&r, "gpt-4o").summary().contains("api_key changed"), "{}", row(&r, "gpt-4o").summary());
    assert_eq!(row(&r, "gpt-4o-mini").state, DriftState::Match);
    assert_eq!(finding(&ev, "key-drift").verdict, Verdict::Fail);
    say(TEST, "env_file with another value", finding(&ev, "key-drift"));
    let (code, v) = check_json(&proxy, &["--litellm-env-file", &other.display().to_string()]);
    assert_eq!((code, check_verdict(&v, "key-drift").as_str()), (2, "fail"));

    // A restart resolved from gatewatch's own environment verifies, and says what it could not check.
    let v = restart_and_verify(&rt, &mut proxy, &own);
    real::say(&format!("[{TEST}] restart, own environment: {}", v.summary));
    assert!(v.ok, "{v:#?}");
    assert!(v.summary.contains("keys are not verified") && v.summary.contains("restarted"), "{v:#?}");
    for text in [format!("{v:?}"), format!("{:?}", finding(&ev, "key-drift"))] {
        assert!(!text.contains(PROXY_ONLY) && !text.contains(MINI), "a key leaked: {text}");
    }
}

#[test]
fn environment_variables_come_too_late_for_model_list() {
    const TEST: &str = "environment_variables_come_too_late_for_model_list";
    if real::require_litellm(TEST).is_none() {
        return;
    }
    let _serial = real::exclusive();
    let up = FakeUpstream::start();
    let section = format!("environment_variables:\n  ONLY_IN_SECTION: {SECTION}\n");
    let proxy = Proxy::start(&two_models(&up, "os.environ/ONLY_IN_SECTION", &section), &[]);
    let rt = rt();
    let mut memory = MatchMemory::default();
    // With the proxy's environment the id is exact: the proxy hashed api_key None.
    let (obs, ev) = observe(&rt, &proxy, &spec(&proxy, Some(&proxy.env_file())), &mut memory);
    let r = rows(&obs);
    assert_eq!(row(&r, "gpt-4o").state, DriftState::Match, "{r:#?}");
    assert_eq!(finding(&ev, "key-drift").verdict, Verdict::Ok);
    let env = finding(&ev, "env-key-changed");
    say(TEST, "env_file", env);
    assert_eq!(env.verdict, Verdict::Warn, "{env:#?}");
    assert!(env.summary.contains("gpt-4o") && env.summary.contains("environment_variables"), "{env:#?}");
    let pre = finding(&ev, "restart-preflight");
    say(TEST, "env_file", pre);
    assert_eq!(pre.verdict, Verdict::Warn, "it boots, without that key: {pre:#?}");
    // The truth behind it: the upstream never sees the section's key.
    let auth = format!("Bearer {}", proxy.master_key());
    let body = r#"{"model":"gpt-4o","messages":[{"role":"user","content":"env"}],"max_tokens":1}"#;
    let status = real::http(proxy.port(), "POST", "/v1/chat/completions", &[("Authorization", &auth)], Some(body))
        .map_or(0, |(s, _)| s);
    let keys: Vec<String> = up.chats_for("gpt-4o").iter().filter_map(|c| c.key().map(str::to_owned)).collect();
    real::say(&format!("[{TEST}] chat to gpt-4o: HTTP {status}; keys the upstream saw: {}", keys.len()));
    assert!(!keys.iter().any(|k| k == SECTION), "the section's value reached the upstream");
    // In gatewatch's own environment the name is not visible, and is hashed
    // as None: the proxy's equal id proves it had no value either.
    let (_, ev) = observe(&rt, &proxy, &spec(&proxy, None), &mut memory);
    let drift = finding(&ev, "key-drift");
    say(TEST, "own environment", drift);
    assert_eq!(drift.verdict, Verdict::Ok);
    let env = finding(&ev, "env-key-changed");
    say(TEST, "own environment", env);
    assert_eq!(env.verdict, Verdict::Warn, "{env:#?}");
    assert!(env.summary.contains("environment_variables"), "{env:#?}");
}

#[test]
fn an_included_model_list_is_read_as_the_proxy_reads_it() {
    const TEST: &str = "an_included_model_list_is_read_as_the_proxy_reads_it";
    let Some(bin) = real::require_litellm(TEST) else { return };
    let _serial = real::exclusive();
    let up = FakeUpstream::start();
    let base = up.api_base();
    let main = format!(
        "include:\n  - models/extra.yaml\nmodel_list:\n  - model_name: gpt-4o\n    litellm_params:\n      model: openai/gpt-4o\n      api_base: {base}\n      api_key: sk-upstream-inc-MAIN-1111\nlitellm_settings:\n  num_retries: 0\ngeneral_settings:\n  master_key: os.environ/LITELLM_MASTER_KEY\n"
    );
    let extra = |key: &str| {
        format!(
            "# deployments kept apart\nmodel_list:\n  - model_name: gpt-4o-mini\n    litellm_params:\n      model: openai/gpt-4o-mini\n      api_base: {base}\n      api_key: {key}\n"
        )
    };
    let mut proxy = Proxy::prepare(&bin, &main, &[]);
    proxy.write_file("models/extra.yaml", &extra(MINI));
    proxy.launch();
    proxy.wait_ready(real::READY_TIMEOUT);
    let rt = rt();
    let s = spec(&proxy, Some(&proxy.env_file()));
    let mut memory = MatchMemory::default();
    let (obs, ev) = observe(&rt, &proxy, &s, &mut memory);
    let r = rows(&obs);
    assert_eq!(r.len(), 2, "{r:#?}");
    assert!(r.iter().all(|x| x.state == DriftState::Match), "{r:#?}");
    assert_eq!(row(&r, "gpt-4o-mini").location().as_deref(), Some("extra.yaml line 3"));
    assert_eq!(finding(&ev, "key-drift").verdict, Verdict::Ok);
    say(TEST, "include", finding(&ev, "key-drift"));

    // An edit inside the included file: drift on that deployment, named by file and line.
    proxy.write_file("models/extra.yaml", &extra("sk-upstream-inc-MINI-ROTATED-2222"));
    let (obs, ev) = observe(&rt, &proxy, &s, &mut memory);
    let r = rows(&obs);
    assert!(matches!(row(&r, "gpt-4o-mini").state, DriftState::Drift { explained: true, .. }), "{r:#?}");
    assert_eq!(row(&r, "gpt-4o").state, DriftState::Match);
    let drift = finding(&ev, "key-drift");
    say(TEST, "edit inside the include", drift);
    assert_eq!(drift.verdict, Verdict::Fail);
    assert!(all_text(drift).contains("extra.yaml line 3") && all_text(drift).contains("api_key changed"), "{drift:#?}");
    let (code, v) = check_json(&proxy, &[]);
    assert_eq!((code, check_verdict(&v, "key-drift").as_str()), (2, "fail"), "{v:#}");

    // The restart loads it and verifies.
    let v = restart_and_verify(&rt, &mut proxy, &s);
    assert!(v.ok && v.summary.starts_with("verified: all 1 replica"), "{v:#?}");
    assert_eq!(finding(&observe(&rt, &proxy, &s, &mut memory).1, "key-drift").verdict, Verdict::Ok);

    // A missing include: the proxy itself does not start with it, and gatewatch says so before a restart.
    std::fs::remove_file(proxy.dir().join("models/extra.yaml")).unwrap();
    let (_, ev) = observe(&rt, &proxy, &s, &mut memory);
    let pre = finding(&ev, "restart-preflight");
    say(TEST, "missing include", pre);
    assert_eq!(pre.verdict, Verdict::Fail);
    assert!(pre.summary.contains("config.yaml:2") && pre.summary.contains("models/extra.yaml"), "{pre:#?}");
    let out = std::process::Command::new(&bin)
        .arg("--config")
        .arg(proxy.config_path())
        .arg("--validate_config")
        .env("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        .env("LITELLM_MASTER_KEY", proxy.master_key())
        .output()
        .unwrap();
    real::say(&format!("[{TEST}] litellm --validate_config with the include missing: {}", out.status));
    assert!(!out.status.success(), "the real proxy accepts a missing include?");
}

#[test]
fn a_pinned_id_is_never_called_a_match() {
    const TEST: &str = "a_pinned_id_is_never_called_a_match";
    if real::require_litellm(TEST).is_none() {
        return;
    }
    let _serial = real::exclusive();
    let up = FakeUpstream::start();
    let pinned = |key: &str| {
        two_models(&up, key, "").replacen(
            &format!("      api_key: {key}\n"),
            &format!("      api_key: {key}\n    model_info:\n      id: gpt4o-pinned-1\n"),
            1,
        )
    };
    let (old, new) = ("sk-upstream-PIN-OLD-1111", "sk-upstream-PIN-NEW-2222");
    let mut proxy = Proxy::start(&pinned(old), &[]);
    let rt = rt();
    let s = spec(&proxy, Some(&proxy.env_file()));
    let mut memory = MatchMemory::default();
    proxy.rewrite_config(&pinned(new));
    let (obs, ev) = observe(&rt, &proxy, &s, &mut memory);
    let r = rows(&obs);
    assert_eq!(row(&r, "gpt-4o").state, DriftState::Pinned { matches: true }, "{r:#?}");
    assert_eq!(row(&r, "gpt-4o").running_key, None, "no 'proxy holds' fingerprint for a pinned id");
    assert_eq!(row(&r, "gpt-4o").running_id.as_deref(), Some("gpt4o-pinned-1"));
    let drift = finding(&ev, "key-drift");
    say(TEST, "key changed under a pinned id", drift);
    assert_eq!(drift.verdict, Verdict::Unknown, "{drift:#?}");
    assert!(!obs.drift_rollup().unwrap().describe().contains("agree"));
    // The truth: the proxy still sends the old key.
    let auth = format!("Bearer {}", proxy.master_key());
    let body = r#"{"model":"gpt-4o","messages":[{"role":"user","content":"pin"}],"max_tokens":1}"#;
    assert_eq!(
        real::http(proxy.port(), "POST", "/v1/chat/completions", &[("Authorization", &auth)], Some(body)).map(|x| x.0),
        Some(200)
    );
    assert_eq!(up.chats_for("gpt-4o").last().and_then(|c| c.key()), Some(old));
    // A restart is verified by what can be known, and says the key could not be.
    let v = restart_and_verify(&rt, &mut proxy, &s);
    real::say(&format!("[{TEST}] restart: {}", v.summary));
    assert!(v.ok, "{v:#?}");
    assert!(v.summary.contains("1 deployment(s) cannot be checked by id"), "{v:#?}");
    assert!(v.detail.iter().any(|d| d.contains("gpt-4o") && d.contains("pinned")), "{v:#?}");
    assert_eq!(
        real::http(proxy.port(), "POST", "/v1/chat/completions", &[("Authorization", &auth)], Some(body)).map(|x| x.0),
        Some(200)
    );
    assert_eq!(up.chats_for("gpt-4o").last().and_then(|c| c.key()), Some(new));
}

#[test]
fn process_age_is_exact_for_a_config_written_just_before_the_start() {
    const TEST: &str = "process_age_is_exact_for_a_config_written_just_before_the_start";
    if real::require_litellm(TEST).is_none() {
        return;
    }
    let _serial = real::exclusive();
    let up = FakeUpstream::start();
    let text = two_models(&up, "sk-upstream-AGE-1111", "");
    // Proxy::start writes config.yaml and launches the process right after.
    let mut proxy = Proxy::start(&text, &[]);
    let rt = rt();
    let s = spec(&proxy, Some(&proxy.env_file()));
    let mut memory = MatchMemory::default();
    let age = |proxy: &Proxy, memory: &mut MatchMemory| {
        let (obs, ev) = observe(&rt, proxy, &s, memory);
        (obs, finding(&ev, "config-newer-than-process").clone(), finding(&ev, "key-drift").verdict)
    };
    let (obs, f, _) = age(&proxy, &mut memory);
    say(TEST, "written just before the start", &f);
    let lite = obs.local.litellm().unwrap();
    let p = lite.process.clone().unwrap_or_else(|| panic!("not found: {:?}", lite.process_note));
    assert_eq!(Some(i32::try_from(p.pid).unwrap()), proxy.pid(), "the process listening on the port");
    let mtime = std::fs::metadata(proxy.config_path()).unwrap().modified().unwrap();
    real::say(&format!(
        "[{TEST}] file written {:.3} s before the process start ({})",
        p.started.duration_since(mtime).map_or_else(|e| -e.duration().as_secs_f64(), |d| d.as_secs_f64()),
        p.how
    ));
    assert_eq!(f.verdict, Verdict::Ok, "{f:#?}");

    // Written again right before a restart.
    proxy.rewrite_config(&text);
    proxy.restart();
    let (_, f, _) = age(&proxy, &mut memory);
    say(TEST, "written just before a restart", &f);
    assert_eq!(f.verdict, Verdict::Ok, "{f:#?}");

    // An edit outside model_list after the start: the ids all match, so at most a warning.
    std::thread::sleep(Duration::from_millis(50));
    proxy.rewrite_config(&text.replace("num_retries: 0", "num_retries: 1"));
    let (_, f, drift) = age(&proxy, &mut memory);
    say(TEST, "router settings edited after the start", &f);
    assert_eq!(drift, Verdict::Ok);
    assert_eq!(f.verdict, Verdict::Warn, "{f:#?}");
    assert!(f.summary.contains("only settings outside model_list"), "{f:#?}");
    // A key edit: the proxy runs the previous file, and both checks say so.
    proxy.rewrite_config(&text.replace("sk-upstream-AGE-1111", "sk-upstream-AGE-2222"));
    let (_, f, drift) = age(&proxy, &mut memory);
    say(TEST, "key edited after the start", &f);
    assert_eq!((drift, f.verdict), (Verdict::Fail, Verdict::Fail), "{f:#?}");
}

#[test]
fn a_restart_verifies_the_replicas_discovery_returns_afterwards() {
    const TEST: &str = "a_restart_verifies_the_replicas_discovery_returns_afterwards";
    let Some(bin) = real::require_litellm(TEST) else { return };
    let _serial = real::exclusive();
    let up = FakeUpstream::start();
    let text = two_models(&up, "sk-upstream-DISC-1111", "");
    let key = real::fake_key("sk-master-disc-");
    // The old pod and the one a rolling restart creates: another address.
    let old = Proxy::prepare_with_key(&bin, &text, &[], &key);
    let new = Proxy::prepare_with_key(&bin, &text, &[], &key);
    old.launch();
    old.wait_ready(real::READY_TIMEOUT);
    let work = tempfile::tempdir().unwrap();
    let urls = work.path().join("endpoints.txt");
    std::fs::write(&urls, format!("{}\n", old.url())).unwrap();
    let mut s = spec(&old, None);
    s.discover_command = Some(format!("cat {}", urls.display()));
    let restart = format!(
        "/bin/sh {} stop && /bin/sh {} start && printf '%s\\n' {} > {}",
        old.ctl_script().display(),
        new.ctl_script().display(),
        new.url(),
        urls.display()
    );
    let rt = rt();
    let gw = LiteLlm::with_key(s.clone(), Some(Secret::new(&key)));
    let before = rt.block_on(verify::before(&s));
    let out = rt.block_on(gatewatch::command::run(&restart, Duration::from_secs(60), &[]));
    assert!(out.success(), "{}", out.describe());
    let expect = rt.block_on(verify::expected_after_restart(&s));
    let v = rt.block_on(verify::until_verified(&gw, &[old.url()], &expect, &before, Duration::from_secs(120), |_| {}));
    real::say(&format!("[{TEST}] {}", v.summary));
    assert!(v.ok, "{v:#?}\n{}", new.log_tail(30));
    assert!(v.summary.contains(&format!("new replica set: {}", new.url())), "{v:#?}");
    let moved = format!("replicas before: {}; after: {}", old.url(), new.url());
    assert!(v.detail.contains(&moved), "{v:#?}");
    // Without discovery the same verification asks the old address, which is gone.
    s.discover_command = None;
    let gw = LiteLlm::with_key(s.clone(), Some(Secret::new(&key)));
    let v = rt.block_on(verify::until_verified(
        &gw,
        &[old.url()],
        &expect,
        &Before::default(),
        Duration::from_secs(2),
        |_| {},
    ));
    assert!(!v.ok && v.behind == [old.url()], "{v:#?}");
}
