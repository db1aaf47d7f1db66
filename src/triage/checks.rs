//! The registry of evidence checks. Each check is a pure function of what the
//! adapters gathered about one gateway; the tree references them by id.

mod cost;
mod keys;
mod limited;
mod models;
mod newapi;
mod reach;
mod replicas;
mod security;
mod stream;
pub mod traffic;

use super::evidence::{Ctx, Finding};

/// A check: id, a one-line title, and the function.
pub struct CheckDef {
    pub id: &'static str,
    pub title: &'static str,
    pub run: fn(&Ctx<'_>) -> Finding,
}

pub const ALL: &[CheckDef] = &[
    CheckDef { id: "gateway-reachable", title: "Every replica answers its liveness check", run: reach::reachable },
    CheckDef { id: "admin-auth", title: "The admin credential is accepted", run: reach::admin_auth },
    CheckDef {
        id: "replica-agreement",
        title: "Replicas agree (version, deployments, keys)",
        run: reach::replica_agreement,
    },
    CheckDef { id: "model-name-mismatch", title: "Client model names are served", run: models::name_mismatch },
    CheckDef {
        id: "newapi-mapping-target",
        title: "Model mappings point at served models",
        run: models::mapping_target,
    },
    CheckDef { id: "newapi-all-disabled", title: "Every model has an enabled channel", run: newapi::all_disabled },
    CheckDef { id: "fallback-cost", title: "Fallback hops cost < 3x the primary", run: cost::fallback_cost },
    CheckDef { id: "retries-multiplier", title: "Retries do not multiply paid calls", run: cost::retries },
    CheckDef {
        id: "fallback-live",
        title: "Live: each alias is served by its own deployment",
        run: cost::fallback_live,
    },
    CheckDef { id: "health-check-cost", title: "No paid health checks on a timer", run: cost::health_checks },
    CheckDef { id: "key-drift", title: "The running gateway holds the config file's keys", run: replicas::drift },
    CheckDef {
        id: "config-newer-than-process",
        title: "The process started after the last config edit",
        run: keys::process_age,
    },
    CheckDef { id: "env-key-changed", title: "os.environ keys unchanged since the last match", run: keys::env_changed },
    CheckDef { id: "restart-preflight", title: "A restart would bring the gateway back", run: keys::preflight },
    CheckDef { id: "response-cache", title: "What a cache purge would clear", run: keys::response_cache },
    CheckDef { id: "stream-probe", title: "A streamed response arrives whole", run: stream::probe },
    CheckDef { id: "nginx-lint", title: "Nginx passes server-sent events through", run: stream::nginx_lint },
    CheckDef { id: "cloudflare-timeout", title: "No 100 s Cloudflare limit on the path", run: stream::cloudflare },
    CheckDef {
        id: "newapi-weight-starvation",
        title: "No weight-0 channel starved beside weighted ones",
        run: newapi::weight_starvation,
    },
    CheckDef {
        id: "newapi-top-priority",
        title: "The top-priority channel of each model works",
        run: newapi::top_priority,
    },
    CheckDef { id: "newapi-group-mismatch", title: "Channels serve the users' group", run: newapi::group_mismatch },
    CheckDef {
        id: "newapi-balance-disabled",
        title: "No auto-disabled channel with balance > 0",
        run: newapi::balance_disabled,
    },
    CheckDef { id: "master-key", title: "Master key strong, no weak-key override", run: security::master_key },
    CheckDef { id: "admin-ui-exposed", title: "Admin UI not exposed", run: security::admin_ui },
    CheckDef { id: "plain-keys-in-git", title: "No plain keys in a config file under git", run: security::plain_keys },
    CheckDef { id: "plain-http", title: "TLS to non-loopback gateways", run: security::plain_http },
    CheckDef { id: "key-budgets", title: "Budgets or rate limits are set", run: security::budgets },
    CheckDef {
        id: "live-errors",
        title: "Live: no deployment is failing real requests now",
        run: traffic::live_errors,
    },
];

/// Checks answered by an operator's probe rather than by polling: their
/// results age (see `evidence::evaluate`).
const PROBES: [&str; 2] = ["fallback-live", "stream-probe"];

/// The questions a check answers separately, for tree references
/// `check#question` (validated when the tree loads).
pub const ASPECTS: &[(&str, &[&str])] = &[
    ("gateway-reachable", &["down", "proxy-page", "rate-limited"]),
    ("model-name-mismatch", &["alias", "prefix"]),
    ("key-drift", &["replicas"]),
    ("live-errors", &traffic::CLASSES),
];

pub fn is_probe(id: &str) -> bool {
    PROBES.contains(&id)
}

/// Is `check#question` (or a plain check id) something a check answers?
pub fn known_reference(r: &str) -> bool {
    match r.split_once('#') {
        None => find(r).is_some(),
        Some((id, q)) => find(id).is_some() && ASPECTS.iter().any(|(c, qs)| *c == id && qs.contains(&q)),
    }
}

pub fn find(id: &str) -> Option<&'static CheckDef> {
    ALL.iter().find(|c| c.id == id)
}

/// True for loopback hosts (127.0.0.0/8, ::1, localhost).
pub fn is_loopback_url(url: &str) -> bool {
    reqwest::Url::parse(url).ok().and_then(|u| u.host_str().map(str::to_owned)).is_some_and(|h| {
        let h = h.trim_start_matches('[').trim_end_matches(']');
        h == "localhost" || h == "::1" || h.starts_with("127.")
    })
}
