//! gatewatch's entry point: parse the command line, then run the TUI, the
//! demo, `check`, or a helper subcommand.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;
use std::sync::Arc;

use clap::{CommandFactory, Parser};
use color_eyre::eyre::{WrapErr, eyre};

use gatewatch::cli::{Cli, Cmd, ConfigCmd, GlobalOpts, OutputFormat};
use gatewatch::config::{self, Config, Overrides};
use gatewatch::gateway::{self, Gateway};
use gatewatch::{check, demo, logging, triage, tui};

fn overrides(g: &GlobalOpts) -> Overrides {
    Overrides {
        gateways: g.gateways.clone(),
        litellm_config: g.litellm_config.clone(),
        litellm_env_file: g.litellm_env_file.clone(),
        restart_command: g.restart_command.clone(),
        reload_command: g.reload_command.clone(),
        refresh: g.refresh,
        timeout: g.timeout,
        read_only: g.read_only,
        allow_probes: g.allow_probes,
        no_mouse: g.no_mouse,
        tree_file: g.tree.clone(),
        state_dir: g.state_dir.clone(),
    }
}

/// Flags for a single gateway, else `--config`, else the default file.
fn load_config(g: &GlobalOpts) -> color_eyre::Result<Config> {
    let o = overrides(g);
    if !g.gateways.is_empty() {
        return config::from_flags(&o).map_err(|e| eyre!("{e}"));
    }
    let path = if let Some(p) = &g.config {
        p.clone()
    } else {
        let p = config::default_path().ok_or_else(|| eyre!("no config directory on this system"))?;
        if !p.exists() {
            return Err(eyre!(
                "no gateway configured.\n  try the demo:          gatewatch demo\n  watch one gateway:     LITELLM_MASTER_KEY=… gatewatch --gateway litellm=http://127.0.0.1:4000 --litellm-config ./config.yaml\n  or write a config:     gatewatch config init   (then edit {})",
                p.display()
            ));
        }
        p
    };
    let mut cfg = config::load(&path).map_err(|e| eyre!("{e}"))?;
    config::apply(&mut cfg, &o);
    Ok(cfg)
}

fn adapters(cfg: &Config) -> Vec<Arc<dyn Gateway>> {
    cfg.gateways.iter().map(gateway::connect).collect()
}

fn runtime() -> color_eyre::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        // Few threads for the blocking pool (parsing, hashing, state files):
        // glibc gives threads their own heap arenas, and measured with
        // 5,000 LiteLLM deployments polled every 2 s, the default pool's
        // threads kept freed parse buffers resident in theirs.
        .max_blocking_threads(4)
        .enable_all()
        .build()
        .wrap_err("cannot start the async runtime")
}

fn run(cli: Cli) -> color_eyre::Result<ExitCode> {
    match cli.command {
        None => {
            let cfg = load_config(&cli.global)?;
            let tree = triage::load::load(cfg.tree_file.as_deref()).map_err(|e| eyre!("{e}"))?;
            let _log = logging::init(&cfg.state_dir);
            let redactor = gatewatch::secret::harvest::for_config(&cfg);
            let gateways = adapters(&cfg);
            runtime()?.block_on(tui::run(tui::Session { config: cfg, tree, gateways, redactor, demo: None }))?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Cmd::Demo { only, newapi_channels }) => {
            let o = overrides(&cli.global);
            // `--config` lends the demo its `keys:` and `mouse:` (try a keymap before an incident).
            let bindings = match &cli.global.config {
                Some(path) => {
                    let cfg = gatewatch::config::load(path).map_err(|e| eyre!("{e}"))?;
                    Some((cfg.bindings, cfg.mouse))
                }
                None => None,
            };
            runtime()?.block_on(demo::run(o, only, newapi_channels, bindings))?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Cmd::Check { json, format, output }) => {
            let cfg = load_config(&cli.global)?;
            let fmt = match (json, format) {
                (true, _) | (_, Some(OutputFormat::Json)) => check::Format::Json,
                (_, Some(OutputFormat::Prometheus)) => check::Format::Prometheus,
                _ => check::Format::Human,
            };
            let gateways = adapters(&cfg);
            let code = runtime()?.block_on(check::run(&cfg, &gateways, fmt, output.as_deref()));
            Ok(ExitCode::from(u8::try_from(code).unwrap_or(3)))
        }
        Some(Cmd::Config { action }) => config_cmd(&cli.global, action),
        Some(Cmd::Tree { path }) => {
            let tree = triage::load::load(Some(&path)).map_err(|e| eyre!("{e}"))?;
            println!("{}: valid, {} nodes", path.display(), tree.nodes.len());
            Ok(ExitCode::SUCCESS)
        }
        Some(Cmd::Completions { shell }) => {
            clap_complete::generate(shell, &mut Cli::command(), "gatewatch", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        Some(Cmd::Man) => {
            clap_mangen::Man::new(Cli::command())
                .render(&mut std::io::stdout())
                .wrap_err("cannot write the man page")?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Cmd::DebugPanic) => {
            tui::panic_after_first_frame(!cli.global.no_mouse)?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Cmd::DemoCtl { url }) => runtime()?.block_on(demo::control(&url)),
        Some(Cmd::SimNewapi { channels, port }) => runtime()?.block_on(demo::serve_newapi(channels, port)),
        Some(Cmd::SimLitellm { deployments }) => runtime()?.block_on(demo::serve_litellm(deployments)),
    }
}

fn config_cmd(g: &GlobalOpts, action: ConfigCmd) -> color_eyre::Result<ExitCode> {
    match action {
        ConfigCmd::Init { path, force } => {
            let path = path
                .or_else(|| g.config.clone())
                .or_else(config::default_path)
                .ok_or_else(|| eyre!("no config directory"))?;
            if path.exists() && !force {
                return Err(eyre!("{} exists; pass --force to overwrite", path.display()));
            }
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).wrap_err_with(|| format!("cannot create {}", dir.display()))?;
            }
            std::fs::write(&path, config::example::EXAMPLE)
                .wrap_err_with(|| format!("cannot write {}", path.display()))?;
            println!("wrote {}\nedit it, export the credentials it names, then run: gatewatch", path.display());
            Ok(ExitCode::SUCCESS)
        }
        ConfigCmd::Check => {
            let cfg = load_config(g)?;
            for gw in &cfg.gateways {
                let env_state = if std::env::var_os(&gw.credential_env).is_some() { "set" } else { "NOT SET" };
                println!(
                    "{} ({}) {} — {} replica(s), credential ${} {env_state}",
                    gatewatch::sanitize::line(&gw.name),
                    gw.kind,
                    gatewatch::sanitize::line(&gw.url),
                    gw.replica_urls().len(),
                    gw.credential_env
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        ConfigCmd::Path => {
            println!("{}", config::default_path().map(|p| p.display().to_string()).unwrap_or_default());
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// jemalloc hands freed pages back to the system after a few seconds; glibc
/// kept ~40% of the process in freed per-thread arenas at 50,000 channels.
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let _ = tui::STARTED.set(std::time::Instant::now());
    if color_eyre::install().is_err() {
        eprintln!("gatewatch: cannot install the error handler");
    }
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            // An error can quote a file or a gateway: no escape sequence, no secret on stderr.
            let text = gatewatch::secret::scrub(&format!("{e:#}"));
            eprintln!("gatewatch: {}", gatewatch::sanitize::text(&text));
            ExitCode::from(64)
        }
    }
}
