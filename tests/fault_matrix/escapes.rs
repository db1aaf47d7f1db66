//! The escape corpus: a gateway whose model names, version, error texts and
//! HTML titles carry terminal escapes (retitle, clear, OSC 52 clipboard), a
//! forged `Result: OK` line, Markdown, bidi overrides, zero-width and ZWJ
//! characters. `check`, the report and the TUI must show them harmlessly.

use axum::Router;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::json;

use gatewatch::sanitize::is_hidden;

use crate::common::{BIN, serve};

const NAMES: [&str; 6] = [
    "gpt-4o\x1b[2J\x1b[H",
    "clip\x1b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\x07",
    "evil\nResult: OK (exit 0)",
    "[click](http://evil.example) <img src=x> | cell",
    "admin\u{202e}fdp.exe\u{200b}",
    "fam \u{1f468}\u{200d}\u{1f469}\u{200d}\u{1f467}\u{fe0f} \u{9b}31m",
];

/// Up on the first liveness check, then down behind a proxy page whose
/// title is the whole corpus.
fn hostile() -> Router {
    let ok = |v: serde_json::Value| ([("content-type", "application/json")], v.to_string()).into_response();
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    Router::new()
        .route(
            "/health/liveliness",
            get(move || {
                let calls = calls.clone();
                async move {
                    if calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
                        ([("content-type", "application/json")], "\"I'm alive!\"").into_response()
                    } else {
                        let title = NAMES.join(" ");
                        (StatusCode::BAD_GATEWAY, [("content-type", "text/html")], format!("<html><title>{title}</title></html>"))
                            .into_response()
                    }
                }
            }),
        )
        .route(
            "/health/readiness/details",
            get(move || async move {
                ok(json!({"status": "healthy", "db": "\x1b]52;c;ZGI=\x07", "cache": null,
                    "litellm_version": "1.106.12\x1b]0;pwned title\x07\u{202e}"}))
            }),
        )
        .route(
            "/model/info",
            get(move || async move {
                let data: Vec<_> = NAMES
                    .iter()
                    .enumerate()
                    .map(|(i, n)| json!({"model_name": n, "litellm_params": {"model": format!("openai/{n}")}, "model_info": {"id": format!("id{i}")}}))
                    .collect();
                ok(json!({ "data": data }))
            }),
        )
        .route(
            "/v1/models",
            get(move || async move { ok(json!({"data": NAMES.iter().map(|n| json!({"id": n})).collect::<Vec<_>>()})) }),
        )
        .route(
            "/get/config/callbacks",
            get(|| async {
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    [("content-type", "application/json")],
                    json!({"error": {"message": "boom \x1b[31mred\x1b[0m\nResult: OK (exit 0)", "type": "x", "code": "500"}}).to_string(),
                )
            }),
        )
        .route(
            "/cache/ping",
            get(|| async {
                (
                    StatusCode::BAD_GATEWAY,
                    [("content-type", "text/html")],
                    "<html><head><title>bad \u{202e}gateway\u{200b} \x1b]0;t\x07</title></head></html>",
                )
            }),
        )
}

/// No raw control (C0 except line feed, C1), escape, bidi or hidden character.
fn assert_harmless(what: &str, text: &str) {
    for c in text.chars() {
        assert!(c == '\n' || !(c.is_control() || is_hidden(c)), "{what}: raw {c:?} in\n{text}");
    }
}

