//! The benchmark scenario, built once per bench binary: 5,000 New API
//! channels as the simulator serves them (50 pages of 100, captured over
//! loopback HTTP at setup) and 500 LiteLLM deployments (a generated
//! config.yaml, and a `/model/info` answer shaped like
//! tests/fixtures/litellm/model_info.json whose ids are the ones LiteLLM
//! computes for that file).
#![allow(dead_code, clippy::unwrap_used, clippy::missing_panics_doc, clippy::print_stderr)]

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use gatewatch::app::{App, Msg};
use gatewatch::config::{Config, GatewayKind, GatewaySpec};
use gatewatch::demo::newapi_sim::{self, DEMO_ACCESS_TOKEN, NewApiState};
use gatewatch::fleet::{LocalView, PollReport};
use gatewatch::gateway::http::RawResponse;
use gatewatch::gateway::litellm::api::ModelInfoResponse;
use gatewatch::gateway::litellm::config_file::{self, ProxyConfig};
use gatewatch::gateway::litellm::drift::MatchMemory;
use gatewatch::gateway::newapi::answer::{self, Sent};
use gatewatch::gateway::newapi::api::{Envelope, ListData};
use gatewatch::gateway::newapi::channel::Flavor;
use gatewatch::gateway::newapi::list::{Collector, PAGE_SIZE};
use gatewatch::gateway::{
    self, AuthState, CacheState, Deployment, GatewayError, Readiness, ReplicaSnapshot, RouterSettings, Section,
};
use gatewatch::triage::{Tree, load};
use gatewatch::ui::{self, Theme};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use reqwest::StatusCode;
use tokio_util::sync::CancellationToken;

pub const CHANNELS: usize = 5_000;
pub const DEPLOYMENTS: usize = 500;
pub const NEWAPI_URL: &str = "http://127.0.0.1:3000";
pub const LITELLM_URL: &str = "http://127.0.0.1:4000";
pub const CONFIG_PATH: &str = "/etc/litellm/config.yaml";
pub const W: u16 = 200;
pub const H: u16 = 60;
/// Every `STALE`-th deployment runs an old key: the file and the proxy drift there.
const STALE: usize = 50;

pub fn t0() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_777_400_000)
}

pub fn theme() -> Theme {
    Theme { color: true }
}

pub fn key(c: char) -> Msg {
    Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

pub fn code(c: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(c, KeyModifiers::NONE))
}

/// What gatewatch sends to the simulator (for `answer::check`'s hints).
pub fn sent() -> Sent {
    Sent {
        credential_env: "NEW_API_ACCESS_TOKEN".into(),
        token: true,
        user: Some("1".into()),
        user_source: "user_id in gatewatch's config".into(),
    }
}

/// The 50 page answers of `GET /api/channel/?p=N&page_size=100&id_sort=true`
/// from the simulator holding `n` channels (status, headers and body as received).
pub fn newapi_pages(n: usize) -> Vec<RawResponse> {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    rt.block_on(async {
        let mut state = NewApiState::with_channels(n);
        state.rate_limit = None;
        let cancel = CancellationToken::new();
        let addr = newapi_sim::serve(Arc::new(Mutex::new(state)), cancel.clone()).await.unwrap();
        let http = reqwest::Client::new();
        let mut pages = Vec::new();
        for p in 1..=n.div_ceil(PAGE_SIZE).max(1) {
            let path = format!("/api/channel/?p={p}&page_size={PAGE_SIZE}&id_sort=true");
            let r = http
                .get(format!("http://{addr}{path}"))
                .header("Authorization", format!("Bearer {DEMO_ACCESS_TOKEN}"))
                .header("New-Api-User", "1")
                .send()
                .await
                .unwrap();
            let status = r.status();
            let headers = r.headers().clone();
            let body = r.bytes().await.unwrap().to_vec();
            assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
            pages.push(RawResponse { status, headers, body, elapsed: Duration::ZERO, path });
        }
        cancel.cancel();
        pages
    })
}

