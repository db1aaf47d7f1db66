//! The application state and its one entry point, [`App::update`]: a message
//! in, effects out. No I/O, no `.await`, no clock reads (time arrives in
//! `Msg::Tick` and in the reports).

pub mod keymap;
pub mod msg;
pub mod table;

use std::collections::{BTreeSet, HashSet};
use std::path::PathBuf;
use std::time::SystemTime;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use crate::actions::plan::{self, Plan};
use crate::actions::{ActionEvent, ActionEventKind, GatewayAction, Outcome};
use crate::config::{Config, GatewayKind};
use crate::fleet::Fleet;
use crate::gateway::DeploymentStatus;
use crate::timeline::TimelineKind;
use crate::triage::Tree;
use crate::triage::evidence::{self, Evidence, Verdict};

pub use keymap::{Command, Pane};
pub use msg::{Effect, Msg};
use table::{Derived, SortKey};

/// A confirmation in progress.
#[derive(Debug, Clone, PartialEq)]
pub struct Confirm {
    pub id: u64,
    pub plan: Plan,
    /// Second stage: warnings were shown, only `Y` runs it.
    pub second: bool,
    pub nudge: Option<String>,
    /// Lines scrolled down (a long list of commands).
    pub scroll: u16,
}

/// What sits on top of the panes.
#[derive(Debug, Clone, PartialEq)]
pub enum Overlay {
    Help,
    Confirm(Box<Confirm>),
    /// Why an action cannot run.
    Blocked(Box<Plan>),
    NodeDetail {
        node: usize,
        scroll: u16,
    },
    DeploymentDetail {
        id: String,
        scroll: u16,
    },
    Input {
        prompt: String,
        text: String,
    },
}

/// The action being run, with its progress lines.
#[derive(Debug, Clone, PartialEq)]
pub struct RunningAction {
    pub id: u64,
    /// The action's key (`restart`, `toggle`, …).
    pub key: &'static str,
    pub gateway: usize,
    pub title: String,
    pub started: SystemTime,
    pub lines: Vec<String>,
    /// The action itself ran (ok, summary); a verification may follow.
    pub step: Option<(bool, String)>,
    /// How it ended (set when it moves to `last_action`).
    pub outcome: Option<(Outcome, String)>,
}

/// The deployments table's view state.
#[derive(Debug, Clone, PartialEq)]
pub struct TableView {
    pub selected: usize,
    pub sort: SortKey,
    pub reverse: bool,
    pub filter: String,
    pub editing_filter: bool,
    /// Cached visible rows (indices into the gateway's deployments).
    pub rows: Vec<usize>,
    /// (gateway, poll count) the rows were computed for.
    pub rows_for: (usize, u64),
}

pub struct App {
    pub fleet: Fleet,
    pub evidence: Vec<Evidence>,
    pub derived: Vec<Derived>,
    pub tree: Tree,
    pub tree_open: BTreeSet<String>,
    pub tree_selected: String,
    auto_opened: HashSet<(usize, String)>,
    pub gateway: usize,
    pub focus: Pane,
    pub overlay: Option<Overlay>,
    pub table: TableView,
    pub keys_selected: usize,
    pub timeline_scroll: usize,
    pub read_only: bool,
    pub allow_probes: bool,
    pub now: SystemTime,
    pub started: SystemTime,
    pub running: Option<RunningAction>,
    pub last_action: Option<RunningAction>,
    pub flash: Option<(String, SystemTime)>,
    next_id: u64,
    pub size: (u16, u16),
    pub dirty: bool,
    quit_armed: bool,
    pub state_dir: PathBuf,
    pub last_report: Option<PathBuf>,
    pub quitting: bool,
    /// New API: an admin edit reaches the other nodes only within SYNC_FREQUENCY.
    pub propagating: Option<(usize, SystemTime)>,
    /// Running `gatewatch demo`: `n` stages the next incident.
    pub demo: bool,
    /// What the state directory cannot do this session (no log file, no audit log).
    pub banner: Option<String>,
    /// Why audit records cannot be written: each action then needs consent to run unaudited.
    pub audit_problem: Option<String>,
}

