//! Stale keys: drift, process age, changed environment, restart pre-flight,
//! and what a cache purge can and cannot do.

use std::time::SystemTime;

use crate::config::GatewayKind;
use crate::gateway::Section;
use crate::gateway::litellm::drift::{DriftRow, DriftState};
use crate::triage::evidence::{Ctx, Finding};

fn config_problem(c: &Ctx<'_>) -> Option<Finding> {
    match &c.gw.local.proxy_config {
        None => Some(Finding::unknown("config_file not set: gatewatch cannot compare the file with the running proxy")),
        Some(Err(e)) => Some(Finding::unknown(format!("the config file cannot be used: {e}"))),
        Some(Ok(_)) => None,
    }
}

pub fn drift(c: &Ctx<'_>) -> Finding {
    if c.gw.kind() == GatewayKind::NewApi {
        let mut f =
            Finding::unknown("New API never returns channel keys through the access-token API: drift cannot be read");
        for (id, k) in &c.gw.local.intended_keys {
            f = f.fact(format!(
                "channel {id}: intended key {} ({})",
                k.fingerprint.map_or_else(|| "not set".to_owned(), |fp| fp.to_string()),
                k.label
            ));
        }
        return f.fact(format!(
            "after a key edit, nodes keep the old key for up to SYNC_FREQUENCY = {}s",
            c.gw.spec.sync_frequency.as_secs()
        ));
    }
    if let Some(f) = config_problem(c) {
        return f;
    }
    let Some(rollup) = c.gw.drift_rollup() else { return Finding::unknown("no comparison yet") };
    if rollup.compared == 0 {
        return Finding::unknown("no replica's deployments read yet (see admin-auth)");
    }
    let mut facts = Vec::new();
    let mut drifted = 0usize;
    let mut unverifiable = 0usize;
    for r in &c.gw.replicas {
        let Some(rows) = &r.drift else {
            facts.push(format!("{}: not compared", r.url));
            continue;
        };
        let problems: Vec<&DriftRow> = rows.iter().filter(|x| x.state.is_problem()).collect();
        unverifiable += rows.iter().filter(|x| matches!(x.state, DriftState::Unverifiable { .. })).count();
        if problems.is_empty() {
            facts.push(format!("{}: all {} deployments match the file", r.url, rows.len()));
        } else {
            drifted += 1;
            for p in problems {
                let line = p.line.map(|l| format!(" (config line {l})")).unwrap_or_default();
                facts.push(format!("{}: {}{line}", r.url, p.summary()));
            }
        }
    }
    if drifted > 0 {
        Finding::fail(format!("{} — restart to load the file", rollup.describe())).facts(facts)
    } else if unverifiable > 0 {
        Finding::warn("some ids cannot be reproduced: an os.environ variable is unset in gatewatch's environment")
            .facts(facts)
    } else {
        Finding::ok(rollup.describe()).facts(facts)
    }
}

fn fmt_ago(now: SystemTime, t: SystemTime) -> String {
    now.duration_since(t)
        .map_or_else(|_| "in the future".into(), |d| format!("{} ago", crate::config::duration::human(d)))
}

pub fn process_age(c: &Ctx<'_>) -> Finding {
    if c.gw.kind() == GatewayKind::NewApi {
        return Finding::na("New API keeps channels in its database, not a config file");
    }
    if let Some(f) = config_problem(c) {
        return f;
    }
    let Some(cfg) = c.gw.proxy_config() else { return Finding::unknown("no config") };
    let Some(mtime) = cfg.modified else { return Finding::unknown("modification time of the config file unknown") };
    let Some(p) = &c.gw.local.process else {
        return Finding::unknown(
            "the LiteLLM process is not visible from here (run gatewatch on the gateway's host, or set pid_file)",
        )
        .fact(format!("config file modified {}", fmt_ago(c.now, mtime)));
    };
    let facts = [
        format!("config file modified {}", fmt_ago(c.now, mtime)),
        format!("process {} started {} ({})", p.pid, fmt_ago(c.now, p.started), p.how),
    ];
    if mtime > p.started {
        Finding::fail("the config file changed after the process started: it runs the previous file").facts(facts)
    } else {
        Finding::ok("the process started after the last config edit").facts(facts)
    }
}

