//! Live traffic history: counter samples per replica (from the proxy's
//! `/metrics/`), rates between them, and the store under the state dir that
//! the TUI and `gatewatch check` both write and read, so a cron job's runs
//! are the history an operator sees when opening gatewatch mid-incident.
//!
//! Counters restart at zero with the proxy process: a sample lower than the
//! one before it means a restart, and the window then counts from zero.

pub mod day;

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::gateway::litellm::metrics::DeploymentTraffic;

/// How far back rates look ("right now").
pub const WINDOW_SECS: i64 = 5 * 60;
/// How much history is kept in memory (sparklines, before/after).
pub const KEEP_SECS: i64 = 31 * 60;
/// How much history the store keeps.
pub const STORE_SECS: i64 = 24 * 3600;
/// Samples closer together than this are not both kept (nor stored).
pub const MIN_SPACING_SECS: i64 = 55;
/// The store is rewritten without its old lines past this size.
const STORE_MAX_BYTES: u64 = 32 << 20;
/// The tail of the store read at start.
const STORE_READ_BYTES: u64 = 16 << 20;

/// One replica's counters at one time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    pub gateway: String,
    pub replica: String,
    /// Unix seconds.
    pub at: i64,
    #[serde(rename = "d")]
    pub deployments: BTreeMap<std::sync::Arc<str>, DeploymentTraffic>,
}

/// What one deployment did over a window, summed over the replicas.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Window {
    /// Unix seconds: the oldest sample used, and the newest.
    pub from: i64,
    pub to: i64,
    pub requests: f64,
    pub failures: f64,
    pub errors: BTreeMap<String, f64>,
    /// A replica's counters went back: its process restarted in the window.
    pub restarted: bool,
    /// The newest `litellm_deployment_state` of any replica (the worst).
    pub state: Option<u8>,
    /// No earlier sample: the counts are everything since the process started.
    pub since_start: bool,
    /// The deployment id is new in the window (a restart or a reload loaded
    /// it, often a fixed config): the counts run from when it appeared.
    pub appeared: bool,
    /// After a restart in the window: what the old process had counted
    /// (requests, failures) when last seen.
    pub before_restart: Option<(f64, f64)>,
}

impl Window {
    #[allow(clippy::cast_precision_loss)]
    pub fn minutes(&self) -> f64 {
        ((self.to - self.from) as f64 / 60.0).max(1.0 / 60.0)
    }

    pub fn failures_per_min(&self) -> Option<f64> {
        (!self.since_start).then(|| self.failures / self.minutes())
    }

    pub fn requests_per_min(&self) -> Option<f64> {
        (!self.since_start).then(|| self.requests / self.minutes())
    }

    /// Failures over requests (0 when nothing was sent).
    pub fn error_ratio(&self) -> f64 {
        if self.requests > 0.0 { (self.failures / self.requests).min(1.0) } else { 0.0 }
    }

    pub fn dominant_error(&self) -> Option<(&str, f64)> {
        crate::gateway::litellm::metrics::dominant(&self.errors)
    }
}

/// One gateway's recent samples, oldest first, and its last day at
/// one-minute resolution folded from them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    samples: VecDeque<Sample>,
    day: day::Day,
}

impl History {
    /// Keep a sample: the newest of each replica always, older ones at most
    /// one per [`MIN_SPACING_SECS`]; `true` when it is kept as history (and
    /// is worth storing).
    pub fn record(&mut self, mut sample: Sample) -> bool {
        self.share(&mut sample);
        let newest = sample.at;
        let prev = self.samples.iter().filter(|s| s.replica == sample.replica && s.at < newest).max_by_key(|s| s.at);
        self.day.fold(prev, &sample);
        // The previous newest of this replica stays only if far enough from the one before it.
        let mut same: Vec<usize> =
            self.samples.iter().enumerate().filter(|(_, s)| s.replica == sample.replica).map(|(i, _)| i).collect();
        let kept_as_history = match same.as_slice() {
            [.., before, last] => {
                if self.samples[*last].at - self.samples[*before].at < MIN_SPACING_SECS {
                    self.samples.remove(*last);
                    same.pop();
                }
                same.last().is_none_or(|&l| newest - self.samples[l].at >= MIN_SPACING_SECS)
            }
            [last] => newest - self.samples[*last].at >= MIN_SPACING_SECS,
            [] => true,
        };
        self.samples.push_back(sample);
        while self.samples.front().is_some_and(|s| newest - s.at > KEEP_SECS) {
            self.samples.pop_front();
        }
        kept_as_history
    }

