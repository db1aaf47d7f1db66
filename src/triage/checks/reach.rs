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
    let f = if up == total && flapping == 0 {
        Finding::ok(if total == 1 { "the gateway answers".to_owned() } else { format!("all {total} replicas answer") })
    } else if up == 0 {
        Finding::fail(format!("no replica answers ({total} tried)"))
    } else if up < total {
        Finding::warn(format!("{} of {total} replicas down", total - up))
    } else {
        Finding::warn(format!("{flapping} replica(s) flapping between up and down"))
    };
    let mut f = f.facts(facts);
    // Each question on its own: is anything down (refused, timeout), and is
    // an HTML error page from a proxy in front what comes back?
    let errors: Vec<&GatewayError> =
        g.replicas.iter().filter_map(|r| r.last.as_ref().and_then(|l| l.as_ref().err())).collect();
    let pages = errors.iter().filter(|e| matches!(e, GatewayError::Html { .. })).count();
    let silent = errors.len() - pages;
    let (down, down_why) = match silent {
        0 => (Verdict::Ok, "every replica's address answers".to_owned()),
        n if n == total => (Verdict::Fail, format!("nothing answers on {n} replica(s)")),
        n => (Verdict::Warn, format!("{n} of {total} replica(s) do not answer")),
    };
    let (page, page_why) = match pages {
        0 => (Verdict::Ok, "no HTML error page came back".to_owned()),
        n if n == total => (Verdict::Fail, format!("an HTML error page comes back from {n} replica(s)")),
        n => (Verdict::Warn, format!("an HTML error page comes back from {n} of {total} replica(s)")),
    };
    f = f.aspect("down", down, down_why).aspect("proxy-page", page, page_why);
    if let Some(e) = &g.discovery_error {
        f = f.fact(format!("replica discovery: {e}"));
    }
    f
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
            Finding::unknown("the admin endpoints did not answer, so the credential could not be checked")
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
            let mut ids: Vec<String> = deps.iter().map(|d| d.id.clone()).collect();
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
        let drift = match r.drift_clean() {
            Some(true) => "keys match the file",
            Some(false) => "DRIFT",
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
