//! New API channel actions end to end through the app and the executor,
//! against the simulator: each is verified by re-reading only the channel(s)
//! it touched (one request where the whole list takes a dozen at 1,000
//! channels — 22-31 s on a real server), the table shows the result at once,
//! and no full list refresh follows (the list keeps its own cadence).

#![allow(clippy::unwrap_used, clippy::default_trait_access, clippy::print_stderr)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use gatewatch::actions::audit::AuditLog;
use gatewatch::actions::exec::Executor;
use gatewatch::actions::{ActionEvent, ActionEventKind};
use gatewatch::app::{App, Effect, Msg, Pane};
use gatewatch::config::{GatewayKind, GatewaySpec};
use gatewatch::demo::newapi_sim::{self, DEMO_ACCESS_TOKEN, NewApiState, Shared};
use gatewatch::gateway::litellm::drift::MatchMemory;
use gatewatch::gateway::newapi::NewApi;
use gatewatch::gateway::{AdminResult, DeploymentStatus, Gateway};
use gatewatch::secret::{Redactor, Secret};
use gatewatch::triage::load;
use tokio_util::sync::CancellationToken;

use common::config;

struct Rig {
    sim: Shared,
    app: App,
    gw: Arc<dyn Gateway>,
    _cancel: CancellationToken,
    dir: tempfile::TempDir,
}

fn key(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

async fn rig() -> Rig {
    rig_with(NewApiState::demo(), DEMO_ACCESS_TOKEN).await
}

async fn rig_with(state: NewApiState, token: &str) -> Rig {
    let sim = Arc::new(Mutex::new(state));
    let cancel = CancellationToken::new();
    let addr = newapi_sim::serve(sim.clone(), cancel.clone()).await.unwrap();
    let mut spec = GatewaySpec::new("newapi", GatewayKind::NewApi, format!("http://{addr}"));
    spec.user_id = Some(1);
    spec.action_timeout = Duration::from_secs(5);
    let gw: Arc<dyn Gateway> =
        Arc::new(NewApi::with_credentials(spec.clone(), Some(Secret::new(token)), Some("1".into())));
    let report = gatewatch::poller::cycle(&gw, 0, &mut MatchMemory::default(), None, None).await;
    let mut app = App::new(&config(vec![spec]), load::load(None).unwrap(), report.at);
    app.update(Msg::Poll(Box::new(report)));
    Rig { sim, app, gw, _cancel: cancel, dir: tempfile::tempdir().unwrap() }
}

impl Rig {
    fn select(&mut self, name: &str) {
        self.app.views.focus = Pane::Deployments;
        let deps = self.app.current().unwrap().deployments().to_vec();
        self.app.views.current_mut().unwrap().table.selected =
            self.app.table().unwrap().rows.iter().position(|&i| deps[i].name == name).unwrap();
    }

    fn requests(&self) -> u64 {
        self.sim.lock().unwrap().requests
    }

    /// Confirm with `keys`, run what the app asks for, feed every event
    /// back; the events, and every effect the app returned for them.
    async fn run(&mut self, keys: &str) -> (Vec<ActionEvent>, Vec<Effect>) {
        let mut effects = Vec::new();
        for c in keys.chars() {
            effects = self.app.update(key(c));
        }
        let [Effect::Run { id, plan }] = effects.as_slice() else { panic!("no action started: {effects:?}") };
        let (tx, mut rx) = tokio::sync::mpsc::channel(64);
        let audit = AuditLog::new(self.dir.path().join("audit.jsonl"), Redactor::default());
        let exec = Executor::new(vec![self.gw.clone()], audit, Redactor::default(), tx);
        exec.start(*id, (**plan).clone());
        let (mut events, mut out) = (Vec::new(), Vec::new());
        while let Ok(Some(ev)) = tokio::time::timeout(Duration::from_secs(10), rx.recv()).await {
            out.extend(self.app.update(Msg::Action(ev.clone())));
            let done = matches!(ev.kind, ActionEventKind::Ended { .. });
            events.push(ev);
            if done {
                break;
            }
        }
        (events, out)
    }

    fn status(&self, id: &str) -> DeploymentStatus {
        self.app.current().unwrap().deployments().iter().find(|d| d.id == id).unwrap().status
    }
}

/// The action's one terminal event: (succeeded, summary).
fn verified(events: &[ActionEvent]) -> (bool, String) {
    match &events.last().unwrap().kind {
        ActionEventKind::Ended { outcome, summary, .. } => (outcome.succeeded(), summary.clone()),
        other => panic!("the last event is not the end: {other:?}"),
    }
}

fn re_read(events: &[ActionEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            ActionEventKind::Result { result: AdminResult::Channels { channels }, .. } => {
                Some(channels.iter().map(|c| c.id.to_string()).collect::<Vec<_>>())
            }
            _ => None,
        })
        .flatten()
        .collect()
}

