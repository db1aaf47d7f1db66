//! One key, as the operator writes it in the config and reads it in `?`.

use std::fmt;

/// A key without modifiers. Letters keep their case: `R` is shift+r.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Key {
    Char(char),
    F(u8),
    Enter,
    Esc,
    Tab,
    BackTab,
    Backspace,
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    Home,
    End,
}

/// A key with the modifiers that matter (shift is in the character).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeySpec {
    pub key: Key,
    pub ctrl: bool,
    pub alt: bool,
}

impl KeySpec {
    pub const fn plain(key: Key) -> Self {
        Self { key, ctrl: false, alt: false }
    }

    pub const fn ch(c: char) -> Self {
        Self::plain(Key::Char(c))
    }

    pub const fn ctrl(c: char) -> Self {
        Self { key: Key::Char(c), ctrl: true, alt: false }
    }

    /// Parse `x`, `X`, `ctrl-p`, `alt-x`, `shift-tab`, `f5`, `enter`, `esc`,
    /// `tab`, `space`, `up`, `pgdn`, `home`, `?`, `/`, `:`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        if t.is_empty() {
            return Err("an empty key".into());
        }
        let (mut ctrl, mut alt, mut shift) = (false, false, false);
        let mut rest = t;
        loop {
            let lower = rest.to_ascii_lowercase();
            let Some((m, tail)) = lower.split_once(['-', '+']).filter(|(_, tail)| !tail.is_empty()) else { break };
            match m {
                "ctrl" | "c" => ctrl = true,
                "alt" | "m" | "meta" => alt = true,
                "shift" | "s" => shift = true,
                _ => break,
            }
            rest = &rest[rest.len() - tail.len()..];
        }
        let key = match rest.to_ascii_lowercase().as_str() {
            "enter" | "return" => Key::Enter,
            "esc" | "escape" => Key::Esc,
            "tab" if shift => Key::BackTab,
            "tab" => Key::Tab,
            "backtab" => Key::BackTab,
            "backspace" | "bs" => Key::Backspace,
            "up" => Key::Up,
            "down" => Key::Down,
            "left" => Key::Left,
            "right" => Key::Right,
            "pgup" | "pageup" => Key::PageUp,
            "pgdn" | "pagedown" => Key::PageDown,
            "home" => Key::Home,
            "end" => Key::End,
            "space" => Key::Char(' '),
            f if f.len() >= 2 && f.starts_with('f') && f[1..].chars().all(|c| c.is_ascii_digit()) => {
                let n: u8 = f[1..].parse().map_err(|_| format!("no such key {text:?}"))?;
                if !(1..=12).contains(&n) {
                    return Err(format!("no such key {text:?} (f1 to f12)"));
                }
                Key::F(n)
            }
            _ => {
                let mut chars = rest.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) if !c.is_control() => {
                        Key::Char(if shift || (ctrl && c.is_ascii_uppercase()) { c.to_ascii_uppercase() } else { c })
                    }
                    _ => return Err(format!("no such key {text:?}")),
                }
            }
        };
        // Control letters arrive lower-case from terminals.
        let key = match key {
            Key::Char(c) if ctrl => Key::Char(c.to_ascii_lowercase()),
            k => k,
        };
        Ok(Self { key, ctrl, alt })
    }
}

impl fmt::Display for KeySpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("Ctrl-")?;
        }
        if self.alt {
            f.write_str("Alt-")?;
        }
        match self.key {
            Key::Char(' ') => f.write_str("Space"),
            Key::Char(c) => write!(f, "{c}"),
            Key::F(n) => write!(f, "F{n}"),
            Key::Enter => f.write_str("Enter"),
            Key::Esc => f.write_str("Esc"),
            Key::Tab => f.write_str("Tab"),
            Key::BackTab => f.write_str("Shift-Tab"),
            Key::Backspace => f.write_str("Backspace"),
            Key::Up => f.write_str("↑"),
            Key::Down => f.write_str("↓"),
            Key::Left => f.write_str("←"),
            Key::Right => f.write_str("→"),
            Key::PageUp => f.write_str("PgUp"),
            Key::PageDown => f.write_str("PgDn"),
            Key::Home => f.write_str("Home"),
            Key::End => f.write_str("End"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_operators_write() {
        assert_eq!(KeySpec::parse("R").unwrap(), KeySpec::ch('R'));
        assert_eq!(KeySpec::parse("shift-r").unwrap(), KeySpec::ch('R'));
        assert_eq!(KeySpec::parse("ctrl-p").unwrap(), KeySpec::ctrl('p'));
        assert_eq!(KeySpec::parse("Ctrl+P").unwrap(), KeySpec::ctrl('p'));
        assert_eq!(KeySpec::parse("shift-tab").unwrap(), KeySpec::plain(Key::BackTab));
        assert_eq!(KeySpec::parse("f5").unwrap(), KeySpec::plain(Key::F(5)));
        assert_eq!(KeySpec::parse("pgdn").unwrap(), KeySpec::plain(Key::PageDown));
        assert_eq!(KeySpec::parse(":").unwrap(), KeySpec::ch(':'));
        assert_eq!(KeySpec::parse("-").unwrap(), KeySpec::ch('-'));
        assert_eq!(KeySpec::parse("alt-x").unwrap(), KeySpec { key: Key::Char('x'), ctrl: false, alt: true });
        for bad in ["", "ctrl-", "f13", "nope", "xy", "hyper-x"] {
            assert!(KeySpec::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn shown_as_parsed() {
        for k in ["R", "Ctrl-p", "F5", "Shift-Tab", "Esc", "PgDn", "Space"] {
            assert_eq!(KeySpec::parse(k).unwrap().to_string(), k);
        }
    }
}
