//! Hostile replica addresses and discovery output against the operator's
//! commands: every payload of issue 14 must do nothing beyond being shown.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use gatewatch::actions::audit::AuditLog;
use gatewatch::actions::exec::Executor;
use gatewatch::actions::plan;
use gatewatch::actions::{ActionEvent, ActionEventKind, GatewayAction};
use gatewatch::fleet::GatewayObs;
use gatewatch::gateway::Gateway;
use gatewatch::gateway::litellm::LiteLlm;
use gatewatch::secret::Redactor;

use crate::common::refused_url;

/// The payloads, with the marker file each would create if a shell ran it.
fn payloads(dir: &Path) -> Vec<(String, std::path::PathBuf)> {
    let m = |n: &str| dir.join(n);
    vec![
        (format!("http://127.0.0.1:41001/$(touch {})", m("x").display()), m("x")),
        (format!("http://127.0.0.1:41001/;touch {};#", m("y").display()), m("y")),
        (format!("http://127.0.0.1:41001/`touch {}`", m("z").display()), m("z")),
        (format!("http://x$(touch {})y:41001", m("h").display()), m("h")),
        ("http://-oProxyCommand=touch${IFS}/tmp/gw-never:41001".to_owned(), m("never")),
    ]
}

async fn run_to_end(
    exec: &Executor,
    id: u64,
    p: plan::Plan,
    rx: &mut tokio::sync::mpsc::Receiver<ActionEvent>,
) -> Vec<ActionEvent> {
    exec.start(id, p);
    let mut events = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while let Ok(Some(ev)) = tokio::time::timeout(deadline.saturating_duration_since(Instant::now()), rx.recv()).await {
        let done = matches!(ev.kind, ActionEventKind::Ended { .. });
        events.push(ev);
        if done {
            break;
        }
    }
    events
}

#[test]
fn hostile_replica_urls_block_the_command_and_run_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for (url, marker) in payloads(dir.path()) {
        let mut s = crate::spec("http://127.0.0.1:41000");
        s.replicas = vec!["http://127.0.0.1:41002".into(), url.clone()];
        s.restart_command = Some(format!("echo restarting {{url}} {{host}} >> {}", dir.path().join("log").display()));
        let p = plan::plan(&GatewayObs::new(s), 0, GatewayAction::Restart, false);
        let why = p.blocked.clone().unwrap_or_default();
        assert!(why.contains("cannot be put into the command"), "{url}: {p:?}");
        assert!(p.commands.is_empty(), "{url}: {:?}", p.commands);
        assert!(!why.contains('\x1b'));
        assert!(!marker.exists(), "{url} ran its payload");
    }
    assert!(!dir.path().join("log").exists(), "no command ran at all");
}

#[tokio::test]
async fn each_replica_gets_its_own_quoted_command_and_each_is_audited() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let mut s = crate::spec(&refused_url());
    // Odd but plain addresses; the template quotes {url} itself, in double quotes, in one place.
    s.replicas = vec![refused_url(), format!("{}/a,b", refused_url()), "http://[::1]:9".to_owned()];
    s.restart_command = Some(format!("printf '%s|%s\\n' \"{{url}}\" {{host}} >> '{}'", log.display()));
    s.action_timeout = Duration::from_secs(5);
    s.verify_timeout = Duration::from_millis(300);
    let gw: Arc<dyn Gateway> = Arc::new(LiteLlm::with_key(s.clone(), None));
    let audit_path = dir.path().join("state/audit.jsonl");
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    let exec = Executor::new(vec![gw], AuditLog::new(audit_path.clone(), Redactor::default()), Redactor::default(), tx);
    let p = plan::plan(&GatewayObs::new(s.clone()), 0, GatewayAction::Restart, false);
    assert_eq!(p.commands.len(), 3, "{p:?}");
    let events = run_to_end(&exec, 1, p.clone(), &mut rx).await;
    assert!(events.iter().any(|e| matches!(&e.kind, ActionEventKind::Finished { ok: true, .. })), "{events:?}");
    assert!(events.iter().any(|e| matches!(&e.kind, ActionEventKind::Ended { .. })), "the action ended: {events:?}");
    let written: Vec<String> = std::fs::read_to_string(&log).unwrap().lines().map(str::to_owned).collect();
    let want: Vec<String> = s
        .replicas
        .iter()
        .map(|u| {
            let host = reqwest::Url::parse(u).unwrap().host_str().unwrap().to_owned();
            format!("{u}|{host}")
        })
        .collect();
    assert_eq!(written, want, "each value arrived as one word");
    // The audit log holds each command line exactly as it ran, before and after.
    let audit = std::fs::read_to_string(&audit_path).unwrap();
    for line in &p.commands {
        let quoted = serde_json::to_string(line).unwrap();
        assert_eq!(audit.matches(&format!("\"command\":{quoted}")).count(), 2, "{line}\n{audit}");
    }
    assert_eq!(audit.matches("\"phase\":\"command\"").count(), 3);
    assert_eq!(audit.matches("\"phase\":\"command_ended\"").count(), 3);
}

