//! The last day of one gateway's traffic at one-minute resolution: per
//! deployment, the requests and the failures of each minute, summed over the
//! replicas, folded from consecutive counter samples of each replica.
//!
//! Memory is what bounds it: 5,000 deployments × 1,440 minutes × 2 counts is
//! 14.4 M figures, so each is one byte — exact up to 63 a minute, then
//! logarithmic in steps of 5 % (±2.5 %) up to ~700,000 a minute, where it
//! saturates. Requests take 1,440 bytes per deployment with any traffic in
//! the day (7.2 MB at 5,000), failures another 1,440 only for a deployment
//! that failed in the day (14.4 MB at 5,000 all failing); a deployment with
//! no count in the day holds nothing.
//!
//! Minutes no sample spans are "not covered" (no data, never zero). When two
//! samples of a replica are more than two minutes apart (`check` from cron
//! every five minutes), what they counted is spread evenly over the minutes
//! between them, and those minutes are marked "coarse".

use std::collections::HashMap;
use std::io::{self, BufRead as _, Read as _};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::Sample;
use crate::gateway::litellm::metrics::DeploymentTraffic;

/// Minutes kept: one day.
pub const MINUTES: i64 = 24 * 60;
const SLOTS: usize = 24 * 60;
const WORDS: usize = SLOTS.div_ceil(64);
/// Deployments with a series, at most (past it, new ones have no day).
pub const MAX_SERIES: usize = 10_000;
/// Step of the logarithmic part of the byte code.
const STEP: f64 = 1.05;
/// Codes below this are the count itself.
const EXACT: u8 = 64;
/// The saved day's header (ids, replicas) is read up to this size.
const MAX_HEADER: u64 = 4 << 20;

/// One count as a byte: exact below 64, then `64 · 1.05^(c-64)`.
pub fn encode(v: f64) -> u8 {
    if v.is_nan() || v < 0.5 {
        return 0;
    }
    if v < f64::from(EXACT) - 0.5 {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        return v.round() as u8;
    }
    let k = ((v / f64::from(EXACT)).ln() / STEP.ln()).round();
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let c = (f64::from(EXACT) + k.max(0.0)).min(255.0) as u8;
    c
}

/// The count a byte stands for.
pub fn decode(c: u8) -> f64 {
    if c < EXACT { f64::from(c) } else { f64::from(EXACT) * STEP.powi(i32::from(c - EXACT)) }
}

/// A set of minute slots.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Bits([u64; WORDS]);

impl Default for Bits {
    fn default() -> Self {
        Self([0; WORDS])
    }
}

impl Bits {
    fn get(&self, i: usize) -> bool {
        (self.0[i / 64] >> (i % 64)) & 1 == 1
    }
    fn set(&mut self, i: usize, on: bool) {
        if on {
            self.0[i / 64] |= 1 << (i % 64);
        } else {
            self.0[i / 64] &= !(1 << (i % 64));
        }
    }
}

/// One deployment's day: requests per minute slot, and failures per slot
/// once it has had one (most deployments never fail in a day: half the bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Series {
    requests: Box<[u8]>,
    failures: Option<Box<[u8]>>,
    /// The newest minute with a count (the series goes once it leaves the day).
    last_count: i64,
}

impl Series {
    fn new() -> Self {
        Self { requests: vec![0; SLOTS].into_boxed_slice(), failures: None, last_count: 0 }
    }

    /// Add to one slot.
    fn add(&mut self, i: usize, requests: f64, failures: f64) {
        if requests > 0.0 {
            self.requests[i] = encode(decode(self.requests[i]) + requests);
        }
        if failures > 0.0 {
            let f = self.failures.get_or_insert_with(|| vec![0; SLOTS].into_boxed_slice());
            f[i] = encode(decode(f[i]) + failures);
        }
    }

    fn get(&self, i: usize) -> (f64, f64) {
        (decode(self.requests[i]), self.failures.as_ref().map_or(0.0, |f| decode(f[i])))
    }

    fn clear(&mut self, i: usize) {
        self.requests[i] = 0;
        if let Some(f) = self.failures.as_mut() {
            f[i] = 0;
        }
    }
}

