//! The state directory gone wrong: read-only, full, or with symlinks planted
//! where gatewatch writes. The TUI must open and say so; no action may run
//! without an audit record unless the operator confirmed exactly that; no
//! file is ever written through a link.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use gatewatch::actions::audit::AuditLog;
use gatewatch::actions::exec::Executor;
use gatewatch::actions::plan;
use gatewatch::actions::{ActionEvent, ActionEventKind, GatewayAction, Outcome};
use gatewatch::fleet::GatewayObs;
use gatewatch::gateway::Gateway;
use gatewatch::gateway::litellm::LiteLlm;
use gatewatch::secret::Redactor;

use crate::common::{BIN, Tmux, refused_url};

/// A mount of our own, undone on drop.
struct Mount(PathBuf);

impl Mount {
    /// `mount` with `args` on `dir`, or `None` with a visible SKIPPED line
    /// when this user cannot mount (only root can; `GATEWATCH_REQUIRE_REAL`
    /// turns the skip into a failure).
    fn new(test: &str, dir: &Path, args: &[&str]) -> Option<Self> {
        let ok = nix::unistd::geteuid().is_root()
            && std::process::Command::new("mount").args(args).arg(dir).status().is_ok_and(|s| s.success());
        if ok {
            return Some(Self(dir.to_owned()));
        }
        crate::common::skip::skip(test, "needs root to mount a small tmpfs or a read-only bind");
        None
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// How a directory was made read-only.
enum ReadOnly {
    /// A read-only bind mount, undone on drop.
    Bind { _mount: Mount },
    /// Mode 0555 (enough when not root).
    Mode,
}

/// A read-only directory: a read-only bind as root (permissions do not stop
/// root), mode 0555 otherwise.
fn read_only_dir(test: &str, dir: &Path) -> Option<ReadOnly> {
    std::fs::create_dir_all(dir).unwrap();
    if nix::unistd::geteuid().is_root() {
        let m = Mount::new(test, dir, &["--bind", "-o", "ro", &dir.display().to_string()])?;
        // Older mount(8) ignores ro on the first bind: remount to be sure.
        let _ = std::process::Command::new("mount").args(["-o", "remount,bind,ro"]).arg(dir).status();
        assert!(std::fs::write(dir.join("probe"), "x").is_err(), "the bind is not read-only");
        Some(ReadOnly::Bind { _mount: m })
    } else {
        std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o555)).unwrap();
        Some(ReadOnly::Mode)
    }
}

async fn events_of(
    exec: &Executor,
    id: u64,
    p: plan::Plan,
    rx: &mut tokio::sync::mpsc::Receiver<ActionEvent>,
) -> Vec<ActionEvent> {
    exec.start(id, p);
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while let Ok(Some(ev)) = tokio::time::timeout(deadline.saturating_duration_since(Instant::now()), rx.recv()).await {
        let done = matches!(ev.kind, ActionEventKind::Ended { .. });
        out.push(ev);
        if done {
            break;
        }
    }
    out
}

/// How the action ended, and the words with it.
fn ended(events: &[ActionEvent]) -> (Outcome, String) {
    events
        .iter()
        .find_map(|e| match &e.kind {
            ActionEventKind::Ended { outcome, summary, .. } => Some((*outcome, summary.clone())),
            _ => None,
        })
        .expect("an Ended event")
}

