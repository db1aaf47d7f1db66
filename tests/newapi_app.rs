//! New API in the app: channels, traffic shares, starved and disabled
//! channels flagged, and the keyboard actions (test, enable/disable, update
//! all balances behind a second confirmation). Layers 1 and 2.

#![allow(clippy::unwrap_used, clippy::default_trait_access, clippy::print_stderr)]

mod common;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use gatewatch::actions::GatewayAction;
use gatewatch::app::{App, Effect, Msg, Overlay, Pane};
use gatewatch::triage::evidence::Verdict;
use gatewatch::triage::load;
use gatewatch::ui::{self, Theme};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use common::*;

fn key(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

async fn app() -> App {
    let (spec, report) = newapi_report(0).await;
    let mut a = App::new(&config(vec![spec]), load::load(None).unwrap(), t0());
    a.update(Msg::Poll(Box::new(report)));
    a
}

fn render(app: &App, w: u16, h: u16) -> String {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| ui::draw(f, app, &Theme::plain())).unwrap();
    term.backend().to_string()
}

fn select(a: &mut App, name: &str) {
    a.focus = Pane::Deployments;
    let deps = a.current().unwrap().deployments().to_vec();
    a.table.selected = a.table.rows.iter().position(|&i| deps[i].name == name).unwrap();
}

#[tokio::test]
async fn starved_and_disabled_channels_are_flagged() {
    let a = app().await;
    let ev = a.current_evidence().unwrap();
    let starve = ev.get("newapi-weight-starvation").unwrap();
    assert_eq!(starve.verdict, Verdict::Fail);
    assert!(starve.facts.iter().any(|f| f.contains("openai-backup") && f.contains("weight 0")), "{starve:?}");
    let bal = ev.get("newapi-balance-disabled").unwrap();
    assert_eq!(bal.verdict, Verdict::Warn);
    assert!(bal.facts.iter().any(|f| f.contains("openai-eu") && f.contains("401")), "{bal:?}");
    assert_eq!(ev.get("newapi-group-mismatch").unwrap().verdict, Verdict::Fail);
    assert_eq!(ev.get("newapi-mapping-target").unwrap().verdict, Verdict::Fail);
    // LiteLLM-only checks say so instead of guessing.
    assert_eq!(ev.get("fallback-cost").unwrap().verdict, Verdict::NotApplicable);
    // The share column: the starved channel gets 0 %, its weighted neighbour all of it.
    let derived = &a.derived[0];
    let id = |n: &str| a.current().unwrap().deployments().iter().find(|d| d.name == n).unwrap().id.clone();
    assert_eq!(derived.share.get(&id("openai-backup")), Some(&0.0));
    assert!(derived.share.get(&id("openai-main")).unwrap() > &0.5);
}

