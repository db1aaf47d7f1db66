//! The command line (clap). Secrets never go here: credentials come from the
//! environment variables the config names.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

pub const LONG_VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("GATEWATCH_COMMIT"), ")");

#[derive(Debug, Parser)]
#[command(
    name = "gatewatch",
    version = LONG_VERSION,
    about = "Incident triage TUI for AI API gateways (LiteLLM Proxy, New API)",
    long_about = "gatewatch walks an on-call operator through the failure decision tree of an AI API gateway, \
answering each question from live evidence: reachability, key drift between the config file and the running \
gateway on every replica, fallback costs, streaming, New API traffic starvation. Actions (restart, reload, \
purge, channel tests) ask first, are audited, and are verified afterwards.\n\n\
Credentials come from environment variables (LITELLM_MASTER_KEY; NEW_API_ACCESS_TOKEN and NEW_API_USER_ID), \
never from the command line."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalOpts,
    #[command(subcommand)]
    pub command: Option<Cmd>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct GlobalOpts {
    /// Config file [default: $XDG_CONFIG_HOME/gatewatch/config.yaml]
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// A gateway without a config file: KIND=URL, or KIND=URL1,URL2,… for replicas (repeatable)
    #[arg(long = "gateway", global = true, value_name = "KIND=URL")]
    pub gateways: Vec<String>,
    /// The LiteLLM proxy's own config.yaml (for key-drift detection)
    #[arg(long, global = true, value_name = "PATH")]
    pub litellm_config: Option<PathBuf>,
    /// The LiteLLM proxy's own environment as a dotenv file (docker compose .env,
    /// systemd EnvironmentFile): its os.environ/ names resolve there
    #[arg(long, global = true, value_name = "PATH")]
    pub litellm_env_file: Option<PathBuf>,
    /// Command that restarts the gateway (e.g. "docker restart litellm-proxy")
    #[arg(long, global = true, value_name = "CMD")]
    pub restart_command: Option<String>,
    /// Command that reloads the gateway (gunicorn: "kill -HUP <master pid>")
    #[arg(long, global = true, value_name = "CMD")]
    pub reload_command: Option<String>,
    /// Disable every action that changes a gateway or spends money (paid probes included)
    #[arg(long, global = true)]
    pub read_only: bool,
    /// Do not read the mouse (for terminals where it gets in the way of selecting text)
    #[arg(long, global = true)]
    pub no_mouse: bool,
    /// With --read-only: still allow the paid probes (health, route, stream, channel test), each asked first
    #[arg(long, global = true)]
    pub allow_probes: bool,
    /// Poll interval, e.g. 5s
    #[arg(long, global = true, value_name = "DURATION", value_parser = parse_duration)]
    pub refresh: Option<std::time::Duration>,
    /// Per-request timeout, e.g. 3s
    #[arg(long, global = true, value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: Option<std::time::Duration>,
    /// Use this triage tree instead of the built-in one
    #[arg(long, global = true, value_name = "PATH")]
    pub tree: Option<PathBuf>,
    /// Where the audit log, reports and logs go [default: $XDG_STATE_HOME/gatewatch]
    #[arg(long, global = true, value_name = "PATH")]
    pub state_dir: Option<PathBuf>,
}

fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    crate::config::duration::parse(s)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Human,
    Json,
    Prometheus,
}

#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// The full app against built-in simulated gateways (nothing to configure)
    Demo {
        /// Only this simulated gateway
        #[arg(long, value_enum)]
        only: Option<DemoOnly>,
        /// Serve this many generated channels from the simulated New API (scale measurements)
        #[arg(long, hide = true, value_name = "N")]
        newapi_channels: Option<usize>,
    },
    /// Run every check once, print the verdicts, exit 0 ok / 1 warn / 2 fail / 3 unreachable / 4 output not written
    Check {
        /// JSON output (schema gatewatch.check/v1)
        #[arg(long, conflicts_with = "format")]
        json: bool,
        #[arg(long, value_enum)]
        format: Option<OutputFormat>,
        /// Write the result to this file (atomically, whatever the exit code) instead of stdout
        #[arg(long, short = 'o', value_name = "PATH")]
        output: Option<PathBuf>,
    },
    /// Configuration helpers
    Config {
        #[command(subcommand)]
        action: ConfigCmd,
    },
    /// Validate a triage tree file
    Tree {
        /// The tree file (YAML)
        path: PathBuf,
    },
    /// Print shell completions
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff)
    Man,
    /// Panic inside the TUI on purpose (the test that the terminal is restored; not for operators)
    #[command(hide = true)]
    DebugPanic,
    /// Used by the demo's restart command (not for operators)
    #[command(hide = true)]
    DemoCtl { url: String },
    /// Serve a simulated LiteLLM Proxy with N generated deployments on
    /// 127.0.0.1 until killed, its master key the demo's (for measurements;
    /// not for operators)
    #[command(hide = true)]
    SimLitellm {
        #[arg(long, default_value_t = 5000)]
        deployments: usize,
    },
    /// Serve a simulated New API on 127.0.0.1 until killed (for measurements; not for operators)
    #[command(hide = true)]
    SimNewapi {
        /// Generated channels (default: the demo's staged set)
        #[arg(long)]
        channels: Option<usize>,
        #[arg(long, default_value_t = 0)]
        port: u16,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DemoOnly {
    Litellm,
    Newapi,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCmd {
    /// Write the example config (to PATH or the default location)
    Init {
        path: Option<PathBuf>,
        /// Overwrite an existing file
        #[arg(long)]
        force: bool,
    },
    /// Check a config file and print what it configures
    Check,
    /// Print the path of the default config file
    Path,
}
