//! One tokio task per gateway: every `refresh` (or on demand) it discovers the
//! replicas, reads the local view, polls every replica concurrently and sends
//! one [`PollReport`]. A poll in flight absorbs further ticks and refresh
//! requests, so a stalled gateway never turns into a burst of requests.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::sync::mpsc;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use crate::command;
use crate::config::GatewaySpec;
use crate::fleet::{LocalView, PollReport};
use crate::gateway::litellm::drift::{self, MatchMemory};
use crate::gateway::litellm::prometheus::PromRead;
use crate::gateway::{Gateway, GatewayError, ReplicaSnapshot, ReplicaTarget};
use crate::local;
use crate::snapshot::ListSnapshot;

/// Requests to a poller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    RefreshNow,
}

/// The longest a whole replica poll may take before it is reported as timed out.
pub fn poll_deadline(gw: &dyn Gateway) -> Duration {
    let spec = gw.spec();
    match spec.kind {
        // Paginated and paced under the server's rate limit.
        crate::config::GatewayKind::NewApi => spec.timeout * 4 + Duration::from_secs(600),
        crate::config::GatewayKind::LiteLlm => spec.timeout * 3 + Duration::from_secs(1),
    }
}

/// Replica URLs: the discovery command's lines that are `http(s)://host:port`
/// and nothing else (trailing slashes dropped), else the configured list and
/// the reason why. A line that is anything else (a path, a query, spaces, a
/// shell payload) is data from a registry: it is rejected and reported,
/// never polled nor put in a command. Blank lines and `#` comments are skipped.
pub async fn discover(spec: &GatewaySpec) -> (Vec<String>, Option<String>) {
    let Some(cmd) = &spec.discover_command else {
        return (spec.replica_urls(), None);
    };
    let out = command::run(cmd, spec.timeout.max(Duration::from_secs(5)), &spec.pass_env).await;
    if !out.success() {
        return (spec.replica_urls(), Some(format!("discover_command {}", out.describe())));
    }
    let mut urls: Vec<String> = Vec::new();
    let mut rejected = Vec::new();
    for line in out.output.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        match command::discovered_url(line) {
            Ok(u) if !urls.contains(&u) => urls.push(u),
            Ok(_) => {}
            Err(why) => rejected.push(why),
        }
    }
    let rejected_note = (!rejected.is_empty()).then(|| {
        let shown: Vec<&str> = rejected.iter().take(3).map(String::as_str).collect();
        format!(
            "discover_command: {} line(s) rejected (not http(s)://host:port), not polled: {}{}",
            rejected.len(),
            shown.join("; "),
            if rejected.len() > 3 { "; …" } else { "" }
        )
    });
    if urls.is_empty() {
        let why = rejected_note.unwrap_or_else(|| "discover_command printed no http(s) URL".into());
        (spec.replica_urls(), Some(format!("{why}; using the configured replicas")))
    } else {
        (urls, rejected_note)
    }
}

/// Poll every replica concurrently, each bounded by the deadline.
pub async fn poll_replicas(
    gw: &Arc<dyn Gateway>,
    urls: &[String],
) -> Vec<(String, Result<ReplicaSnapshot, GatewayError>)> {
    let deadline = poll_deadline(gw.as_ref());
    // A task per replica: their answers (tens of megabytes each at thousands
    // of deployments) are received and hashed on every worker at once, not
    // taken in turns on one. Dropped with the cycle, the set aborts them.
    let mut tasks = tokio::task::JoinSet::new();
    for (index, url) in urls.iter().enumerate() {
        let (gw, target) = (Arc::clone(gw), ReplicaTarget { index, url: url.clone() });
        tasks.spawn(async move {
            let r = match tokio::time::timeout(deadline, gw.poll(&target)).await {
                Ok(r) => r,
                Err(_) => Err(GatewayError::Timeout { after: deadline }),
            };
            (index, r)
        });
    }
    let mut results: Vec<Option<Result<ReplicaSnapshot, GatewayError>>> = urls.iter().map(|_| None).collect();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((index, r)) => {
                if let Some(slot) = results.get_mut(index) {
                    *slot = Some(r);
                }
            }
            Err(e) => tracing::error!(gateway = %gw.spec().name, error = %e, "a replica's poll stopped"),
        }
    }
    urls.iter()
        .zip(results)
        .map(|(url, r)| {
            // A poll that stopped on gatewatch's own fault: said as such,
            // never a silent gap (nor blamed on the replica's answer).
            let r = r.unwrap_or_else(|| {
                Err(GatewayError::Unsupported(
                    "gatewatch's read of this replica stopped on an internal error (in its log); the next poll reads it again".into(),
                ))
            });
            (url.clone(), r)
        })
        .collect()
}

