//! Streaming: the live probe, the Nginx lint and Cloudflare's 100 s limit.

use std::time::Duration;

use crate::config::duration::human;
use crate::gateway::StreamReport;
use crate::triage::evidence::{Ctx, Finding, Verdict};

pub fn probe(c: &Ctx<'_>) -> Finding {
    let Some((at, model, r)) = &c.gw.stream else {
        return Finding::unknown("not probed: whether a stream reaches the client whole is not known")
            .next(crate::triage::evidence::Next::Run(crate::keys::ActionKind::StreamProbe));
    };
    probe_result(c, model, r).at(*at)
}

fn probe_result(c: &Ctx<'_>, model: &str, r: &StreamReport) -> Finding {
    let mut facts = stream_facts("", r);
    facts[0] = format!("model {model}: {}", facts[0]);
    let front = Problem::of(r);
    let Some(d) = r.direct.as_deref() else {
        if front.is_some() && c.gw.spec.replicas.is_empty() {
            facts.push(
                "no replica listed behind this address: list one (replicas:) and the probe also streams straight to it, to tell a buffering proxy in front from the gateway"
                    .into(),
            );
        }
        return finish(front, facts);
    };
    facts.extend(stream_facts(&format!("direct to {}: ", d.via), d));
    let Some(bad) = front else { return finish(None, facts) };
    let which_hop = if Problem::of(d).is_none() {
        format!(
            "through {}, but not straight to the replica: the proxy in front (Nginx, a load balancer, Cloudflare) is the cause, see nginx-lint",
            r.via
        )
    } else {
        "also straight to the replica: the gateway or its upstream is the cause, not the proxy in front".to_owned()
    };
    Finding::new(bad.verdict(), format!("{} {which_hop}", bad.describe())).facts(facts)
}

/// What is wrong with one probed stream.
#[derive(Debug, Clone, PartialEq)]
enum Problem {
    Failed(String),
    Cut,
    Buffered,
}

impl Problem {
    fn of(r: &StreamReport) -> Option<Self> {
        if let Some(e) = &r.error {
            return Some(Self::Failed(e.clone()));
        }
        if !r.arrived_whole() {
            return Some(Self::Cut);
        }
        r.buffered().then_some(Self::Buffered)
    }

    fn describe(&self) -> String {
        match self {
            Self::Failed(e) => format!("the stream failed: {e}"),
            Self::Cut => "the stream was cut before its end".into(),
            Self::Buffered => "the first token arrived with the last: something buffers the stream".into(),
        }
    }

    /// A buffered stream still arrives: a warning. A failed or cut one does not.
    fn verdict(&self) -> Verdict {
        if *self == Self::Buffered { Verdict::Warn } else { Verdict::Fail }
    }
}

fn finish(front: Option<Problem>, facts: Vec<String>) -> Finding {
    match front {
        None => Finding::ok("the stream arrived whole and incrementally").facts(facts),
        Some(bad) => Finding::new(bad.verdict(), bad.describe()).facts(facts),
    }
}

fn stream_facts(prefix: &str, r: &StreamReport) -> Vec<String> {
    let mut facts = vec![
        format!("{prefix}HTTP {} {}", r.status, r.content_type.as_deref().unwrap_or("")),
        format!(
            "{prefix}first byte {}, first token {}, total {}, largest gap {}, {} chunks",
            r.ttfb.map_or("-".into(), human),
            r.first_token.map_or("-".into(), human),
            human(r.total),
            human(r.max_gap),
            r.chunks
        ),
        format!(
            "{prefix}[DONE] {}, last chunk {}",
            if r.done_marker { "arrived" } else { "MISSING" },
            if r.last_chunk_complete_json { "complete JSON" } else { "INCOMPLETE" }
        ),
    ];
    facts.push(match r.x_accel_buffering.as_deref() {
        Some(v) => format!("{prefix}x-accel-buffering: {v} reached gatewatch"),
        None => format!("{prefix}no x-accel-buffering header reached gatewatch (a proxy may have stripped it)"),
    });
    if let Some(e) = &r.error {
        facts.push(format!("{prefix}error: {e}"));
    }
    facts
}

/// Directives as `(name, value)` pairs, comments stripped.
pub fn directives(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for stmt in
        text.lines().map(|l| l.split('#').next().unwrap_or("")).collect::<Vec<_>>().join("\n").split([';', '{', '}'])
    {
        let stmt = stmt.trim();
        if stmt.is_empty() {
            continue;
        }
        let mut parts = stmt.splitn(2, char::is_whitespace);
        let name = parts.next().unwrap_or("").to_ascii_lowercase();
        let value = parts.next().unwrap_or("").split_whitespace().collect::<Vec<_>>().join(" ");
        out.push((name, value));
    }
    out
}

