//! The LiteLLM config, re-read only when it changed.
//!
//! The poller reads the proxy's config.yaml every cycle (every few seconds
//! per gateway). A large file, or a hostile one that sits at the YAML
//! reader's alias budget, cost a full parse each time. Now the file is read
//! (bounded, regular files only: [`crate::readlimit`]) and parsed once, and
//! again only when it — or a file it includes — changed size, mtime, ctime
//! or inode, or when an environment variable the parse looked up changed
//! value. The secrets it holds are given to the redactor when it is read.

use std::cell::RefCell;
use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Mutex, PoisonError};
use std::time::SystemTime;

use crate::gateway::litellm::config_file::{self, EnvLookup, ProxyConfig, ProxyConfigError};
use crate::secret::Fingerprint;

/// What identifies a version of a file without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

fn stamp(path: &Path) -> Option<Stamp> {
    let m = std::fs::metadata(path).ok()?;
    Some(Stamp {
        dev: m.dev(),
        ino: m.ino(),
        size: m.size(),
        mtime: (m.mtime(), m.mtime_nsec()),
        ctime: (m.ctime(), m.ctime_nsec()),
    })
}

struct Entry {
    /// The file and the files it includes, as they were when parsed.
    files: Vec<(PathBuf, Option<Stamp>)>,
    /// Each variable the parse looked up, with its value's fingerprint.
    env: Vec<(String, Option<Fingerprint>)>,
    result: Result<ProxyConfig, ProxyConfigError>,
    /// How many times this path was read and parsed.
    parses: u64,
}

impl Entry {
    fn still_valid(&self, env: EnvLookup<'_>) -> bool {
        self.files.iter().all(|(p, s)| stamp(p) == *s)
            && self.env.iter().all(|(name, fp)| env(name).as_deref().map(Fingerprint::of) == *fp)
    }
}

static CACHE: LazyLock<Mutex<HashMap<PathBuf, Entry>>> = LazyLock::new(Mutex::default);

/// How many times the config at `path` was actually read and parsed.
pub fn parses_of(path: &Path) -> u64 {
    CACHE.lock().unwrap_or_else(PoisonError::into_inner).get(path).map_or(0, |e| e.parses)
}

/// The files a config includes (`include:` is relative to the config's directory).
fn included(path: &Path, cfg: &ProxyConfig) -> Vec<PathBuf> {
    let dir = path.parent().unwrap_or(Path::new("."));
    cfg.include_files.iter().map(|f| dir.join(f)).collect()
}

/// Read and parse the LiteLLM config at `path` as the proxy would, or give
/// back the last result when nothing it depends on changed.
pub fn litellm_config(path: &Path, env: EnvLookup<'_>) -> Result<ProxyConfig, ProxyConfigError> {
    let mut cache = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(e) = cache.get(path)
        && e.still_valid(env)
    {
        return e.result.clone();
    }
    let before = stamp(path);
    let seen: RefCell<Vec<(String, Option<Fingerprint>)>> = RefCell::new(Vec::new());
    let recording = |name: &str| {
        let v = env(name);
        seen.borrow_mut().push((name.to_owned(), v.as_deref().map(Fingerprint::of)));
        v
    };
    let result = read(path, &recording);
    let mut files = vec![(path.to_owned(), before)];
    if let Ok(cfg) = &result {
        files.extend(included(path, cfg).into_iter().map(|p| {
            let s = stamp(&p);
            (p, s)
        }));
    }
    let mut env_seen = seen.into_inner();
    env_seen.sort();
    env_seen.dedup();
    let parses = cache.get(path).map_or(0, |e| e.parses) + 1;
    cache.insert(path.to_owned(), Entry { files, env: env_seen, result: result.clone(), parses });
    result
}

fn read(path: &Path, env: EnvLookup<'_>) -> Result<ProxyConfig, ProxyConfigError> {
    let text = crate::readlimit::read_text(path, crate::readlimit::LITELLM_CONFIG, "a LiteLLM config")
        .map_err(|e| ProxyConfigError::Read { path: path.display().to_string(), message: e.to_string() })?;
    crate::secret::harvest::litellm_config(&text, env, &crate::secret::known());
    let modified: Option<SystemTime> = std::fs::metadata(path).and_then(|m| m.modified()).ok();
    let mut cfg = config_file::parse(&text, path, env)?;
    cfg.modified = modified;
    Ok(cfg)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str =
        "model_list:\n  - model_name: a\n    litellm_params: {model: openai/a, api_key: os.environ/CACHE_TEST_KEY}\n";

    #[test]
    fn reparsed_only_when_the_file_or_a_variable_changes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.yaml");
        std::fs::write(&path, TEXT).unwrap();
        let value = std::cell::RefCell::new("sk-cache-test-one-000000".to_owned());
        let env = |n: &str| (n == "CACHE_TEST_KEY").then(|| value.borrow().clone());
        let id = |c: &ProxyConfig| c.deployments[0].id.clone();
        let first = litellm_config(&path, &env).unwrap();
        let again = litellm_config(&path, &env).unwrap();
        assert_eq!(id(&first), id(&again));
        let cached = CACHE.lock().unwrap().get(&path).map(|e| e.env.clone()).unwrap();
        assert!(cached.iter().any(|(n, _)| n == "CACHE_TEST_KEY"), "{cached:?}");
        // A rotated variable changes the id without touching the file.
        *value.borrow_mut() = "sk-cache-test-two-000000".to_owned();
        let rotated = litellm_config(&path, &env).unwrap();
        assert_ne!(id(&first), id(&rotated));
        // An edit of the same size is seen too (mtime/ctime).
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&path, TEXT.replace("model_name: a", "model_name: b")).unwrap();
        assert_eq!(litellm_config(&path, &env).unwrap().deployments[0].model_name, "b");
        // A missing file is an error, and a file that appears later is read.
        let missing = dir.path().join("later.yaml");
        assert!(litellm_config(&missing, &env).is_err());
        std::fs::write(&missing, TEXT).unwrap();
        assert!(litellm_config(&missing, &env).is_ok());
    }

    #[test]
    fn huge_files_and_fifos_are_refused_with_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo.yaml");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
        let err = litellm_config(&fifo, &|_| None).unwrap_err().to_string();
        assert!(err.contains("a FIFO"), "{err}");
        let err = litellm_config(Path::new("/dev/zero"), &|_| None).unwrap_err().to_string();
        assert!(err.contains("character device"), "{err}");
        let big = dir.path().join("big.yaml");
        let f = std::fs::File::create(&big).unwrap();
        f.set_len(crate::readlimit::LITELLM_CONFIG + 1).unwrap();
        let err = litellm_config(&big, &|_| None).unwrap_err().to_string();
        assert!(err.contains("8 MiB limit for a LiteLLM config"), "{err}");
    }
}
