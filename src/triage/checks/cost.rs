//! Cost traps: fallbacks to pricier models, retries multiplying calls,
//! paid calls on a timer, and the live route probe.

use std::collections::HashMap;

use crate::config::GatewayKind;
use crate::gateway::{Deployment, RouterSettings};
use crate::triage::evidence::{Ctx, Finding};
use crate::triage::prices::{self, Price};

/// The price of an alias: what the gateway reports for its deployments (the
/// dearest one), else the shipped table.
pub fn alias_price(c: &Ctx<'_>, alias: &str) -> Option<Price> {
    let deps: Vec<_> = c.gw.deployments().iter().filter(|d| d.name == alias).collect();
    price_of(alias, &deps)
}

/// Every alias's [`alias_price`], in one pass over the deployments (5,000
/// deployments asked one by one cost 25 million comparisons).
fn alias_prices(deployments: &[Deployment]) -> HashMap<&str, Option<Price>> {
    let mut by_alias: HashMap<&str, Vec<&Deployment>> = HashMap::new();
    for d in deployments {
        by_alias.entry(d.name.as_str()).or_default().push(d);
    }
    by_alias.into_iter().map(|(alias, deps)| (alias, price_of(alias, &deps))).collect()
}

/// The price of `alias` served by `deps` (in list order): the dearest the
/// gateway reports, else the shipped table's for the first upstream model
/// it knows, else for the alias itself.
fn price_of(alias: &str, deps: &[&Deployment]) -> Option<Price> {
    let reported = deps
        .iter()
        .filter_map(|d| match (d.input_cost_per_token.get(), d.output_cost_per_token.get()) {
            (Some(i), Some(o)) if i + o > 0.0 => Some(Price { input: i, output: o, reported: true }),
            _ => None,
        })
        .max_by(|a, b| a.blended().total_cmp(&b.blended()));
    reported.or_else(|| {
        deps.iter()
            .find_map(|d| d.upstream_model.as_deref().and_then(prices::shipped))
            .or_else(|| prices::shipped(alias))
    })
}

/// The fallback chains in force: as the running proxy reports them, else from the file.
fn router(c: &Ctx<'_>) -> Option<(RouterSettings, &'static str)> {
    if let Some(r) = c.gw.primary().and_then(|s| s.router.ok()) {
        return Some((r.clone(), "as the running proxy reports them"));
    }
    let cfg = c.gw.proxy_config()?;
    Some((
        RouterSettings {
            fallbacks: cfg.fallbacks.clone(),
            context_window_fallbacks: cfg.context_window_fallbacks.clone(),
            content_policy_fallbacks: cfg.content_policy_fallbacks.clone(),
            default_fallbacks: cfg.default_fallbacks.clone(),
            num_retries: cfg.num_retries,
            ..RouterSettings::default()
        },
        "from the config file (the proxy's router settings were not readable)",
    ))
}

fn all_chains(r: &RouterSettings) -> Vec<(&'static str, String, Vec<String>)> {
    let mut out = Vec::new();
    for (label, list) in [
        ("fallbacks", &r.fallbacks),
        ("context_window_fallbacks", &r.context_window_fallbacks),
        ("content_policy_fallbacks", &r.content_policy_fallbacks),
    ] {
        for (from, to) in list {
            out.push((label, from.clone(), to.clone()));
        }
    }
    if !r.default_fallbacks.is_empty() {
        out.push(("default_fallbacks", "*".to_owned(), r.default_fallbacks.clone()));
    }
    out
}

