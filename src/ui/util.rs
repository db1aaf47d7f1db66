//! Small helpers shared by the panes, and the TUI's own text cleaning.
//!
//! Gateway text reaches many widgets. Ratatui drops control characters
//! itself, but not bidi overrides or zero-width characters (it glues them
//! to the previous cell, and the terminal then reorders or hides what
//! follows), and it measures an emoji ZWJ sequence as one 2-column glyph
//! where many terminals draw each emoji, leaving shifted borders and stale
//! cells. [`clean`] replaces those characters visibly in text the panes cut
//! to width ([`fit`], by grapheme and display width); [`clean_buffer`] is
//! the net under every widget, run on the finished frame: it strips what is
//! left, collapses joined sequences to one glyph, and masks any known
//! secret still on screen.

use std::borrow::Cow;
use std::time::{Duration, SystemTime};

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

use crate::sanitize::is_hidden;

/// Shown in place of a hidden character.
pub const REPLACEMENT: char = '\u{FFFD}';

/// Variation selectors pick a glyph's presentation (text or emoji, and so
/// its width on some terminals and not others): dropped in the TUI.
fn is_variation_selector(c: char) -> bool {
    matches!(c, '\u{FE00}'..='\u{FE0F}' | '\u{E0100}'..='\u{E01EF}')
}

/// Gateway text for the screen: bidi, zero-width and other hidden
/// characters replaced by `�`, controls too, variation selectors dropped.
pub fn clean(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| c.is_control() || is_hidden(c) || is_variation_selector(c)) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .filter(|c| !is_variation_selector(*c))
            .map(|c| if c.is_control() || is_hidden(c) { REPLACEMENT } else { c })
            .collect(),
    )
}

/// The safety net under every widget, run on the finished frame: cells
/// keep no hidden character or variation selector, a joined sequence
/// (emoji ZWJ) becomes its first glyph, and any known secret that reached
/// the screen is overwritten with `*` in place.
pub fn clean_buffer(buf: &mut Buffer, redactor: &crate::secret::Redactor) {
    for cell in &mut buf.content {
        let sym = cell.symbol();
        if sym.len() == 1 {
            continue;
        }
        if !sym.chars().any(|c| is_hidden(c) || is_variation_selector(c) || c.is_control()) {
            continue;
        }
        let joined = sym.contains('\u{200D}');
        let kept: String =
            sym.chars().filter(|c| !(is_hidden(*c) || is_variation_selector(*c) || c.is_control())).collect();
        let fixed: String = if joined { kept.chars().take(1).collect() } else { kept };
        // Never wider than ratatui laid the cell out; an emptied cell is a blank.
        let fixed = if fixed.is_empty() || fixed.width() > sym.width().max(1) { " ".to_owned() } else { fixed };
        cell.set_symbol(&fixed);
    }
    if redactor.is_empty() {
        return;
    }
    let (w, h) = (usize::from(buf.area.width), usize::from(buf.area.height));
    for y in 0..h {
        let row = &mut buf.content[y * w..(y + 1) * w];
        let mut text = String::with_capacity(w);
        let mut starts = Vec::with_capacity(w);
        for cell in row.iter() {
            starts.push(text.len());
            text.push_str(cell.symbol());
        }
        for range in redactor.known_ranges(&text) {
            for (i, start) in starts.iter().enumerate() {
                if range.contains(start) {
                    row[i].set_symbol("*");
                }
            }
        }
    }
}

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

/// [`clean`] and cut to `width` display columns (measured per grapheme,
/// so wide and combined characters count as the terminal draws them), with
/// an ellipsis.
pub fn fit(s: &str, width: usize) -> String {
    let s = clean(s);
    if s.width() <= width {
        return s.into_owned();
    }
    if width == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for g in s.graphemes(true) {
        let gw = g.width();
        if used + gw > width - 1 {
            break;
        }
        out.push_str(g);
        used += gw;
    }
    out.push('…');
    out
}

/// Like [`fit`], but the cut is in the middle: the head says what happened,
/// the tail keeps the end of a path or an error (`…/incident-2026….md`).
pub fn fit_middle(s: &str, width: usize) -> String {
    let s = clean(s);
    if s.width() <= width {
        return s.into_owned();
    }
    if width < 8 {
        return fit(&s, width);
    }
    let graphemes: Vec<&str> = s.graphemes(true).collect();
    let tail_room = (width - 1) / 2;
    let head_room = width - 1 - tail_room;
    let (mut head, mut used) = (String::new(), 0);
    for g in &graphemes {
        if used + g.width() > head_room {
            break;
        }
        head.push_str(g);
        used += g.width();
    }
    let (mut tail, mut used) = (Vec::new(), 0);
    for g in graphemes.iter().rev() {
        if used + g.width() > tail_room {
            break;
        }
        tail.push(*g);
        used += g.width();
    }
    tail.reverse();
    format!("{head}…{}", tail.concat())
}