impl App {
    pub fn new(config: &Config, tree: Tree, now: SystemTime) -> Self {
        let fleet = Fleet::new(&config.gateways);
        let n = fleet.gateways.len();
        let first = tree.roots.first().map(|&i| tree.nodes[i].id.clone()).unwrap_or_default();
        let kind = config.gateways.first().map_or(GatewayKind::LiteLlm, |g| g.kind);
        let mut app = Self {
            evidence: fleet.gateways.iter().map(|g| evidence::evaluate(g, now)).collect(),
            derived: vec![Derived::default(); n],
            fleet,
            tree,
            tree_open: BTreeSet::new(),
            tree_selected: first,
            auto_opened: HashSet::new(),
            gateway: 0,
            focus: Pane::Tree,
            overlay: None,
            table: TableView {
                selected: 0,
                sort: SortKey::Status,
                reverse: false,
                filter: String::new(),
                editing_filter: false,
                rows: Vec::new(),
                rows_for: (usize::MAX, 0),
            },
            keys_selected: 0,
            timeline_scroll: 0,
            read_only: config.read_only,
            allow_probes: config.allow_probes,
            now,
            started: now,
            running: None,
            last_action: None,
            flash: None,
            next_id: 1,
            size: (80, 24),
            dirty: true,
            quit_armed: false,
            state_dir: config.state_dir.clone(),
            last_report: None,
            quitting: false,
            propagating: None,
            demo: false,
            banner: None,
            audit_problem: None,
        };
        app.ensure_selection_visible(kind);
        app
    }

    pub fn kind(&self) -> GatewayKind {
        self.fleet.gateways.get(self.gateway).map_or(GatewayKind::LiteLlm, |g| g.spec.kind)
    }

    pub fn current(&self) -> Option<&crate::fleet::GatewayObs> {
        self.fleet.gateways.get(self.gateway)
    }

    pub fn current_evidence(&self) -> Option<&Evidence> {
        self.evidence.get(self.gateway)
    }

    /// The tree nodes shown for the current gateway kind, in display order,
    /// with the open/closed state applied.
    pub fn visible_nodes(&self) -> Vec<usize> {
        let kind = self.kind();
        let mut out = Vec::new();
        fn walk(app: &App, i: usize, kind: GatewayKind, out: &mut Vec<usize>) {
            let n = &app.tree.nodes[i];
            if !n.applies(kind) {
                return;
            }
            out.push(i);
            if app.tree_open.contains(&n.id) {
                for &c in &n.children {
                    walk(app, c, kind, out);
                }
            }
        }
        for &r in &self.tree.roots {
            walk(self, r, kind, &mut out);
        }
        out
    }

    pub fn selected_node(&self) -> Option<usize> {
        self.tree.position(&self.tree_selected)
    }

    fn ensure_selection_visible(&mut self, kind: GatewayKind) {
        let ok = self.tree.get(&self.tree_selected).is_some_and(|n| n.applies(kind))
            && self.visible_nodes().iter().any(|&i| self.tree.nodes[i].id == self.tree_selected);
        if !ok && let Some(&first) = self.visible_nodes().first() {
            self.tree_selected = self.tree.nodes[first].id.clone();
        }
    }

    /// The deployment under the cursor in the table.
    pub fn selected_deployment(&self) -> Option<&crate::gateway::Deployment> {
        let g = self.current()?;
        let &i = self.table.rows.get(self.table.selected)?;
        g.deployments().get(i)
    }

    fn refresh_rows(&mut self, force: bool) {
        let Some(g) = self.fleet.gateways.get(self.gateway) else { return };
        let key = (self.gateway, g.polls);
        if !force && self.table.rows_for == key {
            return;
        }
        let selected_id = self.selected_deployment().map(|d| d.id.clone());
        let none = Derived::default();
        let derived = self.derived.get(self.gateway).unwrap_or(&none);
        self.table.rows = table::rows(g, derived, &self.table.filter, self.table.sort, self.table.reverse);
        self.table.rows_for = key;
        // Keep the cursor on the same channel when the data refreshes.
        let deps = g.deployments();
        self.table.selected = selected_id
            .and_then(|id| self.table.rows.iter().position(|&i| deps.get(i).is_some_and(|d| d.id == id)))
            .unwrap_or_else(|| self.table.selected.min(self.table.rows.len().saturating_sub(1)));
    }

    fn flash(&mut self, text: impl Into<String>) {
        self.flash = Some((text.into(), self.now));
    }

