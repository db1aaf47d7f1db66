//! Admin answers gatewatch cannot read must fail the checks they feed, and
//! `gatewatch check` must exit 2 — never "Result: OK" while not a single
//! deployment was seen. A fake admin API on 127.0.0.1 answers liveliness and
//! then a `/model/info` over the configured limit (`max_body_mb`), of the
//! wrong shape, or an HTML page. And a real-sized fleet must still be read:
//! 10,000 deployments shaped like LiteLLM 1.106.12's own `/model/info`
//! entries (the captured fixture, 7.4 KB each: about 74 MB) under the default
//! limit.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

mod common;

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::response::IntoResponse;
use axum::routing::get;
use common::BIN;

/// A fake LiteLLM: alive, and `/model/info` answers `body` with `content_type`.
async fn fake(body: Arc<Vec<u8>>, content_type: &'static str) -> String {
    let app = Router::new()
        .route("/health/liveliness", get(|| async { ([("content-type", "application/json")], "\"I'm alive!\"") }))
        .route(
            "/model/info",
            get(move || {
                let body = Arc::clone(&body);
                async move { ([("content-type", content_type)], body.as_ref().clone()).into_response() }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

/// `gatewatch check` with a config file: (exit code, JSON report, human output).
async fn check(url: &str, extra_yaml: &str) -> (i32, serde_json::Value, String) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("gatewatch.yaml");
    std::fs::write(
        &cfg,
        format!(
            "state_dir: {}\ngateways:\n  - name: lite\n    kind: litellm\n    url: {url}\n    timeout: 20s\n{extra_yaml}",
            dir.path().join("state").display()
        ),
    )
    .unwrap();
    let run = |args: &'static [&'static str]| {
        let cfg = cfg.clone();
        async move {
            tokio::process::Command::new(BIN)
                .arg("--config")
                .arg(&cfg)
                .arg("check")
                .args(args)
                .env("LITELLM_MASTER_KEY", "sk-master-unreadable-0000")
                .output()
                .await
                .unwrap()
        }
    };
    let json = run(&["--json"]).await;
    let human = run(&[]).await;
    let text = String::from_utf8_lossy(&json.stdout).into_owned();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(human.status.code(), json.status.code());
    (json.status.code().unwrap_or(-1), v, String::from_utf8_lossy(&human.stdout).into_owned())
}

fn verdict<'a>(v: &'a serde_json::Value, id: &str) -> (&'a str, &'a str) {
    let c = v["gateways"][0]["checks"].as_array().unwrap().iter().find(|c| c["id"] == id).unwrap();
    (c["verdict"].as_str().unwrap(), c["summary"].as_str().unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_over_the_limit_fails_the_check_with_the_reason() {
    // 2 MiB of valid JSON against max_body_mb: 1.
    let filler = "x".repeat(2 * 1024 * 1024);
    let body = format!("{{\"data\":[],\"pad\":\"{filler}\"}}").into_bytes();
    let url = fake(Arc::new(body), "application/json").await;
    let (code, v, human) = check(&url, "    max_body_mb: 1\n").await;
    assert_eq!(code, 2, "{human}");
    let (auth, why) = verdict(&v, "admin-auth");
    assert_eq!(auth, "fail", "{why}");
    assert!(why.contains("larger than 1 MiB") && why.contains("max_body_mb"), "{why}");
    assert_eq!(verdict(&v, "key-drift").0, "fail");
    assert!(human.contains("Result: FAILURES, INCOMPLETE (exit 2)"), "{human}");
    assert!(!human.contains("Result: OK"), "{human}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_wrong_shape_and_an_html_page_fail_too() {
    for (body, ct, what) in [
        (&br#"{"data": "not a list"}"#[..], "application/json", "unexpected JSON shape"),
        (&b"<html><head><title>Sign in</title></head></html>"[..], "text/html", "HTML page"),
        (&br#"{"data": [{"model_name": "a", "#[..], "application/json", "truncated"),
    ] {
        let url = fake(Arc::new(body.to_vec()), ct).await;
        let (code, v, human) = check(&url, "").await;
        assert_eq!(code, 2, "{what}: {human}");
        let (auth, why) = verdict(&v, "admin-auth");
        assert_eq!(auth, "fail", "{what}: {why}");
        assert!(why.contains(what), "{what}: {why}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn ten_thousand_real_sized_deployments_are_read_under_the_default_limit() {
    let fixture: serde_json::Value = serde_json::from_str(include_str!("fixtures/litellm/model_info.json")).unwrap();
    let entry = fixture["data"][0].clone();
    let data: Vec<serde_json::Value> = (0..10_000)
        .map(|i| {
            let mut e = entry.clone();
            e["model_name"] = format!("alias-{}", i % 100).into();
            e["model_info"]["id"] = format!("{i:064x}").into();
            e
        })
        .collect();
    let body = serde_json::to_vec(&serde_json::json!({ "data": data })).unwrap();
    let mb = body.len() / 1_000_000;
    let url = fake(Arc::new(body), "application/json").await;
    let started = Instant::now();
    let (code, v, human) = check(&url, "").await;
    eprintln!("/model/info of 10,000 deployments: {mb} MB, two check runs in {:.1} s", started.elapsed().as_secs_f64());
    assert_eq!(v["gateways"][0]["replicas"][0]["deployments"], 10_000, "{human}");
    assert_eq!(verdict(&v, "admin-auth").0, "ok", "{human}");
    assert!(code < 2, "{human}");
}
