//! Secrets a gateway echoes back, secrets written in the LiteLLM config and
//! repeated by a command, and credential variables in child commands.

use std::path::Path;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;

use crate::common::{BIN, Tmux, refused_url, serve};
use crate::scan;

/// Master keys of the shapes operators use (none of them `sk-` + 16).
const TOKENS: [&str; 7] = [
    "master-Not-sk-shaped-0123456789",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJnYXRld2F0Y2gifQ.c2lnbmF0dXJlLXZhbHVlLTEyMzQ",
    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b",
    "Xy7Gk2LmNp4QrS8tUv1WzA3bCd5EfHiJ",
    "dGVzdC10b2tlbi8rPT0xMjM0NTY3ODkwYWI=",
    "tok-9x7Q2zz",
    "3f2b8c1e-9d4a-4e7b-b6c2-1a5f0e9d8c7b",
];

/// A token gatewatch never had: another client's, echoed by the gateway.
const STRANGER: &str = "other-client-token-5566778899";

/// Echoes the bearer token it receives, the way LiteLLM 1.106.12 does for a
/// key that does not start with `sk-` (`Key Hash (Token) =<the key>`), as a
/// bare `Bearer …`, in a JSON detail and an HTML title; and a stranger's token.
fn echoing() -> Router {
    fn token(h: &HeaderMap) -> String {
        h.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("").trim_start_matches("Bearer ").to_owned()
    }
    let auth_error = |h: HeaderMap| async move {
        let t = token(&h);
        let tail: String = t.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
        let msg = format!(
            "Authentication Error, Invalid proxy server token passed. Received API Key = sk-...{tail}, Key Hash (Token) ={t} (previous: Key Hash (Token) ={STRANGER}). Unable to find token in cache or `LiteLLM_VerificationTokenTable`"
        );
        (
            StatusCode::UNAUTHORIZED,
            [("content-type", "application/json")],
            serde_json::json!({"error": {"message": msg, "type": "auth_error", "param": "None", "code": "401"}})
                .to_string(),
        )
    };
    Router::new()
        .route("/health/liveliness", get(|| async { ([("content-type", "application/json")], "\"I'm alive!\"") }))
        .route("/model/info", get(auth_error))
        .route("/health/readiness/details", get(auth_error))
        .route(
            "/get/config/callbacks",
            get(|h: HeaderMap| async move {
                let body = serde_json::json!({"detail": format!("token {} is not an admin; Bearer {STRANGER} neither", token(&h))});
                (StatusCode::FORBIDDEN, [("content-type", "application/json")], body.to_string())
            }),
        )
        .route(
            "/cache/ping",
            get(|h: HeaderMap| async move {
                (StatusCode::BAD_GATEWAY, [("content-type", "text/html")], format!("<title>denied {}</title>", token(&h)))
                    .into_response()
            }),
        )
        .route(
            "/v1/models",
            get(|h: HeaderMap| async move {
                (StatusCode::INTERNAL_SERVER_ERROR, format!("upstream said: Authorization: Bearer {}", token(&h)))
            }),
        )
}

#[tokio::test]
async fn echoed_tokens_of_every_shape_stay_out_of_check() {
    let url = serve(echoing()).await;
    let dir = tempfile::tempdir().unwrap();
    for t in TOKENS {
        for format in [&[][..], &["--json"][..], &["--format", "prometheus"][..]] {
            let out = tokio::process::Command::new(BIN)
                .args(["check", "--gateway", &format!("litellm={url}"), "--state-dir"])
                .arg(dir.path())
                .args(format)
                .env("LITELLM_MASTER_KEY", t)
                .output()
                .await
                .unwrap();
            let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
            scan(&format!("check {format:?} with a {}-char key", t.len()), &all, &[t, STRANGER]);
            if format.is_empty() {
                assert!(all.contains("credential refused") || all.contains("Authentication Error"), "{all}");
            }
        }
    }
}

#[test]
fn echoed_tokens_stay_off_the_screen_the_report_and_the_log() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let url = rt.block_on(serve(echoing()));
    let state = tempfile::tempdir().unwrap();
    let token = TOKENS[0];
    let cmd = format!(
        "env LITELLM_MASTER_KEY={token} GATEWATCH_LOG=trace NO_COLOR=1 {BIN} --gateway litellm={url} --state-dir {}; echo gatewatch-exit=$?; exec sleep 300",
        state.path().display()
    );
    let Some(t) = Tmux::start("echoed_tokens_stay_off_the_screen", 140, 45, &cmd) else { return };
    let mut screens = vec![t.wait_for("the auth refusal", Duration::from_secs(30), |s| s.contains("AUTH REFUSED"))];
    for keys in [&["Tab", "Enter"][..], &["Escape", "Tab", "Tab"][..]] {
        for k in keys {
            t.send(k);
        }
        std::thread::sleep(Duration::from_millis(500));
        screens.push(t.capture());
    }
    t.send("e");
    screens.push(t.wait_for("the export", Duration::from_secs(20), |s| s.contains("incident report exported to")));
    t.send("q");
    t.wait_for("exit", Duration::from_secs(20), |s| s.contains("gatewatch-exit=0"));
    for (i, s) in screens.iter().enumerate() {
        scan(&format!("screen {i}"), s, &[token, STRANGER]);
    }
    let mut files = 0;
    crate::scan_tree(state.path(), &[token, STRANGER], &mut files);
    assert!(files >= 2, "the log and the report were scanned ({files})");
    let report = std::fs::read_dir(state.path().join("reports")).unwrap().next().unwrap().unwrap().path();
    let text = std::fs::read_to_string(report).unwrap();
    assert!(text.contains("[redacted sha256:") || text.contains("[key sha256:"), "the echo is there, masked:\n{text}");
}

