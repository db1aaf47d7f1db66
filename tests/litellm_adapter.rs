//! Layer 3: the LiteLLM adapter over HTTP — against the simulated proxy, and
//! against servers that misbehave on purpose. Each failure must become a
//! clear `GatewayError` (shown on screen), never a panic or a hang.

#![allow(clippy::unwrap_used, clippy::default_trait_access, clippy::print_stderr)]

mod common;

use std::time::{Duration, Instant};

use axum::Router;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use gatewatch::config::{GatewayKind, GatewaySpec};
use gatewatch::demo::litellm_sim::{LiteLlmState, SimProxy};
use gatewatch::gateway::litellm::LiteLlm;
use gatewatch::gateway::litellm::config_file;
use gatewatch::gateway::litellm::drift;
use gatewatch::gateway::{AdminOp, AdminResult, AuthState, Gateway, GatewayError, ReplicaTarget, Section};
use gatewatch::secret::Secret;
use tokio_util::sync::CancellationToken;

use common::*;

const MASTER: &str = "sk-master-fake-0000111122223333";

fn spec(url: &str) -> GatewaySpec {
    let mut s = GatewaySpec::new("t", GatewayKind::LiteLlm, url);
    s.timeout = Duration::from_millis(800);
    s.action_timeout = Duration::from_secs(5);
    s
}

fn target(url: &str) -> ReplicaTarget {
    ReplicaTarget { index: 0, url: url.to_owned() }
}

async fn sim(dir: &tempfile::TempDir, text: &str) -> SimProxy {
    let path = dir.path().join("config.yaml");
    std::fs::write(&path, text).unwrap();
    let mut st = LiteLlmState::boot(path, MASTER.into()).unwrap();
    st.restart_delay = Duration::from_millis(200);
    SimProxy::start(st, 0, CancellationToken::new()).await.unwrap()
}

/// The shared config with its env-referenced key written in (the simulator
/// takes its ids from a recording of this exact text: tests/fixtures/litellm/sim/).
fn shared_without_env_key() -> String {
    include_str!("fixtures/litellm/sim/shared.yaml").to_owned()
}

#[tokio::test]
async fn polls_the_simulated_proxy() {
    let dir = tempfile::tempdir().unwrap();
    let text = shared_without_env_key();
    let p = sim(&dir, &text).await;
    let gw = LiteLlm::with_key(spec(&p.url()), Some(Secret::new(MASTER)));
    let snap = gw.poll(&target(&p.url())).await.unwrap();
    assert_eq!(snap.auth, AuthState::Ok);
    assert_eq!(snap.version.as_deref(), Some("1.106.12"));
    let deps = snap.deployments.ok().unwrap();
    assert_eq!(deps.len(), 3);
    let cfg = config_file::parse(&text, std::path::Path::new("c.yaml"), &|_| None).unwrap();
    assert!(drift::all_match(&drift::compare(&cfg, deps, &Default::default())));
    assert_eq!(snap.router.ok().unwrap().fallbacks, vec![("gpt-4o-mini".to_owned(), vec!["gpt-4o".to_owned()])]);
    assert_eq!(snap.cache.ok().unwrap().kind, "local");
    assert_eq!(snap.served_models.ok().unwrap().len(), 3);
}

#[tokio::test]
async fn restart_of_the_simulator_loads_the_rotated_key() {
    let dir = tempfile::tempdir().unwrap();
    let p = sim(&dir, &shared_without_env_key()).await;
    let gw = LiteLlm::with_key(spec(&p.url()), Some(Secret::new(MASTER)));
    let rotated = shared_without_env_key().replace(OLD, NEW);
    assert_eq!(rotated, include_str!("fixtures/litellm/sim/shared-rotated.yaml"), "re-record: scripts/record-sim-ids");
    std::fs::write(dir.path().join("config.yaml"), &rotated).unwrap();
    let cfg = config_file::parse(&rotated, std::path::Path::new("c.yaml"), &|_| None).unwrap();
    let before = gw.poll(&target(&p.url())).await.unwrap();
    let rows = drift::compare(&cfg, before.deployments.ok().unwrap(), &Default::default());
    assert_eq!(
        rows.iter().filter(|r| r.state.is_problem()).count(),
        1,
        "the file alone changes nothing in the running proxy"
    );
    p.restart().await.unwrap();
    let after = gw.poll(&target(&p.url())).await.unwrap();
    assert!(drift::all_match(&drift::compare(&cfg, after.deployments.ok().unwrap(), &Default::default())));
}

