//! What gatewatch knows about its gateways, shared by the TUI and `check`:
//! the fleet (every replica's observations and the timeline), each gateway's
//! evidence (every check's finding) and its derived table data (traffic
//! shares). One way in for each kind of news — a poll, an action's result,
//! a client model name — and one `reevaluate` after each.

use std::time::SystemTime;

use crate::config::Config;
use crate::fleet::{Fleet, GatewayObs, PollReport};
use crate::gateway::AdminResult;
use crate::table::{self, Derived};
use crate::timeline::TimelineKind;
use crate::triage::evidence::{self, Evidence, Verdict};

pub struct Model {
    pub fleet: Fleet,
    pub evidence: Vec<Evidence>,
    pub derived: Vec<Derived>,
}

impl Model {
    pub fn new(config: &Config, now: SystemTime) -> Self {
        let fleet = Fleet::new(&config.gateways);
        let evidence = fleet.gateways.iter().map(|g| evidence::evaluate(g, now)).collect();
        let derived = vec![Derived::default(); fleet.gateways.len()];
        Self { fleet, evidence, derived }
    }

    pub fn gateway(&self, g: usize) -> Option<&GatewayObs> {
        self.fleet.gateways.get(g)
    }

    pub fn len(&self) -> usize {
        self.fleet.gateways.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fleet.gateways.is_empty()
    }

    /// Traffic samples from the store (earlier runs): each to its gateway, by
    /// name, the last half hour only.
    pub fn seed_traffic(&mut self, samples: Vec<crate::traffic::Sample>, now: SystemTime) {
        let now = crate::poller::unix_now(now);
        for s in samples {
            if now - s.at > crate::traffic::KEEP_SECS || s.at > now {
                continue;
            }
            if let Some(g) = self.fleet.gateways.iter_mut().find(|g| g.spec.name == s.gateway) {
                g.traffic.record(s);
            }
        }
    }

    /// A poll cycle's report; `false` when it names no gateway of ours.
    pub fn apply_poll(&mut self, report: PollReport, now: SystemTime) -> bool {
        let g = report.gateway;
        if g >= self.len() {
            return false;
        }
        self.fleet.apply_poll(report);
        self.reevaluate(g, now);
        true
    }

    /// An action's result for one gateway (a probe, a test, re-read channels).
    pub fn apply_result(&mut self, g: usize, at: SystemTime, subject: &str, result: &AdminResult, now: SystemTime) {
        if let Some(obs) = self.fleet.gateways.get_mut(g) {
            obs.apply_admin(at, subject, result);
        }
        self.reevaluate(g, now);
    }

    /// An action changed gateway `g` at `at`: what probes found before no
    /// longer describes it (the next `reevaluate` marks them stale).
    pub fn mark_changed(&mut self, g: usize, at: SystemTime) {
        if let Some(obs) = self.fleet.gateways.get_mut(g) {
            obs.changed_at = Some(at);
        }
    }

    /// A model name clients send, typed in by the operator.
    pub fn add_client_model(&mut self, g: usize, name: &str, now: SystemTime) {
        let Some(obs) = self.fleet.gateways.get_mut(g) else { return };
        if !obs.typed_models.iter().any(|m| m == name) {
            obs.typed_models.push(name.to_owned());
        }
        self.fleet.timeline.push(now, Some(g), TimelineKind::Operator, format!("client model name added: {name}"));
        self.reevaluate(g, now);
    }

    /// The model names clients send, as a whole (the demo's staged incidents).
    pub fn set_client_models(&mut self, g: usize, names: Vec<String>, now: SystemTime) {
        if let Some(obs) = self.fleet.gateways.get_mut(g) {
            obs.typed_models = names;
        }
        self.reevaluate(g, now);
    }

    /// Recompute one gateway's verdicts and table data; a new, changed or
    /// cleared problem goes on the timeline.
    pub fn reevaluate(&mut self, g: usize, now: SystemTime) {
        let Some(obs) = self.fleet.gateways.get(g) else { return };
        let new = evidence::evaluate(obs, now);
        self.derived[g] = table::derive(obs);
        let name = obs.spec.name.clone();
        for f in &new.findings {
            let before = self.evidence[g].get(f.check).map_or(Verdict::Unknown, |o| o.verdict);
            let noteworthy =
                (f.verdict.points_here() && before != f.verdict) || (before.points_here() && f.verdict == Verdict::Ok);
            if noteworthy {
                self.fleet.timeline.push(
                    now,
                    Some(g),
                    TimelineKind::Check,
                    format!("{name} {} {}: {}", f.verdict.symbol(), f.check, f.summary),
                );
            }
        }
        self.evidence[g] = new;
    }
}
