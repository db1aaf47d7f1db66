//! `gatewatch demo`: the real app against simulated gateways started on
//! 127.0.0.1 (a LiteLLM Proxy and a New API), staging the incidents gatewatch
//! is built for. LiteLLM: the config file has a rotated key but the running
//! proxy still holds the old one, one deployment is unhealthy, and a fallback
//! chain ends on a model that costs ~30x its primary. New API: a starved
//! weight-0 channel and an auto-disabled channel with balance left. The demo's restart really restarts the simulated proxy,
//! which then loads the new key: detect → triage → act → verified.

pub mod front;
pub mod litellm_sim;
pub mod newapi_sim;
pub mod scenario;
pub mod sim_ids;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use color_eyre::eyre::{WrapErr, eyre};
use tokio_util::sync::CancellationToken;

use crate::cli::DemoOnly;
use crate::config::{self, Config, GatewayKind, GatewaySpec, Overrides};
use crate::gateway::Gateway;
use crate::gateway::litellm::LiteLlm;
use crate::gateway::litellm::config_file;
use crate::gateway::litellm::drift::MatchMemory;
use crate::local;
use crate::secret::{Redactor, Secret};

/// Obviously fake keys: the demo never talks to a real provider.
pub const DEMO_MASTER_KEY: &str = "sk-demo-master-0000-not-a-real-key";
pub const OLD_KEY: &str = "sk-demo-upstream-OLD-1111aaaa";
pub const NEW_KEY: &str = "sk-demo-upstream-NEW-2222bbbb";

/// Every fake secret the demo uses (the secret-scan test looks for each).
pub fn secrets() -> Vec<&'static str> {
    vec![
        DEMO_MASTER_KEY,
        OLD_KEY,
        NEW_KEY,
        "sk-demo-upstream-MINI-3333cccc",
        "sk-demo-upstream-DSEEK-4444dddd",
        "sk-demo-upstream-TURBO-5555eeee",
        "sk-demo-upstream-CLAUDE-6666ffff",
        newapi_sim::DEMO_ACCESS_TOKEN,
    ]
}

/// The proxy config the demo writes; `key` is gpt-4o's upstream key.
pub fn litellm_config(key: &str) -> String {
    format!(
        r#"# Simulated LiteLLM Proxy config written by `gatewatch demo`.
model_list:
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o
      api_base: https://api.openai.com/v1
      api_key: {key}
  - model_name: gpt-4o-mini
    litellm_params:
      model: openai/gpt-4o-mini
      api_base: https://api.openai.com/v1
      api_key: sk-demo-upstream-MINI-3333cccc
  - model_name: deepseek-chat
    litellm_params:
      model: deepseek/deepseek-chat
      api_base: https://api.deepseek.com/v1
      api_key: sk-demo-upstream-DSEEK-4444dddd
  - model_name: gpt-4-turbo
    litellm_params:
      model: openai/gpt-4-turbo
      api_base: https://api.openai.com/v1
      api_key: sk-demo-upstream-TURBO-5555eeee

litellm_settings:
  fallbacks: [{{"deepseek-chat": ["gpt-4o", "gpt-4-turbo"]}}]
  num_retries: 2
  cache: true
  cache_params:
    type: redis
    host: 127.0.0.1
    port: 6379

general_settings:
  master_key: {DEMO_MASTER_KEY}
"#
    )
}

/// Where the demo keeps its files (audit log, reports): `<state>/demo`.
fn demo_state_dir(o: &Overrides) -> PathBuf {
    o.state_dir.clone().unwrap_or_else(|| config::default_state_dir().join("demo"))
}

