//! Where each pane goes, for a terminal size: a pure function shared by the
//! renderer and the app (page sizes, mouse clicks), so both agree.
//!
//! - Below 100x30 (80x24): focused mode — the focused pane fills the body,
//!   with the evidence under the tree; Tab cycles the panes.
//! - 100 columns and more: tree over evidence | table over keys, timeline below.
//! - 160 columns and more: the same, with the tree and tables taking the
//!   width and the height (the timeline grows with the height).
//!
//! A header line on top; the status line and the key hints at the bottom.

use ratatui::layout::{Constraint, Layout, Rect};

use crate::app::Pane;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Panes {
    pub header: Rect,
    pub tree: Option<Rect>,
    pub evidence: Option<Rect>,
    pub table: Option<Rect>,
    pub keys: Option<Rect>,
    pub timeline: Option<Rect>,
    pub status: Rect,
    pub footer: Rect,
    /// One pane at a time (small terminals).
    pub focused_mode: bool,
}

impl Panes {
    pub fn of(&self, pane: Pane) -> Option<Rect> {
        match pane {
            Pane::Tree => self.tree,
            Pane::Deployments => self.table,
            Pane::Keys => self.keys,
            Pane::Timeline => self.timeline,
        }
    }

    /// Lines of content a pane shows (inside its border; the table's header excluded).
    pub fn rows(&self, pane: Pane) -> u16 {
        let extra = if pane == Pane::Deployments { 3 } else { 2 };
        self.of(pane).map_or(1, |r| r.height.saturating_sub(extra).max(1))
    }

    /// The pane under a screen position, and the line inside its border.
    pub fn hit(&self, column: u16, row: u16) -> Option<(Pane, u16)> {
        [Pane::Tree, Pane::Deployments, Pane::Keys, Pane::Timeline].into_iter().find_map(|p| {
            let r = self.of(p)?;
            let inside = column >= r.x && column < r.x + r.width && row > r.y && row + 1 < r.y + r.height;
            inside.then(|| (p, row - r.y - 1))
        })
    }
}

/// The panes for a terminal of `width` x `height` with `focus`.
pub fn panes(width: u16, height: u16, focus: Pane) -> Panes {
    let area = Rect::new(0, 0, width, height);
    let focused_mode = width < 100 || height < 30;
    let timeline_h = match height {
        h if h >= 70 => 14,
        h if h >= 40 => 9,
        _ => 7,
    };
    let [header, body, timeline, status, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(6),
        Constraint::Length(if focused_mode { 0 } else { timeline_h }),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    let mut p = Panes {
        header,
        tree: None,
        evidence: None,
        table: None,
        keys: None,
        timeline: None,
        status,
        footer,
        focused_mode,
    };
    if focused_mode {
        match focus {
            Pane::Tree => {
                let ev_h = if body.height >= 16 { 7 } else { 5 };
                let [t, e] = Layout::vertical([Constraint::Min(4), Constraint::Length(ev_h)]).areas(body);
                p.tree = Some(t);
                p.evidence = Some(e);
            }
            Pane::Deployments => p.table = Some(body),
            Pane::Keys => p.keys = Some(body),
            Pane::Timeline => p.timeline = Some(body),
        }
        return p;
    }
    let (left_pct, tree_pct) = if width >= 160 { (46, 62) } else { (44, 56) };
    let [l, r] =
        Layout::horizontal([Constraint::Percentage(left_pct), Constraint::Percentage(100 - left_pct)]).areas(body);
    let [t, e] = Layout::vertical([Constraint::Percentage(tree_pct), Constraint::Percentage(100 - tree_pct)]).areas(l);
    let [d, k] = Layout::vertical([Constraint::Percentage(58), Constraint::Percentage(42)]).areas(r);
    p.tree = Some(t);
    p.evidence = Some(e);
    p.table = Some(d);
    p.keys = Some(k);
    p.timeline = Some(timeline);
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_terminals_show_one_pane_and_large_ones_use_the_space() {
        let small = panes(80, 24, Pane::Tree);
        assert!(small.focused_mode && small.tree.is_some() && small.table.is_none());
        assert!(small.tree.unwrap().height >= 10, "{small:?}");
        let table = panes(80, 24, Pane::Deployments);
        assert_eq!(table.table.unwrap().width, 80);
        let wide = panes(200, 60, Pane::Tree);
        assert!(!wide.focused_mode);
        assert!(wide.tree.unwrap().width >= 90 && wide.tree.unwrap().height >= 25, "{wide:?}");
        // A click lands on the pane under it, on the line inside the border.
        let t = wide.tree.unwrap();
        assert_eq!(wide.hit(t.x + 2, t.y + 3), Some((Pane::Tree, 2)));
        assert_eq!(wide.hit(t.x + 2, t.y), None, "the border is not a line");
    }
}
