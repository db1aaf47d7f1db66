//! The tree as the app uses it: nodes in a flat arena, addressed by index,
//! with parent/children links and an id index.

use std::collections::HashMap;

use serde::Deserialize;

use crate::config::GatewayKind;

/// One node as written in the YAML file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeDef {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub applies_to: Vec<GatewayKind>,
    #[serde(default)]
    pub look_at: String,
    #[serde(default)]
    pub checks: Vec<String>,
    #[serde(default)]
    pub no_data: Option<String>,
    #[serde(default)]
    pub truth: Option<String>,
    #[serde(default)]
    pub remedy: Vec<String>,
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
    pub look_at: String,
    pub checks: Vec<String>,
    pub no_data: Option<String>,
    pub truth: Option<String>,
    pub remedy: Vec<String>,
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
        self.nodes.push(TreeNode {
            id: def.id.clone(),
            title: def.title,
            applies_to: def.applies_to,
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

    /// Every check referenced anywhere below (and at) a node.
    pub fn checks_under(&self, i: usize) -> Vec<&str> {
        let mut out: Vec<&str> = self.nodes[i].checks.iter().map(String::as_str).collect();
        for &c in &self.nodes[i].children {
            out.extend(self.checks_under(c));
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}