/// Stage the LiteLLM incident: boot on the old key, then "rotate" the file.
async fn stage_litellm(
    state_dir: &Path,
    cancel: &CancellationToken,
) -> color_eyre::Result<(GatewaySpec, Arc<dyn Gateway>, Arc<scenario::LiteLlmStages>)> {
    let dir = state_dir.join("litellm");
    std::fs::create_dir_all(&dir).wrap_err_with(|| format!("cannot create {}", dir.display()))?;
    let cfg_path = dir.join("config.yaml");
    std::fs::write(&cfg_path, litellm_config(OLD_KEY))?;
    let mut sim_state =
        litellm_sim::LiteLlmState::boot(cfg_path.clone(), DEMO_MASTER_KEY.to_owned()).map_err(|e| eyre!(e))?;
    sim_state.upstream_down.insert("deepseek-chat".into());
    let sim = litellm_sim::SimProxy::start(sim_state, 0, cancel.clone()).await?;
    let control = sim.control().await?;
    // gatewatch saw the old file match yesterday: remember its fingerprints.
    let old = config_file::load(&cfg_path, &config_file::process_env).map_err(|e| eyre!("{e}"))?;
    let mut memory = MatchMemory::default();
    memory.remember(&old, 0);
    local::save_memory(&local::memory_path(state_dir, "litellm-demo"), &memory)?;
    // Now the operator rotates the key in the file; the running proxy keeps the old one.
    std::fs::write(&cfg_path, litellm_config(NEW_KEY))?;
    let exe = std::env::current_exe().map_or_else(|_| "gatewatch".to_owned(), |p| p.display().to_string());
    let nginx = dir.join("nginx.conf");
    let stages = Arc::new(scenario::LiteLlmStages::new(sim.clone(), cfg_path.clone(), nginx.clone()));
    stages.first().map_err(|e| eyre!(e))?;
    // Clients reach the proxy through a front door (the incident's Nginx);
    // gatewatch also knows the proxy's own address, as it would a replica.
    let front = front::serve(sim.clone(), cancel.clone()).await?;
    let mut spec = GatewaySpec::new("litellm-demo", GatewayKind::LiteLlm, format!("http://{front}"));
    spec.replicas = vec![sim.url()];
    spec.config_file = Some(cfg_path);
    spec.nginx_config = Some(nginx);
    spec.restart_command = Some(format!("{exe} demo-ctl http://{control}/restart"));
    spec.refresh = Duration::from_secs(2);
    spec.action_timeout = Duration::from_secs(60);
    spec.verify_timeout = Duration::from_secs(30);
    let gw: Arc<dyn Gateway> = Arc::new(LiteLlm::with_key(spec.clone(), Some(Secret::new(DEMO_MASTER_KEY))));
    Ok((spec, gw, stages))
}

/// Stage the New API incident: a starved weight-0 channel, an auto-disabled
/// channel with money on it, a mapping nobody can reach, a channel outside
/// the users' group.
async fn stage_newapi(
    cancel: &CancellationToken,
    channels: Option<usize>,
) -> color_eyre::Result<(GatewaySpec, Arc<dyn Gateway>)> {
    let state = channels.map_or_else(newapi_sim::NewApiState::demo, newapi_sim::NewApiState::with_channels);
    let state = Arc::new(std::sync::Mutex::new(state));
    let addr = newapi_sim::serve(state, cancel.clone()).await?;
    let mut spec = GatewaySpec::new("newapi-demo", GatewayKind::NewApi, format!("http://{addr}"));
    spec.user_id = Some(newapi_sim::DEMO_USER_ID);
    spec.refresh = Duration::from_secs(5);
    spec.sync_frequency = Duration::from_secs(60);
    // The staged story is a multi-node production setup with Redis, where
    // the nodes pick channels from the memory cache (declared, as an
    // operator would in gatewatch's config): the weight-0 channel starves.
    spec.memory_cache = Some(true);
    let gw: Arc<dyn Gateway> = Arc::new(crate::gateway::newapi::NewApi::with_credentials(
        spec.clone(),
        Some(Secret::new(newapi_sim::DEMO_ACCESS_TOKEN)),
        Some(newapi_sim::DEMO_USER_ID.to_string()),
    ));
    Ok((spec, gw))
}

