//! Rendering: pure functions of `&App`. No I/O, no state changes; one
//! `render` function per pane in `ui/`.

mod channels;
mod detail;
mod evidence;
mod header;
mod keys;
mod overlay;
mod status;
pub mod theme;
mod timeline;
mod tree;
pub mod util;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph};

use crate::app::{App, Pane};
pub use theme::Theme;

/// The smallest terminal the layout works in.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 16;

/// A bordered block, highlighted when it has the focus.
pub fn pane_block<'a>(title: impl Into<Line<'a>>, focused: bool, theme: &Theme) -> Block<'a> {
    Block::new().borders(Borders::ALL).border_style(theme.border(focused)).title(title)
}

pub fn draw(frame: &mut Frame, app: &App, theme: &Theme) {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let msg =
            format!("terminal too small: {}x{} (need {MIN_WIDTH}x{MIN_HEIGHT}) — q quits", area.width, area.height);
        frame.render_widget(Paragraph::new(util::wrap(&msg, usize::from(area.width), "").join("\n")), area);
        return;
    }
    let timeline_h = if area.height >= 40 {
        9
    } else if area.height >= 30 {
        7
    } else {
        5
    };
    let [header_a, body, timeline_a, status_a] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(8),
        Constraint::Length(timeline_h),
        Constraint::Length(1),
    ])
    .areas(area);
    header::render(frame, header_a, app, theme);
    let (tree_a, evidence_a, deps_a, keys_a) = split_body(body);
    tree::render(frame, tree_a, app, theme, app.focus == Pane::Tree);
    evidence::render(frame, evidence_a, app, theme);
    channels::render(frame, deps_a, app, theme, app.focus == Pane::Deployments);
    keys::render(frame, keys_a, app, theme, app.focus == Pane::Keys);
    timeline::render(frame, timeline_a, app, theme, app.focus == Pane::Timeline);
    status::render(frame, status_a, app, theme);
    overlay::render(frame, area, app, theme);
    util::clean_buffer(frame.buffer_mut(), app.fleet.timeline.redactor());
}

/// Two columns below 160 columns (tree over evidence | table over keys),
/// three columns above (tree | evidence | table over keys).
fn split_body(body: Rect) -> (Rect, Rect, Rect, Rect) {
    if body.width >= 160 {
        let [t, e, r] =
            Layout::horizontal([Constraint::Percentage(26), Constraint::Percentage(30), Constraint::Percentage(44)])
                .areas(body);
        let [d, k] = Layout::vertical([Constraint::Percentage(58), Constraint::Percentage(42)]).areas(r);
        (t, e, d, k)
    } else {
        let [l, r] = Layout::horizontal([Constraint::Percentage(44), Constraint::Percentage(56)]).areas(body);
        let [t, e] = Layout::vertical([Constraint::Percentage(56), Constraint::Percentage(44)]).areas(l);
        let [d, k] = Layout::vertical([Constraint::Percentage(56), Constraint::Percentage(44)]).areas(r);
        (t, e, d, k)
    }
}
