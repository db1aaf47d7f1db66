//! Writing files in the state directory (audit log, log file, reports,
//! remembered fingerprints) safely on a shared host: directories 0700, files
//! 0600, never through a symbolic link (refused with a message that says
//! so), temporary files with unpredictable names, and a state directory that
//! someone else owns or can write is refused rather than trusted.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

pub mod stream;

const DIR_MODE: u32 = 0o700;
const FILE_MODE: u32 = 0o600;

fn refuse(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::PermissionDenied, msg)
}

/// Turn "too many levels of symbolic links" from `O_NOFOLLOW` into what happened.
fn explain(e: io::Error, path: &Path) -> io::Error {
    if e.raw_os_error() == Some(nix::errno::Errno::ELOOP as i32) {
        refuse(format!("{} is a symbolic link: refusing to write through it", path.display()))
    } else {
        e
    }
}

/// Create `dir` and its missing parents with mode 0700. An existing
/// directory must be ours and not writable by anyone else (who could
/// replace the audit log or plant links in it): otherwise it is refused.
pub fn private_dir(dir: &Path) -> io::Result<()> {
    match std::fs::metadata(dir) {
        Ok(meta) => {
            if !meta.is_dir() {
                return Err(refuse(format!("{} is not a directory", dir.display())));
            }
            let me = nix::unistd::geteuid().as_raw();
            if meta.uid() != me {
                return Err(refuse(format!(
                    "{} belongs to uid {}, not to this user (uid {me}): refusing to keep state there",
                    dir.display(),
                    meta.uid()
                )));
            }
            if meta.mode() & 0o022 != 0 {
                return Err(refuse(format!(
                    "{} is writable by other users (mode {:o}): refusing to keep state there (chmod 700 it)",
                    dir.display(),
                    meta.mode() & 0o7777
                )));
            }
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            std::fs::DirBuilder::new().recursive(true).mode(DIR_MODE).create(dir)
        }
        Err(e) => Err(e),
    }
}

fn checked_parent(path: &Path) -> io::Result<()> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => private_dir(dir),
        _ => Ok(()),
    }
}

/// Only a regular file; one an older version left readable by others is made 0600.
fn regular(file: File, path: &Path) -> io::Result<File> {
    let meta = file.metadata()?;
    if meta.is_file() {
        if meta.mode() & 0o077 != 0 {
            file.set_permissions(std::fs::Permissions::from_mode(FILE_MODE))?;
        }
        Ok(file)
    } else {
        Err(refuse(format!("{} is not a regular file: refusing to write to it", path.display())))
    }
}

/// Open `path` for appending (created 0600), never through a symlink.
pub fn open_append(path: &Path) -> io::Result<File> {
    checked_parent(path)?;
    let file = OpenOptions::new()
        .append(true)
        .create(true)
        .mode(FILE_MODE)
        .custom_flags(nix::fcntl::OFlag::O_NOFOLLOW.bits() | nix::fcntl::OFlag::O_NONBLOCK.bits())
        .open(path)
        .map_err(|e| explain(e, path))?;
    regular(file, path)
}