#[tokio::test]
async fn wrong_and_missing_master_key_are_explained() {
    let dir = tempfile::tempdir().unwrap();
    let p = sim(&dir, &shared_without_env_key()).await;
    let wrong = LiteLlm::with_key(spec(&p.url()), Some(Secret::new("sk-wrong-key-000000")));
    let snap = wrong.poll(&target(&p.url())).await.unwrap();
    let AuthState::Rejected { message, hint } = &snap.auth else { panic!("{:?}", snap.auth) };
    assert!(message.contains("wrong master key") && message.contains("No connected db."), "{message}");
    assert!(hint.contains("LITELLM_MASTER_KEY"), "{hint}");
    let none = LiteLlm::with_key(spec(&p.url()), None);
    let snap = none.poll(&target(&p.url())).await.unwrap();
    assert_eq!(snap.auth, AuthState::Missing { env: "LITELLM_MASTER_KEY".into() });
    assert!(matches!(snap.deployments, Section::Failed(GatewayError::MissingCredential { .. })));
}

#[tokio::test]
async fn purge_is_refused_for_an_in_memory_cache() {
    let dir = tempfile::tempdir().unwrap();
    let p = sim(&dir, &shared_without_env_key()).await;
    let gw = LiteLlm::with_key(spec(&p.url()), Some(Secret::new(MASTER)));
    let err = gw.admin(&target(&p.url()), &AdminOp::PurgeResponseCache).await.unwrap_err();
    assert!(err.to_string().contains("does not support flushing"), "{err}");
}

#[tokio::test]
async fn health_probe_and_route_headers() {
    let dir = tempfile::tempdir().unwrap();
    let p = sim(&dir, &shared_without_env_key()).await;
    p.state.lock().unwrap().upstream_down.insert("gpt-4o".into());
    let gw = LiteLlm::with_key(spec(&p.url()), Some(Secret::new(MASTER)));
    let AdminResult::Probe { entries } = gw.admin(&target(&p.url()), &AdminOp::ProbeAllDeployments).await.unwrap()
    else {
        panic!()
    };
    assert_eq!(entries.iter().filter(|e| !e.healthy).count(), 1);
    let bad = entries.iter().find(|e| !e.healthy).unwrap();
    assert_eq!(bad.status, Some(500));
    assert!(bad.error.as_deref().unwrap().contains("Connection error"));
    // gpt-4o-mini is healthy: served by itself, no fallback.
    let AdminResult::Route(r) =
        gw.admin(&target(&p.url()), &AdminOp::TinyCompletion { model: "gpt-4o-mini".into() }).await.unwrap()
    else {
        panic!()
    };
    assert_eq!(r.status, 200);
    assert_eq!(r.model_group.as_deref(), Some("gpt-4o-mini"));
    assert_eq!(r.attempted_fallbacks, Some(0));
    let AdminResult::Stream(s) =
        gw.admin(&target(&p.url()), &AdminOp::StreamProbe { model: "gpt-4o-mini".into(), direct: None }).await.unwrap()
    else {
        panic!()
    };
    assert!(s.done_marker && s.last_chunk_complete_json, "{s:?}");
    assert_eq!(s.via, p.url());
    assert!(s.direct.is_none());
}

/// A front door that forwards chat requests to `upstream` and returns only
/// the first half of the streamed body: what a proxy that times the stream
/// out does to it.
async fn cutting_front(upstream: String) -> String {
    use axum::body::Bytes;
    use axum::http::HeaderMap;
    use axum::routing::post;
    let app = Router::new().route(
        "/v1/chat/completions",
        post(move |headers: HeaderMap, body: Bytes| {
            let upstream = upstream.clone();
            async move {
                let client = reqwest::Client::new();
                let resp = client
                    .post(format!("{upstream}/v1/chat/completions"))
                    .header("authorization", headers.get("authorization").cloned().unwrap())
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                let full = resp.bytes().await.unwrap();
                let half = full.slice(..full.len() / 2);
                ([("content-type", "text/event-stream")], half)
            }
        }),
    );
    serve(app).await
}

