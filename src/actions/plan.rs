//! What an action will do, said exactly, before it runs: the confirmation
//! dialog shows a [`Plan`]. Each gateway kind maps the action to what really
//! works for it (LiteLLM 1.106, New API @ 9f8a4ec0), or says why it cannot run.

use super::GatewayAction;
use crate::command::{self, per_replica};
use crate::config::{GatewayKind, duration::human};
use crate::fleet::GatewayObs;
use crate::gateway::Section;
use crate::triage::checks;
use crate::triage::evidence::{Ctx, Verdict};

/// An action, ready to be confirmed.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub gateway: usize,
    pub gateway_name: String,
    pub kind: GatewayKind,
    pub action: GatewayAction,
    pub title: String,
    /// What will happen, line by line.
    pub effect: Vec<String>,
    /// The configured command (template), if any.
    pub command: Option<String>,
    /// Every command line exactly as it will run, in order: one per replica
    /// for a template with `{url}`/`{host}`/`{port}` (each value one quoted
    /// shell word), else the command itself. The dialog lists them all.
    pub commands: Vec<String>,
    /// Problems found before running: each needs a second confirmation.
    pub warnings: Vec<String>,
    /// Why it cannot run at all.
    pub blocked: Option<String>,
    /// What the verification afterwards checks.
    pub verify: String,
    /// Replica URLs the action and its verification concern.
    pub replicas: Vec<String>,
    /// Paid upstream requests it causes.
    pub paid_requests: Option<usize>,
    /// The operator's `validate_command` that runs before this can be confirmed.
    pub validate_command: Option<String>,
    /// The validation is still running: `y` waits for it.
    pub validating: bool,
    /// The audit log cannot be written: the warning says so, and confirming
    /// the second stage accepts running without an audit record.
    pub unaudited: bool,
    /// New API: the channel's last test this session, shown before enabling
    /// it and named in the verification (enabled is not serving).
    pub last_test: Option<LastTest>,
}

/// One channel test's result, as gatewatch saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct LastTest {
    pub at: std::time::SystemTime,
    pub ok: bool,
    pub message: String,
}

impl LastTest {
    /// "failed: 401 … at 10:11:21 UTC" / "passed in 0.80s at …".
    pub fn describe(&self) -> String {
        let when = crate::actions::audit::rfc3339(self.at);
        let clock = when.get(11..19).unwrap_or(&when);
        if self.ok { format!("passed at {clock} UTC") } else { format!("failed at {clock} UTC: {}", self.message) }
    }
}

impl Plan {
    pub fn needs_second_confirmation(&self) -> bool {
        !self.warnings.is_empty()
    }

    /// The audit log cannot be synced (`why`): the action may run only after
    /// a second confirmation that says it will leave no audit record.
    pub fn require_unaudited_consent(&mut self, why: &str) {
        if !self.unaudited {
            self.unaudited = true;
            self.warnings.push(format!(
                "the audit log cannot be written ({why}): if you confirm, this action runs WITHOUT an audit record"
            ));
        }
    }
}

fn base(obs: &GatewayObs, index: usize, action: GatewayAction, title: String) -> Plan {
    Plan {
        gateway: index,
        gateway_name: obs.spec.name.clone(),
        kind: obs.spec.kind,
        action,
        title,
        effect: Vec::new(),
        command: None,
        commands: Vec::new(),
        warnings: Vec::new(),
        blocked: None,
        verify: String::new(),
        replicas: obs.replicas.iter().map(|r| r.url.clone()).collect(),
        paid_requests: None,
        validate_command: None,
        validating: false,
        unaudited: false,
        last_test: None,
    }
}

/// Pre-flight findings that would strand the gateway after a restart.
pub fn preflight_warnings(obs: &GatewayObs) -> Vec<String> {
    if obs.spec.kind != GatewayKind::LiteLlm {
        return Vec::new();
    }
    let ctx = Ctx::new(obs, std::time::SystemTime::UNIX_EPOCH);
    let Some(def) = checks::find("restart-preflight") else { return Vec::new() };
    let f = (def.run)(&ctx);
    if f.verdict == Verdict::Fail {
        let mut w = vec![f.summary];
        w.extend(f.facts.into_iter().filter(|x| !x.ends_with("deployments parse")));
        w
    } else {
        Vec::new()
    }
}

