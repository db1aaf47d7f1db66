//! The evidence beside the selected tree node: each check's verdict and the
//! facts behind it, then the first remedy step and the action keys.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

use super::util::fit;
use super::{pane_block, Theme};
use crate::actions::GatewayAction;
use crate::app::App;

pub fn render(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let Some(i) = app.selected_node() else { return };
    let node = &app.tree.nodes[i];
    let width = usize::from(area.width.saturating_sub(2));
    let mut lines: Vec<Line> = Vec::new();
    let checks = app.tree.checks_under(i);
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
            let max_facts = if checks.len() == 1 { 8 } else { 2 };
            for fact in f.facts.iter().take(max_facts) {
                lines.push(Line::styled(format!("   {}", fit(fact, width.saturating_sub(3).max(20) * 2)), theme.dim()));
            }
        }
    }
    if let Some(nd) = &node.no_data {
        lines.push(Line::styled(format!("· no live data: {nd}"), theme.dim()));
    }
    if let Some(first) = node.remedy.first() {
        lines.push(Line::from(vec![Span::styled("→ ", theme.accent()), Span::raw(first.clone())]));
    }
    let keys: Vec<String> = node
        .actions
        .iter()
        .filter_map(|a| GatewayAction::hotkey_for(a).map(|k| format!("{k}:{a}")))
        .collect();
    if !keys.is_empty() {
        lines.push(Line::styled(format!("keys  {}", keys.join("  ")), theme.accent()));
    }
    let title = format!(" Evidence: {} ", fit(&node.title, width.saturating_sub(12)));
    let p = Paragraph::new(lines).wrap(Wrap { trim: false }).block(pane_block(title, false, theme));
    frame.render_widget(p, area);
}
