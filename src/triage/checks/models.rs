//! Model names: what clients send vs. what the gateway serves.

use std::collections::{BTreeSet, HashSet};

use crate::config::GatewayKind;
use crate::gateway::DeploymentStatus;
use crate::triage::evidence::{Ctx, Finding, Verdict};
use crate::triage::prices;

/// Every name a client may send that routes somewhere.
pub fn served_names<'a>(c: &Ctx<'a>) -> BTreeSet<&'a str> {
    // Gathered by hash, then ordered: tens of thousands of channels name a
    // few hundred models.
    let mut names = HashSet::new();
    if let Some(s) = c.gw.primary()
        && let Some(m) = s.served_models.ok()
    {
        names.extend(m.iter().map(String::as_str));
    }
    // Each shared model list once (thousands of channels hold a few dozen).
    let mut lists = crate::gateway::SeenLists::default();
    for d in c.gw.deployments() {
        if c.gw.kind() == GatewayKind::NewApi
            && !matches!(d.status, DeploymentStatus::Serving | DeploymentStatus::Unhealthy)
        {
            continue;
        }
        if lists.first_time(&d.models) {
            names.extend(d.models.iter());
        }
    }
    names.into_iter().collect()
}

/// Why a client name misses: the node that asks each question answers from
/// this, not from the check as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Miss {
    /// Served under another case (`GPT-4o`).
    Case,
    /// A provider prefix on the wrong side (`openai/gpt-4o` sent, `gpt-4o`
    /// served; or `gpt-4o` sent, served only as `openai/gpt-4o`).
    Prefix,
    /// Not served at all (a typo, `.` for `-`, a model never added).
    Unserved,
}

pub fn classify(name: &str, served: &BTreeSet<&str>) -> Miss {
    if served.iter().any(|s| s.eq_ignore_ascii_case(name)) {
        return Miss::Case;
    }
    let bare = name.rsplit('/').next().unwrap_or(name);
    if (bare != name && served.contains(bare))
        || served.iter().any(|s| s.rsplit('/').next() == Some(name) && s.contains('/'))
    {
        return Miss::Prefix;
    }
    Miss::Unserved
}

/// Why a client name misses, and the nearest served name.
pub fn diagnose(name: &str, served: &BTreeSet<&str>) -> String {
    if let Some(s) = served.iter().find(|s| s.eq_ignore_ascii_case(name)) {
        return format!("{name:?}: case differs from served {s:?} (names are case-sensitive)");
    }
    let bare = name.rsplit('/').next().unwrap_or(name);
    if bare != name && served.contains(bare) {
        return format!("{name:?}: drop the provider prefix, clients send the alias {bare:?}");
    }
    if let Some(s) = served.iter().find(|s| s.rsplit('/').next() == Some(name) && s.contains('/')) {
        return format!(
            "{name:?}: served only as {s:?}; add {name:?} as an alias (model_name) instead of sending the prefixed string"
        );
    }
    let lower = name.to_ascii_lowercase();
    let nearest = served
        .iter()
        .map(|s| (strsim::levenshtein(&lower, &s.to_ascii_lowercase()), s))
        .min_by_key(|(d, s)| (*d, s.len()));
    match nearest {
        Some((d, s)) if d <= (name.len() / 2).max(3) => {
            format!("{name:?}: not served; nearest served name {s:?} (edit distance {d})")
        }
        Some((_, s)) => format!("{name:?}: not served; nothing close (nearest {s:?})"),
        None => format!("{name:?}: not served; the gateway serves no model"),
    }
}

/// An upstream's way of saying it does not know the model.
fn unknown_model_error(e: &crate::gateway::ErrorLogModel) -> bool {
    let m = e.last_error.to_ascii_lowercase();
    e.status_code == Some(404)
        || m.contains("does not exist")
        || m.contains("model_not_found")
        || m.contains("invalid model")
}

