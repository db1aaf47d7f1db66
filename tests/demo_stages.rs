//! Every staged incident of the demo makes its check fire, through the real
//! adapter, poller and checks (the demo is how a newcomer sees each pitfall).

#![allow(clippy::unwrap_used, clippy::default_trait_access, clippy::print_stderr)]

mod common;

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
    let dynamic: Arc<dyn Gateway> = gw.clone();
    let mut memory = MatchMemory::default();
    let report = poller::cycle(&dynamic, 0, &mut memory, None, None).await;
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

/// Every node the operator sees for a gateway, with its symbol and what
/// answers it: `✗ reach-proxy-page [gateway-reachable#proxy-page ✗]`.
fn node_table(ev: &evidence::Evidence, tree: &gatewatch::triage::Tree, kind: GatewayKind) -> String {
    let mut out = String::new();
    fn walk(ev: &evidence::Evidence, tree: &gatewatch::triage::Tree, kind: GatewayKind, i: usize, out: &mut String) {
        let n = &tree.nodes[i];
        if !n.applies(kind) {
            return;
        }
        let nv = ev.node(tree, i, kind);
        let refs: Vec<String> = n.checks.iter().map(|r| format!("{r} {}", ev.reference(r).0.symbol())).collect();
        out.push_str(&format!(
            "{}{} {} [{}]{}\n",
            "  ".repeat(n.depth),
            if n.unanswerable() { "·" } else { nv.verdict.symbol() },
            n.id,
            refs.join(", "),
            nv.coverage().map(|c| format!(" ({c})")).unwrap_or_default()
        ));
        for &c in &n.children {
            walk(ev, tree, kind, c, out);
        }
    }
    for &r in &tree.roots {
        walk(ev, tree, kind, r, &mut out);
    }
    out
}

/// The roll-up rule on every node: ✓ only when every part that applies is
/// answered and passes; ✗/! when some part fails/warns; otherwise ?.
fn assert_rollup(ev: &evidence::Evidence, tree: &gatewatch::triage::Tree, kind: GatewayKind, stage: &str) {
    for (i, n) in tree.nodes.iter().enumerate() {
        if !n.applies(kind) || n.unanswerable() {
            continue;
        }
        let mut parts: Vec<Verdict> = n.checks.iter().map(|r| ev.reference(r).0).collect();
        parts.extend(n.children.iter().map(|&c| ev.node(tree, c, kind).verdict));
        parts.retain(|v| *v != Verdict::NotApplicable);
        let v = ev.node(tree, i, kind).verdict;
        let why = format!("{stage}: {} is {v:?} from {parts:?}", n.id);
        match v {
            Verdict::Ok => assert!(parts.iter().all(|p| *p == Verdict::Ok) && !parts.is_empty(), "{why}"),
            Verdict::Fail => assert!(parts.contains(&Verdict::Fail), "{why}"),
            Verdict::Warn => assert!(parts.contains(&Verdict::Warn) && !parts.contains(&Verdict::Fail), "{why}"),
            Verdict::Unknown => {
                assert!(parts.contains(&Verdict::Unknown) && !parts.iter().any(|p| p.points_here()), "{why}");
            }
            Verdict::NotApplicable => assert!(parts.is_empty(), "{why}"),
        }
    }
}

/// Every node of the built-in tree, for each staged incident, the New API
/// demo and a gateway nobody answers on: the symbols (reviewed in the
/// snapshot) and the roll-up rule.
#[tokio::test(flavor = "multi_thread")]
async fn every_node_is_justified_by_its_own_evidence() {
    let tree = gatewatch::triage::load::load(None).unwrap();
    let mut all = String::new();
    for i in 0..6 {
        let (o, _, _, _t) = staged(i).await;
        let ev = evidence::evaluate(&o, SystemTime::now());
        assert_rollup(&ev, &tree, GatewayKind::LiteLlm, &format!("stage {}", i + 1));
        all.push_str(&format!("== LiteLLM demo stage {}\n{}", i + 1, node_table(&ev, &tree, GatewayKind::LiteLlm)));
    }
    // New API demo.
    let mut fleet = gatewatch::fleet::Fleet::new(&[]);
    let (spec, report) = common_newapi().await;
    fleet.gateways.push(GatewayObs::new(spec));
    fleet.apply_poll(report);
    let ev = evidence::evaluate(&fleet.gateways[0], SystemTime::now());
    assert_rollup(&ev, &tree, GatewayKind::NewApi, "newapi demo");
    all.push_str(&format!("== New API demo\n{}", node_table(&ev, &tree, GatewayKind::NewApi)));
    // Nothing listens where the gateway should be.
    let mut spec = GatewaySpec::new("down", GatewayKind::LiteLlm, "http://127.0.0.1:9");
    spec.timeout = Duration::from_millis(500);
    let gw: Arc<dyn Gateway> = Arc::new(LiteLlm::with_key(spec.clone(), Some(Secret::new(DEMO_MASTER_KEY))));
    let report = poller::cycle(&gw, 0, &mut MatchMemory::default(), None, None).await;
    let mut obs = GatewayObs::new(spec);
    obs.apply_poll(report, &mut Timeline::default(), 0);
    let ev = evidence::evaluate(&obs, SystemTime::now());
    assert_rollup(&ev, &tree, GatewayKind::LiteLlm, "unreachable");
    let table = node_table(&ev, &tree, GatewayKind::LiteLlm);
    // The cases: refused is not an HTML page; nothing about keys is ✓ when nothing answers.
    assert!(table.contains("✗ reach-down"), "{table}");
    assert!(table.contains("✓ reach-proxy-page"), "{table}");
    assert!(table.contains("? p3-stale-key"), "{table}");
    assert!(table.contains("? p3-replicas"), "{table}");
    all.push_str(&format!("== LiteLLM, nothing listening\n{table}"));
    insta::assert_snapshot!("node_verdicts", all);
}