fn restart_like(obs: &GatewayObs, index: usize, action: GatewayAction) -> Plan {
    let is_restart = action == GatewayAction::Restart;
    let verb = if is_restart { "Restart" } else { "Reload" };
    let mut p = base(obs, index, action, format!("{verb} {}", obs.spec.name));
    let cmd = if is_restart { obs.spec.restart_command.clone() } else { obs.spec.reload_command.clone() };
    let n = p.replicas.len();
    match (obs.spec.kind, &cmd) {
        (GatewayKind::LiteLlm, None) if !is_restart => {
            p.blocked = Some(
                "no reload_command configured. LiteLLM reads config.yaml only at start: the default uvicorn process ignores HUP, so reload means restart (R). In gunicorn mode (--run_gunicorn) set reload_command: kill -HUP <gunicorn master pid>".into(),
            );
        }
        (GatewayKind::NewApi, None) if !is_restart => {
            p.blocked = Some(format!(
                "New API has no flush endpoint: each node reloads channels from the database every SYNC_FREQUENCY ({}); an admin edit reloads only the node that took it. Wait that long, or configure reload_command / restart_command for the nodes",
                human(obs.spec.sync_frequency)
            ));
        }
        (_, None) => {
            p.blocked = Some("no restart_command configured for this gateway (e.g. docker restart litellm-proxy, systemctl restart litellm, kubectl rollout restart deployment/litellm)".into());
        }
        (_, Some(c)) => {
            p.command = Some(c.clone());
            if per_replica(c) {
                match p.replicas.iter().map(|url| command::expand(c, url)).collect::<Result<Vec<_>, _>>() {
                    Ok(lines) => {
                        if let [one] = lines.as_slice() {
                            p.effect.push(format!("Runs: {one}"));
                        } else {
                            p.effect.push(format!(
                                "Runs once per replica ({n}), one after another, stopping at the first failure: the {n} commands below, exactly as they will run."
                            ));
                        }
                        p.commands = lines;
                    }
                    Err(why) => {
                        p.blocked = Some(format!(
                            "a replica address cannot be put into the command {c}: {why}. Fix the replica list (replicas:, --gateway or discover_command)"
                        ));
                    }
                }
            } else {
                p.effect.push(format!("Runs: {c}"));
                p.commands = vec![c.clone()];
            }
        }
    }
    match obs.spec.kind {
        GatewayKind::LiteLlm => {
            if is_restart {
                p.effect.push(
                    "Each LiteLLM process is down while it restarts (~5–8 s each; 1.106 is ready ~5.5 s after start)."
                        .into(),
                );
            } else {
                p.effect.push("Works only in gunicorn mode: HUP boots new workers that re-read config.yaml, with no failed request.".into());
            }
            match obs.proxy_config() {
                Some(cfg) => {
                    p.effect.push(format!(
                        "Loads {} as it is now: {} deployment(s).",
                        cfg.path.display(),
                        cfg.deployments.len()
                    ));
                    if let Some(rows) = obs.drift_rows() {
                        for r in rows.iter().filter(|r| r.state.is_problem()) {
                            p.effect.push(format!("Fixes: {}", r.summary()));
                        }
                    }
                    p.verify = format!(
                        "every replica ({n}) answers /health/liveliness and reports the deployment ids computed from the file (up to {})",
                        human(obs.spec.verify_timeout)
                    );
                }
                None => {
                    p.verify = format!(
                        "every replica ({n}) answers /health/liveliness again (no config_file: ids not compared)"
                    );
                }
            }
            p.warnings = preflight_warnings(obs);
            if p.blocked.is_none()
                && let Some(v) = &obs.spec.validate_command
            {
                p.validate_command = Some(v.clone());
                p.validating = true;
                p.effect.push(format!("Before you confirm, the file on disk is validated with: {v}"));
            }
        }
        GatewayKind::NewApi => {
            p.effect.push("Each New API node reloads every channel from the database when it starts.".into());
            p.verify = format!(
                "every node ({n}) answers /api/status again with a new start_time (up to {})",
                human(obs.spec.verify_timeout)
            );
        }
    }
    p
}

