//! The staged incidents of `gatewatch demo`, one per pitfall, switched with
//! `n`. Each one rewrites what the simulated proxy runs, what its config file
//! on disk says, and the Nginx config in front of it, so that the matching
//! checks fire for real.

use std::path::PathBuf;
use std::sync::Mutex;

use async_trait::async_trait;

use super::litellm_sim::SimProxy;
use super::{NEW_KEY, OLD_KEY, litellm_config};

/// What the app is told after a switch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoStage {
    pub name: String,
    pub summary: String,
    /// Model names the demo's clients send in this incident.
    pub client_models: Vec<String>,
}

/// The demo hook the event loop calls on `n`.
#[async_trait]
pub trait DemoHook: Send + Sync {
    async fn next(&self) -> Result<DemoStage, String>;
}

const GOOD_NGINX: &str = "server {\n  listen 443 ssl;\n  location / {\n    proxy_pass http://127.0.0.1:4000;\n    proxy_http_version 1.1;\n    proxy_set_header Connection '';\n    proxy_buffering off;\n    proxy_read_timeout 300s;\n  }\n}\n";
const BAD_NGINX: &str = "server {\n  listen 443 ssl;\n  gzip on;\n  gzip_types text/plain application/json text/event-stream;\n  location / {\n    proxy_pass http://127.0.0.1:4000;\n    proxy_read_timeout 30s;\n    proxy_ignore_headers X-Accel-Buffering;\n  }\n}\n";
const CLIENTS: [&str; 4] = ["gpt-4o", "gpt-4o-mini", "deepseek-chat", "gpt-4-turbo"];

struct Stage {
    name: &'static str,
    summary: &'static str,
    /// What the running proxy holds.
    running: String,
    /// What the file on disk says.
    file: String,
    nginx: &'static str,
    upstream_down: &'static [&'static str],
    cut_streams: bool,
    admin_ui: bool,
    clients: Vec<&'static str>,
}

fn stages() -> Vec<Stage> {
    let base_old = litellm_config(OLD_KEY);
    let base_new = litellm_config(NEW_KEY);
    vec![
        Stage {
            name: "stale key",
            summary: "gpt-4o's key was rotated in config.yaml; the running proxy still holds the old one (press R to restart and verify)",
            running: base_old.clone(),
            file: base_new.clone(),
            nginx: GOOD_NGINX,
            upstream_down: &["deepseek-chat"],
            cut_streams: false,
            admin_ui: false,
            clients: CLIENTS.to_vec(),
        },
        Stage {
            name: "model name mismatch",
            summary: "a provider was added as claude-3.5-sonnet, clients send claude-3-5-sonnet and GPT-4o: every such request fails with 400",
            running: with_claude(&base_new),
            file: with_claude(&base_new),
            nginx: GOOD_NGINX,
            upstream_down: &[],
            cut_streams: false,
            admin_ui: false,
            clients: vec!["gpt-4o", "GPT-4o", "claude-3-5-sonnet", "openai/gpt-4o-mini"],
        },
        Stage {
            name: "cost traps",
            summary: "num_retries 5 and background health checks every 60 s on top of a fallback chain that ends on gpt-4-turbo (29x)",
            running: costly(&base_new),
            file: costly(&base_new),
            nginx: GOOD_NGINX,
            upstream_down: &["deepseek-chat"],
            cut_streams: false,
            admin_ui: false,
            clients: CLIENTS.to_vec(),
        },
        Stage {
            name: "streaming cut off",
            summary: "streams stop mid-token without [DONE]; the Nginx in front buffers, gzips event streams and times out at 30 s (press s)",
            running: base_new.clone(),
            file: base_new.clone(),
            nginx: BAD_NGINX,
            upstream_down: &[],
            cut_streams: true,
            admin_ui: false,
            clients: CLIENTS.to_vec(),
        },
        Stage {
            name: "restart would fail",
            summary: "someone edited config.yaml: the master key is now the public default sk-1234 and a key comes from an unset variable — R asks twice",
            running: base_new.clone(),
            file: base_new
                .replace(super::DEMO_MASTER_KEY, "sk-1234")
                .replace("sk-demo-upstream-TURBO-5555eeee", "os.environ/GATEWATCH_DEMO_UNSET_TURBO_KEY"),
            nginx: GOOD_NGINX,
            upstream_down: &[],
            cut_streams: false,
            admin_ui: false,
            clients: CLIENTS.to_vec(),
        },
        Stage {
            name: "security checklist",
            summary: "the weak-key override is on, the admin UI answers without credentials, keys sit in the file in plain text",
            running: base_new.clone(),
            file: base_new.replace(
                "general_settings:\n",
                "general_settings:\n  dangerously_permit_weak_or_unset_master_key: true\n",
            ),
            nginx: GOOD_NGINX,
            upstream_down: &[],
            cut_streams: false,
            admin_ui: true,
            clients: CLIENTS.to_vec(),
        },
    ]
}

