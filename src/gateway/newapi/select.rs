//! Which New API channels actually receive traffic, and what share —
//! reproducing `model.GetRandomSatisfiedChannel` (new-api @ 9f8a4ec0):
//!
//! 1. candidates: enabled channels whose groups contain the group and whose
//!    models contain the model;
//! 2. only the highest priority among them is used (lower tiers only on
//!    retries, and retries are off by default);
//! 3. within the tier, a weighted pick. With the memory cache
//!    (`MEMORY_CACHE_ENABLED=true`, or Redis) weights are used as they are,
//!    and an all-zero tier is picked uniformly — so a weight-0 channel beside
//!    weighted ones gets nothing. Without it (New API's default, the DB path)
//!    every weight gets +10: measured on a real server, #1 w10, #2 w0 and
//!    #4 w10 got 40, 18 and 42 of 100 requests (20:10:20).
//!
//! Which mode a node runs is not readable through New API's API (the flag
//! is an environment variable, never serialised), so unless the operator
//! declares it ([`CacheMode`]) the default is assumed, and said.

use std::collections::{BTreeMap, HashMap};

use crate::config::GatewaySpec;
use crate::gateway::{Deployment, DeploymentStatus, Names};

/// Whether the nodes pick channels from the memory cache, and how gatewatch knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheMode {
    /// `memory_cache:` in gatewatch's config.
    Declared(bool),
    /// Not declared: New API's default (off) is assumed.
    AssumedOff,
}

impl CacheMode {
    pub fn of(spec: &GatewaySpec) -> Self {
        spec.memory_cache.map_or(Self::AssumedOff, Self::Declared)
    }

    /// The mode shares are computed for.
    pub fn enabled(self) -> bool {
        matches!(self, Self::Declared(true))
    }

    pub fn is_assumed(self) -> bool {
        self == Self::AssumedOff
    }

    /// One line for the operator.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Declared(true) => "memory cache on (memory_cache: true in gatewatch's config)",
            Self::Declared(false) => "memory cache off (memory_cache: false in gatewatch's config)",
            Self::AssumedOff => {
                "memory cache assumed off, New API's default: its API does not say \
                 (declare memory_cache: true|false in gatewatch's config)"
            }
        }
    }
}

/// One channel's share of one (group, model) pair.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelShare {
    pub channel: usize,
    pub priority: i64,
    pub weight: u64,
    /// Fraction of first attempts, 0.0..=1.0.
    pub share: f64,
    /// 0 = the top tier (the one used); higher = only reached on retries.
    pub tier: usize,
}

/// The traffic split of one (group, model) pair.
#[derive(Debug, Clone, PartialEq)]
pub struct PairShares {
    pub group: String,
    pub model: String,
    pub channels: Vec<ChannelShare>,
    /// Channels listing this model and group that are disabled.
    pub disabled: Vec<usize>,
}

impl PairShares {
    pub fn top_priority(&self) -> Option<i64> {
        self.channels.iter().map(|c| c.priority).max()
    }
}

fn enabled(d: &Deployment) -> bool {
    matches!(d.status, DeploymentStatus::Serving | DeploymentStatus::Unhealthy)
}

/// The enabled and the disabled channels of one (group, model) pair.
type Members = (Vec<usize>, Vec<usize>);

