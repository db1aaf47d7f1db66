//! The deployments/channels table as data: which rows, in which order. The
//! order and filter are recomputed only when the data, the filter or the sort
//! changes — never per frame.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::{Arc, Weak};

use crate::config::GatewayKind;
use crate::fleet::GatewayObs;
use crate::gateway::Deployment;
use crate::gateway::newapi::select;
use crate::triage::evidence::Verdict;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Status,
    Name,
    Id,
    Provider,
    Priority,
    Weight,
    Share,
    Balance,
    ResponseTime,
    TestTime,
    UsedQuota,
    Price,
    /// The share of live requests failing (last 5 minutes; New API: its logs).
    Live,
}

impl SortKey {
    pub fn all(kind: GatewayKind) -> &'static [SortKey] {
        match kind {
            GatewayKind::LiteLlm => &[Self::Status, Self::Live, Self::Name, Self::Provider, Self::Price, Self::Id],
            GatewayKind::NewApi => &[
                Self::Status,
                Self::Live,
                Self::Id,
                Self::Name,
                Self::Provider,
                Self::Priority,
                Self::Weight,
                Self::Share,
                Self::Balance,
                Self::ResponseTime,
                Self::TestTime,
                Self::UsedQuota,
            ],
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Status => "status",
            Self::Name => "name",
            Self::Id => "id",
            Self::Provider => "provider",
            Self::Priority => "priority",
            Self::Weight => "weight",
            Self::Share => "share",
            Self::Balance => "balance",
            Self::ResponseTime => "response time",
            Self::TestTime => "last test",
            Self::UsedQuota => "used quota",
            Self::Price => "price",
            Self::Live => "live errors",
        }
    }
}

/// Per-gateway values derived from a snapshot (computed once per poll).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Derived {
    /// New API: best first-attempt share of each channel in the users' group
    /// (the same map, shared, while the list is the same).
    pub share: Arc<crate::triage::memo::ShareMap>,
    /// New API: each channel with a failed request in the last 5 minutes
    /// (`None`: no error log to read them from).
    pub fails: Option<HashMap<String, LiveCell>>,
    /// New API: failures per minute over the last 30 minutes, per channel.
    pub spark: Option<FailSpark>,
    /// Each row's place in name order, for sorting (`None`: no list).
    pub ranks: Option<ListRanks>,
}

/// New API's error log as 10 buckets of 3 minutes (oldest first): failures
/// per minute per channel, where the log reaches back (its newest 100
/// entries may not cover the half hour: those buckets are unknown).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FailSpark {
    pub covered: Vec<bool>,
    pub channels: HashMap<String, Vec<f64>>,
}

impl FailSpark {
    pub const BUCKETS: usize = 10;
    pub const SPAN: i64 = 180;

    /// One channel's buckets (`None`: the log does not reach there).
    pub fn of(&self, id: &str) -> Vec<Option<f64>> {
        let zero = vec![0.0; Self::BUCKETS];
        let v = self.channels.get(id).unwrap_or(&zero);
        self.covered.iter().zip(v).map(|(c, x)| c.then_some(*x)).collect()
    }
}

fn fail_spark(g: &GatewayObs) -> Option<FailSpark> {
    let primary = g.primary()?;
    let entries = primary.error_log.ok().filter(|e| !e.is_empty())?;
    let now = primary.server_time.unwrap_or_else(|| g.last_poll_at.map_or(0, crate::poller::unix_now));
    // A full page reaches back only to its oldest entry.
    let reach = if entries.len() >= 100 { entries.iter().map(|e| e.at).min().unwrap_or(now) } else { i64::MIN };
    #[allow(clippy::cast_possible_wrap, clippy::cast_possible_truncation)]
    let n = FailSpark::BUCKETS as i64;
    let start = now - n * FailSpark::SPAN;
    let covered = (0..n).map(|k| start + k * FailSpark::SPAN >= reach).collect();
    let mut channels: HashMap<String, Vec<f64>> = HashMap::new();
    for e in entries.iter().filter(|e| e.at >= start && e.at <= now + 60) {
        let k = usize::try_from(((e.at - start) / FailSpark::SPAN).clamp(0, n - 1)).unwrap_or(0);
        channels.entry(e.channel.to_string()).or_insert_with(|| vec![0.0; FailSpark::BUCKETS])[k] += 1.0 / 3.0;
    }
    Some(FailSpark { covered, channels })
}

