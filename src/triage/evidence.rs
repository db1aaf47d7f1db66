//! Verdicts: each check is a pure function from what the adapters gathered
//! about one gateway to ok / warn / fail / unknown, with the facts behind it.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;

use serde::Serialize;

use super::checks;
use super::model::Tree;
use crate::config::GatewayKind;
use crate::fleet::GatewayObs;
use crate::gateway::newapi::select::{self, PairShares};
use crate::triage::memo::{ListMemo, ShareMap};

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

/// One question a check answers on its own, for the tree node that asks it
/// (`gateway-reachable#proxy-page`). A check may answer several nodes, each
/// by its own predicate on the facts, so a node is never red because a
/// sibling's question failed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Aspect {
    pub id: &'static str,
    pub verdict: Verdict,
    pub summary: String,
}

/// One check's verdict with its facts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub check: &'static str,
    pub verdict: Verdict,
    pub summary: String,
    pub facts: Vec<String>,
    /// The separate questions this check answers (see [`Aspect`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aspects: Vec<Aspect>,
    /// When the evidence behind it was gathered.
    #[serde(skip)]
    pub at: Option<SystemTime>,
    /// Why a probe's result no longer counts (an action or a config change
    /// since, or its age): the verdict is then unknown until probed again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stale: Option<String>,
    /// What would answer an open question. Each surface words it its own way:
    /// the TUI names the key in force, `check` the CLI or config way.
    #[serde(skip)]
    pub next: Option<Next>,
}

/// The step that would answer a question a check could not answer alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// A paid probe or channel test: the TUI runs it, asked first.
    Run(crate::keys::ActionKind),
    /// The client model names the gateway should serve.
    ClientModels,
}

impl Next {
    /// What the step does, for any surface.
    pub fn what(self) -> &'static str {
        use crate::keys::ActionKind as A;
        match self {
            Self::Run(A::RouteProbe) => "route probe: one tiny paid request per alias shows where it is routed",
            Self::Run(A::StreamProbe) => "stream probe: one tiny paid completion streamed through the gateway",
            Self::Run(A::TestAll) => "test every top-priority channel (paid, one request each)",
            Self::Run(A::TestChannel) => "test the channel (paid, one request)",
            Self::Run(A::ProbeHealth) => "health probe: one paid request per deployment",
            Self::Run(_) => "run the action",
            Self::ClientModels => "type in the model names clients send",
        }
    }

    /// The way `gatewatch check` (headless, never paid) names it: a config
    /// field or a command, never a key press.
    pub fn headless(self) -> String {
        match self {
            Self::ClientModels => "list the names clients send under `client_models:` in the gatewatch config".into(),
            Self::Run(a) => format!(
                "check sends no paid request; run the {} in `gatewatch` (palette `:{}`), asked first",
                self.what().split(':').next().unwrap_or("probe"),
                a.key()
            ),
        }
    }
}

impl Finding {
    pub fn new(verdict: Verdict, summary: impl Into<String>) -> Self {
        Self {
            check: "",
            verdict,
            summary: summary.into(),
            facts: Vec::new(),
            aspects: Vec::new(),
            at: None,
            stale: None,
            next: None,
        }
    }

