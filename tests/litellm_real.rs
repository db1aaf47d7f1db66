//! gatewatch's LiteLLM adapter against a real LiteLLM Proxy.
//!
//! Needs `GATEWATCH_LITELLM=/path/to/venv/bin/litellm` (`ci/setup-litellm.sh`
//! prints it) and, for the Redis purge, `GATEWATCH_REDIS_SERVER`. Without them
//! every test prints `SKIPPED …` and returns; `GATEWATCH_REQUIRE_REAL=1` turns
//! that into a failure. Each test starts its own fake upstream and proxy on
//! fresh 127.0.0.1 ports; a lock keeps two proxies from booting at once.
//! `GATEWATCH_UPDATE_FIXTURES=1` rewrites `ids_value_types.json` from the proxy.

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use gatewatch::actions::verify;
use gatewatch::config::{GatewayKind, GatewaySpec};
use gatewatch::gateway::litellm::LiteLlm;
use gatewatch::gateway::litellm::config_file::{self, ProxyConfig};
use gatewatch::gateway::litellm::drift::{self, DriftState, MatchMemory};
use gatewatch::gateway::{
    AdminOp, AdminResult, AuthState, Deployment, Gateway, GatewayError, ReplicaSnapshot, ReplicaTarget, RouteReport,
    Section,
};
use gatewatch::secret::Secret;
use support::litellm::{self as real, FakeUpstream, Proxy, Redis};

const OLD_KEY: &str = "sk-upstream-OLD-1234567890abcd";
const NEW_KEY: &str = "sk-upstream-NEW-0987654321wxyz";
const MINI_KEY: &str = "sk-upstream-MINI-5555666677778888";
const THIRD_KEY: &str = "sk-upstream-THIRD-env-9999aaaabbbb";

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime")
}