#[tokio::test]
async fn a_full_disk_stops_the_action_until_the_operator_accepts_no_record() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    std::fs::create_dir(&state).unwrap();
    let Some(_m) =
        Mount::new("a_full_disk_stops_the_action", &state, &["-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs"])
    else {
        return;
    };
    // Fill it to the last byte.
    let mut filler = std::fs::File::create(state.join("filler")).unwrap();
    let chunk = vec![0u8; 4096];
    while std::io::Write::write_all(&mut filler, &chunk).is_ok() {}
    drop(filler);
    let marker = dir.path().join("restarted");
    let mut s = crate::spec(&refused_url());
    s.restart_command = Some(format!("touch '{}'", marker.display()));
    s.verify_timeout = Duration::from_millis(300);
    let gw: Arc<dyn Gateway> = Arc::new(LiteLlm::with_key(s.clone(), None));
    let audit = AuditLog::new(state.join("audit.jsonl"), Redactor::default());
    let probe = audit.probe().unwrap_err();
    assert!(probe.contains("full") || probe.contains("No space"), "{probe}");
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    let (wtx, mut wrx) = tokio::sync::mpsc::channel(16);
    let exec = Executor::new(vec![gw], audit, Redactor::default(), tx).with_audit_watch(wtx);
    let p = plan::plan(&GatewayObs::new(s), 0, GatewayAction::Restart, false);
    let (outcome, summary) = ended(&events_of(&exec, 1, p.clone(), &mut rx).await);
    assert_eq!(outcome, Outcome::Refused, "{summary}");
    assert!(summary.contains("audit log cannot be written"), "{summary}");
    assert!(!marker.exists(), "the restart ran without an audit record");
    let told = wrx.try_recv().expect("the app is told").expect("a problem");
    assert!(told.contains("No space left"), "{told}");
    assert_eq!(std::fs::metadata(state.join("audit.jsonl")).map_or(0, |m| m.len()), 0, "no half-written record");
    // With the operator's explicit consent (the second confirmation), it runs and says so.
    let mut p = p;
    p.require_unaudited_consent(&told);
    assert!(p.needs_second_confirmation());
    let events = events_of(&exec, 2, p, &mut rx).await;
    assert!(marker.exists(), "confirmed with Y: it runs");
    assert!(
        events
            .iter()
            .any(|e| matches!(&e.kind, ActionEventKind::Progress { line } if line.contains("WITHOUT an audit record"))),
        "{events:?}"
    );
    assert!(wrx.try_recv().is_ok_and(|p| p.is_some()), "each failed record is reported");
}

#[tokio::test]
async fn a_symlinked_audit_log_is_refused_and_its_target_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "precious\n").unwrap();
    std::fs::create_dir(dir.path().join("state")).unwrap();
    std::os::unix::fs::symlink(&victim, dir.path().join("state/audit.jsonl")).unwrap();
    let marker = dir.path().join("restarted");
    let mut s = crate::spec(&refused_url());
    s.restart_command = Some(format!("touch '{}'", marker.display()));
    s.verify_timeout = Duration::from_millis(300);
    let gw: Arc<dyn Gateway> = Arc::new(LiteLlm::with_key(s.clone(), None));
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    let exec = Executor::new(
        vec![gw],
        AuditLog::new(dir.path().join("state/audit.jsonl"), Redactor::default()),
        Redactor::default(),
        tx,
    );
    let (outcome, summary) =
        ended(&events_of(&exec, 1, plan::plan(&GatewayObs::new(s), 0, GatewayAction::Restart, false), &mut rx).await);
    assert_eq!(outcome, Outcome::Refused, "{summary}");
    assert!(!marker.exists());
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
}

#[test]
fn the_fingerprint_memory_never_writes_through_a_link() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let path = gatewatch::local::memory_path(&state, "gw");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let (v1, v2) = (dir.path().join("victim1"), dir.path().join("victim2"));
    std::fs::write(&v1, "one\n").unwrap();
    std::fs::write(&v2, "two\n").unwrap();
    // The old, predictable temp name and the file itself both point at victims.
    std::os::unix::fs::symlink(&v1, path.with_extension("json.tmp")).unwrap();
    std::os::unix::fs::symlink(&v2, &path).unwrap();
    gatewatch::local::save_memory(&path, &Default::default()).unwrap();
    assert_eq!(std::fs::read_to_string(&v1).unwrap(), "one\n");
    assert_eq!(std::fs::read_to_string(&v2).unwrap(), "two\n");
    let meta = std::fs::symlink_metadata(&path).unwrap();
    assert!(meta.is_file() && meta.mode() & 0o777 == 0o600, "{meta:?}");
}

