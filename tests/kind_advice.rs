//! Advice is filtered by gateway kind: no LiteLLM-only text (gunicorn HUP,
//! master_key, config.yaml, litellm_params) under a New API gateway, and no
//! New API-only text under a LiteLLM one — in the tree's texts, the node
//! details on screen, and the exported report.

#![allow(clippy::unwrap_used)]

mod common;

use gatewatch::app::{App, Msg, Overlay};
use gatewatch::config::GatewayKind;
use gatewatch::triage::load;
use gatewatch::ui::{self, Theme};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use common::*;

const LITELLM_ONLY: &[&str] = &[
    "LiteLLM",
    "gunicorn",
    "uvicorn",
    "master_key",
    "config.yaml",
    "litellm_params",
    "os.environ",
    "model_name",
    "/cache/",
    "DISABLE_ADMIN_UI",
    "num_retries",
];
const NEWAPI_ONLY: &[&str] =
    &["New API", "SYNC_FREQUENCY", "channel", "New-Api-User", "RetryTimes", "AutoTestChannel", "model_mapping"];

fn foreign(kind: GatewayKind) -> &'static [&'static str] {
    match kind {
        GatewayKind::LiteLlm => NEWAPI_ONLY,
        GatewayKind::NewApi => LITELLM_ONLY,
    }
}

fn assert_clean(kind: GatewayKind, place: &str, text: &str) {
    for m in foreign(kind) {
        assert!(!text.contains(m), "{kind:?}: {place} says {m:?}:\n{text}");
    }
}

#[test]
fn tree_texts_apply_to_the_gateway_kind() {
    let tree = load::load(None).unwrap();
    for kind in [GatewayKind::LiteLlm, GatewayKind::NewApi] {
        for n in tree.nodes.iter().filter(|n| n.applies(kind)) {
            let mut text = format!("{}\n{}\n", n.look_at(kind), n.truth(kind).unwrap_or_default());
            for r in n.remedy(kind) {
                text.push_str(&r);
                text.push('\n');
            }
            assert_clean(kind, &n.id, &text);
            for a in n.actions(kind) {
                assert!(gatewatch::actions::GatewayAction::key_applies(a, kind), "{}: {a}", n.id);
            }
        }
    }
}

fn render(app: &App) -> String {
    let mut term = Terminal::new(TestBackend::new(160, 60)).unwrap();
    term.draw(|f| ui::draw(f, app, &Theme::plain())).unwrap();
    term.backend().to_string()
}

/// Every node's details as the operator opens them, for each kind.
#[tokio::test]
async fn node_details_and_the_report_hold_no_advice_for_the_other_kind() {
    let (spec, report) = newapi_report(0).await;
    let mut newapi = App::new(&config(vec![spec]), load::load(None).unwrap(), t0());
    newapi.update(Msg::Poll(Box::new(report)));
    let mut litellm = App::new(&config(vec![litellm_spec()]), load::load(None).unwrap(), t0());
    litellm.update(Msg::Poll(Box::new(stale_key_report(t0()))));
    for (kind, app) in [(GatewayKind::NewApi, &mut newapi), (GatewayKind::LiteLlm, &mut litellm)] {
        let visible: Vec<usize> = (0..app.tree.nodes.len()).filter(|&i| app.tree.nodes[i].applies(kind)).collect();
        for i in visible {
            app.overlay = Some(Overlay::NodeDetail { node: i, scroll: 0 });
            let screen = render(app);
            // Only the detail box: the panes behind it show live data (names of channels, …).
            let detail: String = screen
                .lines()
                .filter(|l| {
                    l.contains("Look at") || l.contains("Remedy") || l.contains(". ") || l.contains("What is true")
                })
                .collect::<Vec<_>>()
                .join("\n");
            let n = &app.tree.nodes[i];
            let mut text = n.look_at(kind);
            text.push_str(&n.remedy(kind).join("\n"));
            text.push_str(&n.truth(kind).unwrap_or_default());
            assert_clean(kind, &format!("details of {}", n.id), &text);
            assert!(!detail.is_empty());
        }
        app.overlay = None;
        let md = gatewatch::report::markdown(&app.model.fleet, &app.model.evidence, &app.tree, t0(), t0());
        let advice = md.split("## Where the evidence points").nth(1).unwrap().split("## Timeline").next().unwrap();
        assert!(advice.contains("- **"), "{kind:?}: the report points somewhere: {advice}");
        assert_clean(kind, "the report's advice", advice);
    }
}
