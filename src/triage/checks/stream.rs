//! Streaming: the live probe, the Nginx lint and Cloudflare's 100 s limit.

use std::time::Duration;

use crate::config::duration::human;
use crate::triage::evidence::{Ctx, Finding, Verdict};

pub fn probe(c: &Ctx<'_>) -> Finding {
    let Some((_, model, r)) = &c.gw.stream else {
        return Finding::unknown(
            "not probed: press s to stream one tiny completion through the gateway (paid, asked first)",
        );
    };
    let mut facts = vec![
        format!("model {model}: HTTP {} {}", r.status, r.content_type.as_deref().unwrap_or("")),
        format!(
            "first byte {}, first token {}, total {}, largest gap {}, {} chunks",
            r.ttfb.map_or("-".into(), human),
            r.first_token.map_or("-".into(), human),
            human(r.total),
            human(r.max_gap),
            r.chunks
        ),
        format!(
            "[DONE] {}, last chunk {}",
            if r.done_marker { "arrived" } else { "MISSING" },
            if r.last_chunk_complete_json { "complete JSON" } else { "INCOMPLETE" }
        ),
    ];
    match r.x_accel_buffering.as_deref() {
        Some(v) => facts.push(format!("x-accel-buffering: {v} reached gatewatch")),
        None => facts.push("no x-accel-buffering header reached gatewatch (a proxy may have stripped it)".into()),
    }
    if let Some(e) = &r.error {
        return Finding::fail(format!("the stream failed: {e}")).facts(facts);
    }
    if !r.done_marker || !r.last_chunk_complete_json {
        return Finding::fail("the stream was cut before its end").facts(facts);
    }
    if let Some(ft) = r.first_token
        && r.total > Duration::from_millis(500)
        && ft.as_secs_f64() > r.total.as_secs_f64() * 0.9
    {
        return Finding::warn("the first token arrived with the last: something buffers the stream").facts(facts);
    }
    Finding::ok("the stream arrived whole and incrementally").facts(facts)
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
