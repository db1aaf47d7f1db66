//! One LiteLLM refresh of three replicas against one (issue 20: ≤ 1.2×),
//! with 5,000 deployments (`/model/info` as 1.106.12 answers it: 37 MB).
//! Each replica is a loopback server answering the same recorded bytes; the
//! adapter polls each replica on its own task and parses the same bytes once,
//! however many replicas answer them. `cold`: a new adapter each time (the
//! three identical answers parsed once between them). `transfer_only`: the
//! same answers fetched and dropped — the floor this machine sets, since the
//! three servers sending 37 MB share its cores with the client receiving them.
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

async fn replica(body: axum::body::Bytes) -> String {
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
        .route("/model/info", get(move || async move { ([("content-type", "application/json")], body.clone()) }))
        .fallback(|| async { StatusCode::NOT_FOUND.into_response() });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
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
