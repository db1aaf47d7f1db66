//! Overlays: help (the keys valid where the operator is, from the binding
//! table, and the symbols), action confirmation (one or two stages), why an
//! action is blocked, text input, the command palette, a timeline line.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

use super::util::{centered, clean, wrap};
use super::{Theme, detail, pane_block};
use crate::actions::plan::Plan;
use crate::app::{App, Confirm, Overlay};
use crate::keys::{Command, Context};

pub fn render(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    if let Some(c) = app.actions.confirming() {
        confirm(frame, area, c, app.now, theme);
    }
    match &app.overlay {
        None => {}
        Some(Overlay::Help { about, scroll }) => help(frame, area, app, *about, *scroll, theme),
        Some(Overlay::Blocked(p)) => blocked(frame, area, p, theme),
        Some(Overlay::Palette { text, .. }) => palette(frame, area, app, text, theme),
        Some(Overlay::TimelineDetail { index, scroll }) => timeline_line(frame, area, app, *index, *scroll, theme),
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

/// What the tree's symbols mean, and how a parent rolls its children up.
const SYMBOLS: &[(&str, &str)] = &[
    ("✓", "answered, and passes: a parent only when every part that applies is answered and passes"),
    ("✗  !", "fails / warns: a failing or warning part makes its parent fail or warn"),
    ("?", "not answered yet (no data, not probed, or a stale probe); a parent says \"n of m answered\""),
    ("·", "no live data can answer this question: its details say what to ask instead"),
    ("-", "does not apply to this gateway"),
    ("•", "an action that ran and found something (its words say what)"),
];

fn section(out: &mut Vec<Line<'_>>, title: &str, items: &[(String, &str)], theme: &Theme) {
    if items.is_empty() {
        return;
    }
    out.push(Line::styled(title.to_owned(), theme.bold()));
    for (k, what) in items {
        out.push(Line::from(vec![Span::styled(format!("  {k:<18}"), theme.accent()), Span::raw((*what).to_owned())]));
    }
}

/// The keys valid in `about` (its chain of contexts, from the binding
/// table), what this session allows, and the symbols. Scrolls.
fn help(frame: &mut Frame, area: Rect, app: &App, about: Context, scroll: u16, theme: &Theme) {
    let mut lines = Vec::new();
    for ctx in about.chain() {
        let items: Vec<(String, &str)> = app
            .bindings
            .of(*ctx)
            .filter(|b| match b.command {
                // Only what this gateway has and this session may run.
                Command::Action(a) => {
                    app.allows(a.key()) && crate::actions::GatewayAction::key_applies(a.key(), app.kind())
                }
                Command::DemoNext => app.session.demo,
                _ => true,
            })
            .fold(Vec::new(), |mut acc: Vec<(String, &str)>, b| {
                let keys: Vec<String> = b.keys.iter().map(ToString::to_string).collect();
                match acc.iter_mut().find(|(_, h)| *h == b.help) {
                    Some((k, _)) => {
                        k.push(' ');
                        k.push_str(&keys.join(" "));
                    }
                    None => acc.push((keys.join(" "), b.help)),
                }
                acc
            });
        section(&mut lines, ctx.title(), &items, theme);
    }
    if about != Context::Confirm {
        let confirm: Vec<(String, &str)> = app.bindings.help(Context::Confirm);
        if about.chain().contains(&Context::Actions) {
            section(&mut lines, Context::Confirm.title(), &confirm, theme);
        }
    }
    if app.session.read_only {
        lines.push(Line::styled(
            if app.session.allow_probes {
                "READ-ONLY: nothing that changes a gateway runs; paid probes are allowed (--allow-probes)."
            } else {
                "READ-ONLY: nothing that changes a gateway or spends money runs."
            },
            theme.warn(),
        ));
    }
    let symbols: Vec<(String, &str)> = SYMBOLS.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect();
    section(&mut lines, "Symbols", &symbols, theme);
    lines.push(Line::styled(
        "↑↓ PgUp PgDn scroll · Esc closes · keys can be rebound (keys: in the config)",
        theme.dim(),
    ));
    boxed_scrolled(frame, area, " Keys here ".into(), lines, theme, true, Some(scroll));
}

/// `:` — what is typed, and what it may complete to.
fn palette(frame: &mut Frame, area: Rect, app: &App, text: &str, theme: &Theme) {
    let words = app.palette_words();
    let found = crate::app::palette::completions(text, &words);
    let mut lines = vec![Line::from(vec![
        Span::styled(": ", theme.accent()),
        Span::raw(clean(text).into_owned()),
        Span::styled("▏", theme.accent()),
    ])];
    for w in found.iter().take(8) {
        lines.push(Line::styled(format!("  {w}"), theme.dim()));
    }
    if found.len() > 8 {
        lines.push(Line::styled(format!("  … {} more", found.len() - 8), theme.dim()));
    }
    lines.push(Line::styled("Tab completes · Enter runs (actions still ask first) · Esc closes", theme.dim()));
    boxed(frame, area, " Command ".into(), lines, theme, true);
}

/// One timeline line, whole and wrapped.
fn timeline_line(frame: &mut Frame, area: Rect, app: &App, index: usize, scroll: u16, theme: &Theme) {
    let t = &app.model.fleet.timeline;
    let Some(e) = t.len().checked_sub(index + 1).and_then(|i| t.entries().nth(i)) else { return };
    let lines = vec![
        Line::styled(format!("{} UTC · {}", crate::actions::audit::rfc3339(e.at), e.kind.label()), theme.dim()),
        Line::raw(clean(&e.text).into_owned()),
        Line::styled("Esc closes · ↑↓ scroll", theme.dim()),
    ];
    boxed_scrolled(frame, area, " Timeline ".into(), lines, theme, true, Some(scroll));
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
