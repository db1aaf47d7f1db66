//! Runs a confirmed [`Plan`] off the render path: audit (synced), run,
//! audit, verify, audit — sending [`ActionEvent`]s to the app as it goes.
//! One action at a time: a second one is refused, never interleaved.
//!
//! Every action ends with exactly one [`ActionEventKind::Ended`]: the action
//! sends it when it knows its outcome, and the wrapper in [`Executor::start`]
//! sends it on every other path (an early return, a panic, the time limit, a
//! refusal), so the app's busy state always clears.

mod audited;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::SystemTime;

use tokio::sync::{Mutex, mpsc};

use super::audit::AuditLog;
use super::plan::Plan;
use super::verify::{self, Expect, Verification};
use super::{ActionEvent, ActionEventKind, GatewayAction, Outcome};
use crate::gateway::{AdminOp, AdminResult, DeploymentStatus, Gateway, ReplicaTarget};
use crate::secret::Redactor;

#[derive(Clone)]
pub struct Executor {
    gateways: Vec<Arc<dyn Gateway>>,
    audit: AuditLog,
    redactor: Redactor,
    tx: mpsc::Sender<ActionEvent>,
    busy: Arc<Mutex<()>>,
    audit_watch: Option<mpsc::Sender<Option<String>>>,
}

struct Run {
    id: u64,
    plan: Plan,
    gw: Arc<dyn Gateway>,
    audit: AuditLog,
    redactor: Redactor,
    tx: mpsc::Sender<ActionEvent>,
    /// The terminal event was sent (at most one is).
    ended: AtomicBool,
    /// The last step the action reported (`finished`), for the wrapper to end
    /// an action that returned without ending itself.
    step: std::sync::Mutex<Option<(bool, String, Vec<String>)>>,
    /// Told of every audit write that failed (`Some`) and of a write that
    /// worked again after one failed (`None`), so the app can show it and
    /// ask for consent to run unaudited.
    audit_watch: Option<mpsc::Sender<Option<String>>>,
}

impl Run {
    async fn send(&self, kind: ActionEventKind) {
        let _ =
            self.tx.send(ActionEvent { id: self.id, gateway: self.plan.gateway, at: SystemTime::now(), kind }).await;
    }

    async fn progress(&self, line: impl Into<String>) {
        self.send(ActionEventKind::Progress { line: self.redactor.redact(&line.into()) }).await;
    }

    async fn audit(&self, phase: &str, outcome: Option<&str>, detail: Option<String>) -> bool {
        self.audit_with(phase, outcome, detail, self.plan.command.clone()).await
    }

    /// A step: the action itself ran (a verification may follow).
    async fn finished(&self, ok: bool, summary: String, detail: Vec<String>) {
        let summary = self.redactor.redact(&summary);
        let detail: Vec<String> = detail.iter().map(|d| self.redactor.redact(d)).collect();
        if let Ok(mut step) = self.step.lock() {
            *step = Some((ok, summary.clone(), detail.clone()));
        }
        self.audit("finished", Some(if ok { "ok" } else { "failed" }), Some(summary.clone())).await;
        self.send(ActionEventKind::Finished { ok, summary, detail }).await;
    }

    /// The verification ended: the action is over.
    async fn verified(&self, v: Verification) {
        let outcome = if v.ok { Outcome::Verified } else { Outcome::NotVerified };
        self.end(outcome, v.summary, v.detail).await;
    }

    /// The one terminal event; a second call is ignored.
    async fn end(&self, outcome: Outcome, summary: String, detail: Vec<String>) {
        if self.ended.swap(true, Ordering::SeqCst) {
            return;
        }
        let summary = self.redactor.redact(&summary);
        let detail: Vec<String> = detail.iter().map(|d| self.redactor.redact(d)).collect();
        tracing::info!(gateway = %self.plan.gateway_name, action = self.plan.action.key(), outcome = outcome.key(), summary = %summary, "action ended");
        self.audit("ended", Some(outcome.key()), Some(summary.clone())).await;
        self.send(ActionEventKind::Ended { outcome, summary, detail }).await;
    }

