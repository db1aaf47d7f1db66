//! Did the purge work? What can be known is checked — the cache answers
//! afterwards, and the Redis behind it holds fewer keys (when gatewatch can
//! reach that Redis the way the proxy does) — and what cannot is said: each
//! worker's in-memory copies, and that a purge never changes keys (so a
//! proxy that still drifts is not "verified").

use std::time::Duration;

use super::{Expect, Verification, expected_after_restart};
use crate::config::{GatewayKind, GatewaySpec};
use crate::gateway::litellm::drift::{self, MatchMemory};
use crate::gateway::litellm::redis_probe;
use crate::gateway::{Gateway, ReplicaTarget};

/// The Redis key count of the response cache, when the proxy's config names
/// a Redis cache: `Err(why)` when it cannot be read from here.
pub async fn redis_keys(spec: &GatewaySpec) -> Option<Result<u64, String>> {
    if spec.kind != GatewayKind::LiteLlm {
        return None;
    }
    let Expect::Ids(cfg) = expected_after_restart(spec).await else { return None };
    match cfg.redis.as_ref()? {
        Ok(target) => Some(redis_probe::dbsize(target, spec.timeout.min(Duration::from_secs(5))).await),
        Err(why) => Some(Err(why.clone())),
    }
}

/// Verify a purge of the response cache on `target`; `before` is the Redis
/// key count taken just before it.
pub async fn after_purge(
    gw: &dyn Gateway,
    target: &ReplicaTarget,
    before: Option<Result<u64, String>>,
) -> Verification {
    let spec = gw.spec().clone();
    let mut detail = Vec::new();
    let mut ok = true;
    let mut drifting = None;
    // Counted first: the poll below itself writes to that Redis (health and rate-limit keys).
    let after = match &before {
        Some(Ok(_)) => redis_keys(&spec).await,
        _ => None,
    };
    match gw.poll(target).await {
        Ok(s) => {
            match s.cache.ok() {
                Some(c) if c.healthy => detail.push(format!("the response cache answers ({} healthy)", c.kind)),
                Some(c) => {
                    ok = false;
                    detail.push(format!("the response cache is UNHEALTHY after the purge ({}: {})", c.kind, c.detail));
                }
                None => {
                    ok = false;
                    detail.push(format!("cache state: {}", s.cache.describe().unwrap_or_default()));
                }
            }
            if let (Expect::Ids(cfg), Some(deps)) = (expected_after_restart(&spec).await, s.deployments.ok()) {
                let rows = drift::compare(&cfg, deps, &MatchMemory::default());
                drifting = rows.iter().find(|r| r.state.is_problem()).map(drift::DriftRow::summary);
            }
        }
        Err(e) => {
            ok = false;
            detail.push(format!("re-read failed: {e}"));
        }
    }
    let redis = match (&before, &after) {
        (None, _) => "Redis key count not checked: the config file names no Redis response cache".to_owned(),
        (Some(Err(why)), _) => format!("Redis not readable from here ({why}): whether it emptied cannot be checked"),
        (Some(Ok(0)), _) => "Redis held no keys before the purge: nothing was cached".to_owned(),
        (Some(Ok(b)), Some(Ok(a))) if a < b => format!("Redis keys: {b} before the purge, {a} after"),
        (Some(Ok(b)), Some(Ok(a))) => {
            ok = false;
            format!("Redis still holds {a} keys ({b} before): the purge did not empty it")
        }
        (Some(Ok(b)), Some(Err(why))) => format!("Redis held {b} keys before; not readable after ({why})"),
        (Some(Ok(b)), None) => format!("Redis held {b} keys before; not read after"),
    };
    detail.push(redis);
    detail.push(
        "not checkable: each worker keeps its in-memory copies for up to 10 minutes (a restart clears them)".into(),
    );
    let summary = match (&drifting, ok) {
        (Some(d), _) => {
            ok = false;
            detail.push(format!("still drifting: {d}"));
            "the cache was purged, but the proxy still runs other keys than the file: a purge never changes keys — restart (R)"
                .to_owned()
        }
        (None, true) => "verified: the cache answers after the purge".to_owned(),
        (None, false) => "NOT verified".to_owned(),
    };
    Verification { ok, summary, detail, behind: Vec::new() }
}
