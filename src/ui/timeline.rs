//! The timeline of what was seen and done, newest at the bottom.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::util::{clock, fit};
use super::{Theme, pane_block};
use crate::app::App;
use crate::timeline::TimelineKind;

pub fn render(frame: &mut Frame, area: Rect, app: &App, theme: &Theme, focused: bool) {
    let height = usize::from(area.height.saturating_sub(2));
    let width = usize::from(area.width.saturating_sub(2));
    let n = app.fleet.timeline.len();
    let end = n.saturating_sub(app.timeline_scroll);
    let start = end.saturating_sub(height);
    let lines: Vec<Line> = app
        .fleet
        .timeline
        .entries()
        .skip(start)
        .take(end - start)
        .map(|e| {
            let style = match e.kind {
                TimelineKind::Action => theme.accent(),
                TimelineKind::Verify if e.text.contains('✗') || e.text.contains("NOT") => theme.fail(),
                TimelineKind::Verify => theme.ok(),
                TimelineKind::Check if e.text.contains('✗') => theme.fail(),
                TimelineKind::Check if e.text.contains(" ! ") => theme.warn(),
                TimelineKind::Seen if e.text.contains("down") => theme.fail(),
                _ => ratatui::style::Style::new(),
            };
            Line::from(vec![
                Span::styled(format!("{} {:<6} ", clock(e.at), e.kind.label()), theme.dim()),
                Span::styled(fit(&e.text, width.saturating_sub(16)), style),
            ])
        })
        .collect();
    let title = if app.timeline_scroll > 0 {
        format!(" Timeline (UTC, {} older hidden below) ", app.timeline_scroll)
    } else {
        " Timeline (UTC) — e exports a report ".into()
    };
    frame.render_widget(Paragraph::new(lines).block(pane_block(title, focused, theme)), area);
}
