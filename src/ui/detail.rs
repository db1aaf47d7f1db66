//! Full-screen details: a triage node (what to look at, every check with its
//! facts, the truth behind the folklore, the remedy, the keys), and one
//! deployment or channel.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

use super::theme::status_symbol;
use super::util::{ago_unix, centered, clean, fit};
use super::{Theme, pane_block};
use crate::app::App;
use crate::triage::checks;

fn frame_box(frame: &mut Frame, area: Rect, title: String, lines: Vec<Line<'_>>, scroll: u16, theme: &Theme) {
    let r = centered(area, area.width.saturating_sub(4), area.height.saturating_sub(2));
    frame.render_widget(Clear, r);
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).scroll((scroll, 0)).block(pane_block(title, true, theme)),
        r,
    );
}

pub fn node(frame: &mut Frame, area: Rect, app: &App, i: usize, scroll: u16, theme: &Theme) {
    let n = &app.tree.nodes[i];
    let kind = app.kind();
    let mut lines: Vec<Line> = Vec::new();
    let path: Vec<String> =
        app.tree.path_to(&n.id).iter().filter_map(|id| app.tree.get(id).map(|x| x.title.clone())).collect();
    lines.push(Line::styled(path.join(" → "), theme.dim()));
    lines.push(Line::raw(""));
    lines.push(Line::styled("Look at", theme.bold()));
    lines.push(Line::raw(super::util::with_keys(&n.look_at(kind), &app.bindings)));
    lines.push(Line::raw(""));
    lines.push(Line::styled("Evidence", theme.bold()));
    if let Some(ev) = app.current_evidence() {
        let nv = ev.node(&app.tree, i, kind);
        lines.push(Line::from(vec![
            Span::raw("This question: "),
            Span::styled(format!("{} {}", nv.verdict.symbol(), nv.verdict.label()), theme.verdict(nv.verdict)),
            Span::raw(nv.coverage().map(|c| format!(" ({c})")).unwrap_or_default()),
        ]));
        if let Some(old) = super::evidence::stale_data(app) {
            lines.push(Line::styled(old, theme.warn()));
        }
        for line in super::evidence::reference_lines(app, ev, n, theme, usize::MAX) {
            lines.push(line);
        }
    }
    let checks_here = app.tree.checks_under(i, kind);
    if checks_here.is_empty() && n.no_data.is_none() {
        lines.push(Line::styled("(no check answers this node)", theme.dim()));
    }
    if let Some(ev) = app.current_evidence() {
        for c in checks_here {
            let Some(f) = ev.get(c) else { continue };
            if f.verdict == crate::triage::Verdict::NotApplicable {
                continue;
            }
            let title = checks::find(c).map_or("", |d| d.title);
            lines.push(Line::from(vec![
                Span::styled(format!("{} {} ", f.verdict.symbol(), f.verdict.label()), theme.verdict(f.verdict)),
                Span::styled(format!("{c} ({title}): "), theme.bold()),
                Span::raw(f.summary.clone()),
                Span::styled(super::evidence::age(app, f), theme.dim()),
            ]));
            for fact in &f.facts {
                lines.push(Line::styled(format!("    {fact}"), theme.dim()));
            }
        }
    }
    if let Some(nd) = &n.no_data {
        lines.push(Line::styled(format!("No live data: {nd}"), theme.warn()));
    }
    if let Some(t) = n.truth(kind) {
        lines.push(Line::raw(""));
        lines.push(Line::styled("What is true", theme.bold()));
        lines.push(Line::raw(super::util::with_keys(&t, &app.bindings)));
    }
    let remedy = n.remedy(kind);
    if !remedy.is_empty() {
        lines.push(Line::raw(""));
        lines.push(Line::styled("Remedy", theme.bold()));
        for (k, step) in remedy.iter().enumerate() {
            lines.push(Line::raw(format!("{}. {}", k + 1, super::util::with_keys(step, &app.bindings))));
        }
    }
    let keys = super::evidence::action_keys(app, n);
    if !keys.is_empty() {
        lines.push(Line::raw(""));
        let keys: Vec<String> = keys.iter().map(|(k, a)| format!("[{k}] {a}")).collect();
        lines.push(Line::styled(format!("Keys: {}", keys.join("   ")), theme.accent()));
    }
    lines.push(Line::styled("Esc closes · ↑↓ scroll", theme.dim()));
    frame_box(frame, area, format!(" {} ", n.title), lines, scroll, theme);
}

