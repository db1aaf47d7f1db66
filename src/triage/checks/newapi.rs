//! New API traffic: who actually gets requests, and why some get none.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use crate::config::GatewayKind;
use crate::gateway::newapi::select::CacheMode;
use crate::gateway::{Deployment, DeploymentStatus};
use crate::triage::evidence::{Ctx, Finding};

fn channels<'a>(c: &'a Ctx<'_>) -> Result<&'a [Deployment], Finding> {
    if c.gw.kind() != GatewayKind::NewApi {
        return Err(Finding::na("New API only"));
    }
    if let Some(why) = c.list_unread() {
        return Err(Finding::unknown(why));
    }
    Ok(c.gw.deployments())
}

fn label(d: &Deployment) -> String {
    format!("#{} {}", d.id, d.name)
}

/// The `n` first of these channels' labels in label order (without
/// formatting every label of tens of thousands).
fn first_labels(chans: &[Deployment], which: HashSet<usize>, n: usize) -> Vec<String> {
    let key = |i: &usize| {
        let d = &chans[*i];
        d.id.bytes().chain(*b" ").chain(d.name.bytes())
    };
    let mut v: Vec<usize> = which.into_iter().collect();
    if v.len() > n {
        v.select_nth_unstable_by(n, |a, b| key(a).cmp(key(b)));
        v.truncate(n);
    }
    v.sort_unstable_by(|a, b| key(a).cmp(key(b)));
    v.into_iter().map(|i| label(&chans[i])).collect()
}

/// The models read whole past the cap (every channel serving each, one
/// search each), and what was read.
struct Subsets<'a> {
    read: Vec<(&'a str, &'a [Deployment])>,
    /// Every channel of the models read, once.
    union: Vec<Deployment>,
    facts: Vec<String>,
}

impl Subsets<'_> {
    fn names(&self) -> String {
        self.read.iter().map(|(m, ch)| format!("{m} ({} channel(s))", ch.len())).collect::<Vec<_>>().join(", ")
    }
}

fn subsets<'a>(c: &'a Ctx<'_>) -> Option<Subsets<'a>> {
    let list = c.gw.primary()?.model_channels.ok()?;
    let mut read = Vec::new();
    let mut facts = Vec::new();
    let mut seen = BTreeSet::new();
    let mut union = Vec::new();
    for s in list {
        match &s.channels {
            Ok(ch) => {
                facts.push(format!("read: {}: all {} channel(s) serving it (search by model)", s.model, ch.len()));
                read.push((s.model.as_str(), ch.as_slice()));
                union.extend(ch.iter().filter(|d| seen.insert(d.id.clone())).cloned());
            }
            Err(e) => facts.push(format!("not read: {}: {e}", s.model)),
        }
    }
    if let Some(why) = c.list_unread() {
        facts.push(format!("the other models: {why}"));
    }
    Some(Subsets { read, union, facts })
}

fn serving(d: &Deployment) -> bool {
    matches!(d.status, DeploymentStatus::Serving | DeploymentStatus::Unhealthy)
}

fn dead_model(m: &str, off: &[&Deployment]) -> String {
    let why: Vec<String> = off
        .iter()
        .take(3)
        .map(|d| {
            format!(
                "{} {}{}",
                label(d),
                d.status.label(),
                d.status_reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default()
            )
        })
        .collect();
    format!("{m}: every channel disabled → 503 model_not_found ({})", why.join("; "))
}

pub fn all_disabled(c: &Ctx<'_>) -> Finding {
    let chans = match channels(c) {
        Ok(ch) => ch,
        Err(f) => {
            // Past the cap: the models read whole answer for themselves.
            let Some(sub) = subsets(c).filter(|s| !s.read.is_empty()) else { return f };
            let dead: Vec<String> = sub
                .read
                .iter()
                .filter(|(_, ch)| !ch.is_empty() && !ch.iter().any(serving))
                .map(|(m, ch)| dead_model(m, &ch.iter().collect::<Vec<_>>()))
                .collect();
            return if dead.is_empty() {
                Finding::unknown(format!("{} each have an enabled channel; the other models are not read", sub.names()))
                    .facts(sub.facts)
            } else {
                Finding::fail(format!("{} model(s) have no enabled channel", dead.len())).facts(dead).facts(sub.facts)
            };
        }
    };
    c.by_list("all_disabled", || dead_models(chans))
}

