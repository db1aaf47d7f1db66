//! Key drift: the deployments the config file describes vs. the ones a running
//! proxy replica holds, compared by deployment id (a hash over the params, the
//! key included). A deployment whose id proves nothing (pinned in the file,
//! random, or resolved from an environment gatewatch cannot see) is
//! *inconclusive*, never a match and never drift. Pure functions; the memory
//! of the last match is loaded and saved by the poller.

use std::collections::HashSet;
use std::path::PathBuf;

mod memory;

pub use memory::{MatchMemory, RememberedDeployment};

use super::config_file::{ConfigDeployment, IdKind, ParamField, ProxyConfig};
use super::params::entry_changes;
use crate::gateway::Deployment;
use crate::secret::{Fingerprint, short_id};

/// What changed in one field between what the proxy holds and the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange {
    pub field: String,
    pub sensitive: bool,
    /// Fingerprint (or value, for allowlisted fields) the proxy holds.
    pub running: Option<String>,
    /// Fingerprint (or value) in the file now.
    pub file: Option<String>,
    /// For a mapping (`extra_headers`): which entries changed, by name.
    pub entries: Vec<String>,
}

impl FieldChange {
    pub fn describe(&self) -> String {
        let detail = if self.entries.is_empty() { String::new() } else { format!(" [{}]", self.entries.join(", ")) };
        match (&self.running, &self.file) {
            (Some(r), Some(f)) if self.sensitive => {
                format!("{} changed{detail}: file {f}, the proxy still holds the previous one ({r})", self.field)
            }
            (Some(r), Some(f)) => format!("{} changed{detail}: file {f}, proxy {r}", self.field),
            (None, Some(f)) => format!("{} added in the file ({f}), not loaded", self.field),
            (Some(r), None) => format!("{} removed from the file, the proxy still uses it ({r})", self.field),
            (None, None) => format!("{} changed", self.field),
        }
    }
}

/// The comparison for one deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DriftState {
    /// The running id equals the id computed from the file.
    Match,
    /// Same alias, different id: the proxy runs other params than the file says.
    Drift { changes: Vec<FieldChange>, explained: bool },
    /// In the file, not in the proxy: added but not loaded (restart needed).
    OnlyInConfig,
    /// In the proxy, not in the file: removed from the file, or stored in the DB.
    OnlyInProxy { db_model: bool },
    /// The file pins `model_info.id`: the proxy keeps that id whatever the
    /// key. `matches`: the proxy runs that id (its key cannot be checked);
    /// otherwise it runs another id for the alias (another version of the file).
    Pinned { matches: bool },
    /// `model_info.id: null`: a random id at every start; paired by alias.
    RandomId,
    /// The proxy's value of an `os.environ/` name cannot be known here, so
    /// the id cannot be reproduced: the names and why.
    Unverifiable { missing: Vec<String>, why: String },
}

impl DriftState {
    pub fn label(&self) -> &'static str {
        match self {
            Self::Match => "match",
            Self::Drift { .. } => "DRIFT",
            Self::OnlyInConfig => "not loaded",
            Self::OnlyInProxy { db_model: true } => "db model",
            Self::OnlyInProxy { db_model: false } => "not in file",
            Self::Pinned { matches: true } => "id pinned",
            Self::Pinned { matches: false } => "DRIFT (pinned id)",
            Self::RandomId => "random id",
            Self::Unverifiable { .. } => "env unknown",
        }
    }

    /// The proxy demonstrably runs something else than the file.
    pub fn is_problem(&self) -> bool {
        matches!(
            self,
            Self::Drift { .. }
                | Self::OnlyInConfig
                | Self::OnlyInProxy { db_model: false }
                | Self::Pinned { matches: false }
        )
    }

    /// The id cannot tell whether the proxy holds the file's params.
    pub fn is_inconclusive(&self) -> bool {
        matches!(self, Self::Pinned { matches: true } | Self::RandomId | Self::Unverifiable { .. })
    }
}

/// One row of the comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriftRow {
    pub model_name: String,
    pub file_id: Option<String>,
    pub running_id: Option<String>,
    pub state: DriftState,
    /// Fingerprint of the api_key in the file (when the file has one).
    pub file_key: Option<Fingerprint>,
    /// Fingerprint of the api_key the proxy holds, when the id proves it or
    /// memory knows it; never for an inconclusive row.
    pub running_key: Option<Fingerprint>,
    pub line: Option<usize>,
    /// The file the deployment is written in (an included one, maybe).
    pub file: Option<PathBuf>,
}

