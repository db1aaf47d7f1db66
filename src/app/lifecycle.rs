//! The action lifecycle, as a state machine: idle → confirming (the plan on
//! screen, `y`, or `y` then `Y` when it needs a second confirmation) →
//! running (progress lines) → exactly one outcome → idle. One action at a
//! time: asking for another while one runs is refused, never interleaved.

use std::time::SystemTime;

use crate::actions::plan::Plan;
use crate::actions::{ActionEvent, ActionEventKind, GatewayAction, Outcome};
use crate::config::GatewayKind;
use crate::gateway::AdminResult;
use crate::keys::Command;
use crate::model::Model;
use crate::timeline::TimelineKind;

use super::msg::Effect;

/// A confirmation on screen.
#[derive(Debug, Clone, PartialEq)]
pub struct Confirm {
    pub id: u64,
    pub plan: Plan,
    /// Second stage: the warnings were read, only `Y` runs it.
    pub second: bool,
    pub nudge: Option<String>,
    /// Lines scrolled down (a long list of commands).
    pub scroll: u16,
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
    /// How it ended (set when it moves to `last`).
    pub outcome: Option<(Outcome, String)>,
}

#[derive(Debug, Clone, PartialEq, Default)]
enum Stage {
    #[default]
    Idle,
    Confirming(Box<Confirm>),
    Running(Box<RunningAction>),
}

/// What a step of the lifecycle tells the app: effects to run, a message
/// for the operator, and whether the current table's rows changed.
#[derive(Debug, Default, PartialEq)]
pub struct Told {
    pub effects: Vec<Effect>,
    pub say: Option<String>,
    pub rows_changed: bool,
    /// An action ended.
    pub ended: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Lifecycle {
    stage: Stage,
    /// The last action that ended, with its outcome.
    pub last: Option<RunningAction>,
    next_id: u64,
    /// Why audit records cannot be written: each action then needs consent to run unaudited.
    pub audit_problem: Option<String>,
    /// New API: an admin edit reaches the other nodes only within SYNC_FREQUENCY.
    pub propagating: Option<(usize, SystemTime)>,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Self { stage: Stage::Idle, last: None, next_id: 1, audit_problem: None, propagating: None }
    }
}

impl Lifecycle {
    pub fn confirming(&self) -> Option<&Confirm> {
        match &self.stage {
            Stage::Confirming(c) => Some(c),
            _ => None,
        }
    }

    pub fn running(&self) -> Option<&RunningAction> {
        match &self.stage {
            Stage::Running(r) => Some(r),
            _ => None,
        }
    }

    /// Why a new action cannot be asked for now.
    pub fn busy(&self) -> Option<String> {
        self.running().map(|r| format!("busy: \"{}\" is still running; wait for its outcome", r.title))
    }

    /// Show the plan for confirmation; effects: its validation, if it has one.
    pub fn ask(&mut self, mut plan: Plan) -> Vec<Effect> {
        if let Some(why) = &self.audit_problem {
            plan.require_unaudited_consent(why);
        }
        let id = self.next_id;
        self.next_id += 1;
        let validate = plan.validate_command.clone().filter(|_| plan.validating);
        let gateway = plan.gateway;
        self.stage = Stage::Confirming(Box::new(Confirm { id, plan, second: false, nudge: None, scroll: 0 }));
        validate.map(|command| Effect::Validate { id, gateway, command }).into_iter().collect()
    }

    /// A key in the confirmation.
    pub fn key(&mut self, cmd: Command, model: &mut Model, now: SystemTime) -> Told {
        let Stage::Confirming(c) = &mut self.stage else { return Told::default() };
        match cmd {
            Command::Confirm | Command::ConfirmAnyway if c.plan.validating => {
                c.nudge = Some("validating the config on disk… wait for the result".into());
            }
            Command::Confirm if !c.second => {
                if c.plan.needs_second_confirmation() {
                    c.second = true;
                    c.scroll = 0;
                } else {
                    return self.start(model, now);
                }
            }
            Command::ConfirmAnyway if c.second => return self.start(model, now),
            Command::Confirm => c.nudge = Some("this needs Y (shift+y): read the warning first".into()),
            Command::Up => c.scroll = c.scroll.saturating_sub(1),
            Command::Down => c.scroll = c.scroll.saturating_add(1),
            Command::PageUp => c.scroll = c.scroll.saturating_sub(10),
            Command::PageDown => c.scroll = c.scroll.saturating_add(10),
            Command::Cancel => {
                let (gateway, title) = (c.plan.gateway, c.plan.title.clone());
                self.stage = Stage::Idle;
                model.fleet.timeline.push(now, Some(gateway), TimelineKind::Operator, format!("cancelled: {title}"));
                return Told { say: Some("cancelled".into()), ..Told::default() };
            }
            _ => {
                c.nudge = Some(if c.second {
                    "Y (shift+y) runs it anyway, Esc cancels".into()
                } else {
                    "y runs it, n or Esc cancels".into()
                });
            }
        }
        Told::default()
    }

