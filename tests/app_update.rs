//! Layer 1: state transitions of `App::update` — a message sequence in,
//! state and effects out. No I/O, fixed clock.

#![allow(clippy::unwrap_used, clippy::default_trait_access, clippy::print_stderr)]

mod common;

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use gatewatch::actions::{ActionEvent, ActionEventKind, GatewayAction, Outcome};
use gatewatch::app::{App, Effect, Msg, Overlay, Pane};
use gatewatch::gateway::GatewayError;
use gatewatch::triage::evidence::Verdict;
use gatewatch::triage::load;

use common::*;

fn app() -> App {
    App::new(&config(vec![litellm_spec()]), load::load(None).unwrap(), t0())
}

fn key(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

fn code(c: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(c, KeyModifiers::NONE))
}

fn with_stale_key() -> App {
    let mut a = app();
    assert!(a.update(Msg::Poll(Box::new(stale_key_report(t0())))).is_empty());
    a
}

#[test]
fn poll_computes_drift_and_points_the_tree_at_the_stale_key() {
    let a = with_stale_key();
    let ev = a.current_evidence().unwrap();
    assert_eq!(ev.get("key-drift").unwrap().verdict, Verdict::Fail);
    assert_eq!(ev.get("gateway-reachable").unwrap().verdict, Verdict::Ok);
    let drift = ev.get("key-drift").unwrap();
    assert!(drift.facts.iter().any(|f| f.contains("gpt-4o") && f.contains("api_key changed")), "{drift:?}");
    // Only gpt-4o drifts.
    assert_eq!(drift.facts.iter().filter(|f| f.contains("proxy id")).count(), 1);
    assert!(a.tree_view().unwrap().open.contains("p3-stale-key"), "branch opened: {:?}", a.tree_view().unwrap().open);
    assert!(a.model.fleet.timeline.entries().any(|e| e.text.contains("key drift")));
}

#[test]
fn navigation_keys_move_focus_and_selection() {
    let mut a = with_stale_key();
    assert_eq!(a.views.focus, Pane::Tree);
    let first = a.tree_view().unwrap().selected.clone();
    a.update(key('j'));
    assert_ne!(a.tree_view().unwrap().selected, first);
    a.update(code(KeyCode::Up));
    assert_eq!(a.tree_view().unwrap().selected, first);
    a.update(code(KeyCode::Tab));
    assert_eq!(a.views.focus, Pane::Deployments);
    a.update(key('j'));
    assert_eq!(a.table().unwrap().selected, 1);
    a.update(code(KeyCode::Enter));
    assert!(matches!(a.overlay, Some(Overlay::DeploymentDetail { .. })));
    a.update(code(KeyCode::Esc));
    assert!(a.overlay.is_none());
    a.update(code(KeyCode::BackTab));
    assert_eq!(a.views.focus, Pane::Tree);
}

#[test]
fn enter_on_a_leaf_opens_its_details_and_actions_work_from_there() {
    let mut a = with_stale_key();
    a.views.current_mut().unwrap().tree.selected = "p3-drift".into();
    a.update(code(KeyCode::Enter));
    assert!(matches!(a.overlay, Some(Overlay::NodeDetail { .. })));
    a.update(key('R'));
    assert!(a.confirming().is_some());
}

#[test]
fn restart_asks_then_runs_then_verifies() {
    let mut a = with_stale_key();
    assert!(a.update(key('R')).is_empty());
    let Some(c) = a.confirming() else { panic!("no confirmation: {:?}", a.overlay) };
    assert_eq!(c.plan.action, GatewayAction::Restart);
    assert_eq!(c.plan.command.as_deref(), Some("docker restart litellm-proxy"));
    assert!(c.plan.effect.iter().any(|e| e.contains("Fixes: gpt-4o")));
    // Anything but y does not run it.
    assert!(a.update(key('x')).is_empty());
    assert!(a.confirming().is_some());
    let fx = a.update(key('y'));
    let [Effect::Run { id, plan }] = fx.as_slice() else { panic!("{fx:?}") };
    assert_eq!(plan.action, GatewayAction::Restart);
    let id = *id;
    assert!(a.running().is_some());
    // A second action while one runs is refused, never interleaved.
    assert!(a.update(key('R')).is_empty());
    assert!(a.overlay.is_none());
    assert!(a.flash.as_ref().unwrap().0.contains("busy"));
    let at = t0() + Duration::from_secs(3);
    let ev = |kind| Msg::Action(ActionEvent { id, gateway: 0, at, kind });
    a.update(ev(ActionEventKind::Started { title: "Restart litellm-prod".into() }));
    a.update(ev(ActionEventKind::Progress { line: "running".into() }));
    a.update(ev(ActionEventKind::Finished { ok: true, summary: "exited 0".into(), detail: vec![] }));
    let fx = a.update(ev(ActionEventKind::Ended {
        outcome: Outcome::Verified,
        summary: "all 1 replica(s) hold the file's ids".into(),
        detail: vec![],
    }));
    assert_eq!(fx, vec![Effect::Refresh(0)]);
    assert!(a.running().is_none());
    assert_eq!(
        a.actions.last.as_ref().unwrap().outcome,
        Some((Outcome::Verified, "all 1 replica(s) hold the file's ids".into()))
    );
    // The next poll shows the drift cleared.
    a.update(Msg::Poll(Box::new(fixed_report(at + Duration::from_secs(2)))));
    assert_eq!(a.current_evidence().unwrap().get("key-drift").unwrap().verdict, Verdict::Ok);
    assert!(a.model.fleet.timeline.entries().any(|e| e.text.contains("drift cleared")));
}

