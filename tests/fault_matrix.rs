//! The fault matrix: gateways that misbehave on purpose, and commands that
//! hang, fail or do not exist. Every case must end in bounded time with a
//! clear, typed status — never a panic, never a hang. Hostile input (issue
//! 14) has its own modules: shell payloads in replica addresses and
//! discovery output (`commands`), the terminal-escape corpus (`escapes`),
//! oversized, device and FIFO files (`input`), and a read-only, full or
//! booby-trapped state directory (`state`).

#![allow(clippy::unwrap_used, clippy::default_trait_access, clippy::print_stderr)]

mod common;

#[path = "fault_matrix/commands.rs"]
mod commands;
#[path = "fault_matrix/escapes.rs"]
mod escapes;
#[path = "fault_matrix/input.rs"]
mod input;
#[path = "fault_matrix/state.rs"]
mod state;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use gatewatch::actions::audit::AuditLog;
use gatewatch::actions::exec::Executor;
use gatewatch::actions::plan;
use gatewatch::actions::{ActionEvent, ActionEventKind, GatewayAction, Outcome};
use gatewatch::config::{GatewayKind, GatewaySpec};
use gatewatch::fleet::{Fleet, GatewayObs};
use gatewatch::gateway::litellm::LiteLlm;
use gatewatch::gateway::{Gateway, GatewayError, ReplicaTarget, Section};
use gatewatch::secret::{Redactor, Secret};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use common::*;

fn spec(url: &str) -> GatewaySpec {
    let mut s = GatewaySpec::new("f", GatewayKind::LiteLlm, url);
    s.timeout = Duration::from_millis(700);
    s.max_body_bytes = 4 * 1024 * 1024;
    s
}

async fn poll(url: &str) -> Result<gatewatch::gateway::ReplicaSnapshot, GatewayError> {
    let gw: std::sync::Arc<dyn gatewatch::gateway::Gateway> =
        std::sync::Arc::new(LiteLlm::with_key(spec(url), Some(Secret::new("sk-master-fault-0000"))));
    let started = Instant::now();
    let r = gw.poll(&ReplicaTarget { index: 0, url: url.to_owned() }).await;
    assert!(started.elapsed() < Duration::from_secs(4), "{url} took {:?}", started.elapsed());
    r
}

fn alive() -> Router {
    Router::new()
        .route("/health/liveliness", get(|| async { ([("content-type", "application/json")], "\"I'm alive!\"") }))
}

/// Answers the status line and headers, then never sends the body.
async fn stall_body_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((mut sock, _)) = listener.accept().await {
            let mut buf = [0u8; 2048];
            let _ = sock.read(&mut buf).await;
            let _ = sock
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 5000\r\n\r\n{\"da")
                .await;
            held.push(sock);
        }
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn headers_then_stalled_body() {
    let e = poll(&stall_body_url().await).await.unwrap_err();
    assert!(matches!(e, GatewayError::Timeout { .. } | GatewayError::Truncated { .. }), "{e:?}");
}

#[tokio::test]
async fn ten_second_latency_is_cut_at_the_timeout() {
    let app = Router::new().fallback(|| async {
        tokio::time::sleep(Duration::from_secs(10)).await;
        "\"I'm alive!\""
    });
    let e = poll(&serve(app).await).await.unwrap_err();
    assert!(matches!(e, GatewayError::Timeout { .. }), "{e:?}");
}

#[tokio::test]
async fn forbidden_and_server_error() {
    let app = alive().route(
        "/model/info",
        get(|| async {
            (
                StatusCode::FORBIDDEN,
                [("content-type", "application/json")],
                r#"{"error":{"message":"forbidden","type":"auth_error","param":"None","code":"403"}}"#,
            )
        }),
    );
    let s = poll(&serve(app).await).await.unwrap();
    assert!(matches!(s.deployments, Section::Failed(GatewayError::Auth { status: 403, .. })), "{:?}", s.deployments);
    let app = alive().route(
        "/model/info",
        get(|| async {
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                [("content-type", "application/json")],
                r#"{"error":{"message":"boom","type":"internal_server_error","param":null,"code":"500"}}"#,
            )
        }),
    );
    let s = poll(&serve(app).await).await.unwrap();
    assert!(
        matches!(&s.deployments, Section::Failed(GatewayError::Http { status: 500, message }) if message == "boom"),
        "{:?}",
        s.deployments
    );
}

