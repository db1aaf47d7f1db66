//! `gatewatch check` (the real binary) against the simulated New API in the
//! states the real server was captured in: a server already at its rate
//! limit (a failure that names the 429s — never "unreachable", never OK), a
//! fresh server nobody has set up (anyone can create root), and the weight
//! measurement with the cache mode not declared (a warning, not a failure).

#![allow(clippy::unwrap_used, clippy::print_stderr)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::BIN;
use gatewatch::demo::newapi_sim::captured::{self, ROOT_TOKEN};
use gatewatch::demo::newapi_sim::{self, NewApiState};
use tokio_util::sync::CancellationToken;

struct Sim {
    url: String,
    cancel: CancellationToken,
}

impl Drop for Sim {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

async fn start(state: NewApiState) -> Sim {
    let cancel = CancellationToken::new();
    let addr = newapi_sim::serve(Arc::new(Mutex::new(state)), cancel.clone()).await.unwrap();
    Sim { url: format!("http://{addr}"), cancel }
}

async fn check(sim: &Sim, extra: &[&str]) -> (i32, String, Duration) {
    let state = tempfile::tempdir().unwrap();
    let gateway = format!("newapi={}", sim.url);
    let mut args = vec!["--gateway", gateway.as_str()];
    args.extend_from_slice(extra);
    check_in(state.path(), &args).await
}

/// `gatewatch check ARGS` with its state in `state` (kept between runs, as cron keeps it).
async fn check_in(state: &std::path::Path, args: &[&str]) -> (i32, String, Duration) {
    let started = Instant::now();
    let out = tokio::process::Command::new(BIN)
        .arg("check")
        .args(args)
        .arg("--state-dir")
        .arg(state)
        .env("NEW_API_ACCESS_TOKEN", ROOT_TOKEN)
        .env("NEW_API_USER_ID", "1")
        .env("NO_COLOR", "1")
        .kill_on_drop(true)
        .output()
        .await
        .unwrap();
    let took = started.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(!stdout.contains(ROOT_TOKEN), "the token leaked:\n{stdout}");
    (out.status.code().unwrap_or(-1), stdout, took)
}

/// Captured: against a server already at its limit, `check` waited 30 s and
/// said "0/1 replica(s) up … UNREACHABLE (exit 3)".
#[tokio::test(flavor = "multi_thread")]
async fn a_rate_limited_server_fails_the_check_naming_the_429s() {
    let mut st = captured::four_channels();
    st.rate_limit = Some((5, Duration::from_secs(180)));
    let sim = start(st).await;
    let other = reqwest::Client::new();
    for _ in 0..5 {
        assert_eq!(other.get(format!("{}/api/status", sim.url)).send().await.unwrap().status(), 200);
    }
    let (code, out, took) = check(&sim, &[]).await;
    eprintln!("check against a rate-limited server took {took:?}");
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("0/1 replica(s) up, 1 rate limited (HTTP 429)"), "{out}");
    assert!(
        out.contains("✗ gateway-reachable          rate limited by the server: HTTP 429 from 1 of 1 replica(s)"),
        "{out}"
    );
    assert!(out.contains("shared by every client there"), "{out}");
    assert!(out.contains("the server refused 3 request(s) in the last 3m"), "{out}");
    assert!(out.contains("GLOBAL_API_RATE_LIMIT"), "{out}");
    assert!(out.contains("Result: FAILURES (exit 2)") && !out.contains("UNREACHABLE"), "{out}");
    assert!(took < Duration::from_secs(20), "{took:?}");
    let (code, json, _) = check(&sim, &["--json"]).await;
    assert_eq!(code, 2);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["gateways"][0]["rate_limited"], true);
    assert_eq!(v["gateways"][0]["replicas"][0]["rate_limited"], true);
    assert_eq!(v["gateways"][0]["reachable"], false);
}