pub fn env_changed(c: &Ctx<'_>) -> Finding {
    if c.gw.kind() == GatewayKind::NewApi {
        return Finding::na("New API does not reference environment keys per channel");
    }
    if let Some(f) = config_problem(c) {
        return f;
    }
    let Some(cfg) = c.gw.proxy_config() else { return Finding::unknown("no config") };
    if cfg.env_refs.is_empty() {
        return Finding::ok("the config references no os.environ/ variables");
    }
    if c.gw.memory.env.is_empty() {
        return Finding::unknown("no earlier match remembered to compare the environment with").facts(
            cfg.env_refs.iter().map(|r| format!("{} ({}): {}", r.name, r.field, if r.set { "set" } else { "NOT SET" })),
        );
    }
    let mut changed = Vec::new();
    let mut facts = Vec::new();
    for r in &cfg.env_refs {
        match (c.gw.memory.env.get(&r.name), r.fingerprint) {
            (Some(old), Some(new)) if *old != new => {
                changed.push(r.name.clone());
                facts.push(format!("{}: was {old} when the proxy last matched, now {new} (line {})", r.name, r.line));
            }
            (_, None) => facts.push(format!("{}: not set in gatewatch's environment (line {})", r.name, r.line)),
            _ => {}
        }
    }
    if changed.is_empty() {
        Finding::ok("environment keys unchanged since the proxy last matched").facts(facts)
    } else {
        Finding::warn(format!(
            "changed since the last match: {} — the proxy reads its environment only at start",
            changed.join(", ")
        ))
        .facts(facts)
    }
}

pub fn preflight(c: &Ctx<'_>) -> Finding {
    if c.gw.kind() == GatewayKind::NewApi {
        return Finding::na("New API has no config file to check before a restart");
    }
    let cfg = match &c.gw.local.proxy_config {
        None => return Finding::unknown("config_file not set: cannot check that a restart would boot"),
        Some(Err(e)) => return Finding::fail(format!("the next restart will fail: {e}")),
        Some(Ok(cfg)) => cfg,
    };
    let mut problems = cfg.boot_problems();
    for r in &cfg.env_refs {
        if !r.set {
            problems.push(format!("os.environ/{} ({}, line {}) is not set here", r.name, r.field, r.line));
        }
    }
    if let Some(v) = &c.gw.local.validate
        && !v.ok
    {
        problems.push(format!("validate_command failed: {}", v.output.lines().last().unwrap_or("")));
    }
    let mut facts = vec![format!("{} deployments parse", cfg.deployments.len())];
    if cfg.weak_master_key_override {
        facts.push(
            "dangerously_permit_weak_or_unset_master_key is on: the boot check is bypassed (local development only)"
                .into(),
        );
    }
    if problems.is_empty() {
        Finding::ok("the file on disk parses and passes LiteLLM's boot check").facts(facts)
    } else {
        Finding::fail(format!("the next restart will fail: {}", problems[0]))
            .facts(problems.into_iter().skip(1))
            .facts(facts)
    }
}

pub fn response_cache(c: &Ctx<'_>) -> Finding {
    if c.gw.kind() == GatewayKind::NewApi {
        return Finding::na("New API has no response cache endpoint; its channel cache refreshes every SYNC_FREQUENCY");
    }
    let Some(s) = c.gw.primary() else { return Finding::unknown("no data yet") };
    match &s.cache {
        Section::Ok(cache) if cache.kind.contains("redis") => Finding::ok(format!(
            "Redis response cache ({}): purge empties Redis",
            if cache.healthy { "healthy" } else { "unhealthy" }
        ))
        .fact("/cache/flushall also deletes the rate-limit counters kept in that Redis")
        .fact("each worker keeps serving its in-memory copies for up to 10 minutes; a restart clears them")
        .fact("a purge never changes which upstream key the proxy uses"),
        Section::Ok(cache) => Finding::ok(format!(
            "in-memory ({}) response cache: /cache/flushall refuses it (503); only a restart clears it",
            cache.kind
        ))
        .fact("a purge never changes which upstream key the proxy uses"),
        Section::Unavailable(why) => Finding::ok(format!("{why}: there is nothing to purge")),
        Section::Failed(e) => Finding::unknown(format!("cache state unreadable: {e}")),
        Section::NotLoaded => Finding::unknown("cache state not loaded"),
    }
}
