//! What gatewatch knows about every gateway and each of its replicas: the
//! latest snapshots, the local view (the gateway's config file, process age),
//! key drift per replica, probe results and the timeline. Pure state with
//! `apply` functions; the TUI and `gatewatch check` share it.

mod newapi;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::config::{GatewayKind, GatewaySpec};
use crate::gateway::litellm::config_file::{ProxyConfig, ProxyConfigError};
use crate::gateway::litellm::drift::{self, DriftRow, MatchMemory};
use crate::gateway::{
    AdminResult, AuthState, Deployment, DeploymentStatus, GatewayError, IntendedKey, ProbeEntry, RateBudget,
    ReplicaSnapshot, RouteReport, StreamReport,
};
use crate::timeline::{Timeline, TimelineKind};

/// The gateway process as seen on this host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessInfo {
    pub pid: u32,
    pub started: SystemTime,
    pub how: String,
}

/// What gatewatch reads on its own host about one gateway, not through the
/// gateway's API: what every kind has, and a part of the gateway's own kind.
#[derive(Debug, Clone, Default)]
pub struct LocalView {
    /// The fingerprint of the admin credential gatewatch was given
    /// (`credential_env`), read where the config is read.
    pub credential: Option<crate::secret::Fingerprint>,
    pub validate: Option<ValidateOutcome>,
    /// The Nginx config in front of the gateway (text), for the streaming lint.
    pub nginx: Option<Result<String, String>>,
    pub kind: LocalKind,
}

/// The part of the local view only one gateway kind has.
#[derive(Debug, Clone, Default)]
pub enum LocalKind {
    /// Not read yet.
    #[default]
    None,
    LiteLlm(Box<LiteLlmLocal>),
    NewApi(NewApiLocal),
}

/// LiteLLM: the proxy's own config.yaml and its process on this host.
#[derive(Debug, Clone, Default)]
pub struct LiteLlmLocal {
    pub proxy_config: Option<Result<ProxyConfig, ProxyConfigError>>,
    pub process: Option<ProcessInfo>,
    /// Why the process is not visible from here, when it is not.
    pub process_note: Option<String>,
    /// The git work tree that contains the config file, if any.
    pub config_git_root: Option<std::path::PathBuf>,
}

/// New API: the keys the operator intends per channel (`channel_keys_file`).
#[derive(Debug, Clone, Default)]
pub struct NewApiLocal {
    pub intended_keys: Vec<(String, IntendedKey)>,
    pub intended_keys_error: Option<String>,
}

impl LocalView {
    /// A LiteLLM view holding this config (tests, benches, the demo).
    pub fn with_config(cfg: Result<ProxyConfig, ProxyConfigError>) -> Self {
        Self {
            kind: LocalKind::LiteLlm(Box::new(LiteLlmLocal { proxy_config: Some(cfg), ..Default::default() })),
            ..Self::default()
        }
    }

    pub fn litellm(&self) -> Option<&LiteLlmLocal> {
        match &self.kind {
            LocalKind::LiteLlm(l) => Some(l),
            _ => None,
        }
    }

    pub fn newapi(&self) -> Option<&NewApiLocal> {
        match &self.kind {
            LocalKind::NewApi(n) => Some(n),
            _ => None,
        }
    }

    /// The proxy's config as read (LiteLLM), if configured.
    pub fn proxy_config(&self) -> Option<&Result<ProxyConfig, ProxyConfigError>> {
        self.litellm().and_then(|l| l.proxy_config.as_ref())
    }
}

/// The result of the operator's `validate_command`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidateOutcome {
    pub ok: bool,
    pub output: String,
}

/// One poll cycle of one gateway, as the poller sends it.
#[derive(Debug, Clone)]
pub struct PollReport {
    pub gateway: usize,
    pub at: SystemTime,
    pub replicas: Vec<(String, Result<ReplicaSnapshot, GatewayError>)>,
    pub local: LocalView,
    pub memory: MatchMemory,
    pub discovery_error: Option<String>,
    /// The gateway's request budget after this cycle (New API), with what the server said.
    pub budget: Option<RateBudget>,
    /// Live traffic of every replica from a Prometheus server (`prometheus_url`).
    pub prometheus: Option<crate::gateway::litellm::prometheus::PromRead>,
    /// What changed since the last look (this session's or any earlier one's).
    pub changes: Vec<crate::changes::Change>,
    /// A new channel list's own verdicts, worked out by the poller off the
    /// UI thread (the TUI's New API poller, when the list changed).
    pub warmed: Option<crate::triage::memo::ListMemo>,
}