    /// The step that would answer what is still open.
    #[must_use]
    pub fn next(mut self, next: Next) -> Self {
        self.next = Some(next);
        self
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

    /// The verdict of one question this check answers.
    #[must_use]
    pub fn aspect(mut self, id: &'static str, verdict: Verdict, summary: impl Into<String>) -> Self {
        self.aspects.push(Aspect { id, verdict, summary: summary.into() });
        self
    }

    /// The evidence was gathered at `at` (probes: when the probe ran).
    #[must_use]
    pub fn at(mut self, at: SystemTime) -> Self {
        self.at = Some(at);
        self
    }

    /// The verdict of one question: the aspect's, or for a whole check its
    /// own. A stale finding, a check without data, or a question the check
    /// did not answer is unknown, never ok.
    pub fn answer(&self, aspect: Option<&str>) -> (Verdict, &str) {
        // A question that does not arise here (one replica: no "some
        // replicas") stays not applicable whatever the check knows.
        if let Some(x) = aspect.and_then(|a| self.aspects.iter().find(|x| x.id == a))
            && x.verdict == Verdict::NotApplicable
        {
            return (x.verdict, &x.summary);
        }
        if self.stale.is_some() || matches!(self.verdict, Verdict::Unknown | Verdict::NotApplicable) {
            return (self.verdict, &self.summary);
        }
        match aspect {
            None => (self.verdict, &self.summary),
            Some(a) => self
                .aspects
                .iter()
                .find(|x| x.id == a)
                .map_or((Verdict::Unknown, "this question was not answered"), |x| (x.verdict, x.summary.as_str())),
        }
    }
}

/// A tree node's verdict, rolled up: ✓ only when every part that applies
/// (its own checks and its children) has evidence and passes; ✗ and !
/// propagate; any part without evidence makes it unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeVerdict {
    pub verdict: Verdict,
    /// Parts (own checks and children) that have evidence.
    pub answered: usize,
    /// Parts that apply to this gateway.
    pub total: usize,
}

impl NodeVerdict {
    const NA: Self = Self { verdict: Verdict::NotApplicable, answered: 0, total: 0 };

    /// "2 of 3 answered" when some part is unknown.
    pub fn coverage(&self) -> Option<String> {
        (self.answered < self.total).then(|| format!("{} of {} answered", self.answered, self.total))
    }
}

/// Roll up the verdicts of a node's parts.
fn roll_up(parts: &[Verdict]) -> NodeVerdict {
    let applicable: Vec<Verdict> = parts.iter().copied().filter(|v| *v != Verdict::NotApplicable).collect();
    let answered = applicable.iter().filter(|v| **v != Verdict::Unknown).count();
    let verdict = if applicable.contains(&Verdict::Fail) {
        Verdict::Fail
    } else if applicable.contains(&Verdict::Warn) {
        Verdict::Warn
    } else if applicable.contains(&Verdict::Unknown) {
        Verdict::Unknown
    } else if applicable.is_empty() {
        Verdict::NotApplicable
    } else {
        Verdict::Ok
    };
    NodeVerdict { verdict, answered, total: applicable.len() }
}

/// What a check sees.
pub struct Ctx<'a> {
    pub gw: &'a GatewayObs,
    pub now: SystemTime,
    /// The traffic splits of the gateway's channel list, by cache mode,
    /// once computed in this evaluation: three checks and the table ask for
    /// the same one, and at 50,000 channels it costs ~5 ms.
    shares: RefCell<Vec<(bool, Arc<Vec<PairShares>>)>>,
    /// What the same list said at earlier evaluations (the app keeps one
    /// per gateway; `check` evaluates once and has none).
    memo: Option<&'a ListMemo>,
}

impl<'a> Ctx<'a> {
    pub fn new(gw: &'a GatewayObs, now: SystemTime) -> Self {
        Self { gw, now, shares: RefCell::default(), memo: None }
    }

    /// As [`Self::new`], remembering what the list says in `memo` for the
    /// next evaluation of the same list.
    pub fn with_memo(gw: &'a GatewayObs, now: SystemTime, memo: &'a ListMemo) -> Self {
        Self { memo: Some(memo), ..Self::new(gw, now) }
    }

    /// [`select::shares`] of `chans`; of the gateway's own list (not a
    /// subset), computed once per evaluation. Not kept between evaluations
    /// (4 MB at 50,000 channels): what is made of them is, with a memo.
    pub fn shares(&self, chans: &[crate::gateway::Deployment], memory_cache: bool) -> Arc<Vec<PairShares>> {
        if !std::ptr::eq(chans, self.gw.deployments()) {
            return Arc::new(select::shares(chans, memory_cache));
        }
        if let Some((_, s)) = self.shares.borrow().iter().find(|(m, _)| *m == memory_cache) {
            return Arc::clone(s);
        }
        let s = Arc::new(select::shares(chans, memory_cache));
        self.shares.borrow_mut().push((memory_cache, Arc::clone(&s)));
        s
    }

