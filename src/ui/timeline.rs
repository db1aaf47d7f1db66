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
    let view = &app.views.timeline;
    let all: Vec<&crate::timeline::TimelineEntry> = app.model.fleet.timeline.entries().collect();
    let shown = crate::app::views::timeline::shown(all.iter().copied(), view.changes_only);
    let n = shown.len();
    let selected = view.selected.min(n.saturating_sub(1));
    let (start, end) = crate::app::views::timeline::window(n, selected, height);
    let chosen = n.checked_sub(selected + 1);
    let lines: Vec<Line> = shown[start..end]
        .iter()
        .enumerate()
        .map(|(k, &pos)| (start + k, all[pos]))
        .map(|(i, e)| {
            let style = match e.kind {
                TimelineKind::Action => theme.accent(),
                TimelineKind::Verify if e.text.contains('✗') || e.text.contains("NOT") => theme.fail(),
                TimelineKind::Verify => theme.ok(),
                TimelineKind::Check if e.text.contains('✗') => theme.fail(),
                TimelineKind::Check if e.text.contains(" ! ") => theme.warn(),
                TimelineKind::Seen if e.text.contains("down") => theme.fail(),
                _ => ratatui::style::Style::new(),
            };
            let line = Line::from(vec![
                Span::styled(format!("{} {:<6} ", clock(e.at), e.kind.label()), theme.dim()),
                Span::styled(fit(&e.text, width.saturating_sub(16)), style),
            ]);
            if focused && Some(i) == chosen { line.style(theme.selected()) } else { line }
        })
        .collect();
    let newer = n - end;
    let title = if view.changes_only {
        format!(" What changed (UTC) — {n} of {} lines · / or Esc: everything ", all.len())
    } else if newer > 0 {
        format!(" Timeline (UTC) — {newer} newer below · Enter opens a line ")
    } else if focused {
        " Timeline (UTC) — Enter opens a line whole · /: what changed ".to_owned()
    } else {
        " Timeline (UTC) ".to_owned()
    };
    frame.render_widget(Paragraph::new(lines).block(pane_block(title, focused, theme)), area);
}