impl PollReport {
    /// A cycle that read only `replicas` (tests, benches, the demo): no local
    /// view, no memory, nothing else.
    pub fn new(gateway: usize, at: SystemTime, replicas: Vec<(String, Result<ReplicaSnapshot, GatewayError>)>) -> Self {
        Self {
            gateway,
            at,
            replicas,
            local: LocalView::default(),
            memory: MatchMemory::default(),
            discovery_error: None,
            budget: None,
            prometheus: None,
            changes: Vec::new(),
            warmed: None,
        }
    }

    /// The list the gateway will be judged on once this report is in: the
    /// first replica's that answered (see [`GatewayObs::primary`]).
    pub fn list(&self) -> Option<&Arc<Vec<Deployment>>> {
        self.replicas.iter().find_map(|(_, r)| r.as_ref().ok()).and_then(|s| s.deployments.ok())
    }
}

/// One replica's state.
#[derive(Debug, Clone)]
pub struct ReplicaObs {
    pub url: String,
    /// The latest poll. A good snapshot is shared with `last_ok`, not
    /// copied: 5,000 channels are megabytes.
    pub last: Option<Result<Arc<ReplicaSnapshot>, GatewayError>>,
    pub last_ok: Option<Arc<ReplicaSnapshot>>,
    pub last_at: Option<SystemTime>,
    pub last_ok_at: Option<SystemTime>,
    /// Up/down of the recent polls (newest last), to spot flapping.
    pub recent: VecDeque<bool>,
    pub drift: Option<Vec<DriftRow>>,
}

impl ReplicaObs {
    fn new(url: String) -> Self {
        Self { url, last: None, last_ok: None, last_at: None, last_ok_at: None, recent: VecDeque::new(), drift: None }
    }

    pub fn is_up(&self) -> bool {
        matches!(self.last, Some(Ok(_)))
    }

    pub fn error(&self) -> Option<&GatewayError> {
        match &self.last {
            Some(Err(e)) => Some(e),
            _ => None,
        }
    }

    /// Changed between up and down at least 3 times in the last 6 polls.
    pub fn is_flapping(&self) -> bool {
        let flips = self.recent.iter().zip(self.recent.iter().skip(1)).filter(|(a, b)| a != b).count();
        flips >= 3
    }

    /// `Some(true)`: every deployment proven to match; `Some(false)`: drift;
    /// `None`: not compared, or inconclusive (ids that prove nothing).
    pub fn drift_clean(&self) -> Option<bool> {
        match self.agreement()? {
            drift::Agreement::Clean => Some(true),
            drift::Agreement::Drift => Some(false),
            drift::Agreement::Inconclusive => None,
        }
    }

    pub fn agreement(&self) -> Option<drift::Agreement> {
        self.drift.as_deref().map(drift::agreement)
    }
}

/// The last `/health` probe (an explicit, paid action).
#[derive(Debug, Clone, PartialEq)]
pub struct HealthProbe {
    pub at: SystemTime,
    pub entries: Vec<ProbeEntry>,
}

/// Roll-up of drift over replicas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DriftRollup {
    pub replicas: usize,
    pub compared: usize,
    pub clean: usize,
    /// Compared, no drift, but some deployments cannot be checked by id.
    pub inconclusive: usize,
}

impl DriftRollup {
    pub fn describe(&self) -> String {
        if self.compared == 0 {
            "key drift: not compared yet".into()
        } else if self.inconclusive > 0 && self.clean + self.inconclusive == self.compared {
            format!(
                "no drift seen on {} of {} replica(s), but some deployments cannot be checked by id",
                self.compared, self.replicas
            )
        } else if self.clean == self.compared && self.compared == self.replicas {
            if self.replicas == 1 {
                "config and proxy agree".into()
            } else {
                format!("all {} replicas hold the file's keys", self.replicas)
            }
        } else {
            format!(
                "{} of {} replicas hold the file's keys{}",
                self.clean,
                self.replicas,
                if self.compared < self.replicas {
                    format!(" ({} not compared)", self.replicas - self.compared)
                } else {
                    String::new()
                }
            )
        }
    }
}