/// The models whose every channel is disabled: nothing but the list.
fn dead_models(chans: &[Deployment]) -> Finding {
    let mut by_model: BTreeMap<&str, (usize, Vec<&Deployment>)> = BTreeMap::new();
    for d in chans {
        for m in &d.models {
            let e = by_model.entry(m).or_default();
            if serving(d) {
                e.0 += 1;
            } else {
                e.1.push(d);
            }
        }
    }
    let dead: Vec<String> = by_model
        .iter()
        .filter(|(_, (live, off))| *live == 0 && !off.is_empty())
        .map(|(m, (_, off))| dead_model(m, off))
        .collect();
    if dead.is_empty() {
        Finding::ok(format!("all {} models have an enabled channel", by_model.len()))
    } else {
        Finding::fail(format!("{} model(s) have no enabled channel", dead.len())).facts(dead)
    }
}

/// A weight-0 channel in a tier that also has weighted channels: the one
/// case where the two cache modes disagree (none vs. weight+10).
struct ZeroBeside<'a> {
    channel: &'a Deployment,
    priority: i64,
    model: String,
    group: String,
    /// Its share on the DB path (memory cache off).
    db_share: f64,
}

/// `only`: the models whose every channel is in `chans` (a subset read by
/// model); other models' pairs are partial there and not judged.
fn zero_beside_weighted<'a>(
    c: &Ctx<'_>,
    chans: &'a [Deployment],
    only: Option<&BTreeSet<&str>>,
) -> Vec<ZeroBeside<'a>> {
    // In (group, model) order.
    let db = c.shares(chans, false);
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let mut out = Vec::new();
    for p in db.iter().filter(|p| only.is_none_or(|m| m.contains(p.model.as_str()))) {
        let tier: Vec<_> = p.channels.iter().filter(|s| s.tier == 0).collect();
        if tier.len() > 1 && tier.iter().any(|s| s.weight > 0) {
            for s in tier.iter().filter(|s| s.weight == 0) {
                let d = &chans[s.channel];
                if seen.insert(d.id.as_str()) {
                    out.push(ZeroBeside {
                        channel: d,
                        priority: s.priority,
                        model: p.model.clone(),
                        group: p.group.clone(),
                        db_share: s.share,
                    });
                }
            }
        }
    }
    out
}

pub fn weight_starvation(c: &Ctx<'_>) -> Finding {
    let mode = CacheMode::of(&c.gw.spec);
    match channels(c) {
        // Besides the list: the cache mode, in the key.
        Ok(ch) => {
            let key = format!("weight_starvation {mode:?}");
            c.by_list(&key, || starvation(&zero_beside_weighted(c, ch, None), mode))
        }
        Err(f) => match subsets(c) {
            Some(sub) if !sub.read.is_empty() => {
                let only: BTreeSet<&str> = sub.read.iter().map(|(m, _)| *m).collect();
                let z = zero_beside_weighted(c, &sub.union, Some(&only));
                if z.is_empty() {
                    return Finding::unknown(format!(
                        "no weight-0 channel beside weighted ones for {}; the other models are not read",
                        sub.names()
                    ))
                    .facts(sub.facts);
                }
                starvation(&z, mode).facts(sub.facts)
            }
            Some(sub) => f.facts(sub.facts),
            None => f,
        },
    }
}

/// The verdict on weight-0 channels beside weighted ones.
fn starvation(zero: &[ZeroBeside<'_>], mode: CacheMode) -> Finding {
    if zero.is_empty() {
        return Finding::ok("no weight-0 channel sits beside weighted ones (both cache modes agree)")
            .fact(mode.describe());
    }
    let where_ = |z: &ZeroBeside<'_>| format!("{} in group {}", z.model, z.group);
    let starved = zero.iter().map(|z| {
        format!(
            "{} (weight 0, priority {}) gets 0% of {}: its tier also has weighted channels",
            label(z.channel),
            z.priority,
            where_(z)
        )
    });
    let db_share = |z: &ZeroBeside<'_>| {
        format!("{} gets {:.0}% of {} (weight+10 on the DB path)", label(z.channel), z.db_share * 100.0, where_(z))
    };
    let other_mode = |z: &ZeroBeside<'_>| {
        format!("with MEMORY_CACHE_ENABLED=true (or REDIS_CONN_STRING), #{} would get none", z.channel.id)
    };
    let truth = "weight never causes 'insufficient quota'; it only decides who gets picked";
    match mode {
        CacheMode::Declared(true) => Finding::fail(format!("{} channel(s) starved by weight 0", zero.len()))
            .facts(starved)
            .fact(mode.describe())
            .fact(truth),
        CacheMode::Declared(false) => {
            Finding::ok(format!("memory cache off: {} weight-0 channel(s) still get a share (weight+10)", zero.len()))
                .facts(zero.iter().map(db_share))
                .facts(zero.iter().map(other_mode))
                .fact(mode.describe())
        }
        // Never a failure on an assumed mode: the share is stated for New
        // API's default and the other mode's outcome is the warning.
        CacheMode::AssumedOff => Finding::warn(format!(
            "{} weight-0 channel(s) starve once the memory cache is on (assumed off)",
            zero.len()
        ))
        .facts(zero.iter().map(db_share))
        .facts(zero.iter().map(other_mode))
        .fact(mode.describe())
        .fact(truth),
    }
}