/// A ring as bytes, oldest slot (the one after `newest`) first.
fn unroll(ring: &[u8], newest: usize, out: &mut Vec<u8>) {
    let (newer, older) = ring.split_at(newest + 1);
    out.extend_from_slice(older);
    out.extend_from_slice(newer);
}

/// [`unroll`] backwards.
fn roll(bytes: &[u8], newest: usize, ring: &mut [u8]) {
    let (older, newer) = bytes.split_at(SLOTS - (newest + 1));
    let (ring_newer, ring_older) = ring.split_at_mut(newest + 1);
    ring_older.copy_from_slice(older);
    ring_newer.copy_from_slice(newer);
}

/// What a span of minutes of one deployment adds up to.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Span {
    pub requests: f64,
    pub failures: f64,
    /// Minutes in the span with data (any replica sampled across them).
    pub covered: u32,
    /// Of those, minutes spread from samples further apart than two minutes.
    pub coarse: u32,
    /// Of those, minutes whose successful requests were not counted (New
    /// API without its consume log): `requests` holds only the failures there.
    pub requests_unknown: u32,
}

impl Span {
    pub fn failures_per_min(&self) -> Option<f64> {
        (self.covered > 0).then(|| self.failures / f64::from(self.covered))
    }
}

/// One gateway's day.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Day {
    /// The newest minute (unix seconds / 60) held; `None`: nothing yet.
    newest: Option<i64>,
    covered: Bits,
    coarse: Bits,
    series: HashMap<Box<str>, Series>,
    /// Per replica, the time of the newest sample folded in.
    folded: HashMap<String, i64>,
    /// New API: the server second up to which its logs are folded.
    log_upto: Option<i64>,
    /// New API: minutes whose successes were not counted (the consume log
    /// was empty — `LogConsumeEnabled` off, or nothing succeeded — or not read).
    no_requests: Bits,
    /// Some deployment got no series: [`MAX_SERIES`] were held.
    pub capped: bool,
    /// Changes since the last save.
    pub unsaved: bool,
}

fn slot(minute: i64) -> usize {
    usize::try_from(minute.rem_euclid(MINUTES)).unwrap_or(0)
}

/// Whole requests and failures between two counter readings of one
/// deployment (a restart, or a re-created series: counted from zero).
fn delta(cur: &DeploymentTraffic, old: Option<&DeploymentTraffic>) -> (f64, f64) {
    let Some(old) = old else { return (cur.requests.max(0.0), cur.failures.max(0.0)) };
    let moved = cur.created > 0.0 && old.created > 0.0 && cur.created > old.created + 1.0;
    if cur.requests < old.requests || cur.failures < old.failures || moved {
        (cur.requests.max(0.0), cur.failures.max(0.0))
    } else {
        (cur.requests - old.requests, cur.failures - old.failures)
    }
}

impl Day {
    /// The newest minute held.
    pub fn newest_minute(&self) -> Option<i64> {
        self.newest
    }

    /// Deployments with a series.
    pub fn len(&self) -> usize {
        self.series.len()
    }

    pub fn is_empty(&self) -> bool {
        self.newest.is_none()
    }