pub fn derive(ctx: &crate::triage::evidence::Ctx<'_>) -> Derived {
    let g = ctx.gw;
    let ranks = ctx.name_ranks();
    if g.kind() != GatewayKind::NewApi {
        return Derived { ranks, ..Derived::default() };
    }
    let share = ctx.share_map(select::CacheMode::of(&g.spec).enabled(), &g.spec.user_group);
    Derived { share, fails: recent_fails(g), spark: fail_spark(g), ranks }
}

/// One New API channel's live figures: the check's own verdict, failures,
/// and every request when the consume log gives successes too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveCell {
    pub verdict: Verdict,
    pub failed: u32,
    pub total: Option<u32>,
}

impl LiveCell {
    /// `✗ 6/8`, or `! 2` without the successes.
    pub fn text(&self) -> String {
        match self.total {
            Some(t) => format!("{} {}/{t}", self.verdict.symbol(), self.failed),
            None => format!("{} {}", self.verdict.symbol(), self.failed),
        }
    }

    fn ratio(&self) -> f64 {
        self.total.map_or(1.0, |t| f64::from(self.failed) / f64::from(t.max(1)))
    }
}

/// Each channel's live cell, from New API's logs over the last 5 minutes
/// (the check's own window and verdict: the table never disagrees with it).
fn recent_fails(g: &GatewayObs) -> Option<HashMap<String, LiveCell>> {
    let primary = g.primary()?;
    if primary.error_log.ok().is_none_or(Vec::is_empty) {
        return None;
    }
    let w = crate::triage::checks::traffic::channel_window(primary, g.last_poll_at.map_or(0, crate::poller::unix_now))?;
    Some(
        w.channels
            .iter()
            .filter(|(_, c)| c.failed > 0)
            .map(|(id, c)| {
                let cell = LiveCell {
                    verdict: c.verdict(w.rates),
                    failed: c.failed,
                    total: w.rates.then_some(c.failed + c.ok),
                };
                (id.to_string(), cell)
            })
            .collect(),
    )
}

fn id_num(d: &Deployment) -> Option<i64> {
    d.id.parse().ok()
}

/// Larger first, and any value before none.
fn desc_opt<T: PartialOrd>(a: Option<T>, b: Option<T>) -> Ordering {
    cmp_opt(a.map(std::cmp::Reverse), b.map(std::cmp::Reverse))
}