/// Captured: `setup: false` on a fresh database, while gatewatch advised
/// changing "the default 123456" (which this version never creates).
#[tokio::test(flavor = "multi_thread")]
async fn a_server_nobody_set_up_is_a_takeover_risk() {
    let sim = start(captured::fresh()).await;
    let (code, out, _) = check(&sim, &[]).await;
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("✗ master-key                 New API is not set up: no root account exists"), "{out}");
    assert!(out.contains("POST /api/setup (no authentication)"), "{out}");
    assert!(out.contains("complete the setup now"), "{out}");
    assert!(out.contains("keep /api/setup unreachable"), "{out}");
    assert!(!out.contains("123456"), "{out}");
    // The console answers at / (on loopback here).
    assert!(out.contains("✓ admin-ui-exposed           the web console answers on loopback only"), "{out}");
}

/// Captured: with `--gateway` (cache mode unknown) gatewatch failed
/// `newapi-weight-starvation` ("gets 0%") while the real server, on its
/// default DB path, gave the weight-0 channel 18 of 100 requests.
#[tokio::test(flavor = "multi_thread")]
async fn weight_zero_under_an_undeclared_cache_mode_is_a_warning_with_both_outcomes() {
    let mut st = captured::four_channels();
    st.channels.iter_mut().filter(|c| c.id == 3).for_each(|c| c.status = 2);
    let sim = start(st).await;
    let (code, out, _) = check(&sim, &[]).await;
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(
            "! newapi-weight-starvation   1 weight-0 channel(s) starve once the memory cache is on (assumed off)"
        ),
        "{out}"
    );
    assert!(out.contains("#2 zero-weight gets 20% of gpt-4o in group default (weight+10 on the DB path)"), "{out}");
    assert!(out.contains("with MEMORY_CACHE_ENABLED=true (or REDIS_CONN_STRING), #2 would get none"), "{out}");
    assert!(out.contains("? master-key                 setup complete"), "{out}");
    assert!(!out.contains("123456"), "{out}");
}

/// Issue 20 (the truth part): with more channels than gatewatch reads, `check`
/// printed "OK (exit 0)" in 0.1 s while every channel check said "not read
/// yet" and an auto-disabled channel sat in the list. Evidence it has not read
/// is never OK: the checks name why, and the result is INCOMPLETE (exit 1).
#[tokio::test(flavor = "multi_thread")]
async fn a_channel_list_it_could_not_read_is_never_ok() {
    let mut st = NewApiState::with_channels(20_100);
    st.users[0].access_token = Some(ROOT_TOKEN.to_owned());
    // An auto-disabled channel with money left, deep in the list.
    let c = st.channels.iter_mut().find(|c| c.status == 3 && c.id > 15_000).unwrap();
    c.balance = 42.5;
    let planted = c.id;
    // Three runs from three fresh state dirs (three machines): each spends
    // what the list's pages can take, so the server here has no limit.
    st.rate_limit = None;
    let sim = start(st).await;
    let (code, out, took) = check(&sim, &[]).await;
    eprintln!("check at 20,100 channels took {took:?}:\n{out}");
    assert_ne!(code, 0, "{out}");
    assert!(!out.contains("Result: OK"), "{out}");
    assert!(out.contains("INCOMPLETE (exit 1)"), "{out}");
    assert!(out.contains("channel list not read: the gateway reports 20100 channels"), "{out}");
    assert!(!out.contains("not read yet"), "{out}");
    assert!(!out.contains("✓ newapi-mapping-target"), "no verdict from channels it did not read:\n{out}");
    // Client names against channels it did not read: unknown, not "missing".
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("gw.yaml");
    std::fs::write(
        &cfg,
        format!("client_models: [gpt-4o]\ngateways:\n  - {{name: big, kind: newapi, url: '{}'}}\n", sim.url),
    )
    .unwrap();
    let (code, out, _) = check(&sim, &["--config", cfg.to_str().unwrap()]).await;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("? model-name-mismatch        channel list not read"), "{out}");
    let (code, json, _) = check(&sim, &["--json"]).await;
    assert_eq!(code, 1, "{json}");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let unread = v["gateways"][0]["unread"].as_str().unwrap_or_default().to_owned();
    assert!(unread.contains("20100 channels"), "{json}");
    // Incident-first: the disabled channels alone (the status filter) answer
    // the auto-disabled-with-balance question whole, and say what was read.
    let bal =
        v["gateways"][0]["checks"].as_array().unwrap().iter().find(|c| c["id"] == "newapi-balance-disabled").unwrap();
    assert_eq!(bal["verdict"], "warn", "{bal}");
    let facts = bal["facts"].to_string();
    assert!(facts.contains(&format!("#{planted} ")) && facts.contains("balance $42.50 but auto-disabled"), "{facts}");
    assert!(facts.contains("read: all "), "{facts}");
    assert!(facts.contains("disabled channel(s) (status filter); channel list not read"), "{facts}");
}

