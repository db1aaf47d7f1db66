//! What goes into `App::update` and what comes out.

use std::path::PathBuf;
use std::time::SystemTime;

use crossterm::event::KeyEvent;

use crate::actions::ActionEvent;
use crate::actions::plan::Plan;
use crate::fleet::PollReport;

#[derive(Debug, Clone)]
pub enum Msg {
    Key(KeyEvent),
    /// Time passes (the only clock `update` knows).
    Tick(SystemTime),
    Resize(u16, u16),
    Poll(Box<PollReport>),
    /// The last full list of a gateway from an earlier run, shown until its
    /// first poll lands.
    Seed(Box<crate::snapshot::ListSnapshot>),
    Action(ActionEvent),
    Exported(Result<PathBuf, String>),
    /// The operator's validate_command finished (pre-flight of a restart).
    Validated {
        id: u64,
        gateway: usize,
        ok: bool,
        output: String,
    },
    /// An audit record could not be synced (`Some(why)`), or could be again (`None`).
    AuditProblem(Option<String>),
    /// The demo staged another incident on `gateway`.
    DemoStaged {
        gateway: usize,
        stage: Result<crate::demo::scenario::DemoStage, String>,
    },
    /// A click or the wheel (unless mouse support is off).
    Mouse(Mouse),
    /// SIGTERM, SIGHUP, SIGINT.
    Quit,
}

/// A mouse event, as the app needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mouse {
    pub kind: MouseKind,
    pub column: u16,
    pub row: u16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MouseKind {
    Click,
    ScrollUp,
    ScrollDown,
}

impl Mouse {
    /// The events gatewatch reads; others (moves, drags, releases) are `None`.
    pub fn from_event(ev: &crossterm::event::MouseEvent) -> Option<Self> {
        use crossterm::event::{MouseButton, MouseEventKind};
        let kind = match ev.kind {
            MouseEventKind::Down(MouseButton::Left) => MouseKind::Click,
            MouseEventKind::ScrollUp => MouseKind::ScrollUp,
            MouseEventKind::ScrollDown => MouseKind::ScrollDown,
            _ => return None,
        };
        Some(Self { kind, column: ev.column, row: ev.row })
    }
}

/// Work for the event loop: I/O the app asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Refresh(usize),
    Run {
        id: u64,
        plan: Box<Plan>,
    },
    Export {
        path: PathBuf,
        markdown: String,
    },
    /// Run the gateway's validate_command and answer with `Msg::Validated`.
    Validate {
        id: u64,
        gateway: usize,
        command: String,
    },
    /// `gatewatch demo`: stage the next incident.
    DemoNext,
    Quit,
}