pub fn deployment(frame: &mut Frame, area: Rect, app: &App, id: &str, scroll: u16, theme: &Theme) {
    let Some(g) = app.current() else { return };
    let Some(d) = g.deployments().iter().find(|d| d.id == id) else {
        frame_box(frame, area, " gone ".into(), vec![Line::raw("This deployment is no longer listed.")], 0, theme);
        return;
    };
    let st = g.effective_status(d);
    let field = |k: &str, v: String| Line::from(vec![Span::styled(format!("{k:<18}"), theme.bold()), Span::raw(v)]);
    let opt = |v: Option<String>| v.unwrap_or_else(|| "-".into());
    let mut lines = vec![
        Line::from(vec![Span::styled(format!("{} {}", status_symbol(st), st.label()), theme.status(st))]),
        field("id", d.id.to_string()),
        field("name", d.name.to_string()),
        field("provider", d.provider.to_string()),
        field("models", d.models.join(", ")),
        field("upstream model", opt(d.upstream_model.as_deref().map(str::to_owned))),
        field("base URL", opt(d.api_base.as_deref().map(str::to_owned))),
    ];
    if let Some(r) = &d.status_reason {
        lines.push(field("status reason", r.to_string()));
    }
    if let Some(t) = d.status_since.get() {
        lines.push(field("status since", ago_unix(app.now, t)));
    }
    if !d.groups.is_empty() {
        lines.push(field("groups", d.groups.join(", ")));
    }
    if d.priority.is_some() || d.weight.is_some() {
        lines.push(field(
            "priority / weight",
            format!(
                "{} / {}",
                opt(d.priority.get().map(|p| p.to_string())),
                opt(d.weight.get().map(|w| w.to_string()))
            ),
        ));
    }
    if let Some(share) = app.current_derived().and_then(|x| x.share.get(d.id.as_str())) {
        lines.push(field(
            "traffic share",
            format!("{:.1}% of first attempts (group {})", share * 100.0, g.spec.user_group),
        ));
    }
    if !d.model_mapping.is_empty() {
        let m: Vec<String> = d.model_mapping.iter().map(|(a, b)| format!("{a} → {b}")).collect();
        lines.push(field("model mapping", m.join(", ")));
    }
    if let Some(b) = d.balance.get() {
        lines.push(field(
            "balance",
            format!(
                "${b:.2} ({})",
                d.balance_updated.get().map_or("never updated".into(), |t| format!("updated {}", ago_unix(app.now, t)))
            ),
        ));
    }
    if let Some(q) = d.used_quota.get() {
        lines.push(field("used quota", q.to_string()));
    }
    if let Some(r) = d.response_time_ms.get() {
        lines.push(field("response time", format!("{r} ms")));
    }
    lines.push(field("last test", d.test_time.get().map_or("never".into(), |t| ago_unix(app.now, t))));
    if let Some(t) = &d.tag {
        lines.push(field("tag", t.to_string()));
    }
    if let Some((on, total)) = d.multi_key {
        lines.push(field("multi-key pool", format!("{on} of {total} keys enabled")));
    }
    if let (Some(i), Some(o)) = (d.input_cost_per_token.get(), d.output_cost_per_token.get()) {
        lines.push(field("price", format!("${:.3} / ${:.3} per 1M tokens in/out", i * 1e6, o * 1e6)));
    }
    lines.push(field(
        "key",
        match &d.key {
            crate::gateway::KeyVisibility::IdHash => {
                "hidden by the gateway; drift is read from the deployment id (a hash over the params)".into()
            }
            crate::gateway::KeyVisibility::NotReadable(why) => why.to_string(),
        },
    ));
    if let Some((_, _, ok, msg, secs)) = g.channel_tests.iter().find(|t| t.1 == d.id) {
        lines.push(field(
            "test (this session)",
            format!("{} in {secs:.2}s {msg}", if *ok { "passed" } else { "FAILED" }),
        ));
    }
    if let Some(p) = &g.probe
        && let Some(e) = p.entries.iter().find(|e| e.id == d.id)
    {
        lines.push(field(
            "/health probe",
            format!(
                "{}{}{}",
                if e.healthy { "healthy" } else { "UNHEALTHY" },
                e.error.as_deref().map(|x| format!(": {x}")).unwrap_or_default(),
                e.auth_tail.as_deref().map(|t| format!(" (key held ends …{t})")).unwrap_or_default()
            ),
        ));
    }
    live_lines(&mut lines, g, d, app.now, theme);
    if g.kind() == crate::config::GatewayKind::NewApi {
        day_line(&mut lines, g.traffic.day(), &d.id, "from its logs, last 24 h", theme);
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        if g.kind() == crate::config::GatewayKind::NewApi {
            "t test · b balance · x enable/disable · Esc closes"
        } else {
            "s stream probe · Esc closes"
        },
        theme.dim(),
    ));
    frame_box(frame, area, format!(" {} ", d.name), lines, scroll, theme);
}

