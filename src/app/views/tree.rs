//! The triage tree's view: which branches are open, which node is selected,
//! and moving between failures. Selection is kept by node id.

use std::collections::{BTreeSet, HashSet};

use crate::config::GatewayKind;
use crate::keys::Command;
use crate::triage::Tree;
use crate::triage::evidence::{Evidence, Verdict};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeView {
    pub open: BTreeSet<String>,
    pub selected: String,
    /// Branches opened once for the evidence, so the operator can close them.
    auto_opened: HashSet<String>,
    /// The cursor went to the most severe failure once, when the first
    /// evidence arrived; after that it stays where the operator puts it.
    placed: bool,
}

/// What a tree command asks the app to do besides moving.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TreeOutcome {
    None,
    /// Open the details of this node.
    Details(usize),
    /// No failing node to go to.
    NoFailure,
}

impl TreeView {
    pub fn new(tree: &Tree, kind: GatewayKind) -> Self {
        let first = tree.roots.iter().find(|&&i| tree.nodes[i].applies(kind)).map(|&i| tree.nodes[i].id.clone());
        Self { open: BTreeSet::new(), selected: first.unwrap_or_default(), auto_opened: HashSet::new(), placed: false }
    }

    /// The nodes shown, in display order, with the open/closed state applied.
    pub fn visible(&self, tree: &Tree, kind: GatewayKind) -> Vec<usize> {
        fn walk(v: &TreeView, tree: &Tree, i: usize, kind: GatewayKind, out: &mut Vec<usize>) {
            let n = &tree.nodes[i];
            if !n.applies(kind) {
                return;
            }
            out.push(i);
            if v.open.contains(n.id.as_str()) {
                for &c in &n.children {
                    walk(v, tree, c, kind, out);
                }
            }
        }
        let mut out = Vec::new();
        for &r in &tree.roots {
            walk(self, tree, r, kind, &mut out);
        }
        out
    }

    pub fn selected_node(&self, tree: &Tree) -> Option<usize> {
        tree.position(&self.selected)
    }

    /// Put the cursor back on a shown node (after a gateway switch).
    pub fn ensure_visible(&mut self, tree: &Tree, kind: GatewayKind) {
        let visible = self.visible(tree, kind);
        if !visible.iter().any(|&i| tree.nodes[i].id == self.selected)
            && let Some(&first) = visible.first()
        {
            self.selected.clone_from(&tree.nodes[first].id);
        }
    }

    /// Open the branches the evidence points to (once each), and the first
    /// time there is a failure, put the cursor on the most severe one.
    pub fn follow(&mut self, tree: &Tree, kind: GatewayKind, ev: &Evidence) {
        for (i, node) in tree.nodes.iter().enumerate() {
            if node.is_leaf() || !node.applies(kind) || self.auto_opened.contains(node.id.as_str()) {
                continue;
            }
            if ev.node_verdict(tree, i, kind).points_here() {
                self.auto_opened.insert(node.id.clone());
                self.open.insert(node.id.clone());
            }
        }
        if !self.placed
            && let Some(i) = most_severe(tree, kind, ev)
        {
            self.select(tree, i);
            self.placed = true;
        }
    }

    /// Select node `i`, opening its ancestors so it shows.
    pub fn select(&mut self, tree: &Tree, i: usize) {
        let mut p = tree.nodes[i].parent;
        while let Some(x) = p {
            self.open.insert(tree.nodes[x].id.clone());
            p = tree.nodes[x].parent;
        }
        self.selected.clone_from(&tree.nodes[i].id);
    }

    /// Handle a moving or opening command; `page` is the pane's height in rows.
    pub fn handle(&mut self, cmd: Command, tree: &Tree, kind: GatewayKind, ev: &Evidence, page: usize) -> TreeOutcome {
        // The operator steers from now on.
        self.placed = true;
        let visible = self.visible(tree, kind);
        let pos = visible.iter().position(|&i| tree.nodes[i].id == self.selected).unwrap_or(0);
        let last = visible.len().saturating_sub(1);
        let mut go = |p: usize| {
            if let Some(&i) = visible.get(p) {
                self.selected.clone_from(&tree.nodes[i].id);
            }
        };
        match cmd {
            Command::Up => go(pos.saturating_sub(1)),
            Command::Down => go((pos + 1).min(last)),
            Command::PageUp => go(pos.saturating_sub(page.max(1))),
            Command::PageDown => go((pos + page.max(1)).min(last)),
            Command::Top => go(0),
            Command::Bottom => go(last),
            Command::Left => {
                if !self.open.remove(&self.selected)
                    && let Some(p) = self.selected_node(tree).and_then(|i| tree.nodes[i].parent)
                {
                    self.selected.clone_from(&tree.nodes[p].id);
                }
            }
            Command::Right | Command::Enter => {
                if let Some(i) = self.selected_node(tree) {
                    if tree.nodes[i].is_leaf() {
                        return TreeOutcome::Details(i);
                    }
                    if cmd == Command::Right || !self.open.remove(&self.selected) {
                        self.open.insert(self.selected.clone());
                    }
                }
            }
            Command::NextFailure | Command::PrevFailure => {
                let failing = failing_in_order(tree, kind, ev);
                let here = self.selected_node(tree);
                let order: Vec<usize> = all_in_order(tree, kind);
                let at = here.and_then(|h| order.iter().position(|&x| x == h)).unwrap_or(0);
                let rank = |i: usize| order.iter().position(|&x| x == i).unwrap_or(0);
                let next = if cmd == Command::NextFailure {
                    failing.iter().find(|&&i| rank(i) > at).or_else(|| failing.first())
                } else {
                    failing.iter().rev().find(|&&i| rank(i) < at).or_else(|| failing.last())
                };
                match next {
                    Some(&i) => self.select(tree, i),
                    None => return TreeOutcome::NoFailure,
                }
            }
            _ => {}
        }
        TreeOutcome::None
    }
}

/// Every node that applies, depth first, open or not.
fn all_in_order(tree: &Tree, kind: GatewayKind) -> Vec<usize> {
    fn walk(tree: &Tree, i: usize, kind: GatewayKind, out: &mut Vec<usize>) {
        if !tree.nodes[i].applies(kind) {
            return;
        }
        out.push(i);
        for &c in &tree.nodes[i].children {
            walk(tree, c, kind, out);
        }
    }
    let mut out = Vec::new();
    for &r in &tree.roots {
        walk(tree, r, kind, &mut out);
    }
    out
}

/// The leaves that fail or warn, in tree order.
fn failing_in_order(tree: &Tree, kind: GatewayKind, ev: &Evidence) -> Vec<usize> {
    all_in_order(tree, kind)
        .into_iter()
        .filter(|&i| tree.nodes[i].is_leaf() && ev.node_verdict(tree, i, kind).points_here())
        .collect()
}

/// The failing leaf that costs most (a failure before a warning, then the
/// tree's `impact:`, then tree order).
fn most_severe(tree: &Tree, kind: GatewayKind, ev: &Evidence) -> Option<usize> {
    failing_in_order(tree, kind, ev)
        .into_iter()
        .enumerate()
        .min_by_key(|&(order, i)| (ev.node_verdict(tree, i, kind) != Verdict::Fail, tree.nodes[i].impact, order))
        .map(|(_, i)| i)
}