fn nginx_seconds(v: &str) -> Option<u64> {
    let v = v.trim();
    let (num, mult) = if let Some(n) = v.strip_suffix('m') {
        (n, 60)
    } else if let Some(n) = v.strip_suffix('h') {
        (n, 3600)
    } else {
        (v.strip_suffix('s').unwrap_or(v), 1)
    };
    num.parse::<u64>().ok().map(|n| n * mult)
}

pub fn lint(text: &str) -> Vec<(Verdict, String)> {
    let d = directives(text);
    let vals = |name: &str| d.iter().filter(|(n, _)| n == name).map(|(_, v)| v.clone()).collect::<Vec<_>>();
    let mut out = Vec::new();
    let buffering = vals("proxy_buffering");
    let ignores_accel =
        vals("proxy_ignore_headers").iter().any(|v| v.to_ascii_lowercase().contains("x-accel-buffering"));
    if buffering.iter().any(|v| v == "off") {
        out.push((Verdict::Ok, "proxy_buffering off".to_owned()));
    } else if ignores_accel {
        out.push((
            Verdict::Fail,
            "proxy_buffering is on and proxy_ignore_headers X-Accel-Buffering: every stream is buffered".to_owned(),
        ));
    } else {
        out.push((Verdict::Warn, "proxy_buffering is on (the default): streams pass only because the gateway sends X-Accel-Buffering: no; set proxy_buffering off".to_owned()));
    }
    let timeouts = vals("proxy_read_timeout");
    match timeouts.iter().filter_map(|v| nginx_seconds(v)).min() {
        None => out.push((
            Verdict::Warn,
            "proxy_read_timeout not set: the default 60s cuts a stream that is silent for a minute".to_owned(),
        )),
        Some(s) if s < 120 => {
            out.push((Verdict::Warn, format!("proxy_read_timeout {s}s: long generations go silent longer than that")));
        }
        Some(s) => out.push((Verdict::Ok, format!("proxy_read_timeout {s}s"))),
    }
    let http_version = vals("proxy_http_version");
    if http_version.iter().any(|v| v == "1.1" || v == "2") {
        out.push((Verdict::Ok, "proxy_http_version 1.1".to_owned()));
    } else {
        out.push((
            Verdict::Warn,
            "proxy_http_version not 1.1: Nginx speaks HTTP/1.0 to the gateway by default".to_owned(),
        ));
    }
    let gzip_on = vals("gzip").iter().any(|v| v == "on");
    let sse_gzipped =
        vals("gzip_types").iter().any(|v| v.contains("text/event-stream") || v.split_whitespace().any(|t| t == "*"));
    if gzip_on && sse_gzipped {
        out.push((
            Verdict::Fail,
            "gzip on with text/event-stream in gzip_types: events are held back to be compressed".to_owned(),
        ));
    }
    if vals("proxy_cache").iter().any(|v| v != "off") {
        out.push((
            Verdict::Warn,
            "proxy_cache is on for a gateway location: make sure streamed responses bypass it".to_owned(),
        ));
    }
    out
}

pub fn nginx_lint(c: &Ctx<'_>) -> Finding {
    match &c.gw.local.nginx {
        None => Finding::unknown("nginx_config not set for this gateway"),
        Some(Err(e)) => Finding::unknown(format!("cannot read the Nginx config: {e}")),
        Some(Ok(text)) => {
            let items = lint(text);
            let worst = items.iter().fold(Verdict::Ok, |v, (x, _)| v.worst(*x));
            let bad = items.iter().filter(|(v, _)| v.points_here()).count();
            let summary = if bad == 0 {
                "Nginx passes server-sent events through".to_owned()
            } else {
                format!("{bad} Nginx setting(s) can cut or buffer streams")
            };
            Finding::new(worst, summary).facts(items.into_iter().map(|(v, t)| format!("{} {t}", v.symbol())))
        }
    }
}

