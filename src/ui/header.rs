//! Top line: gateway tabs with their worst verdict, read-only badge, help hint.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::Theme;
use crate::app::App;

pub fn render(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let mut spans = vec![Span::styled(" gatewatch ", theme.bold())];
    for (i, g) in app.model.fleet.gateways.iter().enumerate() {
        let v =
            app.model.evidence.get(i).map_or(crate::triage::Verdict::Unknown, crate::triage::evidence::Evidence::worst);
        let sym = if g.ever_polled() && !g.is_reachable() { "✗" } else { v.symbol() };
        let label = format!(" {}:{} {sym} ", i + 1, g.spec.name);
        let style = if i == app.gateway() { theme.selected() } else { theme.verdict(v) };
        spans.push(Span::raw("│"));
        spans.push(Span::styled(label, style));
    }
    spans.push(Span::raw("│"));
    let mut right = Vec::new();
    if let Some(b) = &app.session.banner {
        right.push(Span::styled(format!(" ⚠ {b} "), theme.fail().add_modifier(ratatui::style::Modifier::REVERSED)));
    }
    if app.session.read_only {
        right.push(Span::styled(" READ-ONLY ", theme.warn().add_modifier(ratatui::style::Modifier::REVERSED)));
    }
    if app.session.demo {
        let next = app.bindings.key_label(crate::keys::Context::Global, crate::keys::Command::DemoNext);
        let stage = app.demo_stage.as_deref().unwrap_or("starting");
        let hint = next.map(|k| format!(" ({k}: next)")).unwrap_or_default();
        right.push(Span::styled(format!(" DEMO {stage}{hint} "), theme.accent()));
    }
    let left_w: usize = spans.iter().map(|s| s.content.chars().count()).sum();
    let right_w: usize = right.iter().map(|s| s.content.chars().count()).sum();
    let pad = usize::from(area.width).saturating_sub(left_w + right_w);
    spans.push(Span::raw(" ".repeat(pad)));
    spans.extend(right);
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
