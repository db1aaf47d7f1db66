//! Did the action work? After a restart or reload: every replica answers its
//! liveness check again and reports the deployment ids computed from the
//! config file as it is now (LiteLLM), or a new start time (New API). Progress
//! is reported per replica; a timeout names the replicas still behind.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use crate::config::{GatewayKind, GatewaySpec};
use crate::gateway::litellm::config_file::{self, ProxyConfig};
use crate::gateway::litellm::drift::{self, MatchMemory};
use crate::gateway::{Gateway, ReplicaTarget};

/// The outcome of a verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub ok: bool,
    pub summary: String,
    pub detail: Vec<String>,
    pub behind: Vec<String>,
}

/// What each replica must show to count as verified.
#[derive(Debug, Clone)]
pub enum Expect {
    /// Answer liveness.
    Alive,
    /// Answer liveness and hold exactly the file's deployments.
    Ids(Box<ProxyConfig>),
    /// Answer with a start time different from the one before the action.
    Restarted(Vec<Option<i64>>),
}

/// Read the gateway's config file now, as the restarted process will.
pub fn expected_after_restart(spec: &GatewaySpec) -> Expect {
    if spec.kind == GatewayKind::LiteLlm
        && let Some(path) = &spec.config_file
        && let Ok(cfg) = config_file::load(path, &config_file::process_env)
    {
        return Expect::Ids(Box::new(cfg));
    }
    Expect::Alive
}

async fn replica_state(gw: &dyn Gateway, target: &ReplicaTarget, expect: &Expect) -> Result<(), String> {
    let live = gw.liveness(target).await.map_err(|e| format!("not answering: {e}"))?;
    match expect {
        Expect::Alive => Ok(()),
        Expect::Restarted(before) => {
            let old = before.get(target.index).copied().flatten();
            match (old, live.started_at) {
                (Some(o), Some(n)) if o == n => Err("still the process from before (same start time)".into()),
                _ => Ok(()),
            }
        }
        Expect::Ids(cfg) => {
            let snap = gw.poll(target).await.map_err(|e| format!("poll failed: {e}"))?;
            let deps = snap.deployments.ok().ok_or_else(|| {
                format!("deployments unreadable: {}", snap.deployments.describe().unwrap_or_default())
            })?;
            let rows = drift::compare(cfg, deps, &MatchMemory::default());
            if drift::all_match(&rows) {
                Ok(())
            } else {
                let first =
                    rows.iter().find(|r| r.state.is_problem()).map(drift::DriftRow::summary).unwrap_or_default();
                Err(format!("still drifting: {first}"))
            }
        }
    }
}

/// Poll every replica until each satisfies `expect`, or the deadline passes.
pub async fn until_verified(
    gw: &dyn Gateway,
    replicas: &[String],
    expect: &Expect,
    deadline: Duration,
    mut progress: impl FnMut(String),
) -> Verification {
    let started = Instant::now();
    let total = replicas.len();
    let mut done: HashSet<usize> = HashSet::new();
    let mut last_state: Vec<String> = vec!["not checked".into(); total];
    loop {
        let pending: Vec<usize> = (0..total).filter(|i| !done.contains(i)).collect();
        let checks = pending.iter().map(|&i| {
            let target = ReplicaTarget { index: i, url: replicas[i].clone() };
            async move { (i, replica_state(gw, &target, expect).await) }
        });
        for (i, r) in futures::future::join_all(checks).await {
            match r {
                Ok(()) => {
                    done.insert(i);
                    last_state[i] = format!("verified after {}", crate::config::duration::human(started.elapsed()));
                    progress(format!("{}/{} replicas verified ({} ok)", done.len(), total, replicas[i]));
                }
                Err(e) => last_state[i] = e,
            }
        }
        if done.len() == total {
            let what = match expect {
                Expect::Ids(_) => "answer and hold the file's deployment ids",
                Expect::Restarted(_) => "answer with a new start time",
                Expect::Alive => "answer their liveness check",
            };
            return Verification {
                ok: true,
                summary: format!(
                    "verified: all {total} replica(s) {what} ({})",
                    crate::config::duration::human(started.elapsed())
                ),
                detail: replicas.iter().zip(&last_state).map(|(u, s)| format!("{u}: {s}")).collect(),
                behind: Vec::new(),
            };
        }
        if started.elapsed() >= deadline {
            let behind: Vec<String> = (0..total).filter(|i| !done.contains(i)).map(|i| replicas[i].clone()).collect();
            return Verification {
                ok: false,
                summary: format!(
                    "NOT verified after {}: {} of {total} replica(s) still behind",
                    crate::config::duration::human(deadline),
                    behind.len()
                ),
                detail: replicas.iter().zip(&last_state).map(|(u, s)| format!("{u}: {s}")).collect(),
                behind,
            };
        }
        tokio::time::sleep(Duration::from_millis(700)).await;
    }
}