#[tokio::test]
async fn a_registry_that_prints_payloads_gets_them_reported_not_run() {
    let dir = tempfile::tempdir().unwrap();
    let good = refused_url();
    let lines = [
        good.clone(),
        "http://127.0.0.1:41001/\x1b]0;retitled\x07".to_owned(),
        format!("https://not a url at all; touch {}", dir.path().join("a").display()),
        format!("http://127.0.0.1:41001/$(touch {})", dir.path().join("b").display()),
        format!("http://127.0.0.1:41001/`touch {}`", dir.path().join("c").display()),
    ];
    let script = dir.path().join("discover.txt");
    std::fs::write(&script, lines.join("\n")).unwrap();
    let mut s = crate::spec("http://127.0.0.1:41000");
    s.discover_command = Some(format!("cat '{}'", script.display()));
    s.restart_command = Some(format!("echo {{url}} >> '{}'", dir.path().join("log").display()));
    let gw: std::sync::Arc<dyn gatewatch::gateway::Gateway> = std::sync::Arc::new(LiteLlm::with_key(s.clone(), None));
    let mut mem = Default::default();
    let report = gatewatch::poller::cycle(&gw, 0, &mut mem, None, None).await;
    let urls: Vec<&str> = report.replicas.iter().map(|(u, _)| u.as_str()).collect();
    assert_eq!(urls, [good.as_str()], "only the plain URL is polled");
    let note = report.discovery_error.clone().expect("the rejected lines are reported");
    assert!(note.contains("4 line(s) rejected"), "{note}");
    assert!(!note.contains('\x1b') && note.contains("\\x1b"), "shown escaped: {note}");
    let mut fleet = gatewatch::fleet::Fleet::new(&[s]);
    fleet.apply_poll(report);
    assert!(fleet.timeline.entries().any(|e| e.text.contains("line(s) rejected")), "the rejection is on the timeline");
    let p = plan::plan(&fleet.gateways[0], 0, GatewayAction::Restart, false);
    assert_eq!(p.commands, [format!("echo {good} >> '{}'", dir.path().join("log").display())]);
    for m in ["a", "b", "c"] {
        assert!(!dir.path().join(m).exists(), "payload {m} ran");
    }
}

#[test]
fn the_dialog_lists_every_replica_command_and_scrolls_to_the_last() {
    use gatewatch::app::{App, Msg};
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    let mut s = crate::spec("http://10.0.0.1:4000");
    s.replicas = (1..=12).map(|i| format!("http://10.0.1.{i}:4000")).collect();
    s.restart_command = Some("ssh {host} 'sudo systemctl restart litellm' # {url}".into());
    let cfg = crate::common::config(vec![s]);
    let mut app = App::new(&cfg, gatewatch::triage::load::load(None).unwrap(), crate::common::t0());
    let key = |c: crossterm::event::KeyCode| {
        Msg::Key(crossterm::event::KeyEvent::new(c, crossterm::event::KeyModifiers::NONE))
    };
    app.update(Msg::Resize(100, 30));
    app.update(key(crossterm::event::KeyCode::Char('R')));
    let Some(c) = app.confirming() else { panic!("no confirmation: {:?}", app.overlay) };
    assert_eq!(c.plan.commands.len(), 12);
    let mut term = Terminal::new(TestBackend::new(100, 30)).unwrap();
    let screen = |app: &App, term: &mut Terminal<TestBackend>| {
        term.draw(|f| gatewatch::ui::draw(f, app, &gatewatch::ui::Theme::plain())).unwrap();
        term.backend().to_string()
    };
    let first = screen(&app, &mut term);
    assert!(first.contains("$ ssh 10.0.1.1 'sudo systemctl restart litellm' # http://10.0.1.1:4000"), "{first}");
    assert!(!first.contains("more)"), "no 'and N more': {first}");
    for _ in 0..40 {
        app.update(key(crossterm::event::KeyCode::Down));
    }
    let last = screen(&app, &mut term);
    assert!(last.contains("$ ssh 10.0.1.12 'sudo systemctl restart litellm' # http://10.0.1.12:4000"), "{last}");
    assert!(last.contains("[y] run"), "{last}");
}
