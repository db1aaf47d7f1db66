//! How a deployment's `litellm_params` may be shown: secrets by default.
//!
//! A value is shown in clear only when its field is on an allowlist of fields
//! known to be non-secret (the model, its address, limits, timeouts, region
//! names). Every other value — `api_key`, but also `extra_headers`,
//! `aws_secret_access_key`, a JSON `vertex_credentials` string, or any field
//! an operator considers secret — is shown as its fingerprint, and a mapping
//! (`extra_headers: {X-Org-Token: …}`) as one fingerprint per entry, so a
//! drift explanation can name the header that changed without showing it.
//! These fields are what the drift memory file under the state dir stores.

use serde::{Deserialize, Serialize};

use super::pyrepr::id_part;
use super::pyyaml::PyValue;
use crate::secret::Fingerprint;

/// Fields whose values are not secret: shown in clear on screen, in `check`,
/// reports and the memory file. Anything else is a fingerprint.
const CLEAR: &[&str] = &[
    "model",
    "api_base",
    "base_url",
    "api_version",
    "api_type",
    "custom_llm_provider",
    "rpm",
    "tpm",
    "max_parallel_requests",
    "timeout",
    "stream_timeout",
    "stream",
    "max_retries",
    "num_retries",
    "weight",
    "order",
    "tags",
    "drop_params",
    "aws_region_name",
    "region_name",
    "vertex_location",
    "vertex_project",
    "input_cost_per_token",
    "output_cost_per_token",
    "input_cost_per_second",
    "output_cost_per_second",
    "litellm_credential_name",
    "use_in_pass_through",
    "merge_reasoning_content_in_choices",
];

/// Longest value shown in clear.
const SHOWN_MAX: usize = 120;

/// Is this field's value known to be non-secret?
pub fn shown_in_clear(field: &str) -> bool {
    CLEAR.contains(&field)
}

/// One entry of a mapping-valued field (`extra_headers`, `headers`, …): its
/// key (a name, shown) and the fingerprint of its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryFingerprint {
    pub key: String,
    pub fingerprint: Fingerprint,
}

/// One `litellm_params` field of a deployment, as fingerprint (never the value
/// outside the allowlist).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParamField {
    pub name: String,
    pub fingerprint: Fingerprint,
    /// LiteLLM's own masking rule says this field is a secret (for wording).
    pub sensitive: bool,
    /// The value itself, only for allowlisted fields (model, api_base, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shown: Option<String>,
    /// Per-entry fingerprints, for a mapping value.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entries: Vec<EntryFingerprint>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env: Option<String>,
}

impl ParamField {
    /// Build the field for a resolved value.
    pub fn new(name: String, value: &PyValue, env: Option<String>) -> Self {
        let part = id_part(value);
        let shown = shown_in_clear(&name)
            .then(|| crate::secret::mask_key_like(&part).chars().take(SHOWN_MAX).collect::<String>());
        let entries = match value {
            PyValue::Dict(items) if shown.is_none() => items
                .iter()
                .map(|(k, v)| EntryFingerprint {
                    key: super::pyrepr::py_str(k).chars().take(SHOWN_MAX).collect(),
                    fingerprint: Fingerprint::of(&id_part(&v.value)),
                })
                .collect(),
            _ => Vec::new(),
        };
        Self {
            fingerprint: Fingerprint::of(&part),
            sensitive: super::config_file::is_sensitive(&name),
            shown,
            entries,
            env,
            name,
        }
    }

    /// What may be shown of the value: itself when allowlisted, else its fingerprint.
    pub fn display(&self) -> String {
        self.shown.clone().unwrap_or_else(|| self.fingerprint.to_string())
    }

    /// Drop what an older gatewatch stored in clear for a field that is not
    /// allowlisted. Returns whether anything was dropped.
    pub fn scrub(&mut self) -> bool {
        if self.shown.is_some() && !shown_in_clear(&self.name) {
            self.shown = None;
            return true;
        }
        false
    }
}

/// How a mapping-valued field changed, entry by entry (names only, values as fingerprints).
pub fn entry_changes(old: &ParamField, new: &ParamField) -> Vec<String> {
    let mut out = Vec::new();
    for n in &new.entries {
        match old.entries.iter().find(|o| o.key == n.key) {
            Some(o) if o.fingerprint == n.fingerprint => {}
            Some(o) => out.push(format!("{} changed ({} → {})", n.key, o.fingerprint, n.fingerprint)),
            None => out.push(format!("{} added ({})", n.key, n.fingerprint)),
        }
    }
    for o in &old.entries {
        if !new.entries.iter().any(|n| n.key == o.key) {
            out.push(format!("{} removed ({})", o.key, o.fingerprint));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::litellm::pyyaml::load;

    fn field(yaml: &str, name: &str) -> ParamField {
        let root = load(yaml).unwrap();
        ParamField::new(name.to_owned(), &root.get(name).unwrap().value, None)
    }

    #[test]
    fn only_allowlisted_values_are_shown() {
        let y = "model: openai/gpt-4o\napi_base: http://h/v1?key=AIzaSyA1234567890abcdefghijklmnopqrstu\nextra_headers: {X-Org-Token: org-secret-123456, X-Trace: t1}\naws_secret_access_key: wJalrXUtnFEMI/K7MDENG\nvertex_credentials: '{\"private_key\": \"-----BEGIN\"}'\nanything_else: plain\n";
        assert_eq!(field(y, "model").shown.as_deref(), Some("openai/gpt-4o"));
        let base = field(y, "api_base").display();
        assert!(base.starts_with("http://h/v1?key=[key sha256:"), "{base}");
        for name in ["extra_headers", "aws_secret_access_key", "vertex_credentials", "anything_else"] {
            let f = field(y, name);
            assert!(f.shown.is_none(), "{name}");
            assert!(f.display().starts_with("sha256:"), "{name}");
        }
        let h = field(y, "extra_headers");
        assert_eq!(h.entries.len(), 2);
        assert_eq!(h.entries[0].key, "X-Org-Token");
        assert_eq!(h.entries[0].fingerprint, Fingerprint::of("org-secret-123456"));
        let json = serde_json::to_string(&h).unwrap();
        assert!(!json.contains("org-secret"), "{json}");
    }

    #[test]
    fn entry_changes_name_the_header_not_its_value() {
        let a = field("h: {X-Org-Token: old-secret-1, X-Gone: g}\n", "h");
        let b = field("h: {X-Org-Token: new-secret-2, X-New: n}\n", "h");
        let c = entry_changes(&a, &b).join("; ");
        assert!(c.contains("X-Org-Token changed (sha256:"), "{c}");
        assert!(c.contains("X-New added") && c.contains("X-Gone removed"), "{c}");
        assert!(!c.contains("secret"), "{c}");
    }

    #[test]
    fn scrub_drops_clear_values_an_older_version_stored() {
        let mut f = field("extra_headers: {X: v}\n", "extra_headers");
        f.shown = Some("{\"X\": \"v\"}".into());
        assert!(f.scrub());
        assert!(f.shown.is_none());
        let mut m = field("model: m\n", "model");
        assert!(!m.scrub());
    }
}