/// Tree prose names the shipped action keys in parentheses ("restart every
/// worker (R)"); with the operator's `keys:` in force it names theirs, or the
/// palette command when the action is bound to nothing.
pub fn with_keys(text: &str, bindings: &crate::keys::Bindings) -> String {
    use crate::keys::{ActionKind, Bindings, Command, Context};
    if !text.contains('(') {
        return text.to_owned();
    }
    let shipped = Bindings::default();
    let mut out = text.to_owned();
    for a in ActionKind::ALL {
        let cmd = Command::Action(a);
        let Some(default) = shipped.key_label(Context::Actions, cmd) else { continue };
        let now = bindings.key_label(Context::Actions, cmd).unwrap_or_else(|| format!(":{}", cmd.name()));
        if now != default {
            out = out.replace(&format!("({default})"), &format!("({now})"));
        }
    }
    out
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

/// Failures per minute as bars (`·`: no data there; blank: none failed).
pub fn spark(values: &[Option<f64>]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let max = values.iter().flatten().copied().fold(0.0_f64, f64::max);
    values
        .iter()
        .map(|v| match v {
            None => '·',
            Some(x) if *x <= 0.0 || max <= 0.0 => ' ',
            Some(x) => {
                let level = ((x / max) * 7.0).round().clamp(0.0, 7.0);
                BARS[(0..8_usize).find(|i| f64::from(u8::try_from(*i).unwrap_or(7)) >= level).unwrap_or(7)]
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_prose_names_the_keys_in_force() {
        let text = "Restart every worker (R). Test it (t), then enable it (x).";
        assert_eq!(with_keys(text, &crate::keys::Bindings::default()), text);
        let overrides = vec![
            ("restart".to_owned(), vec![crate::keys::KeySpec::parse("X").unwrap()]),
            ("toggle".to_owned(), Vec::new()),
        ];
        let b = crate::keys::Bindings::with_overrides(&overrides).unwrap();
        assert_eq!(with_keys(text, &b), "Restart every worker (X). Test it (t), then enable it (:toggle).");
    }

    #[test]
    fn fit_middle_keeps_the_head_and_the_end_of_a_path() {
        let msg = "incident report written to /home/oncall/.local/state/gatewatch/reports/incident-20261201-144032.md";
        let out = fit_middle(msg, 48);
        assert_eq!(out.width(), 48, "{out}");
        assert!(out.starts_with("incident report written") && out.ends_with("144032.md"), "{out}");
        assert_eq!(fit_middle("short", 48), "short");
        assert_eq!(fit_middle("résumé 漢字 text that is long", 12).width(), 12);
    }

    #[test]
    fn wraps_with_indent() {
        let l = wrap("one two three four five six", 10, "  ");
        assert_eq!(l, vec!["one two", "  three", "  four", "  five six"]);
    }

    #[test]
    fn fit_measures_display_width_and_cleans() {
        assert_eq!(fit("gpt-4o", 10), "gpt-4o");
        assert_eq!(fit("模型模型模型", 7), "模型模…");
        assert_eq!(fit("admin\u{202e}fdp.exe", 20), "admin\u{fffd}fdp.exe");
        assert_eq!(fit("a\u{200b}b", 5), "a\u{fffd}b");
        assert_eq!(fit("❤\u{fe0f} ok", 10), "❤ ok");
        assert!(fit("模型模型", 7).width() <= 7);
    }

    #[test]
    fn the_frame_keeps_no_hidden_character_and_no_known_secret() {
        use ratatui::widgets::{Paragraph, Widget};
        let area = Rect::new(0, 0, 40, 3);
        let mut buf = Buffer::empty(area);
        Paragraph::new(
            "x\u{202e}evil \u{1f468}\u{200d}\u{1f469}\u{200d}\u{1f467} end\nkey sk-not-fingerprinted-0001 here",
        )
        .render(area, &mut buf);
        let r = crate::secret::Redactor::new([crate::secret::Secret::new("sk-not-fingerprinted-0001")]);
        clean_buffer(&mut buf, &r);
        let mut all = String::new();
        for c in &buf.content {
            all.push_str(c.symbol());
            assert!(c.symbol().width() <= 2, "{:?}", c.symbol());
        }
        assert!(!all.chars().any(is_hidden), "{all:?}");
        assert!(all.contains("xevil \u{1f468}"), "{all:?}");
        assert!(!all.contains("sk-not-fingerprinted") && all.contains("key *"), "{all:?}");
    }

    #[test]
    fn window_keeps_selection_visible() {
        assert_eq!(window(0, 100, 10), (0, 10));
        assert_eq!(window(15, 100, 10), (6, 16));
        assert_eq!(window(99, 100, 10), (90, 100));
        assert_eq!(window(0, 0, 10), (0, 0));
    }
}