impl DriftRow {
    /// `config.yaml line 12`, naming an included file when it is one.
    pub fn location(&self) -> Option<String> {
        let line = self.line?;
        Some(match &self.file {
            Some(f) => format!(
                "{} line {line}",
                f.file_name().map_or_else(|| f.display().to_string(), |n| n.to_string_lossy().into_owned())
            ),
            None => format!("line {line}"),
        })
    }

    pub fn summary(&self) -> String {
        let short = |id: &Option<String>| short_id(id.as_deref().unwrap_or("?")).to_owned();
        match &self.state {
            DriftState::Match => format!("{}: proxy runs the file's params", self.model_name),
            DriftState::Drift { changes, explained } => {
                let what = if changes.is_empty() {
                    "params differ".to_owned()
                } else {
                    changes.iter().map(FieldChange::describe).collect::<Vec<_>>().join("; ")
                };
                let tail = if *explained {
                    ""
                } else {
                    " (no earlier match remembered: a hidden field such as api_key differs)"
                };
                format!(
                    "{}: proxy id {} ≠ file id {}: {what}{tail}",
                    self.model_name,
                    short(&self.running_id),
                    short(&self.file_id)
                )
            }
            DriftState::OnlyInConfig => {
                format!("{}: in the file but not loaded by the proxy (restart to load)", self.model_name)
            }
            DriftState::OnlyInProxy { db_model: true } => {
                format!("{}: stored in the proxy's DB, not in the file", self.model_name)
            }
            DriftState::OnlyInProxy { db_model: false } => {
                format!("{}: the proxy still serves it, the file no longer has it", self.model_name)
            }
            DriftState::Pinned { matches: true } => format!(
                "{}: model_info.id is pinned in the file, so the id stays the same whatever the key: whether the proxy holds the file's key cannot be checked",
                self.model_name
            ),
            DriftState::Pinned { matches: false } => format!(
                "{}: the file pins model_info.id {}, the proxy runs {}: it loaded another version of the file",
                self.model_name,
                short(&self.file_id),
                short(&self.running_id)
            ),
            DriftState::RandomId => format!(
                "{}: model_info.id: null gives a random id at every start: its params cannot be checked by id",
                self.model_name
            ),
            DriftState::Unverifiable { missing, why } => format!(
                "{}: cannot reproduce the id: os.environ/{} {why} — set env_file or env_command to the proxy's environment, or run gatewatch where the proxy runs",
                self.model_name,
                missing.join(", os.environ/"),
            ),
        }
    }
}

fn file_key(d: &ConfigDeployment) -> Option<Fingerprint> {
    d.field("api_key").map(|f| f.fingerprint)
}

fn explain(
    file: &ConfigDeployment,
    running: &Deployment,
    memory: &MatchMemory,
) -> (Vec<FieldChange>, bool, Option<Fingerprint>) {
    if let Some(old) = memory.deployments.get(running.id.as_str()) {
        let mut changes = Vec::new();
        for f in &file.fields {
            let o = old.fields.iter().find(|o| o.name == f.name);
            if o.is_some_and(|o| o.fingerprint == f.fingerprint) {
                continue;
            }
            changes.push(FieldChange {
                field: f.name.clone(),
                sensitive: f.sensitive,
                running: o.map(ParamField::display),
                file: Some(f.display()),
                entries: o.map(|o| entry_changes(o, f)).unwrap_or_default(),
            });
        }
        for o in &old.fields {
            if !file.fields.iter().any(|f| f.name == o.name) {
                changes.push(FieldChange {
                    field: o.name.clone(),
                    sensitive: o.sensitive,
                    running: Some(o.display()),
                    file: None,
                    entries: Vec::new(),
                });
            }
        }
        let running_key = old.fields.iter().find(|f| f.name == "api_key").map(|f| f.fingerprint);
        return (changes, true, running_key);
    }
    // Nothing remembered: compare what /model/info still shows (non-secret fields).
    let mut changes = Vec::new();
    let shown = [("model", running.upstream_model.as_deref()), ("api_base", running.api_base.as_deref())];
    for (name, value) in shown {
        if let (Some(f), Some(v)) = (file.field(name), value)
            && f.shown.as_deref() != Some(v)
        {
            changes.push(FieldChange {
                field: name.to_owned(),
                sensitive: false,
                running: Some(crate::secret::mask_key_like(v).into_owned()),
                file: f.shown.clone(),
                entries: Vec::new(),
            });
        }
    }
    (changes, false, None)
}