/// Issue 20: every channel verdict says what it read.
#[tokio::test(flavor = "multi_thread")]
async fn channel_verdicts_say_what_they_read() {
    let sim = start(captured::four_channels()).await;
    let (_, json, _) = check(&sim, &["--json"]).await;
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let checks = v["gateways"][0]["checks"].as_array().unwrap();
    for id in ["newapi-all-disabled", "newapi-balance-disabled", "newapi-group-mismatch"] {
        let c = checks.iter().find(|c| c["id"] == id).unwrap();
        assert!(c["facts"].to_string().contains("read: the whole channel list, 4 channel(s)"), "{c}");
    }
}

/// Issue 19, "what changed": two runs of `check` on one state dir (a cron
/// job): the second names the channel that New API auto-disabled in between,
/// with the server's reason, and a channel added; a run that could not read
/// the list (a server gone) names nothing as removed.
#[tokio::test(flavor = "multi_thread")]
async fn a_second_check_names_what_changed_since_the_first() {
    let state = Arc::new(Mutex::new(captured::four_channels()));
    let cancel = CancellationToken::new();
    let addr = newapi_sim::serve(Arc::clone(&state), cancel.clone()).await.unwrap();
    let sim = Sim { url: format!("http://{addr}"), cancel };
    let dir = tempfile::tempdir().unwrap();
    let gateway = format!("newapi={}", sim.url);
    let run = || async {
        let (_, text, _) = check_in(dir.path(), &["--json", "--gateway", &gateway]).await;
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        v["gateways"][0]["changes"].as_array().cloned().unwrap_or_default()
    };
    assert!(run().await.is_empty(), "a first look has nothing to compare with");
    let (name, added) = {
        let mut st = state.lock().unwrap();
        let c = &mut st.channels[0];
        c.status = 3;
        c.set_status_reason("status code 401: invalid api key", 1_796_000_000);
        let name = c.name.clone();
        let mut extra = st.channels[1].clone();
        extra.id = 77;
        extra.name = "added-later".into();
        st.channels.push(extra);
        (name, "added-later (77) added")
    };
    let changes: Vec<String> = run().await.iter().map(|c| c.as_str().unwrap().to_owned()).collect();
    eprintln!("{changes:#?}");
    assert!(
        changes
            .iter()
            .any(|c| c.starts_with(&format!("{name} (")) && c.contains("serving → auto-disabled: status code 401")),
        "{changes:?}"
    );
    assert!(changes.iter().any(|c| c.starts_with(added)), "{changes:?}");
    let log = std::fs::read_to_string(dir.path().join("changes.jsonl")).unwrap();
    assert_eq!(log.lines().count(), changes.len(), "{log}");
    assert!(!log.contains(ROOT_TOKEN));
    // The server gone: no list, so nothing "removed".
    sim.cancel.cancel();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let gone = run().await;
    assert!(gone.iter().all(|c| !c.as_str().unwrap().contains("removed")), "{gone:?}");
}