fn with_claude(base: &str) -> String {
    base.replace(
        "\nlitellm_settings:",
        "  - model_name: claude-3.5-sonnet\n    litellm_params:\n      model: anthropic/claude-3-5-sonnet-20241022\n      api_key: sk-demo-upstream-CLAUDE-6666ffff\n\nlitellm_settings:",
    )
}

fn costly(base: &str) -> String {
    base.replace("num_retries: 2", "num_retries: 5").replace(
        "general_settings:\n",
        "general_settings:\n  background_health_checks: true\n  health_check_interval: 60\n",
    )
}

/// Switches the simulated LiteLLM between staged incidents.
pub struct LiteLlmStages {
    sim: SimProxy,
    config_path: PathBuf,
    nginx_path: PathBuf,
    current: Mutex<usize>,
}

impl LiteLlmStages {
    pub fn new(sim: SimProxy, config_path: PathBuf, nginx_path: PathBuf) -> Self {
        Self { sim, config_path, nginx_path, current: Mutex::new(0) }
    }

    /// Stage number `i` (wrapping).
    pub fn apply(&self, i: usize) -> Result<DemoStage, String> {
        let all = stages();
        let st = &all[i % all.len()];
        {
            let mut s = self.sim.state.lock().map_err(|_| "simulator state poisoned".to_owned())?;
            s.load_text(&st.running)?;
            s.upstream_down = st.upstream_down.iter().map(|x| (*x).to_owned()).collect();
            s.cut_streams = st.cut_streams;
            s.admin_ui = st.admin_ui;
        }
        std::fs::write(&self.config_path, &st.file).map_err(|e| e.to_string())?;
        std::fs::write(&self.nginx_path, st.nginx).map_err(|e| e.to_string())?;
        Ok(DemoStage {
            name: format!("{}/{}: {}", i % all.len() + 1, all.len(), st.name),
            summary: st.summary.to_owned(),
            client_models: st.clients.iter().map(|c| (*c).to_owned()).collect(),
        })
    }

    pub fn first(&self) -> Result<DemoStage, String> {
        self.apply(0)
    }

    /// The name of the incident staged now ("1/6: stale key").
    pub fn current_name(&self) -> String {
        let all = stages();
        let i = self.current.lock().map_or(0, |c| *c) % all.len();
        format!("{}/{}: {}", i + 1, all.len(), all[i].name)
    }
}

#[async_trait]
impl DemoHook for LiteLlmStages {
    async fn next(&self) -> Result<DemoStage, String> {
        let i = {
            let mut c = self.current.lock().map_err(|_| "poisoned".to_owned())?;
            *c += 1;
            *c
        };
        self.apply(i)
    }
}

/// Every config text the demo's simulated proxy may load (what each stage
/// runs, and what a restart reads from the file), named, once each: the
/// recorder of the simulator's ids (`scripts/record-sim-ids`) takes them all.
pub fn config_texts() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (i, st) in stages().into_iter().enumerate() {
        for (which, text) in [("running", st.running), ("file", st.file)] {
            if !out.iter().any(|(_, t)| *t == text) {
                out.push((format!("demo-{}-{which}", i + 1), text));
            }
        }
    }
    out
}
