//! Key drift: the deployments the config file describes vs. the ones a running
//! proxy replica holds, compared by deployment id (a hash over the params, the
//! key included). Pure functions; the memory of the last match is loaded and
//! saved by the poller.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};

use super::config_file::{ConfigDeployment, ParamField, ProxyConfig};
use crate::gateway::Deployment;
use crate::secret::{Fingerprint, short_id};

/// Per-field fingerprints of deployments the proxy was last seen to match.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MatchMemory {
    /// Deployment id → its fields at the time it matched.
    pub deployments: BTreeMap<String, RememberedDeployment>,
    /// Environment variable → fingerprint of its value at the last match.
    #[serde(default)]
    pub env: BTreeMap<String, Fingerprint>,
    /// Unix time of the last update.
    #[serde(default)]
    pub saved_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RememberedDeployment {
    pub model_name: String,
    pub fields: Vec<ParamField>,
    pub seen_at: i64,
}

const MEMORY_LIMIT: usize = 2000;

impl MatchMemory {
    /// Record the config's deployments (they matched a replica). Returns
    /// whether anything changed.
    pub fn remember(&mut self, cfg: &ProxyConfig, now: i64) -> bool {
        let mut changed = false;
        for d in &cfg.deployments {
            let entry =
                RememberedDeployment { model_name: d.model_name.clone(), fields: d.fields.clone(), seen_at: now };
            match self.deployments.get(&d.id) {
                Some(old) if old.fields == entry.fields && old.model_name == entry.model_name => {}
                _ => {
                    self.deployments.insert(d.id.clone(), entry);
                    changed = true;
                }
            }
        }
        for r in &cfg.env_refs {
            if let Some(fp) = r.fingerprint
                && self.env.get(&r.name) != Some(&fp)
            {
                self.env.insert(r.name.clone(), fp);
                changed = true;
            }
        }
        if self.deployments.len() > MEMORY_LIMIT {
            let mut by_age: Vec<(i64, String)> =
                self.deployments.iter().map(|(id, d)| (d.seen_at, id.clone())).collect();
            by_age.sort();
            for (_, id) in by_age.into_iter().take(self.deployments.len() - MEMORY_LIMIT) {
                self.deployments.remove(&id);
            }
        }
        if changed {
            self.saved_at = now;
        }
        changed
    }
}

/// What changed in one field between what the proxy holds and the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange {
    pub field: String,
    pub sensitive: bool,
    /// Fingerprint (or value, for non-sensitive fields) the proxy holds.
    pub running: Option<String>,
    /// Fingerprint (or value) in the file now.
    pub file: Option<String>,
}