/// Everything known about one gateway.
#[derive(Debug, Clone)]
pub struct GatewayObs {
    pub spec: GatewaySpec,
    pub replicas: Vec<ReplicaObs>,
    pub local: LocalView,
    pub memory: MatchMemory,
    pub probe: Option<HealthProbe>,
    pub routes: Vec<(SystemTime, String, RouteReport)>,
    pub stream: Option<(SystemTime, String, StreamReport)>,
    pub channel_tests: Vec<(SystemTime, String, bool, String, f64)>,
    pub polls: u64,
    pub last_poll_at: Option<SystemTime>,
    pub discovery_error: Option<String>,
    /// Client model names typed in by the operator this session.
    pub typed_models: Vec<String>,
    /// When an action last changed this gateway (a restart, a channel
    /// toggle, …): probe results older than this no longer describe it.
    pub changed_at: Option<SystemTime>,
    /// The request budget as of the last poll (New API).
    pub budget: Option<RateBudget>,
    /// Live traffic counters per replica over the last half hour (LiteLLM `/metrics/`).
    pub traffic: crate::traffic::History,
    /// Deployments failing most of their live requests, as of the last poll
    /// (computed once per poll: the table asks per row and per sort).
    pub live_failing: std::collections::HashSet<String>,
    /// Every deployment's live window as of the last poll (one pass over
    /// the history: the check, the table and the status column share it).
    pub live: std::collections::HashMap<String, crate::traffic::Window>,
    /// The last read of the gateway's Prometheus server (its samples moved
    /// into [`Self::traffic`]), when one is configured.
    pub prometheus: Option<crate::gateway::litellm::prometheus::PromRead>,
    /// What the last look found changed (also on the timeline).
    pub last_changes: Vec<crate::changes::Change>,
}

impl GatewayObs {
    /// A gateway seen once, holding `list` and nothing else (to work out
    /// what the list alone says: [`crate::triage::memo::warm`]).
    pub fn holding(spec: &GatewaySpec, list: &Arc<Vec<Deployment>>, at: SystemTime) -> Self {
        let mut g = Self::new(spec.clone());
        let mut s = ReplicaSnapshot::new(Duration::ZERO);
        s.deployments = crate::gateway::Section::Ok(Arc::clone(list));
        g.replicas = vec![ReplicaObs::new(spec.url.clone())];
        if let Some(r) = g.replicas.first_mut() {
            r.last = Some(Ok(Arc::new(s)));
            r.last_at = Some(at);
        }
        g.last_poll_at = Some(at);
        g
    }

    pub fn new(spec: GatewaySpec) -> Self {
        let replicas = spec.replica_urls().into_iter().map(ReplicaObs::new).collect();
        Self {
            spec,
            replicas,
            local: LocalView::default(),
            memory: MatchMemory::default(),
            probe: None,
            routes: Vec::new(),
            stream: None,
            channel_tests: Vec::new(),
            polls: 0,
            last_poll_at: None,
            discovery_error: None,
            typed_models: Vec::new(),
            changed_at: None,
            budget: None,
            traffic: crate::traffic::History::default(),
            live_failing: std::collections::HashSet::new(),
            live: std::collections::HashMap::new(),
            prometheus: None,
            last_changes: Vec::new(),
        }
    }

    pub fn kind(&self) -> GatewayKind {
        self.spec.kind
    }

    /// The freshest good snapshot: the first replica that answered this cycle,
    /// else the last good one of any replica.
    pub fn primary(&self) -> Option<&ReplicaSnapshot> {
        self.replicas
            .iter()
            .find_map(|r| match &r.last {
                Some(Ok(s)) => Some(&**s),
                _ => None,
            })
            .or_else(|| self.replicas.iter().find_map(|r| r.last_ok.as_deref()))
    }

    pub fn deployments(&self) -> &[Deployment] {
        self.deployment_list().map_or(&[], |d| d.as_slice())
    }