async fn common_newapi() -> (GatewaySpec, gatewatch::fleet::PollReport) {
    common::newapi_report(0).await
}

/// A case mismatch and a dot/dash mismatch are not a provider-prefix problem.
#[tokio::test(flavor = "multi_thread")]
async fn a_node_is_not_red_because_a_sibling_question_failed() {
    let tree = gatewatch::triage::load::load(None).unwrap();
    let (mut o, _, _, _t) = staged(1).await;
    o.typed_models = vec!["GPT-4o".into(), "claude-3-5-sonnet".into()];
    let ev = evidence::evaluate(&o, SystemTime::now());
    let node = |id: &str| ev.node(&tree, tree.position(id).unwrap(), GatewayKind::LiteLlm).verdict;
    assert_eq!(node("p1-alias"), Verdict::Fail, "{:?}", ev.get("model-name-mismatch"));
    assert_eq!(node("p1-prefix"), Verdict::Ok);
    // The deployment's own provider/model string: served, but only by accident.
    o.typed_models.push("openai/gpt-4o-mini".into());
    let ev = evidence::evaluate(&o, SystemTime::now());
    assert_eq!(ev.node(&tree, tree.position("p1-prefix").unwrap(), GatewayKind::LiteLlm).verdict, Verdict::Warn);
    assert!(ev.reference("model-name-mismatch#prefix").1.contains("not an alias"));
    // A prefix on a name the gateway serves bare: on the wrong side.
    o.typed_models.push("anthropic/gpt-4o".into());
    let ev = evidence::evaluate(&o, SystemTime::now());
    assert_eq!(ev.node(&tree, tree.position("p1-prefix").unwrap(), GatewayKind::LiteLlm).verdict, Verdict::Fail);
}

/// A probe's finding stops counting after an action on the gateway, a
/// change of its config file, or its time to live: the tree shows "?".
#[tokio::test(flavor = "multi_thread")]
async fn probe_results_go_stale() {
    let tree = gatewatch::triage::load::load(None).unwrap();
    let p2_live = tree.position("p2-live").unwrap();
    let (mut o, gw, _, _t) = staged(0).await;
    let alias = "deepseek-chat".to_owned();
    let AdminResult::Route(r) = gw
        .admin(&ReplicaTarget { index: 0, url: o.spec.url.clone() }, &AdminOp::TinyCompletion { model: alias.clone() })
        .await
        .unwrap()
    else {
        panic!()
    };
    let probed = SystemTime::now();
    o.routes = vec![(probed, alias, r)];
    let fresh = evidence::evaluate(&o, probed);
    let live = fresh.get("fallback-live").unwrap();
    assert_eq!(live.verdict, Verdict::Fail, "{live:?}");
    assert_eq!(fresh.node_verdict(&tree, p2_live, GatewayKind::LiteLlm), Verdict::Fail);

    // After a restart of this gateway.
    o.changed_at = Some(probed + Duration::from_secs(5));
    let after = evidence::evaluate(&o, probed + Duration::from_secs(6));
    let f = after.get("fallback-live").unwrap();
    assert_eq!(f.verdict, Verdict::Unknown);
    assert!(f.summary.contains("stale") && f.summary.contains("action"), "{}", f.summary);
    assert_eq!(after.node_verdict(&tree, p2_live, GatewayKind::LiteLlm), Verdict::Unknown);

    // Older than its time to live.
    o.changed_at = None;
    let late = evidence::evaluate(&o, probed + o.spec.probe_ttl + Duration::from_secs(1));
    assert!(late.get("fallback-live").unwrap().summary.contains("older than"), "{late:?}");
}
