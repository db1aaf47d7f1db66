//! Every action ends with exactly one terminal event, on every path: a
//! gateway that answers 500, a panic inside the action, a command that is
//! not configured, another action still running. After it the executor takes
//! the next action (nothing stays busy).

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use gatewatch::actions::audit::AuditLog;
use gatewatch::actions::exec::Executor;
use gatewatch::actions::plan;
use gatewatch::actions::{ActionEvent, ActionEventKind, GatewayAction, Outcome};
use gatewatch::config::{GatewayKind, GatewaySpec};
use gatewatch::fleet::GatewayObs;
use gatewatch::gateway::{AdminOp, AdminResult, Gateway, GatewayError, Liveness, ReplicaSnapshot, ReplicaTarget};
use gatewatch::secret::Redactor;
use tokio::sync::mpsc;

#[derive(Clone, Copy, Debug)]
enum Fault {
    /// Every request answers HTTP 500.
    Http500,
    /// The adapter panics (a bug in gatewatch must still end the action).
    Panic,
}

struct Faulty {
    spec: GatewaySpec,
    fault: Fault,
}

impl Faulty {
    fn fail<T>(&self) -> Result<T, GatewayError> {
        match self.fault {
            Fault::Http500 => Err(GatewayError::Http { status: 500, message: "Internal Server Error".into() }),
            Fault::Panic => panic!("adapter bug on purpose"),
        }
    }
}

#[async_trait]
impl Gateway for Faulty {
    fn spec(&self) -> &GatewaySpec {
        &self.spec
    }

    async fn poll(&self, _: &ReplicaTarget) -> Result<ReplicaSnapshot, GatewayError> {
        self.fail()
    }

    async fn liveness(&self, _: &ReplicaTarget) -> Result<Liveness, GatewayError> {
        self.fail()
    }

    async fn admin(&self, _: &ReplicaTarget, _: &AdminOp) -> Result<AdminResult, GatewayError> {
        self.fail()
    }
}

fn spec(kind: GatewayKind) -> GatewaySpec {
    let mut s = GatewaySpec::new("g", kind, "http://127.0.0.1:9");
    s.action_timeout = Duration::from_secs(2);
    s.verify_timeout = Duration::from_millis(300);
    s
}

fn every_action(kind: GatewayKind) -> Vec<GatewayAction> {
    let ch = || ("4".to_owned(), "ch4".to_owned());
    match kind {
        GatewayKind::LiteLlm => vec![
            GatewayAction::Purge,
            GatewayAction::Reload,
            GatewayAction::Restart,
            GatewayAction::ProbeHealth,
            GatewayAction::RouteProbe,
            GatewayAction::StreamProbe { model: "gpt-4o".into() },
        ],
        GatewayKind::NewApi => vec![
            GatewayAction::Restart,
            GatewayAction::TestChannel { id: ch().0, name: ch().1 },
            GatewayAction::TestAll,
            GatewayAction::RefreshBalance { id: ch().0, name: ch().1 },
            GatewayAction::UpdateAllBalances,
            GatewayAction::SetChannelEnabled { id: ch().0, name: ch().1, enable: true },
        ],
    }
}

/// Run one action to its end; every event it sent, in order.
async fn run(exec: &Executor, rx: &mut mpsc::Receiver<ActionEvent>, id: u64, p: plan::Plan) -> Vec<ActionEvent> {
    exec.start(id, p);
    let mut events = Vec::new();
    loop {
        let ev = tokio::time::timeout(Duration::from_secs(15), rx.recv())
            .await
            .unwrap_or_else(|_| panic!("action {id} never ended: {events:?}"))
            .unwrap();
        let end = matches!(ev.kind, ActionEventKind::Ended { .. });
        events.push(ev);
        if end {
            return events;
        }
    }
}

