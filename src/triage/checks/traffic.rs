//! Live traffic: which deployments fail real requests right now, since when,
//! and with what error (LiteLLM `/metrics/`, kept in [`crate::traffic`]).
//!
//! A deployment fails when at least half of its requests in the last five
//! minutes failed (and at least three did), and warns from 5 %. Without an earlier sample (the first
//! look) only the proxy's own verdict counts: the counts are everything since
//! its process started, and fail only when LiteLLM itself marks the
//! deployment in outage (`litellm_deployment_state` ≥ 1). No request in the
//! window is no evidence: unknown, never ok.

use crate::config::GatewayKind;
use crate::gateway::Section;
use crate::traffic::Window;
use crate::triage::evidence::{Ctx, Finding, Verdict};

/// Fewer failures than this in the window warn, however high the share.
const MIN_FAILURES: f64 = 3.0;

/// The classes of error the tree follows to a cause.
pub const CLASSES: [&str; 4] = ["auth", "not-found", "timeout", "other"];

/// Which class an error key (`"<status> <exception class>"`) belongs to.
pub fn class_of(error: &str) -> &'static str {
    let (status, class) = error.split_once(' ').unwrap_or((error, ""));
    let class = class.to_ascii_lowercase();
    match status {
        "401" | "403" => "auth",
        "404" => "not-found",
        "408" | "504" => "timeout",
        _ if class.contains("authentication") || class.contains("permissiondenied") => "auth",
        _ if class.contains("notfound") => "not-found",
        _ if class.contains("timeout") || class.contains("apiconnectionerror") => "timeout",
        _ => "other",
    }
}

fn state_word(s: Option<u8>) -> &'static str {
    match s {
        Some(0) => "healthy",
        Some(1) => "partial outage",
        Some(2) => "complete outage",
        _ => "state not reported",
    }
}

/// How one deployment's window reads (the table's `live:` filter shares it).
pub fn verdict_of(w: &Window) -> Verdict {
    if w.failures <= 0.0 {
        return if w.requests > 0.0 { Verdict::Ok } else { Verdict::Unknown };
    }
    let ratio = w.error_ratio();
    if w.since_start {
        // Counts since the process started are not "now": LiteLLM's own state decides.
        return match w.state {
            Some(s) if s >= 1 && ratio >= 0.5 && w.failures >= MIN_FAILURES => Verdict::Fail,
            Some(s) if s >= 1 => Verdict::Warn,
            _ => Verdict::Unknown,
        };
    }
    // One or two failed requests of a quiet deployment warn; a pattern fails.
    if ratio >= 0.5 && w.failures >= MIN_FAILURES {
        Verdict::Fail
    } else if ratio >= 0.05 || ratio >= 0.5 {
        Verdict::Warn
    } else {
        Verdict::Ok
    }
}

fn describe(alias: &str, id: &str, w: &Window) -> String {
    let span = if w.since_start {
        "since the proxy started".to_owned()
    } else if w.restarted {
        format!("since the proxy restarted (within {:.0} min)", w.minutes())
    } else {
        format!("in {:.1} min", w.minutes())
    };
    let rate = w.failures_per_min().map(|r| format!(", {r:.1} failures/min")).unwrap_or_default();
    let dominant = w.dominant_error().map(|(e, n)| format!(" · mostly {e} ×{n:.0}")).unwrap_or_default();
    let before = w
        .before_restart
        .map(|(req, fail)| format!(" · before the restart: {fail:.0} of {req:.0} failed"))
        .unwrap_or_default();
    let span = if (w.since_start || w.appeared) && w.before_restart.is_some() {
        "since the proxy restarted with it".to_owned()
    } else if w.appeared {
        format!("since it appeared (a restart or reload loaded it, within {:.0} min)", w.minutes())
    } else {
        span
    };
    format!(
        "{alias} ({}): {:.0} of {:.0} request(s) failed ({:.0}%) {span}{rate}{dominant} · {}{before}",
        &id[..id.len().min(8)],
        w.failures,
        w.requests,
        w.error_ratio() * 100.0,
        state_word(w.state)
    )
}