/// The adapter's parsing path for a full channel read (`list::read_all`
/// without the HTTP): envelope check, JSON decode, de-duplicating collect.
pub fn parse_newapi_pages(pages: Vec<RawResponse>) -> Result<Vec<Deployment>, GatewayError> {
    let sent = sent();
    let mut col: Option<Collector> = None;
    for resp in pages {
        let resp = answer::check(resp, &sent)?;
        let ListData::Page(page) = resp.json::<Envelope<ListData>>()?.data else {
            panic!("the simulator answers New API pages");
        };
        let total = usize::try_from(page.total.unwrap_or(0)).unwrap_or(0);
        let c = col.get_or_insert_with(|| Collector::new(Flavor::NewApi, total));
        c.add(page.items.unwrap_or_default());
    }
    Ok(col.map(|c| c.finish(Vec::new()).deployments).unwrap_or_default())
}

/// A New API snapshot as `NewApi::poll` assembles it.
pub fn newapi_snapshot(deployments: Vec<Deployment>) -> ReplicaSnapshot {
    let mut s = ReplicaSnapshot::new(Duration::from_millis(3));
    s.version = Some("v0.9.0-sim".into());
    s.started_at = Some(1_777_300_000);
    s.auth = AuthState::Ok;
    s.readiness = Section::Ok(Readiness { status: "running".into(), db: Some("ok".into()), cache: None });
    s.router = Section::Unavailable("New API has no fallback chains".into());
    s.cache = Section::Unavailable("New API has no response cache".into());
    s.served_models = Section::Ok(gateway::newapi::served(&deployments));
    s.deployments = Section::Ok(deployments.into());
    s.requests = 52;
    s
}

pub fn env(name: &str) -> Option<String> {
    name.strip_prefix("KEY_").map(|n| format!("sk-upstream-env-{n}-0123456789abcdef"))
}

const MODELS: [(&str, &str); 5] = [
    ("gpt-4o", "openai/gpt-4o"),
    ("gpt-4o-mini", "openai/gpt-4o-mini"),
    ("claude-sonnet", "anthropic/claude-sonnet-4-5"),
    ("gemini-pro", "gemini/gemini-2.5-pro"),
    ("deepseek", "deepseek/deepseek-chat"),
];

/// A LiteLLM config.yaml with `n` deployments over `n / 5` aliases. With
/// `stale`, every `STALE`-th deployment holds its old key (what the running
/// proxy loaded before the file was edited).
pub fn litellm_config(n: usize, stale: bool) -> String {
    let mut out = String::from("model_list:\n");
    for i in 0..n {
        let (family, model) = MODELS[i % MODELS.len()];
        let key = if i % 5 == 0 {
            format!("os.environ/KEY_{i}")
        } else if stale && i % STALE == 1 {
            format!("sk-upstream-OLD-{i:04}-aaaabbbbcccc")
        } else {
            format!("sk-upstream-{i:04}-ddddeeeeffff")
        };
        out.push_str(&format!(
            "  - model_name: {family}-{:03}\n    litellm_params:\n      model: {model}\n      api_base: http://10.0.{}.{}:8080/v1\n      api_key: {key}\n      rpm: 600\n      timeout: 30\n",
            i / 5,
            i / 250,
            i % 250,
        ));
        if i % 7 == 3 {
            out.push_str(
                "    model_info:\n      input_cost_per_token: 2.5e-06\n      output_cost_per_token: 1.0e-05\n",
            );
        }
    }
    out.push_str(
        "\nrouter_settings:\n  routing_strategy: simple-shuffle\n\nlitellm_settings:\n  fallbacks: [{\"gpt-4o-mini-001\": [\"gpt-4o-000\"]}]\n  num_retries: 0\n  cache: true\n  cache_params:\n    type: local\n\ngeneral_settings:\n  master_key: sk-master-fake-0000111122223333\n",
    );
    out
}

pub fn parse_config(text: &str) -> ProxyConfig {
    config_file::parse(text, Path::new(CONFIG_PATH), &env).unwrap()
}