fn outcome(events: &[ActionEvent]) -> (Outcome, String) {
    let ends: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.kind {
            ActionEventKind::Ended { outcome, summary, .. } => Some((*outcome, summary.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(ends.len(), 1, "exactly one terminal event: {events:?}");
    ends[0].clone()
}

async fn check_every_action_ends(fault: Fault) {
    for kind in [GatewayKind::LiteLlm, GatewayKind::NewApi] {
        let dir = tempfile::tempdir().unwrap();
        let (tx, mut rx) = mpsc::channel(256);
        let s = spec(kind);
        let gw: Arc<dyn Gateway> = Arc::new(Faulty { spec: s.clone(), fault });
        let exec = Executor::new(
            vec![gw],
            AuditLog::new(dir.path().join("audit.jsonl"), Redactor::default()),
            Redactor::default(),
            tx,
        );
        let obs = GatewayObs::new(s);
        for (i, action) in every_action(kind).into_iter().enumerate() {
            let p = plan::plan(&obs, 0, action.clone(), false);
            let events = run(&exec, &mut rx, i as u64 + 1, p).await;
            let (o, summary) = outcome(&events);
            assert!(
                matches!(o, Outcome::Failed | Outcome::NotVerified),
                "{kind:?} {action:?} under {fault:?} ended {o:?}: {summary}"
            );
            assert!(!summary.is_empty());
            // Nothing after the end, and the executor is free again: the
            // next iteration's action would be refused otherwise.
            tokio::time::sleep(Duration::from_millis(20)).await;
            assert!(rx.try_recv().is_err(), "an event after the end of {action:?}");
        }
        // The audit log ends every action too.
        let audit = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
        let ended = audit.lines().filter(|l| l.contains("\"phase\":\"ended\"")).count();
        assert_eq!(ended, every_action(kind).len(), "{audit}");
    }
}

#[tokio::test]
async fn every_action_kind_ends_when_the_gateway_answers_500() {
    check_every_action_ends(Fault::Http500).await;
}

#[tokio::test]
async fn every_action_kind_ends_when_the_action_panics() {
    check_every_action_ends(Fault::Panic).await;
}

#[tokio::test]
async fn a_refused_action_ends_refused_and_the_running_one_still_ends() {
    let dir = tempfile::tempdir().unwrap();
    let (tx, mut rx) = mpsc::channel(256);
    let mut s = spec(GatewayKind::LiteLlm);
    s.restart_command = Some("sleep 1".into());
    let gw: Arc<dyn Gateway> = Arc::new(Faulty { spec: s.clone(), fault: Fault::Http500 });
    let exec = Executor::new(
        vec![gw],
        AuditLog::new(dir.path().join("audit.jsonl"), Redactor::default()),
        Redactor::default(),
        tx,
    );
    let obs = GatewayObs::new(s);
    exec.start(1, plan::plan(&obs, 0, GatewayAction::Restart, false));
    tokio::time::sleep(Duration::from_millis(100)).await;
    exec.start(2, plan::plan(&obs, 0, GatewayAction::Purge, false));
    let mut ends = Vec::new();
    while ends.len() < 2 {
        let ev = tokio::time::timeout(Duration::from_secs(15), rx.recv()).await.unwrap().unwrap();
        if let ActionEventKind::Ended { outcome, .. } = ev.kind {
            ends.push((ev.id, outcome));
        }
    }
    assert_eq!(ends[0], (2, Outcome::Refused));
    // The restart ran, but its verification could not reach the gateway.
    assert_eq!(ends[1], (1, Outcome::NotVerified));
}

#[tokio::test]
async fn a_restart_with_no_command_fails_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let (tx, mut rx) = mpsc::channel(64);
    let s = spec(GatewayKind::LiteLlm);
    let gw: Arc<dyn Gateway> = Arc::new(Faulty { spec: s.clone(), fault: Fault::Http500 });
    let exec = Executor::new(
        vec![gw],
        AuditLog::new(dir.path().join("audit.jsonl"), Redactor::default()),
        Redactor::default(),
        tx,
    );
    let obs = GatewayObs::new(s);
    let events = run(&exec, &mut rx, 1, plan::plan(&obs, 0, GatewayAction::Restart, false)).await;
    let (o, summary) = outcome(&events);
    assert_eq!(o, Outcome::Failed);
    assert!(summary.contains("no command"), "{summary}");
}
