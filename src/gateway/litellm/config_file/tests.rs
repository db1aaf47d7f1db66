//! Parsing the proxy's config as the proxy does: ids captured from the real
//! proxy, the environment, includes, pinned ids, the boot check.

use super::*;

const SHARED: &str = include_str!("../../../../tests/fixtures/litellm/config.yaml");

fn env(name: &str) -> Option<String> {
    match name {
        "THIRD_KEY" => Some("sk-upstream-THIRD-env-9999aaaabbbb".into()),
        _ => None,
    }
}

#[test]
fn reproduces_ids_captured_from_the_real_proxy() {
    let cfg = parse(SHARED, Path::new("config.yaml"), &env).unwrap();
    let ids: Vec<&str> = cfg.deployments.iter().map(|d| d.id.as_str()).collect();
    // model_info.json from LiteLLM 1.106.12 (OLD key), health_stale_key.json.
    assert_eq!(ids[0], "6e90e9de651b7e4b585ebfc8372275b3f0b5e4a8d78b6df6d9629155bbef3781");
    assert_eq!(ids[1], "2075eb5839e903608c84288386ae8c6a19d831744d0460d7cbb572d986ec05c0");
    assert_eq!(ids[2], "97d6eec37df2f1529b81e0c0b41ec63af1a9b0d9aa45d07742d2ca10ec869aa4");
    assert_eq!(cfg.fallbacks, vec![("gpt-4o-mini".to_owned(), vec!["gpt-4o".to_owned()])]);
    assert_eq!(cfg.cache.as_deref(), Some("local"));
    assert!(cfg.master_key.is_safe());
    assert!(cfg.deployments[0].plain_key);
    assert!(!cfg.deployments[2].plain_key);
}

#[test]
fn rotated_key_gives_the_new_id_captured_live() {
    let rotated = SHARED.replace("sk-upstream-OLD-1234567890abcd", "sk-upstream-NEW-0987654321wxyz");
    let cfg = parse(&rotated, Path::new("config.yaml"), &env).unwrap();
    assert!(cfg.deployments[0].id.starts_with("63ef5b64"));
    assert!(cfg.deployments[0].id.ends_with("678b"));
}

fn whole(vars: &[(&str, &str)]) -> ProxyEnv {
    ProxyEnv::whole(EnvSource::File("/etc/litellm/proxy.env".into()), vars)
}

#[test]
fn a_name_missing_from_gatewatch_is_unknown_missing_from_the_proxy_is_none() {
    // Own environment: the proxy may have it; the id cannot be reproduced.
    let cfg = parse(SHARED, Path::new("config.yaml"), &|_| None).unwrap();
    let d = &cfg.deployments[2];
    assert_eq!(d.unknown_env.len(), 1);
    assert_eq!(d.unknown_env[0].0, "THIRD_KEY");
    assert!(!d.id_is_exact());
    assert!(cfg.env_refs.iter().any(|r| r.name == "THIRD_KEY" && !r.set && r.unknown.is_some()));
    assert!(!cfg.env.whole);
    // The proxy's whole environment lacks it: hashed as None, exactly as the proxy does.
    let cfg = parse_in(SHARED, Path::new("config.yaml"), &whole(&[]), &include::read_file).unwrap();
    let d = &cfg.deployments[2];
    assert!(d.unknown_env.is_empty() && d.id_is_exact());
    assert_eq!(d.unset_env, ["THIRD_KEY"]);
    // bdbe0485… is the id of the unresolved reference; None gives another one.
    assert_ne!(d.id, "97d6eec37df2f1529b81e0c0b41ec63af1a9b0d9aa45d07742d2ca10ec869aa4");
    let cfg = parse_in(
        SHARED,
        Path::new("config.yaml"),
        &whole(&[("THIRD_KEY", "sk-upstream-THIRD-env-9999aaaabbbb")]),
        &include::read_file,
    )
    .unwrap();
    assert_eq!(cfg.deployments[2].id, "97d6eec37df2f1529b81e0c0b41ec63af1a9b0d9aa45d07742d2ca10ec869aa4");
}

#[test]
fn environment_variables_come_too_late_for_model_list() {
    // Ids from LiteLLM's own Router.generate_model_id (1.106.12), and the
    // real proxy's /model/info for the same file (tests/litellm_env_real.rs).
    let text = "model_list:\n  - model_name: main-a\n    litellm_params:\n      model: openai/gpt-4o\n      api_base: http://127.0.0.1:9/v1\n      api_key: os.environ/ONLY_IN_ENVVARS\nenvironment_variables:\n  ONLY_IN_ENVVARS: sk-from-envvars-section-123\n";
    let cfg = parse_in(text, Path::new("c.yaml"), &whole(&[]), &include::read_file).unwrap();
    let d = &cfg.deployments[0];
    assert_eq!(d.id, "b878dcb17f0abb781449a130edd628f35e643e971476f41f647d9824cf4c2ccb");
    assert_eq!(d.unset_env, ["ONLY_IN_ENVVARS"]);
    assert!(cfg.env_refs.iter().any(|r| r.name == "ONLY_IN_ENVVARS" && r.late_only));
    // The master-key fallback is read later, with the section applied.
    let text = "environment_variables:\n  LITELLM_MASTER_KEY: sk-from-section-42\n";
    let cfg = parse_in(text, Path::new("c.yaml"), &whole(&[]), &include::read_file).unwrap();
    assert!(cfg.master_key.is_safe(), "{:?}", cfg.master_key);
}

