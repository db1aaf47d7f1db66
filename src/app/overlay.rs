//! What sits on top of the panes, besides a confirmation (that belongs to
//! the action lifecycle): help, details, a blocked action, text input, the
//! command palette.

use crate::actions::plan::Plan;
use crate::keys::{Command, Context};

#[derive(Debug, Clone, PartialEq)]
pub enum Overlay {
    /// The keys valid where the operator was, and the symbols.
    Help {
        /// The context the help is about.
        about: Context,
        scroll: u16,
    },
    /// Why an action cannot run.
    Blocked(Box<Plan>),
    NodeDetail {
        node: usize,
        scroll: u16,
    },
    DeploymentDetail {
        id: String,
        scroll: u16,
    },
    /// One timeline line, whole (`index` counts from the newest).
    TimelineDetail {
        index: usize,
        scroll: u16,
    },
    /// A model name clients send.
    Input {
        prompt: String,
        text: String,
    },
    /// `:` — a command by name, with completion.
    Palette {
        text: String,
        /// The completion cycled to with Tab.
        choice: usize,
    },
}

impl Overlay {
    /// Where keys pressed on it are looked up.
    pub fn context(&self) -> Option<Context> {
        Some(match self {
            Self::Help { .. } => Context::Help,
            Self::NodeDetail { .. } | Self::DeploymentDetail { .. } | Self::TimelineDetail { .. } => Context::Detail,
            Self::Input { .. } => Context::Text,
            Self::Palette { .. } => Context::Palette,
            // Any key closes it.
            Self::Blocked(_) => return None,
        })
    }

    /// Scroll a scrollable overlay; `true` when the command was a scroll.
    pub fn scroll(&mut self, cmd: Command) -> bool {
        let (Self::Help { scroll: s, .. }
        | Self::NodeDetail { scroll: s, .. }
        | Self::DeploymentDetail { scroll: s, .. }
        | Self::TimelineDetail { scroll: s, .. }) = self
        else {
            return false;
        };
        *s = match cmd {
            Command::Up => s.saturating_sub(1),
            Command::Down => s.saturating_add(1),
            Command::PageUp => s.saturating_sub(10),
            Command::PageDown => s.saturating_add(10),
            Command::Top => 0,
            Command::Bottom => u16::MAX / 2,
            _ => return false,
        };
        true
    }
}