/// Issue 20: 50,000 channels behind New API's real limit (180 per 180 s).
/// `check` cannot read the list (over the 20,000 it reads) but reads what
/// the incident needs, each whole, with the server's own filters: the
/// disabled channels (an auto-disabled channel with money left), and every
/// channel of each model the operator named (a model whose channels are all
/// disabled; a tier where a weight-0 channel starves beside weighted ones).
/// No 429, and every verdict says what it read.
#[tokio::test(flavor = "multi_thread")]
async fn fifty_thousand_channels_the_incident_evidence_within_the_limit() {
    use gatewatch::demo::newapi_sim::model::SimChannel;
    let mut st = NewApiState::with_channels(50_000);
    st.users[0].access_token = Some(ROOT_TOKEN.to_owned());
    st.rate_limit = Some((180, Duration::from_secs(180)));
    let money = st.channels.iter_mut().find(|c| c.status == 3 && c.id > 40_000).unwrap();
    money.balance = 42.5;
    let money = money.id;
    // claude-next: three channels, none enabled.
    for (id, status) in [(45_001, 2), (45_002, 3), (45_003, 3)] {
        let c = st.channels.iter_mut().find(|c| c.id == id).unwrap();
        *c = SimChannel::new(id, 14, &format!("claude-next-{id}"), "claude-next");
        c.status = status;
    }
    // tier-x: priority 10, weights 10, 10 and 0 (starved once the memory cache is on);
    // tier-x-mini also matches the server's LIKE search and is not tier-x's.
    for (id, weight, models) in
        [(46_001, 10, "tier-x"), (46_002, 10, "tier-x"), (46_003, 0, "tier-x"), (46_004, 0, "tier-x-mini")]
    {
        let c = st.channels.iter_mut().find(|c| c.id == id).unwrap();
        *c = SimChannel::new(id, 1, &format!("tier-{id}"), models);
        c.priority = Some(10);
        c.weight = Some(weight);
    }
    let sim = start(st).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("gw.yaml");
    std::fs::write(
        &cfg,
        format!(
            "client_models: [claude-next, tier-x]\ngateways:\n  - {{name: big, kind: newapi, url: '{}', memory_cache: true}}\n",
            sim.url
        ),
    )
    .unwrap();
    let state = tempfile::tempdir().unwrap();
    let (code, json, took) = check_in(state.path(), &["--json", "--config", cfg.to_str().unwrap()]).await;
    eprintln!("check at 50,000 channels took {took:?}");
    assert!(took < Duration::from_secs(90), "{took:?}");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let g = &v["gateways"][0];
    assert_eq!(code, 2, "{json}");
    assert_eq!(g["rate_limited"], false, "{json}");
    // "429" as a status, not inside a port number (the simulator's port is random: 42923 failed CI once).
    let status_429 = regex::Regex::new(r"(^|[^0-9])429([^0-9]|$)").unwrap();
    assert!(!status_429.is_match(&json), "no request refused:\n{json}");
    assert!(g["unread"].as_str().unwrap().contains("50000 channels"), "{json}");
    let check = |id: &str| g["checks"].as_array().unwrap().iter().find(|c| c["id"] == id).cloned().unwrap();
    let dead = check("newapi-all-disabled");
    eprintln!("{dead:#}");
    assert_eq!(dead["verdict"], "fail", "{dead}");
    let facts = dead["facts"].to_string();
    assert!(facts.contains("claude-next: every channel disabled"), "{facts}");
    assert!(facts.contains("read: claude-next: all 3 channel(s) serving it (search by model)"), "{facts}");
    assert!(facts.contains("the other models: channel list not read"), "{facts}");
    let starve = check("newapi-weight-starvation");
    eprintln!("{starve:#}");
    assert_eq!(starve["verdict"], "fail", "{starve}");
    let facts = starve["facts"].to_string();
    assert!(facts.contains("#46003 tier-46003 (weight 0, priority 10) gets 0% of tier-x in group default"), "{facts}");
    assert!(!facts.contains("#46004"), "tier-x-mini is not tier-x: {facts}");
    assert!(facts.contains("read: tier-x: all 3 channel(s) serving it"), "{facts}");
    let bal = check("newapi-balance-disabled");
    assert!(bal["facts"].to_string().contains(&format!("#{money} ")), "{bal}");
    // With the room the incident-first reads left, the list is being assembled page by page.
    let unread = g["unread"].as_str().unwrap();
    let progress = regex::Regex::new(r"assembling it page by page .*: (\d+) of 50000 read").unwrap();
    let first: usize = progress.captures(unread).unwrap_or_else(|| panic!("{unread}"))[1].parse().unwrap();
    assert!((1_000..50_000).contains(&first), "{unread}");
    assert_eq!(first % 100, 0, "whole pages: {unread}");

    // A second run at once (cron, or the operator): it knows what the first
    // spent of the server's window (no 429) and carries on from its pages.
    let (code, json, took) = check_in(state.path(), &["--json", "--config", cfg.to_str().unwrap()]).await;
    eprintln!("the second check took {took:?}");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let g = &v["gateways"][0];
    assert_eq!(code, 2, "{json}");
    assert_eq!(g["rate_limited"], false, "{json}");
    assert!(!status_429.is_match(&json), "no request refused on the second run:\n{json}");
    let unread = g["unread"].as_str().unwrap();
    let second: usize = progress.captures(unread).unwrap_or_else(|| panic!("{unread}"))[1].parse().unwrap();
    assert!(second >= first, "carried on, not started over: {first} then {second}: {unread}");
    let dead = g["checks"].as_array().unwrap().iter().find(|c| c["id"] == "newapi-all-disabled").unwrap();
    assert_eq!(dead["verdict"], "fail", "{dead}");
}

