//! A gateway that refuses with HTTP 429 is not down: it answered, and said
//! "too many requests". New API's limit is per client address and shared by
//! every client there, so gatewatch's own count can be far below it when the
//! 429 comes (measured: 58 of 180 while the server refused).

use crate::config::GatewayKind;
use crate::config::duration::human;
use crate::triage::evidence::{Ctx, Finding};

/// The reachability finding when every replica that did not answer with data
/// answered 429: a failure (no fresh data) that names the 429s, never "down".
pub fn finding(c: &Ctx<'_>, replica_facts: Vec<String>) -> Finding {
    let g = c.gw;
    let (total, up, limited) = (g.replicas.len(), g.up_count(), g.rate_limited_count());
    let shared = g.kind() == GatewayKind::NewApi;
    let tail = if shared { " — its limit is per client address, shared by every client there" } else { "" };
    let mut f = if up == 0 {
        Finding::fail(format!("rate limited by the server: HTTP 429 from {limited} of {total} replica(s){tail}"))
    } else {
        Finding::warn(format!("{limited} of {total} replicas rate limited (HTTP 429){tail}"))
    }
    .facts(replica_facts);
    if let Some(b) = &g.budget {
        if b.refused > 0 {
            f = f.fact(format!(
                "the server refused {} request(s) in the last {}; gatewatch's own accepted requests in that window: {} of {}{}",
                b.refused,
                human(b.window),
                b.used,
                b.limit,
                if shared && b.used < b.limit { " (the rest went to other clients at this address)" } else { "" }
            ));
        }
        if let Some(left) = b.resume_at.and_then(|r| r.duration_since(c.now).ok()) {
            f = f.fact(format!("gatewatch backs off and sends nothing for {}", human(left)));
        }
    }
    f = f.fact(match g.data_at().and_then(|t| c.now.duration_since(t).ok()) {
        Some(age) => format!("the data shown is the last good poll, {} old", human(age)),
        None => "no data was read before the 429s: nothing to show yet".to_owned(),
    });
    if shared {
        let spec = &g.spec;
        f = f.fact(format!(
            "New API counts every /api request per client IP: GLOBAL_API_RATE_LIMIT per GLOBAL_API_RATE_LIMIT_DURATION \
             (180 per 180 s by default; gatewatch's config says {} per {}, and gatewatch uses at most {} of them, \
             leaving {} to others: rate_limit, rate_limit_window, rate_reserve), and the console's tabs, scripts and \
             other monitors at this address count too: find them, raise the limit on the server (and rate_limit here), \
             or poll less often (refresh: in gatewatch's config)",
            spec.rate_limit,
            human(spec.rate_limit_window),
            spec.rate_limit.saturating_sub(spec.rate_reserve),
            spec.rate_reserve
        ));
    }
    f
}
