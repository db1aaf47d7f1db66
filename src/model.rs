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

/// The most earlier changes put on the timeline at start.
const SEED_CHANGES: usize = 300;
use crate::triage::evidence::{self, Evidence, Verdict};
use crate::triage::memo::ListMemo;

pub struct Model {
    pub fleet: Fleet,
    pub evidence: Vec<Evidence>,
    pub derived: Vec<Derived>,
    /// Per gateway: what its list said at the last evaluation, reused while
    /// the list is the same one (most polls at 50,000 channels).
    memos: Vec<ListMemo>,
    /// Actions whose "after" traffic is not in yet.
    pub pending_after: Vec<AfterAction>,
}

/// How long after an action its traffic is compared with before.
pub const AFTER_SECS: i64 = 180;
/// Without traffic data this long after an action, the comparison is given up.
const GIVE_UP_SECS: i64 = 900;

/// An action that changed a gateway, and its live traffic just before.
#[derive(Debug, Clone, PartialEq)]
pub struct AfterAction {
    pub gateway: usize,
    pub title: String,
    /// Unix seconds.
    pub at: i64,
    /// Per alias: (requests, failures, minutes) over the 5 minutes before.
    pub before: std::collections::BTreeMap<String, (f64, f64, f64)>,
}

/// Per alias: (requests, failures, minutes) of `g` between two times.
fn by_alias(g: &GatewayObs, from: i64, to: i64) -> std::collections::BTreeMap<String, (f64, f64, f64)> {
    let mut out: std::collections::BTreeMap<String, (f64, f64, f64)> = std::collections::BTreeMap::new();
    for d in g.deployments() {
        if let Some(w) = g.traffic.window_between(&d.id, from, to)
            && !w.since_start
        {
            let e = out.entry(d.name.to_string()).or_default();
            e.0 += w.requests;
            e.1 += w.failures;
            e.2 = e.2.max(w.minutes());
        }
    }
    out
}

fn rate(failures: f64, minutes: f64) -> String {
    format!("{:.1} failures/min", failures / minutes.max(1.0 / 60.0))
}

impl Model {
    pub fn new(config: &Config, now: SystemTime) -> Self {
        let fleet = Fleet::new(&config.gateways);
        let evidence = fleet.gateways.iter().map(|g| evidence::evaluate(g, now)).collect();
        let derived = vec![Derived::default(); fleet.gateways.len()];
        let memos = fleet.gateways.iter().map(|_| ListMemo::default()).collect();
        Self { fleet, evidence, derived, memos, pending_after: Vec::new() }
    }

    /// An action changed gateway `g` at `at`: say what live traffic did just
    /// before, and compare [`AFTER_SECS`] later (LiteLLM `/metrics/` only).
    pub fn note_action(&mut self, g: usize, title: &str, at: SystemTime) {
        let Some(obs) = self.fleet.gateways.get(g) else { return };
        if obs.traffic.is_empty() {
            return;
        }
        let at = crate::poller::unix_now(at);
        let before = by_alias(obs, at - crate::traffic::WINDOW_SECS, at);
        let failing: Vec<String> = before
            .iter()
            .filter(|(_, v)| v.1 > 0.0)
            .map(|(a, v)| format!("{a} {} ({:.0} of {:.0} failed)", rate(v.1, v.2), v.1, v.0))
            .collect();
        let text = if before.is_empty() {
            format!("traffic before {title}: no earlier sample; compared with after in {} min", AFTER_SECS / 60)
        } else if failing.is_empty() {
            format!("traffic before {title}: no live failures")
        } else {
            format!("traffic before {title}: {}", failing.join("; "))
        };
        let name = obs.spec.name.clone();
        self.fleet.timeline.push(
            SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(u64::try_from(at).unwrap_or(0)),
            Some(g),
            TimelineKind::Verify,
            format!("{name} {text}"),
        );
        self.pending_after.retain(|p| p.gateway != g);
        self.pending_after.push(AfterAction { gateway: g, title: title.to_owned(), at, before });
    }