#[test]
fn a_restart_that_would_fail_needs_a_second_confirmation() {
    let mut a = app();
    let mut r = stale_key_report(t0());
    // The file on disk now carries the public default master key.
    let text = SHARED_CONFIG.replace("sk-master-fake-0000111122223333", "sk-1234");
    r.local = gatewatch::fleet::LocalView::with_config(gatewatch::gateway::litellm::config_file::parse(
        &text,
        std::path::Path::new("c.yaml"),
        &env,
    ));
    a.update(Msg::Poll(Box::new(r)));
    a.update(key('R'));
    let fx = a.update(key('y'));
    assert!(fx.is_empty(), "one y must not run a restart that would strand the gateway");
    let Some(c) = a.confirming() else { panic!() };
    assert!(c.second);
    assert!(c.plan.warnings.iter().any(|w| w.contains("sk-1234")), "{:?}", c.plan.warnings);
    assert!(a.update(key('y')).is_empty(), "lower-case y is not enough");
    let fx = a.update(key('Y'));
    assert!(matches!(fx.as_slice(), [Effect::Run { .. }]));
}

#[test]
fn read_only_blocks_changes_visibly() {
    let mut cfg = config(vec![litellm_spec()]);
    cfg.read_only = true;
    let mut a = App::new(&cfg, load::load(None).unwrap(), t0());
    a.update(Msg::Poll(Box::new(stale_key_report(t0()))));
    a.update(key('R'));
    let Some(Overlay::Blocked(p)) = &a.overlay else { panic!("{:?}", a.overlay) };
    assert!(p.blocked.as_deref().unwrap().contains("read-only"));
    assert!(a.update(key('y')).is_empty());
    // Paid probes spend money: blocked too, and nothing advertises them.
    for k in ['H', 'f', 's', 'p', 'r'] {
        a.overlay = None;
        a.update(key(k));
        let Some(Overlay::Blocked(p)) = &a.overlay else { panic!("{k}: {:?}", a.overlay) };
        assert!(p.blocked.is_some(), "{k}");
        assert!(a.update(key('y')).is_empty(), "{k} ran in a read-only session");
    }
    a.overlay = None;
    a.views.current_mut().unwrap().tree.selected = "p3-drift".into();
    let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 40)).unwrap();
    term.draw(|f| gatewatch::ui::draw(f, &a, &gatewatch::ui::Theme::plain())).unwrap();
    let screen = term.backend().to_string();
    assert!(!screen.contains("R:restart") && !screen.contains("r:reload"), "{screen}");
    a.update(key('?'));
    term.draw(|f| gatewatch::ui::draw(f, &a, &gatewatch::ui::Theme::plain())).unwrap();
    let help = term.backend().to_string();
    assert!(!help.contains("probe all deployments") && !help.contains("restart (configured"), "{help}");

    // --allow-probes: the paid probes ask first again; changes stay blocked.
    cfg.allow_probes = true;
    let mut a = App::new(&cfg, load::load(None).unwrap(), t0());
    a.update(Msg::Poll(Box::new(stale_key_report(t0()))));
    a.update(key('H'));
    assert!(a.confirming().is_some(), "{:?}", a.overlay);
    a.update(code(KeyCode::Esc));
    a.update(key('R'));
    assert!(matches!(a.overlay, Some(Overlay::Blocked(_))));
}

#[test]
fn purge_of_an_in_memory_cache_is_explained_not_run() {
    let mut a = with_stale_key();
    a.update(key('p'));
    let Some(Overlay::Blocked(p)) = &a.overlay else { panic!("{:?}", a.overlay) };
    assert!(p.blocked.as_deref().unwrap().contains("in-memory"), "{:?}", p.blocked);
}