    /// The list [`Self::deployments`] shows, shared (to know it again).
    pub fn deployment_list(&self) -> Option<&Arc<Vec<Deployment>>> {
        self.primary().and_then(|s| s.deployments.ok())
    }

    /// Deployment status with the last health probe applied.
    pub fn effective_status(&self, d: &Deployment) -> DeploymentStatus {
        if d.status == DeploymentStatus::Serving
            && let Some(p) = &self.probe
            && p.entries.iter().any(|e| e.id == d.id && !e.healthy)
        {
            return DeploymentStatus::Unhealthy;
        }
        // Failing most live requests (LiteLLM /metrics/, the last 5 minutes).
        if d.status == DeploymentStatus::Serving && self.live_failing.contains(d.id.as_str()) {
            return DeploymentStatus::Unhealthy;
        }
        d.status
    }

    /// Recompute [`Self::live_failing`] from the traffic history.
    pub fn recompute_live(&mut self) {
        let mut live = self.traffic.newest().map(|now| self.traffic.windows(now)).unwrap_or_default();
        // A fixed config gives a deployment a new id: its alias's old counts
        // are its "before" (looked up only for ids new in the window).
        for d in self.deployments() {
            if let Some(w) = live.get_mut(d.id.as_str())
                && w.before_restart.is_none()
                && (w.appeared || w.since_start)
                && let Some(first) = self.traffic.first_seen(&d.id)
                && let Some((req, fail, _)) = self.traffic.alias_before(&d.name, &d.id, first)
            {
                w.before_restart = Some((req, fail));
            }
        }
        self.live = live;
        self.live_failing = self
            .live
            .iter()
            .filter(|(_, w)| {
                w.failures > 0.0 && w.error_ratio() >= 0.5 && (!w.since_start || w.state.is_some_and(|s| s >= 1))
            })
            .map(|(id, _)| id.clone())
            .collect();
    }

    pub fn up_count(&self) -> usize {
        self.replicas.iter().filter(|r| r.is_up()).count()
    }

    pub fn is_reachable(&self) -> bool {
        self.up_count() > 0
    }

    pub fn ever_polled(&self) -> bool {
        self.polls > 0
    }

    pub fn proxy_config(&self) -> Option<&ProxyConfig> {
        self.local.proxy_config().and_then(|r| r.as_ref().ok())
    }

    pub fn auth(&self) -> Option<&AuthState> {
        self.primary().map(|s| &s.auth)
    }

    /// Median latency of the replicas that answered.
    pub fn latency(&self) -> Option<Duration> {
        let mut l: Vec<Duration> = self
            .replicas
            .iter()
            .filter_map(|r| match &r.last {
                Some(Ok(s)) => Some(s.latency),
                _ => None,
            })
            .collect();
        l.sort();
        l.get(l.len() / 2).copied()
    }

    pub fn version(&self) -> Option<&str> {
        self.primary().and_then(|s| s.version.as_deref())
    }

    /// Replicas report different versions.
    pub fn versions_disagree(&self) -> bool {
        let mut v: Vec<&str> =
            self.replicas.iter().filter_map(|r| r.last_ok.as_ref().and_then(|s| s.version.as_deref())).collect();
        v.sort_unstable();
        v.dedup();
        v.len() > 1
    }

    pub fn drift_rollup(&self) -> Option<DriftRollup> {
        self.proxy_config()?;
        let compared = self.replicas.iter().filter(|r| r.drift.is_some()).count();
        let clean = self.replicas.iter().filter(|r| r.drift_clean() == Some(true)).count();
        let inconclusive =
            self.replicas.iter().filter(|r| r.agreement() == Some(drift::Agreement::Inconclusive)).count();
        Some(DriftRollup { replicas: self.replicas.len(), compared, clean, inconclusive })
    }

    /// The drift rows of the first replica that drifts, else of one that is
    /// inconclusive, else the first compared.
    pub fn drift_rows(&self) -> Option<&[DriftRow]> {
        let all = || self.replicas.iter().filter_map(|r| r.drift.as_deref());
        all()
            .find(|rows| drift::agreement(rows) == drift::Agreement::Drift)
            .or_else(|| all().find(|rows| drift::agreement(rows) == drift::Agreement::Inconclusive))
            .or_else(|| all().next())
    }

