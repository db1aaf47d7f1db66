//! The last full deployment / channel list of each gateway, kept under the
//! state dir, so that reopening gatewatch mid-incident shows the last full
//! picture at once — with its age — while the first poll reads the list
//! again (10,000 New API channels are 100 pages: past half of the rate
//! limit the pacer spreads them, and the first full read takes a minute).
//!
//! Written by the TUI and by `gatewatch check` after a full list was read
//! (at most once every [`SAVE_EVERY_SECS`]); a cron `check` keeps it warm.
//! Only what the admin API returned, which holds no key (LiteLLM hides it,
//! New API blanks it), passed through the redactor of every secret gatewatch
//! knows before it is written. A snapshot older than [`MAX_AGE_SECS`] is not
//! shown.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::gateway::Deployment;

/// A list is written at most this often (per gateway).
pub const SAVE_EVERY_SECS: i64 = 300;
/// Older snapshots are not shown.
pub const MAX_AGE_SECS: i64 = 24 * 3600;
/// The largest snapshot read back.
const MAX_BYTES: u64 = 96 << 20;

/// One gateway's last full list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListSnapshot {
    pub gateway: String,
    /// The replica that answered it.
    pub replica: String,
    /// Unix seconds when it was read.
    pub at: i64,
    /// Written with its count first: read back at its size.
    #[serde(with = "crate::gateway::counted")]
    pub deployments: std::sync::Arc<Vec<Deployment>>,
}

/// `<state>/snapshot/<gateway>.json`.
pub fn path(state_dir: &Path, gateway: &str) -> PathBuf {
    state_dir.join("snapshot").join(format!("{}.json", crate::statefile::file_safe(gateway)))
}

/// Write a snapshot (private dir, atomic replace), every known secret redacted.
pub fn save(path: &Path, snap: &ListSnapshot) -> std::io::Result<()> {
    // Written as it is serialised: 27 MB of JSON at 50,000 channels.
    crate::statefile::replace_scrubbed_with(path, |w| crate::statefile::stream::to_writer(w, snap))
}

/// The snapshot, if there is one for `gateway`, readable, and not older than
/// [`MAX_AGE_SECS`] at `now`.
pub fn load(path: &Path, gateway: &str, now: i64) -> Option<ListSnapshot> {
    let file = crate::readlimit::open_tail(path, MAX_BYTES).ok()?;
    // Strings shared as they are read: the list is born lean.
    let mut snap: ListSnapshot =
        crate::gateway::text::sharing(|| serde_json::from_reader(std::io::BufReader::new(file))).ok()?;
    if !(snap.gateway == gateway && showable(snap.at, now)) {
        return None;
    }
    crate::gateway::compact_list(&mut snap.deployments);
    Some(snap)
}

/// When the snapshot [`load`] would show was read (unix seconds), found
/// without keeping its list: the file is scanned, nothing of it held.
pub fn peek_at(path: &Path, gateway: &str, now: i64) -> Option<i64> {
    #[derive(Deserialize)]
    struct Head {
        gateway: String,
        at: i64,
    }
    let file = crate::readlimit::open_tail(path, MAX_BYTES).ok()?;
    let head: Head = serde_json::from_reader(std::io::BufReader::new(file)).ok()?;
    (head.gateway == gateway && showable(head.at, now)).then_some(head.at)
}

/// A list read at `at` is shown at `now`: not older than [`MAX_AGE_SECS`],
/// not from the future (a minute of clock skew allowed).
pub fn showable(at: i64, now: i64) -> bool {
    now - at <= MAX_AGE_SECS && at <= now + 60
}

/// When the poller of one gateway last wrote (it writes at most every
/// [`SAVE_EVERY_SECS`]).
#[derive(Debug, Default)]
pub struct Saver {
    last: Option<i64>,
}

impl Saver {
    /// Whether a full list read at `at` is worth writing; a due one is counted as written.
    pub fn due(&mut self, at: i64) -> bool {
        let due = self.last.is_none_or(|l| at - l >= SAVE_EVERY_SECS);
        if due {
            self.last = Some(at);
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_age_and_redaction() {
        let dir = tempfile::tempdir().unwrap();
        let p = path(dir.path(), "prod/../x");
        assert!(p.starts_with(dir.path()));
        let mut d = Deployment::new("7", "openai-main");
        d.api_base = Some("https://api.example.com/v1?key=sk-snapshot-SECRET-0011223344".into());
        crate::secret::known().add(crate::secret::Secret::new("sk-snapshot-SECRET-0011223344"));
        let s = ListSnapshot {
            gateway: "prod/../x".into(),
            replica: "http://r".into(),
            at: 1_000,
            deployments: vec![d].into(),
        };
        save(&p, &s).unwrap();
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(!text.contains("sk-snapshot-SECRET-0011223344"), "{text}");
        let back = load(&p, "prod/../x", 1_000 + 3600).unwrap();
        assert_eq!(back.deployments[0].name, "openai-main");
        assert!(load(&p, "prod/../x", 1_000 + MAX_AGE_SECS + 1).is_none(), "too old to show");
        assert!(load(&p, "other", 1_100).is_none(), "another gateway's file");
        let mut saver = Saver::default();
        assert!(saver.due(10) && !saver.due(200) && saver.due(310));
    }
}
