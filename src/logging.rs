//! File logging (never stdout/stderr while the TUI is up). Level from
//! `GATEWATCH_LOG` (an `EnvFilter`, default `warn`).
//!
//! The incident tool must open even when its state directory is missing,
//! read-only, full or someone else's: then it runs without a log file and
//! says why ([`status`], shown as a banner), instead of panicking in the
//! appender. The log file is 0600, never written through a symlink, and
//! every line passes the redactor before it reaches the disk.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::EnvFilter;

/// Lines that may wait for the log writer thread.
const LOG_QUEUE_LINES: usize = 2048;

/// Where the log goes this session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogStatus {
    File(PathBuf),
    /// No log file, and why.
    Off(String),
}

static STATUS: OnceLock<LogStatus> = OnceLock::new();

/// What [`init`] decided, if it ran.
pub fn status() -> Option<&'static LogStatus> {
    STATUS.get()
}

/// Each write from the log thread is one formatted event: it is redacted
/// whole, and gateway text in it cannot put an escape sequence in the file
/// (`tail gatewatch.log` would replay it) or forge a line of its own.
struct Redacting<W: Write> {
    inner: W,
    redactor: crate::secret::Redactor,
}

impl<W: Write> Write for Redacting<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        let (body, end) = text.strip_suffix('\n').map_or((&*text, ""), |b| (b, "\n"));
        let clean = crate::sanitize::line(&self.redactor.redact(body)).into_owned();
        self.inner.write_all(clean.as_bytes())?;
        self.inner.write_all(end.as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Start logging to `<state_dir>/gatewatch.log`; keep the guard alive in
/// `main`. `None` when there is no log file (see [`status`]).
pub fn init(state_dir: &Path) -> Option<WorkerGuard> {
    let path = state_dir.join("gatewatch.log");
    let file = match crate::statefile::open_append(&path) {
        Ok(f) => f,
        Err(e) => {
            let _ = STATUS.set(LogStatus::Off(format!("{}: {e}", path.display())));
            return None;
        }
    };
    let writer = Redacting { inner: file, redactor: crate::secret::known() };
    // The default queue holds 128,000 lines (4 MB allocated up front, a
    // seventh of the whole process at 5,000 channels). gatewatch logs little;
    // past this many pending lines new ones are dropped, never blocking.
    let (writer, guard) =
        NonBlockingBuilder::default().buffered_lines_limit(LOG_QUEUE_LINES).lossy(true).finish(writer);
    // HTTP internals stay at warn whatever the level asked for: their traces
    // are noise here, and header bytes must never reach the log.
    let wanted = std::env::var("GATEWATCH_LOG").unwrap_or_else(|_| "warn".into());
    let filter = EnvFilter::try_new(format!("{wanted},hyper=warn,hyper_util=warn,reqwest=warn,h2=warn,rustls=warn"))
        .unwrap_or_else(|_| EnvFilter::new("warn"));
    if tracing_subscriber::fmt().with_writer(writer).with_ansi(false).with_env_filter(filter).try_init().is_err() {
        let _ = STATUS.set(LogStatus::Off("a logger was already installed".into()));
        return None;
    }
    let _ = STATUS.set(LogStatus::File(path));
    Some(guard)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_lines_are_redacted_before_the_disk() {
        let r = crate::secret::Redactor::new([crate::secret::Secret::new("sk-master-in-a-log-line-1")]);
        let mut w = Redacting { inner: Vec::new(), redactor: r };
        w.write_all(
            b"WARN auth failed for sk-master-in-a-log-line-1 (Bearer abcdefgh12345678) \x1b]0;t\x07\nINFO forged\n",
        )
        .unwrap();
        let out = String::from_utf8(w.inner).unwrap();
        assert!(!out.contains("sk-master-in-a-log-line-1") && !out.contains("abcdefgh12345678"), "{out}");
        assert!(!out.contains('\x1b') && out.contains("\\x1b"), "{out}");
        assert_eq!(out.lines().count(), 1, "one event, one line: {out}");
    }
}