/// Plan `action` on gateway `index`.
#[allow(clippy::needless_pass_by_value)] // the plan takes ownership of a clone; callers hand over theirs
pub fn plan(obs: &GatewayObs, index: usize, action: GatewayAction, read_only: bool) -> Plan {
    let kind = obs.spec.kind;
    let mut p = match (&action, kind) {
        (GatewayAction::Restart | GatewayAction::Reload, _) => restart_like(obs, index, action.clone()),
        (GatewayAction::Purge, GatewayKind::LiteLlm) => purge_litellm(obs, index),
        (GatewayAction::Purge, GatewayKind::NewApi) => {
            let mut p = base(obs, index, action.clone(), format!("Purge {}", obs.spec.name));
            p.blocked = Some(format!(
                "New API has no cache purge endpoint. Each node refreshes its channel cache every SYNC_FREQUENCY ({}); restart the nodes (R) to reload at once",
                human(obs.spec.sync_frequency)
            ));
            p
        }
        (GatewayAction::ProbeHealth, GatewayKind::LiteLlm) => {
            let n = obs.deployments().len();
            let mut p = base(obs, index, action.clone(), format!("Probe all deployments of {}", obs.spec.name));
            p.effect.push(format!("GET /health: LiteLLM sends one real chat request (\"What's 1 + 1?\", max_tokens 16) to each of the {n} deployments, with each deployment's own key."));
            p.effect.push(format!("{n} paid requests. Unhealthy ones show their upstream error and the last 2 characters of the key the running process holds."));
            p.paid_requests = Some(n);
            p.verify = "the result is the evidence (shown per deployment)".into();
            p
        }
        (GatewayAction::RouteProbe, GatewayKind::LiteLlm) => {
            let mut aliases: Vec<String> = obs.deployments().iter().map(|d| d.name.to_string()).collect();
            aliases.sort();
            aliases.dedup();
            let mut p = base(obs, index, action.clone(), format!("Route probe on {}", obs.spec.name));
            p.effect.push(format!(
                "One chat completion with max_tokens 1 to each alias ({}): {} paid requests.",
                aliases.join(", "),
                aliases.len()
            ));
            p.effect.push(
                "Reads x-litellm-model-id, x-litellm-attempted-fallbacks/retries and x-litellm-response-cost.".into(),
            );
            p.paid_requests = Some(aliases.len());
            p.verify = "the result is the evidence (which deployment served each alias)".into();
            p
        }
        (GatewayAction::StreamProbe { model }, GatewayKind::LiteLlm) => {
            let mut p = base(obs, index, action.clone(), format!("Stream probe on {}", obs.spec.name));
            let front = obs.spec.url.trim_end_matches('/');
            // A replica behind the front door: the same probe sent there
            // tells a buffering proxy in front from a gateway that buffers.
            let direct = obs.spec.replicas.iter().map(|r| r.trim_end_matches('/')).find(|r| *r != front);
            p.effect.push(format!(
                "One streamed chat completion to {model} (max_tokens 16): 1 paid request through {front}."
            ));
            p.replicas = vec![front.to_owned()];
            p.paid_requests = Some(1);
            if let Some(direct) = direct {
                p.effect.push(format!(
                    "Then the same request straight to replica {direct} (1 more paid request), bypassing what is in front of {front}: which hop buffers or cuts the stream."
                ));
                p.replicas.push(direct.to_owned());
                p.paid_requests = Some(2);
            }
            p.effect.push("Measures time to first byte and token, the largest gap, [DONE] and the last chunk.".into());
            p.verify = "the result is the evidence".into();
            p
        }
        (GatewayAction::TestChannel { id, name }, GatewayKind::NewApi) => {
            let mut p = base(obs, index, action.clone(), format!("Test channel #{id} {name}"));
            p.effect.push(format!(
                "GET /api/channel/test/{id}: one real request to the provider with this channel's key (paid)."
            ));
            p.effect.push("Shows the result and latency. A single test never changes the channel's status.".into());
            p.effect.push(format!("The node answers from its own cache: a key edited less than SYNC_FREQUENCY ({}) ago may still be the old one.", human(obs.spec.sync_frequency)));
            p.paid_requests = Some(1);
            p.replicas.truncate(1);
            p.verify = "the test result is the verification".into();
            p
        }
        (GatewayAction::TestAll, GatewayKind::NewApi) => {
            let n = obs
                .deployments()
                .iter()
                .filter(|d| d.status != crate::gateway::DeploymentStatus::ManuallyDisabled)
                .count();
            let mut p = base(obs, index, action.clone(), format!("Test all channels of {}", obs.spec.name));
            p.effect.push(format!("GET /api/channel/test: the server tests {n} channels (all but manually disabled) one after another, in the background: {n} paid requests."));
            p.effect.push(
                "With automatic disabling on, failing channels are disabled and recovered ones re-enabled.".into(),
            );
            p.paid_requests = Some(n);
            p.replicas.truncate(1);
            p.verify = "watch test_time advance in the channel list".into();
            p
        }
        (GatewayAction::RefreshBalance { id, name }, GatewayKind::NewApi) => {
            let mut p = base(obs, index, action.clone(), format!("Refresh balance of #{id} {name}"));
            p.effect.push(format!("GET /api/channel/update_balance/{id}: asks the provider's billing API and stores balance; never changes status."));
            let supported = obs
                .deployments()
                .iter()
                .find(|d| d.id == id)
                .and_then(|d| d.type_id.get())
                .is_some_and(balance_supported);
            if !supported {
                p.effect.push(
                    "This provider type does not support balance queries: the server will answer 'not implemented'."
                        .into(),
                );
            }
            p.replicas.truncate(1);
            p.verify = "the returned balance".into();
            p
        }
        (GatewayAction::UpdateAllBalances, GatewayKind::NewApi) => {
            let mut p = base(obs, index, action.clone(), format!("Update ALL balances of {}", obs.spec.name));
            p.effect.push("GET /api/channel/update_balance: synchronous, queries every enabled single-key channel; can take minutes.".into());
            p.warnings.push("The server DISABLES (status 3) every enabled channel whose fetched balance is ≤ 0 — even with automatic disabling switched off — and most provider types cannot report a balance.".into());
            p.replicas.truncate(1);
            p.verify = "re-read the channel list and name every channel that got disabled".into();
            p
        }
        (GatewayAction::SetChannelEnabled { id, name, enable }, GatewayKind::NewApi) => {
            let verb = if *enable { "Enable" } else { "Disable" };
            let mut p = base(obs, index, action.clone(), format!("{verb} channel #{id} {name}"));
            p.effect.push(format!("PUT /api/channel/ {{\"id\": {id}, \"status\": {}}}", if *enable { 1 } else { 2 }));
            p.effect.push(format!(
                "The node that takes the edit reloads at once; other nodes follow within SYNC_FREQUENCY ({}).",
                human(obs.spec.sync_frequency)
            ));
            p.replicas.truncate(1);
            p.verify = "re-read the channel and check its status".into();
            if *enable {
                p.last_test = obs
                    .channel_tests
                    .iter()
                    .filter(|(_, t, ..)| t == id)
                    .max_by_key(|(at, ..)| *at)
                    .map(|(at, _, ok, message, _)| LastTest { at: *at, ok: *ok, message: message.clone() });
                match &p.last_test {
                    Some(t) if !t.ok => p.warnings.push(format!(
                        "its last test {}: enabling sends users' requests to a channel that fails; test it again (t) first",
                        t.describe()
                    )),
                    Some(_) => {}
                    None => p.effect.push(
                        "Not tested in this session: enabled is not serving until a test (t) passes.".into(),
                    ),
                }
            }
            p
        }
        (a, k) => {
            let mut p = base(obs, index, action.clone(), format!("{} on {}", a.key(), obs.spec.name));
            p.blocked = Some(format!("{} does not apply to {}", a.key(), k.display_name()));
            p
        }
    };
    if read_only && p.blocked.is_none() {
        if action.is_mutating() {
            p.blocked = Some("read-only session (--read-only): actions that change the gateway are disabled".into());
        } else if action.is_paid() {
            p.blocked = Some(
                "read-only session (--read-only): paid probes are disabled too (add --allow-probes to allow them)"
                    .into(),
            );
        }
    }
    p
}

