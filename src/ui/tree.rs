//! The triage tree (tui-tree-widget). Each node shows the aggregate verdict of
//! its checks; branches the evidence points to stand out in colour and symbol.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use tui_tree_widget::{Tree as TreeWidget, TreeItem, TreeState};

use super::{Theme, pane_block};
use crate::app::App;
use crate::config::GatewayKind;
use crate::triage::Verdict;

fn item(app: &App, i: usize, kind: GatewayKind, theme: &Theme) -> Option<TreeItem<'static, String>> {
    let node = &app.tree.nodes[i];
    if !node.applies(kind) {
        return None;
    }
    let v = app.current_evidence().map_or(Verdict::Unknown, |e| e.node_verdict(&app.tree, i, kind));
    // "·": a question no data can answer (its details say what to ask instead).
    let sym = if node.unanswerable() { "·" } else { v.symbol() };
    let style = theme.verdict(v);
    let text = Line::from(vec![
        Span::styled(format!("{sym} "), style),
        Span::styled(node.title.clone(), if v.points_here() { style } else { ratatui::style::Style::new() }),
    ]);
    let children: Vec<_> = node.children.iter().filter_map(|&c| item(app, c, kind, theme)).collect();
    if children.is_empty() {
        Some(TreeItem::new_leaf(node.id.clone(), text))
    } else {
        TreeItem::new(node.id.clone(), text, children).ok()
    }
}

pub fn render(frame: &mut Frame, area: Rect, app: &App, theme: &Theme, focused: bool) {
    let kind = app.kind();
    let items: Vec<_> = app.tree.roots.iter().filter_map(|&r| item(app, r, kind, theme)).collect();
    // The widget's state is rebuilt each frame from the view (the view owns
    // the selection and the open branches); it scrolls to keep the selection
    // in view, as `tree_window_start` says.
    let mut state = TreeState::<String>::default();
    if let Some(v) = app.tree_view() {
        for id in &v.open {
            state.open(app.tree.path_to(id));
        }
        state.select(app.tree.path_to(&v.selected));
    }
    let failing = app
        .visible_nodes()
        .iter()
        .filter(|&&i| {
            app.tree.nodes[i].is_leaf()
                && app.current_evidence().is_some_and(|e| e.node_verdict(&app.tree, i, kind).points_here())
        })
        .count();
    let next = app.bindings.key_label(crate::keys::Context::Tree, crate::keys::Command::NextFailure);
    let title = match (failing, next) {
        (0, _) | (_, None) => " Triage (Enter: details) ".to_owned(),
        (n, Some(k)) => format!(" Triage (Enter: details · {k}: next of {n} failing) "),
    };
    let block = pane_block(title, focused, theme);
    if let Ok(tree) = TreeWidget::new(&items) {
        let tree = tree
            .block(block)
            .highlight_style(theme.selected())
            .node_closed_symbol("▸ ")
            .node_open_symbol("▾ ")
            .node_no_children_symbol("  ");
        frame.render_stateful_widget(tree, area, &mut state);
    }
}