#[test]
fn unreachable_gateway_keeps_last_data_and_says_why() {
    let mut a = with_stale_key();
    a.update(Msg::Poll(Box::new(down_report(
        t0() + Duration::from_secs(5),
        GatewayError::Refused { url: "http://127.0.0.1:4000".into() },
    ))));
    let g = a.current().unwrap();
    assert!(!g.is_reachable());
    assert_eq!(g.deployments().len(), 3, "last good data stays visible");
    let f = a.current_evidence().unwrap().get("gateway-reachable").unwrap();
    assert_eq!(f.verdict, Verdict::Fail);
    assert!(f.facts[0].contains("connection refused"));
}

#[test]
fn filter_narrows_the_table_and_esc_clears_it() {
    let mut a = with_stale_key();
    a.update(key('/'));
    for c in "mini".chars() {
        a.update(key(c));
    }
    a.update(code(KeyCode::Enter));
    assert_eq!(a.table().unwrap().rows.len(), 1);
    assert_eq!(a.selected_deployment().unwrap().name, "gpt-4o-mini");
    a.update(code(KeyCode::Esc));
    assert_eq!(a.table().unwrap().rows.len(), 3);
}

#[test]
fn typed_client_model_feeds_the_name_check() {
    let mut a = with_stale_key();
    a.update(key('m'));
    for c in "GPT-4o".chars() {
        a.update(key(c));
    }
    a.update(code(KeyCode::Enter));
    let f = a.current_evidence().unwrap().get("model-name-mismatch").unwrap();
    assert_eq!(f.verdict, Verdict::Fail);
    assert!(f.facts[0].contains("case differs"), "{f:?}");
}

#[test]
fn export_produces_a_report_without_secrets() {
    let mut a = with_stale_key();
    let fx = a.update(key('e'));
    let [Effect::Export { path, markdown }] = fx.as_slice() else { panic!("{fx:?}") };
    assert!(path.to_string_lossy().contains("incident-"));
    assert!(markdown.contains("# Incident report"));
    assert!(markdown.contains("key-drift"));
    for secret in
        [OLD, NEW, "sk-master-fake-0000111122223333", "sk-upstream-THIRD-env-9999aaaabbbb", "sk-upstream-MINI"]
    {
        assert!(!markdown.contains(secret), "{secret} leaked");
    }
}

#[test]
fn quit_paths() {
    let mut a = app();
    assert_eq!(a.update(Msg::Quit), vec![Effect::Quit]);
    let mut a = with_stale_key();
    a.update(key('R'));
    a.update(key('y'));
    assert!(a.update(key('q')).is_empty(), "first q while an action runs only warns");
    assert_eq!(a.update(key('q')), vec![Effect::Quit]);
}

#[test]
fn help_is_about_where_the_operator_is_and_esc_closes_it() {
    use gatewatch::keys::Context;
    let mut a = app();
    a.update(key('?'));
    assert!(matches!(a.overlay, Some(Overlay::Help { about: Context::Tree, .. })), "{:?}", a.overlay);
    // It scrolls; other keys leave it open.
    a.update(key('j'));
    a.update(key('z'));
    assert!(matches!(a.overlay, Some(Overlay::Help { scroll: 1, .. })), "{:?}", a.overlay);
    a.update(code(KeyCode::Esc));
    assert!(a.overlay.is_none());
    a.update(code(KeyCode::Tab));
    a.update(key('?'));
    assert!(matches!(a.overlay, Some(Overlay::Help { about: Context::Table, .. })), "{:?}", a.overlay);
}

#[test]
fn switching_gateways_keeps_state_apart() {
    let mut specs = vec![litellm_spec()];
    let mut second = litellm_spec();
    second.name = "litellm-b".into();
    specs.push(second);
    let mut a = App::new(&config(specs), load::load(None).unwrap(), t0());
    a.update(Msg::Poll(Box::new(stale_key_report(t0()))));
    a.update(key('2'));
    assert_eq!(a.gateway(), 1);
    assert!(a.current().unwrap().deployments().is_empty());
    a.update(key('['));
    assert_eq!(a.gateway(), 0);
    assert_eq!(a.table().unwrap().rows.len(), 3);
}

/// Confirm whatever confirmation is open (`y`, then `Y` when a second one is
/// asked); the id of the action that starts.
fn confirm(a: &mut App) -> Option<u64> {
    for k in ['y', 'Y'] {
        match a.update(key(k)).as_slice() {
            [Effect::Run { id, .. }] => return Some(*id),
            [] => {}
            other => panic!("{other:?}"),
        }
    }
    None
}