fn purge_litellm(obs: &GatewayObs, index: usize) -> Plan {
    let mut p = base(obs, index, GatewayAction::Purge, format!("Purge the response cache of {}", obs.spec.name));
    p.replicas.truncate(1);
    match obs.primary().map(|s| &s.cache) {
        Some(Section::Ok(c)) if c.kind.contains("redis") => {
            p.effect.push(format!(
                "POST /cache/flushall on {}: empties the Redis response cache (Redis is shared by every replica).",
                p.replicas[0]
            ));
            p.effect.push(
                "Also deletes the rate-limit counters kept in that Redis: every limit restarts from zero.".into(),
            );
            p.effect.push(
                "Each worker keeps serving its in-memory copies for up to 10 minutes; only a restart clears them."
                    .into(),
            );
            p.effect.push("Does NOT change which upstream key the proxy uses (that needs a restart).".into());
            p.verify = "/cache/ping healthy afterwards; deployment ids re-read and compared with the file".into();
        }
        Some(Section::Ok(c)) => {
            p.blocked = Some(format!(
                "this proxy's response cache is in-memory ({}): /cache/flushall refuses it (503); only a restart of every worker clears it. POST /cache/purge does not exist",
                c.kind
            ));
        }
        Some(Section::Unavailable(why)) => {
            p.blocked = Some(format!("{why}: nothing to purge. A purge never fixes a stale key"));
        }
        Some(Section::Failed(e)) => p.blocked = Some(format!("cache state unknown ({e})")),
        _ => p.blocked = Some("cache state not read yet".into()),
    }
    p
}

