//! Stale keys: drift, process age, the proxy's environment, restart
//! pre-flight, and what a cache purge can and cannot do.
//!
//! Every verdict is what the real proxy's behaviour justifies: a deployment
//! whose id proves nothing (pinned, random, resolved from an environment
//! gatewatch cannot see) is unknown, never a match and never drift; an
//! admin answer gatewatch cannot read fails the check instead of passing it.

use std::time::{Duration, SystemTime};

use crate::config::GatewayKind;
use crate::fleet::GatewayObs;
use crate::gateway::litellm::config_file::{ConfigDeployment, MasterKeyVerdict, ProxyConfig};
use crate::gateway::litellm::drift::{Agreement, DriftRow, DriftState};
use crate::gateway::{GatewayError, Section};
use crate::triage::evidence::{Ctx, Finding};

/// A file written this long after the process started may or may not have
/// been read by it: 1.106.12 reads its config a few seconds after launch.
const STARTUP_WINDOW: Duration = Duration::from_secs(30);
/// `/proc` start times and uptime are in centiseconds (each truncated).
const CLOCK_SLACK: Duration = Duration::from_millis(20);

fn config_problem(c: &Ctx<'_>) -> Option<Finding> {
    match c.gw.local.proxy_config() {
        None => Some(Finding::unknown("config_file not set: gatewatch cannot compare the file with the running proxy")),
        Some(Err(e)) => Some(Finding::unknown(format!("the config file cannot be used: {e}"))),
        Some(Ok(_)) => None,
    }
}

/// An answer that came back but cannot be read: too large, cut off, not
/// JSON, the wrong shape, or an HTML page where JSON belongs.
pub fn unreadable(e: &GatewayError) -> bool {
    matches!(
        e,
        GatewayError::TooLarge { .. }
            | GatewayError::Truncated { .. }
            | GatewayError::Garbage { .. }
            | GatewayError::WrongShape { .. }
            | GatewayError::Html { .. }
    )
}

