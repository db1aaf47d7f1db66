//! The LiteLLM config, re-read only when it changed.
//!
//! The poller reads the proxy's config.yaml every cycle (every few seconds
//! per gateway). A large file, or a hostile one that sits at the YAML
//! reader's alias budget, cost a full parse each time. Now the file is read
//! (bounded, regular files only: [`crate::readlimit`]) and parsed once, and
//! again only when it — or a file it includes — changed size, mtime, ctime
//! or inode, or when an environment variable the parse looked up changed
//! value. The secrets it holds are given to the redactor when it is read.

use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Mutex, PoisonError};

use crate::gateway::litellm::config_file::{self, ProxyConfig, ProxyConfigError};
use crate::gateway::litellm::proxy_env::{Lookup, ProxyEnv};
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
    /// What each variable the config references resolved to in the proxy's
    /// environment (a fingerprint, or why it is unset or unknown).
    env: Vec<(String, String)>,
    result: Result<ProxyConfig, ProxyConfigError>,
    /// How many times this path was read and parsed.
    parses: u64,
}

/// How a variable resolves, as something to compare (never the value).
fn resolution(env: &ProxyEnv, name: &str) -> String {
    match env.lookup(name) {
        Lookup::Set(v) => Fingerprint::of(&v).to_string(),
        Lookup::Unset => "unset".to_owned(),
        Lookup::Unknown(why) => format!("unknown: {why}"),
    }
}

impl Entry {
    fn still_valid(&self, env: &ProxyEnv) -> bool {
        self.files.iter().all(|(p, s)| stamp(p) == *s) && self.env.iter().all(|(name, r)| resolution(env, name) == *r)
    }
}

static CACHE: LazyLock<Mutex<HashMap<PathBuf, Entry>>> = LazyLock::new(Mutex::default);

/// How many times the config at `path` was actually read and parsed.
pub fn parses_of(path: &Path) -> u64 {
    CACHE.lock().unwrap_or_else(PoisonError::into_inner).get(path).map_or(0, |e| e.parses)
}

/// Read and parse the LiteLLM config at `path` as the proxy would (its
/// includes, names resolved in the proxy's environment), or give back the
/// last result when nothing it depends on changed.
pub fn litellm_config(path: &Path, env: &ProxyEnv) -> Result<ProxyConfig, ProxyConfigError> {
    let mut cache = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(e) = cache.get(path)
        && e.still_valid(env)
    {
        return e.result.clone();
    }
    let before = stamp(path);
    let result = read(path, env);
    let (files, mut names) = match &result {
        Ok(cfg) => (
            cfg.files.iter().map(|p| (p.clone(), stamp(p))).collect(),
            cfg.env_refs.iter().map(|r| r.name.clone()).collect::<Vec<_>>(),
        ),
        Err(_) => (vec![(path.to_owned(), before)], Vec::new()),
    };
    names.sort();
    names.dedup();
    let env_seen = names.into_iter().map(|n| (resolution(env, &n), n)).map(|(r, n)| (n, r)).collect();
    let parses = cache.get(path).map_or(0, |e| e.parses) + 1;
    cache.insert(path.to_owned(), Entry { files, env: env_seen, result: result.clone(), parses });
    result
}

fn read(path: &Path, env: &ProxyEnv) -> Result<ProxyConfig, ProxyConfigError> {
    // The secrets it holds (literal keys, values of the variables it names,
    // the proxy's environment) are known to the redactor before anything
    // from this file can be shown.
    let known = crate::secret::known();
    for v in env.values() {
        known.add(v);
    }
    if let Ok(text) = crate::readlimit::read_text(path, crate::readlimit::LITELLM_CONFIG, "a LiteLLM config") {
        let lookup = |n: &str| match env.lookup(n) {
            Lookup::Set(v) => Some(v),
            _ => None,
        };
        crate::secret::harvest::litellm_config(&text, &lookup, &known);
    }
    config_file::load_in(path, env)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str =
        "model_list:\n  - model_name: a\n    litellm_params: {model: openai/a, api_key: os.environ/CACHE_TEST_KEY}\n";

    #[test]
    fn reparsed_only_when_the_file_or_a_variable_changes() {
        use crate::gateway::litellm::proxy_env::EnvSource;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.yaml");
        std::fs::write(&path, TEXT).unwrap();
        let env_file = EnvSource::File(dir.path().join(".env"));
        let env = |v: &str| ProxyEnv::whole(env_file.clone(), &[("CACHE_TEST_KEY", v)]);
        let one = env("sk-cache-test-one-000000");
        let id = |c: &ProxyConfig| c.deployments[0].id.clone();
        let first = litellm_config(&path, &one).unwrap();
        let again = litellm_config(&path, &one).unwrap();
        assert_eq!(id(&first), id(&again));
        assert_eq!(parses_of(&path), 1, "read and parsed once");
        let cached = CACHE.lock().unwrap().get(&path).map(|e| e.env.clone()).unwrap();
        assert!(cached.iter().any(|(n, _)| n == "CACHE_TEST_KEY"), "{cached:?}");
        // A rotated variable changes the id without touching the file.
        let rotated = litellm_config(&path, &env("sk-cache-test-two-000000")).unwrap();
        assert_ne!(id(&first), id(&rotated));
        // An edit of the same size is seen too (mtime/ctime).
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&path, TEXT.replace("model_name: a", "model_name: b")).unwrap();
        assert_eq!(litellm_config(&path, &one).unwrap().deployments[0].model_name, "b");
        // A missing file is an error, and a file that appears later is read.
        let missing = dir.path().join("later.yaml");
        assert!(litellm_config(&missing, &one).is_err());
        std::fs::write(&missing, TEXT).unwrap();
        assert!(litellm_config(&missing, &one).is_ok());
    }

    #[test]
    fn huge_files_and_fifos_are_refused_with_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo.yaml");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
        let err = litellm_config(&fifo, &ProxyEnv::own()).unwrap_err().to_string();
        assert!(err.contains("a FIFO"), "{err}");
        let err = litellm_config(Path::new("/dev/zero"), &ProxyEnv::own()).unwrap_err().to_string();
        assert!(err.contains("character device"), "{err}");
        let big = dir.path().join("big.yaml");
        let f = std::fs::File::create(&big).unwrap();
        f.set_len(crate::readlimit::LITELLM_CONFIG + 1).unwrap();
        let err = litellm_config(&big, &ProxyEnv::own()).unwrap_err().to_string();
        assert!(err.contains("8 MiB limit for a LiteLLM config"), "{err}");
    }
}