/// `/model/info` as the proxy running `cfg` answers it: every entry is the
/// first entry of tests/fixtures/litellm/model_info.json (all ~200 fields)
/// with this deployment's alias, model, api_base and id.
pub fn model_info_body(cfg: &ProxyConfig) -> Vec<u8> {
    let fixture: serde_json::Value =
        serde_json::from_str(include_str!("../../tests/fixtures/litellm/model_info.json")).unwrap();
    let template = &fixture["data"][0];
    let data: Vec<serde_json::Value> = cfg
        .deployments
        .iter()
        .map(|d| {
            let mut e = template.clone();
            e["model_name"] = d.model_name.clone().into();
            let model = d.upstream_model.clone().unwrap_or_default();
            e["model_info"]["key"] = model.rsplit('/').next().unwrap_or(&model).into();
            e["model_info"]["litellm_provider"] = model.split('/').next().unwrap_or("openai").into();
            e["litellm_params"]["model"] = model.into();
            e["litellm_params"]["api_base"] = d.api_base.clone().into();
            e["model_info"]["id"] = d.id.clone().into();
            e
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({ "data": data })).unwrap()
}

/// The adapter's parsing path for `/model/info` (`LiteLlm::model_info` without the HTTP).
pub fn parse_model_info(resp: RawResponse) -> Result<Vec<Deployment>, GatewayError> {
    let resp = gateway::litellm::check(resp, "LITELLM_MASTER_KEY")?;
    let parsed: ModelInfoResponse = resp.json()?;
    Ok({
        let mut names = gatewatch::gateway::text::Interner::default();
        parsed.data.into_iter().map(|e| gateway::litellm::to_deployment(e, &mut names)).collect()
    })
}

pub fn model_info_response(body: Vec<u8>) -> RawResponse {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::CONTENT_TYPE, "application/json".parse().unwrap());
    RawResponse { status: StatusCode::OK, headers, body, elapsed: Duration::ZERO, path: "/model/info".into() }
}

/// The poll of the New API gateway (index 0) holding `channels`.
pub fn newapi_report(channels: Vec<Deployment>) -> PollReport {
    PollReport::new(0, t0(), vec![(NEWAPI_URL.into(), Ok(newapi_snapshot(channels)))])
}

/// The poll of the LiteLLM gateway (index 1) holding `deployments`.
pub fn litellm_report(deployments: Vec<Deployment>, local: LocalView, memory: MatchMemory) -> PollReport {
    PollReport {
        local,
        memory,
        ..PollReport::new(1, t0(), vec![(LITELLM_URL.into(), Ok(litellm_snapshot(deployments)))])
    }
}

/// A LiteLLM snapshot as `LiteLlm::poll` assembles it.
pub fn litellm_snapshot(deployments: Vec<Deployment>) -> ReplicaSnapshot {
    let mut s = ReplicaSnapshot::new(Duration::from_millis(4));
    s.version = Some("1.106.12".into());
    s.auth = AuthState::Ok;
    s.readiness = Section::Ok(Readiness {
        status: "healthy".into(),
        db: Some("Not connected".into()),
        cache: Some("local".into()),
    });
    let mut served: Vec<String> = deployments.iter().map(|d| d.name.to_string()).collect();
    served.sort();
    served.dedup();
    s.served_models = Section::Ok(served);
    s.deployments = Section::Ok(deployments.into());
    s.router = Section::Ok(RouterSettings {
        fallbacks: vec![("gpt-4o-mini-001".into(), vec!["gpt-4o-000".into()])],
        num_retries: Some(0),
        routing_strategy: Some("simple-shuffle".into()),
        ..RouterSettings::default()
    });
    s.cache = Section::Ok(CacheState { kind: "local".into(), healthy: true, detail: String::new() });
    s.requests = 6;
    s
}

/// Everything parsed once.
pub struct Scenario {
    pub newapi_pages: Vec<RawResponse>,
    pub model_info: Vec<u8>,
    pub file_text: String,
    pub file: ProxyConfig,
    pub running_cfg: ProxyConfig,
    pub memory: MatchMemory,
    pub newapi_report: PollReport,
    pub litellm_report: PollReport,
    pub tree: Tree,
    pub config: Config,
}

impl Scenario {
    pub fn build() -> Self {
        Self::from_pages(newapi_pages(CHANNELS))
    }

    /// Ten times today's load (or any): `channels` New API channels and
    /// `deployments` LiteLLM deployments.
    pub fn scaled(channels: usize, deployments: usize) -> Self {
        Self::from_pages_with(newapi_pages(channels), channels, deployments)
    }

    /// The scenario from page answers captured earlier.
    pub fn from_pages(newapi_pages: Vec<RawResponse>) -> Self {
        Self::from_pages_with(newapi_pages, CHANNELS, DEPLOYMENTS)
    }

