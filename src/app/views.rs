//! Per-pane view state: what each pane shows and where its cursor is, per
//! gateway (a filter typed on one gateway never hides another's channels).
//! Each pane handles its own commands.

pub mod table;
pub mod timeline;
pub mod tree;

use crate::config::GatewayKind;
use crate::model::Model;
use crate::triage::Tree;

pub use table::TableView;
pub use timeline::TimelineView;
pub use tree::TreeView;

/// Where the keyboard focus is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Tree,
    Deployments,
    Keys,
    Timeline,
}

impl Pane {
    pub fn next(self) -> Self {
        match self {
            Self::Tree => Self::Deployments,
            Self::Deployments => Self::Keys,
            Self::Keys => Self::Timeline,
            Self::Timeline => Self::Tree,
        }
    }

    pub fn prev(self) -> Self {
        match self {
            Self::Tree => Self::Timeline,
            Self::Deployments => Self::Tree,
            Self::Keys => Self::Deployments,
            Self::Timeline => Self::Keys,
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Self::Tree => "Triage",
            Self::Deployments => "Deployments",
            Self::Keys => "Keys",
            Self::Timeline => "Timeline",
        }
    }
}

/// One gateway's panes.
#[derive(Debug, Clone)]
pub struct GatewayViews {
    pub tree: TreeView,
    pub table: TableView,
    /// The keys pane's cursor.
    pub keys: usize,
}

/// Every pane's state: which gateway and pane are shown, and each gateway's own panes.
#[derive(Debug, Clone)]
pub struct Views {
    pub gateway: usize,
    pub focus: Pane,
    pub per_gateway: Vec<GatewayViews>,
    pub timeline: TimelineView,
}

impl Views {
    pub fn new(model: &Model, tree: &Tree) -> Self {
        let per_gateway = model
            .fleet
            .gateways
            .iter()
            .map(|g| GatewayViews { tree: TreeView::new(tree, g.spec.kind), table: TableView::default(), keys: 0 })
            .collect();
        Self { gateway: 0, focus: Pane::Tree, per_gateway, timeline: TimelineView::default() }
    }

    pub fn kind(&self, model: &Model) -> GatewayKind {
        model.gateway(self.gateway).map_or(GatewayKind::LiteLlm, |g| g.spec.kind)
    }

    /// The current gateway's panes.
    pub fn current(&self) -> Option<&GatewayViews> {
        self.per_gateway.get(self.gateway)
    }

    pub fn current_mut(&mut self) -> Option<&mut GatewayViews> {
        self.per_gateway.get_mut(self.gateway)
    }
}
