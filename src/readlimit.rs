//! Bounded reads of the files gatewatch is pointed at: its own config, the
//! LiteLLM config, the nginx config, the triage tree and the key files. A
//! path can name anything: `/dev/zero` would be read until memory runs out,
//! and a FIFO blocks `check` forever (a cron job that never ends). Only
//! regular files are read, never more than a cap per kind of file, and the
//! cap is named in the error.

use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// gatewatch's own config.yaml.
pub const CONFIG: u64 = 1024 * 1024;
/// The LiteLLM proxy's config.yaml (a few hundred deployments are ~200 KiB).
pub const LITELLM_CONFIG: u64 = 8 * 1024 * 1024;
/// An nginx config in front of the gateway.
pub const NGINX: u64 = 1024 * 1024;
/// A triage tree given with `--tree` / `tree_file`.
pub const TREE: u64 = 1024 * 1024;
/// `channel_keys_file`: channel id → where its key is.
pub const KEYS_MAP: u64 = 1024 * 1024;
/// One key in a file (`file:PATH` in `channel_keys_file`).
pub const KEY_FILE: u64 = 64 * 1024;
/// A pid file.
pub const PID_FILE: u64 = 4096;

/// Why a file was not read. The path is added by the caller.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("not a regular file ({0}): gatewatch reads only regular files")]
    NotRegular(&'static str),
    #[error("larger than the {cap} limit for {what}{size}")]
    TooLarge { what: &'static str, cap: String, size: String },
    #[error("not UTF-8 text")]
    NotUtf8,
}

impl From<ReadError> for std::io::Error {
    fn from(e: ReadError) -> Self {
        match e {
            ReadError::Io(io) => io,
            other => Self::new(std::io::ErrorKind::InvalidData, other.to_string()),
        }
    }
}

/// `1 MiB`, `64 KiB`, `512 bytes`.
pub fn human_size(n: u64) -> String {
    if n >= 1024 * 1024 && n.is_multiple_of(1024 * 1024) {
        format!("{} MiB", n / (1024 * 1024))
    } else if n >= 1024 * 1024 {
        #[allow(clippy::cast_precision_loss)]
        let mib = n as f64 / (1024.0 * 1024.0);
        format!("{mib:.1} MiB")
    } else if n >= 1024 && n.is_multiple_of(1024) {
        format!("{} KiB", n / 1024)
    } else {
        format!("{n} bytes")
    }
}

fn kind_of(ft: std::fs::FileType) -> Option<&'static str> {
    if ft.is_file() {
        None
    } else if ft.is_dir() {
        Some("a directory")
    } else if ft.is_fifo() {
        Some("a FIFO")
    } else if ft.is_char_device() {
        Some("a character device")
    } else if ft.is_block_device() {
        Some("a block device")
    } else if ft.is_socket() {
        Some("a socket")
    } else {
        Some("not a file")
    }
}

/// Read at most `cap` bytes of the regular file `path` (`what` names the
/// kind of file in the error: "a LiteLLM config").
pub fn read_bytes(path: &Path, cap: u64, what: &'static str) -> Result<Vec<u8>, ReadError> {
    // Refuse before opening: opening a FIFO for reading blocks until a writer comes.
    if let Some(kind) = kind_of(std::fs::metadata(path)?.file_type()) {
        return Err(ReadError::NotRegular(kind));
    }
    // Non-blocking, in case the path was swapped for a FIFO since; checked again on the open file.
    let file = std::fs::OpenOptions::new().read(true).custom_flags(nix::fcntl::OFlag::O_NONBLOCK.bits()).open(path)?;
    let meta = file.metadata()?;
    if let Some(kind) = kind_of(meta.file_type()) {
        return Err(ReadError::NotRegular(kind));
    }
    let too_large = |size: String| ReadError::TooLarge { what, cap: human_size(cap), size };
    if meta.len() > cap {
        return Err(too_large(format!(" (it is {})", human_size(meta.len()))));
    }
    let mut buf = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    // A file that grows while it is read (or lies about its size) stops at the cap too.
    file.take(cap + 1).read_to_end(&mut buf)?;
    if buf.len() as u64 > cap {
        return Err(too_large(String::new()));
    }
    Ok(buf)
}

/// The last `cap` bytes of the regular file `path` (a log or a store that
/// may have grown: its newest part).
pub fn read_tail(path: &Path, cap: u64) -> Result<Vec<u8>, ReadError> {
    let mut buf = Vec::new();
    open_tail(path, cap)?.read_to_end(&mut buf)?;
    Ok(buf)
}

/// [`read_tail`] as a reader, for a file parsed as it is read (a state
/// file of tens of megabytes is then never held whole beside what it holds).
pub fn open_tail(path: &Path, cap: u64) -> Result<std::io::Take<std::fs::File>, ReadError> {
    use std::io::{Seek, SeekFrom};
    if let Some(kind) = kind_of(std::fs::metadata(path)?.file_type()) {
        return Err(ReadError::NotRegular(kind));
    }
    let mut file =
        std::fs::OpenOptions::new().read(true).custom_flags(nix::fcntl::OFlag::O_NONBLOCK.bits()).open(path)?;
    let meta = file.metadata()?;
    if let Some(kind) = kind_of(meta.file_type()) {
        return Err(ReadError::NotRegular(kind));
    }
    file.seek(SeekFrom::Start(meta.len().saturating_sub(cap)))?;
    Ok(file.take(cap))
}

/// [`read_bytes`] as UTF-8 text.
pub fn read_text(path: &Path, cap: u64, what: &'static str) -> Result<String, ReadError> {
    String::from_utf8(read_bytes(path, cap, what)?).map_err(|_| ReadError::NotUtf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_files_are_read_up_to_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("c.yaml");
        std::fs::write(&f, "a: 1\n").unwrap();
        assert_eq!(read_text(&f, 16, "a test file").unwrap(), "a: 1\n");
        std::fs::write(&f, vec![b'x'; 2048]).unwrap();
        let err = read_text(&f, 1024, "a test file").unwrap_err().to_string();
        assert_eq!(err, "larger than the 1 KiB limit for a test file (it is 2 KiB)");
    }

    #[test]
    fn devices_directories_and_fifos_are_refused_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
        let started = std::time::Instant::now();
        for (p, kind) in
            [(Path::new("/dev/zero"), "a character device"), (dir.path(), "a directory"), (fifo.as_path(), "a FIFO")]
        {
            let err = read_text(p, CONFIG, "a config").unwrap_err().to_string();
            assert!(err.contains(kind) && err.contains("only regular files"), "{p:?}: {err}");
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        assert!(read_text(&dir.path().join("missing"), CONFIG, "a config").is_err());
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(human_size(8 * 1024 * 1024), "8 MiB");
        assert_eq!(human_size(64 * 1024), "64 KiB");
        assert_eq!(human_size(1536 * 1024), "1.5 MiB");
        assert_eq!(human_size(100), "100 bytes");
    }
}
