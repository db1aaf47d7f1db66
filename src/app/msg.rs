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
    /// The demo staged another incident.
    DemoSwitched(Result<crate::demo::scenario::DemoStage, String>),
    /// SIGTERM, SIGHUP, SIGINT.
    Quit,
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