/// Live traffic of one deployment: the last 5 minutes, where the figures
/// come from and how old they are, and per replica the failures of the last
/// 30 minutes (a bar a minute-and-a-half, `·` where no sample was kept).
fn live_lines(
    lines: &mut Vec<Line<'static>>,
    g: &crate::fleet::GatewayObs,
    d: &crate::gateway::Deployment,
    now: std::time::SystemTime,
    theme: &Theme,
) {
    let Some(newest) = g.traffic.newest() else { return };
    let field = |k: &str, v: String| Line::from(vec![Span::styled(format!("{k:<18}"), theme.bold()), Span::raw(v)]);
    let source = if g.traffic_from_prometheus() { "Prometheus" } else { "/metrics/" };
    let age = crate::poller::unix_now(now) - newest;
    match g.live.get(d.id.as_str()) {
        Some(w) => {
            let rate = w.failures_per_min().map(|r| format!(", {r:.1} failures/min")).unwrap_or_default();
            let span =
                if w.since_start { "since the proxy started".to_owned() } else { format!("in {:.1} min", w.minutes()) };
            let mostly = w.dominant_error().map(|(e, n)| format!(" · mostly {} ×{n:.0}", clean(e))).unwrap_or_default();
            lines.push(field(
                "live (5 min)",
                format!("{:.0} of {:.0} request(s) failed {span}{rate}{mostly}", w.failures, w.requests),
            ));
        }
        None => lines.push(field("live (5 min)", "no request counted".into())),
    }
    lines.push(field("  from", format!("{source}, newest sample {}s old", age.max(0))));
    for rep in g.traffic.replicas_of(&d.id) {
        let bars = super::util::spark(&g.traffic.spark_on(&d.id, Some(rep), newest, 20, 90));
        let counts = g
            .traffic
            .window_on(&d.id, newest - 30 * 60, newest, Some(rep))
            .map(|w| format!("  {:.0} of {:.0} failed", w.failures, w.requests))
            .unwrap_or_default();
        lines.push(Line::from(vec![
            Span::styled(format!("  {:<28} ", fit(rep, 28)), theme.dim()),
            Span::styled(bars, theme.fail()),
            Span::raw(format!(" 30 min{counts}")),
        ]));
    }
    day_line(lines, g.traffic.day(), &d.id, "all replicas, last 24 h", theme);
}

/// The last day of one deployment from the per-minute store: a bar per
/// half hour (`·` where no look covered it), what it adds up to, and how much
/// of the day gatewatch saw.
fn day_line(lines: &mut Vec<Line<'static>>, day: &crate::traffic::day::Day, id: &str, label: &str, theme: &Theme) {
    let (covered, coarse, _) = day.coverage();
    if covered == 0 {
        return;
    }
    let s = day.span(id, i64::MIN, i64::MAX);
    let hours = |m: u32| format!("{:.1} h", f64::from(m) / 60.0);
    let coarse = if coarse > 0 {
        format!(", {} of it from looks minutes apart, spread evenly", hours(coarse))
    } else {
        String::new()
    };
    let counts = if s.requests <= 0.0 && s.failures <= 0.0 {
        " no request counted".to_owned()
    } else if s.requests_unknown > 0 {
        format!(
            " {:.0} failed (successes not counted for {}: the consume log was empty or not read)",
            s.failures,
            hours(s.requests_unknown)
        )
    } else {
        format!(" {:.0} of {:.0} failed", s.failures, s.requests)
    };
    lines.push(Line::from(vec![
        Span::styled(format!("  {label:<28} "), theme.dim()),
        Span::styled(super::util::spark(&day.spark(id, 48, 30)), theme.fail()),
        Span::raw(counts),
    ]));
    let capped = if day.capped {
        format!("; past {} deployments with traffic the others have no day", crate::traffic::day::MAX_SERIES)
    } else {
        String::new()
    };
    lines.push(Line::styled(
        format!("  {:<28} seen {} of the day{coarse}; a bar per 30 min{capped}", "", hours(covered)),
        theme.dim(),
    ));
}