/// Run the demo TUI.
/// `keys`: the bindings and mouse setting of the operator's config, when given.
pub async fn run(
    o: Overrides,
    only: Option<DemoOnly>,
    newapi_channels: Option<usize>,
    keys: Option<(crate::keys::Bindings, bool)>,
) -> color_eyre::Result<()> {
    let state_dir = demo_state_dir(&o);
    std::fs::create_dir_all(&state_dir).wrap_err_with(|| format!("cannot create {}", state_dir.display()))?;
    let _log = crate::logging::init(&state_dir);
    // Each demo starts new simulated gateways (new ports): what an earlier
    // demo saw is not "what changed" since.
    let _ = std::fs::remove_dir_all(state_dir.join("inventory"));
    let _ = std::fs::remove_file(crate::changes::store_path(&state_dir));
    let cancel = CancellationToken::new();
    let mut specs = Vec::new();
    let mut gateways: Vec<Arc<dyn Gateway>> = Vec::new();
    let mut hook: Option<crate::tui::DemoControl> = None;
    if only != Some(DemoOnly::Newapi) {
        let (spec, gw, stages) = stage_litellm(&state_dir, &cancel).await?;
        let first = stages.current_name();
        specs.push(spec);
        gateways.push(gw);
        hook = Some(crate::tui::DemoControl { gateway: 0, hook: stages, first });
    }
    if only != Some(DemoOnly::Litellm) {
        let (spec, gw) = stage_newapi(&cancel, newapi_channels).await?;
        specs.push(spec);
        gateways.push(gw);
    }
    let mut config = Config {
        gateways: specs,
        read_only: o.read_only,
        allow_probes: o.allow_probes,
        tree_file: o.tree_file.clone(),
        state_dir: state_dir.clone(),
        source: None,
        mouse: !o.no_mouse && keys.as_ref().is_none_or(|k| k.1),
        bindings: keys.map(|k| k.0).unwrap_or_default(),
    };
    if let Some(r) = o.refresh {
        for g in &mut config.gateways {
            g.refresh = r;
        }
    }
    let tree = crate::triage::load::load(config.tree_file.as_deref()).map_err(|e| eyre!("{e}"))?;
    let redactor = Redactor::new(secrets().into_iter().map(Secret::new));
    let result = crate::tui::run(crate::tui::Session { config, tree, gateways, redactor, demo: hook }).await;
    cancel.cancel();
    result
}

/// `gatewatch sim-newapi`: a simulated New API in its own process, printing
/// its URL and serving until killed (the scale measurements use it so the
/// simulator's CPU is not counted as gatewatch's).
pub async fn serve_newapi(channels: Option<usize>, port: u16) -> color_eyre::Result<ExitCode> {
    let mut state = channels.map_or_else(newapi_sim::NewApiState::demo, newapi_sim::NewApiState::with_channels);
    state.rate_limit = None;
    let shared = Arc::new(std::sync::Mutex::new(state));
    let cancel = CancellationToken::new();
    let addr = if port == 0 {
        newapi_sim::serve(shared, cancel.clone()).await?
    } else {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let app = newapi_sim::router(shared).into_make_service_with_connect_info::<std::net::SocketAddr>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        addr
    };
    #[allow(clippy::print_stdout)]
    {
        println!("http://{addr}");
    }
    tokio::signal::ctrl_c().await?;
    cancel.cancel();
    Ok(ExitCode::SUCCESS)
}

/// `gatewatch sim-litellm`: a simulated proxy with `n` generated deployments
/// (one alias each, every one answering, made-up ids); prints its URL and
/// serves until interrupted.
pub async fn serve_litellm(n: usize) -> color_eyre::Result<ExitCode> {
    let state = litellm_sim::LiteLlmState::generated(n, DEMO_MASTER_KEY.to_owned());
    let cancel = CancellationToken::new();
    let sim = litellm_sim::SimProxy::start(state, 0, cancel.clone()).await?;
    #[allow(clippy::print_stdout)]
    {
        println!("{}", sim.url());
    }
    tokio::signal::ctrl_c().await?;
    cancel.cancel();
    Ok(ExitCode::SUCCESS)
}

/// `gatewatch demo-ctl URL`: ask a simulated gateway to restart; returns when
/// it listens again (like `systemctl restart`).
pub async fn control(url: &str) -> color_eyre::Result<ExitCode> {
    if !(url.starts_with("http://127.0.0.1:") || url.starts_with("http://[::1]:")) {
        return Err(eyre!("demo-ctl only talks to loopback simulators"));
    }
    let client = reqwest::Client::builder().timeout(Duration::from_secs(60)).build()?;
    let resp = client.post(url).send().await.wrap_err_with(|| format!("cannot reach the simulator at {url}"))?;
    let ok = resp.status().is_success();
    let text = resp.text().await.unwrap_or_default();
    #[allow(clippy::print_stdout)]
    {
        print!("{text}");
    }
    Ok(if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
