//! The record of an incident: what was seen, what the checks said, what was
//! done and whether it worked, with times. Bounded; never holds a secret
//! (entries are built from fingerprints and messages only).

use std::collections::VecDeque;
use std::time::SystemTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TimelineKind {
    /// A change observed on a gateway.
    Seen,
    /// A check's verdict changed.
    Check,
    /// An action was confirmed, ran, or failed.
    Action,
    /// A verification after an action.
    Verify,
    /// Something the operator did that is not an action (notes, exports).
    Operator,
}

impl TimelineKind {
    pub fn label(self) -> &'static str {
        match self {
            Self::Seen => "seen",
            Self::Check => "check",
            Self::Action => "action",
            Self::Verify => "verify",
            Self::Operator => "operator",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineEntry {
    pub at: SystemTime,
    pub gateway: Option<usize>,
    pub kind: TimelineKind,
    pub text: String,
}

#[derive(Debug, Clone, Default)]
pub struct Timeline {
    entries: VecDeque<TimelineEntry>,
    redactor: crate::secret::Redactor,
}

const LIMIT: usize = 2000;

impl Timeline {
    /// Secrets to scrub from every entry (error texts can quote them).
    pub fn set_redactor(&mut self, redactor: crate::secret::Redactor) {
        self.redactor = redactor;
    }

    pub fn push(&mut self, at: SystemTime, gateway: Option<usize>, kind: TimelineKind, text: String) {
        if self.entries.len() == LIMIT {
            self.entries.pop_front();
        }
        // Always: the echoed-credential patterns apply even before any secret is known.
        let redacted = self.redactor.redact(&text);
        let text = if redacted == text { text } else { redacted };
        self.entries.push_back(TimelineEntry { at, gateway, kind, text });
    }

    /// The redactor the entries pass (shared with the rest of the session).
    pub fn redactor(&self) -> &crate::secret::Redactor {
        &self.redactor
    }

    pub fn entries(&self) -> impl DoubleEndedIterator<Item = &TimelineEntry> + ExactSizeIterator {
        self.entries.iter()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