fn cmp_opt<T: PartialOrd>(a: Option<T>, b: Option<T>) -> Ordering {
    match (a, b) {
        (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// What rows are ordered by: the list, each row's effective status (when
/// sorting by status: looked up once per sort, not twice per comparison)
/// and its place by name (when the key falls back on the name).
#[derive(Clone, Copy)]
struct Order<'a> {
    deps: &'a [Deployment],
    rank: &'a [u32],
}

/// Order two channels by `key` (not by status or name: [`rows`] sorts those
/// by a key made once per row).
fn compare(
    derived: &Derived,
    live: &HashMap<String, crate::traffic::Window>,
    key: SortKey,
    order: Order<'_>,
    ia: usize,
    ib: usize,
) -> Ordering {
    let Order { deps, rank } = order;
    let (a, b) = (&deps[ia], &deps[ib]);
    let by_name = || rank[ia].cmp(&rank[ib]);
    match key {
        SortKey::Status | SortKey::Name => by_name(),
        SortKey::Id => cmp_opt(id_num(a), id_num(b)).then_with(|| a.id.cmp(&b.id)),
        SortKey::Provider => a.provider.cmp(&b.provider).then_with(by_name),
        SortKey::Priority => cmp_opt(b.priority.get(), a.priority.get()),
        SortKey::Weight => cmp_opt(b.weight.get(), a.weight.get()),
        SortKey::Share => cmp_opt(derived.share.get(b.id.as_str()), derived.share.get(a.id.as_str())),
        SortKey::Balance => cmp_opt(b.balance.get(), a.balance.get()),
        SortKey::ResponseTime => cmp_opt(b.response_time_ms.get(), a.response_time_ms.get()),
        SortKey::TestTime => cmp_opt(a.test_time.get(), b.test_time.get()),
        SortKey::UsedQuota => cmp_opt(b.used_quota.get(), a.used_quota.get()),
        SortKey::Live => {
            let share = |d: &Deployment| {
                live.get(d.id.as_str()).filter(|w| w.failures > 0.0).map(crate::traffic::Window::error_ratio).or_else(
                    || {
                        derived
                            .fails
                            .as_ref()
                            .and_then(|f| f.get(d.id.as_str()))
                            .map(|c| c.ratio() + f64::from(c.failed) * 1e-9)
                    },
                )
            };
            // Failing first, the largest share first; rows with no failure last.
            desc_opt(share(a), share(b)).then_with(by_name)
        }
        SortKey::Price => cmp_opt(
            b.input_cost_per_token.get().zip(b.output_cost_per_token.get()).map(|(i, o)| i + o),
            a.input_cost_per_token.get().zip(a.output_cost_per_token.get()).map(|(i, o)| i + o),
        ),
    }
}

/// `haystack.to_ascii_lowercase().contains(needle)` for an ASCII-lowercase
/// `needle`, without allocating (the filter runs over every channel per key).
fn contains_lower(haystack: &str, needle: &str) -> bool {
    let (h, n) = (haystack.as_bytes(), needle.as_bytes());
    n.is_empty() || h.windows(n.len()).any(|w| w.iter().zip(n).all(|(a, b)| a.to_ascii_lowercase() == *b))
}

/// `haystack.to_ascii_lowercase().starts_with(needle)` for an ASCII-lowercase `needle`.
fn starts_with_lower(haystack: &str, needle: &str) -> bool {
    haystack.len() >= needle.len() && haystack.as_bytes()[..needle.len()].eq_ignore_ascii_case(needle.as_bytes())
}

/// A row's live verdict (`live:fail`, `live:warn`, `live:ok` in the filter):
/// the live-errors check's own, from the window it judged.
fn live_verdict(g: &GatewayObs, derived: Option<&Derived>, d: &Deployment) -> Option<Verdict> {
    match g.kind() {
        GatewayKind::LiteLlm => g.live.get(d.id.as_str()).map(crate::triage::checks::traffic::verdict_of),
        GatewayKind::NewApi => {
            let cells = derived?.fails.as_ref()?;
            Some(cells.get(d.id.as_str()).map_or(Verdict::Ok, |c| c.verdict))
        }
    }
}

/// One filter term: `text`, `field:value`, either negated with `!`.
fn term_matches(g: &GatewayObs, derived: Option<&Derived>, d: &Deployment, term: &str) -> bool {
    let (neg, term) = term.strip_prefix('!').map_or((false, term), |t| (true, t));
    let term = term.to_ascii_lowercase();
    let has = |s: &str| contains_lower(s, &term);
    let hit = if let Some((field, value)) = term.split_once(':') {
        let v = value;
        let c = |s: &str| contains_lower(s, v);
        match field {
            "name" => c(&d.name),
            "id" => starts_with_lower(&d.id, v),
            "model" | "models" => d.models.iter().any(&c),
            "group" | "groups" => d.groups.iter().any(|x| x.eq_ignore_ascii_case(v)),
            "tag" => d.tag.as_deref().is_some_and(c),
            "type" | "provider" => c(&d.provider),
            "status" => c(g.effective_status(d).label()),
            "base" | "url" => d.api_base.as_deref().is_some_and(c),
            "prio" | "priority" => d.priority.get().is_some_and(|p| p.to_string() == v),
            "weight" => d.weight.get().is_some_and(|w| w.to_string() == v),
            "live" => live_verdict(g, derived, d).is_some_and(|x| starts_with_lower(x.label(), v)),
            _ => has(&d.name),
        }
    } else {
        has(&d.name)
            || has(&d.id)
            || has(&d.provider)
            || d.models.iter().any(&has)
            || has(g.effective_status(d).label())
            || d.tag.as_deref().is_some_and(has)
            || d.upstream_model.as_deref().is_some_and(has)
    };
    hit != neg
}

pub fn matches(g: &GatewayObs, derived: Option<&Derived>, d: &Deployment, filter: &str) -> bool {
    filter.split_whitespace().all(|t| term_matches(g, derived, d, t))
}

/// Each row's place in the list ordered by name (equal names, equal places), kept
/// while the list it was made for is the one shown: sorting and re-sorting
/// 50,000 rows then compares two numbers where it compared two names. A
/// poll that changed nothing hands over the same list, so the names are
/// ordered once per list, not once per poll, sort or filter key.
#[derive(Debug, Default, Clone)]
pub struct NameRanks {
    of: Weak<Vec<Deployment>>,
    rank: Vec<u32>,
}

/// A cache: any two describe the same view.
impl PartialEq for NameRanks {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl NameRanks {
    /// The ranks for `deps`: the ones `derived` holds when they were made
    /// for this very list (the poller works them out for a new list), else
    /// made here again unless they were made for this very list.
    pub fn of<'a>(
        &'a mut self,
        list: Option<&Arc<Vec<Deployment>>>,
        deps: &[Deployment],
        derived: &'a Derived,
    ) -> &'a [u32] {
        if let (Some(l), Some(ranks)) = (list, &derived.ranks)
            && std::ptr::eq(ranks.of.as_ptr(), Arc::as_ptr(l))
            && ranks.rank.len() == deps.len()
        {
            return &ranks.rank;
        }
        let same = list.is_some_and(|l| self.of.upgrade().is_some_and(|o| Arc::ptr_eq(&o, l)));
        if !same || self.rank.len() != deps.len() {
            self.rank = name_ranks(deps);
            self.of = list.map_or_else(Weak::new, Arc::downgrade);
        }
        &self.rank
    }
}

/// Each row's place in name order (equal names, equal places).
pub fn name_ranks(deps: &[Deployment]) -> Vec<u32> {
    let mut by_name: Vec<usize> = (0..deps.len()).collect();
    by_name.sort_by(|&a, &b| deps[a].name.cmp(&deps[b].name));
    let mut rank = vec![0; deps.len()];
    let mut place = 0_u32;
    for (k, &i) in by_name.iter().enumerate() {
        if k > 0 && deps[by_name[k - 1]].name != deps[i].name {
            place += 1;
        }
        rank[i] = place;
    }
    rank
}

/// The name ranks of one list, made once per list (with the list's own verdicts).
#[derive(Debug, Clone)]
pub struct ListRanks {
    pub of: Weak<Vec<Deployment>>,
    pub rank: Arc<Vec<u32>>,
}

impl PartialEq for ListRanks {
    fn eq(&self, other: &Self) -> bool {
        Weak::ptr_eq(&self.of, &other.of) && self.rank == other.rank
    }
}

/// The visible rows (indices into `g.deployments()`), filtered and sorted.
pub fn rows(
    g: &GatewayObs,
    derived: &Derived,
    filter: &str,
    key: SortKey,
    reverse: bool,
    names: &mut NameRanks,
) -> Vec<usize> {
    let deps = g.deployments();
    let mut idx: Vec<usize> =
        (0..deps.len()).filter(|&i| filter.trim().is_empty() || matches(g, Some(derived), &deps[i], filter)).collect();
    if matches!(key, SortKey::Status | SortKey::Name) {
        // Two small numbers a row, sorted as one key (ties in list order, as
        // the stable sort by comparison left them): at 50,000 channels a
        // fifth of the comparison sort's time.
        let rank = names.of(g.deployment_list(), deps, derived);
        let mut keyed: Vec<(u64, usize)> = idx
            .iter()
            .map(|&i| {
                // Problems first: the later a status is declared, the earlier it sorts.
                let st = if key == SortKey::Status { 255 - g.effective_status(&deps[i]) as u64 } else { 0 };
                let k = (st << 32) | u64::from(rank[i]);
                (if reverse { !k } else { k }, i)
            })
            .collect();
        keyed.sort_unstable();
        return keyed.into_iter().map(|(_, i)| i).collect();
    }
    let by_name = matches!(key, SortKey::Provider | SortKey::Live);
    let rank = if by_name { names.of(g.deployment_list(), deps, derived) } else { &[] };
    idx.sort_by(|&a, &b| {
        let o = compare(derived, &g.live, key, Order { deps, rank }, a, b);
        if reverse { o.reverse() } else { o }
    });
    idx
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(g: &GatewayObs, d: &Derived, filter: &str, key: SortKey, reverse: bool) -> Vec<usize> {
        super::rows(g, d, filter, key, reverse, &mut NameRanks::default())
    }

    /// Sorting by the names' places orders rows exactly as comparing the
    /// names did (equal names stay in list order, either way round), and the
    /// places are made once per list.
    #[test]
    fn rows_ordered_by_name_places_as_by_the_names_themselves() {
        let names = ["b", "a", "c", "a", "B", "", "b", "a"];
        let statuses = [DeploymentStatus::Serving, DeploymentStatus::AutoDisabled, DeploymentStatus::ManuallyDisabled];
        let providers = ["x", "y"];
        let deps: Vec<Deployment> = names
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let mut d = ch(&i.to_string(), n, statuses[i % 3], "default");
                d.provider = providers[i % 2].into();
                d
            })
            .collect();
        let g = obs(deps.clone());
        let d = Derived::default();
        let mut names = NameRanks::default();
        for key in [SortKey::Status, SortKey::Name, SortKey::Provider] {
            for reverse in [false, true] {
                let mut want: Vec<usize> = (0..deps.len()).collect();
                want.sort_by(|&a, &b| {
                    let (x, y) = (&deps[a], &deps[b]);
                    let o = match key {
                        SortKey::Status => g.effective_status(y).cmp(&g.effective_status(x)).then(x.name.cmp(&y.name)),
                        SortKey::Provider => x.provider.cmp(&y.provider).then(x.name.cmp(&y.name)),
                        _ => x.name.cmp(&y.name),
                    };
                    if reverse { o.reverse() } else { o }
                });
                assert_eq!(super::rows(&g, &d, "", key, reverse, &mut names), want, "{key:?} reverse={reverse}");
            }
        }
        // Marked: kept if the same list is not ordered again.
        names.rank[0] = 999;
        let _ = super::rows(&g, &d, "", SortKey::Name, false, &mut names);
        assert_eq!(names.rank[0], 999, "the same list ordered again");
        // Another list (a poll that changed a name): made again, not reused.
        let mut renamed = deps;
        renamed[0].name = "zz".into();
        let g2 = obs(renamed);
        assert_eq!(super::rows(&g2, &d, "", SortKey::Name, false, &mut names)[7], 0, "the renamed row sorts last");
        // The ranks the evaluation made for a list are used for that list
        // only: those of the old list would put the renamed row first.
        let at = SystemTime::UNIX_EPOCH;
        let (old, new) =
            (derive(&crate::triage::evidence::Ctx::new(&g, at)), derive(&crate::triage::evidence::Ctx::new(&g2, at)));
        for derived in [&old, &new] {
            let mut fresh = NameRanks::default();
            assert_eq!(super::rows(&g2, derived, "", SortKey::Name, false, &mut fresh)[7], 0);
        }
        let mut unused = NameRanks::default();
        let _ = super::rows(&g2, &new, "", SortKey::Name, false, &mut unused);
        assert!(unused.rank.is_empty(), "the evaluation's ranks of this list were not used");
    }
    use crate::config::GatewaySpec;
    use crate::fleet::PollReport;
    use crate::gateway::{DeploymentStatus, ReplicaSnapshot, Section};
    use std::time::{Duration, SystemTime};

    fn obs(deps: Vec<Deployment>) -> GatewayObs {
        let mut g = GatewayObs::new(GatewaySpec::new("n", GatewayKind::NewApi, "http://127.0.0.1:1"));
        let mut s = ReplicaSnapshot::new(Duration::ZERO);
        s.deployments = Section::Ok(deps.into());
        let mut tl = crate::timeline::Timeline::default();
        g.apply_poll(
            PollReport::new(0, SystemTime::UNIX_EPOCH, vec![("http://127.0.0.1:1".into(), Ok(s))]),
            &mut tl,
            0,
        );
        g
    }

    fn ch(id: &str, name: &str, status: DeploymentStatus, group: &str) -> Deployment {
        let mut d = Deployment::new(id, name);
        d.status = status;
        d.groups = crate::gateway::Names::from(vec![group]);
        d.provider = "OpenAI".into();
        d
    }

    #[test]
    fn case_insensitive_search_is_lowercase_contains() {
        let hays = ["OpenAI-GPT-4o", "azure/Gpt4o", "中文GPT", "", "ÉCOLE gpt", "gGpPt", "ID-17"];
        let needles = ["gpt", "", "openai-", "中文g", "École", "é", "gpt-4o-mini", "id-1", "x"];
        for h in hays {
            for n in needles {
                let n = n.to_ascii_lowercase();
                assert_eq!(contains_lower(h, &n), h.to_ascii_lowercase().contains(&n), "{h:?} {n:?}");
                assert_eq!(starts_with_lower(h, &n), h.to_ascii_lowercase().starts_with(&n), "{h:?} {n:?}");
            }
        }
    }

    /// New API's live figures sort and filter the channels as the check
    /// judges them: 6 of 8 failed first, then 1 of 100, then the rest.
    #[test]
    fn new_api_channels_sort_and_filter_by_their_live_verdict() {
        use crate::gateway::ErrorLogEntry;
        let mut g = GatewayObs::new(GatewaySpec::new("n", GatewayKind::NewApi, "http://127.0.0.1:1"));
        let now = 1_800_000_000_i64;
        let e = |ch: i64, ago: i64, status: Option<u16>| ErrorLogEntry::for_test(ch, now - ago, status);
        let mut s = ReplicaSnapshot::new(Duration::ZERO);
        s.deployments = Section::Ok(std::sync::Arc::new(vec![
            ch("1", "a", DeploymentStatus::Serving, "default"),
            ch("2", "b", DeploymentStatus::Serving, "default"),
            ch("3", "c", DeploymentStatus::Serving, "default"),
        ]));
        s.error_log = Section::Ok((0..6).map(|i| e(2, 10 + i, Some(401))).chain([e(3, 5, Some(500))]).collect());
        s.consume_log = Section::Ok((0..2).map(|i| e(2, i, None)).chain((0..99).map(|i| e(3, i, None))).collect());
        s.server_time = Some(now);
        let mut tl = crate::timeline::Timeline::default();
        g.apply_poll(
            PollReport::new(
                0,
                SystemTime::UNIX_EPOCH + Duration::from_secs(now.unsigned_abs()),
                vec![("http://127.0.0.1:1".into(), Ok(s))],
            ),
            &mut tl,
            0,
        );
        let d = derive(&crate::triage::evidence::Ctx::new(&g, std::time::SystemTime::UNIX_EPOCH));
        let cells = d.fails.as_ref().unwrap();
        assert_eq!(cells["2"].text(), "✗ 6/8");
        assert_eq!(cells["3"].text(), "✓ 1/100");
        assert_eq!(rows(&g, &d, "", SortKey::Live, false), vec![1, 2, 0]);
        assert_eq!(rows(&g, &d, "live:fail", SortKey::Id, false), vec![1]);
        assert_eq!(rows(&g, &d, "live:ok", SortKey::Id, false), vec![0, 2]);
        assert_eq!(rows(&g, &d, "!live:ok", SortKey::Id, false), vec![1]);
        // The half hour as bars: #2's six failures 10-15 s ago are in the newest bucket.
        let sp = d.spark.as_ref().unwrap();
        assert!(sp.covered.iter().all(|c| *c), "7 entries: the log reaches back the whole half hour");
        let two = sp.of("2");
        assert_eq!(two.len(), FailSpark::BUCKETS);
        assert!((two[9].unwrap() - 2.0).abs() < 1e-9 && two[..9].iter().all(|x| *x == Some(0.0)), "{two:?}");
    }

    /// A full page of 100 entries reaches back only to its oldest: the
    /// buckets before it are unknown (`·`), never "no failure".
    #[test]
    fn a_full_error_page_leaves_the_older_buckets_unknown() {
        use crate::gateway::ErrorLogEntry;
        let now = 1_800_000_000_i64;
        let mut g = obs(vec![ch("1", "a", DeploymentStatus::Serving, "default")]);
        let mut snap = (**g.replicas[0].last_ok.as_ref().unwrap()).clone();
        snap.error_log = Section::Ok(
            (0..100)
                .map(|i| ErrorLogEntry {
                    channel: 1,
                    channel_name: "a".into(),
                    at: now - i * 4,
                    status: Some(500),
                    model: "m".into(),
                })
                .collect(),
        );
        snap.server_time = Some(now);
        g.replicas[0].last = Some(Ok(std::sync::Arc::new(snap)));
        let sp = fail_spark(&g).unwrap();
        // 100 entries 4 s apart reach back 396 s: the three newest buckets (540 s) only partly; 2 covered.
        assert_eq!(sp.covered, [false, false, false, false, false, false, false, false, true, true]);
        assert_eq!(sp.of("1")[0], None);
    }

    #[test]
    fn status_sort_is_problems_first_then_name() {
        let g = obs(vec![
            ch("1", "b", DeploymentStatus::Serving, "default"),
            ch("2", "a", DeploymentStatus::Serving, "default"),
            ch("3", "c", DeploymentStatus::ManuallyDisabled, "default"),
            ch("4", "d", DeploymentStatus::AutoDisabled, "default"),
        ]);
        let d = Derived::default();
        assert_eq!(rows(&g, &d, "", SortKey::Status, false), vec![3, 2, 1, 0]);
        assert_eq!(rows(&g, &d, "", SortKey::Status, true), vec![0, 1, 2, 3]);
    }

    #[test]
    fn filters_by_field_and_negation() {
        let g = obs(vec![
            ch("1", "alpha", DeploymentStatus::Serving, "default"),
            ch("2", "beta", DeploymentStatus::AutoDisabled, "vip"),
            ch("3", "gamma", DeploymentStatus::Serving, "vip"),
        ]);
        let d = Derived::default();
        assert_eq!(rows(&g, &d, "group:vip", SortKey::Id, false), vec![1, 2]);
        assert_eq!(rows(&g, &d, "!status:auto", SortKey::Id, false), vec![0, 2]);
        assert_eq!(rows(&g, &d, "gam", SortKey::Id, false), vec![2]);
        assert_eq!(rows(&g, &d, "", SortKey::Status, false)[0], 1, "problems sort first");
        assert_eq!(rows(&g, &d, "", SortKey::Id, true), vec![2, 1, 0]);
    }
}