pub fn top_priority(c: &Ctx<'_>) -> Finding {
    let chans = match channels(c) {
        Ok(ch) => ch,
        Err(f) => return f,
    };
    // Besides the list: the channel tests run this session, the users'
    // group and the cache mode, all in the key.
    let mode = CacheMode::of(&c.gw.spec).enabled();
    let key = format!("top_priority {mode} {:x} {}", tests_fingerprint(&c.gw.channel_tests), c.gw.spec.user_group);
    c.by_list(&key, || top_tier(c, chans, mode))
}

/// What identifies a session's channel tests (a new or repeated test changes it).
fn tests_fingerprint(tests: &[(std::time::SystemTime, String, bool, String, f64)]) -> u64 {
    use std::hash::{Hash as _, Hasher as _};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    tests.len().hash(&mut h);
    for (at, id, ok, msg, secs) in tests {
        (at, id, ok, msg, secs.to_bits()).hash(&mut h);
    }
    h.finish()
}

/// The top-priority tier of every model in the users' group, and how it tested.
fn top_tier(c: &Ctx<'_>, chans: &[Deployment], mode: bool) -> Finding {
    let tests: BTreeMap<&str, (bool, &str)> =
        c.gw.channel_tests.iter().map(|(_, id, ok, msg, _)| (id.as_str(), (*ok, msg.as_str()))).collect();
    let mut failing = Vec::new();
    // Channel indices: tens of thousands at scale, labelled only the few shown.
    let mut untested = HashSet::new();
    let mut below = 0usize;
    // The users' group: the one that matters for traffic.
    let all = c.shares(chans, mode);
    for p in all.iter().filter(|p| p.group == c.gw.spec.user_group) {
        for s in &p.channels {
            let d = &chans[s.channel];
            if s.tier > 0 {
                below += 1;
                continue;
            }
            match tests.get(d.id.as_str()) {
                Some((false, msg)) => failing.push(format!(
                    "{}: top priority ({}) for {}, last test failed: {msg}",
                    label(d),
                    s.priority,
                    p.model
                )),
                Some((true, _)) => {}
                None if d.status == DeploymentStatus::Unhealthy => {
                    failing.push(format!("{}: top priority for {}, unhealthy", label(d), p.model));
                }
                None => {
                    untested.insert(s.channel);
                }
            }
        }
    }
    let note =
        format!("{below} channel/model pair(s) below the top priority get traffic only on retries (RetryTimes > 0)");
    if !failing.is_empty() {
        Finding::fail(format!("{} top-priority channel(s) failing", failing.len())).facts(failing).fact(note)
    } else if !untested.is_empty() {
        Finding::unknown(format!("{} top-priority channel(s) not tested this session", untested.len()))
            .next(crate::triage::evidence::Next::Run(crate::keys::ActionKind::TestAll))
            .fact(note)
            .facts(first_labels(chans, untested, 8))
    } else {
        Finding::ok("every top-priority channel passed its last test").fact(note)
    }
}

/// The model names the channels serve, each shared list spelled out once
/// (thousands of channels hold a few dozen lists: gathering every name of
/// every channel was megabytes at 50,000).
pub(super) fn served_models<'a>(chans: impl Iterator<Item = &'a Deployment>) -> BTreeSet<&'a str> {
    let mut lists = crate::gateway::SeenLists::default();
    let mut names = BTreeSet::new();
    for d in chans {
        if lists.first_time(&d.models) {
            names.extend(d.models.iter());
        }
    }
    names
}

pub fn group_mismatch(c: &Ctx<'_>) -> Finding {
    let chans = match channels(c) {
        Ok(ch) => ch,
        Err(f) => return f,
    };
    let group = &c.gw.spec.user_group;
    c.by_list(&format!("group_mismatch {group}"), || groups(chans, group))
}