impl FieldChange {
    pub fn describe(&self) -> String {
        match (&self.running, &self.file) {
            (Some(r), Some(f)) if self.sensitive => {
                format!("{} changed: file {f}, the proxy still holds the previous one ({r})", self.field)
            }
            (Some(r), Some(f)) => format!("{} changed: file {f}, proxy {r}", self.field),
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
    /// The file pins `model_info.id`: the proxy keeps that id whatever the key.
    Pinned { matches: bool },
    /// An `os.environ/` reference is unset here, so the id cannot be reproduced.
    Unverifiable { missing: Vec<String> },
}

impl DriftState {
    pub fn label(&self) -> &'static str {
        match self {
            Self::Match => "match",
            Self::Drift { .. } => "DRIFT",
            Self::OnlyInConfig => "not loaded",
            Self::OnlyInProxy { db_model: true } => "db model",
            Self::OnlyInProxy { db_model: false } => "not in file",
            Self::Pinned { .. } => "id pinned",
            Self::Unverifiable { .. } => "env missing",
        }
    }

    pub fn is_problem(&self) -> bool {
        matches!(self, Self::Drift { .. } | Self::OnlyInConfig | Self::OnlyInProxy { db_model: false })
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
    /// Fingerprint of the api_key the proxy holds, when known from memory.
    pub running_key: Option<Fingerprint>,
    pub line: Option<usize>,
}

impl DriftRow {
    pub fn summary(&self) -> String {
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
                    short_id(self.running_id.as_deref().unwrap_or("?")),
                    short_id(self.file_id.as_deref().unwrap_or("?")),
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
            DriftState::Pinned { matches } => format!(
                "{}: model_info.id is pinned in the file{}: key changes cannot be seen by id",
                self.model_name,
                if *matches { "" } else { " and differs from the proxy" }
            ),
            DriftState::Unverifiable { missing } => format!(
                "{}: cannot reproduce the id, {} not set in gatewatch's environment",
                self.model_name,
                missing.join(", ")
            ),
        }
    }
}

fn file_key(d: &ConfigDeployment) -> Option<Fingerprint> {
    d.field("api_key").map(|f| f.fingerprint)
}

fn fp_or_value(f: &ParamField) -> String {
    if f.sensitive { f.fingerprint.to_string() } else { f.shown.clone().unwrap_or_else(|| f.fingerprint.to_string()) }
}

fn explain(
    file: &ConfigDeployment,
    running: &Deployment,
    memory: &MatchMemory,
) -> (Vec<FieldChange>, bool, Option<Fingerprint>) {
    if let Some(old) = memory.deployments.get(&running.id) {
        let mut changes = Vec::new();
        for f in &file.fields {
            match old.fields.iter().find(|o| o.name == f.name) {
                Some(o) if o.fingerprint == f.fingerprint => {}
                Some(o) => changes.push(FieldChange {
                    field: f.name.clone(),
                    sensitive: f.sensitive,
                    running: Some(fp_or_value(o)),
                    file: Some(fp_or_value(f)),
                }),
                None => changes.push(FieldChange {
                    field: f.name.clone(),
                    sensitive: f.sensitive,
                    running: None,
                    file: Some(fp_or_value(f)),
                }),
            }
        }
        for o in &old.fields {
            if !file.fields.iter().any(|f| f.name == o.name) {
                changes.push(FieldChange {
                    field: o.name.clone(),
                    sensitive: o.sensitive,
                    running: Some(fp_or_value(o)),
                    file: None,
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
                running: Some(v.to_owned()),
                file: f.shown.clone(),
            });
        }
    }
    (changes, false, None)
}

/// Compare the file with one replica's deployments.
pub fn compare(cfg: &ProxyConfig, running: &[Deployment], memory: &MatchMemory) -> Vec<DriftRow> {
    let running_ids: HashSet<&str> = running.iter().map(|d| d.id.as_str()).collect();
    let file_ids: HashSet<&str> = cfg.deployments.iter().map(|d| d.id.as_str()).collect();
    let mut used_running: HashSet<&str> = HashSet::new();
    let mut rows = Vec::new();
    for d in &cfg.deployments {
        let base = DriftRow {
            model_name: d.model_name.clone(),
            file_id: Some(d.id.clone()),
            running_id: None,
            state: DriftState::Match,
            file_key: file_key(d),
            running_key: None,
            line: Some(d.line),
        };
        if running_ids.contains(d.id.as_str()) {
            used_running.insert(d.id.as_str());
            let state = if d.declared_id.is_some() { DriftState::Pinned { matches: true } } else { DriftState::Match };
            rows.push(DriftRow { running_id: Some(d.id.clone()), running_key: base.file_key, state, ..base });
            continue;
        }
        // Pair with a running deployment of the same alias that the file does not explain.
        let partner = running.iter().find(|r| {
            r.name == d.model_name
                && !file_ids.contains(r.id.as_str())
                && !used_running.contains(r.id.as_str())
                && !r.db_model
        });
        match partner {
            Some(r) => {
                used_running.insert(r.id.as_str());
                let state = if d.declared_id.is_some() {
                    DriftState::Pinned { matches: false }
                } else if !d.missing_env.is_empty() {
                    DriftState::Unverifiable { missing: d.missing_env.clone() }
                } else {
                    let (changes, explained, running_key) = explain(d, r, memory);
                    rows.push(DriftRow {
                        running_id: Some(r.id.clone()),
                        running_key,
                        state: DriftState::Drift { changes, explained },
                        ..base
                    });
                    continue;
                };
                rows.push(DriftRow { running_id: Some(r.id.clone()), state, ..base });
            }
            None if !d.missing_env.is_empty() => {
                rows.push(DriftRow { state: DriftState::Unverifiable { missing: d.missing_env.clone() }, ..base });
            }
            None => rows.push(DriftRow { state: DriftState::OnlyInConfig, ..base }),
        }
    }
    for r in running {
        if used_running.contains(r.id.as_str()) {
            continue;
        }
        rows.push(DriftRow {
            model_name: r.name.clone(),
            file_id: None,
            running_id: Some(r.id.clone()),
            state: DriftState::OnlyInProxy { db_model: r.db_model },
            file_key: None,
            running_key: None,
            line: None,
        });
    }
    rows
}

/// True when every deployment in the file is loaded with exactly its params.
pub fn all_match(rows: &[DriftRow]) -> bool {
    !rows.is_empty()
        && rows.iter().all(|r| {
            matches!(
                r.state,
                DriftState::Match | DriftState::Pinned { matches: true } | DriftState::OnlyInProxy { db_model: true }
            )
        })
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
                dep.api_base.clone_from(&d.api_base);
                dep.upstream_model.clone_from(&d.upstream_model);
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
}