pub fn fallback_cost(c: &Ctx<'_>) -> Finding {
    if c.gw.kind() == GatewayKind::NewApi {
        return Finding::na("New API has no fallback chains: retries go to lower-priority channels of the same model");
    }
    let Some((r, source)) = router(c) else {
        return Finding::unknown("router settings not readable and no config file");
    };
    let chains = all_chains(&r);
    if chains.is_empty() {
        return Finding::ok("no fallback chains configured").fact(format!("router settings {source}"));
    }
    let deployments = c.gw.deployments();
    let prices = alias_prices(deployments);
    let dearest = deployments
        .iter()
        .filter_map(|d| prices.get(d.name.as_str()).copied().flatten().map(|p| (d.name.as_str(), p)))
        .max_by(|a, b| a.1.blended().total_cmp(&b.1.blended()));
    let mut facts = vec![format!("chains {source}")];
    let mut worst_ratio: f64 = 0.0;
    let mut ends_on_dearest = Vec::new();
    let mut unpriced = Vec::new();
    for (label, from, to) in &chains {
        let base = if from == "*" { None } else { alias_price(c, from) };
        let mut hops = Vec::new();
        for t in to {
            match (base, alias_price(c, t)) {
                (Some(b), Some(p)) if b.blended() > 0.0 => {
                    let ratio = p.blended() / b.blended();
                    worst_ratio = worst_ratio.max(ratio);
                    let mark = if ratio >= 3.0 { " ✗" } else { "" };
                    hops.push(format!("{t} {ratio:.1}x{mark}"));
                }
                (_, Some(_)) if from == "*" => hops.push(t.clone()),
                _ => {
                    unpriced.push(t.clone());
                    hops.push(format!("{t} (no price)"));
                }
            }
        }
        if let (Some(last), Some((dn, _))) = (to.last(), &dearest)
            && last == dn
            && from != dn
        {
            ends_on_dearest.push(format!("{from} → … → {last}"));
        }
        let base_txt = base.map_or_else(|| "no price".to_owned(), |b| format!("${:.2}/M in+out", b.blended() * 1e6));
        facts.push(format!("{label}: {from} ({base_txt}) → {}", hops.join(" → ")));
    }
    if !ends_on_dearest.is_empty() {
        facts.push(format!("ends on the most expensive model: {}", ends_on_dearest.join(", ")));
    }
    if !unpriced.is_empty() {
        facts.push(format!("no price known for: {}", unpriced.join(", ")));
    }
    if worst_ratio >= 3.0 {
        Finding::fail(format!("a fallback hop costs {worst_ratio:.0}x its primary")).facts(facts)
    } else if !ends_on_dearest.is_empty() {
        Finding::warn("a fallback chain ends on the most expensive model").facts(facts)
    } else {
        Finding::ok(format!("{} chain(s), every hop < 3x its primary", chains.len())).facts(facts)
    }
}

pub fn retries(c: &Ctx<'_>) -> Finding {
    if c.gw.kind() == GatewayKind::NewApi {
        return Finding::unknown(
            "New API's RetryTimes option is not readable with an access token (default 0: no retries)",
        );
    }
    let Some((r, source)) = router(c) else {
        return Finding::unknown("router settings not readable and no config file");
    };
    let retries = r.num_retries.unwrap_or(0);
    let longest = all_chains(&r).iter().map(|(_, _, to)| to.len()).max().unwrap_or(0);
    let worst = (u64::from(retries) + 1) * (longest as u64 + 1);
    let f = if retries > 2 {
        Finding::warn(format!("num_retries = {retries}: up to {worst} paid upstream calls per client request"))
    } else {
        Finding::ok(format!("num_retries = {retries}; worst case {worst} upstream calls per request"))
    };
    let mut f = f.fact(format!("router settings {source}"));
    if let Some(a) = r.allowed_fails {
        f = f.fact(format!("allowed_fails = {a}, cooldown_time = {}s", r.cooldown_time.unwrap_or(0.0)));
    }
    f
}

pub fn fallback_live(c: &Ctx<'_>) -> Finding {
    if c.gw.kind() == GatewayKind::NewApi {
        return Finding::na("route headers are LiteLLM's");
    }
    if c.gw.routes.is_empty() {
        return Finding::unknown("not probed: where each alias is routed right now is not known")
            .next(crate::triage::evidence::Next::Run(crate::keys::ActionKind::RouteProbe));
    }
    let mut firing = Vec::new();
    let mut facts = Vec::new();
    for (_, alias, r) in &c.gw.routes {
        let served_by =
            r.model_id.as_deref().and_then(|id| c.gw.deployments().iter().find(|d| d.id == id)).map_or_else(
                || r.model_id.as_deref().map_or("?".to_owned(), |i| crate::secret::short_id(i).to_owned()),
                |d| d.name.to_string(),
            );
        let fb = r.attempted_fallbacks.unwrap_or(0);
        let line = format!(
            "{alias}: HTTP {} served by {served_by}, fallbacks {fb}, retries {}, cost {}{}",
            r.status,
            r.attempted_retries.unwrap_or(0),
            r.response_cost.map_or_else(|| "?".to_owned(), |c| format!("${c:.6}")),
            r.error.as_deref().map(|e| format!(" — {e}")).unwrap_or_default()
        );
        if fb > 0
            || (r.status == 200 && served_by != *alias && r.model_group.as_deref() != Some(alias.as_str()))
            || r.status >= 400
        {
            firing.push(alias.clone());
        }
        facts.push(line);
    }
    let f = if firing.is_empty() {
        Finding::ok(format!("{} alias(es) probed, each served by its own deployment", c.gw.routes.len())).facts(facts)
    } else {
        Finding::fail(format!("fallbacks or errors right now on: {}", firing.join(", "))).facts(facts)
    };
    // As old as its oldest probe.
    match c.gw.routes.iter().map(|(at, ..)| *at).min() {
        Some(at) => f.at(at),
        None => f,
    }
}