    /// A verdict that depends on nothing but the gateway's list (and `key`,
    /// which names the check and anything else it reads): worked out once
    /// per list with a memo, else every time.
    pub fn by_list(&self, key: &str, make: impl FnOnce() -> Finding) -> Finding {
        match (self.memo, self.gw.deployment_list()) {
            (Some(memo), Some(list)) => memo.finding(list, key, make),
            _ => make(),
        }
    }

    /// Each row's place in name order for the gateway's list (and the list),
    /// once per list with a memo.
    pub fn name_ranks(&self) -> Option<crate::table::ListRanks> {
        let list = self.gw.deployment_list()?;
        let make = || crate::table::name_ranks(list);
        let rank = match self.memo {
            Some(memo) => memo.name_ranks(list, make),
            None => Arc::new(make()),
        };
        Some(crate::table::ListRanks { of: Arc::downgrade(list), rank })
    }

    /// Each channel's best first-attempt share in `group` (by channel id),
    /// once per list with a memo.
    pub fn share_map(&self, memory_cache: bool, group: &str) -> Arc<ShareMap> {
        let deps = self.gw.deployments();
        let make = || {
            let mut share = ShareMap::with_capacity(deps.len());
            for p in self.shares(deps, memory_cache).iter().filter(|p| p.group == group) {
                for c in &p.channels {
                    let e = share.entry(deps[c.channel].id.clone()).or_insert(0.0);
                    *e = e.max(c.share);
                }
            }
            share
        };
        match (self.memo, self.gw.deployment_list()) {
            (Some(memo), Some(list)) => memo.share_map(list, memory_cache, group, make),
            _ => Arc::new(make()),
        }
    }
}

impl Ctx<'_> {
    /// Why the deployment / channel list is not there to judge from, if it
    /// is not: a check built on it is unknown then, never ok nor failing.
    pub fn list_unread(&self) -> Option<String> {
        let what = if self.gw.kind() == crate::config::GatewayKind::NewApi { "channel" } else { "deployment" };
        match self.gw.primary().map(|s| &s.deployments) {
            Some(crate::gateway::Section::Ok(_)) => None,
            Some(crate::gateway::Section::Failed(e)) => Some(format!("{what} list not read: {e}")),
            Some(crate::gateway::Section::Unavailable(why)) => Some(format!("{what} list not available: {why}")),
            _ => Some(format!("{what} list not read yet")),
        }
    }

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

    /// The answer to one tree reference: `check` or `check#question`.
    pub fn reference(&self, r: &str) -> (Verdict, &str) {
        let (id, aspect) = r.split_once('#').map_or((r, None), |(id, a)| (id, Some(a)));
        self.get(id).map_or((Verdict::Unknown, "not evaluated"), |f| f.answer(aspect))
    }

    /// A node's verdict for a gateway of this kind: its own references and
    /// its children that apply, rolled up (see [`NodeVerdict`]). A leaf that
    /// no data can answer is unknown.
    pub fn node(&self, tree: &Tree, node: usize, kind: GatewayKind) -> NodeVerdict {
        let n = &tree.nodes[node];
        if !n.applies(kind) {
            return NodeVerdict::NA;
        }
        if n.unanswerable() {
            return NodeVerdict { verdict: Verdict::Unknown, answered: 0, total: 1 };
        }
        let mut parts: Vec<Verdict> = n.checks.iter().map(|r| self.reference(r).0).collect();
        parts.extend(n.children.iter().map(|&c| self.node(tree, c, kind).verdict));
        roll_up(&parts)
    }

    /// The node's verdict symbol alone.
    pub fn node_verdict(&self, tree: &Tree, node: usize, kind: GatewayKind) -> Verdict {
        self.node(tree, node, kind).verdict
    }

    pub fn worst(&self) -> Verdict {
        self.findings.iter().fold(Verdict::NotApplicable, |v, f| v.worst(f.verdict))
    }
}