#[tokio::test]
async fn check_shows_the_corpus_escaped_and_cannot_forge_a_result_line() {
    let url = serve(hostile()).await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("gw.yaml");
    std::fs::write(
        &cfg,
        format!("state_dir: {}\nclient_models: [gpt-4o-typo]\ngateways:\n  - name: hostile\n    kind: litellm\n    url: {url}\n", dir.path().join("state").display()),
    )
    .unwrap();
    let out = tokio::process::Command::new(BIN)
        .args(["check", "--config"])
        .arg(&cfg)
        .env("LITELLM_MASTER_KEY", "sk-master-escape-test-0000000000")
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_harmless("check stdout", &stdout);
    assert_harmless("check stderr", &stderr);
    assert_eq!(stdout.lines().filter(|l| l.trim_start().starts_with("Result:")).count(), 1, "{stdout}");
    assert!(stdout.lines().last().is_some_and(|l| l.starts_with("Result:") && !l.contains("OK")), "{stdout}");
    // The payloads did reach the output, as visible escapes.
    assert!(stdout.contains("\\x1b") && stdout.contains("\\u{202e}"), "{stdout}");
    // --json is data (serde escapes controls); it never carries a raw ESC either.
    let out = tokio::process::Command::new(BIN)
        .args(["check", "--json", "--config"])
        .arg(&cfg)
        .env("LITELLM_MASTER_KEY", "sk-master-escape-test-0000000000")
        .output()
        .await
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout).contains('\x1b'));
}

#[tokio::test]
async fn the_report_and_the_screen_show_the_corpus_harmlessly() {
    use gatewatch::app::{App, Msg};
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    let url = serve(hostile()).await;
    let mut s = crate::spec(&url);
    s.client_models = vec!["gpt-4o-typo".into()];
    let gw: std::sync::Arc<dyn gatewatch::gateway::Gateway> =
        std::sync::Arc::new(gatewatch::gateway::litellm::LiteLlm::with_key(
            s.clone(),
            Some(gatewatch::secret::Secret::new("sk-master-escape-test-0000000000")),
        ));
    let mut mem = Default::default();
    let tree = gatewatch::triage::load::load(None).unwrap();
    let cfg = crate::common::config(vec![s]);
    let mut app = App::new(&cfg, tree.clone(), crate::common::t0());
    // Up (names, version, errors in the panes), then down (the corpus on the timeline).
    let up = gatewatch::poller::cycle(&gw, 0, &mut mem, None, None).await;
    let down = gatewatch::poller::cycle(&gw, 0, &mut mem, None, None).await;
    assert!(down.replicas[0].1.is_err());
    app.update(Msg::Poll(Box::new(up.clone())));
    app.update(Msg::Poll(Box::new(down)));
    let t = crate::common::t0();
    let md = gatewatch::report::markdown(&app.model.fleet, &app.model.evidence, &tree, t, t);
    assert_harmless("report", &md);
    assert!(md.contains("\\\\x1b"), "the payload is in the report, escaped: {md}");
    assert!(!md.contains("[click](") && md.contains("\\[click\\]"), "{md}");
    assert!(!md.contains(" <img") && md.contains("\\<img"), "{md}");
    assert!(!md.lines().any(|l| l.starts_with("Result:")), "{md}");
    // The TUI, with the names in the table: no hidden character in any
    // cell, borders where they belong.
    app.update(Msg::Poll(Box::new(up)));
    for (w, h) in [(120u16, 40u16), (200, 60)] {
        let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
        for focus in 0..4 {
            term.draw(|f| gatewatch::ui::draw(f, &app, &gatewatch::ui::Theme::plain())).unwrap();
            let buf = term.backend().buffer().clone();
            for (i, cell) in buf.content.iter().enumerate() {
                assert!(
                    !cell.symbol().chars().any(|c| is_hidden(c) || c.is_control()),
                    "cell {i}: {:?}",
                    cell.symbol()
                );
            }
            // Every row of the body ends with a border in the last column.
            for y in 2..h - 2 {
                let last = buf[(w - 1, y)].symbol();
                assert!(matches!(last, "│" | "┐" | "┘" | "┤"), "{w}x{h} focus {focus} row {y}: {last:?}");
            }
            app.update(Msg::Key(crossterm::event::KeyEvent::new(
                crossterm::event::KeyCode::Tab,
                crossterm::event::KeyModifiers::NONE,
            )));
        }
    }
}