pub fn name_mismatch(c: &Ctx<'_>) -> Finding {
    let mut clients = c.client_models();
    let served = served_names(c);
    let Some(primary) = c.gw.primary() else {
        return Finding::unknown("no data from the gateway yet");
    };
    // New API serves what its channels list; LiteLLM's /v1/models may stand in.
    if let Some(why) = c.list_unread()
        && (c.gw.kind() == GatewayKind::NewApi || primary.served_models.ok().is_none())
    {
        return Finding::unknown(format!("{why}: the served names are not known"));
    }
    // Names in the gateway's own error log count as names clients send.
    let mut log_facts = Vec::new();
    let mut rejected_upstream = Vec::new();
    match &primary.recent_errors {
        crate::gateway::Section::Ok(models) if models.is_empty() => {
            log_facts.push("the error log is empty (New API writes it only with ERROR_LOG_ENABLED=true)".to_owned());
        }
        crate::gateway::Section::Ok(models) => {
            for m in models {
                if !clients.contains(&m.model) {
                    clients.push(m.model.clone());
                }
                let status = m.status_code.map(|s| format!("HTTP {s}, ")).unwrap_or_default();
                if served.contains(m.model.as_str()) && unknown_model_error(m) {
                    rejected_upstream.push(format!(
                        "{:?}: served by the gateway, but the upstream rejects the name ({} errors in the log: {status}{})",
                        m.model, m.count, m.last_error
                    ));
                } else {
                    log_facts.push(format!("error log: {:?} {} error(s), {status}{}", m.model, m.count, m.last_error));
                }
            }
        }
        _ => {}
    }
    if clients.is_empty() {
        return Finding::unknown("no client model names known: nothing to compare the served names with")
            .next(crate::triage::evidence::Next::ClientModels)
            .fact(format!("served: {}", served.iter().copied().collect::<Vec<_>>().join(", ")))
            .facts(log_facts);
    }
    let missing: Vec<&String> = clients.iter().filter(|n| !served.contains(n.as_str())).collect();
    // LiteLLM also routes a deployment's own `provider/model` string: a
    // client sending it works by accident and breaks when the alias changes.
    let accidental: Vec<String> = if c.gw.kind() == GatewayKind::LiteLlm {
        clients
            .iter()
            .filter(|n| {
                n.contains('/') && served.contains(n.as_str()) && !c.gw.deployments().iter().any(|d| d.name == *n)
            })
            .map(|n| format!("{n:?}"))
            .collect()
    } else {
        Vec::new()
    };
    let by_accident = format!(
        "served only through a deployment's own provider/model string, not an alias: {}",
        accidental.join(", ")
    );
    if missing.is_empty() && rejected_upstream.is_empty() {
        let ok = format!("all {} client model names are served", clients.len());
        if accidental.is_empty() {
            return Finding::ok(ok.clone()).facts(log_facts).aspect("alias", Verdict::Ok, ok.clone()).aspect(
                "prefix",
                Verdict::Ok,
                ok,
            );
        }
        return Finding::warn(format!("{ok}, {} only by accident", accidental.len()))
            .fact(by_accident.clone())
            .facts(log_facts)
            .aspect("alias", Verdict::Ok, ok)
            .aspect("prefix", Verdict::Warn, by_accident);
    }
    let names = |kinds: &[Miss]| -> Vec<String> {
        missing.iter().filter(|n| kinds.contains(&classify(n, &served))).map(|n| format!("{n:?}")).collect()
    };
    let (prefixed, unserved) = (names(&[Miss::Prefix]), names(&[Miss::Case, Miss::Unserved]));
    let prefix = if !prefixed.is_empty() {
        (Verdict::Fail, format!("provider prefix on the wrong side: {}", prefixed.join(", ")))
    } else if !accidental.is_empty() {
        (Verdict::Warn, by_accident)
    } else {
        (Verdict::Ok, "no client name differs from a served one by a provider prefix".to_owned())
    };
    let alias = if unserved.is_empty() && rejected_upstream.is_empty() {
        (Verdict::Ok, "every client name without a prefix problem is served".to_owned())
    } else if unserved.is_empty() {
        (Verdict::Fail, format!("{} served name(s) rejected by the upstream", rejected_upstream.len()))
    } else {
        (Verdict::Fail, format!("not served (or served under another case): {}", unserved.join(", ")))
    };
    let summary = if missing.is_empty() {
        format!("{} model name(s) served here are rejected by the upstream", rejected_upstream.len())
    } else {
        format!("{} of {} client model names are not served", missing.len(), clients.len())
    };
    let mut f = Finding::fail(summary)
        .facts(missing.iter().map(|n| diagnose(n, &served)))
        .facts(rejected_upstream)
        .facts(log_facts)
        .aspect("alias", alias.0, alias.1)
        .aspect("prefix", prefix.0, prefix.1);
    if c.gw.kind() == GatewayKind::LiteLlm {
        f = f.fact("LiteLLM answers these with HTTP 400 'Invalid model name passed in model=…'");
    } else {
        f = f.fact("New API answers these with HTTP 503 model_not_found (no available channel)");
    }
    f
}

