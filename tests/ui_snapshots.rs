//! Layer 2: buffer snapshots of every screen (ratatui `TestBackend` + insta),
//! at 80x24, 120x40 and 200x60, with a fixed clock and no colour.

#![allow(clippy::unwrap_used, clippy::default_trait_access, clippy::print_stderr)]

mod common;

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use gatewatch::app::{App, Msg};
use gatewatch::gateway::GatewayError;
use gatewatch::triage::load;
use gatewatch::ui::{self, Theme};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use common::*;

fn render(app: &App, w: u16, h: u16) -> String {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| ui::draw(f, app, &Theme::plain())).unwrap();
    term.backend().to_string()
}

fn key(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

fn stale() -> App {
    let mut a = App::new(&config(vec![litellm_spec()]), load::load(None).unwrap(), t0());
    a.update(Msg::Poll(Box::new(stale_key_report(t0()))));
    a.views.current_mut().unwrap().tree.selected = "p3-drift".into();
    a
}

#[test]
fn main_screen_with_key_drift() {
    let a = stale();
    for (w, h) in [(80, 24), (120, 40), (200, 60), (300, 80)] {
        let out = render(&a, w, h);
        // Small terminals show the focused pane (the tree) with the evidence under it.
        let drift = if w < 100 { "0 of 1 replicas hold the file's keys" } else { "DRIFT" };
        assert!(out.contains(drift), "{w}x{h}:\n{out}");
        assert!(!out.contains(OLD) && !out.contains(NEW));
        insta::assert_snapshot!(format!("main_stale_key_{w}x{h}"), out);
    }
}

#[test]
fn help_overlay() {
    let mut a = stale();
    a.update(key('?'));
    insta::assert_snapshot!("help_80x24", render(&a, 80, 24));
    insta::assert_snapshot!("help_120x40", render(&a, 120, 40));
}

#[test]
fn restart_confirmation() {
    let mut a = stale();
    a.update(key('R'));
    insta::assert_snapshot!("confirm_restart_80x24", render(&a, 80, 24));
    insta::assert_snapshot!("confirm_restart_120x40", render(&a, 120, 40));
}

#[test]
fn second_confirmation_names_the_problem() {
    let mut a = App::new(&config(vec![litellm_spec()]), load::load(None).unwrap(), t0());
    let mut r = stale_key_report(t0());
    let text = SHARED_CONFIG.replace("sk-master-fake-0000111122223333", "sk-1234");
    r.local = gatewatch::fleet::LocalView::with_config(gatewatch::gateway::litellm::config_file::parse(
        &text,
        std::path::Path::new("/etc/litellm/config.yaml"),
        &env,
    ));
    a.update(Msg::Poll(Box::new(r)));
    a.update(key('R'));
    a.update(key('y'));
    let out = render(&a, 120, 40);
    assert!(out.contains("SECOND CONFIRMATION"));
    insta::assert_snapshot!("confirm_second_120x40", out);
}

#[test]
fn node_details() {
    let mut a = stale();
    a.update(Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
    insta::assert_snapshot!("node_detail_120x40", render(&a, 120, 40));
}

#[test]
fn unreachable_gateway() {
    let mut a = App::new(&config(vec![litellm_spec()]), load::load(None).unwrap(), t0());
    a.update(Msg::Poll(Box::new(down_report(
        t0(),
        GatewayError::Html { status: 502, title: "502 Bad Gateway".into() },
    ))));
    a.update(Msg::Tick(t0() + Duration::from_secs(7)));
    let out = render(&a, 80, 24);
    assert!(out.contains("DOWN"), "{out}");
    insta::assert_snapshot!("unreachable_80x24", out);
}

#[test]
fn read_only_badge_and_blocked_action() {
    let mut cfg = config(vec![litellm_spec()]);
    cfg.read_only = true;
    let mut a = App::new(&cfg, load::load(None).unwrap(), t0());
    a.update(Msg::Poll(Box::new(stale_key_report(t0()))));
    a.update(key('R'));
    let out = render(&a, 80, 24);
    assert!(out.contains("READ-ONLY"));
    insta::assert_snapshot!("read_only_blocked_80x24", out);
}

#[test]
fn tiny_terminal_says_so() {
    let a = stale();
    let out = render(&a, 20, 5);
    assert!(out.contains("terminal"), "{out}");
    insta::assert_snapshot!("too_small_20x5", out);
}

/// Issue 17: a rebinding in the config shows in the help, the footer and the evidence.
#[test]
fn rebound_keys_show_in_help_footer_and_evidence() {
    let text = "gateways:\n  - name: litellm-prod\n    kind: litellm\n    url: http://127.0.0.1:4000\n    config_file: /etc/litellm/config.yaml\n    restart_command: docker restart litellm-proxy\nkeys:\n  restart: X\n  purge: none\n  help: f1\n";
    let cfg = gatewatch::config::parse(text, std::path::Path::new("/etc/gatewatch/config.yaml")).unwrap();
    let mut a = App::new(&cfg, load::load(None).unwrap(), t0());
    a.update(Msg::Poll(Box::new(stale_key_report(t0()))));
    let main = render(&a, 120, 40);
    assert!(main.contains("X restart") && !main.contains("R restart"), "the footer names the key in force:\n{main}");
    assert!(main.contains("F1 help") && !main.contains("? help"), "{main}");
    assert!(main.contains("X:restart") && !main.contains("R:restart"), "the evidence's action keys too:\n{main}");
    assert!(main.contains("Restart every worker (X)") && !main.contains("(R)"), "and the tree's prose:\n{main}");
    insta::assert_snapshot!("rebound_main_120x40", main);
    a.update(Msg::Key(KeyEvent::new(KeyCode::F(1), KeyModifiers::NONE)));
    let help = render(&a, 120, 40);
    assert!(help.contains("restart") && !help.contains("purge the Redis"), "{help}");
    insta::assert_snapshot!("rebound_help_120x40", help);
}

/// Issue 18: the palette with its completions; a timeline line whole; the
/// focused table at 80x24.
#[test]
fn palette_timeline_detail_and_focused_table() {
    let mut a = stale();
    a.update(key(':'));
    for c in "re".chars() {
        a.update(key(c));
    }
    let out = render(&a, 120, 40);
    assert!(out.contains("restart") && out.contains("reload"), "{out}");
    insta::assert_snapshot!("palette_120x40", out);
    a.update(Msg::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)));
    let long = format!("action litellm-prod: ✗ FAILED: {} — the end of a long line", "word ".repeat(60));
    a.model.fleet.timeline.push(t0(), Some(0), gatewatch::timeline::TimelineKind::Action, long);
    for _ in 0..3 {
        a.update(Msg::Key(KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE)));
    }
    a.update(Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
    let out = render(&a, 80, 24);
    assert!(out.contains("the end of a long"), "the whole line wraps:\n{out}");
    insta::assert_snapshot!("timeline_detail_80x24", out);
    a.update(Msg::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)));
    a.update(Msg::Key(KeyEvent::new(KeyCode::BackTab, KeyModifiers::NONE)));
    a.update(Msg::Key(KeyEvent::new(KeyCode::BackTab, KeyModifiers::NONE)));
    let out = render(&a, 80, 24);
    assert!(out.contains("gpt-4o-mini"), "{out}");
    insta::assert_snapshot!("focused_table_80x24", out);
}