#[tokio::test]
async fn disabling_is_verified_by_one_read_and_the_row_changes_at_once() {
    let mut r = rig().await;
    r.select("openai-backup");
    assert_eq!(r.status("2"), DeploymentStatus::Serving);
    let before = r.requests();
    let started = Instant::now();
    let (events, effects) = r.run("xy").await;
    assert_eq!(verified(&events), (true, "verified: channel #2 is disabled".to_owned()));
    assert_eq!(r.requests() - before, 2, "PUT /api/channel/ and GET /api/channel/2, nothing else");
    assert_eq!(re_read(&events), ["2"]);
    assert_eq!(r.status("2"), DeploymentStatus::ManuallyDisabled, "the table shows it before any poll");
    assert!(!effects.iter().any(|e| matches!(e, Effect::Refresh(_))), "no full list refresh: {effects:?}");
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    // The server really has it disabled.
    assert_eq!(r.sim.lock().unwrap().channel(2).unwrap().status, 2);
    // And back.
    let (events, _) = r.run("xy").await;
    assert_eq!(verified(&events).1, "verified: channel #2 is serving");
    assert_eq!(r.status("2"), DeploymentStatus::Serving);
}

#[tokio::test]
async fn a_test_and_a_balance_refresh_show_in_the_row_at_once() {
    let mut r = rig().await;
    r.sim.lock().unwrap().channels.iter_mut().find(|c| c.id == 1).unwrap().sim.upstream_balance = 99.5;
    r.select("openai-main");
    let (events, effects) = r.run("by").await;
    assert!(verified(&events).0);
    assert_eq!(re_read(&events), ["1"]);
    let row = r.app.current().unwrap().deployments().iter().find(|d| d.id == "1").unwrap().clone();
    assert_eq!(row.balance.get(), Some(99.5), "the new balance is in the table before the next poll");
    assert!(!effects.iter().any(|e| matches!(e, Effect::Refresh(_))));

    r.select("openai-backup");
    let tested_before = r.app.current().unwrap().deployments().iter().find(|d| d.id == "2").unwrap().test_time.get();
    assert_eq!(tested_before, None);
    let (events, _) = r.run("ty").await;
    assert!(verified(&events).0);
    let row = r.app.current().unwrap().deployments().iter().find(|d| d.id == "2").unwrap().clone();
    assert!(row.test_time.get().is_some() && row.response_time_ms.get() == Some(930), "{row:?}");
    assert_eq!(row.status, DeploymentStatus::Serving, "a single test never changes the status");
}

#[tokio::test]
async fn update_all_balances_reads_only_the_disabled_channels() {
    let mut r = rig().await;
    let before = r.requests();
    let (events, effects) = r.run("ByY").await;
    let (ok, summary) = verified(&events);
    assert!(!ok && summary == "2 channel(s) disabled by the balance update", "{summary}");
    // The disabled channels before and after (one page each) and the update itself.
    assert_eq!(r.requests() - before, 3);
    let ids = re_read(&events);
    assert!(ids.contains(&"6".to_owned()) && ids.contains(&"12".to_owned()), "{ids:?}");
    assert_eq!(r.status("6"), DeploymentStatus::AutoDisabled);
    assert_eq!(r.status("12"), DeploymentStatus::AutoDisabled);
    assert!(!effects.iter().any(|e| matches!(e, Effect::Refresh(_))));
}

/// The captured server's size: 1,004 channels, where the list is 11 pages
/// and the old verification (a whole poll) took 22-31 s on the real server.
#[tokio::test]
async fn at_1004_channels_a_toggle_still_costs_two_requests() {
    use gatewatch::demo::newapi_sim::captured;
    let mut r = rig_with(captured::with_bulk(), captured::ROOT_TOKEN).await;
    assert_eq!(r.app.current().unwrap().deployments().len(), 1004);
    r.select("disabled");
    let before = r.requests();
    let started = Instant::now();
    let (events, effects) = r.run("xy").await;
    let took = started.elapsed();
    eprintln!("disable #3 at 1,004 channels: verified in {took:?}, {} requests", r.requests() - before);
    assert_eq!(verified(&events), (true, "verified: channel #3 is disabled".to_owned()));
    assert_eq!(r.requests() - before, 2);
    assert_eq!(r.status("3"), DeploymentStatus::ManuallyDisabled);
    assert!(!effects.iter().any(|e| matches!(e, Effect::Refresh(_))));
}

/// A channel whose test just failed: enabling it shows the failed test on
/// the first panel, needs the second confirmation, and is verified as
/// "enabled" with the failed test named — never "serving".
#[tokio::test]
async fn enabling_a_channel_whose_test_failed_says_so() {
    let mut r = rig().await;
    r.select("openai-eu");
    let (events, _) = r.run("ty").await;
    let (_, summary) = verified(&events);
    assert!(summary.contains("test failed") && summary.contains("401"), "{summary}");
    r.select("openai-eu");
    r.app.update(key('x'));
    let Some(c) = r.app.confirming() else { panic!("{:?}", r.app.overlay) };
    assert!(c.plan.last_test.as_ref().is_some_and(|t| !t.ok), "{:?}", c.plan.last_test);
    assert!(c.plan.warnings.iter().any(|w| w.contains("last test failed")), "{:?}", c.plan.warnings);
    r.app.overlay = None;
    let (events, _) = r.run("xyY").await;
    let (ok, summary) = verified(&events);
    assert!(ok, "{summary}");
    assert!(summary.contains("is enabled (its last test failed") && !summary.contains("serving"), "{summary}");
}