/// Every action key of a LiteLLM gateway, ended each way that is not a
/// success: the busy state clears, the outcome is told, and the next action
/// opens its confirmation at once.
#[test]
fn every_failed_action_leaves_the_app_ready_for_the_next() {
    let failures = [
        (Outcome::Failed, "HTTP 500: Internal Server Error"),
        (Outcome::NotVerified, "NOT verified after 2m: 1 of 1 replica(s) still behind"),
        (Outcome::Refused, "refused: another action is still running"),
    ];
    let mut ran = std::collections::BTreeSet::new();
    for action_key in ['R', 'r', 'p', 'H', 'f', 's'] {
        for (outcome, summary) in failures {
            let mut a = with_stale_key();
            a.update(key(action_key));
            if a.confirming().is_none() {
                // Blocked here (no reload command, say): nothing runs.
                assert!(matches!(a.overlay, Some(Overlay::Blocked(_))), "{action_key}: {:?}", a.overlay);
                continue;
            }
            let id = confirm(&mut a).unwrap_or_else(|| panic!("{action_key} did not start"));
            assert!(a.running().is_some());
            ran.insert(action_key);
            let at = t0() + Duration::from_secs(2);
            let ev = |kind| Msg::Action(ActionEvent { id, gateway: 0, at, kind });
            a.update(ev(ActionEventKind::Started { title: "x".into() }));
            if outcome == Outcome::Failed {
                a.update(ev(ActionEventKind::Finished { ok: false, summary: summary.into(), detail: vec![] }));
                assert!(a.running().is_some(), "a step is not the end");
            }
            a.update(ev(ActionEventKind::Ended { outcome, summary: summary.into(), detail: vec![] }));
            assert!(a.running().is_none(), "{action_key} {outcome:?}: still busy");
            assert_eq!(a.actions.last.as_ref().unwrap().outcome.as_ref().unwrap().0, outcome);
            let flash = &a.flash.as_ref().unwrap().0;
            assert!(flash.contains(summary), "{flash}");
            let told = a.model.fleet.timeline.entries().filter(|e| e.text.contains(summary)).count();
            assert_eq!(told, 1, "the outcome is told once on the timeline ({action_key} {outcome:?})");
            // The next action opens its confirmation; nothing is "busy".
            a.update(key('R'));
            assert!(a.confirming().is_some(), "{action_key} {outcome:?}: {:?}", a.overlay);
            // And a single q quits.
            a.update(code(KeyCode::Esc));
            assert_eq!(a.update(key('q')), vec![Effect::Quit]);
        }
    }
    assert_eq!(ran.into_iter().collect::<String>(), "HRfs", "the actions this gateway offers all ran");
}

/// An outcome that arrives for an action the app no longer tracks (a late
/// refusal) is told, and changes nothing else.
#[test]
fn a_stray_outcome_is_told_and_ignored() {
    let mut a = with_stale_key();
    let at = t0() + Duration::from_secs(1);
    a.update(Msg::Action(ActionEvent {
        id: 99,
        gateway: 0,
        at,
        kind: ActionEventKind::Ended {
            outcome: Outcome::Refused,
            summary: "refused: another action is still running".into(),
            detail: vec![],
        },
    }));
    assert!(a.running().is_none() && a.actions.last.is_none());
    assert!(a.flash.as_ref().unwrap().0.contains("refused"));
}

// ---- issue 17: one binding table, rebindable from the config ----

fn rebound(keys: &str) -> Result<App, String> {
    let text = format!(
        "gateways:\n  - name: litellm-prod\n    kind: litellm\n    url: http://127.0.0.1:4000\n    config_file: /etc/litellm/config.yaml\n    restart_command: docker restart litellm-proxy\nkeys:\n{keys}"
    );
    let cfg = gatewatch::config::parse(&text, std::path::Path::new("/etc/gatewatch/config.yaml"))
        .map_err(|e| e.to_string())?;
    let mut a = App::new(&cfg, load::load(None).unwrap(), t0());
    a.update(Msg::Poll(Box::new(stale_key_report(t0()))));
    Ok(a)
}