/// Split traffic for every (group, model) pair the channels serve.
pub fn shares(channels: &[Deployment], memory_cache: bool) -> Vec<PairShares> {
    // Thousands of channels share a few dozen (groups, models) lists, held
    // once (`Names`): the channels are grouped by their lists' copies first,
    // and each list pair is spelled out into (group, model) pairs once.
    let mut by_lists: HashMap<(usize, usize), (&Names, &Names, Members)> = HashMap::new();
    for (i, d) in channels.iter().enumerate() {
        let e =
            by_lists.entry((d.groups.addr(), d.models.addr())).or_insert((&d.groups, &d.models, Members::default()));
        if enabled(d) {
            e.2.0.push(i);
        } else {
            e.2.1.push(i);
        }
    }
    let mut pairs: BTreeMap<(&str, &str), Members> = BTreeMap::new();
    for (groups, models, (live, off)) in by_lists.into_values() {
        for g in groups {
            for m in models {
                let e = pairs.entry((g, m)).or_default();
                e.0.extend_from_slice(&live);
                e.1.extend_from_slice(&off);
            }
        }
    }
    for (live, off) in pairs.values_mut() {
        live.sort_unstable();
        off.sort_unstable();
    }
    pairs
        .into_iter()
        .map(|((group, model), (live, disabled))| {
            let mut prios: Vec<i64> = live.iter().map(|&i| channels[i].priority.unwrap_or(0)).collect();
            prios.sort_unstable_by(|a, b| b.cmp(a));
            prios.dedup();
            let top = prios.first().copied();
            let tier_members: Vec<usize> =
                live.iter().copied().filter(|&i| Some(channels[i].priority.unwrap_or(0)) == top).collect();
            let weight = |i: usize| {
                let w = channels[i].weight.unwrap_or(0);
                if memory_cache { w } else { w + 10 }
            };
            let sum: u64 = tier_members.iter().map(|&i| weight(i)).sum();
            let channels_out = live
                .iter()
                .map(|&i| {
                    let p = channels[i].priority.unwrap_or(0);
                    let tier = prios.iter().position(|&x| x == p).unwrap_or(0);
                    let share = if tier == 0 {
                        #[allow(clippy::cast_precision_loss)]
                        if sum == 0 { 1.0 / tier_members.len() as f64 } else { weight(i) as f64 / sum as f64 }
                    } else {
                        0.0
                    };
                    ChannelShare { channel: i, priority: p, weight: channels[i].weight.unwrap_or(0), share, tier }
                })
                .collect();
            PairShares { group: group.to_owned(), model: model.to_owned(), channels: channels_out, disabled }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ch(id: &str, prio: i64, weight: u64, status: DeploymentStatus) -> Deployment {
        let mut d = Deployment::new(id, id);
        d.models = crate::gateway::Names::from(vec!["gpt-4o"]);
        d.groups = crate::gateway::Names::from(vec!["default"]);
        d.priority = prio.into();
        d.weight = weight.into();
        d.status = status;
        d
    }

    fn share_of(p: &PairShares, chans: &[Deployment], id: &str) -> f64 {
        p.channels.iter().find(|c| chans[c.channel].id == id).map_or(-1.0, |c| c.share)
    }

    /// The straightforward version (owned keys, weights looked up by position).
    fn reference(channels: &[Deployment], memory_cache: bool) -> Vec<PairShares> {
        let mut pairs: BTreeMap<(String, String), (Vec<usize>, Vec<usize>)> = BTreeMap::new();
        for (i, d) in channels.iter().enumerate() {
            for g in &d.groups {
                for m in &d.models {
                    let e = pairs.entry((g.to_string(), m.to_string())).or_default();
                    if enabled(d) { e.0.push(i) } else { e.1.push(i) }
                }
            }
        }
        let prio = |i: usize| channels[i].priority.unwrap_or(0);
        pairs
            .into_iter()
            .map(|((group, model), (live, disabled))| {
                let mut prios: Vec<i64> = live.iter().map(|&i| prio(i)).collect();
                prios.sort_unstable_by(|a, b| b.cmp(a));
                prios.dedup();
                let top = prios.first().copied();
                let tier: Vec<usize> = live.iter().copied().filter(|&i| Some(prio(i)) == top).collect();
                let weights: Vec<u64> =
                    tier.iter().map(|&i| channels[i].weight.unwrap_or(0) + if memory_cache { 0 } else { 10 }).collect();
                let sum: u64 = weights.iter().sum();
                let out = live
                    .iter()
                    .map(|&i| {
                        let t = prios.iter().position(|&x| x == prio(i)).unwrap_or(0);
                        let k = tier.iter().position(|&m| m == i).unwrap_or(0);
                        #[allow(clippy::cast_precision_loss)]
                        let share = match (t, sum) {
                            (0, 0) => 1.0 / tier.len() as f64,
                            (0, _) => weights[k] as f64 / sum as f64,
                            _ => 0.0,
                        };
                        ChannelShare {
                            channel: i,
                            priority: prio(i),
                            weight: channels[i].weight.unwrap_or(0),
                            share,
                            tier: t,
                        }
                    })
                    .collect();
                PairShares { group, model, channels: out, disabled }
            })
            .collect()
    }

    #[test]
    fn same_split_as_the_reference() {
        let statuses = [
            DeploymentStatus::Serving,
            DeploymentStatus::Unhealthy,
            DeploymentStatus::AutoDisabled,
            DeploymentStatus::ManuallyDisabled,
        ];
        let chans: Vec<Deployment> = (0..900usize)
            .map(|i| {
                let mut d =
                    ch(&i.to_string(), i64::try_from(i % 4).unwrap() * 5, (i as u64 * 7) % 5, statuses[i % 7 % 4]);
                d.models = ["gpt-4o", "gpt-4o-mini", "claude", "gpt-4o"][..=(i % 4)].iter().copied().collect();
                d.groups = if i % 3 == 0 {
                    crate::gateway::Names::from(vec!["default", "vip"])
                } else {
                    crate::gateway::Names::from(vec!["default"])
                };
                if i % 11 == 0 {
                    d.weight = crate::gateway::Opt::NONE;
                    d.priority = crate::gateway::Opt::NONE;
                }
                d
            })
            .collect();
        for cache in [true, false] {
            assert_eq!(shares(&chans, cache), reference(&chans, cache));
        }
    }

    #[test]
    fn weight_zero_beside_weighted_is_starved_with_cache() {
        let c = vec![ch("a", 0, 0, DeploymentStatus::Serving), ch("b", 0, 10, DeploymentStatus::Serving)];
        let s = &shares(&c, true)[0];
        assert!((share_of(s, &c, "a")).abs() < 1e-9);
        assert!((share_of(s, &c, "b") - 1.0).abs() < 1e-9);
        // DB path: +10 each -> 10/30 and 20/30.
        let s = &shares(&c, false)[0];
        assert!((share_of(s, &c, "a") - 1.0 / 3.0).abs() < 1e-9);
    }

    #[test]
    fn all_zero_tier_is_uniform() {
        let c = vec![
            ch("a", 0, 0, DeploymentStatus::Serving),
            ch("b", 0, 0, DeploymentStatus::Serving),
            ch("c", 0, 0, DeploymentStatus::Serving),
        ];
        let s = &shares(&c, true)[0];
        for id in ["a", "b", "c"] {
            assert!((share_of(s, &c, id) - 1.0 / 3.0).abs() < 1e-9);
        }
    }

    #[test]
    fn only_highest_priority_is_used_and_disabled_top_hands_over() {
        let c = vec![
            ch("top", 10, 50, DeploymentStatus::AutoDisabled),
            ch("mid1", 5, 30, DeploymentStatus::Serving),
            ch("mid2", 5, 10, DeploymentStatus::Serving),
            ch("low", 0, 100, DeploymentStatus::Serving),
        ];
        let s = &shares(&c, true)[0];
        assert_eq!(s.top_priority(), Some(5));
        assert!((share_of(s, &c, "mid1") - 0.75).abs() < 1e-9);
        assert!((share_of(s, &c, "mid2") - 0.25).abs() < 1e-9);
        assert!(share_of(s, &c, "low").abs() < 1e-9);
        assert_eq!(s.disabled, vec![0]);
    }

    #[test]
    fn groups_and_models_split_pairs() {
        let mut a = ch("a", 0, 1, DeploymentStatus::Serving);
        a.groups = crate::gateway::Names::from(vec!["default", "vip"]);
        a.models = crate::gateway::Names::from(vec!["gpt-4o", "gpt-4o-mini"]);
        let b = ch("b", 0, 1, DeploymentStatus::Serving);
        let all = shares(&[a, b], true);
        assert_eq!(all.len(), 4);
        let vip: Vec<_> = all.iter().filter(|p| p.group == "vip").collect();
        assert!(vip.iter().all(|p| p.channels.len() == 1));
    }
}