/// The three deployments of the shared measurements (gpt-35's key from the
/// environment), `fallbacks`, `num_retries: 0`, and an optional response cache.
fn gateway_config(up: &FakeUpstream, gpt4o_key: &str, cache: &str) -> String {
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
      api_key: {MINI_KEY}
  - model_name: gpt-35
    litellm_params:
      model: openai/gpt-3.5-turbo
      api_base: {base}
      api_key: os.environ/THIRD_KEY

litellm_settings:
  fallbacks: [{{\"gpt-4o-mini\": [\"gpt-4o\"]}}]
  num_retries: 0
{cache}
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
"
    )
}

const LOCAL_CACHE: &str = "  cache: true\n  cache_params:\n    type: local\n";

fn start_proxy(test: &str, config: &str, env: &[(&str, &str)]) -> Proxy {
    let p = Proxy::start(config, env);
    real::say(&format!("[{test}] proxy ready in {:.1} s on {}", p.start_time.as_secs_f64(), p.url()));
    p
}

fn spec(proxy: &Proxy) -> GatewaySpec {
    let mut s = GatewaySpec::new("real-litellm", GatewayKind::LiteLlm, proxy.url());
    s.config_file = Some(proxy.config_path());
    // Generous: a 2-core CI machine may be busy; timings are printed, not asserted.
    s.timeout = Duration::from_secs(20);
    s.action_timeout = Duration::from_secs(60);
    s
}

fn adapter(proxy: &Proxy, key: Option<&str>) -> LiteLlm {
    LiteLlm::with_key(spec(proxy), key.map(Secret::new))
}

fn target(proxy: &Proxy) -> ReplicaTarget {
    ReplicaTarget { index: 0, url: proxy.url() }
}

/// The file as gatewatch reads it, with the proxy's own environment.
fn parse_file(proxy: &Proxy) -> ProxyConfig {
    let text = std::fs::read_to_string(proxy.config_path()).expect("read config.yaml");
    let env = |name: &str| {
        if name == "LITELLM_MASTER_KEY" { Some(proxy.master_key().to_owned()) } else { proxy.env_lookup(name) }
    };
    config_file::parse(&text, &proxy.config_path(), &env).expect("gatewatch parses the config")
}

fn poll(rt: &tokio::runtime::Runtime, gw: &LiteLlm, proxy: &Proxy) -> ReplicaSnapshot {
    rt.block_on(gw.poll(&target(proxy))).unwrap_or_else(|e| panic!("poll failed: {e}\n{}", proxy.log_tail(40)))
}

fn deployments(snap: &ReplicaSnapshot) -> &[Deployment] {
    match &snap.deployments {
        Section::Ok(d) => d,
        other => panic!("/model/info: {other:?}"),
    }
}

fn ids_by_name(deps: &[Deployment]) -> BTreeMap<String, String> {
    deps.iter().map(|d| (d.name.to_string(), d.id.to_string())).collect()
}

fn file_ids(cfg: &ProxyConfig) -> BTreeMap<String, String> {
    cfg.deployments.iter().map(|d| (d.model_name.clone(), d.id.clone())).collect()
}

fn route(rt: &tokio::runtime::Runtime, gw: &LiteLlm, proxy: &Proxy, model: &str) -> RouteReport {
    match rt.block_on(gw.admin(&target(proxy), &AdminOp::TinyCompletion { model: model.into() })) {
        Ok(AdminResult::Route(r)) => r,
        other => panic!("TinyCompletion {model}: {other:?}\n{}", proxy.log_tail(40)),
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[test]
fn poll_matches_the_config_file_and_auth_errors_are_clear() {
    const TEST: &str = "poll_matches_the_config_file_and_auth_errors_are_clear";
    let Some(bin) = real::require_litellm(TEST) else { return };
    let _serial = real::exclusive();
    let up = FakeUpstream::start();
    let proxy = start_proxy(TEST, &gateway_config(&up, OLD_KEY, LOCAL_CACHE), &[("THIRD_KEY", THIRD_KEY)]);
    let rt = rt();
    let gw = adapter(&proxy, Some(proxy.master_key()));

    let snap = poll(&rt, &gw, &proxy);
    let cfg = parse_file(&proxy);
    // Deployments and their ids: exactly the ids gatewatch computes from the file + env.
    let running = ids_by_name(deployments(&snap));
    assert_eq!(running, file_ids(&cfg), "running ids vs ids computed from the file");
    assert_eq!(running.len(), 3);
    let rows = drift::compare(&cfg, deployments(&snap), &MatchMemory::default());
    assert!(drift::all_match(&rows), "{rows:#?}");
    // Router settings as configured.
    let router = snap.router.ok().unwrap_or_else(|| panic!("router: {:?}", snap.router));
    assert_eq!(router.fallbacks, vec![("gpt-4o-mini".to_owned(), vec!["gpt-4o".to_owned()])]);
    assert_eq!(router.fallbacks, cfg.fallbacks);
    assert_eq!(router.num_retries, Some(0));
    // The in-memory cache.
    let cache = snap.cache.ok().unwrap_or_else(|| panic!("cache: {:?}", snap.cache));
    assert_eq!(cache.kind, "local");
    assert!(cache.healthy, "{cache:?}");
    // Served models.
    let mut served = snap.served_models.ok().cloned().unwrap_or_default();
    served.sort();
    assert_eq!(served, ["gpt-35", "gpt-4o", "gpt-4o-mini"]);
    // Version: /health/readiness/details (liveliness carries no x-litellm-version on 1.106.12).
    let installed = real::installed_version(&bin);
    assert!(installed.is_some(), "cannot read the installed litellm version next to {}", bin.display());
    assert_eq!(snap.version, installed, "version reported by the adapter");
    assert!(matches!(snap.auth, AuthState::Ok), "{:?}", snap.auth);
    let ready = snap.readiness.ok().unwrap_or_else(|| panic!("readiness: {:?}", snap.readiness));
    assert_eq!(ready.status, "healthy");
    assert_eq!(ready.cache.as_deref(), Some("local"));

    // Timing of one full adapter poll (median of 5; the first one above warmed up).
    let times: Vec<Duration> = (0..5)
        .map(|_| {
            let t = Instant::now();
            let s = poll(&rt, &gw, &proxy);
            assert!(s.deployments.ok().is_some());
            t.elapsed()
        })
        .collect();
    real::say(&format!(
        "[{TEST}] full adapter poll ({} requests): median {:.1} ms, all {:?}",
        snap.requests,
        median(times.clone()).as_secs_f64() * 1000.0,
        times
    ));

    // A wrong master key: 400 "No connected db." without a DB, reported as auth.
    let wrong = adapter(&proxy, Some(&real::fake_key("sk-master-test-WRONG-")));
    let snap = poll(&rt, &wrong, &proxy);
    match &snap.deployments {
        Section::Failed(e @ GatewayError::Auth { status, message, hint }) => {
            assert_eq!(*status, 400, "{e}");
            assert!(message.contains("wrong master key") && message.contains("No connected db."), "{message}");
            assert!(hint.contains("LITELLM_MASTER_KEY"), "{hint}");
            real::say(&format!("[{TEST}] wrong key: {e} — {hint}"));
        }
        other => panic!("wrong key: expected GatewayError::Auth, got {other:?}"),
    }
    assert!(matches!(snap.auth, AuthState::Rejected { .. }), "{:?}", snap.auth);
    assert_eq!(snap.version, None, "no version without a valid key");
    assert!(matches!(snap.readiness, Section::Ok(_)), "readiness falls back to the keyless endpoint");

    // No key at all: nothing is sent, the missing variable is named.
    let keyless = adapter(&proxy, None);
    let snap = poll(&rt, &keyless, &proxy);
    assert!(
        matches!(&snap.deployments, Section::Failed(GatewayError::MissingCredential { env }) if env == "LITELLM_MASTER_KEY"),
        "{:?}",
        snap.deployments
    );
    assert!(matches!(snap.auth, AuthState::Missing { .. }), "{:?}", snap.auth);
    let err = rt.block_on(keyless.admin(&target(&proxy), &AdminOp::PurgeResponseCache)).unwrap_err();
    assert!(matches!(err, GatewayError::MissingCredential { .. }), "{err:?}");

    // Purge with the local cache: a clear refusal, never a success.
    match rt.block_on(gw.admin(&target(&proxy), &AdminOp::PurgeResponseCache)) {
        Err(GatewayError::Rejected { message }) => {
            assert!(message.contains("HTTP 503") && message.contains("does not support flushing"), "{message}");
            assert!(message.contains("only a Redis response cache"), "{message}");
        }
        other => panic!("purge of a local cache must be refused, got {other:?}"),
    }
}

#[derive(serde::Deserialize, serde::Serialize)]
struct CapturedIds {
    about: String,
    litellm_version: String,
    env: BTreeMap<String, String>,
    unset: Vec<String>,
    deployments: Vec<CapturedId>,
}

#[derive(serde::Deserialize, serde::Serialize, PartialEq, Debug)]
struct CapturedId {
    model_name: String,
    id: String,
}

#[test]
fn ids_match_the_real_proxy_for_many_value_types() {
    const TEST: &str = "ids_match_the_real_proxy_for_many_value_types";
    let Some(bin) = real::require_litellm(TEST) else { return };
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/litellm");
    let config = std::fs::read_to_string(fixtures.join("config_value_types.yaml")).unwrap();
    let ids_path = fixtures.join("ids_value_types.json");
    let mut captured: CapturedIds = serde_json::from_str(&std::fs::read_to_string(&ids_path).unwrap()).unwrap();
    let _serial = real::exclusive();
    let env: Vec<(&str, &str)> = captured.env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let proxy = start_proxy(TEST, &config, &env);
    let rt = rt();
    let gw = adapter(&proxy, Some(proxy.master_key()));
    let snap = poll(&rt, &gw, &proxy);

    // Every id from the real /model/info vs gatewatch's computation.
    let real_ids: Vec<CapturedId> = deployments(&snap)
        .iter()
        .map(|d| CapturedId { model_name: d.name.to_string(), id: d.id.to_string() })
        .collect();
    let cfg = parse_file(&proxy);
    let computed: Vec<CapturedId> =
        cfg.deployments.iter().map(|d| CapturedId { model_name: d.model_name.clone(), id: d.id.clone() }).collect();
    assert_eq!(real_ids.len(), cfg.deployments.len(), "the proxy loaded {real_ids:#?}");
    let mut wrong = Vec::new();
    for c in &computed {
        match real_ids.iter().find(|r| r.model_name == c.model_name) {
            Some(r) if r.id == c.id => {}
            Some(r) => wrong.push(format!("{}: gatewatch {} / proxy {}", c.model_name, c.id, r.id)),
            None => wrong.push(format!("{}: not loaded by the proxy", c.model_name)),
        }
    }
    assert!(wrong.is_empty(), "ids differ from the real proxy:\n{}", wrong.join("\n"));
    real::say(&format!("[{TEST}] {} deployment ids equal the proxy's", computed.len()));
    // This file has no response cache: the pane says so instead of failing.
    assert!(matches!(&snap.cache, Section::Unavailable(why) if why.contains("no response cache")), "{:?}", snap.cache);

    // The committed fixture must be what this proxy says.
    let version = real::installed_version(&bin).unwrap_or_default();
    if std::env::var_os("GATEWATCH_UPDATE_FIXTURES").is_some_and(|v| v == "1") {
        captured.deployments = real_ids;
        captured.litellm_version = version;
        std::fs::write(&ids_path, serde_json::to_string_pretty(&captured).unwrap() + "\n").unwrap();
        real::say(&format!("[{TEST}] rewrote {}", ids_path.display()));
    } else {
        assert_eq!(captured.litellm_version, version, "fixture captured from another litellm version");
        assert_eq!(captured.deployments, real_ids, "ids_value_types.json is stale: GATEWATCH_UPDATE_FIXTURES=1");
    }
}

#[test]
fn stale_key_is_flagged_probed_and_cleared_by_restart() {
    const TEST: &str = "stale_key_is_flagged_probed_and_cleared_by_restart";
    if real::require_litellm(TEST).is_none() {
        return;
    }
    let _serial = real::exclusive();
    let up = FakeUpstream::start();
    // No response cache: every chat must reach the upstream.
    let mut proxy = start_proxy(TEST, &gateway_config(&up, OLD_KEY, ""), &[("THIRD_KEY", THIRD_KEY)]);
    let rt = rt();
    let gw = adapter(&proxy, Some(proxy.master_key()));

    let old_cfg = parse_file(&proxy);
    let snap = poll(&rt, &gw, &proxy);
    let mut memory = MatchMemory::default();
    assert!(drift::all_match(&drift::compare(&old_cfg, deployments(&snap), &memory)));
    memory.remember(&old_cfg, 1);
    let r = route(&rt, &gw, &proxy, "gpt-4o");
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(up.chats_for("gpt-4o").last().and_then(|c| c.key().map(str::to_owned)).as_deref(), Some(OLD_KEY));

    // The key is rotated in the file; the running proxy does not notice.
    proxy.rewrite_config(&gateway_config(&up, NEW_KEY, ""));
    let new_cfg = parse_file(&proxy);
    let snap = poll(&rt, &gw, &proxy);
    let rows = drift::compare(&new_cfg, deployments(&snap), &memory);
    let problems: Vec<_> = rows.iter().filter(|r| r.state.is_problem()).collect();
    assert_eq!(problems.len(), 1, "{rows:#?}");
    assert_eq!(problems[0].model_name, "gpt-4o");
    match &problems[0].state {
        DriftState::Drift { changes, explained: true } => {
            assert_eq!(changes.len(), 1, "{changes:?}");
            assert_eq!(changes[0].field, "api_key");
        }
        other => panic!("{other:?}"),
    }
    assert!(!problems[0].summary().contains("sk-upstream"), "a key leaked into {}", problems[0].summary());
    for row in rows.iter().filter(|r| r.model_name != "gpt-4o") {
        assert_eq!(row.state, DriftState::Match, "{row:?}");
    }
    real::say(&format!("[{TEST}] drift: {}", problems[0].summary()));
    let before = up.chats_for("gpt-4o").len();
    let r = route(&rt, &gw, &proxy, "gpt-4o");
    assert_eq!(r.status, 200, "{r:?}");
    let chats = up.chats_for("gpt-4o");
    assert_eq!(chats.len(), before + 1, "the chat did not reach the upstream");
    assert_eq!(chats.last().and_then(|c| c.key()), Some(OLD_KEY), "the proxy still uses the old key");

    // The upstream revokes the old key: the probe names the deployment and the key's tail.
    up.reject(OLD_KEY);
    let entries = match rt.block_on(gw.admin(&target(&proxy), &AdminOp::ProbeAllDeployments)) {
        Ok(AdminResult::Probe { entries }) => entries,
        other => panic!("probe: {other:?}\n{}", proxy.log_tail(40)),
    };
    assert_eq!(entries.len(), 3, "{entries:#?}");
    let old_id = &old_cfg.deployments[0].id;
    for e in &entries {
        if e.model == "openai/gpt-4o" {
            assert!(!e.healthy, "{e:?}");
            assert_eq!(e.status, Some(401), "{e:?}");
            assert_eq!(e.auth_tail.as_deref(), Some(&OLD_KEY[OLD_KEY.len() - 2..]), "{e:?}");
            assert_eq!(&e.id, old_id, "{e:?}");
        } else {
            assert!(e.healthy, "{e:?}");
            assert!(file_ids(&new_cfg).values().any(|id| *id == e.id), "{e:?}");
        }
    }

    // Restart: the proxy loads the file, ids match, the upstream sees the new key.
    let (stop, ready) = proxy.restart();
    real::say(&format!(
        "[{TEST}] restart: old process gone in {:.1} s, new one ready in {:.1} s",
        stop.as_secs_f64(),
        ready.as_secs_f64()
    ));
    let snap = poll(&rt, &gw, &proxy);
    assert_eq!(ids_by_name(deployments(&snap)), file_ids(&new_cfg));
    assert!(drift::all_match(&drift::compare(&new_cfg, deployments(&snap), &memory)));
    let r = route(&rt, &gw, &proxy, "gpt-4o");
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(r.model_id.as_deref(), Some(new_cfg.deployments[0].id.as_str()));
    assert_eq!(up.chats_for("gpt-4o").last().and_then(|c| c.key()), Some(NEW_KEY));
}

#[test]
fn purge_empties_the_redis_response_cache() {
    const TEST: &str = "purge_empties_the_redis_response_cache";
    if real::require_litellm(TEST).is_none() {
        return;
    }
    if real::require_redis(TEST).is_none() {
        return;
    }
    let _serial = real::exclusive();
    let redis = Redis::start();
    let up = FakeUpstream::start();
    let cache =
        format!("  cache: true\n  cache_params:\n    type: redis\n    host: 127.0.0.1\n    port: {}\n", redis.port());
    let proxy = start_proxy(TEST, &gateway_config(&up, OLD_KEY, &cache), &[("THIRD_KEY", THIRD_KEY)]);
    let rt = rt();
    let gw = adapter(&proxy, Some(proxy.master_key()));
    let snap = poll(&rt, &gw, &proxy);
    let c = snap.cache.ok().unwrap_or_else(|| panic!("cache: {:?}", snap.cache));
    assert_eq!(c.kind, "redis");

    let r = route(&rt, &gw, &proxy, "gpt-4o");
    assert_eq!(r.status, 200, "{r:?}");
    // The response is written to Redis after the answer: wait for it.
    let deadline = Instant::now() + Duration::from_secs(10);
    while redis.dbsize() == 0 {
        assert!(Instant::now() < deadline, "nothing reached Redis\n{}", proxy.log_tail(40));
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    let before = redis.dbsize();
    // gatewatch counts the keys itself, reaching Redis the way the proxy's config says.
    let counted = rt.block_on(verify::redis_keys(gw.spec()));
    assert_eq!(counted, Some(Ok(before)), "gatewatch's own DBSIZE");
    match rt.block_on(gw.admin(&target(&proxy), &AdminOp::PurgeResponseCache)) {
        Ok(AdminResult::Done { message }) => assert!(message.contains("success"), "{message}"),
        other => panic!("purge with Redis: {other:?}\n{}", proxy.log_tail(40)),
    }
    let after = redis.dbsize();
    real::say(&format!("[{TEST}] Redis DBSIZE {before} before the purge, {after} after"));
    assert_eq!(after, 0, "Redis still holds keys after /cache/flushall");
    let v = rt.block_on(verify::after_purge(&gw, &target(&proxy), counted));
    real::say(&format!("[{TEST}] verification: {} — {}", v.summary, v.detail.join("; ")));
    assert!(v.ok, "{v:#?}");
    assert!(v.detail.iter().any(|d| d.starts_with(&format!("Redis keys: {before} before the purge, "))), "{v:#?}");
    assert!(v.detail.iter().any(|d| d.contains("in-memory copies")), "what it cannot check is said: {v:#?}");

    // A purge while the key drifts: done, but never "verified".
    proxy.rewrite_config(&gateway_config(&up, NEW_KEY, &cache));
    let counted = rt.block_on(verify::redis_keys(gw.spec()));
    assert!(rt.block_on(gw.admin(&target(&proxy), &AdminOp::PurgeResponseCache)).is_ok());
    let v = rt.block_on(verify::after_purge(&gw, &target(&proxy), counted));
    real::say(&format!("[{TEST}] purge while drifting: {}", v.summary));
    assert!(!v.ok && v.summary.contains("a purge never changes keys"), "{v:#?}");
}

#[test]
fn stream_probe_and_tiny_completion_through_the_proxy() {
    const TEST: &str = "stream_probe_and_tiny_completion_through_the_proxy";
    if real::require_litellm(TEST).is_none() {
        return;
    }
    let _serial = real::exclusive();
    let up = FakeUpstream::start();
    let proxy = start_proxy(TEST, &gateway_config(&up, OLD_KEY, ""), &[("THIRD_KEY", THIRD_KEY)]);
    let rt = rt();
    let gw = adapter(&proxy, Some(proxy.master_key()));
    let cfg = parse_file(&proxy);

    // Twice: the first request through a fresh proxy pays for lazy imports.
    for run in ["cold", "warm"] {
        let report = match rt
            .block_on(gw.admin(&target(&proxy), &AdminOp::StreamProbe { model: "gpt-4o".into(), direct: None }))
        {
            Ok(AdminResult::Stream(s)) => s,
            other => panic!("stream probe: {other:?}"),
        };
        assert_eq!(report.error, None, "{report:?}");
        assert_eq!(report.status, 200, "{report:?}");
        assert!(report.content_type.as_deref().is_some_and(|c| c.starts_with("text/event-stream")), "{report:?}");
        assert!(report.done_marker, "no [DONE]: {report:?}");
        assert!(report.last_chunk_complete_json, "{report:?}");
        let first = report.first_token.unwrap_or_else(|| panic!("no first token: {report:?}"));
        assert!(first <= report.total, "{report:?}");
        real::say(&format!(
            "[{TEST}] stream ({run}): first token {:.0} ms, total {:.0} ms, {} chunks, max gap {:.0} ms",
            first.as_secs_f64() * 1000.0,
            report.total.as_secs_f64() * 1000.0,
            report.chunks,
            report.max_gap.as_secs_f64() * 1000.0
        ));
    }
    let streamed = up.chats_for("gpt-4o");
    assert_eq!(streamed.len(), 2, "{streamed:?}");
    assert!(streamed.iter().all(|c| c.stream == Some(true) && c.key() == Some(OLD_KEY)), "{streamed:?}");

    let r = route(&rt, &gw, &proxy, "gpt-4o-mini");
    assert_eq!(r.status, 200, "{r:?}");
    let mini = cfg.deployments.iter().find(|d| d.model_name == "gpt-4o-mini").unwrap();
    assert_eq!(r.model_id.as_deref(), Some(mini.id.as_str()), "{r:?}");
    assert_eq!(r.model_group.as_deref(), Some("gpt-4o-mini"));
    assert_eq!(r.api_base.as_deref(), Some(up.api_base().as_str()));
    assert_eq!(r.attempted_fallbacks, Some(0));
    assert_eq!(up.chats_for("gpt-4o-mini").last().and_then(|c| c.key()), Some(MINI_KEY));
}