    /// The "after" half of each pending action whose time has come.
    fn settle_after(&mut self, g: usize, now: SystemTime) {
        let now_s = crate::poller::unix_now(now);
        let Some(obs) = self.fleet.gateways.get(g) else { return };
        let newest = obs.traffic.newest().unwrap_or(0);
        let mut lines = Vec::new();
        self.pending_after.retain(|p| {
            if p.gateway != g {
                return true;
            }
            if newest - p.at < AFTER_SECS {
                if now_s - p.at > GIVE_UP_SECS {
                    lines.push(format!("no live traffic data after {}: the comparison is given up", p.title));
                    return false;
                }
                return true;
            }
            let after = by_alias(obs, p.at, newest);
            let mut parts = Vec::new();
            for (alias, (req, fail, min)) in &after {
                let was = p.before.get(alias).filter(|b| b.1 > 0.0).map(|b| format!(" (before: {})", rate(b.1, b.2)));
                if *fail > 0.0 || was.is_some() {
                    parts.push(format!(
                        "{alias} {} ({fail:.0} of {req:.0} failed){}",
                        rate(*fail, *min),
                        was.unwrap_or_default()
                    ));
                }
            }
            let minutes = (newest - p.at) / 60;
            lines.push(if parts.is_empty() {
                format!("traffic {minutes} min after {}: no live failures, before or after", p.title)
            } else {
                format!("traffic {minutes} min after {}: {}", p.title, parts.join("; "))
            });
            false
        });
        let name = obs.spec.name.clone();
        for l in lines {
            self.fleet.timeline.push(now, Some(g), TimelineKind::Verify, format!("{name} {l}"));
        }
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
    /// name, in time order; the last half hour stays as samples, the day
    /// as minutes. Seed the saved days ([`Self::seed_days`]) first.
    pub fn seed_traffic(&mut self, mut samples: Vec<crate::traffic::Sample>, now: SystemTime) {
        let now = crate::poller::unix_now(now);
        samples.sort_by_key(|s| s.at);
        // The whole day: samples past the half hour kept in memory still
        // fold into the per-minute day (those it holds already are skipped).
        for s in samples {
            if now - s.at > crate::traffic::STORE_SECS || s.at > now {
                continue;
            }
            if let Some(g) = self.fleet.gateways.iter_mut().find(|g| g.spec.name == s.gateway) {
                g.traffic.record(s);
            }
        }
    }

    /// The days saved by earlier runs, each to its gateway.
    pub fn seed_days(&mut self, days: Vec<(String, crate::traffic::day::Day)>) {
        for (name, day) in days {
            if let Some(g) = self.fleet.gateways.iter_mut().find(|g| g.spec.name == name) {
                g.traffic.set_day(day);
            }
        }
    }

    /// Each gateway's day that changed since it was last saved, marked saved:
    /// (gateway name, its bytes to write off the UI thread). Bytes, not a
    /// copy of the day: one allocation, handed back to the system once
    /// written, where 5,000 copied series would stay in the heap.
    pub fn unsaved_days(&mut self) -> Vec<(String, Vec<u8>)> {
        self.fleet
            .gateways
            .iter_mut()
            .filter(|g| g.traffic.day().unsaved && !g.traffic.day().is_empty())
            .map(|g| {
                g.traffic.day_mut().unsaved = false;
                let bytes = g.traffic.day().to_bytes(&g.spec.name);
                (g.spec.name.clone(), bytes)
            })
            .collect()
    }

    /// The changes earlier looks recorded (`changes.jsonl`: the cron
    /// `check`, earlier sessions) in the last day, onto the timeline with
    /// their own times: what changed before the operator opened gatewatch.
    pub fn seed_changes(&mut self, changes: Vec<crate::changes::Change>, now: SystemTime) {
        let now_s = crate::poller::unix_now(now);
        let recent: Vec<crate::changes::Change> =
            changes.into_iter().filter(|c| now_s - c.at <= 24 * 3600 && c.at <= now_s).collect();
        let skip = recent.len().saturating_sub(SEED_CHANGES);
        for c in recent.into_iter().skip(skip) {
            let Some(i) = self.fleet.gateways.iter().position(|g| g.spec.name == c.gateway) else { continue };
            let at = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(c.at.unsigned_abs());
            self.fleet.timeline.push(at, Some(i), TimelineKind::Seen, format!("{}: {}", c.gateway, c.text));
        }
    }

    /// The last full list saved by an earlier look (the TUI, a cron
    /// `check`), shown — with its age — until the first poll reads the list
    /// again: the replica that answered it gets it as its last good data,
    /// and nothing else (no liveness, no auth) is claimed from it.
    pub fn seed_snapshot(&mut self, snap: crate::snapshot::ListSnapshot, now: SystemTime) {
        let Some(i) = self.fleet.gateways.iter().position(|g| g.spec.name == snap.gateway) else { return };
        let g = &mut self.fleet.gateways[i];
        if g.replicas.iter().any(|r| r.last_ok.is_some()) {
            return;
        }
        let Some(r) = g.replicas.iter_mut().find(|r| r.url == snap.replica) else { return };
        let at = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(snap.at.unsigned_abs());
        let n = snap.deployments.len();
        let mut rs = crate::gateway::ReplicaSnapshot::new(std::time::Duration::ZERO);
        rs.auth = crate::gateway::AuthState::NotChecked;
        let mut served: Vec<String> = match g.spec.kind {
            crate::config::GatewayKind::NewApi => crate::gateway::newapi::served(&snap.deployments),
            crate::config::GatewayKind::LiteLlm => snap.deployments.iter().map(|d| d.name.to_string()).collect(),
        };
        served.sort();
        served.dedup();
        rs.served_models = crate::gateway::Section::Ok(served);
        rs.deployments = crate::gateway::Section::Ok(snap.deployments);
        r.last_ok = Some(std::sync::Arc::new(rs));
        r.last_ok_at = Some(at);
        let what = if g.spec.kind == crate::config::GatewayKind::NewApi { "channel" } else { "deployment" };
        let age = now
            .duration_since(at)
            .map_or_else(|_| "just now".to_owned(), |d| crate::config::duration::human(d) + " ago");
        let line = format!(
            "{}: showing the {what} list saved {age} ({n} {what}(s), read from {}) until the first poll reads it again",
            g.spec.name, snap.replica
        );
        self.fleet.timeline.push(now, Some(i), TimelineKind::Seen, line);
        self.reevaluate(i, now);
    }

    /// A poll cycle's report; `false` when it names no gateway of ours.
    pub fn apply_poll(&mut self, mut report: PollReport, now: SystemTime) -> bool {
        let g = report.gateway;
        if g >= self.len() {
            return false;
        }
        // A new list's own verdicts, worked out by the poller: taken over
        // (they are checked against the list they were made for at each use).
        if let (Some(warmed), Some(slot)) = (report.warmed.take(), self.memos.get_mut(g)) {
            *slot = warmed;
        }
        self.fleet.apply_poll(report);
        self.settle_after(g, now);
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
        let ctx = match self.memos.get(g) {
            Some(memo) => evidence::Ctx::with_memo(obs, now, memo),
            None => evidence::Ctx::new(obs, now),
        };
        let new = evidence::evaluate_with(&ctx);
        self.derived[g] = table::derive(&ctx);
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