/// Which enabled channels and models users of `group` cannot reach: nothing but the list.
fn groups(chans: &[Deployment], group: &str) -> Finding {
    let reachable = served_models(chans.iter().filter(|d| d.groups.iter().any(|g| g == group)));
    let outside: Vec<&Deployment> = chans
        .iter()
        .filter(|d| d.status == DeploymentStatus::Serving && !d.groups.iter().any(|g| g == group))
        .collect();
    let unreachable: BTreeSet<&str> =
        served_models(outside.iter().copied()).into_iter().filter(|m| !reachable.contains(m)).collect();
    let mut facts: Vec<String> =
        outside.iter().take(10).map(|d| format!("{} serves groups {} only", label(d), d.groups.join(","))).collect();
    if outside.len() > 10 {
        facts.push(format!("… and {} more", outside.len() - 10));
    }
    if !unreachable.is_empty() {
        Finding::fail(format!(
            "{} model(s) are served only outside group {group:?}: {}",
            unreachable.len(),
            unreachable.iter().take(6).copied().collect::<Vec<_>>().join(", ")
        ))
        .facts(facts)
    } else if !outside.is_empty() {
        Finding::warn(format!(
            "{} enabled channel(s) not in group {group:?}: users of that group never reach them",
            outside.len()
        ))
        .facts(facts)
    } else {
        Finding::ok(format!("every enabled channel serves group {group:?}"))
    }
}