    /// The single entry point.
    pub fn update(&mut self, msg: Msg) -> Vec<Effect> {
        self.dirty = true;
        match msg {
            Msg::Tick(now) => {
                self.now = now;
                if self.flash.as_ref().is_some_and(|(_, t)| now.duration_since(*t).is_ok_and(|d| d.as_secs() >= 6)) {
                    self.flash = None;
                }
                Vec::new()
            }
            Msg::Resize(w, h) => {
                self.size = (w, h);
                Vec::new()
            }
            Msg::Poll(report) => self.on_poll(*report),
            Msg::Action(ev) => self.on_action(ev),
            Msg::Exported(r) => {
                match r {
                    Ok(p) => {
                        self.flash(format!("incident report written to {}", p.display()));
                        self.fleet.timeline.push(
                            self.now,
                            None,
                            TimelineKind::Operator,
                            format!("incident report exported to {}", p.display()),
                        );
                        self.last_report = Some(p);
                    }
                    Err(e) => self.flash(format!("export failed: {e}")),
                }
                Vec::new()
            }
            Msg::Validated { id, gateway, ok, output } => {
                self.on_validated(id, gateway, ok, &output);
                Vec::new()
            }
            Msg::DemoSwitched(r) => {
                match r {
                    Ok(stage) => {
                        if let Some(g) = self.fleet.gateways.get_mut(0) {
                            g.typed_models = stage.client_models;
                        }
                        self.fleet.timeline.push(
                            self.now,
                            Some(0),
                            TimelineKind::Operator,
                            format!("demo: staged {} — {}", stage.name, stage.summary),
                        );
                        self.flash(format!("demo: {}", stage.name));
                        self.reevaluate(0);
                    }
                    Err(e) => self.flash(format!("demo: cannot stage the next incident: {e}")),
                }
                vec![Effect::Refresh(0)]
            }
            Msg::AuditProblem(problem) => {
                let text = match &problem {
                    Some(why) => format!("AUDIT LOG NOT WRITTEN: {why}"),
                    None => "the audit log is written again".to_owned(),
                };
                self.fleet.timeline.push(self.now, None, TimelineKind::Action, text.clone());
                self.flash(text);
                self.audit_problem = problem;
                Vec::new()
            }
            Msg::Quit => self.quit(),
            Msg::Key(key) => {
                if key.kind == KeyEventKind::Release {
                    self.dirty = false;
                    return Vec::new();
                }
                self.on_key(key)
            }
        }
    }

    fn quit(&mut self) -> Vec<Effect> {
        self.quitting = true;
        vec![Effect::Quit]
    }

    fn on_poll(&mut self, report: crate::fleet::PollReport) -> Vec<Effect> {
        let g = report.gateway;
        if g >= self.fleet.gateways.len() {
            return Vec::new();
        }
        self.now = self.now.max(report.at);
        self.fleet.apply_poll(report);
        self.reevaluate(g);
        if g == self.gateway {
            self.refresh_rows(true);
        }
        Vec::new()
    }

    /// Recompute the verdicts of one gateway; note changes on the timeline and
    /// open the branches the verdicts point to (once, so the operator can close them).
    fn reevaluate(&mut self, g: usize) {
        let Some(obs) = self.fleet.gateways.get(g) else { return };
        let new = evidence::evaluate(obs, self.now);
        self.derived[g] = table::derive(obs);
        let name = obs.spec.name.clone();
        let kind = obs.spec.kind;
        for f in &new.findings {
            let before = self.evidence[g].get(f.check).map_or(Verdict::Unknown, |o| o.verdict);
            // A new problem, a changed problem, or a problem that went away.
            let noteworthy =
                (f.verdict.points_here() && before != f.verdict) || (before.points_here() && f.verdict == Verdict::Ok);
            if noteworthy {
                self.fleet.timeline.push(
                    self.now,
                    Some(g),
                    TimelineKind::Check,
                    format!("{name} {} {}: {}", f.verdict.symbol(), f.check, f.summary),
                );
            }
        }
        self.evidence[g] = new;
        // Open the branches the evidence points to.
        for i in 0..self.tree.nodes.len() {
            let node = &self.tree.nodes[i];
            if node.is_leaf() || !node.applies(kind) {
                continue;
            }
            let v = self.evidence[g].node_verdict(&self.tree, i, kind);
            let key = (g, node.id.clone());
            if v.points_here() && !self.auto_opened.contains(&key) {
                self.auto_opened.insert(key);
                if g == self.gateway {
                    self.tree_open.insert(node.id.clone());
                }
            }
        }
    }

