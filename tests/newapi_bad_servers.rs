//! The New API adapter against small servers that misbehave on purpose (on
//! 127.0.0.1): proxy error pages, truncated or garbage JSON, wrong shapes,
//! refused connections, hangs, broken pagination — and One API's list shape.
//! Each must become a clear `GatewayError`, never a panic or a hang.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use gatewatch::config::{GatewayKind, GatewaySpec};
use gatewatch::gateway::newapi::NewApi;
use gatewatch::gateway::newapi::pacer::PacerConfig;
use gatewatch::gateway::{AuthState, Gateway, GatewayError, ReplicaSnapshot, ReplicaTarget, Section};
use gatewatch::secret::Secret;
use tokio_util::sync::CancellationToken;

fn spec(url: &str) -> GatewaySpec {
    let mut s = GatewaySpec::new("bad", GatewayKind::NewApi, url);
    s.timeout = Duration::from_millis(500);
    s.action_timeout = Duration::from_secs(2);
    s
}

fn adapter(url: &str) -> NewApi {
    let pacing = PacerConfig {
        backoff_base: Duration::from_millis(50),
        backoff_cap: Duration::from_millis(400),
        max_wait: Duration::from_secs(5),
        ..PacerConfig::default()
    };
    NewApi::with_pacing(spec(url), Some(Secret::new("t")), Some("1".into()), pacing)
}

async fn serve_app(app: Router) -> (String, CancellationToken) {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.expect("bind 127.0.0.1");
    let url = format!("http://{}", listener.local_addr().expect("local address"));
    let cancel = CancellationToken::new();
    let c = cancel.clone();
    tokio::spawn(async move {
        axum::serve(listener, app).with_graceful_shutdown(c.cancelled_owned()).await.ok();
    });
    (url, cancel)
}

const STATUS_OK: &str = r#"{"data":{"version":"v-bad","start_time":1},"message":"","success":true}"#;
const PROBE_OK: &str = r#"{"http_stats":{"active_connections":1},"message":"Server is running","success":true}"#;

fn ok_json(body: &'static str) -> Response {
    (StatusCode::OK, [("content-type", "application/json")], body).into_response()
}

async fn poll_of(app: Router) -> Result<ReplicaSnapshot, GatewayError> {
    let (url, cancel) = serve_app(app).await;
    let gw = adapter(&url);
    let started = Instant::now();
    let r = gw.poll(&ReplicaTarget { index: 0, url }).await;
    assert!(started.elapsed() < Duration::from_secs(5));
    cancel.cancel();
    r
}