    /// Fold the counts between `prev` and `cur` (two samples of one
    /// replica, `prev` older) into the minutes between them. A sample no
    /// newer than the last one folded for its replica is skipped (a backfill
    /// of older samples, a second look at the same one), so nothing is
    /// counted twice. `prev` `None`: the replica's first sample, a start.
    pub fn fold(&mut self, prev: Option<&Sample>, cur: &Sample) {
        let before = self.folded.get(&cur.replica).copied();
        if before.is_some_and(|t| cur.at <= t) {
            return;
        }
        self.folded.insert(cur.replica.clone(), cur.at);
        let Some(prev) = prev.filter(|p| p.at < cur.at && cur.at - p.at <= MINUTES * 60) else { return };
        // Part of the span already folded (a saved day that ends between two
        // stored samples): only the part after it counts.
        let start = before.map_or(prev.at, |t| t.max(prev.at));
        #[allow(clippy::cast_precision_loss)]
        let share = (cur.at - start) as f64 / (cur.at - prev.at) as f64;
        let (m0, m1) = (start.div_euclid(60), cur.at.div_euclid(60));
        self.advance(m1);
        let Some(newest) = self.newest else { return };
        // Within the day only; a sample a minute or less after the last goes to its own minute.
        let first = if m1 - m0 <= 1 { m1 } else { m0 + 1 }.max(newest - MINUTES + 1);
        if first > m1 {
            return;
        }
        let minutes = m1 - first + 1;
        let coarse = m1 - m0 > 2;
        for m in first..=m1 {
            self.covered.set(slot(m), true);
            self.coarse.set(slot(m), coarse);
        }
        self.unsaved = true;
        #[allow(clippy::cast_precision_loss)]
        let n = minutes as f64;
        for (id, c) in &cur.deployments {
            let (req, fail) = delta(c, prev.deployments.get(id));
            let (req, fail) = ((req * share).round(), (fail * share).round());
            if req <= 0.0 && fail <= 0.0 {
                continue;
            }
            let Some(s) = self.series_mut(id) else { continue };
            s.last_count = s.last_count.max(m1);
            // Evenly, whole counts, the remainder to the newest minutes.
            let (rq, rr) = ((req / n).floor(), req - (req / n).floor() * n);
            let (fq, fr) = ((fail / n).floor(), fail - (fail / n).floor() * n);
            for m in first..=m1 {
                #[allow(clippy::cast_precision_loss)]
                let from_end = (m1 - m) as f64;
                let r = rq + if from_end < rr { 1.0 } else { 0.0 };
                let f = fq + if from_end < fr { 1.0 } else { 0.0 };
                s.add(slot(m), r, f);
            }
        }
    }

    /// New API: fold the entries of its error log (failures) and consume
    /// log (successes) newer than those folded before, up to the second
    /// before the server's `now` (that second's entries may still come).
    /// A full page (100 entries) whose oldest entry is newer than what was
    /// folded before leaves a gap: only from its oldest second on is
    /// counted (the minutes before stay "not covered"). The first read
    /// counts the last five minutes, as the live check does.
    pub fn fold_logs(
        &mut self,
        errors: &[crate::gateway::ErrorLogEntry],
        consumed: Option<&[crate::gateway::ErrorLogEntry]>,
        now: i64,
    ) {
        let upto = now - 1;
        if self.log_upto.is_some_and(|u| upto <= u) {
            return;
        }
        let consumed = consumed.filter(|v| !v.is_empty());
        let complete_from = |v: &[crate::gateway::ErrorLogEntry]| {
            (v.len() >= 100).then(|| v.iter().map(|e| e.at).min().unwrap_or(now) + 1)
        };
        let after = self.log_upto.map_or(upto - super::WINDOW_SECS, |u| u + 1).max(upto - MINUTES * 60 + 1);
        let from = [Some(after), complete_from(errors), consumed.and_then(complete_from)]
            .into_iter()
            .flatten()
            .max()
            .unwrap_or(after);
        self.log_upto = Some(upto);
        if from > upto {
            return;
        }
        let (m0, m1) = (from.div_euclid(60), upto.div_euclid(60));
        self.advance(m1);
        for m in m0.max(m1 - MINUTES + 1)..=m1 {
            self.covered.set(slot(m), true);
            self.coarse.set(slot(m), false);
            self.no_requests.set(slot(m), consumed.is_none());
        }
        self.unsaved = true;
        let newest = m1;
        let mut add = |e: &crate::gateway::ErrorLogEntry, failed: bool| {
            if e.at < from || e.at > upto {
                return;
            }
            let m = e.at.div_euclid(60);
            let Some(s) = self.series_mut(&e.channel.to_string()) else { return };
            s.last_count = s.last_count.max(m).min(newest);
            s.add(slot(m), 1.0, if failed { 1.0 } else { 0.0 });
        };
        for e in errors {
            add(e, true);
        }
        for e in consumed.into_iter().flatten() {
            add(e, false);
        }
    }