/// Compare the file with one replica's deployments.
pub fn compare(cfg: &ProxyConfig, running: &[Deployment], memory: &MatchMemory) -> Vec<DriftRow> {
    let running_ids: HashSet<&str> = running.iter().map(|d| d.id.as_str()).collect();
    let file_ids: HashSet<&str> = cfg.deployments.iter().filter(|d| !d.id.is_empty()).map(|d| d.id.as_str()).collect();
    let mut used_running: HashSet<&str> = HashSet::new();
    let mut rows = Vec::new();
    for d in &cfg.deployments {
        let base = DriftRow {
            model_name: d.model_name.clone(),
            file_id: (!d.id.is_empty()).then(|| d.id.clone()),
            running_id: None,
            state: DriftState::Match,
            file_key: file_key(d),
            running_key: None,
            line: Some(d.line),
            file: (d.file != cfg.path).then(|| d.file.clone()),
        };
        let unknown = || DriftState::Unverifiable {
            missing: d.unknown_env.iter().map(|(n, _)| n.clone()).collect(),
            why: d.unknown_env.first().map(|(_, w)| w.clone()).unwrap_or_default(),
        };
        if !d.id.is_empty() && running_ids.contains(d.id.as_str()) {
            used_running.insert(d.id.as_str());
            // Equal SHA-256 ids mean equal params, whatever gatewatch could resolve.
            let (state, key) = match d.id_kind {
                IdKind::Pinned(_) => (DriftState::Pinned { matches: true }, None),
                _ => (DriftState::Match, base.file_key),
            };
            rows.push(DriftRow { running_id: Some(d.id.clone()), running_key: key, state, ..base });
            continue;
        }
        // Pair with a running deployment of the same alias that the file does not explain.
        let partner = running.iter().find(|r| {
            r.name == d.model_name
                && !file_ids.contains(r.id.as_str())
                && !used_running.contains(r.id.as_str())
                && !r.db_model
        });
        let name_field = format!("model_list[{}].model_name", d.index);
        let name_unknown = cfg.env_refs.iter().any(|e| e.field == name_field && e.unknown.is_some());
        let state = match (partner, &d.id_kind) {
            (Some(_), IdKind::Pinned(_)) => DriftState::Pinned { matches: false },
            (Some(_), IdKind::Random) => DriftState::RandomId,
            (Some(_), IdKind::Computed) if !d.unknown_env.is_empty() => unknown(),
            (Some(r), IdKind::Computed) => {
                let (changes, explained, running_key) = explain(d, r, memory);
                used_running.insert(r.id.as_str());
                rows.push(DriftRow {
                    running_id: Some(r.id.to_string()),
                    running_key,
                    state: DriftState::Drift { changes, explained },
                    ..base
                });
                continue;
            }
            (None, _) if name_unknown => unknown(),
            (None, _) => DriftState::OnlyInConfig,
        };
        if let Some(r) = partner {
            used_running.insert(r.id.as_str());
        }
        rows.push(DriftRow { running_id: partner.map(|r| r.id.to_string()), state, ..base });
    }
    for r in running {
        if used_running.contains(r.id.as_str()) {
            continue;
        }
        rows.push(DriftRow {
            model_name: r.name.to_string(),
            file_id: None,
            running_id: Some(r.id.to_string()),
            state: DriftState::OnlyInProxy { db_model: r.db_model },
            file_key: None,
            running_key: None,
            line: None,
            file: None,
        });
    }
    rows
}

/// How one replica's rows add up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Agreement {
    /// Every deployment of the file is loaded with exactly its params.
    Clean,
    /// The proxy demonstrably runs something else.
    Drift,
    /// No drift seen, but some deployments cannot be checked by id.
    Inconclusive,
}

