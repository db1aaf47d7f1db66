//! The evidence beside the selected tree node: each check's verdict and the
//! facts behind it, then the first remedy step and the action keys.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::util::fit;
use super::{Theme, pane_block};
use crate::actions::GatewayAction;
use crate::app::App;

pub fn render(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let Some(i) = app.selected_node() else { return };
    let node = &app.tree.nodes[i];
    let width = usize::from(area.width.saturating_sub(2));
    let mut lines: Vec<Line> = Vec::new();
    let checks = app.tree.checks_under(i);
    let mut facts: Vec<Line> = Vec::new();
    if let Some(ev) = app.current_evidence() {
        for c in &checks {
            let Some(f) = ev.get(c) else { continue };
            if f.verdict == crate::triage::Verdict::NotApplicable {
                continue;
            }
            lines.push(Line::from(vec![
                Span::styled(format!("{} ", f.verdict.symbol()), theme.verdict(f.verdict)),
                Span::styled(format!("{c}: "), theme.bold()),
                Span::raw(f.summary.clone()),
            ]));
            let max_facts = if checks.len() == 1 { 12 } else { 3 };
            for fact in f.facts.iter().take(max_facts) {
                facts.push(Line::styled(format!("   {}", fit(fact, width.max(20) * 3)), theme.dim()));
            }
        }
    }
    if let Some(nd) = &node.no_data {
        lines.push(Line::styled(format!("· no live data: {nd}"), theme.dim()));
    }
    // The next step and the keys come before the details, so they stay visible in a small pane.
    if let Some(first) = node.remedy.first() {
        lines.push(Line::from(vec![Span::styled("→ ", theme.accent()), Span::raw(first.clone())]));
    }
    let keys: Vec<String> =
        node.actions.iter().filter_map(|a| GatewayAction::hotkey_for(a).map(|k| format!("{k}:{a}"))).collect();
    if !keys.is_empty() {
        lines.push(Line::styled(format!("keys  {}  (Enter: full details)", keys.join("  ")), theme.accent()));
    }
    lines.extend(facts);
    for step in node.remedy.iter().skip(1) {
        lines.push(Line::from(vec![Span::styled("→ ", theme.accent()), Span::raw(step.clone())]));
    }
    let title = format!(" Evidence: {} ", fit(&node.title, width.saturating_sub(12)));
    let p = Paragraph::new(lines).wrap(Wrap { trim: false }).block(pane_block(title, false, theme));
    frame.render_widget(p, area);
}
