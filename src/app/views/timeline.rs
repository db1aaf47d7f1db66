//! The timeline's view: a cursor on one line (0 = the newest, shown at the
//! bottom), so any line can be opened whole.

use crate::keys::Command;
use crate::timeline::{TimelineEntry, TimelineKind};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimelineView {
    /// The selected line, counted from the newest (of the lines shown).
    pub selected: usize,
    /// "What changed": only what was seen changing on the gateways (status
    /// transitions, re-keyed or added deployments, key fingerprints in the
    /// files, replicas coming and going) and the actions with their checks.
    pub changes_only: bool,
}

/// Whether a line belongs to the "what changed" view.
pub fn is_change(e: &TimelineEntry) -> bool {
    matches!(e.kind, TimelineKind::Seen | TimelineKind::Action | TimelineKind::Verify)
}

/// The positions (oldest first) of the lines shown.
pub fn shown<'a>(entries: impl Iterator<Item = &'a TimelineEntry>, changes_only: bool) -> Vec<usize> {
    entries.enumerate().filter(|(_, e)| !changes_only || is_change(e)).map(|(i, _)| i).collect()
}

/// The lines shown in a pane `height` lines high, as `start..end` (oldest
/// first): the window ends at the newest line, or follows the cursor back.
pub fn window(len: usize, selected: usize, height: usize) -> (usize, usize) {
    let selected = selected.min(len.saturating_sub(1));
    let end = len.saturating_sub(selected.saturating_sub(height.saturating_sub(1)));
    (end.saturating_sub(height), end)
}

impl TimelineView {
    /// Select the line shown `row` lines under the pane's top border.
    pub fn click(&mut self, row: usize, len: usize, height: usize) {
        let (start, end) = window(len, self.selected, height);
        if start + row < end {
            self.selected = len - 1 - (start + row);
        }
    }

    /// Handle a command over `len` lines shown; `Some(i)`: open shown line `i` (from the newest).
    pub fn handle(&mut self, cmd: Command, len: usize, page: usize) -> Option<usize> {
        let last = len.saturating_sub(1);
        match cmd {
            Command::Filter => {
                self.changes_only = !self.changes_only;
                self.selected = 0;
                return None;
            }
            Command::Back if self.changes_only => {
                self.changes_only = false;
                self.selected = 0;
                return None;
            }
            _ => {}
        }
        let s = &mut self.selected;
        match cmd {
            // The newest line is at the bottom: up goes back in time.
            Command::Up => *s = (*s + 1).min(last),
            Command::Down => *s = s.saturating_sub(1),
            Command::PageUp => *s = (*s + page.max(1)).min(last),
            Command::PageDown => *s = s.saturating_sub(page.max(1)),
            Command::Top => *s = last,
            Command::Bottom => *s = 0,
            Command::Enter | Command::Right if len > 0 => return Some((*s).min(last)),
            _ => {}
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_follows_the_cursor_and_a_click_selects_the_line_under_it() {
        // 10 lines, 4 shown: the newest four (6..10) until the cursor goes further back.
        assert_eq!(window(10, 0, 4), (6, 10));
        assert_eq!(window(10, 3, 4), (6, 10));
        assert_eq!(window(10, 5, 4), (4, 8));
        assert_eq!(window(2, 0, 4), (0, 2));
        let mut v = TimelineView::default();
        v.click(0, 10, 4);
        assert_eq!(v.selected, 3, "the top line shown is the 4th newest");
        v.click(3, 10, 4);
        assert_eq!(v.selected, 0);
        v.click(7, 10, 4);
        assert_eq!(v.selected, 0, "below the last line: nothing changes");
    }

    #[test]
    fn the_filter_shows_what_changed_and_esc_shows_everything_again() {
        let at = std::time::SystemTime::UNIX_EPOCH;
        let e = |kind, text: &str| TimelineEntry { at, gateway: None, kind, text: text.into() };
        let entries = [
            e(TimelineKind::Check, "✗ live-errors"),
            e(TimelineKind::Seen, "gw: claude (3): serving → auto-disabled"),
            e(TimelineKind::Operator, "report exported"),
            e(TimelineKind::Action, "restart"),
        ];
        let mut v = TimelineView { selected: 2, changes_only: false };
        assert_eq!(shown(entries.iter(), false), [0, 1, 2, 3]);
        assert_eq!(v.handle(Command::Filter, 4, 3), None);
        assert!(v.changes_only && v.selected == 0);
        assert_eq!(shown(entries.iter(), true), [1, 3]);
        assert_eq!(v.handle(Command::Up, 2, 3), None);
        assert_eq!(v.handle(Command::Enter, 2, 3), Some(1), "the older of the two shown");
        v.handle(Command::Back, 2, 3);
        assert!(!v.changes_only);
    }
}