    /// Fold one poll cycle in; returns what deserves a timeline line.
    pub fn apply_poll(&mut self, report: PollReport, timeline: &mut Timeline, index: usize) {
        let at = report.at;
        self.polls += 1;
        self.last_poll_at = Some(at);
        let name = self.spec.name.clone();
        // Rejected discovery lines are data someone else controls: said once, when they change.
        if let Some(e) = &report.discovery_error
            && self.discovery_error.as_ref() != Some(e)
        {
            timeline.push(at, Some(index), TimelineKind::Seen, format!("{name}: {e}"));
        }
        self.discovery_error = report.discovery_error;
        let from_prometheus =
            report.prometheus.as_ref().is_some_and(crate::gateway::litellm::prometheus::PromRead::serving);
        // Replicas may change with discovery: keep history by URL. Copying a
        // replica's history is cheap: its snapshots are shared (`Arc`).
        let mut next: Vec<ReplicaObs> = Vec::with_capacity(report.replicas.len());
        for (url, result) in report.replicas {
            let mut r = self
                .replicas
                .iter()
                .find(|x| x.url == url)
                .map_or_else(|| ReplicaObs::new(url.clone()), ReplicaObs::clone);
            let was_up = r.last.as_ref().map(Result::is_ok);
            let result = result.map(Arc::new);
            let now_up = result.is_ok();
            if let Some(line) = newapi::transition(&name, &url, was_up, r.is_rate_limited(), &result) {
                timeline.push(at, Some(index), TimelineKind::Seen, line);
            }
            if let Ok(s) = &result {
                if let AuthState::Rejected { message, .. } = &s.auth
                    && !matches!(r.last_ok.as_ref().map(|o| &o.auth), Some(AuthState::Rejected { .. }))
                {
                    timeline.push(
                        at,
                        Some(index),
                        TimelineKind::Seen,
                        format!("{name} {url}: admin auth rejected: {message}"),
                    );
                }
                r.last_ok = Some(Arc::clone(s));
                r.last_ok_at = Some(at);
            }
            // Prometheus answered for every replica: its counters, not a second copy.
            if let Ok(s) = &result
                && let crate::gateway::Section::Ok(t) = &s.traffic
                && !from_prometheus
            {
                self.traffic.record(crate::traffic::Sample {
                    gateway: name.clone(),
                    replica: url.clone(),
                    at: crate::poller::unix_now(at),
                    deployments: t.deployments.clone(),
                });
            }
            r.recent.push_back(now_up);
            while r.recent.len() > 6 {
                r.recent.pop_front();
            }
            r.last = Some(result);
            r.last_at = Some(at);
            next.push(r);
        }
        self.replicas = next;
        // New API: its logs (one database behind every replica) into the day.
        if self.kind() == crate::config::GatewayKind::NewApi
            && let Some(p) = self.replicas.iter().find_map(|r| match &r.last {
                Some(Ok(s)) => Some(Arc::clone(s)),
                _ => None,
            })
            && let crate::gateway::Section::Ok(errors) = &p.error_log
        {
            let now = p.server_time.unwrap_or_else(|| crate::poller::unix_now(at));
            self.traffic.day_mut().fold_logs(errors, p.consume_log.ok().map(Vec::as_slice), now);
        }
        if self.rate_limited_count() == 0
            && let Some(line) = newapi::absorbed(&name, self.budget.as_ref(), report.budget.as_ref())
        {
            timeline.push(at, Some(index), TimelineKind::Seen, line);
        }
        self.budget = report.budget;
        // A few changes a line each; a burst (a restart re-keys every
        // deployment) one line, whole in its details, so the timeline stays readable.
        match report.changes.as_slice() {
            [] => {}
            few if few.len() <= 3 => {
                for c in few {
                    timeline.push(at, Some(index), TimelineKind::Seen, format!("{name}: {}", c.text));
                }
            }
            many => {
                let all: Vec<&str> = many.iter().map(|c| c.text.as_str()).collect();
                let line = format!("{name}: {} changes since the last look: {}", many.len(), all.join("; "));
                timeline.push(at, Some(index), TimelineKind::Seen, line);
            }
        }
        self.last_changes = report.changes;
        if let Some(mut read) = report.prometheus {
            if let Some(line) = prometheus_change(&name, self.prometheus.as_ref(), &read) {
                timeline.push(at, Some(index), TimelineKind::Seen, line);
            }
            if let Ok(t) = &mut read.result {
                self.traffic.absorb(std::mem::take(&mut t.samples));
            }
            self.prometheus = Some(read);
        }
        self.local = report.local;
        self.memory = report.memory;
        self.recompute_drift(timeline, at, index);
        self.recompute_live();
    }

