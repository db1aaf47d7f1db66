//! The parts of a run that leave a record: each audit record appended and
//! synced (a failure shown and reported to the app), and the operator's
//! command lines run one by one, each recorded before it runs and when it
//! ends.

use super::Run;
use crate::command;

impl Run {
    /// Append one record, synced. A failure is shown in the progress lines
    /// and reported to the app (which keeps it on the timeline).
    pub(super) async fn audit_with(
        &self,
        phase: &str,
        outcome: Option<&str>,
        detail: Option<String>,
        command: Option<String>,
    ) -> bool {
        let mut rec = self.audit.record(self.id, &self.plan.gateway_name, self.plan.action.key(), phase);
        rec.outcome = outcome.map(str::to_owned);
        rec.detail = detail;
        rec.command = command;
        match self.audit.append_async(rec).await {
            Ok(()) => {
                if self.audit.take_recovered()
                    && let Some(w) = &self.audit_watch
                {
                    let _ = w.send(None).await;
                }
                true
            }
            Err(e) => {
                let why = format!("{} ({phase} record): {e}", self.audit.path().display());
                self.progress(format!("WARNING: audit log not written: {why}")).await;
                if let Some(w) = &self.audit_watch {
                    let _ = w.send(Some(self.redactor.redact(&why))).await;
                }
                false
            }
        }
    }

    /// Run the plan's command lines one after another (a per-replica
    /// template is one line per replica: a rolling restart); the first
    /// failure stops it. Each line is audited before it runs and after.
    pub(super) async fn run_commands(&self, spec: &crate::config::GatewaySpec) -> (bool, String, Vec<String>) {
        let total = self.plan.commands.len();
        let per_replica = self.plan.command.as_deref().is_some_and(command::per_replica);
        let mut lines = Vec::new();
        for (i, cmd) in self.plan.commands.iter().enumerate() {
            let replica = if per_replica { self.plan.replicas.get(i).cloned() } else { None };
            let label = if total > 1 { format!("{}/{total}: ", i + 1) } else { String::new() };
            self.progress(format!("running {label}{cmd}")).await;
            self.audit_with("command", Some("starting"), replica.clone(), Some(cmd.clone())).await;
            let out = command::run(cmd, spec.action_timeout, &spec.pass_env).await;
            self.audit_with(
                "command_ended",
                Some(if out.success() { "ok" } else { "failed" }),
                Some(out.describe()),
                Some(cmd.clone()),
            )
            .await;
            if total > 1 {
                lines.push(format!("{}: {}", replica.as_deref().unwrap_or(cmd), out.describe()));
            }
            if !out.success() {
                lines.extend(out.tail(if total > 1 { 6 } else { 8 }));
                return (false, format!("{label}{cmd}: {}", out.describe()), lines);
            }
            if total == 1 {
                lines.extend(out.tail(8));
                return (true, format!("{cmd}: {}", out.describe()), lines);
            }
        }
        (true, format!("ran {total} command(s) one by one, one per replica"), lines)
    }
}
