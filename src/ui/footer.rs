//! The bottom line: the most useful keys where the operator is, read from
//! the binding table (so a rebinding shows here too).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::Theme;
use crate::app::App;
use crate::keys::{Command, Context};

pub fn render(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let ctx = app.context().unwrap_or(Context::Global);
    let mut spans = Vec::new();
    let mut used = 0usize;
    let width = usize::from(area.width);
    for (key, word, cmd) in app.bindings.hints(ctx) {
        // Actions this session may not run, or this gateway has not, are not offered.
        if let Command::Action(a) = cmd
            && (!app.allows(a.key()) || !crate::actions::GatewayAction::key_applies(a.key(), app.kind()))
        {
            continue;
        }
        if cmd == Command::DemoNext && !app.session.demo {
            continue;
        }
        let piece = format!(" {key} {word} ");
        let w = piece.chars().count() + 1;
        if used + w > width {
            break;
        }
        used += w;
        spans.push(Span::styled(format!(" {key}"), theme.accent()));
        spans.push(Span::styled(format!(" {word} "), theme.dim()));
        spans.push(Span::raw("·"));
    }
    spans.pop();
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