pub fn live_errors(c: &Ctx<'_>) -> Finding {
    if c.gw.kind() == GatewayKind::NewApi {
        return newapi_live(c);
    }
    let Some(primary) = c.gw.primary() else {
        return Finding::unknown("no data from the gateway yet");
    };
    let from_prometheus = c.gw.traffic_from_prometheus();
    // Prometheus configured and not usable: the replicas' own /metrics/, and why.
    let fallback =
        c.gw.prometheus
            .as_ref()
            .filter(|_| !from_prometheus)
            .map(|p| format!("{}; read each replica's /metrics/ instead", p.describe()));
    let unknown = |why: String| match &fallback {
        Some(f) => Finding::unknown(why).fact(f.clone()),
        None => Finding::unknown(why),
    };
    if !from_prometheus {
        match &primary.traffic {
            Section::Ok(_) => {}
            Section::Unavailable(why) => return unknown(why.clone()),
            Section::Failed(e) => return unknown(format!("/metrics/ not readable: {e}")),
            Section::NotLoaded => return unknown("/metrics/ not read yet".into()),
        }
    }
    // The window ends at the newest sample (the clock of the poll that read
    // it), and says how old that is.
    let Some(newest) = c.gw.traffic.newest() else {
        return unknown("/metrics/ read, no sample kept yet".into());
    };
    let unscraped =
        c.gw.prometheus
            .as_ref()
            .filter(|_| from_prometheus)
            .and_then(|p| p.result.as_ref().ok())
            .map(|t| t.unscraped.clone())
            .unwrap_or_default();
    let mut rows: Vec<(Verdict, String, Window)> = Vec::new();
    for d in c.gw.deployments() {
        if let Some(w) = c.gw.live.get(d.id.as_str()).cloned() {
            rows.push((verdict_of(&w), describe(&d.name, &d.id, &w), w));
        }
    }
    let age = (crate::poller::unix_now(c.now) - newest).max(0);
    let first_look = rows.iter().all(|r| r.2.since_start);
    let mut f = if rows.is_empty() {
        Finding::unknown("no deployment has counted a request since the proxy started: nothing to judge yet")
    } else if rows.iter().all(|(v, _, w)| *v == Verdict::Unknown && w.requests <= 0.0) {
        Finding::unknown("no request reached any deployment in the last 5 min: nothing to judge yet")
    } else {
        let failing: Vec<&(Verdict, String, Window)> = rows.iter().filter(|r| r.0 == Verdict::Fail).collect();
        let warning: Vec<&(Verdict, String, Window)> = rows.iter().filter(|r| r.0 == Verdict::Warn).collect();
        if !failing.is_empty() {
            Finding::fail(format!(
                "{} deployment(s) failing live requests: {}",
                failing.len(),
                failing.iter().map(|r| r.1.split(" · ").next().unwrap_or_default()).collect::<Vec<_>>().join("; ")
            ))
        } else if !warning.is_empty() {
            Finding::warn(format!("{} deployment(s) failing some live requests", warning.len()))
        } else if rows.iter().any(|r| r.0 == Verdict::Ok) && !unscraped.is_empty() {
            // What Prometheus does not scrape is not seen: not OK.
            Finding::unknown(format!(
                "no live request failing on the replicas Prometheus scrapes; it does not scrape {}: their traffic is unknown (add them to its scrape config)",
                unscraped.join(", ")
            ))
        } else if rows.iter().any(|r| r.0 == Verdict::Ok) {
            let stopped = rows.iter().any(|r| r.2.before_restart.is_some_and(|(_, f)| f > 0.0));
            Finding::ok(if stopped {
                "no live request failing: the errors stopped after the restart".to_owned()
            } else if first_look {
                "no live request failed since the proxy started (a first look: no earlier sample yet)".to_owned()
            } else {
                "no live request failing in the last 5 min".to_owned()
            })
        } else {
            Finding::unknown("failures since the proxy started, and no earlier sample to tell whether they go on")
        }
    };
    rows.sort_by_key(|r| match r.0 {
        Verdict::Fail => 0,
        Verdict::Warn => 1,
        Verdict::Unknown => 2,
        _ => 3,
    });
    f = f.facts(rows.iter().take(12).map(|r| format!("{} {}", r.0.symbol(), r.1)));
    f = match (c.gw.prometheus.as_ref().filter(|_| from_prometheus), &fallback) {
        (Some(p), _) => f.fact(format!("{}; newest sample {age} s old", p.describe())),
        (None, Some(why)) => f.fact(format!("{why}; newest sample {age} s old")),
        (None, None) => f.fact(format!("from /metrics/, newest sample {age} s old")),
    };
    for class in CLASSES {
        let mine: Vec<&(Verdict, String, Window)> = rows
            .iter()
            .filter(|r| r.2.dominant_error().is_some_and(|(e, _)| class_of(e) == class) && r.0.points_here())
            .collect();
        let verdict = if f.verdict == Verdict::Unknown {
            Verdict::Unknown
        } else {
            mine.iter().map(|r| r.0).fold(Verdict::Ok, Verdict::worst)
        };
        let summary = if mine.is_empty() {
            format!("no live {class} errors")
        } else {
            mine.iter().map(|r| r.1.clone()).collect::<Vec<_>>().join("; ")
        };
        f = f.aspect(class, verdict, summary);
    }
    f
}

