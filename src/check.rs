//! `gatewatch check`: every check against every gateway once, headless.
//! Human summary, `--json` (schema `gatewatch.check/v1`, documented in the
//! README), or `--format prometheus` (text exposition for node_exporter's
//! textfile collector). Exit codes: 0 ok, 1 warnings, 2 failures, 3 a gateway
//! could not be reached. A gateway that answers HTTP 429 was reached: it
//! fails the reachability check (2), naming the 429s.
#![allow(clippy::print_stdout)]

use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

use serde::Serialize;

use crate::actions::audit::rfc3339;
use crate::config::Config;
use crate::fleet::{Fleet, GatewayObs};
use crate::gateway::{Gateway, GatewayError};
use crate::local;
use crate::poller;
use crate::triage::checks;
use crate::triage::evidence::{Evidence, Verdict};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    Prometheus,
}

#[derive(Debug, Serialize)]
pub struct CheckReport {
    pub schema: &'static str,
    pub generated_at: String,
    pub gatewatch_version: &'static str,
    pub exit_code: i32,
    pub gateways: Vec<GatewayReport>,
}

#[derive(Debug, Serialize)]
pub struct GatewayReport {
    pub name: String,
    pub kind: String,
    pub url: String,
    pub reachable: bool,
    /// No replica gave data, and at least one answered HTTP 429.
    pub rate_limited: bool,
    pub version: Option<String>,
    pub replicas: Vec<ReplicaReport>,
    pub worst: Verdict,
    /// The gateway answered but its deployment or channel list could not be
    /// read: why. The checks that need it are unknown, and the result is
    /// INCOMPLETE (exit 1), never OK.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unread: Option<String>,
    pub checks: Vec<CheckEntry>,
    /// LiteLLM: live traffic per deployment over the last 5 minutes (or,
    /// on a first look, since the proxy started), from `/metrics/`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub traffic: Vec<TrafficEntry>,
    /// Where the traffic figures come from: `"prometheus"` (the fleet's
    /// server, `prometheus_url`) or `"metrics"` (each replica's `/metrics/`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub traffic_source: Option<&'static str>,
    /// The Prometheus server's read, when one is configured (what it
    /// covered, or why it was not used).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prometheus: Option<String>,
    /// What changed since the last look of any gatewatch (the previous run
    /// of check, the TUI): deployments and channels added, removed, re-keyed
    /// or changing status, key fingerprints in the files, replicas.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct TrafficEntry {
    pub deployment: String,
    pub id: String,
    pub requests: f64,
    pub failures: f64,
    /// Seconds the counts cover (0: since the process started).
    pub window_s: i64,
    pub since_start: bool,
    pub restarted: bool,
    /// The deployment id is new in the window (a restart loaded a changed config).
    pub appeared: bool,
    /// What the old process, or the alias's old deployment, had counted: [requests, failures].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before_restart: Option<[f64; 2]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failures_per_min: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dominant_error: Option<String>,
    /// The last day at one-minute resolution, where gatewatch has sampled it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_24h: Option<DayEntry>,
}

/// A deployment's last day from the per-minute store.
#[derive(Debug, Serialize)]
pub struct DayEntry {
    pub requests: f64,
    pub failures: f64,
    /// Minutes with data (some replica sampled across them).
    pub covered_min: u32,
    /// Of those, minutes spread evenly from looks more than two minutes apart.
    pub coarse_min: u32,
}

fn traffic_entries(g: &GatewayObs) -> Vec<TrafficEntry> {
    g.deployments()
        .iter()
        .filter_map(|d| {
            let w = g.live.get(d.id.as_str())?.clone();
            Some(TrafficEntry {
                deployment: d.name.to_string(),
                id: d.id.to_string(),
                requests: w.requests,
                failures: w.failures,
                window_s: if w.since_start { 0 } else { w.to - w.from },
                since_start: w.since_start,
                restarted: w.restarted,
                appeared: w.appeared,
                before_restart: w.before_restart.map(|(r, f)| [r, f]),
                failures_per_min: w.failures_per_min(),
                state: w.state,
                dominant_error: w.dominant_error().map(|(e, _)| e.to_owned()),
                last_24h: Some(g.traffic.day().span(&d.id, i64::MIN, i64::MAX)).filter(|s| s.covered > 0).map(|s| {
                    DayEntry {
                        requests: s.requests,
                        failures: s.failures,
                        covered_min: s.covered,
                        coarse_min: s.coarse,
                    }
                }),
            })
        })
        .collect()
}

