//! Bottom line: reachability, latency, version, replicas, auth, refresh age,
//! the running action, and the last message.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use std::time::SystemTime;

use super::Theme;
use super::util::ago;
use crate::app::App;
use crate::config::duration::human;
use crate::gateway::{AuthState, RateBudget};

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
    } else if g.is_rate_limited() {
        // It answered, with 429: not down, and the data shown is older.
        spans.push(Span::styled("◐ RATE LIMITED (HTTP 429)", theme.warn()));
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
    let limited = g.is_rate_limited();
    if limited {
        // What matters most first: how old the data is, and when it can change.
        let age = g.data_at().map_or_else(|| "no data yet".to_owned(), |t| format!("data from {}", ago(app.now, t)));
        spans.push(Span::styled(format!(" · {age}"), theme.warn()));
        spans.extend(retry(g.budget.as_ref(), app.now, theme));
    }
    if let Some(b) = &g.budget {
        spans.push(budget(b, app.now, theme));
        if !limited {
            spans.extend(retry(Some(b), app.now, theme));
        }
    }
    if !limited && let Some(t) = g.last_poll_at {
        spans.push(Span::styled(format!(" · updated {}", ago(app.now, t)), theme.dim()));
    }
    // What the operator just caused (a refusal, "press q again", an outcome)
    // and the running action come first: the static fields after them are
    // what the width cuts, never the message.
    let mut live = Vec::new();
    if let Some((msg, _)) = &app.flash {
        // The whole text is on the timeline; here it leaves room for the
        // running action and the propagation window.
        let room = (usize::from(area.width) * 3 / 5).max(40);
        live.push(Span::styled(super::util::fit(msg, room), theme.accent()));
    }
    if let Some((g, until)) = app.actions.propagating
        && g == app.gateway()
        && let Ok(left) = until.duration_since(app.now)
    {
        if !live.is_empty() {
            live.push(Span::raw(" · "));
        }
        live.push(Span::styled(format!("other nodes pick the edit up within {}", human(left)), theme.warn()));
    }
    if let Some(r) = app.actions.running() {
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

/// The request budget: what the server said first (New API's only word is
/// an empty 429, and its limit is shared by every client at this address),
/// then gatewatch's own count.
fn budget(b: &RateBudget, now: SystemTime, theme: &Theme) -> Span<'static> {
    let ours = format!("ours {}/{} per {}", b.used, b.limit, human(b.window));
    match b.last_refused {
        Some(t) if b.refused > 0 => {
            Span::styled(format!(" · budget: server said 429 ×{} ({}), {ours}", b.refused, ago(now, t)), theme.warn())
        }
        _ => Span::styled(format!(" · budget {ours}"), theme.dim()),
    }
}

/// When gatewatch sends again, during a cool-down after 429s.
fn retry(b: Option<&RateBudget>, now: SystemTime, theme: &Theme) -> Option<Span<'static>> {
    let left = b?.resume_at?.duration_since(now).ok()?;
    Some(Span::styled(format!(" · retry in {}", human(left)), theme.warn()))
}