#[test]
fn a_rebinding_in_the_config_is_honoured_by_dispatch_and_help() {
    use gatewatch::keys::{ActionKind, Command, Context};
    let mut a = rebound("  restart: X\n  purge: none\n  next_failure: ctrl-n\n").unwrap();
    // The old key does nothing any more, the new one asks.
    a.update(key('R'));
    assert!(a.confirming().is_none(), "R is no longer restart");
    a.update(key('X'));
    assert!(a.confirming().is_some_and(|c| c.plan.title.contains("Restart")), "X asks for the restart");
    a.update(key('n'));
    assert!(a.confirming().is_none());
    // An action bound to nothing cannot be pressed, and help says so.
    a.update(key('p'));
    assert!(a.confirming().is_none() && a.running().is_none());
    let help = a.bindings.help(Context::Actions);
    assert!(help.iter().any(|(k, what)| k == "X" && what.contains("restart")), "{help:?}");
    assert!(!help.iter().any(|(k, _)| k == "R"), "{help:?}");
    assert_eq!(a.bindings.key_label(Context::Actions, Command::Action(ActionKind::Purge)), None);
    // Any command, not only actions: ctrl-n walks to the next failure.
    let before = a.tree_view().unwrap().selected.clone();
    a.update(Msg::Key(KeyEvent::new(KeyCode::Char('n'), KeyModifiers::CONTROL)));
    a.update(Msg::Key(KeyEvent::new(KeyCode::Char('n'), KeyModifiers::CONTROL)));
    assert!(a.tree_view().unwrap().selected == before || a.flash_text().is_some());
}

#[test]
fn a_rebinding_that_conflicts_or_names_nothing_is_a_config_error_naming_the_field() {
    let e = rebound("  restart: j\n").err().unwrap();
    assert!(e.contains("keys.restart") && e.contains("already bound to down"), "{e}");
    assert!(e.contains("/etc/gatewatch/config.yaml"), "{e}");
    let e = rebound("  reboot: X\n").err().unwrap();
    assert!(e.contains("keys.reboot") && e.contains("no command"), "{e}");
    let e = rebound("  quit: none\n").err().unwrap();
    assert!(e.contains("keys.quit") && e.contains("only actions"), "{e}");
    let e = rebound("  restart: true\n").err().unwrap();
    assert!(e.contains("keys.restart") && e.contains("a key such as"), "{e}");
    // YAML 1.2 (serde_yaml 0.9) reads a bare y as text: a key like any other.
    assert!(rebound("  restart: y\n").is_ok());
}

// ---- issue 18: straight to the failure, the palette, the mouse, the timeline ----

#[test]
fn the_tree_starts_on_the_most_severe_failure_and_next_failure_walks_them() {
    let mut a = with_stale_key();
    // The failing leaf that costs most: the stale key (an outage) before the
    // expensive fallback (a cost), although the cost branch comes first in the tree.
    let start = a.tree_view().unwrap().selected.clone();
    assert_eq!(start, "p3-drift");
    let i = a.tree.nodes.iter().position(|n| n.id == start).unwrap();
    assert_eq!(a.current_evidence().unwrap().node_verdict(&a.tree, i, a.kind()), Verdict::Fail, "{start}");
    // J/K walk the failing and warning leaves, wrapping; the cursor stays on one of them.
    let failing: Vec<String> = (0..6)
        .map(|_| {
            a.update(key('J'));
            a.tree_view().unwrap().selected.clone()
        })
        .collect();
    let ev = a.current_evidence().unwrap();
    for id in &failing {
        let i = a.tree.nodes.iter().position(|n| &n.id == id).unwrap();
        assert!(ev.node_verdict(&a.tree, i, a.kind()).points_here(), "{id} is not a failure");
    }
    assert!(failing.contains(&"p3-drift".to_owned()), "{failing:?}");
    a.update(key('K'));
    let back = a.tree_view().unwrap().selected.clone();
    a.update(key('J'));
    assert_eq!(a.tree_view().unwrap().selected, failing[5], "K then J comes back");
    assert_ne!(back, "", "{back}");
    // Once the operator steers, a later poll does not move the cursor.
    a.update(key('g'));
    let top = a.tree_view().unwrap().selected.clone();
    a.update(Msg::Poll(Box::new(stale_key_report(t0() + Duration::from_secs(5)))));
    assert_eq!(a.tree_view().unwrap().selected, top);
}

fn type_text(a: &mut App, text: &str) -> Vec<Effect> {
    let mut out = Vec::new();
    for c in text.chars() {
        out.extend(a.update(key(c)));
    }
    out
}