    fn start(&mut self, model: &mut Model, now: SystemTime) -> Told {
        let Stage::Confirming(c) = std::mem::take(&mut self.stage) else { return Told::default() };
        model.fleet.timeline.push(
            now,
            Some(c.plan.gateway),
            TimelineKind::Action,
            format!("confirmed{}: {}", if c.second { " despite warnings" } else { "" }, c.plan.title),
        );
        self.stage = Stage::Running(Box::new(RunningAction {
            id: c.id,
            key: c.plan.action.key(),
            gateway: c.plan.gateway,
            title: c.plan.title.clone(),
            started: now,
            lines: Vec::new(),
            step: None,
            outcome: None,
        }));
        Told { effects: vec![Effect::Run { id: c.id, plan: Box::new(c.plan) }], ..Told::default() }
    }

    /// The operator's validate_command finished.
    pub fn validated(&mut self, id: u64, gateway: usize, ok: bool, output: &str, model: &mut Model, now: SystemTime) {
        let last =
            output.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("").chars().take(200).collect::<String>();
        if let Some(g) = model.fleet.gateways.get_mut(gateway) {
            g.local.validate = Some(crate::fleet::ValidateOutcome { ok, output: output.chars().take(4000).collect() });
        }
        model.fleet.timeline.push(
            now,
            Some(gateway),
            TimelineKind::Check,
            format!("validate_command {}: {last}", if ok { "passed" } else { "FAILED" }),
        );
        if let Stage::Confirming(c) = &mut self.stage
            && c.id == id
        {
            c.plan.validating = false;
            if ok {
                c.plan.effect.push("✓ the config on disk validated".into());
            } else {
                c.plan.warnings.push(format!("validate_command failed: {last}"));
            }
        }
        model.reevaluate(gateway, now);
    }

    /// An event from the running action.
    pub fn event(&mut self, ev: ActionEvent, model: &mut Model, now: SystemTime) -> Told {
        let name = model.gateway(ev.gateway).map(|g| g.spec.name.clone()).unwrap_or_default();
        let running = match &mut self.stage {
            Stage::Running(r) if r.id == ev.id => Some(r),
            _ => None,
        };
        let mut told = Told::default();
        match ev.kind {
            ActionEventKind::Started { title } => {
                model.fleet.timeline.push(ev.at, Some(ev.gateway), TimelineKind::Action, format!("started: {title}"));
            }
            ActionEventKind::Progress { line } => {
                if let Some(r) = running {
                    r.lines.push(line);
                    if r.lines.len() > 50 {
                        r.lines.remove(0);
                    }
                }
            }
            ActionEventKind::Result { subject, result } => {
                model.apply_result(ev.gateway, ev.at, &subject, &result, now);
                // Re-read channels replace their rows now, not at the next poll.
                told.rows_changed = matches!(result, AdminResult::Channels { .. });
            }
            ActionEventKind::Finished { ok, summary, detail } => {
                // A failed step is told once, by the `Ended` that follows.
                if ok {
                    model.fleet.timeline.push(
                        ev.at,
                        Some(ev.gateway),
                        TimelineKind::Action,
                        format!("{name}: ran: {summary}"),
                    );
                }
                if let Some(r) = running {
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
                model.fleet.timeline.push(ev.at, Some(ev.gateway), kind, format!("{name}: {text}"));
                for d in detail.iter().take(6) {
                    model.fleet.timeline.push(ev.at, Some(ev.gateway), kind, format!("  {d}"));
                }
                let mut refresh = true;
                if running.is_some()
                    && let Stage::Running(mut r) = std::mem::take(&mut self.stage)
                {
                    refresh = self.after(&r, outcome, ev.gateway, ev.at, model);
                    r.outcome = Some((outcome, summary));
                    r.lines.extend(detail);
                    self.last = Some(*r);
                    told.ended = true;
                }
                told.say = Some(text);
                if outcome != Outcome::Refused {
                    model.reevaluate(ev.gateway, now);
                    if refresh {
                        told.effects.push(Effect::Refresh(ev.gateway));
                    }
                }
            }
        }
        told
    }

    /// What an ended action changes; whether the gateway needs a full refresh.
    fn after(
        &mut self,
        r: &RunningAction,
        outcome: Outcome,
        gateway: usize,
        at: SystemTime,
        model: &mut Model,
    ) -> bool {
        // What probes found before a change no longer describes the gateway.
        if outcome != Outcome::Refused && GatewayAction::key_is_mutating(r.key) {
            model.mark_changed(gateway, at);
            model.note_action(gateway, &r.title, r.started);
        }
        let Some(obs) = model.gateway(gateway) else { return true };
        let newapi = obs.kind() == GatewayKind::NewApi;
        if outcome == Outcome::Verified
            && newapi
            && matches!(r.key, "toggle" | "balances_all" | "test_all")
            // Without the memory cache every node reads the database: no stale window.
            && crate::gateway::newapi::select::CacheMode::of(&obs.spec)
                != crate::gateway::newapi::select::CacheMode::Declared(false)
        {
            self.propagating = Some((gateway, at + obs.spec.sync_frequency));
        }
        // New API channel actions re-read what they touched (the table is
        // already current); the full list keeps its cadence.
        !(newapi && matches!(r.key, "toggle" | "test" | "balance" | "balances_all" | "test_all"))
    }
}
