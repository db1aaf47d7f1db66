//! Bottom line: reachability, latency, version, replicas, auth, refresh age,
//! the running action, and the last message.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::Theme;
use super::util::ago;
use crate::app::App;
use crate::config::duration::human;
use crate::gateway::AuthState;

const SPINNER: [&str; 4] = ["|", "/", "-", "\\"];

pub fn render(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let Some(g) = app.current() else { return };
    let mut spans = Vec::new();
    if !g.ever_polled() {
        spans.push(Span::styled("… connecting", theme.dim()));
    } else if g.is_reachable() {
        spans.push(Span::styled("● UP", theme.ok()));
        if let Some(l) = g.latency() {
            spans.push(Span::raw(format!(" {}", human(l))));
        }
    } else {
        spans.push(Span::styled("✗ DOWN", theme.fail()));
    }
    spans.push(Span::raw(format!(" {}", g.spec.name)));
    if let Some(v) = g.version() {
        let v = if v.starts_with('v') { v.to_owned() } else { format!("v{v}") };
        spans.push(Span::styled(format!(" {v}"), theme.dim()));
    }
    if let Some(s) = g.primary() {
        if let Some(r) = s.readiness.ok()
            && let Some(db) = &r.db
        {
            spans.push(Span::styled(format!(" · db {db}"), theme.dim()));
        }
        match &s.cache {
            crate::gateway::Section::Ok(c) => {
                spans.push(Span::styled(
                    format!(" · cache {}{}", c.kind, if c.healthy { "" } else { " UNHEALTHY" }),
                    if c.healthy { theme.dim() } else { theme.fail() },
                ));
            }
            crate::gateway::Section::Unavailable(_) if g.kind() == crate::config::GatewayKind::LiteLlm => {
                spans.push(Span::styled(" · no cache", theme.dim()));
            }
            _ => {}
        }
    }
    let total = g.replicas.len();
    if total > 1 {
        let up = g.up_count();
        spans.push(Span::styled(
            format!(" · {up}/{total} replicas"),
            if up == total { theme.ok() } else { theme.warn() },
        ));
    }
    match g.auth() {
        Some(AuthState::Ok) => spans.push(Span::styled(" · auth ok", theme.ok())),
        Some(AuthState::Missing { env }) => spans.push(Span::styled(format!(" · ${env} unset"), theme.fail())),
        Some(AuthState::Rejected { .. }) => spans.push(Span::styled(" · AUTH REFUSED", theme.fail())),
        _ => {}
    }
    if let Some(s) = g.primary()
        && let Some(b) = s.budget
    {
        spans.push(Span::styled(format!(" · budget {}/{} per {}", b.used, b.limit, human(b.window)), theme.dim()));
    }
    if let Some(t) = g.last_poll_at {
        spans.push(Span::styled(format!(" · updated {}", ago(app.now, t)), theme.dim()));
    }
    // What the operator just caused (a refusal, "press q again", an outcome)
    // and the running action come first: the static fields after them are
    // what the width cuts, never the message.
    let mut live = Vec::new();
    if let Some((msg, _)) = &app.flash {
        live.push(Span::styled(msg.clone(), theme.accent()));
    }
    if let Some((g, until)) = app.propagating
        && g == app.gateway
        && let Ok(left) = until.duration_since(app.now)
    {
        if !live.is_empty() {
            live.push(Span::raw(" · "));
        }
        live.push(Span::styled(format!("other nodes pick the edit up within {}", human(left)), theme.warn()));
    }
    if let Some(r) = &app.running {
        let tick = app.now.duration_since(r.started).map_or(0, |d| (d.as_millis() / 250) as usize);
        let last = r.lines.last().cloned().unwrap_or_else(|| "starting".into());
        if !live.is_empty() {
            live.push(Span::raw(" · "));
        }
        live.push(Span::styled(format!("{} {}: {last}", SPINNER[tick % 4], r.title), theme.accent()));
    }
    if !live.is_empty() {
        live.push(Span::styled(" │ ", theme.dim()));
        live.extend(spans);
        spans = live;
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