    /// The series of `id`, new if it has none; `None` past [`MAX_SERIES`]
    /// (and said: [`Self::capped`]).
    fn series_mut(&mut self, id: &str) -> Option<&mut Series> {
        if !self.series.contains_key(id) {
            if self.series.len() >= MAX_SERIES {
                self.capped = true;
                return None;
            }
            self.series.insert(id.into(), Series::new());
        }
        self.series.get_mut(id)
    }

    /// Move the day's end to `minute`: the minutes that leave it are cleared,
    /// and the series with no count left go.
    fn advance(&mut self, minute: i64) {
        let Some(newest) = self.newest else {
            self.newest = Some(minute);
            return;
        };
        if minute <= newest {
            return;
        }
        if minute - newest >= MINUTES {
            self.covered = Bits::default();
            self.coarse = Bits::default();
            self.no_requests = Bits::default();
            self.series.clear();
        } else {
            for m in newest + 1..=minute {
                let i = slot(m);
                self.covered.set(i, false);
                self.coarse.set(i, false);
                self.no_requests.set(i, false);
            }
            self.series.retain(|_, s| {
                for m in newest + 1..=minute {
                    s.clear(slot(m));
                }
                minute - s.last_count < MINUTES
            });
        }
        self.newest = Some(minute);
        self.unsaved = true;
    }

    /// Deployment `id` over the minutes `from..=to` (unix minutes).
    pub fn span(&self, id: &str, from: i64, to: i64) -> Span {
        let mut out = Span::default();
        let Some(newest) = self.newest else { return out };
        let s = self.series.get(id);
        for m in from.max(newest - MINUTES + 1)..=to.min(newest) {
            let i = slot(m);
            if !self.covered.get(i) {
                continue;
            }
            out.covered += 1;
            out.coarse += u32::from(self.coarse.get(i));
            out.requests_unknown += u32::from(self.no_requests.get(i));
            if let Some(s) = s {
                let (r, f) = s.get(i);
                out.requests += r;
                out.failures += f;
            }
        }
        out
    }

    /// Failures per minute of `id` in each of `buckets` spans of `width`
    /// minutes ending at the day's newest minute, oldest first (`None`: no
    /// covered minute in it).
    pub fn spark(&self, id: &str, buckets: u16, width: i64) -> Vec<Option<f64>> {
        let Some(newest) = self.newest else { return vec![None; usize::from(buckets)] };
        (0..i64::from(buckets))
            .rev()
            .map(|k| {
                let to = newest - k * width;
                self.span(id, to - width + 1, to).failures_per_min()
            })
            .collect()
    }

    /// The whole day of the gateway: minutes covered, of them coarse, and the
    /// oldest covered one.
    pub fn coverage(&self) -> (u32, u32, Option<i64>) {
        let Some(newest) = self.newest else { return (0, 0, None) };
        let (mut covered, mut coarse, mut oldest) = (0, 0, None);
        for m in newest - MINUTES + 1..=newest {
            let i = slot(m);
            if self.covered.get(i) {
                covered += 1;
                coarse += u32::from(self.coarse.get(i));
                oldest = oldest.or(Some(m));
            }
        }
        (covered, coarse, oldest)
    }

    /// The day as bytes: a JSON header line (masked like every state file:
    /// ids and replica addresses come from the gateway), then each series'
    /// 2,880 bytes in the header's id order, oldest minute first.
    pub fn to_bytes(&self, gateway: &str) -> Vec<u8> {
        let Some(newest) = self.newest else { return Vec::new() };
        let mut ids: Vec<&str> = self.series.keys().map(AsRef::as_ref).collect();
        ids.sort_unstable();
        let order = |bits: &Bits| -> String {
            (newest - MINUTES + 1..=newest).map(|m| if bits.get(slot(m)) { '1' } else { '0' }).collect()
        };
        let header = Header {
            v: 1,
            gateway: gateway.to_owned(),
            newest,
            covered: order(&self.covered),
            coarse: order(&self.coarse),
            folded: self.folded.clone(),
            log_upto: self.log_upto,
            no_requests: order(&self.no_requests),
            ids: ids.iter().map(|s| (*s).to_owned()).collect(),
        };
        let mut out = crate::secret::scrub(&serde_json::to_string(&header).unwrap_or_default()).into_bytes();
        out.push(b'\n');
        out.reserve(ids.len() * SLOTS * 2);
        for id in ids {
            let s = &self.series[id];
            // Oldest minute first: requests, then failures (zeros when none).
            unroll(&s.requests, slot(newest), &mut out);
            match &s.failures {
                Some(f) => unroll(f, slot(newest), &mut out),
                None => out.resize(out.len() + SLOTS, 0),
            }
        }
        out
    }