/// One New API channel over the span both logs cover.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChannelCount {
    pub name: String,
    pub failed: u32,
    /// Requests that succeeded (the consume log; 0 without it).
    pub ok: u32,
    /// Failures by `"<status> <model>"`.
    pub kinds: std::collections::BTreeMap<String, u32>,
}

impl ChannelCount {
    /// With rates (the consume log): fails from half of its requests (at
    /// least three), warns from 5 %; without: counts, 3 failures fail.
    pub fn verdict(&self, rates: bool) -> Verdict {
        if self.failed == 0 {
            return if self.ok > 0 { Verdict::Ok } else { Verdict::Unknown };
        }
        if !rates {
            return if f64::from(self.failed) >= MIN_FAILURES { Verdict::Fail } else { Verdict::Warn };
        }
        let ratio = f64::from(self.failed) / f64::from(self.failed + self.ok);
        if ratio >= 0.5 && f64::from(self.failed) >= MIN_FAILURES {
            Verdict::Fail
        } else if ratio >= 0.05 {
            Verdict::Warn
        } else {
            Verdict::Ok
        }
    }
}

/// New API's logs read together: the check and the table share it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChannelWindow {
    /// The span counted (unix seconds, the server's clock).
    pub from: i64,
    pub now: i64,
    /// A full page did not reach back five minutes: the span is shorter.
    pub capped: bool,
    /// The consume log is there: successes beside failures.
    pub rates: bool,
    pub channels: std::collections::BTreeMap<i64, ChannelCount>,
}

impl ChannelWindow {
    pub fn span(&self) -> String {
        if self.capped {
            format!("in the last {} s (the span the logs' newest 100 entries cover)", self.now - self.from)
        } else {
            "in 5 min".to_owned()
        }
    }
}

/// The error log's failures and, when there, the consume log's successes
/// per channel, over the last five minutes or the shorter span a full page
/// of either covers; `fallback_now` when the server sent no clock. `None`
/// without an error log.
pub fn channel_window(primary: &crate::gateway::ReplicaSnapshot, fallback_now: i64) -> Option<ChannelWindow> {
    let entries = primary.error_log.ok()?;
    // The logs' times are the server's: compare them with its own clock when
    // it said it (another host may run another clock), else ours.
    let now = primary.server_time.unwrap_or(fallback_now);
    let window_start = now - crate::traffic::WINDOW_SECS;
    // An empty consume log proves nothing (LogConsumeEnabled may be off).
    let consumed = primary.consume_log.ok().filter(|v| !v.is_empty());
    let full_from = |v: &[crate::gateway::ErrorLogEntry]| {
        (v.len() >= 100).then(|| v.iter().map(|e| e.at).min().unwrap_or(now)).filter(|o| *o > window_start)
    };
    let from = [Some(window_start), full_from(entries), consumed.and_then(|v| full_from(v))]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(window_start);
    let in_span = |e: &&crate::gateway::ErrorLogEntry| e.at >= from && e.at <= now + 60;
    let mut w =
        ChannelWindow { from, now, capped: from > window_start, rates: consumed.is_some(), ..Default::default() };
    for e in entries.iter().filter(in_span) {
        let ch = w.channels.entry(e.channel).or_default();
        if ch.name.is_empty() {
            ch.name.clone_from(&e.channel_name);
        }
        ch.failed += 1;
        let key = format!("{} {}", e.status.map_or_else(|| "?".to_owned(), |s| s.to_string()), e.model);
        *ch.kinds.entry(key).or_default() += 1;
    }
    for e in consumed.into_iter().flatten().filter(in_span) {
        let ch = w.channels.entry(e.channel).or_default();
        if ch.name.is_empty() {
            ch.name.clone_from(&e.channel_name);
        }
        ch.ok += 1;
    }
    Some(w)
}