pub fn mapping_target(c: &Ctx<'_>) -> Finding {
    if c.gw.kind() != GatewayKind::NewApi {
        return Finding::na("LiteLLM has no per-channel model mapping (aliases are the model_name)");
    }
    let deps = c.gw.deployments();
    if let Some(why) = c.list_unread() {
        return Finding::unknown(why);
    }
    c.by_list("mapping_target", || mappings(deps))
}

/// The verdict on every channel's model mapping: nothing but the list.
fn mappings(deps: &[crate::gateway::Deployment]) -> Finding {
    // What any channel serves, asked only for a mapping's target.
    let mut served: Option<BTreeSet<&str>> = None;
    let mut dead = Vec::new();
    let mut unknown_targets = Vec::new();
    for d in deps {
        for (from, to) in &d.model_mapping {
            if !d.models.iter().any(|m| m == from) {
                dead.push(format!(
                    "channel {} ({}): mapping {from:?} → {to:?}, but {from:?} is not in its models list, so no request for it reaches this channel",
                    d.id, d.name
                ));
            } else if !served.get_or_insert_with(|| super::newapi::served_models(deps.iter())).contains(to.as_str())
                && prices::shipped(to).is_none()
            {
                unknown_targets.push(format!(
                    "channel {} ({}): {from:?} → {to:?}: no channel serves {to:?}; check the upstream really has it",
                    d.id, d.name
                ));
            }
        }
    }
    if !dead.is_empty() {
        Finding::fail(format!("{} model mapping(s) can never be used", dead.len())).facts(dead).facts(unknown_targets)
    } else if !unknown_targets.is_empty() {
        Finding::warn(format!("{} mapping target(s) not served by any channel", unknown_targets.len()))
            .facts(unknown_targets)
    } else {
        let n: usize = deps.iter().map(|d| d.model_mapping.len()).sum();
        Finding::ok(format!("{n} model mapping(s), all reachable"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagnoses_typical_mistakes() {
        let served: BTreeSet<&str> = ["gpt-4o", "gpt-4o-mini", "claude-3-5-sonnet"].into_iter().collect();
        assert!(diagnose("GPT-4o", &served).contains("case differs"));
        assert!(diagnose("openai/gpt-4o", &served).contains("drop the provider prefix"));
        assert!(diagnose("gpt4o", &served).contains("nearest served name \"gpt-4o\""));
        assert!(diagnose("llama-3-70b", &served).contains("nothing close"));
        let prefixed: BTreeSet<&str> = ["anthropic/claude-3-5-sonnet"].into_iter().collect();
        assert!(diagnose("claude-3-5-sonnet", &prefixed).contains("add \"claude-3-5-sonnet\" as an alias"));
    }
}
