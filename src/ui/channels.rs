//! The deployments (LiteLLM) / channels (New API) table. Only the visible
//! window of rows is built, so 5,000 channels cost what 30 do.

use std::collections::HashMap;

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use super::theme::status_symbol;
use super::util::{ago_unix, fit, window};
use super::{Theme, pane_block};
use crate::app::App;
use crate::config::GatewayKind;
use crate::gateway::Deployment;
use crate::gateway::litellm::drift::DriftState;
use crate::gateway::newapi::select::CacheMode;
use crate::secret::short_id;

fn price(d: &Deployment) -> String {
    match (d.input_cost_per_token.get(), d.output_cost_per_token.get()) {
        (Some(i), Some(o)) => format!("{:.2}/{:.2}", i * 1e6, o * 1e6),
        _ => "-".into(),
    }
}

fn drift_label(state: Option<&DriftState>) -> (&'static str, bool) {
    match state {
        None => ("·", false),
        Some(DriftState::Match) => ("✓ match", false),
        Some(s @ DriftState::Drift { .. }) => ("✗ DRIFT", s.is_problem()),
        Some(s) => (s.label(), s.is_problem()),
    }
}

pub fn render(frame: &mut Frame, area: Rect, app: &App, theme: &Theme, focused: bool) {
    let (Some(g), Some(table)) = (app.current(), app.table()) else { return };
    let deps = g.deployments();
    let noun = if g.kind() == GatewayKind::NewApi { "Channels" } else { "Deployments" };
    let mut title = format!(" {noun} ({}", deps.len());
    // A list assembled page by page over earlier polls: how old its pages are.
    if let Some(a) = g.primary().and_then(|s| s.assembled.as_ref()) {
        title.push_str(&format!(
            " · assembled from pages read {} to {}",
            ago_unix(app.now, a.first_at),
            ago_unix(app.now, a.last_at)
        ));
    }
    if !table.filter.is_empty() || table.editing {
        title.push_str(&format!(" · /{}{} → {}", table.filter, if table.editing { "▏" } else { "" }, table.rows.len()));
    }
    title.push_str(&format!(" · by {}{}", table.sort.label(), if table.reverse { " ↑" } else { "" }));
    // New API does not say which selection path its nodes run: the shares
    // are for the mode assumed, and the title says so.
    if g.kind() == GatewayKind::NewApi && CacheMode::of(&g.spec).is_assumed() {
        title.push_str(" · shares if cache off (assumed)");
    }
    title.push_str(") ");
    let block = pane_block(title, focused, theme);
    let inner_h = usize::from(area.height.saturating_sub(3));
    if deps.is_empty() {
        let why = g
            .primary()
            .and_then(|s| s.deployments.describe())
            .or_else(|| g.replicas.iter().find_map(|r| r.error().map(ToString::to_string)))
            .unwrap_or_else(|| if g.ever_polled() { "none".into() } else { "waiting for the first answer…".into() });
        frame.render_widget(
            Paragraph::new(Line::styled(why, theme.dim())).wrap(ratatui::widgets::Wrap { trim: true }).block(block),
            area,
        );
        return;
    }
    let (start, end) = window(table.selected, table.rows.len(), inner_h);
    let medium = area.width >= 66;
    let wide_newapi = area.width >= 110;
    let derived = app.current_derived();
    let live_col = g.kind() == GatewayKind::LiteLlm && !g.traffic.is_empty() && area.width >= 60;
    let spark_col = live_col && area.width >= 104;
    // New API: failures per minute over the half hour, from the error log, when wide.
    let newapi_spark = derived.and_then(|x| x.spark.as_ref()).filter(|_| area.width >= 100);
    // The live column comes before price, upstream model and id: they wait for more width.
    let wide = area.width >= if live_col { 100 } else { 80 };
    let (header, widths, rows): (Vec<&str>, Vec<Constraint>, Vec<Row>) = match g.kind() {
        GatewayKind::LiteLlm => {
            let drift: HashMap<&str, &DriftState> = g
                .drift_rows()
                .map(|rows| rows.iter().filter_map(|r| r.running_id.as_deref().map(|id| (id, &r.state))).collect())
                .unwrap_or_default();
            let rows = table.rows[start..end]
                .iter()
                .map(|&i| {
                    let d = &deps[i];
                    let st = g.effective_status(d);
                    let (dl, bad) = drift_label(drift.get(d.id.as_str()).copied());
                    let mut cells = vec![
                        Cell::from(Span::styled(status_symbol(st), theme.status(st))),
                        Cell::from(&*d.name),
                        Cell::from(Span::styled(dl, if bad { theme.fail() } else { theme.ok() })),
                    ];
                    if live_col {
                        cells.push(live_cell(g.live.get(d.id.as_str()), theme));
                    }
                    cells.push(Cell::from(&*d.provider));
                    if spark_col {
                        let now = g.traffic.newest().unwrap_or(0);
                        cells.push(Cell::from(Span::styled(
                            super::util::spark(&g.traffic.spark(&d.id, now, 10, 180)),
                            theme.fail(),
                        )));
                    }
                    if wide {
                        cells.push(Cell::from(price(d)));
                        cells.push(Cell::from(d.upstream_model.as_deref().unwrap_or_default()));
                        cells.push(Cell::from(Span::styled(short_id(&d.id).to_owned(), theme.dim())));
                    }
                    Row::new(cells)
                })
                .collect();
            let mut widths = vec![Constraint::Length(1), Constraint::Min(12), Constraint::Length(11)];
            let mut header = vec![" ", "Alias", "Key"];
            if live_col {
                widths.push(Constraint::Length(14));
                header.push("Live 5m");
            }
            widths.push(Constraint::Length(9));
            header.push("Provider");
            if spark_col {
                widths.push(Constraint::Length(10));
                header.push("Fail/30m");
            }
            if wide {
                widths.extend([Constraint::Length(11), Constraint::Min(14), Constraint::Length(8)]);
                header.extend(["$/M in/out", "Upstream model", "Id"]);
            }
            (header, widths, rows)
        }
        GatewayKind::NewApi => {
            let rows = table.rows[start..end]
                .iter()
                .map(|&i| {
                    let d = &deps[i];
                    let st = g.effective_status(d);
                    let share = derived.and_then(|x| x.share.get(d.id.as_str())).copied();
                    let starved = share == Some(0.0) && st == crate::gateway::DeploymentStatus::Serving;
                    let mut cells = vec![
                        Cell::from(Span::styled(status_symbol(st), theme.status(st))),
                        Cell::from(&*d.id),
                        Cell::from(&*d.name),
                        Cell::from(d.priority.get().map_or("-".into(), |p| p.to_string())),
                        Cell::from(d.weight.get().map_or("-".into(), |w| w.to_string())),
                        Cell::from(Span::styled(
                            share
                                .map_or("-".into(), |s| format!("{:.0}%{}", s * 100.0, if starved { "!" } else { "" })),
                            if starved { theme.warn() } else { ratatui::style::Style::new() },
                        )),
                    ];
                    if let Some(fails) = derived.and_then(|x| x.fails.as_ref()) {
                        cells.push(match fails.get(d.id.as_str()) {
                            None => Cell::from(Span::styled("·", theme.dim())),
                            Some(c) => Cell::from(Span::styled(c.text(), theme.verdict(c.verdict))),
                        });
                    }
                    if let Some(sp) = newapi_spark {
                        cells.push(Cell::from(Span::styled(super::util::spark(&sp.of(&d.id)), theme.fail())));
                    }
                    if medium {
                        cells.push(Cell::from(d.balance.get().map_or("-".into(), |b| format!("{b:.2}"))));
                        cells.push(Cell::from(d.test_time.get().map_or("never".into(), |t| ago_unix(app.now, t))));
                    }
                    if wide_newapi {
                        cells.push(Cell::from(&*d.provider));
                        cells.push(Cell::from(d.response_time_ms.get().map_or("-".into(), |r| format!("{r}ms"))));
                        cells.push(Cell::from(fit(&d.groups.join(","), 12)));
                        cells.push(Cell::from(fit(&d.models.join(","), 40)));
                    }
                    Row::new(cells)
                })
                .collect();
            let mut widths = vec![
                Constraint::Length(1),
                Constraint::Length(5),
                Constraint::Min(10),
                Constraint::Length(4),
                Constraint::Length(4),
                Constraint::Length(5),
            ];
            let mut header = vec![" ", "#", "Name", "Prio", "Wt", "Share"];
            if derived.and_then(|x| x.fails.as_ref()).is_some() {
                widths.push(Constraint::Length(7));
                header.push("Fail 5m");
            }
            if newapi_spark.is_some() {
                widths.push(Constraint::Length(10));
                header.push("Fail/30m");
            }
            if medium {
                widths.extend([Constraint::Length(8), Constraint::Length(9)]);
                header.extend(["Balance", "Tested"]);
            }
            if wide_newapi {
                widths.extend([
                    Constraint::Length(10),
                    Constraint::Length(7),
                    Constraint::Length(10),
                    Constraint::Min(12),
                ]);
                header.extend(["Type", "Resp", "Group", "Models"]);
            }
            (header, widths, rows)
        }
    };
    let selected_in_window = table.selected.checked_sub(start);
    let mut state = ratatui::widgets::TableState::default();
    if focused || table.editing {
        state.select(selected_in_window);
    }
    let table = Table::new(rows, widths)
        .header(Row::new(header.into_iter().map(|h| Cell::from(Span::styled(h, theme.bold())))))
        .row_highlight_style(theme.selected())
        .column_spacing(1)
        .block(block);
    frame.render_stateful_widget(table, area, &mut state);
}

/// A deployment's live requests in the table: failing share and counts, or
/// the request rate when nothing fails.
fn live_cell(w: Option<&crate::traffic::Window>, theme: &Theme) -> Cell<'static> {
    let Some(w) = w else { return Cell::from(Span::styled("·", theme.dim())) };
    if w.failures > 0.0 {
        let style = if w.error_ratio() >= 0.5 { theme.fail() } else { theme.warn() };
        let text = format!("✗ {:.0}/{:.0} fail", w.failures, w.requests);
        return Cell::from(Span::styled(text, style));
    }
    match w.requests_per_min() {
        Some(r) if w.requests > 0.0 => Cell::from(Span::styled(format!("✓ {r:.1}/min"), theme.ok())),
        _ if w.requests > 0.0 => Cell::from(Span::styled(format!("✓ {:.0} ok", w.requests), theme.ok())),
        _ => Cell::from(Span::styled("no requests", theme.dim())),
    }
}