#[tokio::test]
async fn stream_probe_through_a_cutting_front_and_straight_to_the_replica() {
    let dir = tempfile::tempdir().unwrap();
    let p = sim(&dir, &shared_without_env_key()).await;
    let front = cutting_front(p.url()).await;
    let gw = LiteLlm::with_key(spec(&front), Some(Secret::new(MASTER)));
    let op = AdminOp::StreamProbe { model: "gpt-4o-mini".into(), direct: Some(p.url()) };
    let AdminResult::Stream(s) = gw.admin(&target(&front), &op).await.unwrap() else { panic!() };
    assert_eq!(s.via, front);
    assert!(!s.done_marker && !s.last_chunk_complete_json, "the front cuts the stream: {s:?}");
    let d = s.direct.as_deref().expect("the direct probe ran");
    assert_eq!(d.via, p.url());
    assert!(d.done_marker && d.last_chunk_complete_json, "straight to the replica it is whole: {d:?}");
    // The replica given as the address itself is one probe, not two.
    let same = AdminOp::StreamProbe { model: "gpt-4o-mini".into(), direct: Some(format!("{}/", p.url())) };
    let AdminResult::Stream(s) = gw.admin(&target(&p.url()), &same).await.unwrap() else { panic!() };
    assert!(s.direct.is_none(), "{s:?}");
}

async fn poll_err(url: &str) -> GatewayError {
    let gw = LiteLlm::with_key(spec(url), Some(Secret::new(MASTER)));
    let started = Instant::now();
    let r = gw.poll(&target(url)).await;
    assert!(started.elapsed() < Duration::from_secs(3), "poll took {:?}", started.elapsed());
    r.unwrap_err()
}

#[tokio::test]
async fn connection_refused() {
    let url = refused_url();
    assert!(matches!(poll_err(&url).await, GatewayError::Refused { .. }));
}

#[tokio::test]
async fn accepts_but_never_answers() {
    let url = hanging_url().await;
    assert!(matches!(poll_err(&url).await, GatewayError::Timeout { .. }));
}

#[tokio::test]
async fn html_502_from_a_proxy() {
    let app = Router::new().fallback(|| async {
        (
            StatusCode::BAD_GATEWAY,
            [("content-type", "text/html")],
            "<html><head><title>502 Bad Gateway</title></head><body><center>nginx</center></body></html>",
        )
            .into_response()
    });
    let url = serve(app).await;
    let e = poll_err(&url).await;
    assert_eq!(e, GatewayError::Html { status: 502, title: "502 Bad Gateway".into() });
    assert!(e.hint().unwrap().contains("proxy"));
}