#[test]
fn the_palette_runs_commands_by_name_with_the_same_confirmations() {
    let mut a = with_stale_key();
    a.update(key(':'));
    assert!(matches!(a.overlay, Some(Overlay::Palette { .. })));
    type_text(&mut a, "rest");
    a.update(code(KeyCode::Tab));
    assert!(matches!(&a.overlay, Some(Overlay::Palette { text, .. }) if text == "restart"), "{:?}", a.overlay);
    // Typing never runs anything: `y` and `q` are letters here.
    assert!(a.confirming().is_none());
    assert!(a.update(code(KeyCode::Enter)).is_empty());
    assert!(a.confirming().is_some_and(|c| c.plan.title.contains("Restart")), "the palette asks like the key does");
    a.update(key('n'));
    // A filter and a sort by name.
    a.update(key(':'));
    type_text(&mut a, "filter gpt-4o-mini");
    a.update(code(KeyCode::Enter));
    assert_eq!(a.views.focus, Pane::Deployments);
    assert_eq!(a.table().unwrap().rows.len(), 1, "{:?}", a.table().unwrap().rows);
    // Something unknown says what is known, and runs nothing.
    a.update(key(':'));
    type_text(&mut a, "reboot");
    assert!(a.update(code(KeyCode::Enter)).is_empty());
    assert!(a.flash_text().is_some_and(|f| f.contains("reboot")), "{:?}", a.flash_text());
    // `:q` quits like q.
    a.update(key(':'));
    type_text(&mut a, "q");
    assert_eq!(a.update(code(KeyCode::Enter)), vec![Effect::Quit]);
}

#[test]
fn a_filter_belongs_to_its_gateway() {
    let mut second = litellm_spec();
    second.name = "litellm-b".into();
    let mut a = App::new(&config(vec![litellm_spec(), second]), load::load(None).unwrap(), t0());
    a.update(Msg::Poll(Box::new(stale_key_report(t0()))));
    let mut other = stale_key_report(t0());
    other.gateway = 1;
    a.update(Msg::Poll(Box::new(other)));
    a.update(code(KeyCode::Tab));
    a.update(key('/'));
    type_text(&mut a, "mini");
    a.update(code(KeyCode::Enter));
    assert_eq!(a.table().unwrap().rows.len(), 1);
    a.update(key('2'));
    assert_eq!(a.gateway(), 1);
    assert_eq!(a.table().unwrap().rows.len(), 3, "gateway 2 is not filtered by gateway 1's filter");
    assert!(a.table().unwrap().filter.is_empty());
    a.update(key('1'));
    assert_eq!(a.table().unwrap().rows.len(), 1, "gateway 1 keeps its filter");
    a.update(code(KeyCode::Esc));
    assert_eq!(a.table().unwrap().rows.len(), 3, "Esc clears it");
}

#[test]
fn a_click_selects_and_focuses_the_wheel_scrolls_and_no_mouse_ignores_both() {
    use gatewatch::app::msg::{Mouse, MouseKind};
    let mut a = with_stale_key();
    a.update(Msg::Resize(200, 60));
    let panes = gatewatch::ui::layout::panes(200, 60, a.views.focus);
    let t = panes.table.unwrap();
    // The second data row: border, header, first row, second row.
    a.update(Msg::Mouse(Mouse { kind: MouseKind::Click, column: t.x + 3, row: t.y + 3 }));
    assert_eq!(a.views.focus, Pane::Deployments);
    assert_eq!(a.table().unwrap().selected, 1);
    a.update(Msg::Mouse(Mouse { kind: MouseKind::ScrollUp, column: t.x + 3, row: t.y + 3 }));
    assert_eq!(a.table().unwrap().selected, 0);
    let tree = panes.tree.unwrap();
    a.update(Msg::Mouse(Mouse { kind: MouseKind::Click, column: tree.x + 4, row: tree.y + 1 }));
    assert_eq!(a.views.focus, Pane::Tree);
    assert_eq!(a.tree_view().unwrap().selected, a.tree.nodes[a.tree.roots[0]].id, "the first line is the first root");
    let tl = panes.timeline.unwrap();
    a.update(Msg::Mouse(Mouse { kind: MouseKind::Click, column: tl.x + 4, row: tl.y + 1 }));
    assert_eq!(a.views.focus, Pane::Timeline);
    // With --no-mouse nothing happens.
    let mut cfg = config(vec![litellm_spec()]);
    cfg.mouse = false;
    let mut b = App::new(&cfg, load::load(None).unwrap(), t0());
    b.update(Msg::Poll(Box::new(stale_key_report(t0()))));
    b.update(Msg::Resize(200, 60));
    b.update(Msg::Mouse(Mouse { kind: MouseKind::Click, column: t.x + 3, row: t.y + 3 }));
    assert_eq!(b.views.focus, Pane::Tree);
}