#[test]
fn a_symlinked_log_file_is_refused_and_the_session_says_so() {
    // The only test in this binary that installs the (process-wide) logger.
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "precious\n").unwrap();
    std::os::unix::fs::symlink(&victim, dir.path().join("gatewatch.log")).unwrap();
    assert!(gatewatch::logging::init(dir.path()).is_none());
    match gatewatch::logging::status() {
        Some(gatewatch::logging::LogStatus::Off(why)) => assert!(why.contains("symbolic link"), "{why}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
}

#[test]
fn the_tui_opens_on_a_read_only_state_dir_and_asks_twice_before_acting_unaudited() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let Some(_ro) = read_only_dir("the_tui_opens_on_a_read_only_state_dir", &state) else { return };
    let marker = dir.path().join("restarted");
    let cmd = format!(
        "{BIN} --gateway litellm={} --state-dir {} --restart-command 'touch {}'; echo gatewatch-exit=$?; exec sleep 300",
        refused_url(),
        state.display(),
        marker.display()
    );
    let Some(t) = Tmux::start("the_tui_opens_on_a_read_only_state_dir", 140, 40, &cmd) else { return };
    let s = t.wait_for("the banner", Duration::from_secs(20), |s| s.contains("NO LOG FILE"));
    assert!(s.contains("NO AUDIT LOG"), "{s}");
    t.send("R");
    t.wait_for("the first confirmation", Duration::from_secs(10), |s| s.contains("you will be asked again"));
    t.send("y");
    let s = t.wait_for("the second confirmation", Duration::from_secs(10), |s| s.contains("SECOND CONFIRMATION"));
    assert!(s.contains("audit log cannot be written") && s.contains("WITHOUT an audit"), "{s}");
    t.send("Escape");
    t.wait_for("cancelled", Duration::from_secs(10), |s| s.contains("cancelled"));
    assert!(!marker.exists(), "nothing runs without consent");
    t.send("R");
    t.wait_for("the first confirmation", Duration::from_secs(10), |s| s.contains("you will be asked again"));
    t.send("y");
    t.wait_for("the second confirmation", Duration::from_secs(10), |s| s.contains("SECOND CONFIRMATION"));
    t.send("Y");
    t.wait_for("the timeline note", Duration::from_secs(20), |s| s.contains("AUDIT LOG NOT WRITTEN"));
    let deadline = Instant::now() + Duration::from_secs(10);
    while !marker.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(marker.exists(), "confirmed with Y: it ran");
    t.send("q");
    t.send("q");
    t.wait_for("exit", Duration::from_secs(20), |s| s.contains("gatewatch-exit=0"));
}

#[test]
fn the_app_asks_for_consent_while_the_audit_log_is_broken_and_keeps_every_failure_on_the_timeline() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use gatewatch::app::{App, Effect, Msg};
    let key = |c: char| Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
    let mut s = crate::spec("http://10.0.0.1:4000");
    s.restart_command = Some("docker restart litellm".into());
    let cfg = crate::common::config(vec![s]);
    let mut app = App::new(&cfg, gatewatch::triage::load::load(None).unwrap(), crate::common::t0());
    // Healthy: one y runs it.
    app.update(key('R'));
    let effects = app.update(key('y'));
    assert!(matches!(effects.as_slice(), [Effect::Run { plan, .. }] if !plan.unaudited), "{effects:?}");
    let end = |app: &mut App, effects: &[Effect]| {
        let [Effect::Run { id, .. }] = effects else { panic!("{effects:?}") };
        app.update(Msg::Action(gatewatch::actions::ActionEvent {
            id: *id,
            gateway: 0,
            at: crate::common::t0(),
            kind: gatewatch::actions::ActionEventKind::Ended {
                outcome: gatewatch::actions::Outcome::Verified,
                summary: "verified".into(),
                detail: vec![],
            },
        }));
    };
    end(&mut app, &effects);
    // The executor reports a record it could not sync: on the timeline, and the next action asks twice.
    app.update(Msg::AuditProblem(Some("/state/audit.jsonl (started record): No space left on device".into())));
    app.update(Msg::AuditProblem(Some("/state/audit.jsonl (ended record): No space left on device".into())));
    let notes = app.model.fleet.timeline.entries().filter(|e| e.text.starts_with("AUDIT LOG NOT WRITTEN")).count();
    assert_eq!(notes, 2, "every failure stays on the timeline");
    app.update(key('R'));
    assert!(app.update(key('y')).is_empty(), "one y is not enough");
    let Some(c) = app.confirming() else { panic!("{:?}", app.overlay) };
    assert!(c.second && c.plan.warnings.iter().any(|w| w.contains("WITHOUT an audit record")), "{c:?}");
    let effects = app.update(Msg::Key(KeyEvent::new(KeyCode::Char('Y'), KeyModifiers::SHIFT)));
    assert!(matches!(effects.as_slice(), [Effect::Run { plan, .. }] if plan.unaudited), "{effects:?}");
    end(&mut app, &effects);
    // Written again: back to one y.
    app.update(Msg::AuditProblem(None));
    app.update(key('R'));
    assert!(matches!(app.update(key('y')).as_slice(), [Effect::Run { .. }]));
}