/// Read the local view off the async threads, with the proxy's environment.
pub async fn read_local(gw: &dyn Gateway) -> LocalView {
    let spec = gw.spec().clone();
    let env = local::env::proxy_env(&spec, false).await;
    tokio::task::spawn_blocking(move || local::read(&spec, &env)).await.unwrap_or_default()
}

/// Remember the config's fingerprints when a replica shows no drift (only the
/// deployments whose ids prove their params are remembered).
pub fn update_memory(
    local: &LocalView,
    results: &[(String, Result<ReplicaSnapshot, GatewayError>)],
    memory: &mut MatchMemory,
    now: i64,
) -> bool {
    let Some(Ok(cfg)) = local.proxy_config() else { return false };
    let matched = results.iter().any(|(_, r)| {
        r.as_ref()
            .ok()
            .and_then(|s| s.deployments.ok())
            .is_some_and(|deps| drift::no_drift(&drift::compare(cfg, deps, memory)))
    });
    matched && memory.remember(cfg, now)
}

pub fn unix_now(t: SystemTime) -> i64 {
    t.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// `<state>/carry/<server URL>.<ext>`.
pub fn carry_path(state_dir: &std::path::Path, server: &str, ext: &str) -> PathBuf {
    state_dir.join("carry").join(format!("{}.{ext}", crate::statefile::file_safe(server)))
}

/// Hand an earlier run's carry to the adapter (off the async threads: it
/// can be a whole channel list).
pub async fn resume(gw: &Arc<dyn Gateway>, stores: &mut Stores) {
    for f in &mut stores.carry {
        if std::mem::take(&mut f.carried) {
            let (gw, path) = (Arc::clone(gw), f.path.clone());
            let _ = tokio::task::spawn_blocking(move || resume_from(&path, gw.as_ref())).await;
        }
    }
}

/// Hand the carry file at `path` to `gw` as it is read (tens of megabytes
/// for the lists; blocking).
fn resume_from(path: &std::path::Path, gw: &dyn Gateway) {
    if let Ok(mut file) = crate::readlimit::open_tail(path, CARRY_MAX_BYTES) {
        gw.resume(&mut file);
    }
}

/// The last whole list of `gw`, shown until its first poll lands: the one
/// the adapter carried on from an earlier run (held once, shared with the
/// adapter, not read a second time from the snapshot), else the list
/// snapshot, whichever is newer.
async fn last_picture(gw: &Arc<dyn Gateway>, snapshot: &std::path::Path) -> Option<ListSnapshot> {
    let spec = gw.spec();
    let now = unix_now(SystemTime::now());
    let carried = gw.carried_list().filter(|(at, _)| crate::snapshot::showable(*at, now));
    let carried_at = carried.as_ref().map(|(at, _)| *at);
    let (path, name) = (snapshot.to_owned(), spec.name.clone());
    let saved = tokio::task::spawn_blocking(move || {
        // Most often the snapshot is the carried list saved earlier: then it
        // is only scanned for its time, never held beside it.
        if let Some(c) = carried_at
            && crate::snapshot::peek_at(&path, &name, now).is_none_or(|at| at <= c)
        {
            return None;
        }
        crate::snapshot::load(&path, &name, now)
    })
    .await
    .ok()
    .flatten();
    // Shown as its first replica's (where the replicas are listed, the URL
    // alone may not be one): New API nodes share one database, one list.
    let replica = spec.replica_urls().into_iter().next().unwrap_or_else(|| spec.url.clone());
    saved.or_else(|| {
        carried.map(|(at, deployments)| ListSnapshot { gateway: spec.name.clone(), replica, at, deployments })
    })
}

/// What one gateway's poller writes under the state dir: the traffic
/// history, the change log and the last full list.
#[derive(Debug)]
pub struct Stores {
    pub traffic: crate::traffic::Store,
    pub changes: crate::changes::ChangeLog,
    pub snapshot: PathBuf,
    pub snapshot_saver: crate::snapshot::Saver,
    /// What the adapter carries to the next run: the requests
    /// ([`Gateway::carry`]) and the lists ([`Gateway::carry_lists`]).
    pub carry: [CarryFile; 2],
    /// When this process last wrote the requests (unix seconds).
    pub carry_saved: Option<i64>,
    /// The generation of the lists last written.
    pub lists_generation: u64,
}

/// One carry file, and what this process last saw of it.
#[derive(Debug, Default)]
pub struct CarryFile {
    pub path: PathBuf,
    /// It was there at open: [`resume`] reads it (as it parses it: the
    /// lists file is tens of megabytes at 50,000 channels).
    pub carried: bool,
    /// Its modification time as this process last read or wrote it:
    /// another time means another run wrote it since.
    pub mtime: Option<SystemTime>,
}

impl CarryFile {
    fn open(path: PathBuf) -> Self {
        let mtime = modified(&path);
        Self { carried: mtime.is_some(), path, mtime }
    }

    /// Another run wrote it since this one last read or wrote it.
    fn theirs(&self) -> bool {
        modified(&self.path) != self.mtime
    }

    /// Write `json` (scrubbed, atomically) and remember the file's time.
    fn write(&mut self, json: &str) -> std::io::Result<()> {
        crate::statefile::replace_scrubbed(&self.path, json)?;
        self.mtime = modified(&self.path);
        Ok(())
    }

    /// [`CarryFile::write`] with JSON written as it is serialised.
    fn write_with(&mut self, job: crate::gateway::CarryWriter) -> std::io::Result<()> {
        crate::statefile::replace_scrubbed_with(&self.path, job)?;
        self.mtime = modified(&self.path);
        Ok(())
    }
}

/// Run `f`, which blocks (files, parsing megabytes), without holding up the
/// other tasks of a multi-threaded runtime (`block_in_place`); on a
/// current-thread runtime (tests) it simply runs.
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(f),
        _ => f(),
    }
}

