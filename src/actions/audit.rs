//! The append-only audit log: JSON lines in the state directory. Each record
//! is written and synced to disk before the action starts and after it ends,
//! and every command line is recorded before it runs and when it ends, so a
//! crash loses nothing that was done. Never a secret: free text passes
//! through the [`Redactor`] first. The file is 0600 in a 0700 directory and
//! never written through a symlink ([`crate::statefile`]). A record that
//! cannot be synced is an error the executor acts on: no action runs
//! unaudited unless the operator confirmed exactly that.

use std::io::{Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::SystemTime;

use serde::Serialize;

use crate::secret::Redactor;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AuditRecord {
    pub ts: String,
    pub id: u64,
    pub gateway: String,
    pub action: String,
    /// started | command | command_ended | finished | verified
    pub phase: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
}

/// RFC 3339 UTC with seconds.
pub fn rfc3339(t: SystemTime) -> String {
    let dt: time::OffsetDateTime = t.into();
    dt.format(&time::format_description::well_known::Rfc3339).unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}

/// Free space below which the start-up check calls the disk full.
const LOW_SPACE: u64 = 64 * 1024;

#[derive(Debug, Clone)]
pub struct AuditLog {
    path: PathBuf,
    redactor: Redactor,
    /// The last append failed.
    failing: Arc<AtomicBool>,
    /// An append worked after one failed (taken once).
    recovered: Arc<AtomicBool>,
}

impl AuditLog {
    pub fn new(path: PathBuf, redactor: Redactor) -> Self {
        Self { path, redactor, failing: Arc::default(), recovered: Arc::default() }
    }

    /// Whether an append worked after one had failed (true once).
    pub fn take_recovered(&self) -> bool {
        self.recovered.swap(false, Ordering::SeqCst)
    }

    /// Can records be written here at all? Creates the directory and the
    /// file (0700/0600, no symlink) and checks the disk is not full, so the
    /// operator learns before the first action, not during it.
    pub fn probe(&self) -> Result<(), String> {
        let shown = self.path.display();
        let file = crate::statefile::open_append(&self.path).map_err(|e| format!("{shown}: {e}"))?;
        file.sync_all().map_err(|e| format!("{shown}: {e}"))?;
        if let Some(dir) = self.path.parent()
            && let Ok(st) = nix::sys::statvfs::statvfs(dir)
        {
            // The field types differ between platforms (u32 on some): keep the conversions.
            #[allow(clippy::useless_conversion)]
            let free = u64::from(st.blocks_available()).saturating_mul(u64::from(st.fragment_size()));
            if free < LOW_SPACE {
                return Err(format!("{shown}: the disk is full ({free} bytes free)"));
            }
        }
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn record(&self, id: u64, gateway: &str, action: &str, phase: &str) -> AuditRecord {
        AuditRecord {
            ts: rfc3339(SystemTime::now()),
            id,
            gateway: gateway.to_owned(),
            action: action.to_owned(),
            phase: phase.to_owned(),
            outcome: None,
            detail: None,
            command: None,
            user: std::env::var("USER").ok(),
        }
    }

    /// Append one record and sync it to disk (blocking; call off the UI thread).
    pub fn append(&self, rec: &AuditRecord) -> std::io::Result<()> {
        let result = self.append_inner(rec);
        if result.is_err() {
            self.failing.store(true, Ordering::SeqCst);
        } else if self.failing.swap(false, Ordering::SeqCst) {
            self.recovered.store(true, Ordering::SeqCst);
        }
        result
    }

    fn append_inner(&self, rec: &AuditRecord) -> std::io::Result<()> {
        let mut rec = rec.clone();
        // Details quote gateways and command output: redacted, and no raw
        // escape or bidi character for whoever reads the file in a terminal.
        rec.detail = rec.detail.map(|d| crate::sanitize::line(&self.redactor.redact(&d)).into_owned());
        rec.command = rec.command.map(|c| self.redactor.redact(&c));
        let mut line = serde_json::to_string(&rec).map_err(std::io::Error::other)?;
        line.push('\n');
        let mut f = crate::statefile::open_append(&self.path)?;
        let before = f.seek(std::io::SeekFrom::End(0))?;
        if let Err(e) = f.write_all(line.as_bytes()).and_then(|()| f.sync_data()) {
            // A half-written line (disk full) would corrupt the next record: cut it off.
            let _ = f.set_len(before);
            return Err(e);
        }
        Ok(())
    }

    /// Append from async code, waiting until the record is on disk.
    pub async fn append_async(&self, rec: AuditRecord) -> std::io::Result<()> {
        let log = self.clone();
        tokio::task::spawn_blocking(move || log.append(&rec)).await.map_err(std::io::Error::other)?
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    #[test]
    fn appends_synced_json_lines_without_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::new(dir.path().join("a/audit.jsonl"), Redactor::new([Secret::new("sk-master-secret-123")]));
        let mut r = log.record(1, "gw", "restart", "started");
        r.command = Some("docker restart x".into());
        log.append(&r).unwrap();
        let mut r2 = log.record(1, "gw", "restart", "finished");
        r2.detail = Some("output mentions sk-master-secret-123".into());
        r2.outcome = Some("ok".into());
        log.append(&r2).unwrap();
        let text = std::fs::read_to_string(dir.path().join("a/audit.jsonl")).unwrap();
        assert_eq!(text.lines().count(), 2);
        assert!(!text.contains("sk-master-secret-123"));
        let v: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(v["phase"], "started");
        assert!(v["ts"].as_str().unwrap().ends_with('Z'));
        use std::os::unix::fs::MetadataExt;
        assert_eq!(std::fs::metadata(dir.path().join("a/audit.jsonl")).unwrap().mode() & 0o777, 0o600);
        assert_eq!(std::fs::metadata(dir.path().join("a")).unwrap().mode() & 0o777, 0o700);
        assert!(log.probe().is_ok());
    }

    #[test]
    fn a_symlinked_audit_log_is_refused_and_the_failure_remembered() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious\n").unwrap();
        std::os::unix::fs::symlink(&victim, dir.path().join("audit.jsonl")).unwrap();
        let log = AuditLog::new(dir.path().join("audit.jsonl"), Redactor::default());
        let err = log.append(&log.record(1, "gw", "restart", "started")).unwrap_err().to_string();
        assert!(err.contains("symbolic link"), "{err}");
        assert!(log.probe().unwrap_err().contains("symbolic link"));
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
        // Once it can be written again, that is noticed once.
        std::fs::remove_file(dir.path().join("audit.jsonl")).unwrap();
        log.append(&log.record(1, "gw", "restart", "finished")).unwrap();
        assert!(log.take_recovered());
        assert!(!log.take_recovered());
    }
}
