//! Every staged incident of the demo makes its check fire, through the real
//! adapter, poller and checks (the demo is how a newcomer sees each pitfall).

#![allow(clippy::unwrap_used, clippy::default_trait_access, clippy::print_stderr)]

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use gatewatch::config::{GatewayKind, GatewaySpec};
use gatewatch::demo::litellm_sim::{LiteLlmState, SimProxy};
use gatewatch::demo::scenario::LiteLlmStages;
use gatewatch::demo::{DEMO_MASTER_KEY, OLD_KEY, litellm_config};
use gatewatch::fleet::GatewayObs;
use gatewatch::gateway::litellm::LiteLlm;
use gatewatch::gateway::litellm::drift::MatchMemory;
use gatewatch::gateway::{AdminOp, AdminResult, Gateway, ReplicaTarget};
use gatewatch::poller;
use gatewatch::secret::Secret;
use gatewatch::timeline::Timeline;
use gatewatch::triage::evidence::{self, Verdict};
use tokio_util::sync::CancellationToken;

async fn staged(i: usize) -> (GatewayObs, Arc<LiteLlm>, String, tempfile::TempDir) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_owned();
    let cfg = dir.join("config.yaml");
    std::fs::write(&cfg, litellm_config(OLD_KEY)).unwrap();
    let st = LiteLlmState::boot(cfg.clone(), DEMO_MASTER_KEY.into()).unwrap();
    let sim = SimProxy::start(st, 0, CancellationToken::new()).await.unwrap();
    let stages = LiteLlmStages::new(sim.clone(), cfg.clone(), dir.join("nginx.conf"));
    let stage = stages.apply(i).unwrap();
    // As in the demo: clients go through the front door, the proxy itself is the replica.
    let front = gatewatch::demo::front::serve(sim.clone(), CancellationToken::new()).await.unwrap();
    let mut spec = GatewaySpec::new("litellm-demo", GatewayKind::LiteLlm, format!("http://{front}"));
    spec.replicas = vec![sim.url()];
    spec.config_file = Some(cfg);
    spec.nginx_config = Some(dir.join("nginx.conf"));
    spec.timeout = Duration::from_secs(2);
    let gw = Arc::new(LiteLlm::with_key(spec.clone(), Some(Secret::new(DEMO_MASTER_KEY))));
    let mut memory = MatchMemory::default();
    let report = poller::cycle(gw.as_ref(), 0, &mut memory, None).await;
    let mut obs = GatewayObs::new(spec);
    obs.typed_models = stage.client_models;
    obs.apply_poll(report, &mut Timeline::default(), 0);
    (obs, gw, sim.url(), tmp)
}

fn verdict(obs: &GatewayObs, check: &str) -> Verdict {
    evidence::evaluate(obs, SystemTime::now()).get(check).unwrap().verdict
}

#[tokio::test(flavor = "multi_thread")]
async fn each_stage_fires_its_check() {
    let (o, _, _, _t) = staged(0).await;
    assert_eq!(verdict(&o, "key-drift"), Verdict::Fail);
    assert_eq!(verdict(&o, "fallback-cost"), Verdict::Fail);
    assert_eq!(verdict(&o, "model-name-mismatch"), Verdict::Ok);
    assert_eq!(verdict(&o, "restart-preflight"), Verdict::Ok);
    assert_eq!(verdict(&o, "nginx-lint"), Verdict::Ok);

    let (o, _, _, _t) = staged(1).await;
    assert_eq!(verdict(&o, "model-name-mismatch"), Verdict::Fail);
    assert_eq!(verdict(&o, "key-drift"), Verdict::Ok);

    let (o, _, _, _t) = staged(2).await;
    assert_eq!(verdict(&o, "retries-multiplier"), Verdict::Warn);
    assert_eq!(verdict(&o, "health-check-cost"), Verdict::Warn);

    let (mut o, gw, replica, _t) = staged(3).await;
    assert_eq!(verdict(&o, "nginx-lint"), Verdict::Fail);
    let front = o.spec.url.clone();
    let probe = AdminOp::StreamProbe { model: "gpt-4o".into(), direct: Some(replica.clone()) };
    let AdminResult::Stream(s) = gw.admin(&ReplicaTarget { index: 0, url: front }, &probe).await.unwrap() else {
        panic!()
    };
    assert!(!s.done_marker && !s.last_chunk_complete_json, "cut through the front door: {s:?}");
    let direct = s.direct.as_deref().unwrap();
    assert!(direct.done_marker && direct.last_chunk_complete_json, "whole straight to the proxy: {direct:?}");
    o.stream = Some((SystemTime::now(), "gpt-4o".into(), s));
    let f = evidence::evaluate(&o, SystemTime::now()).get("stream-probe").unwrap().clone();
    assert_eq!(f.verdict, Verdict::Fail);
    assert!(f.summary.contains("proxy in front"), "{}", f.summary);

    let (o, _, _, _t) = staged(4).await;
    assert_eq!(verdict(&o, "restart-preflight"), Verdict::Fail);
    assert_eq!(verdict(&o, "master-key"), Verdict::Fail);

    let (o, _, _, _t) = staged(5).await;
    assert_eq!(verdict(&o, "master-key"), Verdict::Fail);
    assert_eq!(verdict(&o, "plain-keys-in-git"), Verdict::Warn);
    let ui = evidence::evaluate(&o, SystemTime::now());
    assert!(ui.get("admin-ui-exposed").unwrap().facts.iter().any(|f| f.contains("/ui/")));
}
