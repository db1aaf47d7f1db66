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
    app_with(None).await
}

/// The demo incident, with `memory_cache:` as the operator declared it (or not).
async fn app_with(memory_cache: Option<bool>) -> App {
    let (mut spec, report) = newapi_report(0).await;
    spec.memory_cache = memory_cache;
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
    a.views.focus = Pane::Deployments;
    let deps = a.current().unwrap().deployments().to_vec();
    a.views.current_mut().unwrap().table.selected =
        a.table().unwrap().rows.iter().position(|&i| deps[i].name == name).unwrap();
}

#[tokio::test]
async fn starved_and_disabled_channels_are_flagged() {
    // memory_cache not declared: New API's default (off) is assumed, and said.
    let a = app().await;
    let ev = a.current_evidence().unwrap();
    let starve = ev.get("newapi-weight-starvation").unwrap();
    assert_eq!(starve.verdict, Verdict::Warn, "never a failure on an assumed mode: {starve:?}");
    assert!(starve.facts.iter().any(|f| f.contains("#2 openai-backup gets 6% of gpt-4o")), "{starve:?}");
    assert!(
        starve.facts.iter().any(|f| f.contains("with MEMORY_CACHE_ENABLED=true") && f.contains("#2 would get none")),
        "{starve:?}"
    );
    assert!(starve.facts.iter().any(|f| f.contains("assumed off")), "{starve:?}");
    let bal = ev.get("newapi-balance-disabled").unwrap();
    assert_eq!(bal.verdict, Verdict::Warn);
    assert!(bal.facts.iter().any(|f| f.contains("openai-eu") && f.contains("401")), "{bal:?}");
    assert_eq!(ev.get("newapi-group-mismatch").unwrap().verdict, Verdict::Fail);
    assert_eq!(ev.get("newapi-mapping-target").unwrap().verdict, Verdict::Fail);
    // LiteLLM-only checks say so instead of guessing.
    assert_eq!(ev.get("fallback-cost").unwrap().verdict, Verdict::NotApplicable);
    // The share column on the DB path: weight + 10 each (100, 0, 50 -> 110:10:60).
    let derived = &a.model.derived[0];
    let id = |n: &str| a.current().unwrap().deployments().iter().find(|d| d.name == n).unwrap().id.clone();
    let share = |n: &str| *derived.share.get(id(n).as_str()).unwrap();
    assert!((share("openai-backup") - 10.0 / 180.0).abs() < 1e-9);
    assert!(share("openai-main") > 0.6, "the best of its pairs (it alone serves gpt-4.1)");
}

#[tokio::test]
async fn the_declared_cache_mode_decides() {
    // With the memory cache on (declared), weight 0 beside weighted channels gets nothing: a failure.
    let a = app_with(Some(true)).await;
    let starve = a.current_evidence().unwrap().get("newapi-weight-starvation").unwrap().clone();
    assert_eq!(starve.verdict, Verdict::Fail, "{starve:?}");
    assert!(starve.facts.iter().any(|f| f.contains("openai-backup") && f.contains("gets 0%")), "{starve:?}");
    let id = a.current().unwrap().deployments().iter().find(|d| d.name == "openai-backup").unwrap().id.clone();
    assert_eq!(a.model.derived[0].share.get(id.as_str()), Some(&0.0));
    // Declared off: measured on a real server, weight 0 still gets weight+10.
    let a = app_with(Some(false)).await;
    let starve = a.current_evidence().unwrap().get("newapi-weight-starvation").unwrap().clone();
    assert_eq!(starve.verdict, Verdict::Ok, "{starve:?}");
    assert!(starve.summary.contains("still get a share"), "{starve:?}");
}

#[tokio::test]
async fn channel_screens() {
    let mut a = app().await;
    a.views.focus = Pane::Deployments;
    let out = render(&a, 120, 40);
    assert!(out.contains("openai-backup") && out.contains("Share"), "{out}");
    assert!(out.contains("not readable with an access token"));
    insta::assert_snapshot!("newapi_channels_120x40", out);
    insta::assert_snapshot!("newapi_channels_80x24", render(&a, 80, 24));
    // Wide: the half hour of failures per channel, from the error log.
    let wide = render(&a, 200, 60);
    assert!(wide.contains("Fail/30m"), "{wide}");
    insta::assert_snapshot!("newapi_channels_200x60", wide);
    select(&mut a, "openai-eu");
    a.update(Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
    let detail = render(&a, 120, 40);
    assert!(detail.contains("status reason") && detail.contains("401"), "{detail}");
    insta::assert_snapshot!("newapi_channel_detail_120x40", detail);
    // The per-minute day, from the same logs: the failing channel's last five minutes so far.
    a.update(Msg::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)));
    select(&mut a, "openai-main");
    a.update(Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
    let detail = render(&a, 120, 40);
    assert!(detail.contains("from its logs, last 24 h") && detail.contains("6 of 8 failed"), "{detail}");
}

