//! Overlays: help, action confirmation (one or two stages), why an action is
//! blocked, and text input.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

use super::util::{centered, clean, wrap};
use super::{Theme, detail, pane_block};
use crate::actions::plan::Plan;
use crate::app::keymap::{self, HelpLine};
use crate::app::{App, Confirm, Overlay};
use crate::config::GatewayKind;

pub fn render(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    match &app.overlay {
        None => {}
        Some(Overlay::Help) => help(frame, area, app, theme),
        Some(Overlay::Confirm(c)) => confirm(frame, area, c, app.now, theme),
        Some(Overlay::Blocked(p)) => blocked(frame, area, p, theme),
        Some(Overlay::Input { prompt, text }) => input(frame, area, prompt, text, theme),
        Some(Overlay::NodeDetail { node, scroll }) => detail::node(frame, area, app, *node, *scroll, theme),
        Some(Overlay::DeploymentDetail { id, scroll }) => detail::deployment(frame, area, app, id, *scroll, theme),
    }
}

fn boxed(frame: &mut Frame, area: Rect, title: String, lines: Vec<Line<'_>>, theme: &Theme, focused: bool) {
    boxed_scrolled(frame, area, title, lines, theme, focused, None);
}

/// A centered box as tall as its text (wrapped). With `scroll`, a text
/// taller than the screen scrolls (the title says how far); the scroll is
/// clamped here so the last line stays reachable and never scrolls away.
fn boxed_scrolled(
    frame: &mut Frame,
    area: Rect,
    title: String,
    lines: Vec<Line<'_>>,
    theme: &Theme,
    focused: bool,
    scroll: Option<u16>,
) {
    let w = (area.width.saturating_mul(9) / 10).clamp(40, 100).min(area.width);
    let inner_w = usize::from(w.saturating_sub(2));
    let needed: usize = lines.iter().map(|l| l.width().div_ceil(inner_w.max(1)).max(1)).sum();
    let h = u16::try_from(needed + 2).unwrap_or(u16::MAX).min(area.height);
    let visible = usize::from(h.saturating_sub(2));
    let max_scroll = u16::try_from(needed.saturating_sub(visible)).unwrap_or(u16::MAX);
    let scrollable = scroll.is_some();
    let scroll = scroll.unwrap_or(0).min(max_scroll);
    let title =
        if scrollable && max_scroll > 0 { format!("{title}(↑↓ scroll: {scroll}/{max_scroll}) ") } else { title };
    let r = centered(area, w, h);
    frame.render_widget(Clear, r);
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).scroll((scroll, 0)).block(pane_block(title, focused, theme)),
        r,
    );
}

fn section<'a>(out: &mut Vec<Line<'a>>, title: &'a str, items: &'a [HelpLine], theme: &Theme) {
    out.push(Line::styled(title, theme.bold()));
    for (k, what) in items {
        out.push(Line::from(vec![Span::styled(format!("  {k:<16}"), theme.accent()), Span::raw(*what)]));
    }
}

fn out_section(out: &mut Vec<Line<'_>>, title: &str, items: &[HelpLine], theme: &Theme) {
    out.push(Line::styled(title.to_owned(), theme.bold()));
    for (k, what) in items {
        out.push(Line::from(vec![Span::styled(format!("  {k:<16}"), theme.accent()), Span::raw(*what)]));
    }
}

fn help(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let mut lines = Vec::new();
    section(&mut lines, "Everywhere", keymap::GLOBAL_HELP, theme);
    section(&mut lines, "Moving", keymap::MOVE_HELP, theme);
    let (title, all) = match app.kind() {
        GatewayKind::LiteLlm => ("Actions on this LiteLLM gateway (each asks first)", keymap::LITELLM_ACTIONS),
        GatewayKind::NewApi => ("Actions on this New API gateway (each asks first)", keymap::NEWAPI_ACTIONS),
    };
    // A read-only session lists only what it may still run.
    let allowed: Vec<HelpLine> = all
        .iter()
        .filter(|(keys, _)| {
            keys.split_whitespace().all(|k| {
                k.chars()
                    .next()
                    .and_then(crate::actions::GatewayAction::key_for_hotkey)
                    .is_some_and(|a| crate::actions::GatewayAction::key_allowed(a, app.read_only, app.allow_probes))
            })
        })
        .copied()
        .collect();
    if !allowed.is_empty() {
        out_section(&mut lines, title, &allowed, theme);
        section(&mut lines, "In a confirmation", keymap::CONFIRM_HELP, theme);
    }
    if app.demo {
        section(&mut lines, "Demo", keymap::DEMO_HELP, theme);
    }
    if app.read_only {
        lines.push(Line::styled(
            if app.allow_probes {
                "READ-ONLY: nothing that changes a gateway runs; paid probes are allowed (--allow-probes)."
            } else {
                "READ-ONLY: nothing that changes a gateway or spends money runs."
            },
            theme.warn(),
        ));
    }
    section(&mut lines, "Symbols", keymap::SYMBOL_HELP, theme);
    lines.push(Line::styled("Any key closes this help.", theme.dim()));
    boxed(frame, area, " Keys ".into(), lines, theme, true);
}

