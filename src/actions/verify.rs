//! Did the action work? After a restart or reload: every replica answers its
//! liveness check again and reports the deployment ids computed from the
//! config file as it is now, in the proxy's environment (LiteLLM), or a new
//! start time (New API). With a `discover_command`, the replica set is asked
//! again every round, so the pods a rolling restart creates are the ones
//! verified. Deployments whose id proves nothing (pinned, random, names not
//! visible here) are verified by what can be known — the process restarted
//! and answers — and the summary says their keys could not be. Progress is
//! reported per replica; a timeout names the replicas still behind.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use crate::config::{GatewayKind, GatewaySpec};
use crate::fleet::ProcessInfo;
use crate::gateway::litellm::config_file::{self, ProxyConfig};
use crate::gateway::litellm::drift::{self, MatchMemory};
use crate::gateway::{Gateway, ReplicaTarget};

mod purge;

pub use purge::{after_purge, redis_keys};

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
    /// Answer liveness and hold the file's deployments (none drifting).
    Ids(Box<ProxyConfig>),
    /// Answer with a start time different from the one before the action (by URL).
    Restarted(Vec<(String, Option<i64>)>),
}

/// What was true before the action ran.
#[derive(Debug, Clone, Default)]
pub struct Before {
    /// The gateway's process on this host, when visible.
    pub process: Option<ProcessInfo>,
}

fn find_process(spec: &GatewaySpec) -> Option<ProcessInfo> {
    (spec.kind == GatewayKind::LiteLlm && spec.config_file.is_some())
        .then(|| crate::local::process::find(spec).ok())
        .flatten()
}

/// Capture what verification compares with, before the command runs.
pub async fn before(spec: &GatewaySpec) -> Before {
    let spec = spec.clone();
    let process = tokio::task::spawn_blocking(move || find_process(&spec)).await.ok().flatten();
    Before { process }
}

/// Read the gateway's config file now, in the proxy's environment (read
/// fresh: a restart may have changed it), as the restarted process will.
pub async fn expected_after_restart(spec: &GatewaySpec) -> Expect {
    if spec.kind == GatewayKind::LiteLlm
        && let Some(path) = spec.config_file.clone()
    {
        let env = crate::local::env::proxy_env(spec, true).await;
        if let Ok(Ok(cfg)) = tokio::task::spawn_blocking(move || config_file::load_in(&path, &env)).await {
            return Expect::Ids(Box::new(cfg));
        }
    }
    Expect::Alive
}

/// One replica's state: `Ok(notes)` when it satisfies `expect`.
async fn replica_state(gw: &dyn Gateway, target: &ReplicaTarget, expect: &Expect) -> Result<Vec<String>, String> {
    let live = gw.liveness(target).await.map_err(|e| format!("not answering: {e}"))?;
    match expect {
        Expect::Alive => Ok(Vec::new()),
        Expect::Restarted(before) => {
            let old = before.iter().find(|(u, _)| *u == target.url).and_then(|(_, s)| *s);
            match (old, live.started_at) {
                (Some(o), Some(n)) if o == n => Err("still the process from before (same start time)".into()),
                _ => Ok(Vec::new()),
            }
        }
        Expect::Ids(cfg) => {
            let snap = gw.poll(target).await.map_err(|e| format!("poll failed: {e}"))?;
            let deps = snap.deployments.ok().ok_or_else(|| {
                format!("deployments unreadable: {}", snap.deployments.describe().unwrap_or_default())
            })?;
            let rows = drift::compare(cfg, deps, &MatchMemory::default());
            if let Some(first) = rows.iter().find(|r| r.state.is_problem()) {
                return Err(format!("still drifting: {}", first.summary()));
            }
            Ok(rows.iter().filter(|r| r.state.is_inconclusive()).map(drift::DriftRow::summary).collect())
        }
    }
}

/// The replica set to verify this round: discovered again when a discovery
/// command is configured (a rolling restart replaces the pods).
async fn current_replicas(gw: &dyn Gateway, last: &[String]) -> (Vec<String>, Option<String>) {
    if gw.spec().discover_command.is_none() {
        return (last.to_vec(), None);
    }
    let (urls, err) = crate::poller::discover(gw.spec()).await;
    match err {
        // Discovery failed this round: keep the set it last gave.
        Some(e) => (last.to_vec(), Some(e)),
        None => (urls, None),
    }
}