/// A LiteLLM config with keys written in it (not `sk-` + 16, so no shape
/// rule would catch them): gatewatch must learn them from the file.
fn literal_config(dir: &Path) -> std::path::PathBuf {
    let p = dir.join("config.yaml");
    std::fs::write(
        &p,
        "model_list:\n  - model_name: gpt-4o\n    litellm_params:\n      model: openai/gpt-4o\n      api_key: literal-key-Not-sk-shaped-0001\n      extra_headers: {X-Org-Token: literal-header-value-0002}\ngeneral_settings:\n  master_key: literal-master-0003-xyz\n",
    )
    .unwrap();
    p
}

const LITERALS: [&str; 3] = ["literal-key-Not-sk-shaped-0001", "literal-header-value-0002", "literal-master-0003-xyz"];

#[test]
fn literal_keys_repeated_by_commands_stay_hidden() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = literal_config(dir.path());
    let state = dir.path().join("state");
    let gw = dir.path().join("gw.yaml");
    // Both commands print the config (as a broken script might) and fail.
    std::fs::write(
        &gw,
        format!(
            "state_dir: {}\ngateways:\n  - name: lit\n    kind: litellm\n    url: {}\n    config_file: {}\n    restart_command: \"cat {} | tr '\\\\n' ' '; exit 1\"\n    validate_command: \"cat {}; exit 1\"\n",
            state.display(),
            refused_url(),
            cfg.display(),
            cfg.display(),
            cfg.display()
        ),
    )
    .unwrap();
    let cmd =
        format!("env GATEWATCH_LOG=trace {BIN} --config {}; echo gatewatch-exit=$?; exec sleep 300", gw.display());
    let Some(t) = Tmux::start("literal_keys_repeated_by_commands_stay_hidden", 140, 45, &cmd) else { return };
    let mut screens = vec![t.wait_for("the first poll", Duration::from_secs(30), |s| s.contains("DOWN"))];
    t.send("R");
    screens.push(t.wait_for("the validation", Duration::from_secs(30), |s| s.contains("validate_command FAILED")));
    t.send("y");
    screens.push(t.wait_for("the second confirmation", Duration::from_secs(10), |s| s.contains("SECOND CONFIRMATION")));
    t.send("Y");
    // "validate_command FAILED" is already on screen: wait for the restart's own end in the timeline,
    // or a later flash (the action's outcome) can replace the export's before it is captured.
    screens.push(t.wait_for("the failure", Duration::from_secs(30), |s| s.contains("action lit: ✗ FAILED")));
    t.send("e");
    screens.push(t.wait_for("the export", Duration::from_secs(20), |s| s.contains("incident report exported to")));
    t.send("q");
    t.send("q");
    t.wait_for("exit", Duration::from_secs(20), |s| s.contains("gatewatch-exit=0"));
    for (i, s) in screens.iter().enumerate() {
        scan(&format!("screen {i}"), s, &LITERALS);
    }
    let mut files = 0;
    crate::scan_tree(&state, &LITERALS, &mut files);
    assert!(state.join("audit.jsonl").exists());
    let report = std::fs::read_dir(state.join("reports")).unwrap().next().unwrap().unwrap().path();
    let text = std::fs::read_to_string(report).unwrap();
    assert!(text.contains("[redacted sha256:"), "the command output is in the report, masked:\n{text}");
    assert!(files >= 3, "{files}");
}

#[tokio::test]
async fn child_commands_get_no_credential_variable_unless_passed() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.yaml");
    std::fs::write(
        &cfg,
        "model_list:\n  - model_name: a\n    litellm_params: {model: openai/a, api_key: os.environ/UPSTREAM_X}\n",
    )
    .unwrap();
    let (a_env, b_env, v_env) = (dir.path().join("a.env"), dir.path().join("b.env"), dir.path().join("v.env"));
    let url = refused_url();
    let gw = dir.path().join("gw.yaml");
    std::fs::write(
        &gw,
        format!(
            "state_dir: {state}\ngateways:\n  - name: a\n    kind: litellm\n    url: {url}\n    credential_env: GW_TOKEN_A\n    config_file: {cfg}\n    discover_command: \"env > {a}; echo {url}\"\n    validate_command: \"env > {v}\"\n  - name: b\n    kind: newapi\n    url: {url}\n    credential_env: GW_TOKEN_B\n    pass_env: [GW_TOKEN_B]\n    discover_command: \"env > {b}; echo {url}\"\n",
            state = dir.path().join("state").display(),
            cfg = cfg.display(),
            a = a_env.display(),
            b = b_env.display(),
            v = v_env.display(),
        ),
    )
    .unwrap();
    let out = tokio::process::Command::new(BIN)
        .args(["check", "--config"])
        .arg(&gw)
        .env("GW_TOKEN_A", "token-a-value-000111")
        .env("GW_TOKEN_B", "token-b-value-000222")
        .env("UPSTREAM_X", "upstream-x-value-000333")
        .output()
        .await
        .unwrap();
    assert!(out.status.code().is_some(), "{out:?}");
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    for (file, forbidden, allowed) in [
        (&a_env, &["token-a-value", "token-b-value", "upstream-x-value"][..], &[][..]),
        (&v_env, &["token-a-value", "token-b-value", "upstream-x-value"][..], &[][..]),
        (&b_env, &["token-a-value", "upstream-x-value"][..], &["GW_TOKEN_B=token-b-value-000222"][..]),
    ] {
        let env = read(file);
        assert!(env.contains("PATH="), "the rest of the environment is kept");
        for f in forbidden {
            assert!(!env.contains(f), "{f} reached {}", file.display());
        }
        for a in allowed {
            assert!(env.contains(a), "{a} was listed in pass_env but missing in {}", file.display());
        }
    }
}
