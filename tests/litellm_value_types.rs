//! gatewatch's deployment ids vs the ids a real LiteLLM Proxy 1.106.12 gave
//! `tests/fixtures/litellm/config_value_types.yaml` (captured in
//! `ids_value_types.json` by `tests/litellm_real.rs`). No proxy needed: this
//! runs in every `cargo test`.

use std::collections::BTreeMap;
use std::path::Path;

use gatewatch::gateway::litellm::config_file;

const CONFIG: &str = include_str!("fixtures/litellm/config_value_types.yaml");
const IDS: &str = include_str!("fixtures/litellm/ids_value_types.json");

#[derive(serde::Deserialize)]
struct Captured {
    litellm_version: String,
    env: BTreeMap<String, String>,
    unset: Vec<String>,
    deployments: Vec<CapturedId>,
}

#[derive(serde::Deserialize)]
struct CapturedId {
    model_name: String,
    id: String,
}

#[test]
fn computed_ids_equal_the_ids_the_real_proxy_reported() {
    let captured: Captured = serde_json::from_str(IDS).unwrap();
    assert_eq!(captured.litellm_version, "1.106.12");
    for name in &captured.unset {
        assert!(!captured.env.contains_key(name), "{name} is both set and unset in the fixture");
    }
    let env = |name: &str| captured.env.get(name).cloned();
    let cfg = config_file::parse(CONFIG, Path::new("config_value_types.yaml"), &env).unwrap();
    let computed: Vec<(&str, &str)> = cfg.deployments.iter().map(|d| (d.model_name.as_str(), d.id.as_str())).collect();
    let real: Vec<(&str, &str)> = captured.deployments.iter().map(|d| (d.model_name.as_str(), d.id.as_str())).collect();
    assert_eq!(computed.len(), real.len(), "deployment count: computed {computed:?}\nreal {real:?}");
    let wrong: Vec<String> = computed
        .iter()
        .zip(&real)
        .filter(|(c, r)| c != r)
        .map(|(c, r)| format!("{}: gatewatch {} / proxy {} ({})", r.0, c.1, r.1, c.0))
        .collect();
    assert!(wrong.is_empty(), "ids differ from the real proxy:\n{}", wrong.join("\n"));
}

#[test]
fn the_fixture_exercises_what_it_claims() {
    // Guard against a fixture that silently lost its hard cases.
    let captured: Captured = serde_json::from_str(IDS).unwrap();
    assert!(captured.deployments.len() >= 18, "{}", captured.deployments.len());
    for needle in [
        "1e16",
        "0x1F",
        "017",
        "yes",
        "~",
        "2024-01-05",
        "os.environ/VT_UNSET",
        "<<: *base",
        "模型",
        ".nan",
        "model_name: os.environ/VT_NAME",
        "id: os.environ/VT_PINNED",
    ] {
        assert!(CONFIG.contains(needle), "config_value_types.yaml lost {needle}");
    }
    let ids: std::collections::HashSet<&str> = captured.deployments.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids.len(), captured.deployments.len(), "duplicate ids in the fixture");
    let pinned = captured.deployments.iter().find(|d| d.model_name == "vt-pinned-int").unwrap();
    assert_eq!(pinned.id, "12345");
}
