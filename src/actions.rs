//! One-key actions: what each means for each gateway kind (`plan`), running
//! them off the render path (`exec`), the append-only audit log (`audit`),
//! and the check afterwards that the action really worked (`verify`).

pub mod audit;
pub mod exec;
pub mod plan;
pub mod verify;

use std::time::SystemTime;

use crate::gateway::AdminResult;

/// An action the operator can ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GatewayAction {
    Purge,
    Reload,
    Restart,
    /// LiteLLM `/health`: one paid request per deployment.
    ProbeHealth,
    /// One tiny paid request per alias, reading the routing headers.
    RouteProbe,
    /// One tiny streamed request.
    StreamProbe {
        model: String,
    },
    TestChannel {
        id: String,
        name: String,
    },
    TestAll,
    RefreshBalance {
        id: String,
        name: String,
    },
    UpdateAllBalances,
    SetChannelEnabled {
        id: String,
        name: String,
        enable: bool,
    },
}

impl GatewayAction {
    /// The key used in the triage tree and the audit log.
    pub fn key(&self) -> &'static str {
        match self {
            Self::Purge => "purge",
            Self::Reload => "reload",
            Self::Restart => "restart",
            Self::ProbeHealth => "probe",
            Self::RouteProbe => "route_probe",
            Self::StreamProbe { .. } => "stream_probe",
            Self::TestChannel { .. } => "test",
            Self::TestAll => "test_all",
            Self::RefreshBalance { .. } => "balance",
            Self::UpdateAllBalances => "balances_all",
            Self::SetChannelEnabled { .. } => "toggle",
        }
    }

    /// The keyboard key that asks for it.
    pub fn hotkey(&self) -> char {
        match self {
            Self::Purge => 'p',
            Self::Reload => 'r',
            Self::Restart => 'R',
            Self::ProbeHealth => 'H',
            Self::RouteProbe => 'f',
            Self::StreamProbe { .. } => 's',
            Self::TestChannel { .. } => 't',
            Self::TestAll => 'T',
            Self::RefreshBalance { .. } => 'b',
            Self::UpdateAllBalances => 'B',
            Self::SetChannelEnabled { .. } => 'x',
        }
    }

    /// The hotkey for a tree action key.
    pub fn hotkey_for(key: &str) -> Option<char> {
        Some(match key {
            "purge" => 'p',
            "reload" => 'r',
            "restart" => 'R',
            "probe" => 'H',
            "route_probe" => 'f',
            "stream_probe" => 's',
            "test" => 't',
            "test_all" => 'T',
            "balance" => 'b',
            "balances_all" => 'B',
            "toggle" => 'x',
            _ => return None,
        })
    }

    /// Changes the gateway (as opposed to reading from it).
    pub fn is_mutating(&self) -> bool {
        matches!(
            self,
            Self::Purge
                | Self::Reload
                | Self::Restart
                | Self::UpdateAllBalances
                | Self::SetChannelEnabled { .. }
                | Self::TestAll
        )
    }
}

/// Progress of a running action, sent to the app.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionEvent {
    pub id: u64,
    pub gateway: usize,
    pub at: SystemTime,
    pub kind: ActionEventKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ActionEventKind {
    Started {
        title: String,
    },
    Progress {
        line: String,
    },
    /// The action itself ended.
    Finished {
        ok: bool,
        summary: String,
        detail: Vec<String>,
    },
    /// A result to record (probe results, channel tests, …).
    Result {
        subject: String,
        result: AdminResult,
    },
    /// The verification ended; the action is over.
    Verified {
        ok: bool,
        summary: String,
        detail: Vec<String>,
    },
}
