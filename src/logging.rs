//! File logging (never stdout/stderr while the TUI is up). Level from
//! `GATEWATCH_LOG` (an `EnvFilter`, default `warn`).

use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

/// Start logging to `<state_dir>/gatewatch.log`; keep the guard alive in `main`.
pub fn init(state_dir: &Path) -> Option<WorkerGuard> {
    std::fs::create_dir_all(state_dir).ok()?;
    let appender = tracing_appender::rolling::never(state_dir, "gatewatch.log");
    let (writer, guard) = tracing_appender::non_blocking(appender);
    // HTTP internals stay at warn whatever the level asked for: their traces
    // are noise here, and header bytes must never reach the log.
    let wanted = std::env::var("GATEWATCH_LOG").unwrap_or_else(|_| "warn".into());
    let filter = EnvFilter::try_new(format!("{wanted},hyper=warn,hyper_util=warn,reqwest=warn,h2=warn,rustls=warn"))
        .unwrap_or_else(|_| EnvFilter::new("warn"));
    tracing_subscriber::fmt().with_writer(writer).with_ansi(false).with_env_filter(filter).try_init().ok()?;
    Some(guard)
}
