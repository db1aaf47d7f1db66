//! The deployment ids the simulated LiteLLM reports, recorded from LiteLLM's
//! own code (`scripts/record-sim-ids` runs the proxy's `ProxyConfig.load_config`
//! on every config the simulator may load), never computed by gatewatch.
//! So a wrong id algorithm in gatewatch breaks the demo and its tests instead
//! of agreeing with itself.
//!
//! The table is keyed by the config text and the values of the variables it
//! references (`os.environ/NAME`): a config or environment that was never
//! recorded is refused with the command that records it.

use std::collections::HashMap;
use std::sync::OnceLock;

use sha2::{Digest, Sha256};

use crate::gateway::litellm::config_file::EnvLookup;

/// `{key: [[model_name, id], …]}`, in model_list order.
const TABLE: &str = include_str!("litellm_ids.json");

type Table = HashMap<String, Vec<(String, String)>>;

fn table() -> &'static Table {
    static T: OnceLock<Table> = OnceLock::new();
    T.get_or_init(|| serde_json::from_str(TABLE).unwrap_or_default())
}

/// The names a config references as `os.environ/NAME`, sorted, once each.
pub fn env_names(text: &str) -> Vec<String> {
    let mut names: Vec<String> = text
        .match_indices("os.environ/")
        .map(|(i, m)| {
            text[i + m.len()..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect::<String>()
        })
        .filter(|n| !n.is_empty())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The table key: SHA-256 of the text, a NUL, then `NAME=value` (or
/// `NAME unset`) per referenced variable, one per line. The Python recorder
/// computes the same.
pub fn key(text: &str, env: EnvLookup<'_>) -> String {
    let mut h = Sha256::new();
    h.update(text.as_bytes());
    h.update([0u8]);
    let lines: Vec<String> = env_names(text)
        .into_iter()
        .map(|n| match env(&n) {
            Some(v) => format!("{n}={v}"),
            None => format!("{n} unset"),
        })
        .collect();
    h.update(lines.join("\n").as_bytes());
    hex::encode(h.finalize())
}

/// The ids LiteLLM computed for this config, in model_list order.
pub fn recorded(text: &str, env: EnvLookup<'_>) -> Result<&'static [(String, String)], String> {
    let k = key(text, env);
    table().get(&k).map(Vec::as_slice).ok_or_else(|| {
        format!(
            "the simulator has no ids recorded from LiteLLM for this config (key {}); add it under tests/fixtures/litellm/sim/ and run scripts/record-sim-ids",
            &k[..12]
        )
    })
}
