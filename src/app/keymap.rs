//! Keys to commands, per context. The help overlay is generated from the
//! same table, so it lists exactly the keys that work where the operator is.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Where the keyboard focus is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Tree,
    Deployments,
    Keys,
    Timeline,
}

impl Pane {
    pub fn next(self) -> Self {
        match self {
            Self::Tree => Self::Deployments,
            Self::Deployments => Self::Keys,
            Self::Keys => Self::Timeline,
            Self::Timeline => Self::Tree,
        }
    }

    pub fn prev(self) -> Self {
        match self {
            Self::Tree => Self::Timeline,
            Self::Deployments => Self::Tree,
            Self::Keys => Self::Deployments,
            Self::Timeline => Self::Keys,
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Self::Tree => "Triage",
            Self::Deployments => "Deployments",
            Self::Keys => "Keys",
            Self::Timeline => "Timeline",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Quit,
    Help,
    NextPane,
    PrevPane,
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Enter,
    Filter,
    Escape,
    Gateway(usize),
    PrevGateway,
    NextGateway,
    Refresh,
    Sort,
    SortReverse,
    Export,
    TypeModel,
    /// `gatewatch demo` only: stage the next incident.
    DemoNext,
    /// An action hotkey (p r R H f s t T b B x).
    Action(char),
}

/// Map a key outside overlays and text input.
pub fn command(key: KeyEvent) -> Option<Command> {
    if key.modifiers.contains(KeyModifiers::CONTROL) {
        return match key.code {
            KeyCode::Char('c') => Some(Command::Quit),
            KeyCode::Char('r') => Some(Command::Refresh),
            KeyCode::Char('d') => Some(Command::PageDown),
            KeyCode::Char('u') => Some(Command::PageUp),
            _ => None,
        };
    }
    Some(match key.code {
        KeyCode::Char('q') => Command::Quit,
        KeyCode::Char('?') | KeyCode::F(1) => Command::Help,
        KeyCode::Tab => Command::NextPane,
        KeyCode::BackTab => Command::PrevPane,
        KeyCode::Up | KeyCode::Char('k') => Command::Up,
        KeyCode::Down | KeyCode::Char('j') => Command::Down,
        KeyCode::Left | KeyCode::Char('h') => Command::Left,
        KeyCode::Right | KeyCode::Char('l') => Command::Right,
        KeyCode::PageUp => Command::PageUp,
        KeyCode::PageDown => Command::PageDown,
        KeyCode::Home | KeyCode::Char('g') => Command::Top,
        KeyCode::End | KeyCode::Char('G') => Command::Bottom,
        KeyCode::Enter | KeyCode::Char(' ') => Command::Enter,
        KeyCode::Char('/') => Command::Filter,
        KeyCode::Esc => Command::Escape,
        KeyCode::Char(c @ '1'..='9') => Command::Gateway(c as usize - '1' as usize),
        KeyCode::Char('[') => Command::PrevGateway,
        KeyCode::Char(']') => Command::NextGateway,
        KeyCode::Char('u') | KeyCode::F(5) => Command::Refresh,
        KeyCode::Char('o') => Command::Sort,
        KeyCode::Char('O') => Command::SortReverse,
        KeyCode::Char('e') => Command::Export,
        KeyCode::Char('m') => Command::TypeModel,
        KeyCode::Char('n') => Command::DemoNext,
        KeyCode::Char(c @ ('p' | 'r' | 'R' | 'H' | 'f' | 's' | 't' | 'T' | 'b' | 'B' | 'x')) => Command::Action(c),
        _ => return None,
    })
}

/// One help line: keys, what they do.
pub type HelpLine = (&'static str, &'static str);

pub const GLOBAL_HELP: &[HelpLine] = &[
    ("?", "this help"),
    ("q  Ctrl-c", "quit (the terminal is restored)"),
    ("Tab  Shift-Tab", "next / previous pane"),
    ("1-9  [  ]", "switch gateway"),
    ("u  Ctrl-r", "refresh now"),
    ("/", "filter deployments (field:value, ! to invert; Esc clears)"),
    ("m", "add a model name clients send (for the name check)"),
    ("e", "export the incident report (Markdown)"),
];

pub const MOVE_HELP: &[HelpLine] = &[
    ("↑ ↓  j k", "move"),
    ("← →  h l", "collapse / expand (tree)"),
    ("PgUp PgDn  g G", "page, top, bottom"),
    ("Enter", "expand / details"),
    ("o  O", "sort by next column / reverse (deployments)"),
];

pub const LITELLM_ACTIONS: &[HelpLine] = &[
    ("R", "restart (configured command), then verify every replica"),
    ("r", "reload (configured command; gunicorn HUP only)"),
    ("p", "purge the Redis response cache (/cache/flushall)"),
    ("H", "probe all deployments (/health: one paid request each)"),
    ("f", "route probe: which deployment serves each alias (paid)"),
    ("s", "stream probe through the gateway (paid)"),
];

pub const NEWAPI_ACTIONS: &[HelpLine] = &[
    ("t", "test the selected channel (paid)"),
    ("T", "test all channels (paid, in the background)"),
    ("x", "enable / disable the selected channel"),
    ("b", "refresh the selected channel's balance"),
    ("B", "update ALL balances (disables channels at ≤ 0; asks twice)"),
    ("R  r", "restart / reload the nodes (configured commands)"),
];

pub const DEMO_HELP: &[HelpLine] =
    &[("n", "stage the next incident (stale key, model names, costs, streaming, restart pre-flight, security)")];

/// What the tree's symbols mean, and how a parent rolls its children up.
pub const SYMBOL_HELP: &[HelpLine] = &[
    ("✓", "answered, and passes: a parent only when every part that applies is answered and passes"),
    ("✗  !", "fails / warns: a failing or warning part makes its parent fail or warn"),
    ("?", "not answered yet (no data, not probed, or a stale probe); a parent says \"n of m answered\""),
    ("·", "no live data can answer this question: its details say what to ask instead"),
    ("-", "does not apply to this gateway"),
    ("•", "an action that ran and found something (its words say what)"),
];

pub const CONFIRM_HELP: &[HelpLine] =
    &[("y", "run it"), ("Y", "run anyway (second confirmation)"), ("n  Esc", "cancel")];

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    #[test]
    fn vim_and_arrow_keys_agree() {
        assert_eq!(command(key(KeyCode::Char('j'))), command(key(KeyCode::Down)));
        assert_eq!(command(key(KeyCode::Char('h'))), command(key(KeyCode::Left)));
        assert_eq!(command(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)), Some(Command::Quit));
        assert_eq!(command(key(KeyCode::Char('R'))), Some(Command::Action('R')));
        assert_eq!(command(key(KeyCode::Char('3'))), Some(Command::Gateway(2)));
    }
}