    /// Point the sample's ids and aliases at the strings the newest sample
    /// held already: half an hour of samples of 5,000 deployments then holds
    /// one copy of each id (64 hex characters) and alias, not one per sample.
    fn share(&self, sample: &mut Sample) {
        let Some(prev) = self.samples.back() else { return };
        let mut held = prev.deployments.iter().peekable();
        let own = std::mem::take(&mut sample.deployments);
        sample.deployments = own
            .into_iter()
            .map(|(id, mut d)| {
                while held.peek().is_some_and(|(h, _)| **h < id) {
                    held.next();
                }
                match held.peek().filter(|(h, _)| **h == id) {
                    Some((h, hd)) => {
                        if hd.alias == d.alias {
                            d.alias = std::sync::Arc::clone(&hd.alias);
                        }
                        (std::sync::Arc::clone(h), d)
                    }
                    None => (id, d),
                }
            })
            .collect();
    }

    /// Fold in samples read elsewhere (a Prometheus range), older ones
    /// included: merged in time order and thinned as if recorded one by one;
    /// a sample of a replica and time already held is replaced.
    pub fn absorb(&mut self, mut samples: Vec<Sample>) {
        samples.sort_by_key(|s| s.at);
        let newer = samples.iter().all(|s| {
            self.samples.iter().filter(|o| o.replica == s.replica).map(|o| o.at).max().is_none_or(|l| s.at > l)
        });
        if !newer {
            let mut all: Vec<Sample> = self.samples.drain(..).collect();
            all.retain(|o| !samples.iter().any(|s| s.replica == o.replica && s.at == o.at));
            all.extend(samples);
            all.sort_by_key(|s| s.at);
            samples = all;
        }
        for s in samples {
            self.record(s);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// The last day at one-minute resolution.
    pub fn day(&self) -> &day::Day {
        &self.day
    }

    pub fn day_mut(&mut self) -> &mut day::Day {
        &mut self.day
    }

    /// Start from a saved day (before any sample is recorded: the samples
    /// then fold in after the ones it holds).
    pub fn set_day(&mut self, day: day::Day) {
        self.day = day;
    }

    pub fn samples(&self) -> impl Iterator<Item = &Sample> {
        self.samples.iter()
    }

    /// The newest sample time, if any.
    pub fn newest(&self) -> Option<i64> {
        self.samples.iter().map(|s| s.at).max()
    }

    /// Deployment `id` over the last [`WINDOW_SECS`] before `now` (unix seconds).
    pub fn window(&self, id: &str, now: i64) -> Option<Window> {
        self.window_between(id, now - WINDOW_SECS, now)
    }

    /// Deployment `id` between two times: per replica, its newest sample up
    /// to `to` against its oldest sample from `from` on (at least 30 s older).
    pub fn window_between(&self, id: &str, from: i64, to: i64) -> Option<Window> {
        self.window_on(id, from, to, None)
    }

    /// The replicas that have counted `id`, in order.
    pub fn replicas_of(&self, id: &str) -> Vec<&str> {
        let mut replicas: Vec<&str> =
            self.samples.iter().filter(|s| s.deployments.contains_key(id)).map(|s| s.replica.as_str()).collect();
        replicas.sort_unstable();
        replicas.dedup();
        replicas
    }

    /// [`Self::window_between`] on one replica only (`None`: all of them).
    pub fn window_on(&self, id: &str, from: i64, to: i64, replica: Option<&str>) -> Option<Window> {
        let mut out: Option<Window> = None;
        let mut replicas: Vec<&str> = self.samples.iter().map(|s| s.replica.as_str()).collect();
        replicas.sort_unstable();
        replicas.dedup();
        for rep in replicas.into_iter().filter(|r| replica.is_none_or(|x| x == *r)) {
            let mine = || self.samples.iter().filter(move |s| s.replica == rep && s.at <= to);
            let Some(last) = mine().filter(|s| s.deployments.contains_key(id)).max_by_key(|s| s.at) else { continue };
            let cur = &last.deployments[id];
            let first = mine().filter(|s| s.at >= from && last.at - s.at >= 30).min_by_key(|s| s.at);
            let w = out.get_or_insert_with(|| Window { from: last.at, to: last.at, ..Window::default() });
            accumulate(w, id, cur, last.at, first);
        }
        out
    }

    /// Every deployment of the newest samples over the last [`WINDOW_SECS`]
    /// before `now`, in one pass (per replica: its newest sample against its
    /// oldest at least 30 s older), instead of one search per deployment.
    pub fn windows(&self, now: i64) -> std::collections::HashMap<String, Window> {
        let (from, to) = (now - WINDOW_SECS, now);
        let mut out: std::collections::HashMap<String, Window> = std::collections::HashMap::new();
        let mut replicas: Vec<&str> = self.samples.iter().map(|s| s.replica.as_str()).collect();
        replicas.sort_unstable();
        replicas.dedup();
        for rep in replicas {
            let mine = || self.samples.iter().filter(move |s| s.replica == rep && s.at <= to);
            let Some(last) = mine().max_by_key(|s| s.at) else { continue };
            let first = mine().filter(|s| s.at >= from && last.at - s.at >= 30).min_by_key(|s| s.at);
            for (id, cur) in &last.deployments {
                let w = out.entry(id.to_string()).or_insert_with(|| Window {
                    from: last.at,
                    to: last.at,
                    ..Window::default()
                });
                accumulate(w, id, cur, last.at, first);
            }
        }
        out
    }

    /// What the other deployments of `alias` (not `id`) last counted before
    /// `before`, summed over the replicas: the same alias before a config fix
    /// gave it a new id. (requests, failures, when.)
    pub fn alias_before(&self, alias: &str, id: &str, before: i64) -> Option<(f64, f64, i64)> {
        if alias.is_empty() {
            return None;
        }
        let mut replicas: Vec<&str> = self.samples.iter().map(|s| s.replica.as_str()).collect();
        replicas.sort_unstable();
        replicas.dedup();
        let mut out: Option<(f64, f64, i64)> = None;
        for rep in replicas {
            // Only deployments that are gone now: a sibling still serving is not a "before".
            let Some(newest) = self.samples.iter().filter(|s| s.replica == rep).max_by_key(|s| s.at) else { continue };
            let gone = |k: &str| k != id && !newest.deployments.contains_key(k);
            let last = self
                .samples
                .iter()
                .filter(|s| s.replica == rep && s.at < before)
                .filter(|s| s.deployments.iter().any(|(k, d)| gone(k) && &*d.alias == alias))
                .max_by_key(|s| s.at);
            if let Some(s) = last {
                let o = out.get_or_insert((0.0, 0.0, s.at));
                for (_, d) in s.deployments.iter().filter(|(k, d)| gone(k) && &*d.alias == alias) {
                    o.0 += d.requests;
                    o.1 += d.failures;
                }
                o.2 = o.2.max(s.at);
            }
        }
        out
    }

    /// The first time deployment `id` was sampled (any replica).
    pub fn first_seen(&self, id: &str) -> Option<i64> {
        self.samples.iter().filter(|s| s.deployments.contains_key(id)).map(|s| s.at).min()
    }

    /// Failures per minute of `id` for each of the last `buckets` spans of
    /// `span` seconds before `now` (oldest first; `None`: no data there).
    pub fn spark(&self, id: &str, now: i64, buckets: u16, span: i64) -> Vec<Option<f64>> {
        self.spark_on(id, None, now, buckets, span)
    }

    /// [`Self::spark`] of one replica (`None`: all of them).
    pub fn spark_on(&self, id: &str, replica: Option<&str>, now: i64, buckets: u16, span: i64) -> Vec<Option<f64>> {
        (0..buckets)
            .rev()
            .map(|k| {
                let to = now - span * i64::from(k);
                let w = self.window_on(id, to - span, to, replica)?;
                if w.since_start || to - w.to > span { None } else { w.failures_per_min() }
            })
            .collect()
    }
}

/// The store of one poller: where it is, and when each replica was last written.
#[derive(Debug, Clone)]
pub struct Store {
    pub path: PathBuf,
    last: std::collections::HashMap<String, i64>,
}

impl Store {
    pub fn new(state_dir: &Path) -> Self {
        Self { path: store_path(state_dir), last: std::collections::HashMap::new() }
    }

    /// Whether `replica`'s sample at `at` is worth writing (one per replica
    /// per minute at most); a due one is counted as written.
    pub fn due(&mut self, replica: &str, at: i64) -> bool {
        let due = self.last.get(replica).is_none_or(|l| at - l >= MIN_SPACING_SECS);
        if due {
            self.last.insert(replica.to_owned(), at);
        }
        due
    }
}

/// Add one replica's counters for `id` (newest `cur` at `last_at`, against
/// the earlier sample `first` when there is one) to `w`.
fn accumulate(w: &mut Window, id: &str, cur: &DeploymentTraffic, last_at: i64, first: Option<&Sample>) {
    w.to = w.to.max(last_at);
    w.state = w.state.max(cur.state);
    let Some(f) = first else {
        w.since_start = true;
        w.requests += cur.requests;
        w.failures += cur.failures;
        for (k, n) in &cur.errors {
            *w.errors.entry(k.clone()).or_default() += n;
        }
        return;
    };
    w.from = w.from.min(f.at);
    let old = f.deployments.get(id).cloned();
    w.appeared |= old.is_none();
    let old = old.unwrap_or_default();
    let moved = cur.created > 0.0 && old.created > 0.0 && cur.created > old.created + 1.0;
    let reset = cur.requests < old.requests || cur.failures < old.failures || moved;
    w.restarted |= reset;
    if reset {
        let b = w.before_restart.get_or_insert((0.0, 0.0));
        b.0 += old.requests;
        b.1 += old.failures;
    }
    let base = if reset { DeploymentTraffic::default() } else { old };
    w.requests += cur.requests - base.requests;
    w.failures += cur.failures - base.failures;
    for (k, n) in &cur.errors {
        let d = n - base.errors.get(k).copied().unwrap_or(0.0);
        if d > 0.0 {
            *w.errors.entry(k.clone()).or_default() += d;
        }
    }
}

/// Where the store lives.
pub fn store_path(state_dir: &Path) -> PathBuf {
    state_dir.join("traffic.jsonl")
}

/// Append samples (one JSON line each, the file 0600, never through a
/// symlink); rewrite the file without lines older than a day once it is big.
pub fn append(path: &Path, samples: &[Sample]) -> std::io::Result<()> {
    let newest = samples.iter().map(|s| s.at).max().unwrap_or(0);
    crate::statefile::append_jsonl(path, samples, STORE_MAX_BYTES, |s: &Sample| newest - s.at <= STORE_SECS)
}

/// The samples in the store (its last 16 MiB; lines that do not parse are
/// skipped). A missing file is no history.
pub fn load(path: &Path) -> Vec<Sample> {
    crate::statefile::load_jsonl(path, STORE_READ_BYTES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_share_their_id_and_alias_strings() {
        let mk = |at: i64, req: f64| {
            let mut d = BTreeMap::new();
            for id in ["a", "b"] {
                d.insert(id.into(), DeploymentTraffic { alias: "gpt-4o".into(), requests: req, ..Default::default() });
            }
            Sample { gateway: "gw".into(), replica: "r1".into(), at, deployments: d }
        };
        let mut h = History::default();
        h.record(mk(1_000, 1.0));
        h.record(mk(1_060, 2.0));
        let s: Vec<&Sample> = h.samples().collect();
        let (k0, d0) = s[0].deployments.get_key_value("b").unwrap();
        let (k1, d1) = s[1].deployments.get_key_value("b").unwrap();
        assert!(std::sync::Arc::ptr_eq(k0, k1) && std::sync::Arc::ptr_eq(&d0.alias, &d1.alias));
        assert!((d1.requests - 2.0).abs() < f64::EPSILON, "the counters are the new sample's");
    }

    #[test]
    fn absorbed_older_samples_merge_in_time_order() {
        let mk = |replica: &str, at: i64, req: f64| {
            let mut d = BTreeMap::new();
            d.insert("a".into(), DeploymentTraffic { requests: req, ..DeploymentTraffic::default() });
            Sample { gateway: "gw".into(), replica: replica.into(), at, deployments: d }
        };
        let mut h = History::default();
        // The store held the newest; a Prometheus backfill brings what came before it.
        h.record(mk("r1", 1_000, 9.0));
        let mut other = mk("r2", 1_000, 1.0);
        other.deployments = BTreeMap::from([("b".into(), DeploymentTraffic::default())]);
        h.absorb(vec![mk("r1", 880, 3.0), mk("r1", 940, 6.0), mk("r1", 1_000, 9.0), other]);
        let at: Vec<(&str, i64)> = h.samples().map(|s| (s.replica.as_str(), s.at)).collect();
        assert_eq!(at, [("r1", 880), ("r1", 940), ("r1", 1_000), ("r2", 1_000)]);
        let w = h.window("a", 1_000).unwrap();
        assert_eq!((w.requests, w.from, w.since_start), (6.0, 880, false), "{w:?}");
        // Newer samples take the plain path.
        h.absorb(vec![mk("r1", 1_060, 12.0)]);
        assert_eq!(h.newest(), Some(1_060));
    }

    fn sample(replica: &str, at: i64, req: f64, fail: f64) -> Sample {
        let mut d = DeploymentTraffic { requests: req, failures: fail, ..Default::default() };
        if fail > 0.0 {
            d.errors.insert("500 InternalServerError".into(), fail);
        }
        Sample { gateway: "g".into(), replica: replica.into(), at, deployments: BTreeMap::from([("dep".into(), d)]) }
    }

    #[test]
    fn rates_come_from_the_difference_and_a_restart_counts_from_zero() {
        let mut h = History::default();
        assert!(h.record(sample("r1", 1000, 10.0, 4.0)));
        let first = h.window("dep", 1000).unwrap();
        assert!(first.since_start && first.failures_per_min().is_none());
        assert!(h.record(sample("r1", 1060, 40.0, 34.0)));
        let w = h.window("dep", 1060).unwrap();
        assert_eq!((w.requests, w.failures, w.minutes()), (30.0, 30.0, 1.0));
        assert_eq!(w.failures_per_min(), Some(30.0));
        assert_eq!(w.dominant_error(), Some(("500 InternalServerError", 30.0)));
        // The proxy restarts: its counters start again.
        h.record(sample("r1", 1120, 5.0, 0.0));
        let w = h.window_between("dep", 1100, 1120);
        assert!(w.is_none_or(|w| w.since_start), "no sample 30 s older in that span");
        let w = h.window("dep", 1120).unwrap();
        assert!(w.restarted);
        assert_eq!((w.requests, w.failures), (5.0, 0.0), "{w:?}");
    }

    #[test]
    fn replicas_add_up_and_close_samples_are_not_all_kept() {
        let mut h = History::default();
        h.record(sample("r1", 1000, 0.0, 0.0));
        h.record(sample("r2", 1000, 100.0, 0.0));
        assert!(!h.record(sample("r1", 1010, 1.0, 0.0)), "10 s later: the newest, not history");
        assert!(!h.record(sample("r1", 1020, 2.0, 0.0)));
        assert_eq!(h.samples().filter(|s| s.replica == "r1").count(), 2, "the first and the newest");
        h.record(sample("r1", 1060, 6.0, 3.0));
        h.record(sample("r2", 1060, 106.0, 0.0));
        let w = h.window("dep", 1060).unwrap();
        assert_eq!((w.requests, w.failures), (12.0, 3.0));
        // Old samples leave memory.
        h.record(sample("r1", 1000 + KEEP_SECS + 120, 7.0, 3.0));
        assert!(h.samples().all(|s| s.at >= 1060));
    }

    #[test]
    fn the_store_round_trips_and_skips_garbage() {
        let dir = tempfile::tempdir().unwrap();
        let p = store_path(dir.path());
        append(&p, &[sample("r1", 1000, 1.0, 0.0)]).unwrap();
        std::io::Write::write_all(&mut std::fs::OpenOptions::new().append(true).open(&p).unwrap(), b"{not json\n")
            .unwrap();
        append(&p, &[sample("r1", 1060, 2.0, 1.0)]).unwrap();
        let back = load(&p);
        assert_eq!(back.len(), 2);
        assert!((back[1].deployments["dep"].failures - 1.0).abs() < f64::EPSILON);
        assert!(load(&dir.path().join("missing")).is_empty());
    }

    #[test]
    fn the_one_pass_windows_equal_the_per_deployment_search() {
        let mut h = History::default();
        for (r, at, req, fail) in
            [("r1", 1000, 1.0, 0.0), ("r2", 1000, 5.0, 1.0), ("r1", 1060, 9.0, 4.0), ("r2", 1070, 2.0, 0.0)]
        {
            h.record(sample(r, at, req, fail));
        }
        let all = h.windows(1070);
        assert_eq!(all.get("dep"), h.window("dep", 1070).as_ref());
        assert!(all["dep"].restarted, "r2 went back: {:?}", all["dep"]);
    }

    #[test]
    fn the_spark_has_one_value_per_span_with_data() {
        let mut h = History::default();
        for (i, fail) in [(0_i32, 0.0), (1, 0.0), (2, 6.0), (3, 12.0)] {
            h.record(sample("r1", 1000 + 60 * i64::from(i), 10.0 * f64::from(i), fail));
        }
        let s = h.spark("dep", 1180, 4, 60);
        assert_eq!(s, vec![None, Some(0.0), Some(6.0), Some(6.0)]);
    }
}