    /// End an action that returned, panicked or ran out of time without
    /// ending itself: from its last step when there is one.
    async fn end_unfinished(&self, cut: Option<String>) {
        if self.ended.load(Ordering::SeqCst) {
            return;
        }
        let step = self.step.lock().ok().and_then(|s| s.clone());
        let (outcome, summary, detail) = match (cut, step) {
            (Some(why), Some((true, summary, _))) => {
                (Outcome::NotVerified, format!("{summary}; then {why}: the effect was not checked"), Vec::new())
            }
            (Some(why), _) => (Outcome::Failed, why, Vec::new()),
            (None, Some((false, summary, detail))) => (Outcome::Failed, summary, detail),
            (None, Some((true, summary, _))) => {
                (Outcome::NotVerified, format!("{summary}; nothing checked the effect"), Vec::new())
            }
            (None, None) => (Outcome::Failed, "the action ended without a result".to_owned(), Vec::new()),
        };
        self.end(outcome, summary, detail).await;
    }

    fn target(&self) -> ReplicaTarget {
        ReplicaTarget {
            index: 0,
            url: self.plan.replicas.first().cloned().unwrap_or_else(|| self.gw.spec().url.clone()),
        }
    }

    async fn admin(&self, op: &AdminOp) -> Result<AdminResult, String> {
        self.gw.admin(&self.target(), op).await.map_err(|e| e.to_string())
    }

    async fn result(&self, subject: &str, result: &AdminResult) {
        self.send(ActionEventKind::Result { subject: subject.to_owned(), result: result.clone() }).await;
    }

    async fn run(&self) {
        tracing::info!(gateway = %self.plan.gateway_name, action = self.plan.action.key(), id = self.id, "action started");
        if !self.audit("started", None, Some(self.plan.effect.join(" | "))).await {
            if !self.plan.unaudited {
                // Nothing ran: the operator has not agreed to act without a record.
                let why = "refused: the audit log cannot be written, so nothing was run. Ask again: the confirmation will say so and needs Y to run without an audit record";
                self.end(Outcome::Refused, why.into(), Vec::new()).await;
                return;
            }
            self.progress("running WITHOUT an audit record, as confirmed with Y".to_owned()).await;
        }
        self.send(ActionEventKind::Started { title: self.plan.title.clone() }).await;
        match self.plan.action.clone() {
            GatewayAction::Restart | GatewayAction::Reload => self.restart().await,
            GatewayAction::Purge => self.purge().await,
            GatewayAction::ProbeHealth => self.probe().await,
            GatewayAction::RouteProbe => self.route_probe().await,
            GatewayAction::StreamProbe { model } => {
                // The plan lists the front door first and, when the operator
                // has replicas behind it, the one to compare with directly.
                let direct = self.plan.replicas.get(1).cloned();
                self.one_result(&model, AdminOp::StreamProbe { model: model.clone(), direct }).await;
            }
            GatewayAction::TestChannel { id, .. } => {
                self.one_result(&id, AdminOp::TestChannel { id: id.clone(), model: None }).await;
            }
            GatewayAction::RefreshBalance { id, .. } => {
                self.one_result(&id, AdminOp::RefreshBalance { id: id.clone() }).await;
            }
            GatewayAction::TestAll => self.one_result("all", AdminOp::TestAllChannels).await,
            GatewayAction::UpdateAllBalances => self.update_all_balances().await,
            GatewayAction::SetChannelEnabled { id, enable, .. } => self.toggle(&id, enable).await,
        }
    }