#[test]
fn pinned_and_random_ids() {
    let text = "model_list:\n  - model_name: p\n    litellm_params: {model: x, api_key: k1}\n    model_info: {id: my-pinned-id}\n  - model_name: r\n    litellm_params: {model: x}\n    model_info: {id: null}\n";
    let cfg = parse(text, Path::new("c.yaml"), &|_| None).unwrap();
    assert_eq!(cfg.deployments[0].id_kind, IdKind::Pinned("my-pinned-id".into()));
    assert_eq!(cfg.deployments[0].id, "my-pinned-id");
    assert_eq!(cfg.deployments[1].id_kind, IdKind::Random);
    assert!(cfg.deployment_by_id("").is_none());
}

#[test]
fn included_deployments_keep_their_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::write(dir.path().join("sub/models.yaml"), "# models\nmodel_list:\n  - model_name: inc\n    litellm_params: {model: openai/gpt-4o-mini, api_base: http://127.0.0.1:9/v1, api_key: sk-included-key-2222}\n").unwrap();
    let root = dir.path().join("config.yaml");
    std::fs::write(&root, "include:\n  - sub/models.yaml\nmodel_list: []\n").unwrap();
    let cfg = load_in(&root, &whole(&[])).unwrap();
    let d = &cfg.deployments[0];
    assert_eq!(d.file, dir.path().join("sub/models.yaml"));
    assert_eq!(d.line, 3);
    // The real proxy's id for it (same as if written in the main file).
    let inline = parse("model_list:\n  - model_name: inc\n    litellm_params: {model: openai/gpt-4o-mini, api_base: http://127.0.0.1:9/v1, api_key: sk-included-key-2222}\n", Path::new("c.yaml"), &|_| None).unwrap();
    assert_eq!(d.id, inline.deployments[0].id);
    assert_eq!(cfg.files.len(), 2);
    std::fs::remove_file(dir.path().join("sub/models.yaml")).unwrap();
    let e = load_in(&root, &whole(&[])).unwrap_err().to_string();
    assert!(e.contains("config.yaml:2: field `include`") && e.contains("sub/models.yaml"), "{e}");
}

#[test]
fn master_key_boot_check() {
    let k = |t: &str| parse(t, Path::new("c.yaml"), &|_| None).unwrap().master_key;
    assert!(matches!(k("general_settings:\n  master_key: sk-1234\n"), MasterKeyVerdict::PubliclyKnown { .. }));
    assert!(matches!(k("general_settings:\n  master_key: ' '\n"), MasterKeyVerdict::Empty { .. }));
    assert!(matches!(k("model_list: []\n"), MasterKeyVerdict::Unknown { .. }));
    assert!(matches!(k("general_settings:\n  master_key: os.environ/MK\n"), MasterKeyVerdict::Unknown { .. }));
    let c = parse_in(
        "general_settings:\n  master_key: os.environ/MK\n",
        Path::new("c.yaml"),
        &whole(&[]),
        &include::read_file,
    )
    .unwrap();
    assert!(matches!(c.master_key, MasterKeyVerdict::NotSet { .. }));
    assert_eq!(c.boot_problems().len(), 1);
    let c = parse(
        "general_settings:\n  master_key: sk-1234\n  dangerously_permit_weak_or_unset_master_key: true\n",
        Path::new("c.yaml"),
        &|_| None,
    )
    .unwrap();
    assert!(c.boot_problems().is_empty());
}

#[test]
fn a_model_name_that_is_not_a_string_stops_the_proxy() {
    let text = "model_list:\n  - model_name: 123\n    litellm_params: {model: x}\n  - model_name: os.environ/N\n    litellm_params: {model: y}\n  - model_name: '123'\n    litellm_params: {model: z}\ngeneral_settings: {master_key: sk-x-123456}\n";
    let c = parse_in(text, Path::new("c.yaml"), &whole(&[]), &include::read_file).unwrap();
    let p = c.boot_problems();
    assert_eq!(p.len(), 2, "{p:?}");
    assert!(p[0].contains("line 2") && p[0].contains("model_list[0].model_name is 123"), "{p:?}");
    assert!(p[1].contains("model_list[1].model_name is None"), "{p:?}");
    assert_eq!(c.deployments[1].unset_env, ["N"]);
    // Unset in gatewatch's own environment only: the proxy may have it.
    let c = parse(text, Path::new("c.yaml"), &|_| None).unwrap();
    assert_eq!(c.boot_problems().len(), 1);
    let c = parse(text, Path::new("c.yaml"), &|_| Some("from-env".into())).unwrap();
    assert_eq!(c.boot_problems().len(), 1);
    assert_eq!(c.deployments[1].model_name, "from-env");
}

#[test]
fn errors_name_line_and_field() {
    let e = parse("model_list:\n  - model_name: a\n    litellm_params: 3\n", Path::new("c.yaml"), &|_| None)
        .unwrap_err()
        .to_string();
    assert_eq!(e, "c.yaml:3: field `model_list[0].litellm_params`: must be a mapping");
    let e = parse("model_list:\n  - model_name: a\n    litellm_params: {model: [\n", Path::new("c.yaml"), &|_| None)
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("c.yaml:"), "{e}");
}

#[test]
fn sensitive_field_rule_matches_litellm() {
    assert!(is_sensitive("api_key"));
    assert!(is_sensitive("aws_secret_access_key"));
    assert!(is_sensitive("x-api-key"));
    assert!(!is_sensitive("input_cost_per_token"));
    assert!(!is_sensitive("api_base"));
    assert!(!is_sensitive("model"));
}