#[test]
fn a_timeline_line_opens_whole() {
    let mut a = with_stale_key();
    let long = format!("action litellm-prod: ✗ FAILED: {} the end", "x".repeat(400));
    a.model.fleet.timeline.push(t0(), Some(0), gatewatch::timeline::TimelineKind::Action, long.clone());
    while a.views.focus != Pane::Timeline {
        a.update(code(KeyCode::Tab));
    }
    assert_eq!(a.views.timeline.selected, 0, "the newest line first");
    a.update(code(KeyCode::Enter));
    assert!(matches!(a.overlay, Some(Overlay::TimelineDetail { index: 0, .. })), "{:?}", a.overlay);
    a.update(code(KeyCode::Esc));
    a.update(key('k'));
    assert_eq!(a.views.timeline.selected, 1, "up goes back in time");
    a.update(code(KeyCode::Enter));
    assert!(matches!(a.overlay, Some(Overlay::TimelineDetail { index: 1, .. })), "{:?}", a.overlay);
}

// ---- issue 19: live traffic, and whether an action stopped the errors ----

/// `report` with `/metrics/` counters: every deployment `ok` requests, but
/// gpt-4o `failed` requests, all 401 from the provider.
fn with_traffic(mut report: gatewatch::fleet::PollReport, ok: f64, failed: f64) -> gatewatch::fleet::PollReport {
    use gatewatch::gateway::litellm::metrics::{DeploymentTraffic, Traffic};
    for (_, snap) in &mut report.replicas {
        let Ok(s) = snap else { continue };
        let mut t = Traffic { callback_on: true, ..Traffic::default() };
        if let gatewatch::gateway::Section::Ok(deps) = &s.deployments {
            for d in deps.iter() {
                let mut dt = DeploymentTraffic {
                    alias: d.name.as_str().into(),
                    requests: ok,
                    successes: ok,
                    ..Default::default()
                };
                if d.name == "gpt-4o" {
                    dt.requests = failed;
                    dt.successes = 0.0;
                    dt.failures = failed;
                    dt.state = Some(u8::from(failed > 0.0));
                    dt.errors.insert("401 AuthenticationError".into(), failed);
                }
                t.deployments.insert(d.id.as_str().into(), dt);
            }
        }
        s.traffic = gatewatch::gateway::Section::Ok(t);
    }
    report
}

#[test]
fn live_401s_point_at_the_stale_key_and_the_restart_shows_them_stop() {
    let mut a = app();
    let at = |s: u32| t0() + Duration::from_secs(u64::from(s));
    // Two minutes of gpt-4o failing every request with 401.
    for (s, failed) in [(0, 10.0), (60, 40.0), (120, 70.0)] {
        a.update(Msg::Tick(at(s)));
        a.update(Msg::Poll(Box::new(with_traffic(stale_key_report(at(s)), f64::from(s), failed))));
    }
    let ev = a.current_evidence().unwrap();
    let live = ev.get("live-errors").unwrap();
    assert_eq!(live.verdict, Verdict::Fail, "{live:?}");
    assert!(live.summary.contains("gpt-4o") && live.summary.contains("60 of 60"), "{}", live.summary);
    assert_eq!(live.answer(Some("auth")).0, Verdict::Fail, "the errors point at the key");
    assert_eq!(live.answer(Some("not-found")).0, Verdict::Ok);
    // The tree: the live branch and the stale-key branch both say it.
    for id in ["live-auth", "p3-live-auth"] {
        let i = a.tree.nodes.iter().position(|n| n.id == id).unwrap();
        assert_eq!(ev.node_verdict(&a.tree, i, a.kind()), Verdict::Fail, "{id}");
    }
    // The table: gpt-4o failing live requests, the others not.
    let live = &a.model.fleet.gateways[0].live;
    assert!(live.values().any(|w| w.failures > 59.0 && w.error_ratio() > 0.99), "{live:?}");
    // Restart: the timeline says what traffic did before, and 3 min later after.
    a.update(key('R'));
    let fx = a.update(key('y'));
    let [Effect::Run { id, .. }] = fx.as_slice() else { panic!("{fx:?}") };
    let id = *id;
    let ev = |kind| Msg::Action(ActionEvent { id, gateway: 0, at: at(125), kind });
    a.update(ev(ActionEventKind::Started { title: "Restart litellm-prod".into() }));
    a.update(ev(ActionEventKind::Ended { outcome: Outcome::Verified, summary: "ok".into(), detail: vec![] }));
    let before = a.model.fleet.timeline.entries().find(|e| e.text.contains("traffic before")).map(|e| e.text.clone());
    assert!(before.as_deref().is_some_and(|t| t.contains("gpt-4o 30.0 failures/min")), "{before:?}");
    // The restarted proxy counts from zero, and nothing fails any more.
    for s in [140, 200, 260, 320] {
        a.update(Msg::Tick(at(s)));
        a.update(Msg::Poll(Box::new(with_traffic(fixed_report(at(s)), f64::from(s - 130), 0.0))));
    }
    let after = a.model.fleet.timeline.entries().find(|e| e.text.contains("min after")).map(|e| e.text.clone());
    let after =
        after.unwrap_or_else(|| panic!("{:#?}", a.model.fleet.timeline.entries().map(|e| &e.text).collect::<Vec<_>>()));
    assert!(after.contains("gpt-4o 0.0 failures/min") && after.contains("before: 30.0 failures/min"), "{after}");
    let live = a.current_evidence().unwrap().get("live-errors").unwrap().clone();
    assert_eq!(live.verdict, Verdict::Ok, "{live:?}");
}

