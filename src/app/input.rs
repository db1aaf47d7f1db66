//! Terminal input as gatewatch's own key type: the only place the terminal
//! library's key events are read.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use crate::keys::{Key, KeySpec};

/// The key pressed, or `None` for a release or a key gatewatch never binds.
pub fn spec(ev: &KeyEvent) -> Option<KeySpec> {
    if ev.kind == KeyEventKind::Release {
        return None;
    }
    let key = match ev.code {
        KeyCode::Char(c) => Key::Char(c),
        KeyCode::F(n) => Key::F(n),
        KeyCode::Enter => Key::Enter,
        KeyCode::Esc => Key::Esc,
        KeyCode::Tab => Key::Tab,
        KeyCode::BackTab => Key::BackTab,
        KeyCode::Backspace => Key::Backspace,
        KeyCode::Up => Key::Up,
        KeyCode::Down => Key::Down,
        KeyCode::Left => Key::Left,
        KeyCode::Right => Key::Right,
        KeyCode::PageUp => Key::PageUp,
        KeyCode::PageDown => Key::PageDown,
        KeyCode::Home => Key::Home,
        KeyCode::End => Key::End,
        _ => return None,
    };
    let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
    let alt = ev.modifiers.contains(KeyModifiers::ALT);
    // Terminals send Ctrl-letters lower-case, and Shift is in the character.
    let key = match key {
        Key::Char(c) if ctrl => Key::Char(c.to_ascii_lowercase()),
        k => k,
    };
    Some(KeySpec { key, ctrl, alt })
}

/// A plain character typed into a text field (no Ctrl or Alt).
pub fn typed(k: KeySpec) -> Option<char> {
    match k.key {
        Key::Char(c) if !k.ctrl && !k.alt && !c.is_control() => Some(c),
        _ => None,
    }
}