fn plan_lines<'a>(p: &'a Plan, theme: &Theme) -> Vec<Line<'a>> {
    let mut lines = vec![
        Line::from(vec![
            Span::styled("Gateway  ", theme.bold()),
            Span::raw(format!("{} ({})", clean(&p.gateway_name), p.kind.display_name())),
        ]),
        Line::from(vec![
            Span::styled("Replicas ", theme.bold()),
            Span::raw(clean(&p.replicas.join(", ")).into_owned()),
        ]),
        Line::from(vec![Span::styled("Action   ", theme.bold()), Span::raw(p.action.key())]),
    ];
    for e in &p.effect {
        lines.push(Line::from(vec![Span::styled("  • ", theme.accent()), Span::raw(clean(e))]));
    }
    // One command is in the effect line ("Runs: …"); several are listed, all of them.
    if p.commands.len() > 1 {
        lines.push(Line::styled(
            format!("Commands ({}), exactly as they will run with sh -c:", p.commands.len()),
            theme.bold(),
        ));
        let width = p.commands.len().to_string().len();
        for (i, c) in p.commands.iter().enumerate() {
            lines.push(Line::from(vec![
                Span::styled(format!("  {:>width$}. $ ", i + 1), theme.accent()),
                Span::raw(clean(c)),
            ]));
        }
    }
    if let Some(n) = p.paid_requests {
        lines.push(Line::styled(format!("  $ {n} paid upstream request(s)"), theme.warn()));
    }
    if !p.verify.is_empty() {
        lines.push(Line::from(vec![
            Span::styled("Then     ", theme.bold()),
            Span::raw(format!("verify: {}", clean(&p.verify))),
        ]));
    }
    lines
}

fn confirm(frame: &mut Frame, area: Rect, c: &Confirm, now: std::time::SystemTime, theme: &Theme) {
    let p = &c.plan;
    let mut lines = plan_lines(p, theme);
    if let Some(t) = &p.last_test {
        lines.push(Line::styled(
            format!("Last test {} ({})", t.describe(), super::util::ago(now, t.at)),
            if t.ok { theme.ok() } else { theme.fail() },
        ));
    }
    if c.second {
        lines.push(Line::raw(""));
        for w in &p.warnings {
            lines.push(Line::styled(format!("⚠ WARNING: {}", clean(w)), theme.fail()));
        }
        lines.push(Line::raw(""));
        lines.push(Line::from(vec![
            Span::styled("[Y] (shift+y) run anyway", theme.fail()),
            Span::raw("   "),
            Span::styled("[n/Esc] cancel", theme.accent()),
        ]));
    } else {
        // The reasons for the second confirmation come first, above [y].
        if !p.warnings.is_empty() {
            lines.push(Line::raw(""));
            for w in &p.warnings {
                lines.push(Line::styled(format!("⚠ {w}"), theme.warn()));
            }
            lines.push(Line::styled(
                "Because of this you will be asked again: only Y (shift+y) then runs it.",
                theme.warn(),
            ));
        }
        lines.push(Line::raw(""));
        lines.push(Line::from(vec![
            Span::styled("[y] run", theme.ok()),
            Span::raw("   "),
            Span::styled("[n/Esc] cancel", theme.accent()),
        ]));
    }
    if p.validating {
        lines.push(Line::styled(
            format!("… validating the config on disk: {}", clean(p.validate_command.as_deref().unwrap_or(""))),
            theme.accent(),
        ));
    }
    if let Some(n) = &c.nudge {
        lines.push(Line::styled(n.as_str(), theme.warn()));
    }
    let t = clean(&p.title);
    let title = if c.second { format!(" SECOND CONFIRMATION: {t}? ") } else { format!(" {t}? ") };
    boxed_scrolled(frame, area, title, lines, theme, true, Some(c.scroll));
}

fn blocked(frame: &mut Frame, area: Rect, p: &Plan, theme: &Theme) {
    let mut lines = vec![Line::styled(format!("Cannot {}:", p.action.key()), theme.fail())];
    if let Some(why) = &p.blocked {
        for l in wrap(&clean(why), 90, "") {
            lines.push(Line::raw(l));
        }
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled("Any key closes this.", theme.dim()));
    boxed(frame, area, format!(" {} ", clean(&p.title)), lines, theme, true);
}

fn input(frame: &mut Frame, area: Rect, prompt: &str, text: &str, theme: &Theme) {
    let lines = vec![
        Line::raw(prompt.to_owned()),
        Line::from(vec![
            Span::styled("> ", theme.accent()),
            Span::raw(clean(text).into_owned()),
            Span::styled("▏", theme.accent()),
        ]),
        Line::styled("Enter adds · Esc cancels", theme.dim()),
    ];
    boxed(frame, area, " Input ".into(), lines, theme, true);
}