pub fn balance_disabled(c: &Ctx<'_>) -> Finding {
    // The question is about disabled channels only: the status-filtered
    // subset answers it whole when the full list is too large to read.
    let subset = c.gw.primary().and_then(|s| s.disabled_channels.ok());
    let (chans, coverage) = match (channels(c), subset) {
        (Ok(ch), _) => (ch, None),
        (Err(_), Some(sub)) => (
            sub.as_slice(),
            Some(format!(
                "read: all {} disabled channel(s) (status filter); {}",
                sub.len(),
                c.list_unread().unwrap_or_default()
            )),
        ),
        (Err(f), None) => return f,
    };
    let hits: Vec<String> = chans
        .iter()
        .filter(|d| d.status == DeploymentStatus::AutoDisabled && d.balance.get().is_some_and(|b| b > 0.0))
        .map(|d| {
            format!(
                "{}: balance ${:.2} but auto-disabled{}",
                label(d),
                d.balance.unwrap_or(0.0),
                d.status_reason.as_deref().map(|r| format!(" — {r}")).unwrap_or_default()
            )
        })
        .collect();
    let f = if hits.is_empty() {
        Finding::ok("no auto-disabled channel shows a positive balance")
    } else {
        Finding::warn(format!("{} auto-disabled channel(s) with balance > 0", hits.len()))
            .facts(hits)
            .fact("balance is a snapshot New API never routes on; status_reason is the real cause")
    };
    match coverage {
        Some(c) => f.fact(c),
        None => f,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::triage::Verdict;

    #[test]
    fn the_first_labels_are_those_of_sorting_every_label() {
        let names = ["b", "a", "c", "a b", "zz", "a"];
        let chans: Vec<Deployment> = (0..60)
            .map(|i: usize| Deployment::new((i * 7 % 23 + i / 23 * 100).to_string(), names[i % names.len()]))
            .collect();
        for (which, n) in
            [((0..60).collect::<HashSet<usize>>(), 8), ((5..9).collect(), 8), ((0..60).step_by(3).collect(), 3)]
        {
            let every: BTreeSet<String> = which.iter().map(|&i| label(&chans[i])).collect();
            let want: Vec<String> = every.into_iter().take(n).collect();
            assert_eq!(first_labels(&chans, which, n), want);
        }
    }

    fn obs(deps: Vec<Deployment>) -> crate::fleet::GatewayObs {
        let spec = crate::config::GatewaySpec::new("n", GatewayKind::NewApi, "http://127.0.0.1:1");
        crate::fleet::GatewayObs::holding(&spec, &std::sync::Arc::new(deps), std::time::SystemTime::UNIX_EPOCH)
    }

    /// The verdicts an app's memo gives are those of working them out anew,
    /// whichever list it last saw; a new list is judged again.
    #[test]
    fn a_memo_gives_the_verdicts_of_working_them_out_again() {
        use crate::triage::evidence::{Ctx, evaluate_with};
        use crate::triage::memo::ListMemo;
        let chan = |id: &str, status: DeploymentStatus, group: &str, mapped: Option<&str>| {
            let mut d = Deployment::new(id, if id == "3" { "claude" } else { "gpt-4o" });
            d.status = status;
            d.groups = crate::gateway::Names::from(vec![group]);
            if let Some(to) = mapped {
                d.model_mapping = vec![("gpt-4o".into(), to.into())];
            }
            d
        };
        let serving = obs(vec![
            chan("1", DeploymentStatus::Serving, "default", None),
            chan("2", DeploymentStatus::Serving, "default", Some("gpt-4o-2024-08-06")),
        ]);
        let broken = obs(vec![
            chan("1", DeploymentStatus::AutoDisabled, "default", None),
            chan("2", DeploymentStatus::ManuallyDisabled, "vip", Some("no-such-model-anywhere")),
            chan("3", DeploymentStatus::Serving, "vip", None),
        ]);
        let at = std::time::SystemTime::UNIX_EPOCH;
        let memo = ListMemo::default();
        for (g, broken_now) in
            [(&serving, false), (&serving, false), (&broken, true), (&broken, true), (&serving, false), (&broken, true)]
        {
            let remembered = evaluate_with(&Ctx::with_memo(g, at, &memo));
            assert_eq!(remembered, evaluate_with(&Ctx::new(g, at)));
            let verdict = |id: &str| remembered.get(id).map(|f| f.verdict);
            let want = if broken_now { Verdict::Fail } else { Verdict::Ok };
            assert_eq!(verdict("newapi-all-disabled"), Some(want));
            assert_eq!(verdict("newapi-group-mismatch"), Some(want));
            let mapping = if broken_now { Verdict::Warn } else { Verdict::Ok };
            assert_eq!(verdict("newapi-mapping-target"), Some(mapping));
            let derived = crate::table::derive(&Ctx::with_memo(g, at, &memo));
            assert_eq!(derived, crate::table::derive(&Ctx::new(g, at)));
        }
        // The same list with a channel test run since: judged again.
        let top = |g: &crate::fleet::GatewayObs| {
            let f = evaluate_with(&Ctx::with_memo(g, at, &memo)).get("newapi-top-priority").cloned().unwrap();
            assert_eq!(Some(&f), evaluate_with(&Ctx::new(g, at)).get("newapi-top-priority"));
            f.verdict
        };
        assert_eq!(top(&serving), Verdict::Unknown, "not tested yet");
        let mut tested = serving.clone();
        tested.channel_tests.push((at, "1".into(), false, "HTTP 401".into(), 0.4));
        assert_eq!(top(&tested), Verdict::Fail);
        tested.channel_tests.push((at, "1".into(), true, String::new(), 0.4));
        tested.channel_tests.push((at, "2".into(), true, String::new(), 0.4));
        assert_eq!(top(&tested), Verdict::Ok);
        assert_eq!(top(&serving), Verdict::Unknown);
    }

    /// What the poller works out for a new list is what the app would: the
    /// app's evaluation of that list then works out nothing of it again.
    #[test]
    fn a_list_warmed_by_the_poller_gives_the_app_the_same_verdicts() {
        use crate::triage::evidence::{Ctx, evaluate_with};
        let mut chans: Vec<Deployment> = (0..40)
            .map(|i| {
                let mut d = Deployment::new(i.to_string(), ["gpt-4o", "claude", "qwen"][i % 3]);
                d.status = [DeploymentStatus::Serving, DeploymentStatus::AutoDisabled][usize::from(i % 7 == 0)];
                d.groups = crate::gateway::Names::from(vec![["default", "vip"][usize::from(i % 5 == 0)]]);
                d.weight = u64::try_from(i % 4).unwrap().into();
                d
            })
            .collect();
        chans[3].model_mapping = vec![("qwen".into(), "qwen-max-nowhere".into())];
        let g = obs(chans);
        let at = std::time::SystemTime::UNIX_EPOCH;
        let memo = crate::triage::memo::warm(&g.spec, g.deployment_list().unwrap(), at);
        let warmed = memo.remembered();
        assert!(warmed >= 6, "shares, the share map and the list's own findings: {warmed}");
        assert_eq!(evaluate_with(&Ctx::with_memo(&g, at, &memo)), evaluate_with(&Ctx::new(&g, at)));
        assert_eq!(crate::table::derive(&Ctx::with_memo(&g, at, &memo)), crate::table::derive(&Ctx::new(&g, at)));
        assert_eq!(memo.remembered(), warmed, "the app worked out again what the poller had");
    }
}