// ---- issue 20: the last full list, shown at once with its age ----

#[test]
fn a_saved_list_shows_at_once_with_its_age_and_the_first_poll_replaces_it() {
    let mut a = app();
    let url = a.model.fleet.gateways[0].replicas[0].url.clone();
    let saved_at = t0() - Duration::from_secs(7200);
    let snap = gatewatch::snapshot::ListSnapshot {
        gateway: a.model.fleet.gateways[0].spec.name.clone(),
        replica: url,
        at: gatewatch::poller::unix_now(saved_at),
        deployments: running(SHARED_CONFIG).into(),
    };
    a.model.seed_snapshot(snap, t0());
    let g = &a.model.fleet.gateways[0];
    assert_eq!(g.deployments().len(), 3, "the saved list is the table's");
    assert_eq!(g.data_at(), Some(saved_at), "with its own time");
    assert_eq!(g.up_count(), 0, "a saved list says nothing about the gateway being up");
    let last = a.model.fleet.timeline.entries().last().unwrap().text.clone();
    assert!(last.contains("showing the deployment list saved 2h ago (3 deployment(s)"), "{last}");
    let ev = a.current_evidence().unwrap();
    let reach = ev.get("gateway-reachable").unwrap();
    assert_ne!(reach.verdict, Verdict::Ok, "not polled: not OK ({reach:?})");
    assert_ne!(reach.verdict, Verdict::Fail, "not polled: not down either ({reach:?})");
    // The first poll: the live list, fresh.
    a.update(Msg::Poll(Box::new(stale_key_report(t0() + Duration::from_secs(2)))));
    assert_eq!(a.model.fleet.gateways[0].data_at(), Some(t0() + Duration::from_secs(2)));
    assert_eq!(a.model.fleet.gateways[0].up_count(), 1);
    // A snapshot never overrides a list already read.
    let again = gatewatch::snapshot::ListSnapshot {
        gateway: a.model.fleet.gateways[0].spec.name.clone(),
        replica: a.model.fleet.gateways[0].replicas[0].url.clone(),
        at: gatewatch::poller::unix_now(saved_at),
        deployments: Vec::new().into(),
    };
    a.model.seed_snapshot(again, t0());
    assert_eq!(a.model.fleet.gateways[0].deployments().len(), 3);
}

/// A burst of changes (a restart re-keys every deployment) is one timeline
/// line, whole in its details; a few are a line each.
#[test]
fn a_burst_of_changes_is_one_timeline_line() {
    let mut a = app();
    let change = |i: usize| gatewatch::changes::Change {
        gateway: "litellm-prod".into(),
        at: 0,
        since: 0,
        text: format!("d{i}: now deployment {i:08} (was {:08}): its params or key changed", i + 1),
    };
    let before = a.model.fleet.timeline.len();
    let mut r = stale_key_report(t0());
    r.changes = (0..2).map(change).collect();
    a.update(Msg::Poll(Box::new(r)));
    let lines: Vec<String> = a.model.fleet.timeline.entries().skip(before).map(|e| e.text.clone()).collect();
    assert_eq!(lines.iter().filter(|l| l.contains("its params or key changed")).count(), 2, "{lines:?}");
    let before = a.model.fleet.timeline.len();
    let mut r = stale_key_report(t0() + Duration::from_secs(5));
    r.changes = (0..40).map(change).collect();
    a.update(Msg::Poll(Box::new(r)));
    let lines: Vec<String> = a.model.fleet.timeline.entries().skip(before).map(|e| e.text.clone()).collect();
    let burst: Vec<&String> = lines.iter().filter(|l| l.contains("its params or key changed")).collect();
    assert_eq!(burst.len(), 1, "{lines:?}");
    assert!(
        burst[0].contains("40 changes since the last look: d0: now deployment") && burst[0].contains("d39:"),
        "{}",
        burst[0]
    );
}