/// Run every check against one gateway. Each finding says when its
/// evidence was gathered; a probe's result stops counting (stale) after an
/// action on this gateway, a change of its config file, or `probe_ttl`.
/// New API checks whose verdict stands on the whole channel list.
const LIST_CHECKS: [&str; 7] = [
    "model-name-mismatch",
    "newapi-all-disabled",
    "newapi-mapping-target",
    "newapi-weight-starvation",
    "newapi-top-priority",
    "newapi-group-mismatch",
    "newapi-balance-disabled",
];

pub fn evaluate(gw: &GatewayObs, now: SystemTime) -> Evidence {
    evaluate_with(&Ctx::new(gw, now))
}

/// [`evaluate`] with a context the caller keeps (the table's figures are
/// derived from the same traffic splits).
pub fn evaluate_with(ctx: &Ctx<'_>) -> Evidence {
    let (gw, now) = (ctx.gw, ctx.now);
    let mut ev = Evidence::default();
    let polled = gw.data_at().or(gw.last_poll_at);
    // What a New API channel check read: said on each verdict built on the list.
    let assembled = gw.primary().and_then(|s| s.assembled.as_ref());
    let coverage = (gw.kind() == crate::config::GatewayKind::NewApi && ctx.list_unread().is_none()).then(|| {
        let n = gw.deployments().len();
        match assembled {
            None => format!("read: the whole channel list, {n} channel(s)"),
            Some(a) => assembled_fact(a, n, now),
        }
    });
    // Judged on an assembled list: as old as its first page.
    let list_at = assembled.map(|a| SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(a.first_at.unsigned_abs()));
    for def in checks::ALL {
        let mut f = (def.run)(ctx);
        f.check = def.id;
        if checks::is_probe(def.id) {
            if let Some(at) = f.at
                && let Some(why) = stale_reason(gw, at, now)
            {
                f = stale(f, &why, now);
            }
        } else if f.at.is_none() {
            f.at = polled;
        }
        if let Some(c) = &coverage
            && LIST_CHECKS.contains(&def.id)
            && matches!(f.verdict, Verdict::Ok | Verdict::Warn | Verdict::Fail)
        {
            f.facts.push(c.clone());
            if list_at.is_some() {
                f.at = list_at;
            }
        }
        ev.index.insert(def.id, ev.findings.len());
        ev.findings.push(f);
    }
    ev
}

/// What a verdict on an assembled list read: its pages' ages, and what this
/// poll read fresh over it.
fn assembled_fact(a: &crate::gateway::ListAssembly, n: usize, now: SystemTime) -> String {
    let now_s = crate::poller::unix_now(now);
    let ago = |t: i64| crate::config::duration::human_since(t, now_s);
    format!(
        "read: the whole channel list, {n} channel(s), assembled from {} page(s) over {} poll(s), read {} to {} ago; \
         read fresh over it: {}",
        a.pages,
        a.steps,
        ago(a.first_at),
        ago(a.last_at),
        a.fresh
    )
}

/// Why a probe that ran at `at` no longer describes the gateway.
fn stale_reason(gw: &GatewayObs, at: SystemTime, now: SystemTime) -> Option<String> {
    if let Some(changed) = gw.changed_at
        && changed > at
    {
        return Some("an action changed the gateway after it ran".into());
    }
    let modified = gw.local.proxy_config().and_then(|c| c.as_ref().ok()).and_then(|c| c.modified);
    if modified.is_some_and(|m| m > at) {
        return Some("the config file changed after it ran".into());
    }
    let age = now.duration_since(at).unwrap_or_default();
    (age > gw.spec.probe_ttl).then(|| format!("older than {}", crate::config::duration::human(gw.spec.probe_ttl)))
}

fn stale(f: Finding, why: &str, now: SystemTime) -> Finding {
    let age = f.at.and_then(|at| now.duration_since(at).ok()).map_or_else(String::new, |d| {
        format!(" {} ago", crate::config::duration::human(std::time::Duration::from_secs(d.as_secs())))
    });
    let summary = format!("stale ({why}): the probe{age} said {} {}; probe again", f.verdict.symbol(), f.summary);
    Finding { verdict: Verdict::Unknown, summary, stale: Some(why.to_owned()), ..f }
}