    /// A day saved by [`Self::to_bytes`]; `None` when it is not one (or of
    /// another gateway, or cut short).
    pub fn from_reader(mut r: impl io::BufRead, gateway: &str) -> Option<Self> {
        let mut line = Vec::new();
        (&mut r).take(MAX_HEADER).read_until(b'\n', &mut line).ok()?;
        let h: Header = serde_json::from_slice(&line).ok()?;
        if h.v != 1 || h.gateway != gateway || h.ids.len() > MAX_SERIES {
            return None;
        }
        let bits = |text: &str| -> Option<Bits> {
            let mut b = Bits::default();
            if text.len() != SLOTS {
                return None;
            }
            for (m, c) in (h.newest - MINUTES + 1..=h.newest).zip(text.bytes()) {
                b.set(slot(m), c == b'1');
            }
            Some(b)
        };
        let mut day = Self {
            newest: Some(h.newest),
            covered: bits(&h.covered)?,
            coarse: bits(&h.coarse)?,
            no_requests: bits(&h.no_requests)?,
            log_upto: h.log_upto,
            folded: h.folded,
            ..Self::default()
        };
        let mut buf = vec![0u8; SLOTS * 2];
        for id in h.ids {
            r.read_exact(&mut buf).ok()?;
            let mut s = Series::new();
            let (req, fail) = buf.split_at(SLOTS);
            roll(req, slot(h.newest), &mut s.requests);
            if fail.iter().any(|&b| b != 0) {
                let mut f = vec![0; SLOTS].into_boxed_slice();
                roll(fail, slot(h.newest), &mut f);
                s.failures = Some(f);
            }
            // The newest minute with a count (index from the oldest).
            let newest_count = (0..SLOTS).rev().find(|&k| req[k] != 0 || fail[k] != 0);
            s.last_count =
                newest_count.map_or(h.newest - MINUTES, |k| h.newest - MINUTES + 1 + i64::try_from(k).unwrap_or(0));
            day.series.insert(id.into(), s);
        }
        Some(day)
    }
}

#[derive(Serialize, Deserialize)]
struct Header {
    v: u8,
    gateway: String,
    newest: i64,
    covered: String,
    coarse: String,
    folded: HashMap<String, i64>,
    log_upto: Option<i64>,
    no_requests: String,
    ids: Vec<String>,
}

/// Where a gateway's day is saved.
pub fn path(state_dir: &Path, gateway: &str) -> PathBuf {
    state_dir.join("traffic-day").join(format!("{}.bin", crate::statefile::file_safe(gateway)))
}

/// Save a day (0600, in a private directory, replaced atomically).
pub fn save(path: &Path, gateway: &str, day: &Day) -> io::Result<()> {
    if let Some(dir) = path.parent() {
        crate::statefile::private_dir(dir)?;
    }
    crate::statefile::replace(path, &day.to_bytes(gateway))
}

/// The saved day of `gateway`; a missing or unreadable file is an empty day.
pub fn load(path: &Path, gateway: &str) -> Day {
    let cap = MAX_HEADER + (MAX_SERIES * SLOTS * 2) as u64;
    let Ok(bytes) = crate::readlimit::read_bytes(path, cap, "saved traffic day") else { return Day::default() };
    Day::from_reader(bytes.as_slice(), gateway).unwrap_or_default()
}

/// The saved days of these gateways (blocking: call off the UI thread).
pub fn load_all(state_dir: &Path, gateways: &[String]) -> Vec<(String, Day)> {
    gateways.iter().map(|g| (g.clone(), load(&path(state_dir, g), g))).collect()
}