/// New API channel types whose balance the server can fetch (OpenAI, Custom,
/// OpenRouter, Moonshot, SiliconFlow, DeepSeek; controller/channel-billing.go).
fn balance_supported(type_id: i64) -> bool {
    matches!(type_id, 1 | 8 | 20 | 25 | 40 | 43)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_replica_command_is_listed_exactly_as_it_will_run() {
        use crate::config::GatewaySpec;
        let mut spec = GatewaySpec::new("gw", GatewayKind::LiteLlm, "http://10.0.0.10:4000");
        spec.replicas = (1..=5).map(|i| format!("http://10.0.0.1{i}:4000")).collect();
        spec.restart_command = Some("ssh {host} 'systemctl restart litellm@{port}' # {url}".into());
        let p = plan(&GatewayObs::new(spec.clone()), 0, GatewayAction::Restart, false);
        assert_eq!(p.blocked, None);
        assert_eq!(p.commands.len(), 5, "all five, not three and 'more'");
        assert_eq!(p.commands[4], "ssh 10.0.0.15 'systemctl restart litellm@4000' # http://10.0.0.15:4000");
        // One command without placeholders runs once.
        spec.restart_command = Some("docker restart litellm".into());
        let p = plan(&GatewayObs::new(spec.clone()), 0, GatewayAction::Restart, false);
        assert_eq!(p.commands, ["docker restart litellm"]);
        // A replica address a shell would interpret blocks the command, saying which.
        spec.restart_command = Some("echo restarting {url} >> log".into());
        spec.replicas.push("http://127.0.0.1:41001/$(touch /tmp/x)".into());
        let p = plan(&GatewayObs::new(spec), 0, GatewayAction::Restart, false);
        assert!(p.commands.is_empty());
        assert!(p.blocked.as_deref().is_some_and(|b| b.contains("$(touch /tmp/x)") && b.contains("refusing")), "{p:?}");
    }

    #[test]
    fn an_unwritable_audit_log_needs_a_second_confirmation() {
        use crate::config::GatewaySpec;
        let mut spec = GatewaySpec::new("gw", GatewayKind::LiteLlm, "http://10.0.0.10:4000");
        spec.restart_command = Some("docker restart litellm".into());
        let mut p = plan(&GatewayObs::new(spec), 0, GatewayAction::Restart, false);
        assert!(!p.needs_second_confirmation());
        p.require_unaudited_consent("No space left on device");
        p.require_unaudited_consent("No space left on device");
        assert!(p.unaudited && p.needs_second_confirmation());
        assert_eq!(p.warnings.len(), 1);
        assert!(p.warnings[0].contains("WITHOUT an audit record"));
    }

    #[test]
    fn stream_probe_also_goes_straight_to_a_replica_behind_the_front_door() {
        use crate::config::GatewaySpec;
        let action = GatewayAction::StreamProbe { model: "gpt-4o".into() };
        let mut spec = GatewaySpec::new("gw", GatewayKind::LiteLlm, "https://llm.example.com");
        let alone = plan(&GatewayObs::new(spec.clone()), 0, action.clone(), false);
        assert_eq!(alone.replicas, ["https://llm.example.com"]);
        assert_eq!(alone.paid_requests, Some(1));

        // The front door listed as a replica too is skipped: the next one is compared.
        spec.replicas = vec!["https://llm.example.com/".into(), "http://10.0.0.11:4000".into()];
        let both = plan(&GatewayObs::new(spec), 0, action, false);
        assert_eq!(both.replicas, ["https://llm.example.com", "http://10.0.0.11:4000"]);
        assert_eq!(both.paid_requests, Some(2));
        assert!(
            both.effect.iter().any(|e| e.contains("straight to replica http://10.0.0.11:4000")),
            "{:?}",
            both.effect
        );
    }
}