fn modified(path: &std::path::Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// The carry is written at most this often (and on a process's first cycle).
const CARRY_EVERY_SECS: i64 = 60;
/// The largest carry read back.
const CARRY_MAX_BYTES: u64 = 192 << 20;

impl Stores {
    /// Open them (blocking: the last inventory is read).
    /// `server`: the gateway's URL (the carry is the server's: its rate
    /// window counts every gatewatch config that names it).
    pub fn open(state_dir: &std::path::Path, gateway: &str, server: &str) -> Self {
        Self {
            traffic: crate::traffic::Store::new(state_dir),
            changes: crate::changes::ChangeLog::open(state_dir, gateway),
            snapshot: crate::snapshot::path(state_dir, gateway),
            snapshot_saver: crate::snapshot::Saver::default(),
            carry: [
                CarryFile::open(carry_path(state_dir, server, "json")),
                CarryFile::open(carry_path(state_dir, server, "lists.json")),
            ],
            carry_saved: None,
            lists_generation: 0,
        }
    }
}

/// One full cycle: what both the TUI poller and `gatewatch check` run.
pub async fn cycle(
    shared: &Arc<dyn Gateway>,
    index: usize,
    memory: &mut MatchMemory,
    memory_file: Option<&std::path::Path>,
    mut stores: Option<&mut Stores>,
) -> PollReport {
    let gw = shared.as_ref();
    let started = std::time::Instant::now();
    let (urls, discovery_error) = discover(gw.spec()).await;
    // Prometheus beside the replicas (a slow server delays nothing else);
    // while it answers, the replicas skip their own /metrics/.
    let (local, results, prometheus) =
        tokio::join!(read_local(gw), poll_replicas(shared, &urls), gw.fleet_traffic(&urls));
    let from_prometheus = prometheus.as_ref().is_some_and(PromRead::serving);
    if let Some(p) = prometheus.as_ref().filter(|p| !p.serving()) {
        tracing::info!(gateway = %gw.spec().name, detail = %p.describe(), "prometheus not used");
    }
    let at = SystemTime::now();
    tracing::debug!(
        gateway = %gw.spec().name,
        replicas = urls.len(),
        up = results.iter().filter(|(_, r)| r.is_ok()).count(),
        elapsed_ms = started.elapsed().as_millis(),
        "poll cycle"
    );
    for (url, r) in &results {
        if let Err(e) = r {
            tracing::info!(gateway = %gw.spec().name, replica = %url, error = %e, "replica poll failed");
        }
    }
    if update_memory(&local, &results, memory, unix_now(at))
        && let Some(path) = memory_file
    {
        let (path, m) = (path.to_owned(), memory.clone());
        let _ = tokio::task::spawn_blocking(move || local::save_memory(&path, &m)).await;
    }
    // What the next run carries on from: at once, then every minute; the
    // lists only when they changed. Another run (a cron `check` beside the
    // TUI) that wrote either since is merged first.
    if let Some(s) = stores.as_deref_mut()
        && s.carry_saved.is_none_or(|t| unix_now(at) - t >= CARRY_EVERY_SECS)
        && let Some(sent) = gw.carry()
    {
        s.carry_saved = Some(unix_now(at));
        let mut files = std::mem::take(&mut s.carry);
        // Another run's files (a cron `check` beside the TUI) are read and
        // parsed off the async workers: the lists are tens of megabytes.
        let theirs = blocking(|| {
            let theirs: Vec<&CarryFile> = files.iter().filter(|f| f.theirs()).collect();
            for f in &theirs {
                resume_from(&f.path, gw);
            }
            !theirs.is_empty()
        });
        // Their requests are handed on with ours.
        let sent = if theirs { gw.carry().unwrap_or(sent) } else { sent };
        let lists = gw.carry_lists(s.lists_generation);
        let generation = lists.as_ref().map(|(g, _)| *g);
        let written = tokio::task::spawn_blocking(move || {
            let [small, big] = &mut files;
            let r = small.write(&sent).and_then(|()| lists.map_or(Ok(()), |(_, job)| big.write_with(job)));
            (r, files)
        })
        .await;
        if let Ok((r, back)) = written {
            s.carry = back;
            match r {
                Ok(()) => s.lists_generation = generation.unwrap_or(s.lists_generation),
                Err(e) => tracing::warn!(gateway = %gw.spec().name, error = %e, "carry not written"),
            }
        }
    }
    let (store, changes, snapshot) = match stores {
        Some(s) => (Some(&mut s.traffic), Some(&mut s.changes), Some((&s.snapshot, &mut s.snapshot_saver))),
        None => (None, None, None),
    };
    // The last full list, at most every few minutes.
    if let Some((path, saver)) = snapshot
        && let Some((url, deps, read_at)) = results.iter().find_map(|(u, r)| {
            let s = r.as_ref().ok()?;
            // An assembled list is as old as its first page.
            s.deployments.ok().map(|d| (u, d, s.assembled.as_ref().map_or(unix_now(at), |a| a.first_at)))
        })
        && saver.due(unix_now(at))
    {
        let snap = crate::snapshot::ListSnapshot {
            gateway: gw.spec().name.clone(),
            replica: url.clone(),
            at: read_at,
            deployments: deps.clone(),
        };
        let path = path.clone();
        if let Ok(Err(e)) = tokio::task::spawn_blocking(move || crate::snapshot::save(&path, &snap)).await {
            tracing::warn!(gateway = %gw.spec().name, error = %e, "list snapshot not written");
        }
    }
    if let Some(store) = store {
        // Checked before copying: most polls write nothing.
        let mut due: Vec<crate::traffic::Sample> = results
            .iter()
            .filter_map(|(url, r)| match r.as_ref().ok().map(|s| &s.traffic) {
                Some(crate::gateway::Section::Ok(t)) if !from_prometheus && store.due(url, unix_now(at)) => {
                    Some(crate::traffic::Sample {
                        gateway: gw.spec().name.clone(),
                        replica: url.clone(),
                        at: unix_now(at),
                        deployments: t.deployments.clone(),
                    })
                }
                _ => None,
            })
            .collect();
        // From Prometheus: each replica's newest sample (its history is Prometheus's own).
        if let Some(Ok(t)) = prometheus.as_ref().map(|p| &p.result) {
            let mut newest: std::collections::BTreeMap<&str, &crate::traffic::Sample> =
                std::collections::BTreeMap::new();
            for s in &t.samples {
                newest.insert(s.replica.as_str(), s);
            }
            due.extend(newest.into_values().filter(|s| store.due(&s.replica, s.at)).cloned());
        }
        if !due.is_empty() {
            let path = store.path.clone();
            let written = tokio::task::spawn_blocking(move || crate::traffic::append(&path, &due)).await;
            if let Ok(Err(e)) = written {
                tracing::warn!(gateway = %gw.spec().name, error = %e, "traffic history not written");
            }
        }
    }
    let mut found = Vec::new();
    if let Some(log) = changes {
        let inv = log.tracker.inventory(unix_now(at), &urls, &results, &local);
        let look = log.tracker.observe(&gw.spec().name, inv, discovery_error.is_none());
        if !look.changes.is_empty() || look.save.is_some() {
            let (log_path, inv_path, seen) = (log.log_path.clone(), log.inventory_path.clone(), look.changes.clone());
            let save = look.save;
            let written = tokio::task::spawn_blocking(move || {
                crate::changes::append(&log_path, &seen)?;
                save.map_or(Ok(()), |inv| crate::changes::save_inventory(&inv_path, &inv))
            })
            .await;
            if let Ok(Err(e)) = written {
                tracing::warn!(gateway = %gw.spec().name, error = %e, "change log not written");
            }
        }
        found = look.changes;
    }
    PollReport {
        gateway: index,
        at,
        replicas: results,
        local,
        memory: memory.clone(),
        discovery_error,
        budget: gw.rate_budget(),
        prometheus,
        changes: found,
        warmed: None,
    }
}

/// A New API list not seen at the last poll: what it says on its own is
/// worked out here, on the blocking pool, and handed to the app with the
/// report (at 50,000 channels ~20 ms the UI thread would otherwise spend).
async fn warm(
    spec: &crate::config::GatewaySpec,
    report: &mut PollReport,
    last: &mut std::sync::Weak<Vec<crate::gateway::Deployment>>,
) {
    if spec.kind != crate::config::GatewayKind::NewApi {
        return;
    }
    let Some(list) = report.list().filter(|l| !std::ptr::eq(last.as_ptr(), Arc::as_ptr(l))).cloned() else { return };
    *last = Arc::downgrade(&list);
    let (spec, at) = (spec.clone(), report.at);
    report.warmed = tokio::task::spawn_blocking(move || crate::triage::memo::warm(&spec, &list, at)).await.ok();
}

/// Start the poller of one gateway.
pub fn spawn(
    index: usize,
    gw: Arc<dyn Gateway>,
    state_dir: PathBuf,
    tx: mpsc::Sender<PollReport>,
    seed: Option<mpsc::Sender<ListSnapshot>>,
    cancel: CancellationToken,
) -> mpsc::Sender<Control> {
    let (ctl_tx, mut ctl_rx) = mpsc::channel::<Control>(4);
    tokio::spawn(async move {
        let memory_file = local::memory_path(&state_dir, &gw.spec().name);
        let mf = memory_file.clone();
        let mut memory = tokio::task::spawn_blocking(move || local::load_memory(&mf)).await.unwrap_or_default();
        let (sd, name, url) = (state_dir.clone(), gw.spec().name.clone(), gw.spec().url.clone());
        let mut stores = tokio::task::spawn_blocking(move || Stores::open(&sd, &name, &url))
            .await
            .unwrap_or_else(|_| Stores::open(std::path::Path::new(""), &gw.spec().name, &gw.spec().url));
        resume(&gw, &mut stores).await;
        if let Some(seed) = seed
            && let Some(snap) = last_picture(&gw, &stores.snapshot).await
        {
            let _ = seed.send(snap).await;
        }
        let mut warmed = std::sync::Weak::new();
        let mut interval = tokio::time::interval(gw.spec().refresh);
        interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                biased;
                () = cancel.cancelled() => break,
                c = ctl_rx.recv() => if c.is_none() { break },
                _ = interval.tick() => {}
            }
            // Coalesce: requests that queued up during the last poll are satisfied by this one.
            while ctl_rx.try_recv().is_ok() {}
            let mut report = tokio::select! {
                () = cancel.cancelled() => break,
                r = cycle(&gw, index, &mut memory, Some(&memory_file), Some(&mut stores)) => r,
            };
            warm(gw.spec(), &mut report, &mut warmed).await;
            if tx.send(report).await.is_err() {
                break;
            }
            interval.reset();
        }
    });
    ctl_tx
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::GatewayKind;

    fn spec(cmd: Option<&str>) -> GatewaySpec {
        let mut s = GatewaySpec::new("gw", GatewayKind::LiteLlm, "http://127.0.0.1:4000");
        s.replicas = vec!["http://127.0.0.1:4001".into(), "http://127.0.0.1:4002".into()];
        s.discover_command = cmd.map(str::to_owned);
        s.timeout = Duration::from_secs(5);
        s
    }

    /// Each replica is read on its own task: the answers come back in the
    /// replicas' order, and a read that stops on gatewatch's own fault (a
    /// panic) is said for that replica alone, the others read as usual.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn replicas_read_apart_a_stopped_read_is_said_for_its_replica_alone() {
        struct Stops(GatewaySpec);
        #[async_trait::async_trait]
        impl Gateway for Stops {
            fn spec(&self) -> &GatewaySpec {
                &self.0
            }
            async fn poll(&self, t: &ReplicaTarget) -> Result<ReplicaSnapshot, GatewayError> {
                assert!(t.index != 1, "a bug in the read of replica 1");
                // The later replicas answer first.
                tokio::time::sleep(Duration::from_millis(40 - 10 * t.index as u64)).await;
                Ok(ReplicaSnapshot::new(Duration::from_millis(t.index as u64)))
            }
            async fn liveness(&self, _: &ReplicaTarget) -> Result<crate::gateway::Liveness, GatewayError> {
                Err(GatewayError::Unsupported("not in this test".into()))
            }
            async fn admin(
                &self,
                _: &ReplicaTarget,
                _: &crate::gateway::AdminOp,
            ) -> Result<crate::gateway::AdminResult, GatewayError> {
                Err(GatewayError::Unsupported("not in this test".into()))
            }
        }
        let gw: Arc<dyn Gateway> = Arc::new(Stops(spec(None)));
        let urls: Vec<String> = (0..4).map(|i| format!("http://127.0.0.1:{}", 4001 + i)).collect();
        let got = poll_replicas(&gw, &urls).await;
        assert_eq!(
            got.iter().map(|(u, _)| u.as_str()).collect::<Vec<_>>(),
            urls.iter().map(String::as_str).collect::<Vec<_>>()
        );
        for (i, (_, r)) in got.iter().enumerate() {
            match (i, r) {
                (1, Err(GatewayError::Unsupported(m))) => assert!(m.contains("internal error"), "{m}"),
                (1, other) => panic!("replica 1: {other:?}"),
                (_, Ok(s)) => assert_eq!(s.latency, Duration::from_millis(i as u64)),
                (_, Err(e)) => panic!("replica {i}: {e}"),
            }
        }
    }

    /// What a TUI shows until a gateway's first poll lands: the list its
    /// adapter carried on from an earlier run (that very list, not a second
    /// copy read from the snapshot) unless the snapshot was read after it;
    /// with nothing carried, the snapshot; a day-old or another gateway's
    /// snapshot, never.
    #[tokio::test]
    async fn the_list_shown_until_the_first_poll_is_the_carried_one_unless_a_newer_one_was_saved() {
        use crate::gateway::Deployment;
        use crate::gateway::newapi::{NewApi, crawl};
        use crate::snapshot::{self, ListSnapshot};
        let dir = tempfile::tempdir().unwrap();
        let url = "http://127.0.0.1:9";
        let gw: Arc<dyn Gateway> =
            Arc::new(NewApi::with_credentials(GatewaySpec::new("n", GatewayKind::NewApi, url), None, None));
        let mut listed = GatewaySpec::new("n", GatewayKind::NewApi, "http://127.0.0.1:9");
        listed.replicas = vec!["http://127.0.0.1:10".into(), "http://127.0.0.1:11".into()];
        let beside: Arc<dyn Gateway> = Arc::new(NewApi::with_credentials(listed, None, None));
        let path = snapshot::path(dir.path(), "n");
        let list = |n: usize| Arc::new((0..n).map(|i| Deployment::new(i.to_string(), format!("ch-{i}"))).collect());
        let saved = |gateway: &str, at: i64, n: usize| {
            let s = ListSnapshot { gateway: gateway.into(), replica: url.into(), at, deployments: list(n) };
            snapshot::save(&path, &s).unwrap();
        };
        let now = unix_now(SystemTime::now());
        assert!(last_picture(&gw, &path).await.is_none(), "nothing carried, nothing saved");
        saved("n", now - 600, 7);
        let got = last_picture(&gw, &path).await.expect("the snapshot");
        assert_eq!((got.at, got.deployments.len()), (now - 600, 7));

        let assembled =
            crawl::Assembled { deployments: list(300), first_at: now - 300, last_at: now - 60, pages: 3, steps: 2 };
        gw.resume(&mut serde_json::json!({ "server": url, "assembled": assembled }).to_string().as_bytes());
        let (_, held) = gw.carried_list().expect("the adapter carried the list on");
        let got = last_picture(&gw, &path).await.expect("the carried list");
        assert_eq!((got.gateway.as_str(), got.replica.as_str(), got.at), ("n", url, now - 300));
        assert!(Arc::ptr_eq(&got.deployments, &held), "held once, shared with the adapter");
        beside.resume(&mut serde_json::json!({ "server": url, "assembled": assembled }).to_string().as_bytes());
        let got = last_picture(&beside, &path).await.expect("the carried list");
        assert_eq!(got.replica, "http://127.0.0.1:10", "shown as a replica the app polls");

        saved("n", now - 30, 5);
        let got = last_picture(&gw, &path).await.expect("the newer snapshot");
        assert_eq!((got.at, got.deployments.len()), (now - 30, 5), "read whole after the list was assembled");

        for (gateway, at) in [("other", now - 30), ("n", now - 2 * snapshot::MAX_AGE_SECS)] {
            saved(gateway, at, 5);
            let got = last_picture(&gw, &path).await.expect("the carried list");
            assert!(Arc::ptr_eq(&got.deployments, &held), "{gateway} at {at}: not shown");
        }
    }

    /// A cron `check` writes the carry while a TUI runs: the TUI's next
    /// cycle reads the list pass the cron wrote (streamed out, parsed as
    /// read, on a multi-threaded runtime as the TUI's).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_list_pass_another_run_wrote_is_carried_on_by_this_one() {
        use crate::gateway::Deployment;
        use crate::gateway::newapi::{NewApi, crawl};
        let dir = tempfile::tempdir().unwrap();
        let url = "http://127.0.0.1:9";
        let adapter = || NewApi::with_credentials(GatewaySpec::new("n", GatewayKind::NewApi, url), None, None);
        let (tui, cron): (Arc<dyn Gateway>, Arc<dyn Gateway>) = (Arc::new(adapter()), Arc::new(adapter()));
        let now = unix_now(SystemTime::now());
        let mut pass =
            crawl::Pass::with_channels((0..200).map(|i| Deployment::new(i.to_string(), format!("ch-{i}"))).collect());
        (pass.next, pass.total, pass.first_at, pass.last_at, pass.steps) = (3, 500, now - 60, now, 2);
        let carry = serde_json::json!({ "server": url, "pass": pass.saved(None) });
        cron.resume(&mut carry.to_string().as_bytes());
        // The TUI's files are opened before the cron writes them.
        let mut tui_stores = Stores::open(dir.path(), "n", url);
        let mut cron_stores = Stores::open(dir.path(), "n", url);
        let mut memory = MatchMemory::default();
        let _ = cycle(&cron, 0, &mut memory, None, Some(&mut cron_stores)).await;
        let written = std::fs::read_to_string(&cron_stores.carry[1].path).unwrap();
        assert_eq!(written.matches("\n{").count(), 202, "a line per channel, the carry and the pass");
        let read: serde_json::Value = serde_json::from_str(&written).unwrap();
        assert_eq!(read["pass"]["channels"].as_array().map(Vec::len), Some(200));
        assert!(tui.carry_lists(0).is_none(), "the TUI has no pass of its own");
        let _ = cycle(&tui, 0, &mut memory, None, Some(&mut tui_stores)).await;
        let (_, job) = tui.carry_lists(0).expect("the TUI holds the cron's pass now");
        let mut mine = Vec::new();
        job(&mut mine).unwrap();
        let mine: serde_json::Value = serde_json::from_slice(&mine).unwrap();
        assert_eq!(mine["pass"]["channels"].as_array().map(Vec::len), Some(200));
        assert_eq!(mine["pass"]["next"], 3);
    }

    #[tokio::test]
    async fn discovery_takes_the_urls_the_command_prints() {
        let cmd =
            "printf 'http://10.0.0.11:4000/\\n# comment\\n\\n  https://10.0.0.12:4000  \\nhttp://10.0.0.11:4000\\n'";
        let (urls, err) = discover(&spec(Some(cmd))).await;
        assert_eq!(urls, ["http://10.0.0.11:4000", "https://10.0.0.12:4000"]);
        assert_eq!(err, None);
    }

    #[tokio::test]
    async fn hostile_discovery_lines_are_reported_not_used() {
        let cmd = "printf '%s\\n' 'http://10.0.0.11:4000' 'https://not a url at all; touch /tmp/gw-pwned' 'http://127.0.0.1:41001/$(touch /tmp/gw-x)' 'not-a-url'";
        let (urls, err) = discover(&spec(Some(cmd))).await;
        assert_eq!(urls, ["http://10.0.0.11:4000"]);
        let err = err.expect("the rejected lines are reported");
        assert!(err.contains("3 line(s) rejected") && err.contains("not a url at all"), "{err}");
        // Nothing but hostile lines: the configured replicas, and why.
        let (urls, err) = discover(&spec(Some("echo 'http://x:1/;id'"))).await;
        assert_eq!(urls.len(), 2);
        assert!(err.expect("a reason").contains("1 line(s) rejected"));
    }

    #[tokio::test]
    async fn without_a_command_the_configured_replicas_are_used() {
        let (urls, err) = discover(&spec(None)).await;
        assert_eq!(urls, ["http://127.0.0.1:4001", "http://127.0.0.1:4002"]);
        assert_eq!(err, None);
    }

    #[tokio::test]
    async fn a_failing_or_empty_discovery_falls_back_and_says_why() {
        let (urls, err) = discover(&spec(Some("echo 'no such deployment' >&2; exit 3"))).await;
        assert_eq!(urls, ["http://127.0.0.1:4001", "http://127.0.0.1:4002"]);
        let err = err.expect("a reason");
        assert!(err.starts_with("discover_command"), "{err}");
        assert!(err.contains('3') || err.contains("no such deployment"), "{err}");

        let (urls, err) = discover(&spec(Some("echo nothing useful"))).await;
        assert_eq!(urls.len(), 2);
        assert!(err.expect("a reason").contains("1 line(s) rejected"));
    }
}