#[tokio::test]
async fn channel_screens() {
    let mut a = app().await;
    a.focus = Pane::Deployments;
    let out = render(&a, 120, 40);
    assert!(out.contains("openai-backup") && out.contains("Share"), "{out}");
    assert!(out.contains("not readable with an access token"));
    insta::assert_snapshot!("newapi_channels_120x40", out);
    insta::assert_snapshot!("newapi_channels_80x24", render(&a, 80, 24));
    select(&mut a, "openai-eu");
    a.update(Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
    let detail = render(&a, 120, 40);
    assert!(detail.contains("status reason") && detail.contains("401"), "{detail}");
    insta::assert_snapshot!("newapi_channel_detail_120x40", detail);
}

#[tokio::test]
async fn test_and_toggle_from_the_keyboard() {
    let mut a = app().await;
    select(&mut a, "openai-eu");
    a.update(key('t'));
    let Some(Overlay::Confirm(c)) = &a.overlay else { panic!("{:?}", a.overlay) };
    assert!(matches!(&c.plan.action, GatewayAction::TestChannel { name, .. } if name == "openai-eu"));
    assert_eq!(c.plan.paid_requests, Some(1));
    let fx = a.update(key('n'));
    assert!(fx.is_empty() && a.overlay.is_none());
    a.update(key('x'));
    let Some(Overlay::Confirm(c)) = &a.overlay else { panic!() };
    assert!(
        matches!(&c.plan.action, GatewayAction::SetChannelEnabled { enable: true, .. }),
        "an auto-disabled channel is offered for enabling"
    );
    assert!(c.plan.effect.iter().any(|e| e.contains("SYNC_FREQUENCY")));
    let fx = a.update(key('y'));
    assert!(matches!(fx.as_slice(), [Effect::Run { .. }]));
}

#[tokio::test]
async fn update_all_balances_needs_two_confirmations() {
    let mut a = app().await;
    a.update(key('B'));
    let Some(Overlay::Confirm(c)) = &a.overlay else { panic!() };
    assert!(c.plan.warnings[0].contains("DISABLES"));
    let out = render(&a, 100, 30);
    assert!(out.contains("you will be asked again"), "{out}");
    assert!(a.update(key('y')).is_empty());
    let out = render(&a, 100, 30);
    assert!(out.contains("even with automatic disabling switched off"), "{out}");
    assert!(a.update(key('y')).is_empty());
    assert!(matches!(a.update(key('Y')).as_slice(), [Effect::Run { .. }]));
}

#[tokio::test]
async fn litellm_actions_are_refused_with_the_reason() {
    let mut a = app().await;
    a.update(key('p'));
    let Some(Overlay::Blocked(p)) = &a.overlay else { panic!() };
    assert!(p.blocked.as_deref().unwrap().contains("no cache purge endpoint"));
    a.update(key('z'));
    a.update(key('r'));
    let Some(Overlay::Blocked(p)) = &a.overlay else { panic!() };
    assert!(p.blocked.as_deref().unwrap().contains("SYNC_FREQUENCY"));
}

#[tokio::test]
async fn filter_by_status_and_group() {
    let mut a = app().await;
    a.update(key('/'));
    for c in "status:auto".chars() {
        a.update(key(c));
    }
    assert!(!a.table.rows.is_empty());
    let deps = a.current().unwrap().deployments();
    assert!(a.table.rows.iter().all(|&i| deps[i].status == gatewatch::gateway::DeploymentStatus::AutoDisabled));
}

#[tokio::test]
async fn error_log_names_feed_the_model_check() {
    let a = app().await;
    let f = a.current_evidence().unwrap().get("model-name-mismatch").unwrap();
    assert_eq!(f.verdict, Verdict::Fail, "{f:?}");
    assert!(
        f.facts.iter().any(|x| x.contains("\"gpt-4.1\": served by the gateway, but the upstream rejects the name")),
        "{f:?}"
    );
    assert!(f.facts.iter().any(|x| x.contains("error log: \"gpt-4o\"") && x.contains("429")), "{f:?}");
}

/// Each New API action key, failed or not verified: the app is ready for the
/// next action at once (no spinner left behind, one q quits).
#[tokio::test]
async fn every_failed_channel_action_leaves_the_app_ready() {
    use gatewatch::actions::{ActionEvent, ActionEventKind, Outcome};
    let mut ran = String::new();
    for action_key in ['t', 'T', 'b', 'B', 'x'] {
        for outcome in [Outcome::Failed, Outcome::NotVerified] {
            let mut a = app().await;
            select(&mut a, "openai-eu");
            a.update(key(action_key));
            assert!(matches!(a.overlay, Some(Overlay::Confirm(_))), "{action_key}: {:?}", a.overlay);
            let mut id = None;
            for k in ['y', 'Y'] {
                if let [Effect::Run { id: i, .. }] = a.update(key(k)).as_slice() {
                    id = Some(*i);
                    break;
                }
            }
            let id = id.unwrap_or_else(|| panic!("{action_key} did not start"));
            if outcome == Outcome::Failed {
                ran.push(action_key);
            }
            let at = t0() + std::time::Duration::from_secs(1);
            let summary = "HTTP 500: Internal Server Error";
            a.update(Msg::Action(ActionEvent {
                id,
                gateway: 0,
                at,
                kind: ActionEventKind::Ended { outcome, summary: summary.into(), detail: vec![] },
            }));
            assert!(a.running.is_none(), "{action_key} {outcome:?}");
            assert!(a.flash.as_ref().unwrap().0.contains(summary));
            a.update(key('t'));
            assert!(matches!(a.overlay, Some(Overlay::Confirm(_))), "{action_key} {outcome:?}: {:?}", a.overlay);
        }
    }
    assert_eq!(ran, "tTbBx");
}
