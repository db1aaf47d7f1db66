//! Small helpers shared by the panes.

use std::time::{Duration, SystemTime};

use ratatui::layout::{Constraint, Flex, Layout, Rect};

/// "3s ago", "4m ago".
pub fn ago(now: SystemTime, t: SystemTime) -> String {
    match now.duration_since(t) {
        Ok(d) if d < Duration::from_secs(1) => "just now".into(),
        Ok(d) => format!("{} ago", crate::config::duration::human(d)),
        Err(_) => "just now".into(),
    }
}

/// HH:MM:SS in UTC.
pub fn clock(t: SystemTime) -> String {
    let dt: time::OffsetDateTime = t.into();
    format!("{:02}:{:02}:{:02}", dt.hour(), dt.minute(), dt.second())
}

/// Unix seconds as a relative age.
pub fn ago_unix(now: SystemTime, unix: i64) -> String {
    let t = SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(unix).unwrap_or(0));
    ago(now, t)
}

/// Cut to `width` display columns (counting chars), with an ellipsis.
pub fn fit(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        s.to_owned()
    } else if width == 0 {
        String::new()
    } else {
        let mut out: String = s.chars().take(width - 1).collect();
        out.push('…');
        out
    }
}

/// A centered rectangle of at most `w`x`h` inside `area`.
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let [v] = Layout::vertical([Constraint::Length(h.min(area.height))]).flex(Flex::Center).areas(area);
    let [c] = Layout::horizontal([Constraint::Length(w.min(area.width))]).flex(Flex::Center).areas(v);
    c
}

/// Word-wrap to `width`, keeping a hanging indent for continuation lines.
pub fn wrap(text: &str, width: usize, indent: &str) -> Vec<String> {
    let width = width.max(10);
    let mut lines = Vec::new();
    let mut cur = String::new();
    for word in text.split_whitespace() {
        let extra = usize::from(!cur.is_empty());
        if cur.chars().count() + extra + word.chars().count() > width && !cur.is_empty() {
            lines.push(std::mem::take(&mut cur));
            cur.push_str(indent);
        } else if extra == 1 {
            cur.push(' ');
        }
        cur.push_str(word);
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    if lines.is_empty() {
        lines.push(String::new());
    }
    lines
}

/// The window of rows to show so that `selected` is visible in `height` rows.
pub fn window(selected: usize, len: usize, height: usize) -> (usize, usize) {
    if height == 0 || len == 0 {
        return (0, 0);
    }
    let start = if selected >= height { selected + 1 - height } else { 0 };
    (start, (start + height).min(len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_with_indent() {
        let l = wrap("one two three four five six", 10, "  ");
        assert_eq!(l, vec!["one two", "  three", "  four", "  five six"]);
    }

    #[test]
    fn window_keeps_selection_visible() {
        assert_eq!(window(0, 100, 10), (0, 10));
        assert_eq!(window(15, 100, 10), (6, 16));
        assert_eq!(window(99, 100, 10), (90, 100));
        assert_eq!(window(0, 0, 10), (0, 0));
    }
}
