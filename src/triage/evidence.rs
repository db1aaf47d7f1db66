//! Verdicts: each check is a pure function from what the adapters gathered
//! about one gateway to ok / warn / fail / unknown, with the facts behind it.

use std::collections::HashMap;
use std::time::SystemTime;

use serde::Serialize;

use super::checks;
use super::model::Tree;
use crate::fleet::GatewayObs;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Ok,
    Warn,
    Fail,
    /// Not enough data to say (with the reason in the summary).
    Unknown,
    /// The check does not concern this kind of gateway.
    NotApplicable,
}

impl Verdict {
    pub fn symbol(self) -> &'static str {
        match self {
            Self::Ok => "✓",
            Self::Warn => "!",
            Self::Fail => "✗",
            Self::Unknown => "?",
            Self::NotApplicable => "-",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Warn => "warn",
            Self::Fail => "FAIL",
            Self::Unknown => "unknown",
            Self::NotApplicable => "n/a",
        }
    }

    fn rank(self) -> u8 {
        match self {
            Self::NotApplicable => 0,
            Self::Unknown => 1,
            Self::Ok => 2,
            Self::Warn => 3,
            Self::Fail => 4,
        }
    }

    /// The worse of two verdicts (fail > warn > ok > unknown > n/a).
    pub fn worst(self, other: Self) -> Self {
        if other.rank() > self.rank() { other } else { self }
    }

    /// Does this verdict point the operator down this branch?
    pub fn points_here(self) -> bool {
        matches!(self, Self::Fail | Self::Warn)
    }
}

/// One check's verdict with its facts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub check: &'static str,
    pub verdict: Verdict,
    pub summary: String,
    pub facts: Vec<String>,
}

impl Finding {
    pub fn new(verdict: Verdict, summary: impl Into<String>) -> Self {
        Self { check: "", verdict, summary: summary.into(), facts: Vec::new() }
    }

    pub fn ok(summary: impl Into<String>) -> Self {
        Self::new(Verdict::Ok, summary)
    }

    pub fn warn(summary: impl Into<String>) -> Self {
        Self::new(Verdict::Warn, summary)
    }

    pub fn fail(summary: impl Into<String>) -> Self {
        Self::new(Verdict::Fail, summary)
    }

    pub fn unknown(summary: impl Into<String>) -> Self {
        Self::new(Verdict::Unknown, summary)
    }

    pub fn na(summary: impl Into<String>) -> Self {
        Self::new(Verdict::NotApplicable, summary)
    }

    #[must_use]
    pub fn fact(mut self, f: impl Into<String>) -> Self {
        self.facts.push(f.into());
        self
    }

    #[must_use]
    pub fn facts(mut self, fs: impl IntoIterator<Item = String>) -> Self {
        self.facts.extend(fs);
        self
    }
}

/// What a check sees.
pub struct Ctx<'a> {
    pub gw: &'a GatewayObs,
    pub now: SystemTime,
}

impl Ctx<'_> {
    /// Model names clients send: from gatewatch's config and typed in this session.
    pub fn client_models(&self) -> Vec<String> {
        let mut v: Vec<String> =
            self.gw.spec.client_models.iter().chain(self.gw.typed_models.iter()).cloned().collect();
        v.sort();
        v.dedup();
        v
    }
}

/// Every check's finding for one gateway.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Evidence {
    pub findings: Vec<Finding>,
    index: HashMap<&'static str, usize>,
}

impl Evidence {
    pub fn get(&self, id: &str) -> Option<&Finding> {
        self.index.get(id).map(|&i| &self.findings[i])
    }

    /// The aggregate verdict of a node: its own checks and those below it.
    pub fn node_verdict(&self, tree: &Tree, node: usize) -> Verdict {
        let mut v = Verdict::NotApplicable;
        for c in tree.checks_under(node) {
            if let Some(f) = self.get(c) {
                v = v.worst(f.verdict);
            }
        }
        v
    }

    pub fn worst(&self) -> Verdict {
        self.findings.iter().fold(Verdict::NotApplicable, |v, f| v.worst(f.verdict))
    }
}

/// Run every check against one gateway.
pub fn evaluate(gw: &GatewayObs, now: SystemTime) -> Evidence {
    let ctx = Ctx { gw, now };
    let mut ev = Evidence::default();
    for def in checks::ALL {
        let mut f = (def.run)(&ctx);
        f.check = def.id;
        ev.index.insert(def.id, ev.findings.len());
        ev.findings.push(f);
    }
    ev
}
