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
    // Each static field with its rank (0 = always kept); when the line is too
    // wide, the least important fields go first, never the state or the age.
    let mut parts: Vec<(u8, Span<'static>)> = Vec::new();
    if !g.ever_polled() {
        parts.push((0, Span::styled("… connecting", theme.dim())));
    } else if g.is_reachable() {
        parts.push((0, Span::styled("● UP", theme.ok())));
        if let Some(l) = g.latency() {
            parts.push((3, Span::raw(format!(" {}", human(l)))));
        }
    } else if g.is_rate_limited() {
        // It answered, with 429: not down, and the data shown is older.
        parts.push((0, Span::styled("◐ RATE LIMITED (HTTP 429)", theme.warn())));
    } else {
        parts.push((0, Span::styled("✗ DOWN", theme.fail())));
    }
    parts.push((0, Span::raw(format!(" {}", g.spec.name))));
    // A saved list on screen until the first poll: said, with its age.
    if !g.ever_polled()
        && let Some(t) = g.data_at()
    {
        parts.push((0, Span::styled(format!(" · showing the list saved {}", ago(app.now, t)), theme.warn())));
    }
    if let Some(v) = g.version() {
        let v = if v.starts_with('v') { v.to_owned() } else { format!("v{v}") };
        parts.push((5, Span::styled(format!(" {v}"), theme.dim())));
    }
    if let Some(s) = g.primary() {
        if let Some(r) = s.readiness.ok()
            && let Some(db) = &r.db
        {
            parts.push((6, Span::styled(format!(" · db {db}"), theme.dim())));
        }
        match &s.cache {
            crate::gateway::Section::Ok(c) => parts.push(if c.healthy {
                (4, Span::styled(format!(" · cache {}", c.kind), theme.dim()))
            } else {
                (1, Span::styled(format!(" · cache {} UNHEALTHY", c.kind), theme.fail()))
            }),
            crate::gateway::Section::Unavailable(_) if g.kind() == crate::config::GatewayKind::LiteLlm => {
                parts.push((6, Span::styled(" · no cache", theme.dim())));
            }
            _ => {}
        }
    }
    let total = g.replicas.len();
    if total > 1 {
        let up = g.up_count();
        parts.push((
            1,
            Span::styled(format!(" · {up}/{total} replicas"), if up == total { theme.ok() } else { theme.warn() }),
        ));
    }
    match g.auth() {
        Some(AuthState::Ok) => parts.push((4, Span::styled(" · auth ok", theme.ok()))),
        Some(AuthState::Missing { env }) => parts.push((0, Span::styled(format!(" · ${env} unset"), theme.fail()))),
        Some(AuthState::Rejected { .. }) => parts.push((0, Span::styled(" · AUTH REFUSED", theme.fail()))),
        _ => {}
    }
    let limited = g.is_rate_limited();
    if limited {
        // What matters most first: how old the data is, and when it can change.
        let age = g.data_at().map_or_else(|| "no data yet".to_owned(), |t| format!("data from {}", ago(app.now, t)));
        parts.push((0, Span::styled(format!(" · {age}"), theme.warn())));
        parts.extend(retry(g.budget.as_ref(), app.now, theme).map(|s| (0, s)));
    }
    if let Some(b) = &g.budget {
        parts.push(budget(b, app.now, theme));
        if !limited {
            parts.extend(retry(Some(b), app.now, theme).map(|s| (1, s)));
        }
    }
    if !limited && let Some(t) = g.last_poll_at {
        parts.push((1, Span::styled(format!(" · updated {}", ago(app.now, t)), theme.dim())));
    }
    // What the operator just caused (a refusal, "press q again", an outcome)
    // and the running action come first: the static fields after them are
    // what the width cuts, never the message.
    let mut live = Vec::new();
    if let Some((msg, _)) = &app.flash {
        // The whole text is on the timeline; here it leaves room for the
        // running action and the propagation window.
        let room = (usize::from(area.width) * 3 / 5).max(40);
        live.push(Span::styled(super::util::fit_middle(msg, room), theme.accent()));
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
    }
    let used: usize = live.iter().map(Span::width).sum();
    live.extend(fit_parts(parts, usize::from(area.width).saturating_sub(used)));
    frame.render_widget(Paragraph::new(Line::from(live)), area);
}

/// Drop the least important fields (highest rank, the later one first)
/// until the rest fit in `room` columns; rank 0 always stays.
fn fit_parts(mut parts: Vec<(u8, Span<'static>)>, room: usize) -> Vec<Span<'static>> {
    while parts.iter().map(|(_, s)| s.width()).sum::<usize>() > room {
        let Some(worst) = parts
            .iter()
            .enumerate()
            .filter(|(_, (rank, _))| *rank > 0)
            .max_by_key(|(i, (rank, _))| (*rank, *i))
            .map(|(i, _)| i)
        else {
            break;
        };
        parts.remove(worst);
    }
    parts.into_iter().map(|(_, s)| s).collect()
}

/// The request budget: what the server said first (New API's only word is
/// an empty 429, and its limit is shared by every client at this address),
/// then gatewatch's own count.
fn budget(b: &RateBudget, now: SystemTime, theme: &Theme) -> (u8, Span<'static>) {
    let ours = format!("ours {}/{} per {}", b.used, b.limit, human(b.window));
    match b.last_refused {
        // The server's own word on the shared limit: kept at every width.
        Some(t) if b.refused > 0 => (
            0,
            Span::styled(format!(" · budget: server said 429 ×{} ({}), {ours}", b.refused, ago(now, t)), theme.warn()),
        ),
        _ => (2, Span::styled(format!(" · budget {ours}"), theme.dim())),
    }
}

/// When gatewatch sends again, during a cool-down after 429s.
fn retry(b: Option<&RateBudget>, now: SystemTime, theme: &Theme) -> Option<Span<'static>> {
    let left = b?.resume_at?.duration_since(now).ok()?;
    Some(Span::styled(format!(" · retry in {}", human(left)), theme.warn()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_least_important_fields_go_first_and_rank_zero_stays() {
        let parts = vec![
            (0, Span::raw("● UP")),
            (3, Span::raw(" 4ms")),
            (0, Span::raw(" litellm-prod")),
            (5, Span::raw(" v1.106.12")),
            (6, Span::raw(" · db ok")),
            (1, Span::raw(" · updated just now")),
        ];
        let text = |v: Vec<Span<'static>>| v.iter().map(|s| s.content.to_string()).collect::<String>();
        assert_eq!(text(fit_parts(parts.clone(), 200)), "● UP 4ms litellm-prod v1.106.12 · db ok · updated just now");
        assert_eq!(text(fit_parts(parts.clone(), 45)), "● UP 4ms litellm-prod · updated just now");
        assert_eq!(text(fit_parts(parts.clone(), 10)), "● UP litellm-prod");
    }
}