    async fn restart(&self) {
        if self.plan.commands.is_empty() {
            self.finished(false, "no command configured".into(), Vec::new()).await;
            return;
        }
        let spec = self.gw.spec().clone();
        // New API: remember start times to tell a new process from the old one.
        let expect_before = if spec.kind == crate::config::GatewayKind::NewApi {
            let mut before = Vec::new();
            for (i, url) in self.plan.replicas.iter().enumerate() {
                let t = ReplicaTarget { index: i, url: url.clone() };
                before.push((url.clone(), self.gw.liveness(&t).await.ok().and_then(|l| l.started_at)));
            }
            Some(before)
        } else {
            None
        };
        // LiteLLM: the process visible on this host, to see that it was replaced.
        let before = verify::before(&spec).await;
        let (ok, summary, tail) = self.run_commands(&spec).await;
        let out_tail = tail.clone();
        let summary_line = summary.clone();
        self.finished(ok, summary, tail).await;
        if !ok {
            let summary = format!("{summary_line}; the gateway may be down: check the replicas");
            self.end(Outcome::Failed, summary, out_tail).await;
            return;
        }
        let expect = match expect_before {
            Some(before) => Expect::Restarted(before),
            None => verify::expected_after_restart(&spec).await,
        };
        self.progress("verifying: waiting for every replica".to_owned()).await;
        let (ptx, mut prx) = mpsc::unbounded_channel::<String>();
        let verify_fut = verify::until_verified(
            self.gw.as_ref(),
            &self.plan.replicas,
            &expect,
            &before,
            spec.verify_timeout,
            move |line| {
                let _ = ptx.send(line);
            },
        );
        tokio::pin!(verify_fut);
        let v = loop {
            tokio::select! {
                v = &mut verify_fut => break v,
                Some(line) = prx.recv() => self.progress(line).await,
            }
        };
        while let Ok(line) = prx.try_recv() {
            self.progress(line).await;
        }
        let v = if v.ok || !matches!(expect, Expect::Ids(_)) {
            v
        } else {
            Verification {
                summary: format!(
                    "{} — still drifting: check that the command restarts every worker, then R again",
                    v.summary
                ),
                ..v
            }
        };
        self.verified(v).await;
    }

    async fn purge(&self) {
        // Counted before, so the verification can say whether Redis emptied.
        let before = verify::redis_keys(self.gw.spec()).await;
        match self.admin(&AdminOp::PurgeResponseCache).await {
            Ok(AdminResult::Done { message }) => self.finished(true, message, Vec::new()).await,
            Ok(other) => {
                self.finished(false, format!("unexpected answer to the purge: {other:?}"), Vec::new()).await;
                return;
            }
            Err(e) => {
                self.finished(false, e, Vec::new()).await;
                return;
            }
        }
        let v = verify::after_purge(self.gw.as_ref(), &self.target(), before).await;
        self.verified(v).await;
    }

    async fn probe(&self) {
        match self.admin(&AdminOp::ProbeAllDeployments).await {
            Ok(r @ AdminResult::Probe { .. }) => {
                let AdminResult::Probe { entries } = &r else { return };
                let bad: Vec<String> = entries
                    .iter()
                    .filter(|e| !e.healthy)
                    .map(|e| {
                        format!(
                            "{} {}: {}{}",
                            e.model,
                            e.status.map(|s| format!("HTTP {s}")).unwrap_or_default(),
                            e.error.clone().unwrap_or_default(),
                            e.auth_tail.as_ref().map(|t| format!(" (key held ends …{t})")).unwrap_or_default()
                        )
                    })
                    .collect();
                let healthy = entries.iter().filter(|e| e.healthy).count();
                self.result("all", &r).await;
                let summary = format!("probe done: {healthy} healthy, {} unhealthy", bad.len());
                self.end(Outcome::Done, summary, bad).await;
            }
            Ok(other) => self.end(Outcome::Failed, format!("unexpected answer {other:?}"), Vec::new()).await,
            Err(e) => self.end(Outcome::Failed, e, Vec::new()).await,
        }
    }