/// Poll every replica until each satisfies `expect`, or the deadline passes.
pub async fn until_verified(
    gw: &dyn Gateway,
    replicas: &[String],
    expect: &Expect,
    before: &Before,
    deadline: Duration,
    mut progress: impl FnMut(String),
) -> Verification {
    let started = Instant::now();
    let initial = replicas.to_vec();
    let mut current = initial.clone();
    let mut done: HashSet<String> = HashSet::new();
    let mut last_state: Vec<(String, String)> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    let mut discovery_note = None;
    loop {
        let (urls, err) = current_replicas(gw, &current).await;
        if urls != current {
            progress(format!("replicas now: {}", urls.join(", ")));
        }
        current = urls;
        discovery_note = err.or(discovery_note);
        let process_pending = match &before.process {
            Some(old) => {
                let spec = gw.spec().clone();
                let now = tokio::task::spawn_blocking(move || find_process(&spec)).await.ok().flatten();
                now.filter(|n| n.pid == old.pid && n.started == old.started)
                    .map(|n| format!("the local process (pid {}, {}) has not restarted", n.pid, n.how))
            }
            None => None,
        };
        let pending: Vec<(usize, String)> =
            current.iter().enumerate().filter(|(_, u)| !done.contains(*u)).map(|(i, u)| (i, u.clone())).collect();
        let checks = pending.iter().map(|(i, url)| {
            let target = ReplicaTarget { index: *i, url: url.clone() };
            async move { (url.clone(), replica_state(gw, &target, expect).await) }
        });
        for (url, r) in futures::future::join_all(checks).await {
            let state = match (r, &process_pending) {
                (Ok(_), Some(p)) => p.clone(),
                (Ok(n), None) => {
                    done.insert(url.clone());
                    for x in n {
                        if !notes.contains(&x) {
                            notes.push(x);
                        }
                    }
                    let ok = format!("verified after {}", crate::config::duration::human(started.elapsed()));
                    progress(format!(
                        "{}/{} replicas verified ({url} ok)",
                        current.iter().filter(|u| done.contains(*u)).count(),
                        current.len()
                    ));
                    ok
                }
                (Err(e), _) => e,
            };
            last_state.retain(|(u, _)| *u != url);
            last_state.push((url, state));
        }
        let total = current.len();
        let behind: Vec<String> = current.iter().filter(|u| !done.contains(*u)).cloned().collect();
        let mut detail: Vec<String> = current
            .iter()
            .map(|u| {
                let s = last_state.iter().find(|(x, _)| x == u).map_or("not checked", |(_, s)| s.as_str());
                format!("{u}: {s}")
            })
            .collect();
        if current != initial {
            detail.push(format!("replicas before: {}; after: {}", initial.join(", "), current.join(", ")));
        }
        if let Some(e) = &discovery_note {
            detail.push(format!("replica discovery: {e}"));
        }
        if behind.is_empty() && total > 0 {
            let what = match expect {
                Expect::Ids(_) => "answer and hold the file's deployment ids",
                Expect::Restarted(_) => "answer with a new start time",
                Expect::Alive => "answer their liveness check",
            };
            let mut summary = format!(
                "verified: all {total} replica(s) {what} ({})",
                crate::config::duration::human(started.elapsed())
            );
            if current != initial {
                summary.push_str(&format!(" — new replica set: {}", current.join(", ")));
            }
            if !notes.is_empty() {
                summary.push_str(&format!(
                    "; {} deployment(s) cannot be checked by id, so their keys are not verified (the process answered{})",
                    notes.len(),
                    if before.process.is_some() { " and restarted" } else { "" }
                ));
                detail.extend(notes);
            }
            return Verification { ok: true, summary, detail, behind: Vec::new() };
        }
        if started.elapsed() >= deadline {
            return Verification {
                ok: false,
                summary: format!(
                    "NOT verified after {}: {} of {total} replica(s) still behind",
                    crate::config::duration::human(deadline),
                    behind.len()
                ),
                detail,
                behind,
            };
        }
        tokio::time::sleep(Duration::from_millis(700)).await;
    }
}
