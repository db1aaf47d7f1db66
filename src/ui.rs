//! Rendering: pure functions of `&App`. No I/O, no state changes; one
//! `render` function per pane in `ui/`, placed by [`layout`].

mod channels;
mod detail;
mod evidence;
mod footer;
mod header;
mod keys;
pub mod layout;
mod overlay;
mod status;
pub mod theme;
mod timeline;
mod tree;
pub mod util;

use ratatui::Frame;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph};

use crate::app::{App, Pane, TableView};
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
    let focus = app.views.focus;
    let p = layout::panes(area.width, area.height, focus);
    header::render(frame, p.header, app, theme);
    if let Some(r) = p.tree {
        tree::render(frame, r, app, theme, focus == Pane::Tree);
    }
    if let Some(r) = p.evidence {
        evidence::render(frame, r, app, theme);
    }
    if let Some(r) = p.table {
        channels::render(frame, r, app, theme, focus == Pane::Deployments);
    }
    if let Some(r) = p.keys {
        keys::render(frame, r, app, theme, focus == Pane::Keys);
    }
    if let Some(r) = p.timeline {
        timeline::render(frame, r, app, theme, focus == Pane::Timeline);
    }
    status::render(frame, p.status, app, theme);
    footer::render(frame, p.footer, app, theme);
    overlay::render(frame, area, app, theme);
    util::clean_buffer(frame.buffer_mut(), app.model.fleet.timeline.redactor());
}

/// The first visible tree line for a selection at `pos` in `height` lines:
/// the tree widget keeps the selection in view the same way.
pub fn tree_window_start(pos: usize, height: usize) -> usize {
    if height > 0 && pos >= height { pos + 1 - height } else { 0 }
}

/// The visible node shown on line `row` of the tree pane.
pub fn tree_offset(app: &App, row: usize) -> usize {
    let visible = app.visible_nodes();
    let pos = app.selected_node().and_then(|s| visible.iter().position(|&i| i == s)).unwrap_or(0);
    let height = usize::from(layout::panes(app.size.0, app.size.1, app.views.focus).rows(Pane::Tree));
    tree_window_start(pos, height) + row
}

/// The row index shown on line `row` of the table's body, `height` lines tall.
pub fn table_offset(table: &TableView, row: usize, height: usize) -> usize {
    // The renderer windows the rows around the selection the same way.
    util::window(table.selected, table.rows.len(), height).0 + row
}
