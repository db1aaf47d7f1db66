//! One LiteLLM refresh of three replicas against one (issue 20: ≤ 1.2×),
//! with 5,000 deployments (`/model/info` as 1.106.12 answers it: 37 MB).
//! Each replica is a loopback server answering the same recorded bytes; the
//! adapter polls each replica on its own task and parses the same bytes once,
//! however many replicas answer them. `cold`: a new adapter each time (the
//! three identical answers parsed once between them). `transfer_only`: the
//! same answers fetched and dropped — the floor this machine sets, since the
//! three servers sending 37 MB share its cores with the client receiving them.
//! `paced_*`: the same with each replica sending at a fixed rate, as replicas
//! on their own hosts do, so that what a further replica costs is the
//! client's own work.
//!
//! `cargo bench --bench replicas`.
#![allow(clippy::unwrap_used, clippy::print_stderr, clippy::missing_panics_doc)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use criterion::{Criterion, criterion_group, criterion_main};
use gatewatch::config::{GatewayKind, GatewaySpec};
use gatewatch::gateway::Gateway;
use gatewatch::gateway::litellm::LiteLlm;
use gatewatch::secret::Secret;

// The allocator the app ships with (src/main.rs): tens of megabytes are
// allocated and freed each refresh, and that cost is part of what is measured.
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

const DEPLOYMENTS: usize = 5_000;
/// Bytes a second a paced replica sends.
const PACED_RATE: f64 = 250e6;