#[tokio::test]
async fn cloudflare_504_page() {
    let app = Router::new().fallback(|| async {
        (StatusCode::GATEWAY_TIMEOUT, [("content-type", "text/html; charset=UTF-8"), ("server", "cloudflare"), ("cf-ray", "8abc-AMS")], "<!DOCTYPE html><html><head><title>example.com | 504: Gateway time-out</title></head><body>Cloudflare</body></html>").into_response()
    });
    let e = poll(&serve(app).await).await.unwrap_err();
    assert_eq!(e, GatewayError::Html { status: 504, title: "example.com | 504: Gateway time-out".into() });
}

#[tokio::test]
async fn a_20_megabyte_body_is_refused() {
    let app = alive().route(
        "/model/info",
        get(|| async {
            let chunk = vec![b' '; 1024 * 1024];
            let stream = futures::stream::iter((0..20).map(move |_| Ok::<_, std::io::Error>(chunk.clone())));
            Response::builder().header("content-type", "application/json").body(Body::from_stream(stream)).unwrap()
        }),
    );
    let s = poll(&serve(app).await).await.unwrap();
    assert!(matches!(s.deployments, Section::Failed(GatewayError::TooLarge { .. })), "{:?}", s.deployments);
}

#[tokio::test]
async fn tls_failure() {
    // Speak https to a plain-http server: the handshake fails.
    let url = serve(alive()).await.replace("http://", "https://");
    let e = poll(&url).await.unwrap_err();
    assert!(matches!(e, GatewayError::Tls { .. } | GatewayError::Connect { .. }), "{e:?}");
    assert!(e.to_string().to_ascii_lowercase().contains("tls") || e.to_string().contains("connect"), "{e}");
}

#[tokio::test]
async fn a_flapping_gateway_is_called_flapping() {
    let n = Arc::new(AtomicUsize::new(0));
    let app = Router::new().route(
        "/health/liveliness",
        get(move || {
            let n = n.clone();
            async move {
                // Up and down on alternate polls (each poll starts with liveliness).
                if n.fetch_add(1, Ordering::SeqCst).is_multiple_of(2) {
                    (StatusCode::OK, [("content-type", "application/json")], "\"I'm alive!\"").into_response()
                } else {
                    (
                        StatusCode::BAD_GATEWAY,
                        [("content-type", "text/html")],
                        "<html><title>502 Bad Gateway</title></html>",
                    )
                        .into_response()
                }
            }
        }),
    );
    let url = serve(app).await;
    let s = spec(&url);
    let gw: std::sync::Arc<dyn gatewatch::gateway::Gateway> =
        std::sync::Arc::new(LiteLlm::with_key(s.clone(), Some(Secret::new("sk-master-fault-0000"))));
    let mut fleet = Fleet::new(&[s]);
    for _ in 0..6 {
        let mut mem = Default::default();
        let report = gatewatch::poller::cycle(&gw, 0, &mut mem, None, None).await;
        fleet.apply_poll(report);
    }
    let g: &GatewayObs = &fleet.gateways[0];
    assert!(g.replicas[0].is_flapping(), "{:?}", g.replicas[0].recent);
    let ev = gatewatch::triage::evidence::evaluate(g, std::time::SystemTime::now());
    assert!(ev.get("gateway-reachable").unwrap().facts[0].contains("flapping"));
}

// ---- commands and actions ----

