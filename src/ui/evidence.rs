//! The evidence beside the selected tree node: each check's verdict and the
//! facts behind it, then the first remedy step and the action keys.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::util::{ago, fit};
use super::{Theme, pane_block};
use crate::app::App;
use crate::triage::Verdict;
use crate::triage::evidence::{Evidence, Finding};
use crate::triage::model::TreeNode;

pub fn render(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let Some(i) = app.selected_node() else { return };
    let node = &app.tree.nodes[i];
    let kind = app.kind();
    let width = usize::from(area.width.saturating_sub(2));
    let mut lines: Vec<Line> = Vec::new();
    let checks = app.tree.checks_under(i, kind);
    let mut facts: Vec<Line> = Vec::new();
    if let Some(ev) = app.current_evidence() {
        // The node's own answer first, with how much of it could be answered.
        if let Some(c) = ev.node(&app.tree, i, kind).coverage() {
            lines.push(Line::styled(format!("{c}: the rest cannot be checked yet"), theme.dim()));
        }
        lines.extend(reference_lines(app, ev, node, theme, width));
        for c in &checks {
            let Some(f) = ev.get(c) else { continue };
            if f.verdict == Verdict::NotApplicable {
                continue;
            }
            // The node asks one question of this check: its answer is above,
            // the check's whole summary would only push the remedy down.
            let own_question = node.checks.iter().any(|r| r.strip_prefix(*c).is_some_and(|q| q.starts_with('#')));
            let max_facts = if checks.len() == 1 { 12 } else { 3 };
            if own_question {
                for fact in f.facts.iter().take(max_facts) {
                    facts.push(Line::styled(format!("   {}", fit(fact, width.max(20) * 3)), theme.dim()));
                }
                continue;
            }
            lines.push(Line::from(vec![
                Span::styled(format!("{} ", f.verdict.symbol()), theme.verdict(f.verdict)),
                Span::styled(format!("{c}: "), theme.bold()),
                Span::raw(f.summary.clone()),
                Span::styled(age(app, f), theme.dim()),
            ]));
            if let Some(next) = f.next {
                lines.push(next_line(app, next, theme));
            }
            for fact in f.facts.iter().take(max_facts) {
                facts.push(Line::styled(format!("   {}", fit(fact, width.max(20) * 3)), theme.dim()));
            }
        }
    }
    if let Some(nd) = &node.no_data {
        lines.push(Line::styled(format!("· no live data: {nd}"), theme.dim()));
    }
    if let Some(old) = stale_data(app) {
        lines.push(Line::styled(old, theme.warn()));
    }
    // The next step and the keys come before the details, so they stay visible in a small pane.
    let remedy = node.remedy(kind);
    if let Some(first) = remedy.first() {
        lines.push(Line::from(vec![
            Span::styled("→ ", theme.accent()),
            Span::raw(super::util::with_keys(first, &app.bindings)),
        ]));
    }
    let keys: Vec<String> = action_keys(app, node).iter().map(|(k, a)| format!("{k}:{a}")).collect();
    if !keys.is_empty() {
        lines.push(Line::styled(format!("keys  {}  (Enter: full details)", keys.join("  ")), theme.accent()));
    }
    lines.extend(facts);
    for step in remedy.iter().skip(1) {
        lines.push(Line::from(vec![
            Span::styled("→ ", theme.accent()),
            Span::raw(super::util::with_keys(step, &app.bindings)),
        ]));
    }
    let title = format!(" Evidence: {} ", fit(&node.title, width.saturating_sub(12)));
    let p = Paragraph::new(lines).wrap(Wrap { trim: false }).block(pane_block(title, false, theme));
    frame.render_widget(p, area);
}

/// The answers to the node's own questions (`check#question` references):
/// what makes this node's symbol, apart from the check as a whole.
pub fn reference_lines<'a>(app: &App, ev: &'a Evidence, node: &TreeNode, theme: &Theme, width: usize) -> Vec<Line<'a>> {
    let _ = app;
    node.checks
        .iter()
        .filter(|r| r.contains('#'))
        .map(|r| {
            let (v, why) = ev.reference(r);
            Line::from(vec![
                Span::styled(format!("{} ", v.symbol()), theme.verdict(v)),
                Span::styled(format!("{r}: "), theme.bold()),
                Span::raw(fit(why, width.max(20).saturating_mul(2))),
            ])
        })
        .collect()
}

/// " (probe 12s ago)": how old a finding's evidence is, when it is not the
/// data of the last poll (the status line gives that age).
pub fn age(app: &App, f: &Finding) -> String {
    let polled = app.current().and_then(|g| g.data_at().or(g.last_poll_at));
    match f.at {
        Some(at) if Some(at) != polled => format!(" (probe {})", ago(app.now, at)),
        _ => String::new(),
    }
}

/// When the last poll failed and the verdicts stand on older data: how old.
pub fn stale_data(app: &App) -> Option<String> {
    let g = app.current()?;
    let (data, polled) = (g.data_at()?, g.last_poll_at?);
    (polled > data).then(|| format!("verdicts from data read {}: the last poll failed", ago(app.now, data)))
}

/// The action keys a node offers here: those that exist for this kind of
/// gateway, that this session allows (none that change a gateway or spend
/// money in a read-only session, unless probes are allowed), and that are
/// bound to a key (as the binding table says, rebindings included).
/// The step that would answer an open question, with the key in force for it.
fn next_line(app: &App, next: crate::triage::evidence::Next, theme: &Theme) -> Line<'static> {
    use crate::keys::{Command, Context};
    use crate::triage::evidence::Next;
    let (context, command) = match next {
        Next::Run(a) => (Context::Actions, Command::Action(a)),
        Next::ClientModels => (Context::Global, Command::TypeModel),
    };
    let how = match app.bindings.key_label(context, command) {
        Some(k) => format!("press {k}: {}", next.what()),
        None => format!("`:{}` in the palette: {}", command.name(), next.what()),
    };
    let how = match next {
        Next::ClientModels => format!("{how} (or list them under client_models in the config)"),
        Next::Run(_) => format!("{how} (asked first)"),
    };
    Line::from(vec![Span::styled("  → ", theme.accent()), Span::raw(how)])
}

pub fn action_keys<'a>(app: &App, node: &'a TreeNode) -> Vec<(String, &'a str)> {
    node.actions(app.kind())
        .into_iter()
        .filter(|a| app.allows(a))
        .filter_map(|a| {
            let kind = crate::keys::ActionKind::from_key(a)?;
            let key = app.bindings.key_label(crate::keys::Context::Actions, crate::keys::Command::Action(kind))?;
            Some((key, a))
        })
        .collect()
}
