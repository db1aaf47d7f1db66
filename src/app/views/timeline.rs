//! The timeline's view: a cursor on one line (0 = the newest, shown at the
//! bottom), so any line can be opened whole.

use crate::keys::Command;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimelineView {
    /// The selected line, counted from the newest.
    pub selected: usize,
}

impl TimelineView {
    /// Handle a moving command over `len` lines; `Some(i)`: open line `i` (from the newest).
    pub fn handle(&mut self, cmd: Command, len: usize, page: usize) -> Option<usize> {
        let last = len.saturating_sub(1);
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
