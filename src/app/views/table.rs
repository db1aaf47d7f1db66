//! The deployments / channels table's view: filter, sort and cursor, per
//! gateway. Rows are recomputed only when the data, the filter or the sort
//! changes — never per frame.

use crate::fleet::GatewayObs;
use crate::gateway::Deployment;
use crate::keys::Command;
use crate::table::{self, Derived, SortKey};

#[derive(Debug, Clone, PartialEq)]
pub struct TableView {
    pub selected: usize,
    pub sort: SortKey,
    pub reverse: bool,
    pub filter: String,
    /// The filter is being typed.
    pub editing: bool,
    /// The visible rows: indices into the gateway's deployments.
    pub rows: Vec<usize>,
    /// The poll count the rows were computed for.
    rows_for: Option<u64>,
    /// The shown list's order by name, made once per list.
    names: table::NameRanks,
}

impl Default for TableView {
    fn default() -> Self {
        Self {
            selected: 0,
            sort: SortKey::Status,
            reverse: false,
            filter: String::new(),
            editing: false,
            rows: Vec::new(),
            rows_for: None,
            names: table::NameRanks::default(),
        }
    }
}

/// What a table command asks the app to do besides moving.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TableOutcome {
    None,
    /// Open the details of this row (deployment or channel id).
    Details(String),
    /// Something to tell the operator.
    Say(String),
}

/// The longest filter kept (it is typed, not pasted data).
const FILTER_MAX: usize = 120;

impl TableView {
    pub fn selected_deployment<'a>(&self, g: &'a GatewayObs) -> Option<&'a Deployment> {
        self.rows.get(self.selected).and_then(|&i| g.deployments().get(i))
    }

    /// Recompute the rows when the data changed (or always, `force`),
    /// keeping the cursor on the same row.
    pub fn refresh(&mut self, g: &GatewayObs, derived: &Derived, force: bool) {
        if !force && self.rows_for == Some(g.polls) {
            return;
        }
        let selected_id = self.selected_deployment(g).map(|d| d.id.clone());
        self.rows = table::rows(g, derived, &self.filter, self.sort, self.reverse, &mut self.names);
        self.rows_for = Some(g.polls);
        let deps = g.deployments();
        self.selected = selected_id
            .and_then(|id| self.rows.iter().position(|&i| deps.get(i).is_some_and(|d| d.id == id)))
            .unwrap_or_else(|| self.selected.min(self.rows.len().saturating_sub(1)));
    }

    /// Handle a table command; `page` is the pane's height in rows.
    pub fn handle(&mut self, cmd: Command, g: &GatewayObs, derived: &Derived, page: usize) -> TableOutcome {
        let n = self.rows.len();
        let last = n.saturating_sub(1);
        let s = &mut self.selected;
        match cmd {
            Command::Up => *s = s.saturating_sub(1),
            Command::Down => *s = (*s + 1).min(last),
            Command::PageUp => *s = s.saturating_sub(page.max(1)),
            Command::PageDown => *s = (*s + page.max(1)).min(last),
            Command::Top => *s = 0,
            Command::Bottom => *s = last,
            Command::Enter | Command::Right => {
                if let Some(d) = self.selected_deployment(g) {
                    return TableOutcome::Details(d.id.to_string());
                }
            }
            Command::Filter => self.editing = true,
            Command::Back if !self.filter.is_empty() => {
                self.filter.clear();
                self.refresh(g, derived, true);
                return TableOutcome::Say("filter cleared".into());
            }
            Command::Sort | Command::SortReverse => {
                let keys = SortKey::all(g.kind());
                if cmd == Command::Sort {
                    let i = keys.iter().position(|k| *k == self.sort).map_or(0, |i| (i + 1) % keys.len());
                    self.sort = keys[i];
                } else {
                    self.reverse = !self.reverse;
                }
                self.refresh(g, derived, true);
                return TableOutcome::Say(format!(
                    "sorted by {}{}",
                    self.sort.label(),
                    if self.reverse { " (reversed)" } else { "" }
                ));
            }
            _ => {}
        }
        TableOutcome::None
    }

    /// Typing the filter: one character more.
    pub fn type_char(&mut self, c: char, g: &GatewayObs, derived: &Derived) {
        if self.filter.chars().count() < FILTER_MAX {
            self.filter.push(c);
        }
        self.selected = 0;
        self.refresh(g, derived, true);
    }

    /// Typing the filter: a command (done, cancel, delete a character).
    pub fn edit(&mut self, cmd: Command, g: &GatewayObs, derived: &Derived) {
        match cmd {
            Command::Submit => self.editing = false,
            Command::Cancel => {
                self.editing = false;
                self.filter.clear();
            }
            Command::DeleteChar => {
                self.filter.pop();
            }
            _ => return,
        }
        self.selected = 0;
        self.refresh(g, derived, true);
    }

    /// Set the filter and sort from the palette (`:filter …`, `:sort …`).
    pub fn set_filter(&mut self, filter: &str, g: &GatewayObs, derived: &Derived) {
        self.filter = filter.chars().take(FILTER_MAX).collect();
        self.selected = 0;
        self.refresh(g, derived, true);
    }

    pub fn set_sort(&mut self, key: SortKey, g: &GatewayObs, derived: &Derived) {
        self.sort = key;
        self.refresh(g, derived, true);
    }
}