    async fn route_probe(&self) {
        let snap = self.gw.poll(&self.target()).await;
        let mut aliases: Vec<String> = match &snap {
            Ok(s) => s.deployments.ok().map(|d| d.iter().map(|x| x.name.to_string()).collect()).unwrap_or_default(),
            Err(e) => {
                self.finished(false, format!("cannot list aliases: {e}"), Vec::new()).await;
                return;
            }
        };
        aliases.sort();
        aliases.dedup();
        let mut lines = Vec::new();
        let mut failures = 0;
        for alias in aliases.iter().take(50) {
            self.progress(format!("probing {alias}")).await;
            match self.admin(&AdminOp::TinyCompletion { model: alias.clone() }).await {
                Ok(r) => {
                    if let AdminResult::Route(rr) = &r {
                        if rr.status >= 400 || rr.attempted_fallbacks.unwrap_or(0) > 0 {
                            failures += 1;
                        }
                        lines.push(format!(
                            "{alias}: HTTP {} id {} fallbacks {}",
                            rr.status,
                            rr.model_id.as_deref().map_or("-", crate::secret::short_id),
                            rr.attempted_fallbacks.unwrap_or(0)
                        ));
                    }
                    self.result(alias, &r).await;
                }
                Err(e) => {
                    failures += 1;
                    lines.push(format!("{alias}: {e}"));
                }
            }
        }
        let summary = format!("probe done: {failures} of {} alias(es) falling back or failing", aliases.len());
        self.end(Outcome::Done, summary, lines).await;
    }

    async fn one_result(&self, subject: &str, op: AdminOp) {
        match self.admin(&op).await {
            Ok(r) => {
                // What a test or probe found is its outcome, not a failure of
                // the action: the evidence pane judges it.
                let summary = match &r {
                    AdminResult::ChannelTest { ok: true, seconds, .. } => format!("test passed in {seconds:.2}s"),
                    AdminResult::ChannelTest { message, .. } => format!("test failed: {message}"),
                    AdminResult::Balance { balance } => format!("balance ${balance:.2}"),
                    AdminResult::Stream(s) => {
                        let line = |s: &crate::gateway::StreamReport| {
                            format!(
                                "{} chunks, [DONE] {}, first token {}",
                                s.chunks,
                                if s.done_marker { "yes" } else { "NO" },
                                s.first_token.map_or("-".into(), crate::config::duration::human)
                            )
                        };
                        let mut summary = format!("stream probe done: {}", line(s));
                        if let Some(d) = &s.direct {
                            summary.push_str(&format!("; direct to {}: {}", d.via, line(d)));
                        }
                        summary
                    }
                    AdminResult::Done { message } => message.clone(),
                    other => format!("{other:?}"),
                };
                self.result(subject, &r).await;
                // New API: a test writes test_time and response_time, a balance
                // refresh the balance; re-reading that one channel puts them in
                // the table now instead of at the next full list.
                if let AdminOp::TestChannel { id, .. } | AdminOp::RefreshBalance { id } = &op
                    && let Ok(fresh @ AdminResult::Channels { .. }) =
                        self.admin(&AdminOp::ReadChannel { id: id.clone() }).await
                {
                    self.result(id, &fresh).await;
                }
                self.end(Outcome::Done, summary, Vec::new()).await;
            }
            Err(e) => self.end(Outcome::Failed, e, Vec::new()).await,
        }
    }

    async fn channel_statuses(&self) -> Option<Vec<(String, String, DeploymentStatus)>> {
        let s = self.gw.poll(&self.target()).await.ok()?;
        Some(s.deployments.ok()?.iter().map(|d| (d.id.to_string(), d.name.to_string(), d.status)).collect())
    }