/// Issue 19: the timeline's "what changed" view (changes and actions only),
/// and a deployment's details with its live traffic per replica: gpt-4o
/// fails on one replica of two, 401s, for half an hour.
#[test]
fn what_changed_and_live_traffic_per_replica() {
    use gatewatch::gateway::litellm::metrics::{DeploymentTraffic, Traffic};
    let mut a = stale();
    let replicas = ["http://10.0.0.11:4000", "http://10.0.0.12:4000"];
    let mut gpt4o = String::new();
    for k in 0..21u32 {
        let at = t0() + Duration::from_secs(u64::from(k) * 90);
        let mut r = stale_key_report(at);
        let snap = r.replicas.pop().unwrap().1.unwrap();
        r.replicas = replicas
            .iter()
            .enumerate()
            .map(|(i, url)| {
                let mut s = snap.clone();
                let mut t = Traffic { callback_on: true, ..Traffic::default() };
                if let gatewatch::gateway::Section::Ok(deps) = &s.deployments {
                    for d in deps.iter() {
                        let n = f64::from(k * 10);
                        let mut dt = DeploymentTraffic {
                            alias: d.name.as_str().into(),
                            requests: n,
                            successes: n,
                            ..Default::default()
                        };
                        // The first replica holds the old key: gpt-4o fails there, more and more since minute 15.
                        if d.name == "gpt-4o" && i == 0 {
                            gpt4o = d.id.to_string();
                            let failed = f64::from(k.saturating_sub(10).pow(2));
                            dt.failures = failed;
                            dt.requests = n + failed;
                            dt.state = Some(u8::from(failed > 0.0));
                            dt.errors.insert("401 AuthenticationError".into(), failed);
                        }
                        t.deployments.insert(d.id.as_str().into(), dt);
                    }
                }
                s.traffic = gatewatch::gateway::Section::Ok(t);
                ((*url).to_owned(), Ok(s))
            })
            .collect();
        if k == 12 {
            let c = |text: &str| gatewatch::changes::Change {
                gateway: "litellm-prod".into(),
                at: 0,
                since: 0,
                text: text.into(),
            };
            r.changes = vec![
                c("replica http://10.0.0.12:4000 joined"),
                c("key of os.environ/OPENAI_API_KEY changed in the file: sha256:1a2b3c4d → sha256:5e6f7a8b"),
            ];
        }
        a.update(Msg::Tick(at));
        a.update(Msg::Poll(Box::new(r)));
    }
    for _ in 0..3 {
        a.update(Msg::Key(KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE)));
    }
    a.update(key('/'));
    let out = render(&a, 120, 40);
    assert!(out.contains("What changed") && out.contains("replica http://10.0.0.12:4000 joined"), "{out}");
    assert!(!out.contains(" check "), "verdict lines are not changes:\n{out}");
    insta::assert_snapshot!("what_changed_120x40", out);
    a.update(Msg::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)));
    assert!(!a.views.timeline.changes_only, "Esc shows everything again");

    a.overlay = Some(gatewatch::app::Overlay::DeploymentDetail { id: gpt4o, scroll: 0 });
    let out = render(&a, 120, 40);
    assert!(out.contains("live (5 min)") && out.contains("401 AuthenticationError"), "{out}");
    let row = |url: &str| out.lines().find(|l| l.contains(url)).unwrap_or_default().to_owned();
    assert!(row("10.0.0.11").contains('█') && row("10.0.0.11").contains("failed"), "{out}");
    assert!(!row("10.0.0.12").contains('█'), "the healthy replica has no bars:\n{out}");
    insta::assert_snapshot!("deployment_live_120x40", out);
}
