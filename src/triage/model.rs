//! The tree as the app uses it: nodes in a flat arena, addressed by index,
//! with parent/children links and an id index.

use std::collections::HashMap;

use serde::Deserialize;

use crate::config::GatewayKind;

/// Text that may differ per gateway kind: a plain string (every kind), or
/// `{all: …, litellm: …, newapi: …}` with any of the keys.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum KindText {
    #[default]
    None,
    All(String),
    Per {
        #[serde(default)]
        all: Option<String>,
        #[serde(default)]
        litellm: Option<String>,
        #[serde(default)]
        newapi: Option<String>,
    },
}

impl KindText {
    /// The text for this kind: the common part, then the kind's own.
    pub fn for_kind(&self, kind: GatewayKind) -> Option<String> {
        match self {
            Self::None => None,
            Self::All(s) => Some(s.clone()),
            Self::Per { all, litellm, newapi } => {
                let own = match kind {
                    GatewayKind::LiteLlm => litellm,
                    GatewayKind::NewApi => newapi,
                };
                match (all, own) {
                    (Some(a), Some(o)) => Some(format!("{a} {o}")),
                    (Some(t), None) | (None, Some(t)) => Some(t.clone()),
                    (None, None) => None,
                }
            }
        }
    }

    /// Every text it holds (for validation).
    pub fn all_texts(&self) -> Vec<&str> {
        match self {
            Self::None => Vec::new(),
            Self::All(s) => vec![s.as_str()],
            Self::Per { all, litellm, newapi } => {
                [all, litellm, newapi].into_iter().flatten().map(String::as_str).collect()
            }
        }
    }
}

/// What a failure under a node costs the operator, most severe first: where
/// gatewatch puts the cursor when it opens (children inherit it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Impact {
    /// Requests fail: the gateway, a model or a key is down.
    Outage,
    /// Requests succeed badly: cut streams, starved channels.
    Degraded,
    /// Requests succeed and cost more than they should.
    Cost,
    #[default]
    Other,
    /// Hardening: nothing is failing because of it right now.
    Hygiene,
}

/// One node as written in the YAML file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeDef {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub applies_to: Vec<GatewayKind>,
    /// What a failure here costs (inherited by the children when unset).
    #[serde(default)]
    pub impact: Option<Impact>,
    #[serde(default)]
    pub look_at: KindText,
    #[serde(default)]
    pub checks: Vec<String>,
    #[serde(default)]
    pub no_data: Option<String>,
    #[serde(default)]
    pub truth: KindText,
    #[serde(default)]
    pub remedy: Vec<KindText>,
    #[serde(default)]
    pub actions: Vec<String>,
    #[serde(default)]
    pub children: Vec<NodeDef>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TreeFile {
    pub version: u32,
    pub nodes: Vec<NodeDef>,
}

/// A node in the arena.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeNode {
    pub id: String,
    pub title: String,
    pub applies_to: Vec<GatewayKind>,
    pub impact: Impact,
    pub look_at: KindText,
    /// Check ids (`key-drift`), or one question a check answers
    /// (`gateway-reachable#proxy-page`): what answers this node itself.
    pub checks: Vec<String>,
    pub no_data: Option<String>,
    pub truth: KindText,
    pub remedy: Vec<KindText>,
    pub actions: Vec<String>,
    pub parent: Option<usize>,
    pub children: Vec<usize>,
    pub depth: usize,
}

impl TreeNode {
    pub fn is_leaf(&self) -> bool {
        self.children.is_empty()
    }

    pub fn applies(&self, kind: GatewayKind) -> bool {
        self.applies_to.is_empty() || self.applies_to.contains(&kind)
    }

    /// A leaf no check can answer (it says why in `no_data`).
    pub fn unanswerable(&self) -> bool {
        self.is_leaf() && self.checks.is_empty() && self.no_data.is_some()
    }

    pub fn look_at(&self, kind: GatewayKind) -> String {
        self.look_at.for_kind(kind).unwrap_or_default()
    }

    pub fn truth(&self, kind: GatewayKind) -> Option<String> {
        self.truth.for_kind(kind)
    }

    /// The remedy steps that apply to this kind of gateway.
    pub fn remedy(&self, kind: GatewayKind) -> Vec<String> {
        self.remedy.iter().filter_map(|r| r.for_kind(kind)).collect()
    }

    /// The action keys that exist for this kind of gateway.
    pub fn actions(&self, kind: GatewayKind) -> Vec<&str> {
        self.actions
            .iter()
            .map(String::as_str)
            .filter(|a| crate::actions::GatewayAction::key_applies(a, kind))
            .collect()
    }
}

/// The whole tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tree {
    pub nodes: Vec<TreeNode>,
    pub roots: Vec<usize>,
    index: HashMap<String, usize>,
}

impl Tree {
    pub fn from_file(file: TreeFile) -> Self {
        let mut tree = Tree { nodes: Vec::new(), roots: Vec::new(), index: HashMap::new() };
        for def in file.nodes {
            let i = tree.add(def, None, 0);
            tree.roots.push(i);
        }
        tree
    }

    fn add(&mut self, def: NodeDef, parent: Option<usize>, depth: usize) -> usize {
        let i = self.nodes.len();
        // A child of a node for one kind is for that kind too.
        let applies_to = match parent {
            Some(p) if def.applies_to.is_empty() => self.nodes[p].applies_to.clone(),
            _ => def.applies_to,
        };
        let impact = def.impact.or_else(|| parent.map(|p| self.nodes[p].impact)).unwrap_or_default();
        self.nodes.push(TreeNode {
            id: def.id.clone(),
            title: def.title,
            applies_to,
            impact,
            look_at: def.look_at,
            checks: def.checks,
            no_data: def.no_data,
            truth: def.truth,
            remedy: def.remedy,
            actions: def.actions,
            parent,
            children: Vec::new(),
            depth,
        });
        // Duplicates are reported by validation; the first wins the index.
        self.index.entry(def.id).or_insert(i);
        for child in def.children {
            let c = self.add(child, Some(i), depth + 1);
            self.nodes[i].children.push(c);
        }
        i
    }

    pub fn get(&self, id: &str) -> Option<&TreeNode> {
        self.index.get(id).map(|&i| &self.nodes[i])
    }

    pub fn position(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    /// Ids from the root down to `id`, inclusive.
    pub fn path_to(&self, id: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut cur = self.position(id);
        while let Some(i) = cur {
            out.push(self.nodes[i].id.clone());
            cur = self.nodes[i].parent;
        }
        out.reverse();
        out
    }

    /// Every check referenced at and below a node that applies to `kind`
    /// (check ids, without the `#question` part), once each, in tree order.
    pub fn checks_under(&self, i: usize, kind: GatewayKind) -> Vec<&str> {
        let mut out = Vec::new();
        self.collect_checks(i, kind, &mut out);
        out
    }

    fn collect_checks<'a>(&'a self, i: usize, kind: GatewayKind, out: &mut Vec<&'a str>) {
        let n = &self.nodes[i];
        if !n.applies(kind) {
            return;
        }
        for c in &n.checks {
            let id = c.split_once('#').map_or(c.as_str(), |(id, _)| id);
            if !out.contains(&id) {
                out.push(id);
            }
        }
        for &c in &n.children {
            self.collect_checks(c, kind, out);
        }
    }
}
