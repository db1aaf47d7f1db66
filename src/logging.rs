//! File logging (never stdout/stderr while the TUI is up). Level from
//! `GATEWATCH_LOG` (an `EnvFilter`, default `warn`).

use std::path::Path;

use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::EnvFilter;

/// Lines that may wait for the log writer thread.
const LOG_QUEUE_LINES: usize = 2048;

/// Start logging to `<state_dir>/gatewatch.log`; keep the guard alive in `main`.
pub fn init(state_dir: &Path) -> Option<WorkerGuard> {
    std::fs::create_dir_all(state_dir).ok()?;
    let appender = tracing_appender::rolling::never(state_dir, "gatewatch.log");
    // The default queue holds 128,000 lines (4 MB allocated up front, a
    // seventh of the whole process at 5,000 channels). gatewatch logs little;
    // past this many pending lines new ones are dropped, never blocking.
    let (writer, guard) =
        NonBlockingBuilder::default().buffered_lines_limit(LOG_QUEUE_LINES).lossy(true).finish(appender);
    // HTTP internals stay at warn whatever the level asked for: their traces
    // are noise here, and header bytes must never reach the log.
    let wanted = std::env::var("GATEWATCH_LOG").unwrap_or_else(|_| "warn".into());
    let filter = EnvFilter::try_new(format!("{wanted},hyper=warn,hyper_util=warn,reqwest=warn,h2=warn,rustls=warn"))
        .unwrap_or_else(|_| EnvFilter::new("warn"));
    tracing_subscriber::fmt().with_writer(writer).with_ansi(false).with_env_filter(filter).try_init().ok()?;
    Some(guard)
}