/// A LiteLLM replica on loopback answering `/model/info` with `model_info`.
async fn serve(model_info: axum::routing::MethodRouter) -> String {
    let app = Router::new()
        .route("/health/liveliness", get(|| async { "\"I'm alive!\"" }))
        .route(
            "/health/readiness/details",
            get(|| async {
                (
                    [("content-type", "application/json")],
                    r#"{"status":"healthy","db":"Not connected","cache":null,"litellm_version":"1.106.12"}"#,
                )
            }),
        )
        .route("/model/info", model_info)
        .fallback(|| async { StatusCode::NOT_FOUND.into_response() });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

async fn replica(body: axum::body::Bytes) -> String {
    serve(get(move || async move { ([("content-type", "application/json")], body.clone()) })).await
}

/// A replica that sends its answer at `rate` bytes a second, as one on its
/// own host and link does: what the client then adds for each further
/// replica is its own work, not the servers' share of its cores.
async fn paced_replica(body: axum::body::Bytes, rate: f64) -> String {
    serve(get(move || {
        let body = body.clone();
        async move {
            let started = tokio::time::Instant::now();
            let chunks = futures::stream::unfold(0usize, move |at| {
                let body = body.clone();
                async move {
                    if at >= body.len() {
                        return None;
                    }
                    let end = (at + 64 * 1024).min(body.len());
                    #[allow(clippy::cast_precision_loss)]
                    let due = Duration::from_secs_f64(end as f64 / rate);
                    tokio::time::sleep_until(started + due).await;
                    Some((Ok::<_, std::convert::Infallible>(body.slice(at..end)), end))
                }
            });
            ([("content-type", "application/json")], axum::body::Body::from_stream(chunks))
        }
    }))
    .await
}

fn adapter(url: &str) -> Arc<dyn Gateway> {
    let mut spec = GatewaySpec::new("bench", GatewayKind::LiteLlm, url);
    spec.timeout = Duration::from_secs(30);
    Arc::new(LiteLlm::with_key(spec, Some(Secret::new("sk-master-fake-0000111122223333"))))
}

fn bench(c: &mut Criterion) {
    let cfg = common::parse_config(&common::litellm_config(DEPLOYMENTS, true));
    let body = axum::body::Bytes::from(common::model_info_body(&cfg));
    eprintln!("/model/info for {DEPLOYMENTS} deployments: {} bytes", body.len());
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let urls: Vec<String> = rt.block_on(async {
        let mut v = Vec::new();
        for _ in 0..3 {
            v.push(replica(body.clone()).await);
        }
        v
    });
    let one = &urls[..1];
    let gw = adapter(&urls[0]);
    let check = |r: &[(String, Result<gatewatch::gateway::ReplicaSnapshot, gatewatch::gateway::GatewayError>)]| {
        for (u, s) in r {
            let n = s.as_ref().unwrap().deployments.ok().map_or(0, |d| d.len());
            assert_eq!(n, DEPLOYMENTS, "{u}");
        }
    };
    check(&rt.block_on(gatewatch::poller::poll_replicas(&gw, &urls)));
    let mut g = c.benchmark_group("litellm_5000_refresh");
    // Warm: the last refresh is kept until the next one lands, as the app
    // keeps each replica's snapshot (the adapter remembers a parse only while
    // something still holds it).
    let mut last = rt.block_on(gatewatch::poller::poll_replicas(&gw, one));
    g.bench_function("one_replica", |b| {
        b.iter(|| std::mem::replace(&mut last, rt.block_on(gatewatch::poller::poll_replicas(&gw, one))));
    });
    let mut last = rt.block_on(gatewatch::poller::poll_replicas(&gw, &urls));
    g.bench_function("three_replicas", |b| {
        b.iter(|| std::mem::replace(&mut last, rt.block_on(gatewatch::poller::poll_replicas(&gw, &urls))));
    });
    g.bench_function("three_replicas_cold", |b| {
        b.iter(|| {
            let gw = adapter(&urls[0]);
            rt.block_on(gatewatch::poller::poll_replicas(&gw, &urls))
        });
    });
    g.bench_function("one_replica_cold", |b| {
        b.iter(|| {
            let gw = adapter(&urls[0]);
            rt.block_on(gatewatch::poller::poll_replicas(&gw, one))
        });
    });
    // The floor on this machine: the same bytes fetched and dropped, each
    // replica on its own task (no hashing, no parsing, no snapshot).
    let client = reqwest::Client::new();
    let fetch = |urls: &[String]| {
        let tasks: Vec<_> = urls
            .iter()
            .map(|u| {
                let (c, u) = (client.clone(), format!("{u}/model/info"));
                rt.spawn(async move {
                    let mut r = c.get(u).send().await.unwrap();
                    let mut n = 0;
                    while let Some(b) = r.chunk().await.unwrap() {
                        n += b.len();
                    }
                    n
                })
            })
            .collect();
        rt.block_on(async { futures::future::join_all(tasks).await })
    };
    g.bench_function("transfer_only_one", |b| b.iter(|| fetch(one)));
    g.bench_function("transfer_only_three", |b| b.iter(|| fetch(&urls)));
    // Replicas elsewhere: each sends at 250 MB/s (2 Gbit/s, faster than a
    // proxy builds its answer), so each one's sending is not the client's
    // cores' work: one replica against three, warm and cold.
    let paced: Vec<String> = rt.block_on(async {
        let mut v = Vec::new();
        for _ in 0..3 {
            v.push(paced_replica(body.clone(), PACED_RATE).await);
        }
        v
    });
    let gw = adapter(&paced[0]);
    check(&rt.block_on(gatewatch::poller::poll_replicas(&gw, &paced)));
    let mut last = rt.block_on(gatewatch::poller::poll_replicas(&gw, &paced[..1]));
    g.bench_function("paced_one_replica", |b| {
        b.iter(|| std::mem::replace(&mut last, rt.block_on(gatewatch::poller::poll_replicas(&gw, &paced[..1]))));
    });
    let mut last = rt.block_on(gatewatch::poller::poll_replicas(&gw, &paced));
    g.bench_function("paced_three_replicas", |b| {
        b.iter(|| std::mem::replace(&mut last, rt.block_on(gatewatch::poller::poll_replicas(&gw, &paced))));
    });
    drop(last);
    g.bench_function("paced_one_replica_cold", |b| {
        b.iter(|| rt.block_on(gatewatch::poller::poll_replicas(&adapter(&paced[0]), &paced[..1])));
    });
    g.bench_function("paced_three_replicas_cold", |b| {
        b.iter(|| rt.block_on(gatewatch::poller::poll_replicas(&adapter(&paced[0]), &paced)));
    });
    g.finish();
}

criterion_group! {
    name = replicas;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(6));
    targets = bench
}
criterion_main!(replicas);