    /// Whether live traffic comes from the fleet's Prometheus server.
    pub fn traffic_from_prometheus(&self) -> bool {
        self.prometheus.as_ref().is_some_and(crate::gateway::litellm::prometheus::PromRead::serving)
    }

    fn recompute_drift(&mut self, timeline: &mut Timeline, at: SystemTime, index: usize) {
        let name = self.spec.name.clone();
        let cfg = self.local.proxy_config().and_then(|r| r.as_ref().ok());
        for r in &mut self.replicas {
            let before = r.drift_clean();
            r.drift = match (&cfg, r.last.as_ref()) {
                (Some(cfg), Some(Ok(s))) => s.deployments.ok().map(|deps| drift::compare(cfg, deps, &self.memory)),
                // Unreachable this cycle: keep the last comparison.
                (Some(_), _) => r.drift.take(),
                (None, _) => None,
            };
            let after = r.drift_clean();
            if before != after {
                match after {
                    Some(false) => {
                        let what = r
                            .drift
                            .as_ref()
                            .and_then(|rows| rows.iter().find(|x| x.state.is_problem()))
                            .map(DriftRow::summary)
                            .unwrap_or_default();
                        timeline.push(
                            at,
                            Some(index),
                            TimelineKind::Check,
                            format!("{name} {}: key drift: {what}", r.url),
                        );
                    }
                    Some(true) if before == Some(false) => {
                        timeline.push(
                            at,
                            Some(index),
                            TimelineKind::Verify,
                            format!("{name} {}: drift cleared, proxy matches the file", r.url),
                        );
                    }
                    _ => {}
                }
            }
        }
    }

    /// Record what an admin operation returned.
    pub fn apply_admin(&mut self, at: SystemTime, subject: &str, result: &AdminResult) {
        match result {
            AdminResult::Probe { entries } => self.probe = Some(HealthProbe { at, entries: entries.clone() }),
            AdminResult::Route(r) => {
                self.routes.retain(|(_, m, _)| m != subject);
                self.routes.push((at, subject.to_owned(), r.clone()));
            }
            AdminResult::Stream(s) => self.stream = Some((at, subject.to_owned(), s.clone())),
            AdminResult::ChannelTest { ok, message, seconds } => {
                self.channel_tests.retain(|(_, id, ..)| id != subject);
                self.channel_tests.push((at, subject.to_owned(), *ok, message.clone(), *seconds));
            }
            AdminResult::Channels { channels } => newapi::patch_channels(self, channels),
            AdminResult::Done { .. } | AdminResult::Balance { .. } => {}
        }
    }
}

/// All gateways.
#[derive(Debug, Clone)]
pub struct Fleet {
    pub gateways: Vec<GatewayObs>,
    pub timeline: Timeline,
}

impl Fleet {
    pub fn new(specs: &[GatewaySpec]) -> Self {
        Self { gateways: specs.iter().cloned().map(GatewayObs::new).collect(), timeline: Timeline::default() }
    }

    pub fn apply_poll(&mut self, report: PollReport) {
        let i = report.gateway;
        if let Some(g) = self.gateways.get_mut(i) {
            g.apply_poll(report, &mut self.timeline, i);
        }
    }
}