/// Replicas that answered liveness but whose deployment list could not be
/// read, with the reason (and the remedy when there is one).
pub fn unreadable_deployments(gw: &GatewayObs) -> Vec<String> {
    gw.replicas
        .iter()
        .filter_map(|r| match r.last.as_ref() {
            Some(Ok(s)) => match &s.deployments {
                Section::Failed(e) if unreadable(e) => Some(format!(
                    "{}: the deployment list cannot be read: {e}{}",
                    r.url,
                    e.hint().map(|h| format!(" — {h}")).unwrap_or_default()
                )),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

fn rows_facts(url: &str, rows: &[DriftRow], facts: &mut Vec<String>) {
    for p in rows.iter().filter(|x| x.state.is_problem() || x.state.is_inconclusive()) {
        let at = p.location().map(|l| format!(" (config {l})")).unwrap_or_default();
        facts.push(format!("{url}: {}{at}", p.summary()));
    }
}

pub fn drift(c: &Ctx<'_>) -> Finding {
    if c.gw.kind() == GatewayKind::NewApi {
        let mut f =
            Finding::unknown("New API never returns channel keys through the access-token API: drift cannot be read");
        for (id, k) in c.gw.local.newapi().map(|n| n.intended_keys.as_slice()).unwrap_or_default() {
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
    let unreadable = unreadable_deployments(c.gw);
    if !unreadable.is_empty() {
        return Finding::fail(format!("cannot read what the proxy runs: {}", unreadable[0])).facts(unreadable);
    }
    if let Some(f) = config_problem(c) {
        return f;
    }
    let Some(cfg) = c.gw.proxy_config() else { return Finding::unknown("no config") };
    let Some(rollup) = c.gw.drift_rollup() else { return Finding::unknown("no comparison yet") };
    if rollup.compared == 0 {
        return Finding::unknown("no replica's deployments read yet (see admin-auth)");
    }
    let mut facts = Vec::new();
    let (mut drifted, mut inconclusive) = (0usize, 0usize);
    for r in &c.gw.replicas {
        let Some(rows) = &r.drift else {
            facts.push(format!("{}: not compared", r.url));
            continue;
        };
        match r.agreement() {
            Some(Agreement::Drift) => drifted += 1,
            Some(Agreement::Inconclusive) => inconclusive += 1,
            _ => facts.push(format!("{}: all {} deployments match the file", r.url, rows.len())),
        }
        rows_facts(&r.url, rows, &mut facts);
    }
    if !cfg.env_refs.is_empty() {
        facts.push(cfg.env.describe());
    }
    if drifted > 0 {
        Finding::fail(format!("{} — restart to load the file", rollup.describe())).facts(facts)
    } else if inconclusive > 0 {
        let unsure: Vec<&DriftRow> =
            c.gw.drift_rows()
                .map(|rows| rows.iter().filter(|r| r.state.is_inconclusive()).collect())
                .unwrap_or_default();
        let first = unsure.first().map(|r| r.summary()).unwrap_or_default();
        Finding::unknown(format!("no drift seen, but {} deployment(s) cannot be checked by id — {first}", unsure.len()))
            .facts(facts)
    } else {
        Finding::ok(rollup.describe()).facts(facts)
    }
}

fn fmt_ago(now: SystemTime, t: SystemTime) -> String {
    now.duration_since(t)
        .map_or_else(|_| "in the future".into(), |d| format!("{} ago", crate::config::duration::human(d)))
}

/// Agreement over every compared replica: drift anywhere wins, then inconclusive.
fn overall(gw: &GatewayObs) -> Option<Agreement> {
    let all: Vec<Agreement> = gw.replicas.iter().filter_map(crate::fleet::ReplicaObs::agreement).collect();
    if all.is_empty() || all.len() < gw.replicas.len() {
        return if all.contains(&Agreement::Drift) { Some(Agreement::Drift) } else { None };
    }
    [Agreement::Drift, Agreement::Inconclusive, Agreement::Clean].into_iter().find(|a| all.contains(a))
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
    let files = if cfg.files.len() > 1 { format!(" (newest of {} files)", cfg.files.len()) } else { String::new() };
    let modified = format!("config file modified {}{files}", fmt_ago(c.now, mtime));
    let lite = c.gw.local.litellm();
    let Some(p) = lite.and_then(|l| l.process.as_ref()) else {
        let why = lite.and_then(|l| l.process_note.clone()).unwrap_or_else(|| {
            "the LiteLLM process is not visible from here (run gatewatch on the gateway's host, or set pid_file)".into()
        });
        return Finding::unknown(why).fact(modified);
    };
    let mut facts = vec![modified, format!("process {} started {} ({})", p.pid, fmt_ago(c.now, p.started), p.how)];
    let Ok(after) = mtime.duration_since(p.started + CLOCK_SLACK) else {
        return Finding::ok("the process started after the last config edit").facts(facts);
    };
    let after = after + CLOCK_SLACK;
    facts.push(format!("the file was written {} after the process started", crate::config::duration::human(after)));
    match overall(c.gw) {
        Some(Agreement::Clean) => Finding::warn(
            "the config file changed after the process started, but every deployment id matches it: only settings outside model_list (router_settings, litellm_settings, general_settings) may differ — restart to load them",
        )
        .facts(facts),
        Some(Agreement::Drift) => {
            Finding::fail("the config file changed after the process started: it runs the previous file").facts(facts)
        }
        _ if after < STARTUP_WINDOW => Finding::warn(format!(
            "the config file was written {} after the process started, while it was still starting: it may or may not have read this version, and the ids cannot tell",
            crate::config::duration::human(after)
        ))
        .facts(facts),
        _ => Finding::fail(
            "the config file changed after the process started: the proxy reads it only at start, so it runs the previous version (the ids cannot confirm it either way)",
        )
        .facts(facts),
    }
}

/// Deployments whose key resolves to nothing in the proxy, and why: names
/// known to be unset in its environment, and names gatewatch could not see
/// in a deployment whose id matches anyway (hashed as `None`, the proxy's
/// equal id proves it had no value either).
fn keyless(cfg: &ProxyConfig, gw: &GatewayObs) -> Vec<String> {
    let proven = |d: &ConfigDeployment| {
        gw.replicas
            .iter()
            .filter_map(|r| r.drift.as_deref())
            .flatten()
            .any(|row| row.state == DriftState::Match && row.file_id.as_deref() == Some(d.id.as_str()))
    };
    let mut out = Vec::new();
    for d in &cfg.deployments {
        let seen = d.unset_env.iter().map(|n| (n, false));
        let inferred = d.unknown_env.iter().filter(|_| proven(d)).map(|(n, _)| (n, true));
        for (name, inferred) in seen.chain(inferred) {
            let late = cfg.env_refs.iter().any(|r| r.name == *name && r.late_only);
            let why = if late {
                "it is defined only under environment_variables:, which the proxy applies after resolving model_list"
                    .to_owned()
            } else if inferred {
                "the proxy's id for it is the one computed without a value".to_owned()
            } else {
                format!("it is not set in the proxy's environment ({})", cfg.env.source.describe())
            };
            let field = cfg
                .env_refs
                .iter()
                .find(|r| r.name == *name && r.field.starts_with(&format!("model_list[{}].", d.index)))
                .map_or("it", |r| r.field.rsplit('.').next().unwrap_or("it"));
            let effect = if field == "api_key" {
                " (measured on 1.106.12: its requests then fail with HTTP 500 before reaching the upstream)"
            } else {
                ""
            };
            out.push(format!(
                "{}: os.environ/{name} resolves to nothing — {why}: the deployment loads with no {field}{effect}",
                d.model_name
            ));
        }
    }
    out
}

/// Names the proxy may or may not have: gatewatch cannot see its environment.
fn unseen(cfg: &ProxyConfig) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in cfg.env_refs.iter().filter(|r| r.unknown.is_some()) {
        let mut line =
            format!("os.environ/{} ({}, line {}): {}", r.name, r.field, r.line, r.unknown.as_deref().unwrap_or(""));
        if cfg.env_refs.iter().any(|e| e.name == r.name && e.field.starts_with("environment_variables.")) || r.late_only
        {
            line.push_str(
                " (defined under environment_variables:, which the proxy applies only after resolving model_list)",
            );
        }
        if !out.contains(&line) {
            out.push(line);
        }
    }
    out
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
    let keyless = keyless(cfg, c.gw);
    let mut facts = vec![cfg.env.describe()];
    facts.extend(keyless.iter().cloned());
    facts.extend(unseen(cfg));
    let mut changed = Vec::new();
    for r in &cfg.env_refs {
        if let (Some(old), Some(new)) = (c.gw.memory.env.get(&r.name), r.fingerprint)
            && *old != new
            && !changed.contains(&r.name)
        {
            changed.push(r.name.clone());
            facts.push(format!("{}: was {old} when the proxy last matched, now {new} (line {})", r.name, r.line));
        }
    }
    if !changed.is_empty() {
        Finding::warn(format!(
            "changed since the last match: {} — the proxy reads its environment only at start",
            changed.join(", ")
        ))
        .facts(facts)
    } else if let Some(first) = keyless.first() {
        Finding::warn(first.clone()).facts(facts)
    } else if c.gw.memory.env.is_empty() {
        let state = |r: &crate::gateway::litellm::config_file::EnvRef| match (&r.unknown, r.set) {
            (Some(_), _) => "not visible here".to_owned(),
            (None, true) => "set".to_owned(),
            (None, false) => "NOT SET in the proxy".to_owned(),
        };
        Finding::unknown("no earlier match remembered to compare the environment with")
            .facts(cfg.env_refs.iter().map(|r| format!("{} ({}): {}", r.name, r.field, state(r))))
            .facts(facts)
    } else {
        Finding::ok("environment keys unchanged since the proxy last matched").facts(facts)
    }
}

pub fn preflight(c: &Ctx<'_>) -> Finding {
    if c.gw.kind() == GatewayKind::NewApi {
        return Finding::na("New API has no config file to check before a restart");
    }
    let cfg = match c.gw.local.proxy_config() {
        None => return Finding::unknown("config_file not set: cannot check that a restart would boot"),
        Some(Err(e)) => return Finding::fail(format!("the next restart will fail: {e}")),
        Some(Ok(cfg)) => cfg,
    };
    // Measured on 1.106.12: an unset os.environ/ name does not stop the boot
    // (the deployment loads with None); only the master-key check does.
    let mut problems = cfg.boot_problems();
    if let Some(v) = &c.gw.local.validate
        && !v.ok
    {
        problems.push(format!("validate_command failed: {}", v.output.lines().last().unwrap_or("")));
    }
    let mut facts = vec![format!("{} deployments parse", cfg.deployments.len())];
    if cfg.files.len() > 1 {
        facts.push(format!("{} files read (include:)", cfg.files.len()));
    }
    if cfg.weak_master_key_override {
        facts.push(
            "dangerously_permit_weak_or_unset_master_key is on: the boot check is bypassed (local development only)"
                .into(),
        );
    }
    if !problems.is_empty()
        && cfg.env.whole
        && matches!(cfg.master_key, MasterKeyVerdict::NotSet { .. })
        && matches!(c.gw.auth(), Some(crate::gateway::AuthState::Ok))
    {
        problems.push(format!(
            "the running proxy accepted gatewatch's credential, so its environment has a master key now: check that {} is the proxy's whole environment",
            cfg.env.source.describe()
        ));
    }
    let unknowns = cfg.boot_unknowns();
    let keyless = keyless(cfg, c.gw);
    if !problems.is_empty() {
        return Finding::fail(format!("the next restart will fail: {}", problems[0]))
            .facts(problems.into_iter().skip(1))
            .facts(facts);
    }
    facts.extend(unseen(cfg).into_iter().map(|u| format!("{u}: the proxy boots either way")));
    if let Some(first) = unknowns.first().filter(|_| matches!(cfg.master_key, MasterKeyVerdict::Unknown { .. })) {
        return Finding::unknown(format!(
            "the file parses, but the boot check depends on what gatewatch cannot see: {first}"
        ))
        .fact(cfg.env.describe())
        .facts(facts);
    }
    let f = if keyless.is_empty() {
        Finding::ok("the file on disk parses and passes LiteLLM's boot check")
    } else {
        Finding::warn(format!("the proxy would boot, but {}", keyless[0])).facts(keyless.into_iter().skip(1))
    };
    f.facts(unknowns).facts(facts)
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
        Section::Failed(e) if unreadable(e) => Finding::fail(format!("cache state unreadable: {e}")),
        Section::Failed(e) => Finding::unknown(format!("cache state unreadable: {e}")),
        Section::NotLoaded => Finding::unknown("cache state not loaded"),
    }
}
