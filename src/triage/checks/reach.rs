//! Reachability, admin auth, replica agreement.

use crate::config::duration::human;
use crate::gateway::{AuthState, GatewayError};
use crate::triage::evidence::{Ctx, Finding, Verdict};

pub fn reachable(c: &Ctx<'_>) -> Finding {
    let g = c.gw;
    if !g.ever_polled() {
        return Finding::unknown("not polled yet");
    }
    let total = g.replicas.len();
    let up = g.up_count();
    let facts: Vec<String> = g
        .replicas
        .iter()
        .map(|r| match (&r.last, r.is_flapping()) {
            (Some(Ok(s)), flap) => {
                format!("{}: up, {}{}", r.url, human(s.latency), if flap { ", flapping" } else { "" })
            }
            (Some(Err(e)), flap) => format!(
                "{}: {e}{}{}",
                r.url,
                e.hint().map(|h| format!(" — {h}")).unwrap_or_default(),
                if flap { " (flapping)" } else { "" }
            ),
            (None, _) => format!("{}: not polled yet", r.url),
        })
        .collect();
    let flapping = g.replicas.iter().filter(|r| r.is_flapping()).count();
    let limited = g.rate_limited_count();
    let f = if up == total && flapping == 0 {
        Finding::ok(if total == 1 { "the gateway answers".to_owned() } else { format!("all {total} replicas answer") })
            .facts(facts)
    } else if limited > 0 && up + limited == total {
        super::limited::finding(c, facts)
    } else if up == 0 {
        Finding::fail(format!("no replica answers ({total} tried)")).facts(facts)
    } else if up < total {
        Finding::warn(format!("{} of {total} replicas down", total - up)).facts(facts)
    } else {
        Finding::warn(format!("{flapping} replica(s) flapping between up and down")).facts(facts)
    };
    let mut f = questions(g, f);
    if let Some(e) = &g.discovery_error {
        f = f.fact(format!("replica discovery: {e}"));
    }
    f
}

/// Each question on its own: does anything not answer at all (refused,
/// timeout), does an HTML error page from a proxy in front come back, does
/// the server refuse with 429?
fn questions(g: &crate::fleet::GatewayObs, f: Finding) -> Finding {
    let total = g.replicas.len();
    let errors: Vec<&GatewayError> =
        g.replicas.iter().filter_map(|r| r.last.as_ref().and_then(|l| l.as_ref().err())).collect();
    let count = |pred: fn(&GatewayError) -> bool| errors.iter().filter(|e| pred(e)).count();
    let pages = count(|e| matches!(e, GatewayError::Html { .. }));
    let limited = count(|e| matches!(e, GatewayError::RateLimited { .. }));
    let silent = errors.len() - pages - limited;
    let judge = |n: usize, what: &str, none: &str| match n {
        0 => (Verdict::Ok, none.to_owned()),
        n if n == total => (Verdict::Fail, format!("{what} on {n} replica(s)")),
        n => (Verdict::Warn, format!("{what} on {n} of {total} replica(s)")),
    };
    let (down, down_why) = judge(silent, "nothing answers", "every replica's address answers");
    let (page, page_why) = judge(pages, "an HTML error page comes back", "no HTML error page came back");
    let (lim, lim_why) = judge(limited, "the server refuses with HTTP 429", "no HTTP 429 from the server");
    f.aspect("down", down, down_why).aspect("proxy-page", page, page_why).aspect("rate-limited", lim, lim_why)
}

pub fn admin_auth(c: &Ctx<'_>) -> Finding {
    match c.gw.auth() {
        None => Finding::unknown("no replica answered yet"),
        Some(AuthState::Ok) => Finding::ok(format!("the credential in ${} is accepted", c.gw.spec.credential_env)),
        Some(AuthState::Missing { env }) => {
            Finding::fail(format!("${env} is not set: only unauthenticated endpoints are readable"))
                .fact(format!("export {env}=… in the shell that runs gatewatch (never on the command line)"))
        }
        Some(AuthState::Rejected { message, hint }) => {
            Finding::fail(format!("credential refused: {message}")).fact(hint.clone())
        }
        Some(AuthState::NotChecked) => {
            // Answers that came back but cannot be read are a failure, not a shrug.
            let unreadable = super::keys::unreadable_deployments(c.gw);
            match unreadable.first() {
                Some(first) => Finding::fail(format!("the admin API answers, but gatewatch cannot read it: {first}"))
                    .facts(unreadable.iter().skip(1).cloned()),
                None => Finding::unknown("the admin endpoints did not answer, so the credential could not be checked"),
            }
        }
    }
}

pub fn replica_agreement(c: &Ctx<'_>) -> Finding {
    let g = c.gw;
    if g.replicas.len() < 2 {
        return Finding::na("one replica configured: nothing to compare (list replicas: to check each)");
    }
    let mut problems = Vec::new();
    if g.versions_disagree() {
        let v: Vec<String> = g
            .replicas
            .iter()
            .map(|r| {
                format!(
                    "{} {}",
                    r.url,
                    r.last_ok.as_ref().and_then(|s| s.version.clone()).unwrap_or_else(|| "?".into())
                )
            })
            .collect();
        problems.push(format!("versions differ: {}", v.join(", ")));
    }
    let mut id_sets: Vec<(String, Vec<String>)> = g
        .replicas
        .iter()
        .filter_map(|r| {
            let deps = r.last_ok.as_ref()?.deployments.ok()?;
            let mut ids: Vec<String> = deps.iter().map(|d| d.id.to_string()).collect();
            ids.sort();
            Some((r.url.clone(), ids))
        })
        .collect();
    id_sets.dedup_by(|a, b| a.1 == b.1);
    if id_sets.len() > 1 {
        problems.push(format!("{} different deployment sets across replicas", id_sets.len()));
    }
    if let Some(r) = g.drift_rollup()
        && r.compared > 1
        && r.clean != 0
        && r.clean != r.compared
    {
        problems.push(r.describe());
    }
    let facts = g.replicas.iter().map(|r| {
        let drift = match r.agreement() {
            Some(crate::gateway::litellm::drift::Agreement::Clean) => "keys match the file",
            Some(crate::gateway::litellm::drift::Agreement::Drift) => "DRIFT",
            Some(crate::gateway::litellm::drift::Agreement::Inconclusive) => "no drift seen (some ids prove nothing)",
            None => "not compared",
        };
        format!("{}: {}, {drift}", r.url, if r.is_up() { "up" } else { "down" })
    });
    if problems.is_empty() {
        Finding::ok(format!("{} replicas agree", g.replicas.len())).facts(facts)
    } else {
        Finding::fail(format!("replicas disagree: {}", problems.join("; "))).facts(facts)
    }
}
