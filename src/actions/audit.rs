//! The append-only audit log: JSON lines in the state directory. Each record
//! is written and synced to disk before the action starts and after it ends,
//! so a crash loses nothing that was done. Never a secret: free text passes
//! through the [`Redactor`] first.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::Serialize;

use crate::secret::Redactor;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AuditRecord {
    pub ts: String,
    pub id: u64,
    pub gateway: String,
    pub action: String,
    /// confirmed | started | finished | verified
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

#[derive(Debug, Clone)]
pub struct AuditLog {
    path: PathBuf,
    redactor: Redactor,
}

impl AuditLog {
    pub fn new(path: PathBuf, redactor: Redactor) -> Self {
        Self { path, redactor }
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
        let mut rec = rec.clone();
        rec.detail = rec.detail.map(|d| self.redactor.redact(&d));
        rec.command = rec.command.map(|c| self.redactor.redact(&c));
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut line = serde_json::to_string(&rec).map_err(std::io::Error::other)?;
        line.push('\n');
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(&self.path)?;
        f.write_all(line.as_bytes())?;
        f.sync_data()
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
    }
}