/// Save these days, each as [`Day::to_bytes`] made it (blocking); the
/// first error, after trying them all.
pub fn save_all(state_dir: &Path, days: &[(String, Vec<u8>)]) -> io::Result<()> {
    let mut first = Ok(());
    for (g, bytes) in days {
        let p = path(state_dir, g);
        let r = p
            .parent()
            .map_or(Ok(()), crate::statefile::private_dir)
            .and_then(|()| crate::statefile::replace(&p, bytes));
        if let Err(e) = r {
            first = first.and(Err(e));
        }
    }
    first
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // whole counts, exactly representable
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn sample(replica: &str, at: i64, counts: &[(&str, f64, f64)]) -> Sample {
        let deployments: BTreeMap<std::sync::Arc<str>, DeploymentTraffic> = counts
            .iter()
            .map(|(id, r, f)| ((*id).into(), DeploymentTraffic { requests: *r, failures: *f, ..Default::default() }))
            .collect();
        Sample { gateway: "gw".into(), replica: replica.into(), at, deployments }
    }

    const T: i64 = 1_800_000_000; // a whole minute

    #[test]
    fn codes_are_exact_to_63_then_within_two_and_a_half_percent() {
        for v in 0..64 {
            assert!((decode(encode(f64::from(v))) - f64::from(v)).abs() < f64::EPSILON, "{v}");
        }
        for v in [64.0, 100.0, 1_000.0, 12_345.0, 500_000.0] {
            let back = decode(encode(v));
            assert!((back - v).abs() / v <= 0.025, "{v} -> {back}");
        }
        assert_eq!(encode(1e12), 255, "saturates");
        assert_eq!(encode(-3.0), 0);
        assert_eq!(encode(f64::NAN), 0);
    }

    #[test]
    fn counts_between_samples_land_in_their_minute_summed_over_replicas() {
        let mut d = Day::default();
        // First samples: a start, nothing counted (the span is unknown).
        d.fold(None, &sample("r1", T + 5, &[("a", 100.0, 10.0)]));
        d.fold(None, &sample("r2", T + 7, &[("a", 50.0, 0.0)]));
        assert_eq!(d.span("a", 0, i64::MAX).covered, 0);
        let (a1, b1) = (sample("r1", T + 5, &[("a", 100.0, 10.0)]), sample("r1", T + 65, &[("a", 130.0, 16.0)]));
        d.fold(Some(&a1), &b1);
        let (a2, b2) = (sample("r2", T + 7, &[("a", 50.0, 0.0)]), sample("r2", T + 67, &[("a", 70.0, 1.0)]));
        d.fold(Some(&a2), &b2);
        let m = T / 60 + 1;
        let s = d.span("a", m, m);
        assert_eq!((s.requests, s.failures, s.covered, s.coarse), (50.0, 7.0, 1, 0));
        // The same sample again (a backfill, a second look) is not counted twice.
        d.fold(Some(&a1), &b1);
        assert_eq!(d.span("a", m, m).requests, 50.0);
        // A minute nobody sampled is no data, not zero.
        assert_eq!(d.span("a", m - 5, m - 1).covered, 0);
        assert_eq!(d.span("a", m - 5, m - 1).failures_per_min(), None);
        // A deployment with no count has no series but the minute is covered.
        assert_eq!(d.span("quiet", m, m).covered, 1);
        assert_eq!(d.len(), 1);
    }

    #[test]
    fn a_restart_counts_from_zero_and_a_cron_gap_is_spread_and_marked() {
        let mut d = Day::default();
        let a = sample("r1", T, &[("a", 500.0, 40.0)]);
        let b = sample("r1", T + 60, &[("a", 3.0, 2.0)]); // the process restarted
        d.fold(Some(&a), &b);
        assert_eq!(d.span("a", T / 60 + 1, T / 60 + 1).requests, 3.0);
        // Five minutes later (cron): 7 failures over 5 minutes, whole counts.
        let c = sample("r1", T + 360, &[("a", 13.0, 9.0)]);
        d.fold(Some(&b), &c);
        let s = d.span("a", T / 60 + 2, T / 60 + 6);
        assert_eq!((s.requests, s.failures, s.covered, s.coarse), (10.0, 7.0, 5, 5));
        let per: Vec<f64> = (2..=6).map(|k| d.span("a", T / 60 + k, T / 60 + k).failures).collect();
        assert_eq!(per, vec![1.0, 1.0, 1.0, 2.0, 2.0], "the remainder to the newest minutes");
    }

    #[test]
    fn a_saved_day_ending_between_two_stored_samples_counts_only_the_rest() {
        let mut d = Day::default();
        // The TUI folded up to T+60 (a poll the store did not keep) ...
        d.fold(Some(&sample("r1", T, &[("a", 0.0, 0.0)])), &sample("r1", T + 60, &[("a", 60.0, 0.0)]));
        // ... and the store has T and T+120 only: what T..T+60 counted is not counted again.
        d.fold(Some(&sample("r1", T, &[("a", 0.0, 0.0)])), &sample("r1", T + 120, &[("a", 120.0, 0.0)]));
        assert_eq!(d.span("a", 0, i64::MAX).requests, 120.0);
    }

    fn entry(channel: i64, at: i64) -> crate::gateway::ErrorLogEntry {
        crate::gateway::ErrorLogEntry::for_test(channel, at, Some(401))
    }

    #[test]
    fn new_api_logs_fold_once_each_and_a_full_page_leaves_a_gap_uncovered() {
        let mut d = Day::default();
        let now = T + 600;
        // First read: the last five minutes, as the live check counts them.
        let errors = vec![entry(7, now - 30), entry(7, now - 90), entry(7, now - 400)];
        let ok = vec![entry(7, now - 20), entry(8, now - 40)];
        d.fold_logs(&errors, Some(&ok), now);
        let all = d.span("7", 0, i64::MAX);
        assert_eq!((all.requests, all.failures, all.requests_unknown), (3.0, 2.0, 0), "{all:?}");
        assert_eq!(d.span("8", 0, i64::MAX).requests, 1.0);
        // The same page again a few seconds later: nothing counted twice.
        d.fold_logs(&errors, Some(&ok), now + 5);
        assert_eq!(d.span("7", 0, i64::MAX).failures, 2.0);
        // An hour later a full page of failures, all newer than what was read:
        // the gap before its oldest entry is not covered, not zero.
        let later = now + 3600;
        let page: Vec<_> = (0..100).map(|k| entry(7, later - 1 - k)).collect();
        d.fold_logs(&page, Some(&ok), later);
        let gap = d.span("7", (now + 60) / 60, (later - 300) / 60);
        assert_eq!(gap.covered, 0, "{gap:?}");
        assert_eq!(d.span("7", 0, i64::MAX).failures, 2.0 + 99.0, "the oldest second of a full page may be cut");
        // Without successes (the consume log empty): failures only, and said.
        d.fold_logs(&[entry(9, later + 50)], Some(&[]), later + 60);
        let s = d.span("9", 0, i64::MAX);
        assert_eq!((s.failures, s.requests_unknown > 0), (1.0, true), "{s:?}");
    }

    #[test]
    fn past_the_cap_no_new_series_and_it_is_said() {
        let ids: Vec<String> = (0..=MAX_SERIES).map(|i| format!("d{i}")).collect();
        let counts: Vec<(&str, f64, f64)> = ids.iter().map(|i| (i.as_str(), 1.0, 0.0)).collect();
        let zero: Vec<(&str, f64, f64)> = ids.iter().map(|i| (i.as_str(), 0.0, 0.0)).collect();
        let mut d = Day::default();
        d.fold(Some(&sample("r1", T, &zero)), &sample("r1", T + 60, &counts));
        assert_eq!(d.len(), MAX_SERIES);
        assert!(d.capped);
    }

    #[test]
    fn the_day_moves_on_and_forgets_what_left_it() {
        let mut d = Day::default();
        d.fold(Some(&sample("r1", T, &[("old", 0.0, 0.0)])), &sample("r1", T + 60, &[("old", 9.0, 9.0)]));
        assert_eq!(d.len(), 1);
        // 23 h later: still there.
        let later = T + 60 + 23 * 3600;
        d.fold(Some(&sample("r1", later - 60, &[])), &sample("r1", later, &[("new", 0.0, 0.0)]));
        assert_eq!(d.span("old", 0, i64::MAX).failures, 9.0);
        // Past a day: gone, series and coverage.
        let gone = T + 60 + MINUTES * 60 + 120;
        d.fold(Some(&sample("r1", gone - 60, &[])), &sample("r1", gone, &[]));
        assert_eq!(d.span("old", 0, i64::MAX).failures, 0.0);
        assert_eq!(d.len(), 0, "a series with no count in the day goes");
        let (covered, coarse, oldest) = d.coverage();
        assert_eq!((covered, coarse), (2, 0));
        assert_eq!(oldest, Some(later / 60));
    }

    #[test]
    fn sparkline_buckets_say_no_data_apart_from_zero() {
        let mut d = Day::default();
        for k in 0..30_i32 {
            let f = if k < 20 { 0.0 } else { f64::from(k - 19) * 4.0 };
            let at = T + i64::from(k) * 60;
            let a = sample("r1", at, &[("a", f64::from(k) * 10.0, if k < 21 { 0.0 } else { f - 4.0 })]);
            let b = sample("r1", at + 60, &[("a", f64::from(k + 1) * 10.0, f)]);
            d.fold(Some(&a), &b);
        }
        let bars = d.spark("a", 4, 10);
        assert_eq!(bars[0], None, "before the first sample");
        assert_eq!(bars[1], Some(0.0));
        assert!(bars[3].unwrap() > 3.0, "{bars:?}");
    }

    #[test]
    fn saved_and_loaded_is_the_same_day_and_other_files_are_not_one() {
        let mut d = Day::default();
        d.fold(Some(&sample("r1", T, &[("a", 0.0, 0.0)])), &sample("r1", T + 60, &[("a", 70.0, 3.0)]));
        d.fold(Some(&sample("r1", T + 60, &[("a", 70.0, 3.0)])), &sample("r1", T + 600, &[("a", 700.0, 3.0)]));
        let dir = tempfile::tempdir().unwrap();
        let p = path(dir.path(), "prod gw");
        save(&p, "prod gw", &d).unwrap();
        let back = load(&p, "prod gw");
        assert_eq!(back.span("a", 0, i64::MAX), d.span("a", 0, i64::MAX));
        assert_eq!(back.coverage(), d.coverage());
        // The next sample of r1 is folded after the saved ones, not twice.
        let mut again = back.clone();
        again.fold(Some(&sample("r1", T + 60, &[("a", 70.0, 3.0)])), &sample("r1", T + 600, &[("a", 700.0, 3.0)]));
        assert_eq!(again.span("a", 0, i64::MAX), d.span("a", 0, i64::MAX));
        // Across the ring's end: minutes in slots 1438, 1439, 0, 1, 2, 3.
        let t2 = T - 477 * 60;
        let mut w = Day::default();
        w.fold(Some(&sample("r1", t2 - 360, &[("a", 0.0, 0.0)])), &sample("r1", t2, &[("a", 600.0, 21.0)]));
        let back = Day::from_reader(w.to_bytes("g").as_slice(), "g").unwrap();
        for m in t2 / 60 - 7..=t2 / 60 {
            assert_eq!(back.span("a", m, m), w.span("a", m, m), "minute {m}");
        }
        assert_eq!(back.span("a", 0, i64::MAX).failures, 21.0);
        assert!(load(&p, "another").is_empty(), "another gateway's day is not this one's");
        std::fs::write(&p, b"{\"v\":1}\n garbage").unwrap();
        assert!(load(&p, "prod gw").is_empty());
        let mut cut = d.to_bytes("prod gw");
        cut.truncate(cut.len() - 10);
        assert!(Day::from_reader(cut.as_slice(), "prod gw").is_none(), "a file cut short is not a day");
    }
}
