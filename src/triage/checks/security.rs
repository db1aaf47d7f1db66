//! The pre-launch security checklist.

mod newapi;

use crate::config::GatewayKind;
use crate::gateway::litellm::config_file::MasterKeyVerdict;
use crate::secret::Fingerprint;
use crate::triage::checks::is_loopback_url;
use crate::triage::evidence::{Ctx, Finding};

pub fn master_key(c: &Ctx<'_>) -> Finding {
    if c.gw.kind() == GatewayKind::NewApi {
        return newapi::setup(c);
    }
    // What gatewatch itself was given (fingerprint only).
    let ours = c.gw.local.credential;
    let weak_ours = ours == Some(Fingerprint::of("sk-1234"));
    match c.gw.proxy_config() {
        Some(cfg) => {
            let mut f = match (&cfg.master_key, cfg.weak_master_key_override) {
                (MasterKeyVerdict::Safe { fingerprint }, false) => {
                    Finding::ok(format!("master key set ({fingerprint}), no weak-key override"))
                }
                (MasterKeyVerdict::Safe { .. }, true) => {
                    Finding::fail("dangerously_permit_weak_or_unset_master_key is set: remove it")
                }
                (MasterKeyVerdict::Unknown { source, why }, _) => Finding::unknown(format!(
                    "the master key comes from the proxy's environment, which gatewatch cannot see ({source}: {why})"
                )),
                (v, true) => {
                    Finding::fail(format!("{} and the weak-key override is on", v.problem().unwrap_or_default()))
                }
                (v, false) => {
                    Finding::fail(format!("{}: LiteLLM will refuse to boot", v.problem().unwrap_or_default()))
                }
            };
            if weak_ours {
                f = Finding::fail("gatewatch's credential is the public default sk-1234").facts(f.facts);
            }
            f
        }
        None if weak_ours => Finding::fail("the master key is the public default sk-1234"),
        None => Finding::unknown("config_file not set: the master key settings are not visible"),
    }
}

pub fn admin_ui(c: &Ctx<'_>) -> Finding {
    if c.gw.kind() == GatewayKind::NewApi {
        return newapi::console(c);
    }
    if c.gw.kind() == GatewayKind::LiteLlm
        && let Some(cfg) = c.gw.proxy_config()
        && cfg.ui_disabled
    {
        return Finding::ok("the admin UI is disabled (DISABLE_ADMIN_UI)");
    }
    let exposed: Vec<(String, String)> =
        c.gw.replicas
            .iter()
            .filter_map(|r| r.last_ok.as_ref().and_then(|s| s.admin_ui.clone()).map(|p| (r.url.clone(), p)))
            .collect();
    if exposed.is_empty() {
        return if c.gw.primary().is_some() {
            Finding::ok("no admin UI answered from here")
        } else {
            Finding::unknown("no data yet")
        };
    }
    let public: Vec<&(String, String)> = exposed.iter().filter(|(u, _)| !is_loopback_url(u)).collect();
    let facts = exposed.iter().map(|(u, p)| format!("{u}{p} answers without credentials (login page)"));
    if public.iter().any(|(u, _)| u.starts_with("http://")) {
        Finding::fail("the admin UI is served over plain http on a non-loopback address").facts(facts)
    } else if !public.is_empty() {
        Finding::warn("the admin UI is reachable on a non-loopback address: keep it on a private network or behind SSO")
            .facts(facts)
    } else {
        Finding::ok("the admin UI answers on loopback only").facts(facts)
    }
}

pub fn plain_keys(c: &Ctx<'_>) -> Finding {
    if c.gw.kind() == GatewayKind::NewApi {
        return Finding::na("New API keeps channel keys in its database");
    }
    let Some(cfg) = c.gw.proxy_config() else {
        return Finding::unknown("config_file not set");
    };
    let plain: Vec<String> = cfg
        .deployments
        .iter()
        .filter(|d| d.plain_key)
        .map(|d| format!("{} (line {}): api_key written in the file", d.model_name, d.line))
        .collect();
    if plain.is_empty() {
        return Finding::ok("every key comes from os.environ/");
    }
    match c.gw.local.litellm().and_then(|l| l.config_git_root.as_ref()) {
        Some(root) => Finding::fail(format!(
            "{} plain key(s) in a config file inside the git work tree {}",
            plain.len(),
            root.display()
        ))
        .facts(plain),
        None => Finding::warn(format!("{} plain key(s) in the config file (not in a git work tree)", plain.len()))
            .facts(plain),
    }
}

pub fn plain_http(c: &Ctx<'_>) -> Finding {
    let bad: Vec<&str> =
        c.gw.replicas
            .iter()
            .map(|r| r.url.as_str())
            .chain(std::iter::once(c.gw.spec.url.as_str()))
            .filter(|u| u.starts_with("http://") && !is_loopback_url(u))
            .collect();
    if bad.is_empty() {
        Finding::ok("loopback or https only")
    } else {
        let mut b = bad.clone();
        b.sort_unstable();
        b.dedup();
        Finding::fail("plain http to a non-loopback gateway: the admin credential crosses the network in clear")
            .facts(b.into_iter().map(str::to_owned))
    }
}

pub fn budgets(c: &Ctx<'_>) -> Finding {
    if c.gw.kind() == GatewayKind::NewApi {
        return Finding::unknown("New API token and user quotas are not listed through the admin channel API");
    }
    let Some(cfg) = c.gw.proxy_config() else {
        return Finding::unknown("config_file not set");
    };
    let limited = cfg.deployments.iter().filter(|d| d.rpm.is_some() || d.tpm.is_some()).count();
    let mut facts = Vec::new();
    if !cfg.database_url_set {
        facts.push("no DATABASE_URL: virtual keys, their budgets and rate limits need a database".to_owned());
    }
    facts.push(format!("{limited} of {} deployments have rpm/tpm limits", cfg.deployments.len()));
    match cfg.max_budget {
        Some(b) => Finding::ok(format!("proxy-wide max_budget ${b:.2}")).facts(facts),
        None if limited > 0 => Finding::warn("no max_budget; only some deployments are rate limited").facts(facts),
        None => Finding::warn("no budget and no rate limit: a runaway client spends without bound").facts(facts),
    }
}