/// New API: failed requests per channel from its error log (type 5, the
/// newest 100 entries, read every poll). The log has failures only, no
/// successes: counts, not rates. An empty log proves nothing (New API writes
/// it only with ERROR_LOG_ENABLED=true).
fn newapi_live(c: &Ctx<'_>) -> Finding {
    let Some(primary) = c.gw.primary() else {
        return Finding::unknown("no data from the gateway yet");
    };
    let entries = match &primary.error_log {
        Section::Ok(e) => e,
        Section::Unavailable(why) => return Finding::unknown(why.clone()),
        Section::Failed(e) => return Finding::unknown(format!("the error log is not readable: {e}")),
        Section::NotLoaded => {
            return Finding::unknown(match c.list_unread() {
                Some(why) => format!("{why}: the error log is read after the channel list"),
                None => "the error log is not read yet".to_owned(),
            });
        }
    };
    if entries.is_empty() {
        return Finding::unknown(
            "the error log is empty: New API writes it only with ERROR_LOG_ENABLED=true, so it proves nothing",
        );
    }
    let Some(w) = channel_window(primary, crate::poller::unix_now(c.now)) else {
        return Finding::unknown("the error log is not read");
    };
    let (now, capped, consumed) = (w.now, w.capped, w.rates.then_some(()));
    let span = w.span();
    let newest = entries.iter().map(|e| e.at).max().unwrap_or(now);
    let mut rows: Vec<(Verdict, String, &'static str)> = w
        .channels
        .iter()
        .filter(|(_, ch)| ch.failed > 0)
        .map(|(id, ch)| {
            let (top, top_n) = ch
                .kinds
                .iter()
                .max_by_key(|(k, n)| (**n, std::cmp::Reverse((*k).clone())))
                .map_or(("?", 0), |(k, n)| (k.as_str(), *n));
            let status = top.split_once(' ').map_or(top, |(s, _)| s);
            let class = class_of(&format!("{status} "));
            let mostly = format!("mostly HTTP {status} for {} ×{top_n}", top.split_once(' ').map_or("?", |(_, m)| m));
            let (name, n) = (&ch.name, ch.failed);
            let verdict = ch.verdict(w.rates);
            let text = if consumed.is_some() {
                let total = f64::from(n + ch.ok);
                let pct = f64::from(n) / total * 100.0;
                format!("#{id} {name}: {n} of {total:.0} request(s) failed ({pct:.0}%) {span} · {mostly}")
            } else {
                let at_least = if capped { "at least " } else { "" };
                format!("#{id} {name}: {at_least}{n} failed request(s) {span} · {mostly}")
            };
            (verdict, text, class)
        })
        .collect();
    rows.sort_by_key(|r| match r.0 {
        Verdict::Fail => 0,
        Verdict::Warn => 1,
        _ => 2,
    });
    let failing = rows.iter().filter(|r| r.0 == Verdict::Fail).count();
    let warning = rows.iter().filter(|r| r.0 == Verdict::Warn).count();
    let mut f = if failing > 0 {
        Finding::fail(format!(
            "{failing} channel(s) failing live requests: {}",
            rows.iter()
                .filter(|r| r.0 == Verdict::Fail)
                .map(|r| r.1.split(" · ").next().unwrap_or_default())
                .collect::<Vec<_>>()
                .join("; ")
        ))
    } else if warning > 0 {
        Finding::warn(format!("{warning} channel(s) failing some live requests {span}"))
    } else if !rows.is_empty() {
        Finding::ok(format!("{} channel(s) with a failed request, each a small share of its requests", rows.len()))
    } else {
        Finding::ok(format!("no failed request in the error log {span}"))
    };
    f = f.facts(rows.iter().take(12).map(|r| format!("{} {}", r.0.symbol(), r.1)));
    let clock =
        if primary.server_time.is_some() { "server clock" } else { "the server sent no Date: gatewatch's clock" };
    let consumed = primary.consume_log.ok().filter(|v| !v.is_empty());
    f = f.fact(match (consumed, &primary.consume_log) {
        (Some(ok), _) => format!(
            "from New API's logs: its newest {} error entries and newest {} consume entries (requests that succeeded), the newest {} s old ({clock}): rates",
            entries.len(),
            ok.len(),
            (now - newest).max(0)
        ),
        (None, consume) => format!(
            "from New API's error log: its newest {} entries, the newest {} s old ({clock}); failures only, so counts, not rates ({})",
            entries.len(),
            (now - newest).max(0),
            match consume {
                Section::Ok(_) => "the consume log is empty: LogConsumeEnabled may be off".to_owned(),
                Section::Failed(e) => format!("the consume log is not readable: {e}"),
                Section::Unavailable(why) => why.clone(),
                Section::NotLoaded => "the consume log is not read".to_owned(),
            }
        ),
    });
    for class in CLASSES {
        let verdict = rows.iter().filter(|r| r.2 == class).map(|r| r.0).fold(Verdict::Ok, Verdict::worst);
        let mine: Vec<String> = rows.iter().filter(|r| r.2 == class).map(|r| r.1.clone()).collect();
        let summary =
            if mine.is_empty() { format!("no live {class} errors in the error log") } else { mine.join("; ") };
        f = f.aspect(class, verdict, summary);
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    /// New API on another host whose clock runs an hour ahead: its log's
    /// times are compared with its own `Date`, not with ours (which made
    /// every recent failure look like the future, and the check a false OK).
    #[test]
    fn new_api_log_times_are_read_on_the_servers_clock() {
        use crate::config::{GatewayKind, GatewaySpec};
        use crate::gateway::{Deployment, ErrorLogEntry, ReplicaSnapshot};
        let ours = 1_800_000_000_i64;
        let theirs = ours + 3600;
        let spec = GatewaySpec::new("n", GatewayKind::NewApi, "http://127.0.0.1:3000");
        let mut gw = crate::fleet::GatewayObs::new(spec);
        let mut snap = ReplicaSnapshot::new(std::time::Duration::from_millis(1));
        snap.deployments = Section::Ok(std::sync::Arc::new(vec![Deployment::new("7", "openai-main")]));
        let entry = |ago: i64| ErrorLogEntry {
            channel: 7,
            channel_name: "openai-main".into(),
            at: theirs - ago,
            status: Some(401),
            model: "gpt-4o".into(),
        };
        snap.error_log = Section::Ok(vec![entry(10), entry(20), entry(30)]);
        snap.server_time = Some(theirs);
        let at = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(u64::try_from(ours).unwrap());
        let report = crate::fleet::PollReport::new(0, at, vec![("http://127.0.0.1:3000".into(), Ok(snap))]);
        gw.apply_poll(report, &mut crate::timeline::Timeline::default(), 0);
        let f = live_errors(&Ctx::new(&gw, at));
        assert_eq!(f.verdict, Verdict::Fail, "{f:?}");
        assert!(f.summary.contains("#7 openai-main: 3 failed request(s)"), "{}", f.summary);
        assert_eq!(f.answer(Some("auth")).0, Verdict::Fail);
        assert!(f.facts.iter().any(|x| x.contains("server clock")), "{f:?}");
    }

    /// With the consume log (successes), failures are a share of every
    /// request: three failures among 97 successes are no outage; a full page
    /// that does not reach back five minutes narrows both counts to its span.
    #[test]
    fn new_api_rates_come_from_the_consume_log_over_the_span_both_logs_cover() {
        use crate::config::{GatewayKind, GatewaySpec};
        use crate::gateway::{Deployment, ErrorLogEntry, ReplicaSnapshot};
        let now = 1_800_000_000_i64;
        let e = |ch: i64, ago: i64, status: Option<u16>| ErrorLogEntry::for_test(ch, now - ago, status);
        let run = |errors: Vec<ErrorLogEntry>, ok: Vec<ErrorLogEntry>| {
            let spec = GatewaySpec::new("n", GatewayKind::NewApi, "http://127.0.0.1:3000");
            let mut gw = crate::fleet::GatewayObs::new(spec);
            let mut snap = ReplicaSnapshot::new(std::time::Duration::from_millis(1));
            snap.deployments =
                Section::Ok(std::sync::Arc::new(vec![Deployment::new("7", "ch7"), Deployment::new("8", "ch8")]));
            snap.error_log = Section::Ok(errors);
            snap.consume_log = Section::Ok(ok);
            snap.server_time = Some(now);
            let at = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(u64::try_from(now).unwrap());
            let report = crate::fleet::PollReport::new(0, at, vec![("http://127.0.0.1:3000".into(), Ok(snap))]);
            gw.apply_poll(report, &mut crate::timeline::Timeline::default(), 0);
            live_errors(&Ctx::new(&gw, at))
        };
        // 3 failures beside 97 successes on #7; #8: 4 of 5 failed.
        let mut errors: Vec<ErrorLogEntry> = (0..3).map(|i| e(7, 10 + i, Some(500))).collect();
        errors.extend((0..4).map(|i| e(8, 20 + i, Some(401))));
        let mut ok: Vec<ErrorLogEntry> = (0..97).map(|i| e(7, i, None)).collect();
        ok.push(e(8, 5, None));
        let f = run(errors, ok);
        assert_eq!(f.verdict, Verdict::Fail, "{f:?}");
        assert!(f.summary.contains("#8 ch8: 4 of 5 request(s) failed (80%) in 5 min"), "{}", f.summary);
        assert!(!f.summary.contains("#7"), "3% is not an outage: {}", f.summary);
        assert!(f.facts.iter().any(|x| x.starts_with("✓ #7 ch7: 3 of 100 request(s) failed (3%)")), "{:?}", f.facts);
        assert!(f.facts.iter().any(|x| x.contains("rates")), "{:?}", f.facts);
        // A full consume page covering the last 49 s only: failures older than that are not counted against it.
        let errors: Vec<ErrorLogEntry> =
            (0..5).map(|i| e(7, 100 + i, Some(500))).chain([e(7, 10, Some(500))]).collect();
        let ok: Vec<ErrorLogEntry> = (0..100).map(|i| e(7, i / 2, None)).collect();
        let f = run(errors, ok);
        assert!(
            f.facts.iter().any(|x| x.contains("1 of 101 request(s) failed (1%) in the last 49 s")),
            "{:?}",
            f.facts
        );
        assert_ne!(f.verdict, Verdict::Fail, "{f:?}");
    }

    #[test]
    fn errors_are_classed_by_status_then_by_exception_class() {
        assert_eq!(class_of("401 AuthenticationError"), "auth");
        assert_eq!(class_of("None litellm.AuthenticationError"), "auth");
        assert_eq!(class_of("404 NotFoundError"), "not-found");
        assert_eq!(class_of("500 Openai.InternalServerError"), "other");
        assert_eq!(class_of("None Timeout"), "timeout");
        assert_eq!(class_of("429 RateLimitError"), "other");
    }

    #[test]
    fn a_first_look_fails_only_when_litellm_marks_the_outage() {
        let w = |req: f64, fail: f64, state: Option<u8>, since_start: bool| Window {
            requests: req,
            failures: fail,
            state,
            since_start,
            from: 0,
            to: 120,
            ..Window::default()
        };
        assert_eq!(verdict_of(&w(3.0, 3.0, Some(1), true)), Verdict::Fail);
        assert_eq!(verdict_of(&w(3.0, 3.0, Some(0), true)), Verdict::Unknown, "recovered, per LiteLLM");
        assert_eq!(verdict_of(&w(10.0, 6.0, None, false)), Verdict::Fail);
        assert_eq!(verdict_of(&w(1.0, 1.0, None, false)), Verdict::Warn, "one failed request is not a pattern");
        assert_eq!(verdict_of(&w(100.0, 6.0, None, false)), Verdict::Warn);
        assert_eq!(verdict_of(&w(100.0, 1.0, None, false)), Verdict::Ok);
        assert_eq!(verdict_of(&w(0.0, 0.0, None, false)), Verdict::Unknown, "no request is no evidence");
    }
}