pub fn cloudflare(c: &Ctx<'_>) -> Finding {
    let seen =
        c.gw.replicas.iter().any(|r| r.last_ok.as_ref().and_then(|s| s.front_proxy.as_deref()) == Some("cloudflare"));
    if !(c.gw.spec.behind_cloudflare || seen) {
        // "No cf-ray header seen" is evidence only once some answer came back.
        if c.gw.replicas.iter().all(|r| r.last_ok.is_none()) {
            return Finding::unknown("no answer read yet: cannot tell whether Cloudflare is in front");
        }
        return Finding::ok("no Cloudflare in front (no cf-ray header seen, behind_cloudflare not set)");
    }
    let how = if seen { "cf-ray headers seen" } else { "behind_cloudflare: true in the config" };
    if let Some((_, _, r)) = &c.gw.stream
        && r.first_token.is_some_and(|t| t > Duration::from_secs(90))
    {
        return Finding::fail("the first token took over 90 s: Cloudflare answers 524 at 100 s").fact(how.to_owned());
    }
    Finding::warn("Cloudflare proxies this gateway: a request with no byte for 100 s gets a 524")
        .fact(how.to_owned())
        .fact("stream responses, or use a DNS-only hostname for long requests")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::SystemTime;

    use crate::config::{GatewayKind, GatewaySpec};
    use crate::fleet::GatewayObs;

    fn whole(via: &str) -> StreamReport {
        StreamReport {
            status: 200,
            content_type: Some("text/event-stream".into()),
            ttfb: Some(Duration::from_millis(40)),
            first_token: Some(Duration::from_millis(60)),
            total: Duration::from_millis(900),
            max_gap: Duration::from_millis(30),
            chunks: 7,
            done_marker: true,
            last_chunk_complete_json: true,
            via: via.into(),
            ..StreamReport::default()
        }
    }

    fn cut(via: &str) -> StreamReport {
        StreamReport { done_marker: false, last_chunk_complete_json: false, ..whole(via) }
    }

    fn buffered(via: &str) -> StreamReport {
        StreamReport { first_token: Some(Duration::from_millis(880)), ..whole(via) }
    }

    fn judge(report: StreamReport, replicas: &[&str]) -> Finding {
        let mut spec = GatewaySpec::new("gw", GatewayKind::LiteLlm, "https://llm.example.com");
        spec.replicas = replicas.iter().map(|r| (*r).to_owned()).collect();
        let mut gw = GatewayObs::new(spec);
        gw.stream = Some((SystemTime::UNIX_EPOCH, "gpt-4o".into(), report));
        probe(&Ctx::new(&gw, SystemTime::UNIX_EPOCH))
    }

    const FRONT: &str = "https://llm.example.com";
    const REPLICA: &str = "http://10.0.0.11:4000";

    #[test]
    fn one_probe_without_replicas_judges_the_whole_path() {
        let f = judge(whole(FRONT), &[]);
        assert_eq!(f.verdict, Verdict::Ok, "{f:?}");
        assert!(f.facts[0].starts_with("model gpt-4o: HTTP 200"), "{:?}", f.facts);

        let f = judge(cut(FRONT), &[]);
        assert_eq!(f.verdict, Verdict::Fail);
        assert!(f.facts.iter().any(|x| x.contains("list one (replicas:)")), "hint to compare: {:?}", f.facts);

        let f = judge(buffered(FRONT), &[]);
        assert_eq!(f.verdict, Verdict::Warn, "{f:?}");
    }

    #[test]
    fn front_door_cut_but_replica_whole_blames_the_proxy_in_front() {
        let f = judge(StreamReport { direct: Some(Box::new(whole(REPLICA))), ..cut(FRONT) }, &[REPLICA]);
        assert_eq!(f.verdict, Verdict::Fail);
        assert!(f.summary.contains("proxy in front"), "{}", f.summary);
        assert!(f.summary.contains(FRONT), "{}", f.summary);
        assert!(
            f.facts.iter().any(|x| x.starts_with(&format!("direct to {REPLICA}: [DONE] arrived"))),
            "{:?}",
            f.facts
        );

        let f = judge(StreamReport { direct: Some(Box::new(whole(REPLICA))), ..buffered(FRONT) }, &[REPLICA]);
        assert_eq!(f.verdict, Verdict::Warn);
        assert!(f.summary.contains("proxy in front"), "{}", f.summary);
    }

    #[test]
    fn cut_on_both_paths_blames_the_gateway_or_its_upstream() {
        let f = judge(StreamReport { direct: Some(Box::new(cut(REPLICA))), ..cut(FRONT) }, &[REPLICA]);
        assert_eq!(f.verdict, Verdict::Fail);
        assert!(f.summary.contains("not the proxy in front"), "{}", f.summary);
    }

    #[test]
    fn a_failed_request_is_named() {
        let f = judge(StreamReport { error: Some("HTTP 400: Invalid model name".into()), ..cut(FRONT) }, &[]);
        assert_eq!(f.verdict, Verdict::Fail);
        assert!(f.summary.contains("Invalid model name"), "{}", f.summary);
    }

    #[test]
    fn lints_a_buffering_nginx() {
        let conf = "server {\n  gzip on;\n  gzip_types text/plain text/event-stream; # bad\n  location / {\n    proxy_pass http://127.0.0.1:4000;\n    proxy_read_timeout 30s;\n  }\n}\n";
        let items = lint(conf);
        let text: Vec<String> = items.iter().map(|(v, t)| format!("{v:?} {t}")).collect();
        assert!(text.iter().any(|t| t.starts_with("Warn proxy_buffering is on")), "{text:?}");
        assert!(text.iter().any(|t| t.starts_with("Warn proxy_read_timeout 30s")), "{text:?}");
        assert!(text.iter().any(|t| t.starts_with("Warn proxy_http_version")), "{text:?}");
        assert!(text.iter().any(|t| t.starts_with("Fail gzip on")), "{text:?}");
    }

    #[test]
    fn a_good_config_passes() {
        let conf =
            "location / { proxy_pass http://gw; proxy_buffering off; proxy_http_version 1.1; proxy_read_timeout 5m; }";
        assert!(lint(conf).iter().all(|(v, _)| *v == Verdict::Ok));
    }
}
