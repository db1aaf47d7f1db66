//! The application: the thin composition of what gatewatch knows (the
//! [`Model`], shared with `check`), what each pane shows ([`Views`]), the
//! action lifecycle ([`Lifecycle`]) and the overlay on top, with its one
//! entry point [`App::update`]: a message in, effects out. No I/O, no
//! `.await`, no clock reads (time arrives in `Msg::Tick` and in the reports).
//! Keys go through the one binding table ([`crate::keys::Bindings`]).

pub mod input;
pub mod lifecycle;
pub mod msg;
pub mod overlay;
pub mod palette;
pub mod views;

use std::path::PathBuf;
use std::time::SystemTime;

use crossterm::event::KeyEvent;

use crate::actions::GatewayAction;
use crate::actions::plan;
use crate::config::{Config, GatewayKind};
use crate::fleet::GatewayObs;
use crate::gateway::{Deployment, DeploymentStatus};
use crate::keys::{ActionKind, Bindings, Command, Context, KeySpec};
use crate::model::Model;
use crate::table::{Derived, SortKey};
use crate::timeline::TimelineKind;
use crate::triage::Tree;
use crate::triage::evidence::Evidence;

pub use lifecycle::{Confirm, Lifecycle, RunningAction};
pub use msg::{Effect, Msg};
pub use overlay::Overlay;
pub use views::{Pane, TableView, TreeView, Views};

/// What this session is allowed and where it keeps things.
#[derive(Debug, Clone)]
pub struct Session {
    /// Nothing that changes a gateway or spends money runs.
    pub read_only: bool,
    /// In a read-only session the paid probes may still run.
    pub allow_probes: bool,
    /// Running `gatewatch demo`: stages incidents.
    pub demo: bool,
    pub state_dir: PathBuf,
    pub started: SystemTime,
    /// What the state directory cannot do this session (no log file, no audit log).
    pub banner: Option<String>,
    /// Mouse clicks and the wheel are read (`--no-mouse` turns it off).
    pub mouse: bool,
}

pub struct App {
    pub model: Model,
    pub tree: Tree,
    pub bindings: Bindings,
    pub session: Session,
    pub views: Views,
    pub actions: Lifecycle,
    pub overlay: Option<Overlay>,
    pub now: SystemTime,
    pub size: (u16, u16),
    pub flash: Option<(String, SystemTime)>,
    pub dirty: bool,
    pub quitting: bool,
    quit_armed: bool,
    pub last_report: Option<PathBuf>,
    /// The demo's staged incident ("3/6: streaming cut off"), for the header.
    pub demo_stage: Option<String>,
}

impl App {
    pub fn new(config: &Config, tree: Tree, now: SystemTime) -> Self {
        let model = Model::new(config, now);
        let views = Views::new(&model, &tree);
        Self {
            model,
            tree,
            bindings: config.bindings.clone(),
            session: Session {
                read_only: config.read_only,
                allow_probes: config.allow_probes,
                demo: false,
                state_dir: config.state_dir.clone(),
                started: now,
                banner: None,
                mouse: config.mouse,
            },
            views,
            actions: Lifecycle::default(),
            overlay: None,
            now,
            size: (80, 24),
            flash: None,
            dirty: true,
            quitting: false,
            quit_armed: false,
            last_report: None,
            demo_stage: None,
        }
    }

    // ---- what the views read ----

    /// The confirmation on screen, if any.
    pub fn confirming(&self) -> Option<&Confirm> {
        self.actions.confirming()
    }

    /// The action running now, if any.
    /// The message flashed on the status line, while it shows.
    pub fn flash_text(&self) -> Option<&str> {
        self.flash.as_ref().map(|(t, _)| t.as_str())
    }

    pub fn running(&self) -> Option<&RunningAction> {
        self.actions.running()
    }

    pub fn gateway(&self) -> usize {
        self.views.gateway
    }

    pub fn kind(&self) -> GatewayKind {
        self.views.kind(&self.model)
    }

    pub fn current(&self) -> Option<&GatewayObs> {
        self.model.gateway(self.views.gateway)
    }

    pub fn current_evidence(&self) -> Option<&Evidence> {
        self.model.evidence.get(self.views.gateway)
    }

    pub fn current_derived(&self) -> Option<&Derived> {
        self.model.derived.get(self.views.gateway)
    }