/// Past the cap, the pages of the list are read across runs until the
/// whole list is assembled; the verdicts on it say how old its pages are
/// and what was read fresh over it — and a channel the fresh reads show
/// disabled since counts as disabled.
#[tokio::test(flavor = "multi_thread")]
async fn a_list_past_the_cap_is_assembled_across_runs_and_judged_with_its_age() {
    let mut st = NewApiState::with_channels(24_000);
    st.users[0].access_token = Some(ROOT_TOKEN.to_owned());
    st.rate_limit = Some((2000, Duration::from_secs(180)));
    let state = Arc::new(Mutex::new(st));
    let cancel = CancellationToken::new();
    let addr = newapi_sim::serve(Arc::clone(&state), cancel.clone()).await.unwrap();
    let sim = Sim { url: format!("http://{addr}"), cancel };
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("gw.yaml");
    // A server configured for more (GLOBAL_API_RATE_LIMIT=2000): room for 200 pages a run.
    std::fs::write(
        &cfg,
        format!(
            "gateways:\n  - {{name: big, kind: newapi, url: '{}', rate_limit: 2000, rate_limit_window: 180s}}\n",
            sim.url
        ),
    )
    .unwrap();
    let args = ["--json", "--config", cfg.to_str().unwrap()];
    let run_dir = tempfile::tempdir().unwrap();
    let (_, json, _) = check_in(run_dir.path(), &args).await;
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let unread = v["gateways"][0]["unread"].as_str().unwrap_or_default().to_owned();
    assert!(unread.contains("20000 of 24000 read"), "the first run reads 200 pages: {json}");
    // Between the runs a channel is disabled by hand: only the fresh reads know.
    let off = {
        let mut st = state.lock().unwrap();
        let c = st.channels.iter_mut().find(|c| c.status == 1 && c.id > 23_000).unwrap();
        c.status = 2;
        c.id
    };
    let (_, json, _) = check_in(run_dir.path(), &args).await;
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let g = &v["gateways"][0];
    assert!(g["unread"].is_null(), "the list is whole now: {json}");
    let checks = g["checks"].as_array().unwrap();
    let judged: Vec<&serde_json::Value> = checks
        .iter()
        .filter(|c| c["facts"].to_string().contains("assembled from 240 page(s) over 2 poll(s)"))
        .collect();
    assert!(judged.len() >= 3, "the list checks say what they judged: {json}");
    assert!(judged.iter().all(|c| c["facts"].to_string().contains("read fresh over it: page 1")), "{json}");
    let bal = checks.iter().find(|c| c["id"] == "newapi-balance-disabled").unwrap();
    eprintln!("{bal:#}");
    let listed = std::fs::read_to_string(run_dir.path().join("snapshot").join("big.json")).unwrap();
    let snap: serde_json::Value = serde_json::from_str(&listed).unwrap();
    // Written with its count ahead of it (read back at its size).
    assert_eq!(snap["deployments"]["count"], 24_000);
    let chans = snap["deployments"]["items"].as_array().unwrap();
    assert_eq!(chans.len(), 24_000);
    let ch = chans.iter().find(|d| d["id"].as_str() == Some(off.to_string().as_str())).unwrap();
    assert_eq!(ch["status"], "manually_disabled", "the fresh disabled read laid over the older page: {ch}");
    // The saved list is as old as its first page, not "read now".
    let first_page_at = snap["at"].as_i64().unwrap();
    assert!(first_page_at <= gatewatch::poller::unix_now(std::time::SystemTime::now()));
}