pub fn agreement(rows: &[DriftRow]) -> Agreement {
    if rows.iter().any(|r| r.state.is_problem()) {
        Agreement::Drift
    } else if rows.is_empty() || rows.iter().any(|r| r.state.is_inconclusive()) {
        Agreement::Inconclusive
    } else {
        Agreement::Clean
    }
}

/// True when every deployment in the file is loaded with exactly its params.
pub fn all_match(rows: &[DriftRow]) -> bool {
    agreement(rows) == Agreement::Clean
}

/// No deployment demonstrably drifts (some may be inconclusive).
pub fn no_drift(rows: &[DriftRow]) -> bool {
    agreement(rows) != Agreement::Drift
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::litellm::config_file::parse;
    use std::path::Path;

    const SHARED: &str = include_str!("../../../tests/fixtures/litellm/config.yaml");

    fn env(name: &str) -> Option<String> {
        (name == "THIRD_KEY").then(|| "sk-upstream-THIRD-env-9999aaaabbbb".to_owned())
    }

    fn running_from(cfg: &ProxyConfig) -> Vec<Deployment> {
        cfg.deployments
            .iter()
            .map(|d| {
                let mut dep = Deployment::new(d.id.clone(), d.model_name.clone());
                dep.api_base = d.api_base.as_deref().map(crate::gateway::Text::from);
                dep.upstream_model = d.upstream_model.as_deref().map(crate::gateway::Text::from);
                dep
            })
            .collect()
    }

    #[test]
    fn rotation_is_flagged_on_that_deployment_only_and_explained_from_memory() {
        let old = parse(SHARED, Path::new("c.yaml"), &env).unwrap();
        let running = running_from(&old);
        let mut memory = MatchMemory::default();
        assert!(all_match(&compare(&old, &running, &memory)));
        assert!(memory.remember(&old, 100));
        let new_text = SHARED.replace("sk-upstream-OLD-1234567890abcd", "sk-upstream-NEW-0987654321wxyz");
        let new = parse(&new_text, Path::new("c.yaml"), &env).unwrap();
        let rows = compare(&new, &running, &memory);
        let drifted: Vec<_> = rows.iter().filter(|r| r.state.is_problem()).collect();
        assert_eq!(drifted.len(), 1);
        assert_eq!(drifted[0].model_name, "gpt-4o");
        let DriftState::Drift { changes, explained } = &drifted[0].state else { panic!("{:?}", drifted[0].state) };
        assert!(explained);
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].field, "api_key");
        assert_eq!(
            changes[0].running.as_deref(),
            Some(Fingerprint::of("sk-upstream-OLD-1234567890abcd").to_string().as_str())
        );
        assert!(drifted[0].summary().contains("the proxy still holds the previous one"));
        assert!(!drifted[0].summary().contains("sk-upstream"));
    }

    #[test]
    fn without_memory_drift_is_still_exact_but_unexplained() {
        let old = parse(SHARED, Path::new("c.yaml"), &env).unwrap();
        let running = running_from(&old);
        let new_text = SHARED.replace("sk-upstream-OLD-1234567890abcd", "sk-upstream-NEW-0987654321wxyz");
        let new = parse(&new_text, Path::new("c.yaml"), &env).unwrap();
        let rows = compare(&new, &running, &MatchMemory::default());
        assert!(matches!(rows[0].state, DriftState::Drift { explained: false, .. }));
        assert_eq!(rows[1].state, DriftState::Match);
    }

    #[test]
    fn added_and_removed_deployments() {
        let cfg = parse(SHARED, Path::new("c.yaml"), &env).unwrap();
        let mut running = running_from(&cfg);
        running.remove(2);
        let mut extra = Deployment::new("ffff", "claude");
        extra.db_model = false;
        running.push(extra);
        let mut db = Deployment::new("dddd", "from-db");
        db.db_model = true;
        running.push(db);
        let rows = compare(&cfg, &running, &MatchMemory::default());
        assert_eq!(rows[2].state, DriftState::OnlyInConfig);
        assert_eq!(rows[3].state, DriftState::OnlyInProxy { db_model: false });
        assert_eq!(rows[4].state, DriftState::OnlyInProxy { db_model: true });
        assert!(!all_match(&rows));
    }

    fn cfg_of(text: &str) -> ProxyConfig {
        parse(text, Path::new("c.yaml"), &env).unwrap()
    }

    #[test]
    fn a_pinned_id_never_reads_as_a_match_and_shows_no_proxy_key() {
        let text = "model_list:\n  - model_name: p\n    litellm_params: {model: openai/x, api_key: sk-pinned-OLD-1111}\n    model_info: {id: pin-1}\n";
        let old = cfg_of(text);
        let running = running_from(&old);
        let rows = compare(&cfg_of(&text.replace("OLD", "NEW")), &running, &MatchMemory::default());
        assert_eq!(rows[0].state, DriftState::Pinned { matches: true });
        assert_eq!(rows[0].running_key, None, "the id proves nothing about the key");
        assert_eq!(agreement(&rows), Agreement::Inconclusive);
        assert!(!all_match(&rows) && no_drift(&rows));
        assert!(rows[0].summary().contains("cannot be checked"));
        // The file pins another id than the proxy runs: that is drift.
        let rows = compare(&cfg_of(&text.replace("pin-1", "pin-2")), &running, &MatchMemory::default());
        assert_eq!(rows[0].state, DriftState::Pinned { matches: false });
        assert!(rows[0].state.is_problem());
        // Memory never records what a pinned id cannot prove.
        let mut m = MatchMemory::default();
        m.remember(&old, 1);
        assert!(m.deployments.is_empty());
    }

    #[test]
    fn a_random_id_pairs_by_alias() {
        let text =
            "model_list:\n  - model_name: r\n    litellm_params: {model: openai/x}\n    model_info: {id: null}\n";
        let running = vec![Deployment::new("977eecb0-dfd7-4ec0-bac6-00ed3a8d3b68", "r")];
        let rows = compare(&cfg_of(text), &running, &MatchMemory::default());
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(rows[0].state, DriftState::RandomId);
        assert_eq!(agreement(&rows), Agreement::Inconclusive);
        let rows = compare(&cfg_of(text), &[], &MatchMemory::default());
        assert_eq!(rows[0].state, DriftState::OnlyInConfig);
    }

    #[test]
    fn a_name_gatewatch_cannot_see_is_unknown_never_drift() {
        let text = "model_list:\n  - model_name: e\n    litellm_params: {model: openai/x, api_key: os.environ/ONLY_IN_PROXY}\n";
        let cfg = cfg_of(text);
        let running = vec![Deployment::new("id-computed-by-the-proxy-with-its-env", "e")];
        let rows = compare(&cfg, &running, &MatchMemory::default());
        assert!(matches!(&rows[0].state, DriftState::Unverifiable { missing, .. } if missing == &["ONLY_IN_PROXY"]));
        assert_eq!(rows[0].running_key, None);
        assert!(rows[0].summary().contains("env_file"), "{}", rows[0].summary());
        assert_eq!(agreement(&rows), Agreement::Inconclusive);
        // Should the ids agree anyway, params agree.
        let same = vec![Deployment::new(cfg.deployments[0].id.clone(), "e")];
        assert!(all_match(&compare(&cfg, &same, &MatchMemory::default())));
    }

    #[test]
    fn a_changed_header_is_named_and_fingerprinted_never_shown() {
        let text = "model_list:\n  - model_name: h\n    litellm_params:\n      model: openai/x\n      extra_headers: {X-Org-Token: org-OLD-secret-77, X-Trace: t}\n      aws_secret_access_key: aws-OLD-secret-88\n";
        let old = cfg_of(text);
        let running = running_from(&old);
        let mut memory = MatchMemory::default();
        memory.remember(&old, 1);
        let new = cfg_of(&text.replace("org-OLD", "org-NEW").replace("aws-OLD", "aws-NEW"));
        let rows = compare(&new, &running, &memory);
        let s = rows[0].summary();
        assert!(s.contains("extra_headers changed [X-Org-Token changed (sha256:"), "{s}");
        assert!(s.contains("aws_secret_access_key changed"), "{s}");
        assert!(!s.contains("secret-77") && !s.contains("secret-88") && !s.contains("org-"), "{s}");
        let saved = serde_json::to_string(&memory).unwrap();
        assert!(!saved.contains("secret-77") && !saved.contains("secret-88"), "{saved}");
    }
}
