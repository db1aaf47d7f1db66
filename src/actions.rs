//! One-key actions: what each means for each gateway kind (`plan`), running
//! them off the render path (`exec`), the append-only audit log (`audit`),
//! and the check afterwards that the action really worked (`verify`).

pub mod audit;
pub mod exec;
pub mod plan;
pub mod verify;

use std::time::SystemTime;

use crate::gateway::AdminResult;

/// Each action key and the keyboard key that asks for it.
const HOTKEYS: [(&str, char); 11] = [
    ("purge", 'p'),
    ("reload", 'r'),
    ("restart", 'R'),
    ("probe", 'H'),
    ("route_probe", 'f'),
    ("stream_probe", 's'),
    ("test", 't'),
    ("test_all", 'T'),
    ("balance", 'b'),
    ("balances_all", 'B'),
    ("toggle", 'x'),
];

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
        Self::hotkey_for(self.key()).unwrap_or('?')
    }

    /// The hotkey for a tree action key.
    pub fn hotkey_for(key: &str) -> Option<char> {
        HOTKEYS.iter().find(|(k, _)| *k == key).map(|(_, c)| *c)
    }

    /// The tree action key a hotkey asks for.
    pub fn key_for_hotkey(c: char) -> Option<&'static str> {
        HOTKEYS.iter().find(|(_, h)| *h == c).map(|(k, _)| *k)
    }

    /// Does the tree's action key exist for this kind of gateway?
    pub fn key_applies(key: &str, kind: crate::config::GatewayKind) -> bool {
        use crate::config::GatewayKind::{LiteLlm, NewApi};
        match key {
            "restart" | "reload" => true,
            "purge" | "probe" | "route_probe" | "stream_probe" => kind == LiteLlm,
            "test" | "test_all" | "balance" | "balances_all" | "toggle" => kind == NewApi,
            _ => false,
        }
    }

    /// Sends paid requests to a provider (probes, channel tests).
    pub fn is_paid(&self) -> bool {
        Self::key_is_paid(self.key())
    }

    /// Changes the gateway (as opposed to reading from it). A balance refresh
    /// writes the fetched balance into the gateway's database.
    pub fn is_mutating(&self) -> bool {
        Self::key_is_mutating(self.key())
    }

    /// `is_paid` by action key (the tree names actions by key).
    pub fn key_is_paid(key: &str) -> bool {
        matches!(key, "probe" | "route_probe" | "stream_probe" | "test" | "test_all")
    }

    /// `is_mutating` by action key.
    pub fn key_is_mutating(key: &str) -> bool {
        matches!(key, "purge" | "reload" | "restart" | "balances_all" | "balance" | "toggle" | "test_all")
    }

    /// May a session run the action with this key? A read-only session runs
    /// nothing that changes a gateway, and spends money only when probes
    /// were allowed (`--allow-probes`).
    pub fn key_allowed(key: &str, read_only: bool, allow_probes: bool) -> bool {
        !read_only || (!Self::key_is_mutating(key) && (!Self::key_is_paid(key) || allow_probes))
    }
}

/// How an action ended: the one terminal event every action sends, on every
/// path (the executor's wrapper sends it when the action itself could not:
/// an early return, a panic, a timeout, a refusal).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It ran and the check afterwards confirmed the effect.
    Verified,
    /// It ran, but the check afterwards did not confirm the effect.
    NotVerified,
    /// It ran and has nothing to verify (probes, tests): its finding stands.
    Done,
    /// It did not do what it was asked (the command or the request failed).
    Failed,
    /// It never started (another action runs, nothing to run).
    Refused,
}

impl Outcome {
    /// The word in the audit log (`outcome`).
    pub fn key(self) -> &'static str {
        match self {
            Self::Verified => "verified",
            Self::NotVerified => "not_verified",
            Self::Done => "done",
            Self::Failed => "failed",
            Self::Refused => "refused",
        }
    }

    /// The symbol on screen; the words beside it say the rest.
    pub fn symbol(self) -> &'static str {
        match self {
            Self::Verified => "✓",
            // A probe or test that ran: what it found is in the words.
            Self::Done => "•",
            Self::NotVerified | Self::Failed => "✗",
            Self::Refused => "!",
        }
    }

    /// What the operator reads before the summary.
    pub fn label(self) -> &'static str {
        match self {
            Self::Verified => "verified",
            Self::NotVerified => "NOT verified",
            Self::Done => "done",
            Self::Failed => "FAILED",
            Self::Refused => "refused",
        }
    }

    /// One line: the symbol, the label unless the summary already starts
    /// with it ("verified: all 3 replicas …"), and the summary.
    pub fn describe(self, summary: &str) -> String {
        let label = self.label();
        let head = summary.get(..label.len()).unwrap_or("");
        if head.eq_ignore_ascii_case(label) {
            format!("{} {summary}", self.symbol())
        } else {
            format!("{} {label}: {summary}", self.symbol())
        }
    }

    /// The action did what it was asked (whatever it found).
    pub fn succeeded(self) -> bool {
        matches!(self, Self::Verified | Self::Done)
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
    /// A step: the action itself ran (a verification may follow). Never the
    /// last event: [`ActionEventKind::Ended`] always follows.
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
    /// The action is over: exactly one per action, always the last.
    Ended {
        outcome: Outcome,
        summary: String,
        detail: Vec<String>,
    },
}
