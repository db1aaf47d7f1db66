//! Key fingerprints: what the config file holds vs. what the running gateway
//! holds, per deployment and per replica. Fingerprints only, never a key.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use super::util::{fit, window};
use super::{Theme, pane_block};
use crate::app::App;
use crate::config::GatewayKind;
use crate::gateway::litellm::drift::DriftState;
use crate::secret::short_id;

pub fn render(frame: &mut Frame, area: Rect, app: &App, theme: &Theme, focused: bool) {
    let Some(g) = app.current() else { return };
    let width = usize::from(area.width.saturating_sub(2));
    let height = usize::from(area.height.saturating_sub(2));
    let mut head: Vec<Line> = Vec::new();
    let mut rows: Vec<Row> = Vec::new();
    let widths;
    let header;
    match g.kind() {
        GatewayKind::LiteLlm => {
            match (g.local.proxy_config(), g.drift_rollup()) {
                (None, _) => head.push(Line::styled("config_file not set: ids shown, no file to compare", theme.dim())),
                (Some(Err(e)), _) => {
                    head.push(Line::styled(fit(&format!("config file unusable: {e}"), width * 2), theme.fail()));
                }
                (Some(Ok(cfg)), Some(r)) => {
                    let clean = r.compared > 0 && r.clean == r.replicas;
                    let unsure = !clean && r.inconclusive > 0 && r.clean + r.inconclusive == r.compared;
                    let (sym, style) = match (clean, unsure) {
                        (true, _) => ("✓", theme.ok()),
                        (_, true) => ("?", theme.dim()),
                        _ => ("✗", theme.fail()),
                    };
                    head.push(Line::styled(format!("{sym} {}", r.describe()), style));
                    // Where os.environ/ names resolve, when that leaves a deployment unknown.
                    let env_unknown = g
                        .drift_rows()
                        .is_some_and(|rows| rows.iter().any(|r| matches!(r.state, DriftState::Unverifiable { .. })));
                    if env_unknown {
                        head.push(Line::styled(fit(&cfg.env.describe(), width), theme.dim()));
                    }
                    if g.replicas.len() > 1 {
                        let per: Vec<Span> = g
                            .replicas
                            .iter()
                            .map(|rep| match rep.drift_clean() {
                                Some(true) => Span::styled(format!("✓{} ", host(&rep.url)), theme.ok()),
                                Some(false) => Span::styled(format!("✗{} ", host(&rep.url)), theme.fail()),
                                None => Span::styled(format!("?{} ", host(&rep.url)), theme.dim()),
                            })
                            .collect();
                        head.push(Line::from(per));
                    }
                }
                (Some(Ok(_)), None) => {}
            }
            let narrow = width < 64;
            header = if narrow {
                vec![" ", "Alias", "File", "Proxy"]
            } else {
                vec![" ", "Alias", "File key", "Proxy holds", "Id file→proxy"]
            };
            widths = if narrow {
                vec![Constraint::Length(1), Constraint::Min(10), Constraint::Length(8), Constraint::Length(8)]
            } else {
                vec![
                    Constraint::Length(1),
                    Constraint::Min(10),
                    Constraint::Length(15),
                    Constraint::Length(15),
                    Constraint::Length(17),
                ]
            };
            let fp = |f: crate::secret::Fingerprint| if narrow { f.short_hex() } else { f.to_string() };
            if let Some(drift) = g.drift_rows() {
                let (s, e) = window(
                    app.views.current().map_or(0, |v| v.keys),
                    drift.len(),
                    height.saturating_sub(head.len() + 1),
                );
                for r in &drift[s..e] {
                    let bad = r.state.is_problem();
                    let unsure = r.state.is_inconclusive();
                    let held = match (&r.state, r.running_key) {
                        // The id proves nothing about the key: nothing to claim.
                        (s, _) if s.is_inconclusive() => "? (unknown)".into(),
                        (_, Some(k)) => fp(k),
                        (DriftState::Drift { .. }, None) => "other (unknown)".into(),
                        (DriftState::OnlyInConfig, _) => "not loaded".into(),
                        _ => "-".into(),
                    };
                    let ids = format!(
                        "{}→{}",
                        r.file_id.as_deref().map_or("-", short_id),
                        r.running_id.as_deref().map_or("-", short_id)
                    );
                    rows.push(Row::new(vec![
                        Cell::from(match (bad, unsure) {
                            (true, _) => Span::styled("✗", theme.fail()),
                            (_, true) => Span::styled("?", theme.dim()),
                            _ => Span::styled("✓", theme.ok()),
                        }),
                        Cell::from(format!("{} {}", r.model_name, if bad || unsure { r.state.label() } else { "" })),
                        Cell::from(r.file_key.map_or("-".into(), fp)),
                        Cell::from(Span::styled(held, if bad { theme.fail() } else { ratatui::style::Style::new() })),
                        Cell::from(Span::styled(ids, theme.dim())),
                    ]));
                }
                if let Some(first) = drift
                    .iter()
                    .find(|r| r.state.is_problem())
                    .or_else(|| drift.iter().find(|r| r.state.is_inconclusive()))
                {
                    let style = if first.state.is_problem() { theme.fail() } else { theme.dim() };
                    head.push(Line::styled(fit(&first.summary(), width * 2), style));
                }
            } else {
                for d in g.deployments().iter().take(height) {
                    rows.push(Row::new(vec![
                        Cell::from("·"),
                        Cell::from(&*d.name),
                        Cell::from("-"),
                        Cell::from("(api_key hidden)"),
                        Cell::from(Span::styled(short_id(&d.id).to_owned(), theme.dim())),
                    ]));
                }
            }
        }
        GatewayKind::NewApi => {
            head.push(Line::styled(
                "channel keys: not readable with an access token (New API never returns them)",
                theme.dim(),
            ));
            if let Some(e) = g.local.newapi().and_then(|n| n.intended_keys_error.as_ref()) {
                head.push(Line::styled(fit(e, width), theme.fail()));
            }
            header = vec!["#", "Channel", "Intended key", "From"];
            widths = vec![Constraint::Length(5), Constraint::Min(10), Constraint::Length(16), Constraint::Length(16)];
            let deps = g.deployments();
            let (s, e) =
                window(app.views.current().map_or(0, |v| v.keys), deps.len(), height.saturating_sub(head.len() + 1));
            for d in &deps[s..e] {
                let intended =
                    g.local.newapi().and_then(|n| n.intended_keys.iter().find(|(id, _)| *id == d.id).map(|(_, k)| k));
                let (fp, from) = match intended {
                    Some(k) => (k.fingerprint.map_or_else(|| "not set".into(), |f| f.to_string()), k.label.clone()),
                    None => ("—".into(), "not configured".into()),
                };
                rows.push(Row::new(vec![
                    Cell::from(&*d.id),
                    Cell::from(&*d.name),
                    Cell::from(fp),
                    Cell::from(Span::styled(from, theme.dim())),
                ]));
            }
        }
    }
    let block = pane_block(" Keys (fingerprints: sha256, 8 hex) ", focused, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let head_h = u16::try_from(head.len()).unwrap_or(0).min(inner.height);
    let [head_a, table_a] =
        ratatui::layout::Layout::vertical([Constraint::Length(head_h), Constraint::Min(0)]).areas(inner);
    frame.render_widget(Paragraph::new(head), head_a);
    let table = Table::new(rows, widths)
        .header(Row::new(header.into_iter().map(|h| Cell::from(Span::styled(h, theme.bold())))))
        .column_spacing(1);
    frame.render_widget(table, table_a);
}

fn host(url: &str) -> String {
    reqwest::Url::parse(url).ok().map_or_else(
        || url.to_owned(),
        |u| format!("{}:{}", u.host_str().unwrap_or("?"), u.port_or_known_default().unwrap_or(0)),
    )
}