    fn on_action(&mut self, ev: ActionEvent) -> Vec<Effect> {
        let name = self.fleet.gateways.get(ev.gateway).map(|g| g.spec.name.clone()).unwrap_or_default();
        let mut effects = Vec::new();
        let matches_running = self.running.as_ref().is_some_and(|r| r.id == ev.id);
        match ev.kind {
            ActionEventKind::Started { title } => {
                self.fleet.timeline.push(ev.at, Some(ev.gateway), TimelineKind::Action, format!("started: {title}"));
            }
            ActionEventKind::Progress { line } => {
                if let Some(r) = self.running.as_mut().filter(|r| r.id == ev.id) {
                    r.lines.push(line);
                    if r.lines.len() > 50 {
                        r.lines.remove(0);
                    }
                }
            }
            ActionEventKind::Result { subject, result } => {
                if let Some(g) = self.fleet.gateways.get_mut(ev.gateway) {
                    g.apply_admin(ev.at, &subject, &result);
                }
                self.reevaluate(ev.gateway);
                // Re-read channels replace their rows now, not at the next poll.
                if matches!(result, crate::gateway::AdminResult::Channels { .. }) && ev.gateway == self.gateway {
                    self.refresh_rows(true);
                }
            }
            ActionEventKind::Finished { ok, summary, detail } => {
                // A failed step is told once, by the `Ended` that follows.
                if ok {
                    self.fleet.timeline.push(
                        ev.at,
                        Some(ev.gateway),
                        TimelineKind::Action,
                        format!("{name}: ran: {summary}"),
                    );
                }
                if let Some(r) = self.running.as_mut().filter(|r| r.id == ev.id) {
                    r.step = Some((ok, summary));
                    r.lines.extend(detail);
                }
            }
            ActionEventKind::Ended { outcome, summary, detail } => {
                let kind = if matches!(outcome, Outcome::Verified | Outcome::NotVerified) {
                    TimelineKind::Verify
                } else {
                    TimelineKind::Action
                };
                let text = outcome.describe(&summary);
                self.fleet.timeline.push(ev.at, Some(ev.gateway), kind, format!("{name}: {text}"));
                for d in detail.iter().take(6) {
                    self.fleet.timeline.push(ev.at, Some(ev.gateway), kind, format!("  {d}"));
                }
                // New API channel actions re-read what they touched (the
                // table is already current); the full list keeps its cadence.
                let mut refresh = true;
                if matches_running && let Some(mut r) = self.running.take() {
                    // What probes found before a change no longer describes the gateway.
                    if outcome != Outcome::Refused
                        && GatewayAction::key_is_mutating(r.key)
                        && let Some(obs) = self.fleet.gateways.get_mut(ev.gateway)
                    {
                        obs.changed_at = Some(ev.at);
                    }
                    if let Some(obs) = self.fleet.gateways.get(ev.gateway)
                        && outcome == Outcome::Verified
                        && obs.kind() == GatewayKind::NewApi
                        && matches!(r.key, "toggle" | "balances_all" | "test_all")
                        // Without the memory cache every node reads the database: no stale window.
                        && crate::gateway::newapi::select::CacheMode::of(&obs.spec)
                            != crate::gateway::newapi::select::CacheMode::Declared(false)
                    {
                        self.propagating = Some((ev.gateway, ev.at + obs.spec.sync_frequency));
                    }
                    refresh = !(self.fleet.gateways.get(ev.gateway).is_some_and(|g| g.kind() == GatewayKind::NewApi)
                        && matches!(r.key, "toggle" | "test" | "balance" | "balances_all" | "test_all"));
                    r.outcome = Some((outcome, summary));
                    r.lines.extend(detail);
                    self.last_action = Some(r);
                    self.quit_armed = false;
                }
                self.flash(text);
                if outcome != Outcome::Refused {
                    self.reevaluate(ev.gateway);
                    if refresh {
                        effects.push(Effect::Refresh(ev.gateway));
                    }
                }
            }
        }
        effects
    }

