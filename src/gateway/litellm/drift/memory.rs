//! The per-field fingerprints of the deployments a proxy was last seen to
//! match (the drift memory file under the state dir): what lets drift say
//! which field changed. Fingerprints only; values in clear only for the
//! allowlisted fields (see [`crate::gateway::litellm::params`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::gateway::litellm::config_file::{ParamField, ProxyConfig};
use crate::secret::Fingerprint;

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
    /// Record the config's deployments (they matched a replica). Only
    /// deployments whose id proves their params are remembered. Returns
    /// whether anything changed.
    pub fn remember(&mut self, cfg: &ProxyConfig, now: i64) -> bool {
        let mut changed = false;
        for d in cfg.deployments.iter().filter(|d| d.id_is_exact()) {
            let entry =
                RememberedDeployment { model_name: d.model_name.clone(), fields: d.fields.clone(), seen_at: now };
            match self.deployments.get(d.id.as_str()) {
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

    /// Drop values an older gatewatch stored in clear outside the allowlist.
    /// Returns whether anything was dropped (the file should be rewritten).
    pub fn scrub(&mut self) -> bool {
        let mut dropped = false;
        for d in self.deployments.values_mut() {
            for f in &mut d.fields {
                dropped |= f.scrub();
            }
        }
        dropped
    }
}