    pub fn tree_view(&self) -> Option<&TreeView> {
        self.views.current().map(|v| &v.tree)
    }

    pub fn table(&self) -> Option<&TableView> {
        self.views.current().map(|v| &v.table)
    }

    /// The tree nodes shown for the current gateway, in display order.
    pub fn visible_nodes(&self) -> Vec<usize> {
        self.tree_view().map(|t| t.visible(&self.tree, self.kind())).unwrap_or_default()
    }

    pub fn selected_node(&self) -> Option<usize> {
        self.tree_view().and_then(|t| t.selected_node(&self.tree))
    }

    /// The deployment or channel under the table's cursor.
    pub fn selected_deployment(&self) -> Option<&Deployment> {
        self.table()?.selected_deployment(self.current()?)
    }

    /// Rows of the keys pane (for its cursor's bounds).
    pub fn key_rows(&self) -> usize {
        match self.current() {
            Some(g) if g.kind() == GatewayKind::LiteLlm => g.drift_rows().map_or(g.deployments().len(), <[_]>::len),
            Some(g) => g.deployments().len(),
            None => 0,
        }
    }

    /// Where a key pressed now is looked up.
    pub fn context(&self) -> Option<Context> {
        if let Some(o) = &self.overlay {
            return o.context();
        }
        if self.actions.confirming().is_some() {
            return Some(Context::Confirm);
        }
        if self.table().is_some_and(|t| t.editing) {
            return Some(Context::Text);
        }
        Some(match self.views.focus {
            Pane::Tree => Context::Tree,
            Pane::Deployments => Context::Table,
            Pane::Keys | Pane::Timeline => Context::Panes,
        })
    }

    /// May this session run the action with this key?
    pub fn allows(&self, key: &str) -> bool {
        GatewayAction::key_allowed(key, self.session.read_only, self.session.allow_probes)
    }