    fn from_pages_with(newapi_pages: Vec<RawResponse>, n_channels: usize, n_deployments: usize) -> Self {
        assert_eq!(newapi_pages.len(), n_channels / PAGE_SIZE);
        let channels = parse_newapi_pages(newapi_pages.clone()).unwrap();
        assert_eq!(channels.len(), n_channels);

        let file_text = litellm_config(n_deployments, false);
        let file = parse_config(&file_text);
        let running_cfg = parse_config(&litellm_config(n_deployments, true));
        let model_info = model_info_body(&running_cfg);
        let deployments = parse_model_info(model_info_response(model_info.clone())).unwrap();
        assert_eq!(deployments.len(), n_deployments);
        let mut memory = MatchMemory::default();
        memory.remember(&running_cfg, 1_777_000_000);

        let newapi_report = newapi_report(channels);
        let litellm_report = litellm_report(deployments, LocalView::with_config(Ok(file.clone())), memory.clone());

        let mut newapi = GatewaySpec::new("newapi-prod", GatewayKind::NewApi, NEWAPI_URL);
        newapi.user_id = Some(1);
        newapi.restart_command = Some("systemctl restart new-api".into());
        let mut litellm = GatewaySpec::new("litellm-prod", GatewayKind::LiteLlm, LITELLM_URL);
        litellm.config_file = Some(CONFIG_PATH.into());
        litellm.restart_command = Some("docker restart litellm-proxy".into());
        litellm.client_models = vec!["gpt-4o-000".into(), "gpt-4o-mini-001".into()];
        let config = Config {
            gateways: vec![newapi, litellm],
            read_only: false,
            allow_probes: false,
            tree_file: None,
            state_dir: std::env::temp_dir().join("gatewatch-bench"),
            source: None,
            bindings: gatewatch::keys::Bindings::default(),
            mouse: true,
        };
        Self {
            newapi_pages,
            model_info,
            file_text,
            file,
            running_cfg,
            memory,
            newapi_report,
            litellm_report,
            tree: load::load(None).unwrap(),
            config,
        }
    }

    pub fn empty_app(&self) -> App {
        App::new(&self.config, self.tree.clone(), t0())
    }

    /// An app that has seen one poll of each gateway (the steady state).
    pub fn app(&self) -> App {
        let mut app = self.empty_app();
        app.update(Msg::Resize(W, H));
        app.update(Msg::Poll(Box::new(self.newapi_report.clone())));
        app.update(Msg::Poll(Box::new(self.litellm_report.clone())));
        app.update(Msg::Tick(t0() + Duration::from_secs(2)));
        app
    }

    /// The steady-state app with the channels/deployments table focused.
    pub fn app_on_table(&self, gateway: char) -> App {
        let mut app = self.app();
        app.update(key(gateway));
        app.update(code(KeyCode::Tab));
        assert_eq!(app.views.focus, gatewatch::app::Pane::Deployments);
        app
    }
}

pub fn terminal() -> Terminal<TestBackend> {
    Terminal::new(TestBackend::new(W, H)).unwrap()
}

pub fn draw(term: &mut Terminal<TestBackend>, app: &App) {
    term.draw(|f| ui::draw(f, app, &theme())).unwrap();
}

/// The rendered screen as text (for setup assertions).
pub fn screen(app: &App) -> String {
    let mut term = terminal();
    draw(&mut term, app);
    term.backend().to_string()
}

/// Press keys in turn (`keys` cycles), each followed by one draw.
pub fn bench_keys(
    c: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    mut app: App,
    keys: &[Msg],
) {
    let mut term = terminal();
    draw(&mut term, &app);
    let mut i = 0;
    c.bench_function(name, |b| {
        b.iter(|| {
            app.update(keys[i % keys.len()].clone());
            i += 1;
            draw(&mut term, &app);
        });
    });
}

/// One poll folded into the steady-state app (`App::update(Msg::Poll)`:
/// merge, every check, the table), the app rebuilt for each iteration.
pub fn bench_merge(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    s: &Scenario,
    report: &PollReport,
) {
    g.bench_function(name, |b| {
        b.iter_batched(
            || (s.app(), Box::new(report.clone())),
            |(mut app, r)| {
                app.update(Msg::Poll(r));
                app
            },
            criterion::BatchSize::PerIteration,
        );
    });
}