pub fn health_checks(c: &Ctx<'_>) -> Finding {
    if c.gw.kind() == GatewayKind::NewApi {
        return Finding::unknown("New API's AutoTestChannelEnabled setting is not readable with an access token; scheduled channel tests call every channel")
            .fact("each test is a real (paid) request; see Settings > Monitoring in the console");
    }
    let Some(cfg) = c.gw.proxy_config() else {
        return Finding::unknown("config_file not set: cannot see background_health_checks");
    };
    if !cfg.background_health_checks {
        return Finding::ok("background_health_checks is off: no paid calls on a timer");
    }
    let interval = cfg.health_check_interval.unwrap_or(300.0).max(1.0);
    let n = cfg.deployments.len();
    #[allow(clippy::cast_precision_loss)]
    let per_day = (86_400.0 / interval) * n as f64;
    Finding::warn(format!(
        "background health checks call all {n} deployments every {interval:.0}s (~{per_day:.0} paid requests a day)"
    ))
    .fact("each check is a real chat request with the deployment's own key")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::GatewaySpec;
    use crate::gateway::{ReplicaSnapshot, Section};
    use crate::triage::Verdict;

    fn dep(id: &str, alias: &str, upstream: Option<&str>, cost: Option<(f64, f64)>) -> Deployment {
        let mut d = Deployment::new(id, alias);
        d.upstream_model = upstream.map(Into::into);
        if let Some((i, o)) = cost {
            d.input_cost_per_token = i.into();
            d.output_cost_per_token = o.into();
        }
        d
    }

    fn gateway(deps: Vec<Deployment>, fallbacks: Vec<(String, Vec<String>)>) -> crate::fleet::GatewayObs {
        let spec = GatewaySpec::new("l", GatewayKind::LiteLlm, "http://127.0.0.1:4000");
        let mut gw = crate::fleet::GatewayObs::new(spec);
        let mut snap = ReplicaSnapshot::new(std::time::Duration::from_millis(1));
        snap.deployments = Section::Ok(std::sync::Arc::new(deps));
        snap.router = Section::Ok(RouterSettings { fallbacks, ..RouterSettings::default() });
        let at = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_800_000_000);
        let report = crate::fleet::PollReport::new(0, at, vec![("http://127.0.0.1:4000".into(), Ok(snap))]);
        gw.apply_poll(report, &mut crate::timeline::Timeline::default(), 0);
        gw
    }

    /// The one-pass prices are the ones asked alias by alias: the dearest
    /// reported deployment of an alias, else its upstream model's shipped
    /// price, else the alias's own, else none.
    #[test]
    fn every_alias_is_priced_as_when_asked_alone() {
        let deps = vec![
            dep("1", "cheap", None, Some((1e-7, 2e-7))),
            dep("2", "cheap", None, Some((3e-7, 4e-7))),
            dep("3", "big", Some("openai/gpt-4o"), None),
            dep("4", "gpt-4o-mini", None, Some((0.0, 0.0))),
            dep("5", "mystery", Some("acme/unknown-model"), None),
            dep("6", "big", None, Some((5e-6, 1.5e-5))),
        ];
        let gw = gateway(deps.clone(), Vec::new());
        let ctx = Ctx::new(&gw, std::time::SystemTime::UNIX_EPOCH);
        let all = alias_prices(&deps);
        assert_eq!(all.len(), 4);
        for alias in ["cheap", "big", "gpt-4o-mini", "mystery"] {
            assert_eq!(all[alias], alias_price(&ctx, alias), "{alias}");
        }
        assert!((all["cheap"].unwrap().input - 3e-7).abs() < 1e-12);
        assert!(all["big"].unwrap().reported);
        assert!(all["mystery"].is_none());
    }

    #[test]
    fn a_chain_ending_on_the_dearest_alias_is_named() {
        let deps = vec![
            dep("1", "small", None, Some((1e-6, 1e-6))),
            dep("2", "mid", None, Some((2e-6, 2e-6))),
            dep("3", "large", None, Some((2.5e-6, 2.5e-6))),
        ];
        let gw = gateway(deps, vec![("small".into(), vec!["mid".into(), "large".into()])]);
        let f = fallback_cost(&Ctx::new(&gw, std::time::SystemTime::UNIX_EPOCH));
        assert_eq!(f.verdict, Verdict::Warn, "{f:?}");
        assert!(f.facts.iter().any(|x| x == "ends on the most expensive model: small → … → large"), "{f:?}");
    }
}