    // ---- the one entry point ----

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
            Msg::Poll(report) => {
                let g = report.gateway;
                self.now = self.now.max(report.at);
                if self.model.apply_poll(*report, self.now) {
                    self.after_news(g, true);
                }
                Vec::new()
            }
            Msg::Seed(snap) => {
                self.seed_snapshot(*snap);
                Vec::new()
            }
            Msg::Action(ev) => {
                let g = ev.gateway;
                let told = self.actions.event(ev, &mut self.model, self.now);
                self.after_news(g, told.rows_changed);
                if told.ended {
                    self.quit_armed = false;
                }
                if let Some(s) = told.say {
                    self.say(s);
                }
                told.effects
            }
            Msg::Exported(r) => {
                match r {
                    Ok(p) => {
                        self.say(format!("incident report written to {}", p.display()));
                        self.model.fleet.timeline.push(
                            self.now,
                            None,
                            TimelineKind::Operator,
                            format!("incident report exported to {}", p.display()),
                        );
                        self.last_report = Some(p);
                    }
                    Err(e) => self.say(format!("export failed: {e}")),
                }
                Vec::new()
            }
            Msg::Validated { id, gateway, ok, output } => {
                self.actions.validated(id, gateway, ok, &output, &mut self.model, self.now);
                self.after_news(gateway, false);
                Vec::new()
            }
            Msg::DemoStaged { gateway, stage } => {
                match stage {
                    Ok(stage) => {
                        self.model.fleet.timeline.push(
                            self.now,
                            Some(gateway),
                            TimelineKind::Operator,
                            format!("demo: staged {} — {}", stage.name, stage.summary),
                        );
                        self.say(format!("demo: {}", stage.name));
                        self.demo_stage = Some(stage.name.clone());
                        self.model.set_client_models(gateway, stage.client_models, self.now);
                        self.after_news(gateway, false);
                    }
                    Err(e) => self.say(format!("demo: cannot stage the next incident: {e}")),
                }
                vec![Effect::Refresh(gateway)]
            }
            Msg::AuditProblem(problem) => {
                let text = match &problem {
                    Some(why) => format!("AUDIT LOG NOT WRITTEN: {why}"),
                    None => "the audit log is written again".to_owned(),
                };
                self.model.fleet.timeline.push(self.now, None, TimelineKind::Action, text.clone());
                self.say(text);
                self.actions.audit_problem = problem;
                Vec::new()
            }
            Msg::Quit => self.quit(),
            Msg::Key(key) => self.on_key(&key),
            Msg::Mouse(m) => self.on_mouse(m),
        }
    }

    fn say(&mut self, text: impl Into<String>) {
        self.flash = Some((text.into(), self.now));
    }

    fn quit(&mut self) -> Vec<Effect> {
        self.quitting = true;
        vec![Effect::Quit]
    }

    /// The last full list an earlier look saved, shown until the first poll
    /// of its gateway lands (see [`crate::model::Model::seed_snapshot`]).
    pub fn seed_snapshot(&mut self, snap: crate::snapshot::ListSnapshot) {
        let Some(g) = self.model.fleet.gateways.iter().position(|x| x.spec.name == snap.gateway) else { return };
        self.model.seed_snapshot(snap, self.now);
        self.after_news(g, true);
    }

    /// Gateway `g`'s verdicts or data changed: its tree follows the evidence,
    /// its table rows are recomputed.
    fn after_news(&mut self, g: usize, rows: bool) {
        let (Some(obs), Some(ev), Some(derived)) =
            (self.model.gateway(g), self.model.evidence.get(g), self.model.derived.get(g))
        else {
            return;
        };
        let Some(v) = self.views.per_gateway.get_mut(g) else { return };
        v.tree.follow(&self.tree, obs.spec.kind, ev);
        v.table.refresh(obs, derived, rows);
    }

    // ---- keys ----

    fn on_key(&mut self, key: &KeyEvent) -> Vec<Effect> {
        let Some(spec) = input::spec(key) else {
            self.dirty = false;
            return Vec::new();
        };
        // Ctrl-C always quits, whatever is open.
        if spec == KeySpec::ctrl('c') {
            return self.quit();
        }
        if matches!(self.overlay, Some(Overlay::Blocked(_))) {
            self.overlay = None;
            return Vec::new();
        }
        let Some(ctx) = self.context() else { return Vec::new() };
        let cmd = self.bindings.lookup(ctx, spec);
        if matches!(ctx, Context::Text | Context::Palette)
            && !matches!(cmd, Some(Command::Submit | Command::Cancel | Command::DeleteChar | Command::Complete))
        {
            if let Some(c) = input::typed(spec) {
                self.type_char(c);
            }
            return Vec::new();
        }
        if let Some(cmd) = cmd {
            self.command(ctx, cmd)
        } else {
            self.dirty = false;
            Vec::new()
        }
    }

    /// Run a command in a context (a key, a click, the palette).
    pub fn command(&mut self, ctx: Context, cmd: Command) -> Vec<Effect> {
        if cmd != Command::Quit {
            self.quit_armed = false;
        }
        match ctx {
            Context::Confirm => {
                let told = self.actions.key(cmd, &mut self.model, self.now);
                if let Some(s) = told.say {
                    self.say(s);
                }
                return told.effects;
            }
            Context::Text | Context::Palette => return self.edit(cmd),
            Context::Help | Context::Detail => {
                if cmd == Command::Back {
                    self.overlay = None;
                    return Vec::new();
                }
                if let Some(o) = self.overlay.as_mut()
                    && o.scroll(cmd)
                {
                    return Vec::new();
                }
            }
            _ => {}
        }
        match cmd {
            Command::Quit => {
                if self.actions.running().is_some() && !self.quit_armed {
                    self.quit_armed = true;
                    self.say("an action is running: press q again to quit anyway (it is cut short; the audit log has what ran)");
                    return Vec::new();
                }
                return self.quit();
            }
            Command::Help => self.overlay = Some(Overlay::Help { about: ctx, scroll: 0 }),
            Command::Palette => self.overlay = Some(Overlay::Palette { text: String::new(), choice: 0 }),
            Command::NextPane => self.views.focus = self.views.focus.next(),
            Command::PrevPane => self.views.focus = self.views.focus.prev(),
            Command::Gateway(i) => self.select_gateway(i),
            Command::PrevGateway | Command::NextGateway => {
                let n = self.model.len();
                if n > 0 {
                    let step = if cmd == Command::NextGateway { 1 } else { n - 1 };
                    self.select_gateway((self.views.gateway + step) % n);
                }
            }
            Command::Refresh => {
                self.say("refreshing…");
                return vec![Effect::Refresh(self.views.gateway)];
            }
            Command::Export => return self.export(),
            Command::DemoNext if self.session.demo => {
                self.say("demo: staging the next incident…");
                return vec![Effect::DemoNext];
            }
            Command::TypeModel => {
                self.overlay = Some(Overlay::Input {
                    prompt: "Model name a client sends (Enter adds it to the name check):".into(),
                    text: String::new(),
                });
            }
            Command::Action(kind) => return self.request_action(kind),
            // In the timeline: "what changed" (on and off).
            Command::Filter if self.views.focus == Pane::Timeline => self.navigate(cmd),
            Command::Filter => {
                self.views.focus = Pane::Deployments;
                if let Some(v) = self.views.current_mut() {
                    v.table.editing = true;
                }
            }
            _ => self.navigate(cmd),
        }
        Vec::new()
    }

    /// Rows in the focused pane's window (its page).
    pub fn page(&self) -> usize {
        let panes = crate::ui::layout::panes(self.size.0, self.size.1, self.views.focus);
        usize::from(panes.rows(self.views.focus)).max(1)
    }

    fn navigate(&mut self, cmd: Command) {
        let page = self.page();
        let kind = self.kind();
        let g = self.views.gateway;
        match self.views.focus {
            Pane::Tree => {
                let (Some(ev), Some(v)) = (self.model.evidence.get(g), self.views.per_gateway.get_mut(g)) else {
                    return;
                };
                match v.tree.handle(cmd, &self.tree, kind, ev, page) {
                    views::tree::TreeOutcome::Details(node) => {
                        self.overlay = Some(Overlay::NodeDetail { node, scroll: 0 });
                    }
                    views::tree::TreeOutcome::NoFailure => self.say("no failing or warning node for this gateway"),
                    views::tree::TreeOutcome::None => {}
                }
            }
            Pane::Deployments => {
                let (Some(obs), Some(derived), Some(v)) =
                    (self.model.gateway(g), self.model.derived.get(g), self.views.per_gateway.get_mut(g))
                else {
                    return;
                };
                match v.table.handle(cmd, obs, derived, page) {
                    views::table::TableOutcome::Details(id) => {
                        self.overlay = Some(Overlay::DeploymentDetail { id, scroll: 0 });
                    }
                    views::table::TableOutcome::Say(s) => self.say(s),
                    views::table::TableOutcome::None => {}
                }
            }
            Pane::Keys => {
                let n = self.key_rows();
                let Some(v) = self.views.current_mut() else { return };
                let s = &mut v.keys;
                match cmd {
                    Command::Up => *s = s.saturating_sub(1),
                    Command::Down => *s = (*s + 1).min(n.saturating_sub(1)),
                    Command::PageUp => *s = s.saturating_sub(page),
                    Command::PageDown => *s = (*s + page).min(n.saturating_sub(1)),
                    Command::Top => *s = 0,
                    Command::Bottom => *s = n.saturating_sub(1),
                    _ => {}
                }
            }
            Pane::Timeline => {
                let t = &self.model.fleet.timeline;
                let shown = crate::app::views::timeline::shown(t.entries(), self.views.timeline.changes_only);
                if let Some(i) = self.views.timeline.handle(cmd, shown.len(), page)
                    && let Some(pos) = shown.len().checked_sub(i + 1).map(|k| shown[k])
                {
                    // The overlay counts from the newest of the whole timeline.
                    self.overlay = Some(Overlay::TimelineDetail { index: t.len() - 1 - pos, scroll: 0 });
                }
            }
        }
    }

    fn select_gateway(&mut self, i: usize) {
        if i < self.model.len() && i != self.views.gateway {
            self.views.gateway = i;
            let kind = self.kind();
            let (Some(obs), Some(derived)) = (self.model.gateway(i), self.model.derived.get(i)) else { return };
            if let Some(v) = self.views.per_gateway.get_mut(i) {
                v.tree.ensure_visible(&self.tree, kind);
                v.table.refresh(obs, derived, true);
            }
        }
    }

    // ---- text fields: the filter, a model name, the palette ----

    fn type_char(&mut self, c: char) {
        let g = self.views.gateway;
        match &mut self.overlay {
            Some(Overlay::Input { text, .. } | Overlay::Palette { text, .. }) => {
                if text.chars().count() < 120 {
                    text.push(c);
                }
                if let Some(Overlay::Palette { choice, .. }) = &mut self.overlay {
                    *choice = 0;
                }
            }
            _ => {
                if let (Some(obs), Some(derived), Some(v)) =
                    (self.model.gateway(g), self.model.derived.get(g), self.views.per_gateway.get_mut(g))
                {
                    v.table.type_char(c, obs, derived);
                }
            }
        }
    }

    fn edit(&mut self, cmd: Command) -> Vec<Effect> {
        let g = self.views.gateway;
        match self.overlay.take() {
            Some(Overlay::Input { prompt, mut text }) => match cmd {
                Command::Submit => {
                    let name = text.trim().to_owned();
                    if !name.is_empty() {
                        self.model.add_client_model(g, &name, self.now);
                        self.after_news(g, false);
                    }
                }
                Command::Cancel => {}
                _ => {
                    text.pop();
                    self.overlay = Some(Overlay::Input { prompt, text });
                }
            },
            Some(Overlay::Palette { mut text, choice }) => match cmd {
                Command::Submit => return self.run_palette(&text),
                Command::Cancel => {}
                Command::Complete => {
                    let all = self.palette_words();
                    let found = palette::completions(&text, &all);
                    if let Some(c) = found.get(choice % found.len().max(1)) {
                        text.clone_from(c);
                    }
                    self.overlay = Some(Overlay::Palette { text, choice: choice + 1 });
                }
                _ => {
                    text.pop();
                    self.overlay = Some(Overlay::Palette { text, choice: 0 });
                }
            },
            other => {
                self.overlay = other;
                if let (Some(obs), Some(derived), Some(v)) =
                    (self.model.gateway(g), self.model.derived.get(g), self.views.per_gateway.get_mut(g))
                {
                    v.table.edit(cmd, obs, derived);
                }
            }
        }
        Vec::new()
    }

    fn gateway_names(&self) -> Vec<String> {
        self.model.fleet.gateways.iter().map(|g| g.spec.name.clone()).collect()
    }

    /// What the palette completes.
    pub fn palette_words(&self) -> Vec<String> {
        palette::candidates(&self.gateway_names(), SortKey::all(self.kind()))
    }

    fn run_palette(&mut self, text: &str) -> Vec<Effect> {
        let g = self.views.gateway;
        match palette::parse(text, &self.gateway_names(), SortKey::all(self.kind())) {
            palette::Asked::Gateway(i) => self.select_gateway(i),
            palette::Asked::Run(cmd) => {
                let ctx = match self.views.focus {
                    Pane::Tree => Context::Tree,
                    Pane::Deployments => Context::Table,
                    _ => Context::Panes,
                };
                return self.command(ctx, cmd);
            }
            palette::Asked::Filter(f) => {
                self.views.focus = Pane::Deployments;
                if let (Some(obs), Some(derived), Some(v)) =
                    (self.model.gateway(g), self.model.derived.get(g), self.views.per_gateway.get_mut(g))
                {
                    v.table.set_filter(&f, obs, derived);
                }
            }
            palette::Asked::Sort(k) => {
                if let (Some(obs), Some(derived), Some(v)) =
                    (self.model.gateway(g), self.model.derived.get(g), self.views.per_gateway.get_mut(g))
                {
                    v.table.set_sort(k, obs, derived);
                }
                self.say(format!("sorted by {}", k.label()));
            }
            palette::Asked::Unknown(why) => self.say(why),
        }
        Vec::new()
    }

    // ---- actions ----

    /// The action a key means here, or why none.
    fn action_for(&self, kind: ActionKind) -> Result<GatewayAction, String> {
        let selected = self.selected_deployment();
        let channel = |verb: &str| {
            selected
                .map(|d| (d.id.clone(), d.name.clone()))
                .ok_or_else(|| format!("select a channel in the Deployments pane to {verb} it"))
        };
        Ok(match kind {
            ActionKind::Purge => GatewayAction::Purge,
            ActionKind::Reload => GatewayAction::Reload,
            ActionKind::Restart => GatewayAction::Restart,
            ActionKind::ProbeHealth => GatewayAction::ProbeHealth,
            ActionKind::RouteProbe => GatewayAction::RouteProbe,
            ActionKind::StreamProbe => {
                let model = selected
                    .map(|d| d.name.clone())
                    .or_else(|| self.current().and_then(|g| g.deployments().first().map(|d| d.name.clone())))
                    .ok_or("no model known yet to stream from")?;
                GatewayAction::StreamProbe { model: model.to_string() }
            }
            ActionKind::TestChannel => {
                let (id, name) = channel("test")?;
                GatewayAction::TestChannel { id: id.to_string(), name: name.to_string() }
            }
            ActionKind::TestAll => GatewayAction::TestAll,
            ActionKind::RefreshBalance => {
                let (id, name) = channel("refresh the balance of")?;
                GatewayAction::RefreshBalance { id: id.to_string(), name: name.to_string() }
            }
            ActionKind::UpdateAllBalances => GatewayAction::UpdateAllBalances,
            ActionKind::ToggleChannel => {
                let d = selected.ok_or("select a channel in the Deployments pane to enable or disable it")?;
                let enable = matches!(d.status, DeploymentStatus::ManuallyDisabled | DeploymentStatus::AutoDisabled);
                GatewayAction::SetChannelEnabled { id: d.id.to_string(), name: d.name.to_string(), enable }
            }
        })
    }

    fn request_action(&mut self, kind: ActionKind) -> Vec<Effect> {
        if let Some(busy) = self.actions.busy() {
            self.say(busy);
            return Vec::new();
        }
        let action = match self.action_for(kind) {
            Ok(a) => a,
            Err(why) => {
                self.say(why);
                return Vec::new();
            }
        };
        let Some(obs) = self.current() else { return Vec::new() };
        // A read-only session may still run the paid probes when they were allowed.
        let read_only = !self.allows(action.key());
        let plan = plan::plan(obs, self.views.gateway, action, read_only);
        if plan.blocked.is_some() {
            self.overlay = Some(Overlay::Blocked(Box::new(plan)));
            return Vec::new();
        }
        self.overlay = None;
        self.actions.ask(plan)
    }

    fn export(&mut self) -> Vec<Effect> {
        let stamp = crate::actions::audit::rfc3339(self.now)
            .replace([':', '-'], "")
            .replace('T', "-")
            .trim_end_matches('Z')
            .to_owned();
        let path = self.session.state_dir.join("reports").join(format!("incident-{stamp}.md"));
        let markdown = crate::report::markdown(
            &self.model.fleet,
            &self.model.evidence,
            &self.tree,
            self.session.started,
            self.now,
        );
        vec![Effect::Export { path, markdown }]
    }

    // ---- mouse ----

    fn on_mouse(&mut self, m: msg::Mouse) -> Vec<Effect> {
        if !self.session.mouse || self.overlay.is_some() || self.actions.confirming().is_some() {
            self.dirty = false;
            return Vec::new();
        }
        let panes = crate::ui::layout::panes(self.size.0, self.size.1, self.views.focus);
        let Some((pane, row)) = panes.hit(m.column, m.row) else {
            self.dirty = false;
            return Vec::new();
        };
        self.views.focus = pane;
        let cmd = match m.kind {
            msg::MouseKind::ScrollUp => Some(Command::Up),
            msg::MouseKind::ScrollDown => Some(Command::Down),
            msg::MouseKind::Click => None,
        };
        if let Some(cmd) = cmd {
            self.navigate(cmd);
            return Vec::new();
        }
        self.click_row(pane, usize::from(row));
        Vec::new()
    }

    /// A click on the `row`-th line inside a pane (0 = the first line under the border).
    fn click_row(&mut self, pane: Pane, row: usize) {
        let g = self.views.gateway;
        match pane {
            Pane::Tree => {
                let visible = self.visible_nodes();
                let offset = crate::ui::tree_offset(self, row);
                if let (Some(&i), Some(v)) = (visible.get(offset), self.views.per_gateway.get_mut(g)) {
                    v.tree.selected.clone_from(&self.tree.nodes[i].id);
                }
            }
            Pane::Deployments => {
                // The first line is the column header.
                let height = self.page();
                if let Some(v) = self.views.per_gateway.get_mut(g)
                    && row >= 1
                {
                    let i = crate::ui::table_offset(&v.table, row - 1, height);
                    if i < v.table.rows.len() {
                        v.table.selected = i;
                    }
                }
            }
            Pane::Timeline => {
                let panes = crate::ui::layout::panes(self.size.0, self.size.1, self.views.focus);
                let height = usize::from(panes.timeline.map_or(0, |r| r.height.saturating_sub(2)));
                let t = &self.model.fleet.timeline;
                let n = crate::app::views::timeline::shown(t.entries(), self.views.timeline.changes_only).len();
                self.views.timeline.click(row, n, height);
            }
            Pane::Keys => {}
        }
    }
}