async fn run_restart(cmd: &str, timeout: Duration) -> Vec<ActionEvent> {
    let url = refused_url();
    let mut s = spec(&url);
    s.restart_command = Some(cmd.to_owned());
    s.action_timeout = timeout;
    s.verify_timeout = Duration::from_secs(1);
    let gw: Arc<dyn Gateway> = Arc::new(LiteLlm::with_key(s.clone(), None));
    let dir = tempfile::tempdir().unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    let exec = Executor::new(
        vec![gw],
        AuditLog::new(dir.path().join("audit.jsonl"), Redactor::default()),
        Redactor::default(),
        tx,
    );
    let obs = GatewayObs::new(s);
    let p = plan::plan(&obs, 0, GatewayAction::Restart, false);
    exec.start(1, p);
    let mut events = Vec::new();
    let deadline = Instant::now() + timeout + Duration::from_secs(10);
    while let Ok(Some(ev)) = tokio::time::timeout(deadline.saturating_duration_since(Instant::now()), rx.recv()).await {
        let done = matches!(ev.kind, ActionEventKind::Ended { .. });
        events.push(ev);
        if done {
            break;
        }
    }
    let audit = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    assert!(audit.contains("\"phase\":\"started\"") && audit.contains("\"phase\":\"finished\""), "{audit}");
    events
}

fn finished(events: &[ActionEvent]) -> (bool, String, Vec<String>) {
    events
        .iter()
        .find_map(|e| match &e.kind {
            ActionEventKind::Finished { ok, summary, detail } => Some((*ok, summary.clone(), detail.clone())),
            _ => None,
        })
        .expect("no Finished event")
}

#[tokio::test]
async fn restart_command_that_hangs_is_killed_and_reported() {
    let started = Instant::now();
    let ev = run_restart("sleep 60", Duration::from_millis(500)).await;
    let (ok, summary, _) = finished(&ev);
    assert!(!ok);
    assert!(summary.contains("timed out"), "{summary}");
    assert!(started.elapsed() < Duration::from_secs(8));
    assert!(matches!(&ev.last().unwrap().kind, ActionEventKind::Ended { outcome: Outcome::Failed, .. }));
}

#[tokio::test]
async fn restart_command_that_fails_shows_its_output() {
    let ev = run_restart("echo 'Error: No such container: litellm-proxy' >&2; exit 1", Duration::from_secs(5)).await;
    let (ok, summary, detail) = finished(&ev);
    assert!(!ok && summary.contains("exit 1"), "{summary}");
    assert!(detail.iter().any(|l| l.contains("No such container")), "{detail:?}");
}

#[tokio::test]
async fn restart_command_that_does_not_exist() {
    let ev = run_restart("gatewatch-no-such-restart-tool --now", Duration::from_secs(5)).await;
    let (ok, summary, _) = finished(&ev);
    assert!(!ok && summary.contains("command not found"), "{summary}");
}

#[tokio::test]
async fn two_actions_in_quick_succession_never_interleave() {
    let url = refused_url();
    let mut s = spec(&url);
    s.restart_command = Some("sleep 1".into());
    s.verify_timeout = Duration::from_millis(300);
    let gw: Arc<dyn Gateway> = Arc::new(LiteLlm::with_key(s.clone(), None));
    let dir = tempfile::tempdir().unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    let exec = Executor::new(
        vec![gw],
        AuditLog::new(dir.path().join("a.jsonl"), Redactor::default()),
        Redactor::default(),
        tx,
    );
    let obs = GatewayObs::new(s);
    exec.start(1, plan::plan(&obs, 0, GatewayAction::Restart, false));
    tokio::time::sleep(Duration::from_millis(50)).await;
    exec.start(2, plan::plan(&obs, 0, GatewayAction::Restart, false));
    let mut second = None;
    let mut first_events = 0;
    while let Ok(Some(ev)) = tokio::time::timeout(Duration::from_secs(10), rx.recv()).await {
        if ev.id == 2 {
            second = Some(ev.kind.clone());
        } else {
            first_events += 1;
        }
        if matches!(ev.kind, ActionEventKind::Ended { .. }) && ev.id == 1 {
            break;
        }
    }
    assert!(
        matches!(second, Some(ActionEventKind::Ended { outcome: Outcome::Refused, ref summary, .. }) if summary.contains("another action")),
        "{second:?}"
    );
    assert!(first_events >= 3);
}
