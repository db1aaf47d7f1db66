//! The simulated LiteLLM reports ids recorded from LiteLLM's own code
//! (`scripts/record-sim-ids`), never ids computed by gatewatch; these tests
//! keep the recording complete and compare it with gatewatch's algorithm.
//!
//! `GATEWATCH_RECORD_SIM_CONFIGS=1` writes the demo's configs into
//! tests/fixtures/litellm/sim/ (the recorder's input) instead of checking them.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use gatewatch::demo::sim_ids;
use gatewatch::gateway::litellm::config_file;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/litellm/sim")
}

/// The recorder resolves every referenced variable as unset.
fn unset(_: &str) -> Option<String> {
    None
}

fn fixtures() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read_to_string(&p).unwrap()))
        .collect();
    out.sort();
    out
}

#[test]
fn every_demo_config_is_a_recorded_fixture() {
    let record = std::env::var("GATEWATCH_RECORD_SIM_CONFIGS").is_ok_and(|v| v == "1");
    for (name, text) in gatewatch::demo::scenario::config_texts() {
        let path = dir().join(format!("{name}.yaml"));
        if record {
            std::fs::write(&path, &text).unwrap();
            continue;
        }
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert_eq!(on_disk, text, "{} is not the demo's config: run scripts/record-sim-ids", path.display());
    }
}

#[test]
fn every_fixture_has_ids_recorded_from_litellm() {
    let all = fixtures();
    assert!(all.len() >= 6, "{all:?}");
    for (name, text) in all {
        let ids = sim_ids::recorded(&text, &unset).unwrap_or_else(|e| panic!("{name}: {e}"));
        let cfg = config_file::parse(&text, Path::new(&name), &unset).unwrap();
        assert_eq!(ids.len(), cfg.deployments.len(), "{name}");
    }
}

/// The cross-check the simulator used to hide: gatewatch's id algorithm
/// against LiteLLM's, on every recorded config.
#[test]
fn gatewatch_computes_the_ids_litellm_computed() {
    for (name, text) in fixtures() {
        let ids = sim_ids::recorded(&text, &unset).unwrap();
        let cfg = config_file::parse(&text, Path::new(&name), &unset).unwrap();
        for (d, (model, id)) in cfg.deployments.iter().zip(ids) {
            assert_eq!(&d.model_name, model, "{name}");
            assert_eq!(&d.id, id, "{name}: {model}: gatewatch's id differs from LiteLLM's");
        }
    }
}

#[test]
fn an_unrecorded_config_is_refused_with_the_remedy() {
    let text = "model_list:\n  - model_name: never-recorded\n    litellm_params:\n      model: openai/x\n";
    let e = sim_ids::recorded(text, &unset).unwrap_err();
    assert!(e.contains("scripts/record-sim-ids"), "{e}");
    // The environment is part of the key: a recorded config with a variable set differs.
    let stage =
        gatewatch::demo::scenario::config_texts().into_iter().find(|(_, t)| t.contains("os.environ/")).unwrap().1;
    assert!(sim_ids::recorded(&stage, &unset).is_ok());
    assert!(sim_ids::recorded(&stage, &|_| Some("sk-set-now".into())).is_err());
}