/// A timeline line when the Prometheus server starts or stops answering
/// for the gateway (the first read says which source is in use).
fn prometheus_change(
    name: &str,
    before: Option<&crate::gateway::litellm::prometheus::PromRead>,
    now: &crate::gateway::litellm::prometheus::PromRead,
) -> Option<String> {
    let was = before.map(crate::gateway::litellm::prometheus::PromRead::serving);
    match (was, now.serving()) {
        (Some(a), b) if a == b => None,
        (_, true) => Some(format!("{name}: live traffic {}", now.describe())),
        (_, false) => Some(format!("{name}: {}; reading each replica's /metrics/ instead", now.describe())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::Section;

    fn snap(ids: &[(&str, &str)]) -> ReplicaSnapshot {
        let mut s = ReplicaSnapshot::new(Duration::from_millis(5));
        s.deployments = Section::Ok(ids.iter().map(|(id, n)| Deployment::new(*id, *n)).collect::<Vec<_>>().into());
        s.auth = AuthState::Ok;
        s
    }

    #[test]
    fn flapping_replica_is_detected() {
        let mut r = ReplicaObs::new("http://a".into());
        for up in [true, false, true, false, true] {
            r.recent.push_back(up);
        }
        assert!(r.is_flapping());
        let mut steady = ReplicaObs::new("http://b".into());
        steady.recent.extend([true, true, false, false]);
        assert!(!steady.is_flapping());
    }

    #[test]
    fn history_follows_the_url_even_when_listed_twice() {
        let spec = GatewaySpec::new("gw", GatewayKind::NewApi, "http://a");
        let mut fleet = Fleet::new(&[spec]);
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let report = |urls: &[&str]| {
            PollReport::new(0, at, urls.iter().map(|u| ((*u).to_owned(), Ok(snap(&[("1", "c")])))).collect())
        };
        fleet.apply_poll(report(&["http://a", "http://b"]));
        fleet.apply_poll(report(&["http://b", "http://a", "http://a", "http://c"]));
        let recent: Vec<(String, usize)> =
            fleet.gateways[0].replicas.iter().map(|r| (r.url.clone(), r.recent.len())).collect();
        let want = [("http://b", 2), ("http://a", 2), ("http://a", 2), ("http://c", 1)];
        assert_eq!(recent, want.map(|(u, n)| (u.to_owned(), n)));
        assert!(fleet.gateways[0].replicas.iter().all(|r| r.last_ok.is_some()));
    }

    #[test]
    fn the_latest_good_snapshot_is_shared_not_copied() {
        let spec = GatewaySpec::new("gw", GatewayKind::NewApi, "http://a");
        let mut fleet = Fleet::new(&[spec]);
        fleet.apply_poll(PollReport::new(
            0,
            SystemTime::UNIX_EPOCH,
            vec![("http://a".into(), Ok(snap(&[("1", "c"), ("2", "d")])))],
        ));
        let r = &fleet.gateways[0].replicas[0];
        let (Some(Ok(last)), Some(last_ok)) = (&r.last, &r.last_ok) else { panic!("no snapshot kept") };
        assert!(Arc::ptr_eq(last, last_ok), "a second copy of every channel");
    }

    #[test]
    fn going_down_and_up_lands_on_the_timeline() {
        let spec = GatewaySpec::new("gw", GatewayKind::LiteLlm, "http://127.0.0.1:1");
        let mut fleet = Fleet::new(&[spec]);
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let report = |ok: bool, at| {
            PollReport::new(
                0,
                at,
                vec![(
                    "http://127.0.0.1:1".into(),
                    if ok {
                        Ok(snap(&[("a", "gpt-4o")]))
                    } else {
                        Err(GatewayError::Refused { url: "http://127.0.0.1:1".into() })
                    },
                )],
            )
        };
        fleet.apply_poll(report(true, t0));
        assert!(fleet.gateways[0].is_reachable());
        fleet.apply_poll(report(false, t0 + Duration::from_secs(5)));
        assert!(!fleet.gateways[0].is_reachable());
        assert_eq!(fleet.gateways[0].deployments().len(), 1, "last good data stays visible");
        fleet.apply_poll(report(true, t0 + Duration::from_secs(10)));
        let texts: Vec<_> = fleet.timeline.entries().map(|e| e.text.clone()).collect();
        assert!(texts.iter().any(|t| t.contains("down: connection refused")), "{texts:?}");
        assert!(texts.iter().any(|t| t.contains("reachable again")), "{texts:?}");
    }
}