    fn on_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        if let Some(overlay) = self.overlay.take() {
            return self.on_overlay_key(overlay, key);
        }
        if self.table.editing_filter {
            return self.on_filter_key(key);
        }
        let Some(cmd) = keymap::command(key) else {
            self.dirty = false;
            return Vec::new();
        };
        if cmd != Command::Quit {
            self.quit_armed = false;
        }
        match cmd {
            Command::Quit => {
                if self.running.is_some() && !self.quit_armed {
                    self.quit_armed = true;
                    self.flash("an action is running: press q again to quit anyway (it is cut short; the audit log has what ran)");
                    return Vec::new();
                }
                return self.quit();
            }
            Command::Help => self.overlay = Some(Overlay::Help),
            Command::NextPane => self.focus = self.focus.next(),
            Command::PrevPane => self.focus = self.focus.prev(),
            Command::Gateway(i) => self.select_gateway(i),
            Command::PrevGateway => {
                let n = self.fleet.gateways.len();
                if n > 0 {
                    self.select_gateway((self.gateway + n - 1) % n);
                }
            }
            Command::NextGateway => {
                let n = self.fleet.gateways.len();
                if n > 0 {
                    self.select_gateway((self.gateway + 1) % n);
                }
            }
            Command::Refresh => {
                self.flash("refreshing…");
                return vec![Effect::Refresh(self.gateway)];
            }
            Command::Filter => {
                self.focus = Pane::Deployments;
                self.table.editing_filter = true;
            }
            Command::Escape => {
                if !self.table.filter.is_empty() {
                    self.table.filter.clear();
                    self.refresh_rows(true);
                }
            }
            Command::Sort | Command::SortReverse => {
                let keys = SortKey::all(self.kind());
                if cmd == Command::Sort {
                    let i = keys.iter().position(|k| *k == self.table.sort).map_or(0, |i| (i + 1) % keys.len());
                    self.table.sort = keys[i];
                } else {
                    self.table.reverse = !self.table.reverse;
                }
                self.refresh_rows(true);
                self.flash(format!(
                    "sorted by {}{}",
                    self.table.sort.label(),
                    if self.table.reverse { " (reversed)" } else { "" }
                ));
            }
            Command::Export => return self.export(),
            Command::DemoNext if self.demo => {
                self.flash("demo: staging the next incident…");
                return vec![Effect::DemoNext];
            }
            Command::DemoNext => self.dirty = false,
            Command::TypeModel => {
                self.overlay = Some(Overlay::Input {
                    prompt: "Model name a client sends (Enter adds it to the name check):".into(),
                    text: String::new(),
                });
            }
            Command::Action(c) => return self.request_action(c),
            Command::Up
            | Command::Down
            | Command::Left
            | Command::Right
            | Command::PageUp
            | Command::PageDown
            | Command::Top
            | Command::Bottom
            | Command::Enter => {
                self.navigate(cmd);
            }
        }
        Vec::new()
    }

    fn select_gateway(&mut self, i: usize) {
        if i < self.fleet.gateways.len() && i != self.gateway {
            self.gateway = i;
            self.table.selected = 0;
            self.keys_selected = 0;
            // Open what the evidence points to for this gateway.
            let kind = self.kind();
            for (g, id) in &self.auto_opened {
                if *g == i {
                    self.tree_open.insert(id.clone());
                }
            }
            self.ensure_selection_visible(kind);
            self.refresh_rows(true);
        }
    }

    fn page(&self) -> usize {
        usize::from(self.size.1 / 3).max(3)
    }

    fn navigate(&mut self, cmd: Command) {
        match self.focus {
            Pane::Tree => self.navigate_tree(cmd),
            Pane::Deployments => {
                let n = self.table.rows.len();
                let page = self.page();
                let s = &mut self.table.selected;
                match cmd {
                    Command::Up => *s = s.saturating_sub(1),
                    Command::Down => *s = (*s + 1).min(n.saturating_sub(1)),
                    Command::PageUp => *s = s.saturating_sub(page),
                    Command::PageDown => *s = (*s + page).min(n.saturating_sub(1)),
                    Command::Top => *s = 0,
                    Command::Bottom => *s = n.saturating_sub(1),
                    Command::Enter => {
                        if let Some(d) = self.selected_deployment() {
                            self.overlay = Some(Overlay::DeploymentDetail { id: d.id.clone(), scroll: 0 });
                        }
                    }
                    _ => {}
                }
            }
            Pane::Keys => {
                let n = self.key_rows();
                match cmd {
                    Command::Up => self.keys_selected = self.keys_selected.saturating_sub(1),
                    Command::Down => self.keys_selected = (self.keys_selected + 1).min(n.saturating_sub(1)),
                    Command::Top => self.keys_selected = 0,
                    Command::Bottom => self.keys_selected = n.saturating_sub(1),
                    _ => {}
                }
            }
            Pane::Timeline => {
                let n = self.fleet.timeline.len();
                match cmd {
                    Command::Up => self.timeline_scroll = (self.timeline_scroll + 1).min(n.saturating_sub(1)),
                    Command::Down => self.timeline_scroll = self.timeline_scroll.saturating_sub(1),
                    Command::PageUp => {
                        self.timeline_scroll = (self.timeline_scroll + self.page()).min(n.saturating_sub(1));
                    }
                    Command::PageDown => self.timeline_scroll = self.timeline_scroll.saturating_sub(self.page()),
                    Command::Bottom => self.timeline_scroll = 0,
                    Command::Top => self.timeline_scroll = n.saturating_sub(1),
                    _ => {}
                }
            }
        }
    }

    /// Rows of the keys pane (for cursor bounds).
    pub fn key_rows(&self) -> usize {
        match self.current() {
            Some(g) if g.kind() == GatewayKind::LiteLlm => g.drift_rows().map_or(g.deployments().len(), <[_]>::len),
            Some(g) => g.deployments().len(),
            None => 0,
        }
    }

    fn navigate_tree(&mut self, cmd: Command) {
        let visible = self.visible_nodes();
        let pos = visible.iter().position(|&i| self.tree.nodes[i].id == self.tree_selected).unwrap_or(0);
        let select = |app: &mut App, p: usize| {
            if let Some(&i) = visible.get(p) {
                app.tree_selected = app.tree.nodes[i].id.clone();
            }
        };
        match cmd {
            Command::Up => select(self, pos.saturating_sub(1)),
            Command::Down => select(self, (pos + 1).min(visible.len().saturating_sub(1))),
            Command::PageUp => select(self, pos.saturating_sub(self.page())),
            Command::PageDown => select(self, (pos + self.page()).min(visible.len().saturating_sub(1))),
            Command::Top => select(self, 0),
            Command::Bottom => select(self, visible.len().saturating_sub(1)),
            Command::Left => {
                if self.tree_open.contains(&self.tree_selected) {
                    self.tree_open.remove(&self.tree_selected);
                } else if let Some(p) = self.selected_node().and_then(|i| self.tree.nodes[i].parent) {
                    self.tree_selected = self.tree.nodes[p].id.clone();
                }
            }
            Command::Right => {
                if let Some(i) = self.selected_node() {
                    if self.tree.nodes[i].is_leaf() {
                        self.overlay = Some(Overlay::NodeDetail { node: i, scroll: 0 });
                    } else {
                        self.tree_open.insert(self.tree_selected.clone());
                    }
                }
            }
            Command::Enter => {
                if let Some(i) = self.selected_node() {
                    if self.tree.nodes[i].is_leaf() {
                        self.overlay = Some(Overlay::NodeDetail { node: i, scroll: 0 });
                    } else if !self.tree_open.remove(&self.tree_selected) {
                        self.tree_open.insert(self.tree_selected.clone());
                    }
                }
            }
            _ => {}
        }
    }

    fn on_filter_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        match key.code {
            KeyCode::Esc => {
                self.table.editing_filter = false;
                self.table.filter.clear();
            }
            KeyCode::Enter => self.table.editing_filter = false,
            KeyCode::Backspace => {
                self.table.filter.pop();
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                if self.table.filter.len() < 120 {
                    self.table.filter.push(c);
                }
            }
            _ => return Vec::new(),
        }
        self.table.selected = 0;
        self.refresh_rows(true);
        Vec::new()
    }

    fn on_overlay_key(&mut self, overlay: Overlay, key: KeyEvent) -> Vec<Effect> {
        let ctrl_c = key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c');
        if ctrl_c {
            return self.quit();
        }
        match overlay {
            Overlay::Help | Overlay::Blocked(_) => {}
            Overlay::Confirm(mut c) => match key.code {
                KeyCode::Char('y' | 'Y') if c.plan.validating => {
                    c.nudge = Some("validating the config on disk… wait for the result".into());
                    self.overlay = Some(Overlay::Confirm(c));
                }
                KeyCode::Char('y') if !c.second => {
                    if c.plan.needs_second_confirmation() {
                        c.second = true;
                        self.overlay = Some(Overlay::Confirm(c));
                    } else {
                        return self.start(*c);
                    }
                }
                KeyCode::Char('Y') if c.second => return self.start(*c),
                KeyCode::Char('y') if c.second => {
                    c.nudge = Some("this needs Y (shift+y): read the warning first".into());
                    self.overlay = Some(Overlay::Confirm(c));
                }
                KeyCode::Up | KeyCode::Down | KeyCode::PageUp | KeyCode::PageDown | KeyCode::Char('j' | 'k') => {
                    c.scroll = match key.code {
                        KeyCode::Up | KeyCode::Char('k') => c.scroll.saturating_sub(1),
                        KeyCode::PageUp => c.scroll.saturating_sub(10),
                        KeyCode::PageDown => c.scroll.saturating_add(10),
                        _ => c.scroll.saturating_add(1),
                    };
                    self.overlay = Some(Overlay::Confirm(c));
                }
                KeyCode::Esc | KeyCode::Char('n' | 'q') => {
                    self.fleet.timeline.push(
                        self.now,
                        Some(c.plan.gateway),
                        TimelineKind::Operator,
                        format!("cancelled: {}", c.plan.title),
                    );
                    self.flash("cancelled");
                }
                _ => {
                    c.nudge = Some(if c.second {
                        "Y (shift+y) runs it anyway, Esc cancels".into()
                    } else {
                        "y runs it, n or Esc cancels".into()
                    });
                    self.overlay = Some(Overlay::Confirm(c));
                }
            },
            Overlay::NodeDetail { node, scroll } => match key.code {
                KeyCode::Up | KeyCode::Char('k') => {
                    self.overlay = Some(Overlay::NodeDetail { node, scroll: scroll.saturating_sub(1) });
                }
                KeyCode::Down | KeyCode::Char('j') => {
                    self.overlay = Some(Overlay::NodeDetail { node, scroll: scroll.saturating_add(1) });
                }
                KeyCode::PageUp => self.overlay = Some(Overlay::NodeDetail { node, scroll: scroll.saturating_sub(10) }),
                KeyCode::PageDown => {
                    self.overlay = Some(Overlay::NodeDetail { node, scroll: scroll.saturating_add(10) });
                }
                KeyCode::Char(c @ ('p' | 'r' | 'R' | 'H' | 'f' | 's' | 't' | 'T' | 'b' | 'B' | 'x')) => {
                    return self.request_action(c);
                }
                _ => {}
            },
            Overlay::DeploymentDetail { id, scroll } => match key.code {
                KeyCode::Up | KeyCode::Char('k') => {
                    self.overlay = Some(Overlay::DeploymentDetail { id, scroll: scroll.saturating_sub(1) });
                }
                KeyCode::Down | KeyCode::Char('j') => {
                    self.overlay = Some(Overlay::DeploymentDetail { id, scroll: scroll.saturating_add(1) });
                }
                KeyCode::Char(c @ ('t' | 'b' | 'x' | 's')) => return self.request_action(c),
                _ => {}
            },
            Overlay::Input { prompt, mut text } => match key.code {
                KeyCode::Esc => {}
                KeyCode::Enter => {
                    let name = text.trim().to_owned();
                    if !name.is_empty() {
                        let g = self.gateway;
                        if let Some(obs) = self.fleet.gateways.get_mut(g)
                            && !obs.typed_models.contains(&name)
                        {
                            obs.typed_models.push(name.clone());
                        }
                        self.fleet.timeline.push(
                            self.now,
                            Some(g),
                            TimelineKind::Operator,
                            format!("client model name added: {name}"),
                        );
                        self.reevaluate(g);
                    }
                }
                KeyCode::Backspace => {
                    text.pop();
                    self.overlay = Some(Overlay::Input { prompt, text });
                }
                KeyCode::Char(c) => {
                    if text.len() < 120 {
                        text.push(c);
                    }
                    self.overlay = Some(Overlay::Input { prompt, text });
                }
                _ => self.overlay = Some(Overlay::Input { prompt, text }),
            },
        }
        Vec::new()
    }

    /// Build the action an action key means here, or say why none.
    fn action_for(&self, c: char) -> Result<GatewayAction, String> {
        let selected = self.selected_deployment();
        let channel = |verb: &str| {
            selected
                .map(|d| (d.id.clone(), d.name.clone()))
                .ok_or_else(|| format!("select a channel in the Deployments pane to {verb} it"))
        };
        Ok(match c {
            'p' => GatewayAction::Purge,
            'r' => GatewayAction::Reload,
            'R' => GatewayAction::Restart,
            'H' => GatewayAction::ProbeHealth,
            'f' => GatewayAction::RouteProbe,
            's' => {
                let model = selected
                    .map(|d| d.name.clone())
                    .or_else(|| self.current().and_then(|g| g.deployments().first().map(|d| d.name.clone())))
                    .ok_or("no model known yet to stream from")?;
                GatewayAction::StreamProbe { model }
            }
            't' => {
                let (id, name) = channel("test")?;
                GatewayAction::TestChannel { id, name }
            }
            'T' => GatewayAction::TestAll,
            'b' => {
                let (id, name) = channel("refresh the balance of")?;
                GatewayAction::RefreshBalance { id, name }
            }
            'B' => GatewayAction::UpdateAllBalances,
            'x' => {
                let d = selected.ok_or("select a channel in the Deployments pane to enable or disable it")?;
                let enable = matches!(d.status, DeploymentStatus::ManuallyDisabled | DeploymentStatus::AutoDisabled);
                GatewayAction::SetChannelEnabled { id: d.id.clone(), name: d.name.clone(), enable }
            }
            other => return Err(format!("no action on {other}")),
        })
    }

    fn request_action(&mut self, c: char) -> Vec<Effect> {
        if let Some(r) = &self.running {
            self.flash(format!("busy: \"{}\" is still running; wait for its verification", r.title));
            return Vec::new();
        }
        let action = match self.action_for(c) {
            Ok(a) => a,
            Err(why) => {
                self.flash(why);
                return Vec::new();
            }
        };
        let Some(obs) = self.fleet.gateways.get(self.gateway) else { return Vec::new() };
        // A read-only session may still run the paid probes when they were allowed.
        let read_only = !GatewayAction::key_allowed(action.key(), self.read_only, self.allow_probes);
        let mut plan = plan::plan(obs, self.gateway, action, read_only);
        if let Some(why) = &self.audit_problem {
            plan.require_unaudited_consent(why);
        }
        if plan.blocked.is_some() {
            self.overlay = Some(Overlay::Blocked(Box::new(plan)));
            return Vec::new();
        }
        let id = self.next_id;
        self.next_id += 1;
        let validate = plan.validate_command.clone().filter(|_| plan.validating);
        let gateway = plan.gateway;
        self.overlay = Some(Overlay::Confirm(Box::new(Confirm { id, plan, second: false, nudge: None, scroll: 0 })));
        validate.map(|command| Effect::Validate { id, gateway, command }).into_iter().collect()
    }

    fn on_validated(&mut self, id: u64, gateway: usize, ok: bool, output: &str) {
        let last =
            output.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("").chars().take(200).collect::<String>();
        if let Some(g) = self.fleet.gateways.get_mut(gateway) {
            g.local.validate = Some(crate::fleet::ValidateOutcome { ok, output: output.chars().take(4000).collect() });
        }
        self.fleet.timeline.push(
            self.now,
            Some(gateway),
            TimelineKind::Check,
            format!("validate_command {}: {last}", if ok { "passed" } else { "FAILED" }),
        );
        if let Some(Overlay::Confirm(c)) = self.overlay.as_mut()
            && c.id == id
        {
            c.plan.validating = false;
            if ok {
                c.plan.effect.push("✓ the config on disk validated".into());
            } else {
                c.plan.warnings.push(format!("validate_command failed: {last}"));
            }
        }
        self.reevaluate(gateway);
    }

    fn start(&mut self, c: Confirm) -> Vec<Effect> {
        self.fleet.timeline.push(
            self.now,
            Some(c.plan.gateway),
            TimelineKind::Action,
            format!("confirmed{}: {}", if c.second { " despite warnings" } else { "" }, c.plan.title),
        );
        self.running = Some(RunningAction {
            id: c.id,
            key: c.plan.action.key(),
            gateway: c.plan.gateway,
            title: c.plan.title.clone(),
            started: self.now,
            lines: Vec::new(),
            step: None,
            outcome: None,
        });
        vec![Effect::Run { id: c.id, plan: Box::new(c.plan) }]
    }

    fn export(&mut self) -> Vec<Effect> {
        let stamp = crate::actions::audit::rfc3339(self.now)
            .replace([':', '-'], "")
            .replace('T', "-")
            .trim_end_matches('Z')
            .to_owned();
        let path = self.state_dir.join("reports").join(format!("incident-{stamp}.md"));
        let markdown = crate::report::markdown(&self.fleet, &self.evidence, &self.tree, self.started, self.now);
        vec![Effect::Export { path, markdown }]
    }
}