#[tokio::test]
async fn answers_401() {
    let app = Router::new().fallback(|| async {
        (StatusCode::UNAUTHORIZED, [("content-type", "application/json")], r#"{"error":{"message":"Authentication Error, Invalid proxy server token passed.","type":"auth_error","param":"None","code":"401"}}"#)
            .into_response()
    });
    let url = serve(app).await;
    assert!(matches!(poll_err(&url).await, GatewayError::Auth { status: 401, .. }));
}

#[tokio::test]
async fn truncated_json_degrades_one_pane() {
    let app = Router::new()
        .route("/health/liveliness", get(|| async { ([("content-type", "application/json")], "\"I'm alive!\"") }))
        .route(
            "/model/info",
            get(|| async {
                ([("content-type", "application/json")], r#"{"data":[{"model_name":"gpt-4o","litellm_params":{"mod"#)
            }),
        );
    let url = serve(app).await;
    let gw = LiteLlm::with_key(spec(&url), Some(Secret::new(MASTER)));
    let snap = gw.poll(&target(&url)).await.unwrap();
    assert!(matches!(snap.deployments, Section::Failed(GatewayError::Truncated { .. })), "{:?}", snap.deployments);
    // Endpoints an older version lacks say so instead of failing.
    assert!(
        matches!(&snap.router, Section::Unavailable(why) if why.contains("not available on this version")),
        "{:?}",
        snap.router
    );
}

#[tokio::test]
async fn wrong_shape_and_garbage() {
    let app = Router::new()
        .route("/health/liveliness", get(|| async { ([("content-type", "application/json")], r#"{"status":"ok"}"#) }));
    let url = serve(app).await;
    assert!(matches!(poll_err(&url).await, GatewayError::WrongShape { .. }));
    let app = Router::new().route("/health/liveliness", get(|| async { "I am not JSON at all" }));
    let url = serve(app).await;
    assert!(matches!(poll_err(&url).await, GatewayError::Garbage { .. }));
}

fn with_prometheus(url: &str, prom: &str) -> LiteLlm {
    let mut s = spec(url);
    s.prometheus_url = Some(prom.to_owned());
    s.prometheus_job = Some("litellm".into());
    LiteLlm::with_key(s, Some(Secret::new(MASTER)))
}

/// A Prometheus server that answers `time()` and every range query with one
/// counter series for `instance`.
async fn fake_prometheus(instance: Option<String>) -> String {
    let app = Router::new()
        .route(
            "/api/v1/query",
            get(|| async { r#"{"status":"success","data":{"resultType":"scalar","result":[1800000000.5,"1800000000.5"]}}"# }),
        )
        .route(
            "/api/v1/query_range",
            get(move |q: axum::extract::Query<std::collections::HashMap<String, String>>| {
                let instance = instance.clone();
                async move {
                    let query = q.0.get("query").cloned().unwrap_or_default();
                    assert!(query.contains("job=\"litellm\""), "{query}");
                    let result = if let Some(instance) = instance.filter(|_| query.contains("total_requests|success_responses|failure_responses|cooled_down")) {
                        format!(
                            r#"[{{"metric":{{"__name__":"litellm_deployment_total_requests_total","instance":"{instance}","model_id":"abc","model_group":"gpt-4o"}},"values":[[1799999970.5,"4"],[1800000000.5,"9"]]}}]"#
                        )
                    } else {
                        "[]".to_owned()
                    };
                    format!(r#"{{"status":"success","data":{{"resultType":"matrix","result":{result}}}}}"#)
                }
            }),
        );
    serve(app).await
}

/// `prometheus_url`: a working server answers for the replicas (which then
/// skip their own /metrics/); a refused, hanging, HTML, 401, garbage or empty
/// one is said in one line, quickly, and the replicas are scraped instead.
#[tokio::test]
async fn prometheus_serves_or_is_said_unusable_and_the_replicas_are_scraped() {
    let dir = tempfile::tempdir().unwrap();
    let p = sim(&dir, &shared_without_env_key()).await;
    let instance = p.url().trim_start_matches("http://").to_owned();
    let good = fake_prometheus(Some(instance.clone())).await;
    let gw = with_prometheus(&p.url(), &good);
    let read = gw.fleet_traffic(&[p.url()]).await.unwrap();
    assert!(read.serving(), "{}", read.describe());
    let t = read.result.as_ref().unwrap();
    assert_eq!(t.samples.len(), 2);
    assert_eq!(t.samples[1].replica, p.url(), "keyed by the replica gatewatch polls");
    assert!((t.samples[1].deployments["abc"].requests - 9.0).abs() < 1e-9);
    assert!(read.describe().contains("1 scrape instance(s)"), "{}", read.describe());
    let snap = gw.poll(&target(&p.url())).await.unwrap();
    assert_eq!(snap.traffic, Section::NotLoaded, "the replica's /metrics/ is not read while Prometheus answers");

    let html = serve(Router::new().fallback(|| async {
        ([("content-type", "text/html")], "<html><title>Grafana</title></html>").into_response()
    }))
    .await;
    let unauthorized =
        serve(Router::new().fallback(|| async { (StatusCode::UNAUTHORIZED, "Unauthorized\n").into_response() })).await;
    let garbage = serve(Router::new().fallback(|| async { "\u{1b}[2J{not json" })).await;
    let empty = fake_prometheus(Some("10.9.9.9:4000".into())).await;
    let nothing = fake_prometheus(None).await;
    for (server, want) in [
        (refused_url(), "connection refused"),
        (hanging_url().await, "no answer within"),
        (html, "HTML page"),
        (unauthorized, "HTTP 401"),
        (garbage, "not a Prometheus API answer"),
        (nothing, "no litellm_deployment_* series with job=\"litellm\""),
    ] {
        let gw = with_prometheus(&p.url(), &server);
        let started = Instant::now();
        let read = gw.fleet_traffic(&[p.url()]).await.unwrap();
        assert!(started.elapsed() < Duration::from_secs(3), "{server}: {:?}", started.elapsed());
        assert!(!read.serving(), "{server}");
        let said = read.describe();
        assert!(said.contains("not usable") && said.contains(want), "{server}: {said}");
        assert!(!said.contains('\u{1b}'), "{said:?}");
        let snap = gw.poll(&target(&p.url())).await.unwrap();
        assert!(matches!(snap.traffic, Section::Ok(_)), "{server}: scraped instead: {:?}", snap.traffic);
    }
    // Series for an instance gatewatch does not poll, with one replica: the pods behind a load balancer.
    let gw = with_prometheus(&p.url(), &empty);
    let read = gw.fleet_traffic(&[p.url()]).await.unwrap();
    assert!(read.serving(), "{}", read.describe());
    // Two replicas polled, and neither is an instance it scrapes: whose traffic it is cannot be told.
    let read = gw.fleet_traffic(&[p.url(), "http://127.0.0.1:9".to_owned()]).await.unwrap();
    assert!(!read.serving(), "{}", read.describe());
    assert!(read.describe().contains("none of its scrape instances (10.9.9.9:4000)"), "{}", read.describe());
}

/// Replicas answering the same `/model/info` bytes are parsed once, also
/// when they answer at the same time; a replica answering other bytes
/// (another config loaded) gets its own parse, never the cached one.
#[tokio::test]
async fn identical_answers_are_parsed_once_and_different_ones_each() {
    let fixture: serde_json::Value = serde_json::from_str(include_str!("fixtures/litellm/model_info.json")).unwrap();
    let mut other = fixture.clone();
    other["data"][0]["model_info"]["id"] = "0000000000000000000000000000000000000000000000000000000000000000".into();
    let serve_body = |body: String| async move {
        let app = Router::new()
            .route("/health/liveliness", get(|| async { "\"I'm alive!\"" }))
            .route("/model/info", get(move || async move { ([("content-type", "application/json")], body.clone()) }))
            .fallback(|| async { StatusCode::NOT_FOUND.into_response() });
        serve(app).await
    };
    let a = serve_body(fixture.to_string()).await;
    let a2 = serve_body(fixture.to_string()).await;
    let b = serve_body(other.to_string()).await;
    let gw = LiteLlm::with_key(spec(&a), Some(Secret::new(MASTER)));
    let ids = |s: &gatewatch::gateway::ReplicaSnapshot| -> Vec<String> {
        s.deployments.ok().unwrap().iter().map(|d| d.id.to_string()).collect()
    };
    // Polled at once, as the poller polls replicas: one parse, shared.
    let (ta, ta2, tb) = (target(&a), target(&a2), target(&b));
    let (sa, sa2, sb) = tokio::join!(gw.poll(&ta), gw.poll(&ta2), gw.poll(&tb));
    let (sa, sa2, sb) = (sa.unwrap(), sa2.unwrap(), sb.unwrap());
    let list = |s: &gatewatch::gateway::ReplicaSnapshot| std::sync::Arc::clone(s.deployments.ok().unwrap());
    assert!(std::sync::Arc::ptr_eq(&list(&sa), &list(&sa2)), "the same bytes were parsed twice");
    assert!(!std::sync::Arc::ptr_eq(&list(&sa), &list(&sb)), "other bytes were given another answer's parse");
    let first = ids(&sa);
    assert_eq!(ids(&sa2), first, "the same bytes: the same deployments");
    // A refresh while the last answer is still held: the same parse again.
    assert!(std::sync::Arc::ptr_eq(&list(&gw.poll(&target(&a2)).await.unwrap()), &list(&sa)));
    drop((sa, sa2, sb));
    let changed = ids(&gw.poll(&target(&b)).await.unwrap());
    assert_ne!(changed, first, "other bytes are parsed, not taken from the cache");
    assert_eq!(changed[0], "0".repeat(64));
    assert_eq!(ids(&gw.poll(&target(&a)).await.unwrap()), first);
}