#[tokio::test]
async fn test_and_toggle_from_the_keyboard() {
    let mut a = app().await;
    select(&mut a, "openai-eu");
    a.update(key('t'));
    let Some(c) = a.confirming() else { panic!("{:?}", a.overlay) };
    assert!(matches!(&c.plan.action, GatewayAction::TestChannel { name, .. } if name == "openai-eu"));
    assert_eq!(c.plan.paid_requests, Some(1));
    let fx = a.update(key('n'));
    assert!(fx.is_empty() && a.overlay.is_none());
    a.update(key('x'));
    let Some(c) = a.confirming() else { panic!() };
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
    let Some(c) = a.confirming() else { panic!() };
    assert!(c.plan.warnings[0].contains("DISABLES"));
    let out = render(&a, 100, 30);
    assert!(out.contains("you will be asked again"), "{out}");
    // The reason is on the first panel, above [y], not only on the second.
    let first = out.split("[y] run").next().unwrap();
    assert!(first.contains("DISABLES"), "{out}");
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
    assert!(!a.table().unwrap().rows.is_empty());
    let deps = a.current().unwrap().deployments();
    assert!(
        a.table().unwrap().rows.iter().all(|&i| deps[i].status == gatewatch::gateway::DeploymentStatus::AutoDisabled)
    );
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
            assert!(a.confirming().is_some(), "{action_key}: {:?}", a.overlay);
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
            assert!(a.running().is_none(), "{action_key} {outcome:?}");
            assert!(a.flash.as_ref().unwrap().0.contains(summary));
            a.update(key('t'));
            assert!(a.confirming().is_some(), "{action_key} {outcome:?}: {:?}", a.overlay);
        }
    }
    assert_eq!(ran, "tTbBx");
}

/// Captured: the server answered 429 while the gauge showed 58–101/180 (only
/// gatewatch's own count), and the 429 was absorbed silently. Now a refused
/// poll is its own state: not "down", the last good data stays with its age,
/// and the gauge says what the server said and when gatewatch sends again.
#[tokio::test]
async fn a_rate_limited_gateway_keeps_its_data_and_says_what_the_server_said() {
    use gatewatch::fleet::PollReport;
    use gatewatch::gateway::{GatewayError, RateBudget};
    use std::time::Duration;

    let mut a = app().await;
    let at = t0() + Duration::from_secs(75);
    let budget = RateBudget {
        used: 58,
        limit: 180,
        window: Duration::from_secs(180),
        refused: 3,
        last_refused: Some(at - Duration::from_secs(6)),
        resume_at: Some(at + Duration::from_secs(15)),
    };
    let report = PollReport {
        gateway: 0,
        at,
        replicas: vec![(
            "http://127.0.0.1:3000".into(),
            Err(GatewayError::RateLimited { retry_after: Some(Duration::from_secs(15)) }),
        )],
        local: Default::default(),
        memory: Default::default(),
        discovery_error: None,
        budget: Some(budget),
        prometheus: None,
        changes: Vec::new(),
        warmed: None,
    };
    a.update(Msg::Poll(Box::new(report)));
    a.update(Msg::Tick(at));
    let g = a.current().unwrap();
    assert!(g.is_rate_limited() && !g.is_reachable());
    assert_eq!(g.deployments().len(), 13, "the last good data stays on screen");
    let reach = a.current_evidence().unwrap().get("gateway-reachable").unwrap().clone();
    assert_eq!(reach.verdict, Verdict::Fail);
    assert!(reach.summary.contains("rate limited by the server: HTTP 429"), "{reach:?}");
    assert!(reach.facts.iter().any(|f| f.contains("other clients at this address")), "{reach:?}");
    let out = render(&a, 200, 50);
    let status = out.lines().rev().find(|l| l.contains("RATE LIMITED")).unwrap_or_else(|| panic!("{out}"));
    assert!(status.contains("◐ RATE LIMITED (HTTP 429)") && !status.contains("DOWN"), "{status}");
    assert!(status.contains("server said 429 ×3 (6.0s ago), ours 58/180 per 3m"), "{status}");
    assert!(status.contains("retry in 15s") && status.contains("data from 75s ago"), "{status}");
    assert!(out.contains("openai-backup"), "the channels are still listed");
    assert!(out.contains("rate limited by the server (HTTP 429): no new data"), "the timeline says so once");
    insta::assert_snapshot!("newapi_rate_limited_120x40", render(&a, 120, 40));
}