#[tokio::test]
async fn bad_status_answers_are_clear_errors() {
    let html = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>";
    let cases: [(&str, StatusCode, &'static str, &str); 4] = [
        ("html 502", StatusCode::BAD_GATEWAY, html, "proxy error page"),
        ("truncated", StatusCode::OK, r#"{"data":{"version":"v1","#, "truncated"),
        ("garbage", StatusCode::OK, "hello, I am not JSON", "garbage"),
        ("wrong shape", StatusCode::OK, r#"{"success":true,"message":"","data":[1,2,3]}"#, "wrong shape"),
    ];
    for (name, status, body, label) in cases {
        let ct = if body.starts_with('<') { "text/html" } else { "application/json" };
        let app =
            Router::new().route("/api/status", get(move || async move { (status, [("content-type", ct)], body) }));
        let e = poll_of(app).await.unwrap_err();
        assert_eq!(e.label(), label, "{name}: {e:?}");
    }
    // Something that is not New API at all: JSON without `success`.
    let app = Router::new().route("/api/status", get(|| async { ok_json(r#"{"status":"ok"}"#) }));
    assert!(matches!(poll_of(app).await.unwrap_err(), GatewayError::WrongShape { .. }));
}

#[tokio::test]
async fn connection_refused_and_hang_are_bounded() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let gw = adapter(&url);
    let e = gw.poll(&ReplicaTarget { index: 0, url }).await.unwrap_err();
    assert!(matches!(e, GatewayError::Refused { .. }), "{e:?}");

    let app = Router::new().route(
        "/api/status",
        get(|| async {
            tokio::time::sleep(Duration::from_secs(10)).await;
            ok_json(STATUS_OK)
        }),
    );
    let e = poll_of(app).await.unwrap_err();
    assert!(matches!(e, GatewayError::Timeout { .. }), "{e:?}");
}

#[tokio::test]
async fn a_bad_channel_list_fails_its_section_only() {
    let base = || {
        Router::new()
            .route("/api/status", get(|| async { ok_json(STATUS_OK) }))
            .route("/api/status/test", get(|| async { ok_json(PROBE_OK) }))
    };
    let cases: [(&str, &'static str, &str); 3] = [
        ("items not a list", r#"{"success":true,"message":"","data":{"items":"x","total":1}}"#, "wrong shape"),
        ("truncated", r#"{"success":true,"message":"","data":{"items":[{"id":1,"#, "truncated"),
        (
            "channel without id",
            r#"{"success":true,"message":"","data":{"items":[{"name":"x"}],"total":1}}"#,
            "wrong shape",
        ),
    ];
    for (name, body, label) in cases {
        let app = base().route("/api/channel/", get(move || async move { ok_json(body) }));
        let s = poll_of(app).await.unwrap();
        assert_eq!(s.deployments.error().map(GatewayError::label), Some(label), "{name}");
        assert_eq!(s.auth, AuthState::Ok, "{name}: the probe vouched for the credential");
        assert!(s.served_models.error().is_some());
    }
}

/// A page failing midway fails the whole list (no partial list) with a note.
#[tokio::test]
async fn a_page_failing_midway_fails_the_list_with_a_note() {
    let app = Router::new()
        .route("/api/status", get(|| async { ok_json(STATUS_OK) }))
        .route("/api/status/test", get(|| async { ok_json(PROBE_OK) }))
        .route(
            "/api/channel/",
            get(|q: Query<HashMap<String, String>>| async move {
                let p: usize = q.get("p").and_then(|p| p.parse().ok()).unwrap_or(1);
                if p == 3 {
                    let html = "<html><head><title>502 Bad Gateway</title></head></html>";
                    return (StatusCode::BAD_GATEWAY, [("content-type", "text/html")], html).into_response();
                }
                let items: Vec<String> = (0..100)
                    .map(|i| format!(r#"{{"id":{},"name":"c","status":1}}"#, 1000 - (p - 1) * 100 - i))
                    .collect();
                let body = format!(
                    r#"{{"data":{{"items":[{}],"page":{p},"page_size":100,"total":450}},"message":"","success":true}}"#,
                    items.join(",")
                );
                (StatusCode::OK, [("content-type", "application/json")], body).into_response()
            }),
        );
    let s = poll_of(app).await.unwrap();
    assert!(matches!(s.deployments.error(), Some(GatewayError::Html { status: 502, .. })), "{:?}", s.deployments);
    assert!(s.notes.iter().any(|n| n.contains("page 3 of 5") && n.contains("no partial list")), "{:?}", s.notes);
}

/// A server that ignores `p` (and the status filter): page 1 forever, the
/// same 100 enabled channels, under a total of `total`.
fn same_page_forever(total: u64) -> Router {
    let page = move || {
        let items: Vec<String> = (1..=100).map(|i| format!(r#"{{"id":{i},"status":1}}"#)).collect();
        format!(r#"{{"data":{{"items":[{}],"total":{total}}},"message":"","success":true}}"#, items.join(","))
    };
    Router::new()
        .route("/api/status", get(|| async { ok_json(STATUS_OK) }))
        .route("/api/status/test", get(|| async { ok_json(PROBE_OK) }))
        .route("/api/channel/", get(move || async move { ([("content-type", "application/json")], page()) }))
}

/// A server that ignores `p` and returns page 1 forever is caught on page 2.
#[tokio::test]
async fn the_same_page_forever_is_detected() {
    let app = same_page_forever(100_000_000);
    let s = poll_of(app).await.unwrap();
    // An absurd total is refused outright, before any further request.
    assert!(matches!(s.deployments.error(), Some(GatewayError::Rejected { message }) if message.contains("at most")));
    // Then the disabled channels alone are asked for; this server ignores the
    // filter too (the same absurd total): refused, not taken as the subset.
    // The error log is read next (the models failing now, for the subsets by model); none here.
    assert_eq!(
        s.requests, 6,
        "status, / (the console), status/test, page 1, the status=disabled page 1, the error log"
    );
    assert!(s.model_channels.ok().is_some_and(Vec::is_empty), "{:?}", s.model_channels);
    assert!(s.disabled_channels.error().is_some(), "{:?}", s.disabled_channels);

    let app = same_page_forever(1_000);
    let s = poll_of(app).await.unwrap();
    let e = s.deployments.error().unwrap();
    assert!(matches!(e, GatewayError::WrongShape { detail, .. } if detail.contains("ignores the page")), "{e:?}");
    assert!(s.requests <= 3 + 10);
}

/// Past the cap, a server that ignores `p` is caught by the pages read
/// across polls too: on page 2, with an error, and no list assembled.
#[tokio::test]
async fn the_same_page_forever_is_detected_past_the_cap() {
    let app = same_page_forever(30_000);
    let s = poll_of(app).await.unwrap();
    assert!(s.deployments.error().is_some(), "{:?}", s.deployments);
    assert!(s.assembled.is_none());
    assert!(
        s.notes.iter().any(|n| n.contains("assembling the channel list") && n.contains("ignores the page parameter")),
        "{:?}",
        s.notes
    );
    assert!(s.requests <= 10, "{}", s.requests);
}

/// One API: bare-array pages, 0-based, 10 per page, no total.
#[tokio::test]
async fn one_api_lists_are_read_too() {
    let app = Router::new()
        .route("/api/status", get(|| async { ok_json(STATUS_OK) }))
        .route("/api/status/test", get(|| async { (StatusCode::NOT_FOUND, "404 page not found") }))
        .route(
            "/api/channel/",
            get(|q: Query<HashMap<String, String>>| async move {
                let p: usize = q.get("p").and_then(|p| p.parse().ok()).unwrap_or(0);
                // 25 channels, ids 25..1 (id desc), 10 per page.
                let items: Vec<String> = (p * 10..(p * 10 + 10).min(25))
                    .map(|i| {
                        format!(
                            r#"{{"id":{},"type":36,"status":1,"name":"c","models":"deepseek-chat","group":"default"}}"#,
                            25 - i
                        )
                    })
                    .collect();
                let body = format!(r#"{{"data":[{}],"message":"","success":true}}"#, items.join(","));
                ([("content-type", "application/json")], body)
            }),
        );
    let s = poll_of(app).await.unwrap();
    let deps = s.deployments.ok().unwrap();
    assert_eq!(deps.len(), 25);
    assert_eq!(&*deps[0].provider, "DeepSeek", "One API's type 36");
    assert!(matches!(s.readiness, Section::Unavailable(_)), "{:?}", s.readiness);
    assert_eq!(s.auth, AuthState::Ok);
    assert!(s.notes.iter().any(|n| n.contains("One API")));
    // status, / (the console), probe, p=1 (detect), then p=0,1,2.
    assert_eq!(s.requests, 7);
}

/// `Retry-After` is honoured; one longer than the pacer's `max_wait` fails at once.
#[tokio::test]
async fn retry_after_is_honoured() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let app = Router::new().route(
        "/api/status",
        get(move || {
            let n = h.fetch_add(1, Ordering::SeqCst);
            async move {
                if n == 0 {
                    (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "1")], "").into_response()
                } else {
                    ok_json(STATUS_OK)
                }
            }
        }),
    );
    let (url, cancel) = serve_app(app).await;
    let gw = adapter(&url);
    let started = Instant::now();
    let live = gw.liveness(&ReplicaTarget { index: 0, url: url.clone() }).await.unwrap();
    assert_eq!(live.version.as_deref(), Some("v-bad"));
    assert!(started.elapsed() >= Duration::from_secs(1), "waited {:?}", started.elapsed());
    assert_eq!(hits.load(Ordering::SeqCst), 2);
    cancel.cancel();

    let app = Router::new().route(
        "/api/status",
        get(|| async { (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "3600")], "").into_response() }),
    );
    let (url, cancel) = serve_app(app).await;
    let started = Instant::now();
    let e = adapter(&url).liveness(&ReplicaTarget { index: 0, url }).await.unwrap_err();
    assert_eq!(e, GatewayError::RateLimited { retry_after: Some(Duration::from_secs(3600)) });
    assert!(started.elapsed() < Duration::from_secs(1));
    cancel.cancel();
}

/// Past the cap, a server that ignores `status=disabled` (it answers enabled
/// channels) gives no "disabled subset": the balance check stays unknown.
#[tokio::test]
async fn a_status_filter_the_server_ignores_is_not_taken_as_the_subset() {
    let app = Router::new()
        .route("/api/status", get(|| async { ok_json(STATUS_OK) }))
        .route("/api/status/test", get(|| async { ok_json(PROBE_OK) }))
        .route(
            "/api/channel/",
            get(|q: axum::extract::Query<std::collections::HashMap<String, String>>| async move {
                let (total, status) = if q.get("status").is_some() { (5, 1) } else { (30_000, 1) };
                let items: Vec<String> = (1..=5).map(|i| format!(r#"{{"id":{i},"status":{status}}}"#)).collect();
                let body = format!(
                    r#"{{"data":{{"items":[{}],"total":{total}}},"message":"","success":true}}"#,
                    items.join(",")
                );
                ([("content-type", "application/json")], body)
            }),
        );
    let s = poll_of(app).await.unwrap();
    assert!(
        matches!(s.disabled_channels.error(), Some(GatewayError::WrongShape { detail, .. }) if detail.contains("ignores the filter")),
        "{:?}",
        s.disabled_channels
    );
}