    async fn update_all_balances(&self) {
        // What a balance update can change is which channels are disabled:
        // read those (a page or two) before and after, not the whole list.
        let disabled = || async {
            match self.admin(&AdminOp::ReadDisabledChannels).await {
                Ok(r @ AdminResult::Channels { .. }) => Some(r),
                _ => None,
            }
        };
        let before_disabled = disabled().await;
        let before =
            if before_disabled.is_some() { Vec::new() } else { self.channel_statuses().await.unwrap_or_default() };
        match self.admin(&AdminOp::UpdateAllBalances).await {
            Ok(_) => self.finished(true, "update_balance finished".into(), Vec::new()).await,
            Err(e) => {
                self.finished(false, e, Vec::new()).await;
                return;
            }
        }
        let newly: Vec<String> =
            if let (Some(AdminResult::Channels { channels: was }), Some(AdminResult::Channels { channels })) =
                (&before_disabled, disabled().await)
            {
                let newly = channels
                    .iter()
                    .filter(|d| d.status == DeploymentStatus::AutoDisabled && !was.iter().any(|w| w.id == d.id))
                    .map(|d| format!("#{} {} was disabled by the balance update", d.id, d.name))
                    .collect();
                self.result("disabled", &AdminResult::Channels { channels }).await;
                newly
            } else {
                let Some(after) = self.channel_statuses().await else {
                    self.verified(Verification {
                        ok: false,
                        summary: "could not re-read the channels".into(),
                        detail: Vec::new(),
                        behind: Vec::new(),
                    })
                    .await;
                    return;
                };
                after
                    .iter()
                    .filter(|(id, _, st)| {
                        *st == DeploymentStatus::AutoDisabled
                            && before.iter().any(|(b, _, bs)| b == id && *bs == DeploymentStatus::Serving)
                    })
                    .map(|(id, name, _)| format!("#{id} {name} was disabled by the balance update"))
                    .collect()
            };
        let summary = if newly.is_empty() {
            "no channel was disabled".to_owned()
        } else {
            format!("{} channel(s) disabled by the balance update", newly.len())
        };
        self.verified(Verification { ok: newly.is_empty(), summary, detail: newly, behind: Vec::new() }).await;
    }

    async fn toggle(&self, id: &str, enable: bool) {
        match self.admin(&AdminOp::SetChannelEnabled { id: id.to_owned(), enabled: enable }).await {
            Ok(AdminResult::Done { message }) => self.finished(true, message, Vec::new()).await,
            Ok(_) => self.finished(true, "done".into(), Vec::new()).await,
            Err(e) => {
                self.finished(false, e, Vec::new()).await;
                return;
            }
        }
        let want = if enable { DeploymentStatus::Serving } else { DeploymentStatus::ManuallyDisabled };
        // Re-read only this channel (one request; the whole list is a dozen
        // at 1,000 channels and took 22-31 s on a real server), and put it
        // in the table at once.
        let spec = self.gw.spec();
        let nodes = match crate::gateway::newapi::select::CacheMode::of(spec) {
            crate::gateway::newapi::select::CacheMode::Declared(false) => {
                "every node reads channels from the database: no stale window".to_owned()
            }
            _ => {
                format!("nodes with the memory cache follow within SYNC_FREQUENCY ({}s)", spec.sync_frequency.as_secs())
            }
        };
        let not = |summary: String| Verification { ok: false, summary, detail: Vec::new(), behind: Vec::new() };
        let v = match self.admin(&AdminOp::ReadChannel { id: id.to_owned() }).await {
            Ok(AdminResult::Channels { channels }) => {
                let status = channels.iter().find(|d| d.id == id).map(|d| d.status);
                self.result(id, &AdminResult::Channels { channels }).await;
                match status {
                    // Enabled is not serving while its last test failed.
                    Some(st) if st == want && enable && self.plan.last_test.as_ref().is_some_and(|t| !t.ok) => {
                        let t = self.plan.last_test.as_ref().map(super::plan::LastTest::describe).unwrap_or_default();
                        Verification {
                            ok: true,
                            summary: format!(
                                "verified: channel #{id} is enabled (its last test {t}); test it (t) before trusting it"
                            ),
                            detail: vec![nodes],
                            behind: Vec::new(),
                        }
                    }
                    Some(st) if st == want => Verification {
                        ok: true,
                        summary: format!("verified: channel #{id} is {}", st.label()),
                        detail: vec![nodes],
                        behind: Vec::new(),
                    },
                    Some(st) => not(format!("NOT verified: channel #{id} is {}", st.label())),
                    None => not(format!("NOT verified: channel #{id} not found")),
                }
            }
            Ok(other) => not(format!("NOT verified: unexpected answer {other:?}")),
            Err(e) => not(format!("NOT verified: re-reading channel #{id} failed: {e}")),
        };
        self.verified(v).await;
    }
}