/// Create `path` (0600; it must not exist yet, so nothing is followed or
/// overwritten), write `bytes` and sync them.
pub fn write_new(path: &Path, bytes: &[u8]) -> io::Result<()> {
    checked_parent(path)?;
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .custom_flags(nix::fcntl::OFlag::O_NOFOLLOW.bits())
        .open(path)
        .map_err(|e| explain(e, path))?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Replace `path` with `bytes` atomically: a new 0600 file with an
/// unpredictable name next to it (`O_EXCL`), synced, then renamed over
/// `path` (a rename replaces a symlink, it never writes through one).
pub fn replace(path: &Path, bytes: &[u8]) -> io::Result<()> {
    replace_via(path, |tmp| tmp.write_all(bytes))
}

/// [`replace`] with JSON serialised straight into the new file by `write`
/// (through [`stream::ScrubLines`]: masked as [`replace_scrubbed`] masks,
/// without holding the text whole). An error leaves `path` as it was.
pub fn replace_scrubbed_with(path: &Path, write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> io::Result<()> {
    replace_via(path, |tmp| {
        let mut out = stream::ScrubLines::new(io::BufWriter::with_capacity(64 << 10, tmp));
        write(&mut out)?;
        out.finish().map(drop)
    })
}

/// The temporary file of [`replace`], filled by `fill`, synced and renamed
/// over `path`; dropped (deleted) when `fill` fails.
fn replace_via(path: &Path, fill: impl FnOnce(&mut tempfile::NamedTempFile) -> io::Result<()>) -> io::Result<()> {
    checked_parent(path)?;
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new().prefix(".gatewatch-").suffix(".tmp").tempfile_in(dir)?;
    fill(&mut tmp)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// A gateway name as a file name: anything but letters, digits, `-` and
/// `_` becomes `_` (a name cannot climb out of the state dir).
pub fn file_safe(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect()
}

/// [`replace`] with text that came (in part) from a gateway: every secret
/// gatewatch knows and every echoed credential masked first, as on screen.
pub fn replace_scrubbed(path: &Path, text: &str) -> io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        private_dir(dir)?;
    }
    replace(path, crate::secret::scrub(text).as_bytes())
}

/// Append `items` to a JSON-lines file (the directory made private first,
/// every known secret and echoed credential masked); once the file passes
/// `max_bytes`, it is rewritten with only the lines `keep` wants (the
/// traffic history, the change log).
pub fn append_jsonl<T: serde::Serialize + serde::de::DeserializeOwned>(
    path: &Path,
    items: &[T],
    max_bytes: u64,
    keep: impl Fn(&T) -> bool,
) -> io::Result<()> {
    if items.is_empty() {
        return Ok(());
    }
    let mut text = String::new();
    for s in items {
        text.push_str(&serde_json::to_string(s).map_err(io::Error::other)?);
        text.push('\n');
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        private_dir(dir)?;
    }
    let mut f = open_append(path)?;
    f.write_all(crate::secret::scrub(&text).as_bytes())?;
    if f.metadata().map_or(0, |m| m.len()) > max_bytes {
        let mut out = String::new();
        for s in load_jsonl::<T>(path, max_bytes).iter().filter(|s| keep(s)) {
            if let Ok(line) = serde_json::to_string(s) {
                out.push_str(&line);
                out.push('\n');
            }
        }
        replace(path, out.as_bytes())?;
    }
    Ok(())
}

/// The lines of a JSON-lines file that parse (its last `read_bytes`; the
/// first line of a cut tail is skipped). A missing file is nothing.
pub fn load_jsonl<T: serde::de::DeserializeOwned>(path: &Path, read_bytes: u64) -> Vec<T> {
    let Ok(bytes) = crate::readlimit::read_tail(path, read_bytes) else { return Vec::new() };
    let text = String::from_utf8_lossy(&bytes);
    let mut lines = text.lines();
    if bytes.len() as u64 >= read_bytes {
        lines.next();
    }
    lines.filter_map(|l| serde_json::from_str::<T>(l).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(p: &Path) -> u32 {
        std::fs::symlink_metadata(p).unwrap().mode() & 0o777
    }

    #[test]
    fn a_streamed_replacement_is_masked_0600_and_all_or_nothing() {
        let root = tempfile::tempdir().unwrap();
        let f = root.path().join("state/carry.lists.json");
        let echoed = "Authorization: Bearer zyxwvuts98765432QQ";
        replace_scrubbed_with(&f, |w| stream::to_writer(w, &serde_json::json!([{ "note": echoed }]))).unwrap();
        assert_eq!(mode(&f), 0o600);
        let text = std::fs::read_to_string(&f).unwrap();
        assert!(!text.contains("zyxwvuts98765432QQ"), "{text}");
        assert!(serde_json::from_str::<serde_json::Value>(&text).is_ok(), "{text}");
        // A write that fails half way leaves the file as it was, and no temporary file beside it.
        let err = replace_scrubbed_with(&f, |w| {
            w.write_all(b"[{\"partial\":")?;
            Err(io::Error::other("serialiser gave up"))
        });
        assert!(err.is_err());
        assert_eq!(std::fs::read_to_string(&f).unwrap(), text);
        assert_eq!(std::fs::read_dir(root.path().join("state")).unwrap().count(), 1);
    }

    #[test]
    fn directories_0700_files_0600() {
        let root = tempfile::tempdir().unwrap();
        let f = root.path().join("state/sub/audit.jsonl");
        open_append(&f).unwrap().write_all(b"x\n").unwrap();
        assert_eq!(mode(&root.path().join("state")), 0o700);
        assert_eq!(mode(&root.path().join("state/sub")), 0o700);
        assert_eq!(mode(&f), 0o600);
        let r = root.path().join("state/reports/r.md");
        write_new(&r, b"# r").unwrap();
        assert_eq!(mode(&r), 0o600);
        assert!(write_new(&r, b"again").is_err(), "never overwrites");
        let m = root.path().join("state/fingerprints/m.json");
        replace(&m, b"{}").unwrap();
        replace(&m, b"{\"a\":1}").unwrap();
        assert_eq!(mode(&m), 0o600);
        assert_eq!(std::fs::read_to_string(&m).unwrap(), "{\"a\":1}");
        // An audit log an older version left 0644 becomes 0600.
        let old = root.path().join("state/old.jsonl");
        std::fs::write(&old, "").unwrap();
        std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o644)).unwrap();
        drop(open_append(&old).unwrap());
        assert_eq!(mode(&old), 0o600);
        // A directory others can write is refused, not changed.
        let shared = root.path().join("shared");
        std::fs::create_dir(&shared).unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).unwrap();
        let err = private_dir(&shared).unwrap_err().to_string();
        assert!(err.contains("writable by other users"), "{err}");
        assert_eq!(mode(&shared), 0o777);
    }

    #[test]
    fn symlinks_are_refused_and_the_victim_is_untouched() {
        let root = tempfile::tempdir().unwrap();
        let victim = root.path().join("victim");
        std::fs::write(&victim, "precious\n").unwrap();
        let link = root.path().join("audit.jsonl");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        let err = open_append(&link).unwrap_err().to_string();
        assert!(err.contains("symbolic link") && err.contains("refusing"), "{err}");
        let err = write_new(&link, b"x").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        // A replace swaps the link itself for a file: the victim keeps its content.
        replace(&link, b"{}").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
        assert!(std::fs::symlink_metadata(&link).unwrap().is_file());
    }

    #[test]
    fn a_fifo_in_place_of_the_log_is_refused_without_blocking() {
        let root = tempfile::tempdir().unwrap();
        let fifo = root.path().join("gatewatch.log");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
        // No reader: a blocking open would hang; non-blocking fails (ENXIO) or is refused.
        assert!(open_append(&fifo).is_err());
    }
}