#[derive(Debug, Serialize)]
pub struct ReplicaReport {
    pub url: String,
    pub up: bool,
    /// The replica answered HTTP 429 (refused, not down).
    pub rate_limited: bool,
    pub latency_ms: Option<f64>,
    pub version: Option<String>,
    pub error: Option<String>,
    pub deployments: Option<usize>,
    pub drifted_deployments: Option<usize>,
}

#[derive(Debug, Serialize)]
pub struct CheckEntry {
    pub id: &'static str,
    pub title: &'static str,
    pub verdict: Verdict,
    pub summary: String,
    pub facts: Vec<String>,
    /// What would answer an open question, the headless way (a config field
    /// or a command; `check` itself never sends a paid request).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// Poll every gateway once and evaluate every check.
/// Poll every gateway once into the same [`crate::model::Model`] the TUI
/// keeps, and evaluate every check.
pub async fn gather(config: &Config, gateways: &[Arc<dyn Gateway>]) -> (Fleet, Vec<Evidence>) {
    // The traffic history so far (earlier runs of check, the TUI): rates need an earlier sample.
    let store = crate::traffic::store_path(&config.state_dir);
    let history = tokio::task::spawn_blocking(move || crate::traffic::load(&store)).await.unwrap_or_default();
    let reports = futures::future::join_all(gateways.iter().enumerate().map(|(i, gw)| async move {
        let path = local::memory_path(&config.state_dir, &gw.spec().name);
        let p2 = path.clone();
        let mut memory = tokio::task::spawn_blocking(move || local::load_memory(&p2)).await.unwrap_or_default();
        let (sd, name, url) = (config.state_dir.clone(), gw.spec().name.clone(), gw.spec().url.clone());
        let Ok(mut stores) = tokio::task::spawn_blocking(move || poller::Stores::open(&sd, &name, &url)).await else {
            return poller::cycle(gw, i, &mut memory, Some(&path), None).await;
        };
        poller::resume(gw, &mut stores).await;
        let mut report = poller::cycle(gw, i, &mut memory, Some(&path), Some(&mut stores)).await;
        // `check` is the pre-restart cron job: run the operator's validation command too.
        if let Some(cmd) = &gw.spec().validate_command {
            let out = crate::command::run(cmd, gw.spec().action_timeout, &gw.spec().pass_env).await;
            let output = crate::secret::scrub(&out.output);
            report.local.validate = Some(crate::fleet::ValidateOutcome { ok: out.success(), output });
        }
        report
    }))
    .await;
    let now = SystemTime::now();
    let mut model = crate::model::Model::new(config, now);
    let (dir, names) = (config.state_dir.clone(), config.gateways.iter().map(|g| g.name.clone()).collect::<Vec<_>>());
    let days =
        tokio::task::spawn_blocking(move || crate::traffic::day::load_all(&dir, &names)).await.unwrap_or_default();
    model.seed_days(days);
    model.seed_traffic(history, now);
    for r in reports {
        model.apply_poll(r, now);
    }
    // The day at one-minute resolution, for the operator who opens gatewatch later.
    let (dir, days) = (config.state_dir.clone(), model.unsaved_days());
    if let Ok(Err(e)) = tokio::task::spawn_blocking(move || crate::traffic::day::save_all(&dir, &days)).await {
        tracing::warn!(error = %e, "traffic day not saved");
    }
    (model.fleet, model.evidence)
}

pub fn exit_code(fleet: &Fleet, evidence: &[Evidence]) -> i32 {
    // A replica that answered 429 answered: its gateway fails the
    // reachability check (exit 2, naming the 429s), it is not unreachable.
    if fleet.gateways.iter().any(|g| g.answered_count() == 0) {
        return 3;
    }
    let worst = evidence.iter().fold(Verdict::NotApplicable, |v, e| v.worst(e.worst()));
    match worst {
        Verdict::Fail => 2,
        Verdict::Warn => 1,
        _ if fleet.gateways.iter().any(|g| unread(g).is_some()) => 1,
        _ => 0,
    }
}

/// Why a gateway that answered has no deployment or channel list.
pub fn unread(g: &GatewayObs) -> Option<String> {
    if g.answered_count() == 0 {
        return None;
    }
    match &g.primary()?.deployments {
        // A refused credential fails admin-auth on its own.
        crate::gateway::Section::Failed(GatewayError::Auth { .. } | GatewayError::MissingCredential { .. }) => None,
        crate::gateway::Section::Failed(e) => {
            let what = if g.kind() == crate::config::GatewayKind::NewApi { "channel" } else { "deployment" };
            Some(format!("{what} list not read: {e}"))
        }
        _ => None,
    }
}

fn replica_report(g: &GatewayObs) -> Vec<ReplicaReport> {
    g.replicas
        .iter()
        .map(|r| {
            let snap = r.last.as_ref().and_then(|x| x.as_ref().ok());
            ReplicaReport {
                url: r.url.clone(),
                up: r.is_up(),
                rate_limited: r.is_rate_limited(),
                latency_ms: snap.map(|s| s.latency.as_secs_f64() * 1000.0),
                version: snap.and_then(|s| s.version.clone()),
                error: r.error().map(ToString::to_string),
                deployments: snap.and_then(|s| s.deployments.ok()).map(|d| d.len()),
                drifted_deployments: r.drift.as_ref().map(|rows| rows.iter().filter(|x| x.state.is_problem()).count()),
            }
        })
        .collect()
}

pub fn report(fleet: &Fleet, evidence: &[Evidence], now: SystemTime) -> CheckReport {
    let gateways = fleet
        .gateways
        .iter()
        .zip(evidence)
        .map(|(g, ev)| GatewayReport {
            name: g.spec.name.clone(),
            kind: g.spec.kind.as_str().to_owned(),
            url: g.spec.url.clone(),
            reachable: g.is_reachable(),
            rate_limited: g.is_rate_limited(),
            version: g.version().map(str::to_owned),
            replicas: replica_report(g),
            worst: ev.worst(),
            unread: unread(g),
            traffic: traffic_entries(g),
            traffic_source: (!g.traffic.is_empty()).then_some(if g.traffic_from_prometheus() {
                "prometheus"
            } else {
                "metrics"
            }),
            prometheus: g.prometheus.as_ref().map(|p| crate::sanitize::line(&p.describe()).into_owned()),
            changes: g.last_changes.iter().map(|c| crate::sanitize::line(&c.text).into_owned()).collect(),
            checks: ev
                .findings
                .iter()
                .map(|f| CheckEntry {
                    id: f.check,
                    title: checks::find(f.check).map_or("", |c| c.title),
                    verdict: f.verdict,
                    summary: f.summary.clone(),
                    facts: f.facts.clone(),
                    next: f.next.map(crate::triage::evidence::Next::headless),
                })
                .collect(),
        })
        .collect();
    CheckReport {
        schema: "gatewatch.check/v1",
        generated_at: rfc3339(now),
        gatewatch_version: env!("CARGO_PKG_VERSION"),
        exit_code: exit_code(fleet, evidence),
        gateways,
    }
}

/// The human summary. Every field that came from a gateway, a registry or a
/// file passes [`crate::sanitize::line`]: no escape sequence reaches the
/// terminal and no field can start a line of its own (a forged `Result:`).
pub fn human(r: &CheckReport) -> String {
    use crate::sanitize::line as clean;
    let mut out = String::new();
    let _ = writeln!(out, "gatewatch check — {}", r.generated_at);
    for g in &r.gateways {
        let up = g.replicas.iter().filter(|x| x.up).count();
        let limited = g.replicas.iter().filter(|x| x.rate_limited).count();
        let _ = writeln!(
            out,
            "\n{} ({}{}) {} — {up}/{} replica(s) up{}",
            clean(&g.name),
            g.kind,
            g.version.as_deref().map(|v| format!(" {}", clean(v))).unwrap_or_default(),
            clean(&g.url),
            g.replicas.len(),
            if limited > 0 { format!(", {limited} rate limited (HTTP 429)") } else { String::new() }
        );
        for rep in g.replicas.iter().filter(|x| !x.up) {
            let _ = writeln!(out, "  ✗ {}: {}", clean(&rep.url), clean(rep.error.as_deref().unwrap_or("down")));
        }
        if let Some(why) = &g.unread {
            let _ = writeln!(out, "  ? INCOMPLETE: {}: the checks that need it are unknown, not ok", clean(why));
        }
        let mut checks: Vec<&CheckEntry> = g.checks.iter().filter(|c| c.verdict != Verdict::NotApplicable).collect();
        checks.sort_by_key(|c| match c.verdict {
            Verdict::Fail => 0,
            Verdict::Warn => 1,
            Verdict::Unknown => 2,
            _ => 3,
        });
        for c in checks {
            let _ = writeln!(out, "  {} {:<26} {}", c.verdict.symbol(), c.id, clean(&c.summary));
            if matches!(c.verdict, Verdict::Fail | Verdict::Warn) {
                for f in c.facts.iter().take(6) {
                    let _ = writeln!(out, "      {}", clean(f));
                }
            }
            if let Some(next) = &c.next {
                let _ = writeln!(out, "      → {}", clean(next));
            }
        }
        if !g.changes.is_empty() {
            let _ = writeln!(out, "  changed since the last look:");
            for c in g.changes.iter().take(12) {
                let _ = writeln!(out, "      {}", clean(c));
            }
            if g.changes.len() > 12 {
                let _ = writeln!(out, "      … {} more (--json lists them)", g.changes.len() - 12);
            }
        }
    }
    let incomplete = r.gateways.iter().any(|g| g.unread.is_some());
    let worst = r.gateways.iter().fold(Verdict::NotApplicable, |v, g| v.worst(g.worst));
    let word = match r.exit_code {
        1 if incomplete && worst != Verdict::Warn => "INCOMPLETE",
        0 => "OK",
        1 => "WARNINGS",
        2 => "FAILURES",
        _ => "UNREACHABLE",
    };
    let also = if incomplete && matches!(r.exit_code, 1 | 2) && word != "INCOMPLETE" { ", INCOMPLETE" } else { "" };
    let _ = writeln!(out, "\nResult: {word}{also} (exit {})", r.exit_code);
    out
}

/// A label value: escaped as the exposition format requires, and with no
/// raw control or bidi character for whoever `cat`s the file.
fn label(v: &str) -> String {
    crate::sanitize::line(v).replace('\\', "\\\\").replace('"', "\\\"")
}

/// Prometheus text exposition format (version 0.0.4).
pub fn prometheus(r: &CheckReport, now: SystemTime) -> String {
    let mut out = String::new();
    let mut family = |name: &str, help: &str, kind: &str, samples: Vec<(String, f64)>| {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
        for (labels, v) in samples {
            let _ = writeln!(out, "{name}{{{labels}}} {v}");
        }
    };
    let gl = |g: &GatewayReport| format!("gateway=\"{}\",kind=\"{}\"", label(&g.name), g.kind);
    let rl = |g: &GatewayReport, rep: &ReplicaReport| format!("{},replica=\"{}\"", gl(g), label(&rep.url));
    let mut up = Vec::new();
    let mut lat = Vec::new();
    let mut deps = Vec::new();
    let mut drifted = Vec::new();
    for g in &r.gateways {
        for rep in &g.replicas {
            up.push((rl(g, rep), if rep.up { 1.0 } else { 0.0 }));
            if let Some(ms) = rep.latency_ms {
                lat.push((rl(g, rep), ms / 1000.0));
            }
            if let Some(n) = rep.deployments {
                #[allow(clippy::cast_precision_loss)]
                deps.push((rl(g, rep), n as f64));
            }
            if let Some(n) = rep.drifted_deployments {
                #[allow(clippy::cast_precision_loss)]
                drifted.push((rl(g, rep), n as f64));
            }
        }
    }
    family("gatewatch_up", "Whether the replica answered its liveness check (1 up, 0 down).", "gauge", up);
    family("gatewatch_latency_seconds", "Round trip of the replica's liveness check.", "gauge", lat);
    family("gatewatch_deployments", "Deployments or channels the replica reports.", "gauge", deps);
    family(
        "gatewatch_drifted_deployments",
        "Deployments whose running params differ from the config file (key drift).",
        "gauge",
        drifted,
    );
    let (mut live_req, mut live_fail) = (Vec::new(), Vec::new());
    for g in &r.gateways {
        for t in &g.traffic {
            let l = format!("{},deployment=\"{}\",id=\"{}\"", gl(g), label(&t.deployment), label(&t.id));
            live_req.push((l.clone(), t.requests));
            live_fail.push((l, t.failures));
        }
    }
    if !live_req.is_empty() {
        family(
            "gatewatch_live_requests",
            "Requests to the deployment in the last 5 minutes (since the proxy started on a first look), from its /metrics/.",
            "gauge",
            live_req,
        );
        family(
            "gatewatch_live_failures",
            "Failed requests to the deployment over the same span as gatewatch_live_requests.",
            "gauge",
            live_fail,
        );
    }
    let mut failing = Vec::new();
    let mut status = Vec::new();
    for g in &r.gateways {
        for c in &g.checks {
            if c.verdict == Verdict::NotApplicable {
                continue;
            }
            let l = format!("{},check=\"{}\"", gl(g), c.id);
            failing.push((l.clone(), if c.verdict == Verdict::Fail { 1.0 } else { 0.0 }));
            let s = match c.verdict {
                Verdict::Ok => 0.0,
                Verdict::Warn => 1.0,
                Verdict::Fail => 2.0,
                _ => -1.0,
            };
            status.push((l, s));
        }
    }
    family("gatewatch_check_failing", "1 when the check's verdict is fail.", "gauge", failing);
    family("gatewatch_check_status", "Check verdict: 0 ok, 1 warn, 2 fail, -1 unknown.", "gauge", status);
    let ts = now.duration_since(SystemTime::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64().floor());
    family(
        "gatewatch_check_timestamp_seconds",
        "Unix time of this check run.",
        "gauge",
        r.gateways.iter().map(|g| (gl(g), ts)).collect(),
    );
    out
}

/// Exit code when `--output` could not be written (the verdicts are lost).
pub const EXIT_OUTPUT_FAILED: i32 = 4;

/// Run `gatewatch check`; returns the exit code. With `output`, the result
/// replaces that file atomically whatever the verdict (a cron job's metrics
/// file must show the failure, not keep the last good values).
pub async fn run(config: &Config, gateways: &[Arc<dyn Gateway>], format: Format, output: Option<&Path>) -> i32 {
    // Known before the first request, so gateway text is scrubbed as it arrives.
    let redactor = crate::secret::harvest::for_config(config);
    let (fleet, evidence) = gather(config, gateways).await;
    let now = SystemTime::now();
    let r = report(&fleet, &evidence, now);
    let text = match format {
        Format::Human => human(&r),
        Format::Json => serde_json::to_string_pretty(&r).unwrap_or_default() + "\n",
        Format::Prometheus => prometheus(&r, now),
    };
    let text = redactor.redact(&text);
    match output {
        None => print!("{text}"),
        Some(path) => {
            if let Err(e) = replace_file(path, text.as_bytes()) {
                #[allow(clippy::print_stderr)]
                {
                    eprintln!("gatewatch check: cannot write {}: {e}", path.display());
                }
                return EXIT_OUTPUT_FAILED;
            }
        }
    }
    r.exit_code
}

/// Write `bytes` to a new file beside `path` and rename it over `path`, so a
/// reader (node_exporter) sees the old file or the new one, never half of it.
/// The temporary file is created exclusively (never through a symlink).
pub fn replace_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().ok_or_else(|| std::io::Error::other("not a file name"))?;
    let tmp = dir.join(format!(".{}.tmp-{}", name.to_string_lossy(), std::process::id()));
    let write = || -> std::io::Result<()> {
        // Metrics are read by another user (node_exporter): world-readable,
        // and they hold no secret.
        let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o644).open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    let r = write();
    if r.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    r
}