impl Executor {
    pub fn new(
        gateways: Vec<Arc<dyn Gateway>>,
        audit: AuditLog,
        redactor: Redactor,
        tx: mpsc::Sender<ActionEvent>,
    ) -> Self {
        Self { gateways, audit, redactor, tx, busy: Arc::new(Mutex::new(())), audit_watch: None }
    }

    /// Report audit write failures (and recoveries) on `watch`.
    pub fn with_audit_watch(mut self, watch: mpsc::Sender<Option<String>>) -> Self {
        self.audit_watch = Some(watch);
        self
    }

    pub fn audit(&self) -> &AuditLog {
        &self.audit
    }

    /// Start a confirmed plan. Refused (with an event) if another action runs.
    /// Whatever happens inside, the action ends with one `Ended` event.
    pub fn start(&self, id: u64, plan: Plan) {
        let Some(gw) = self.gateways.get(plan.gateway).cloned() else {
            let tx = self.tx.clone();
            let gateway = plan.gateway;
            tokio::spawn(async move {
                let _ = tx
                    .send(ActionEvent {
                        id,
                        gateway,
                        at: SystemTime::now(),
                        kind: ActionEventKind::Ended {
                            outcome: Outcome::Refused,
                            summary: "refused: no such gateway".into(),
                            detail: Vec::new(),
                        },
                    })
                    .await;
            });
            return;
        };
        let run = Arc::new(Run {
            id,
            plan,
            gw,
            audit: self.audit.clone(),
            redactor: self.redactor.clone(),
            tx: self.tx.clone(),
            ended: AtomicBool::new(false),
            step: std::sync::Mutex::new(None),
            audit_watch: self.audit_watch.clone(),
        });
        let busy = self.busy.clone();
        tokio::spawn(async move {
            let Ok(_guard) = busy.try_lock() else {
                run.end(Outcome::Refused, "refused: another action is still running".into(), Vec::new()).await;
                return;
            };
            // The command (each replica's, for a rolling restart, is bounded
            // by the action timeout), the verification, and slack for requests.
            let spec = run.gw.spec();
            let steps = u32::try_from(run.plan.replicas.len().max(1)).unwrap_or(u32::MAX).saturating_add(1);
            let limit = spec.action_timeout * steps + spec.verify_timeout + std::time::Duration::from_secs(5);
            // The action runs in a task of its own, so a panic in it is caught here.
            let inner = tokio::spawn({
                let run = run.clone();
                async move { run.run().await }
            });
            let abort = inner.abort_handle();
            let cut = match tokio::time::timeout(limit, inner).await {
                Ok(Ok(())) => None,
                Ok(Err(e)) => {
                    tracing::error!(action = run.plan.action.key(), error = %e, "action task failed");
                    Some("stopped by an internal error in gatewatch (see the log)".to_owned())
                }
                Err(_) => {
                    abort.abort();
                    Some(format!("abandoned after its time limit ({})", crate::config::duration::human(limit)))
                }
            };
            run.end_unfinished(cut).await;
        });
    }
}
