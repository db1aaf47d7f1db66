//! The LiteLLM proxy's environment as a gateway configures it: `env_file`
//! (read every cycle, like the config file) or `env_command` (run with the
//! action timeout, at most once a minute per gateway unless a fresh read is
//! asked for, as after a restart), else gatewatch's own environment. The
//! command's output is parsed and dropped: never shown, never logged.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{LazyLock, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::command;
use crate::config::GatewaySpec;
use crate::gateway::litellm::proxy_env::{EnvSource, ProxyEnv};

/// Largest env_file read (a local bounded read).
const FILE_LIMIT: u64 = 1024 * 1024;
/// `command::run` keeps this much output; more means a cut-off environment.
const OUTPUT_LIMIT: usize = 64 * 1024;
/// How long an `env_command` result is reused between poll cycles.
const COMMAND_TTL: Duration = Duration::from_secs(60);

/// (gateway name, command) → when it ran, and what it gave.
type CommandCache = HashMap<(String, String), (Instant, ProxyEnv)>;

static COMMAND_CACHE: LazyLock<Mutex<CommandCache>> = LazyLock::new(|| Mutex::new(HashMap::new()));

fn read_env_file(path: &Path) -> ProxyEnv {
    let source = EnvSource::File(path.to_owned());
    match crate::readlimit::read_text(path, FILE_LIMIT, "an env file") {
        Err(e) => ProxyEnv::unreadable(source, e.to_string()),
        Ok(text) => ProxyEnv::from_dotenv(source, &text),
    }
}

async fn run_env_command(cmd: &str, timeout: Duration, pass_env: &[String]) -> ProxyEnv {
    let source = EnvSource::Command(cmd.to_owned());
    // stdout only: stderr lines ("Defaulted container …") are not variables.
    let out = command::run(&format!("(\n{cmd}\n) 2>/dev/null"), timeout, pass_env).await;
    if !out.success() {
        // The output may hold the environment's values: only the exit status is said.
        tracing::info!(command = %cmd, end = %out.describe(), "env_command failed");
        return ProxyEnv::unreadable(
            source,
            format!("{}; run it by hand to see why (its output is never shown)", out.describe()),
        );
    }
    if out.output.len() >= OUTPUT_LIMIT {
        return ProxyEnv::unreadable(source, "its output is larger than 64 KiB");
    }
    ProxyEnv::from_env_output(source, &out.output)
}

/// The proxy's environment for `spec`. `fresh` skips the `env_command` cache.
pub async fn proxy_env(spec: &GatewaySpec, fresh: bool) -> ProxyEnv {
    if let Some(path) = &spec.env_file {
        let path = path.clone();
        let source = EnvSource::File(path.clone());
        return tokio::task::spawn_blocking(move || read_env_file(&path))
            .await
            .unwrap_or_else(|e| ProxyEnv::unreadable(source, e.to_string()));
    }
    let Some(cmd) = &spec.env_command else { return ProxyEnv::own() };
    let key = (spec.name.clone(), cmd.clone());
    if !fresh {
        let cache = COMMAND_CACHE.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((at, env)) = cache.get(&key)
            && at.elapsed() < COMMAND_TTL
        {
            return env.clone();
        }
    }
    let env = run_env_command(cmd, spec.action_timeout, &spec.pass_env).await;
    COMMAND_CACHE.lock().unwrap_or_else(PoisonError::into_inner).insert(key, (Instant::now(), env.clone()));
    env
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::GatewayKind;
    use crate::gateway::litellm::proxy_env::Lookup;

    fn spec() -> GatewaySpec {
        let mut s = GatewaySpec::new("env-test", GatewayKind::LiteLlm, "http://127.0.0.1:4000");
        s.action_timeout = Duration::from_secs(10);
        s
    }

    #[tokio::test]
    async fn env_file_is_the_whole_environment() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("proxy.env");
        std::fs::write(&f, "export THIRD_KEY='sk-from-file-1234'\n").unwrap();
        let mut s = spec();
        s.env_file = Some(f.clone());
        let env = proxy_env(&s, false).await;
        assert!(env.is_whole());
        assert_eq!(env.lookup("THIRD_KEY"), Lookup::Set("sk-from-file-1234".into()));
        assert_eq!(env.lookup("OTHER"), Lookup::Unset);
        s.env_file = Some(dir.path().join("missing.env"));
        assert!(
            matches!(proxy_env(&s, false).await.lookup("THIRD_KEY"), Lookup::Unknown(w) if w.contains("missing.env"))
        );
    }

    #[tokio::test]
    async fn env_command_output_is_parsed_cached_and_never_repeated_on_failure() {
        let dir = tempfile::tempdir().unwrap();
        let counter = dir.path().join("runs");
        let mut s = spec();
        s.name = "env-cmd-test".into();
        s.env_command = Some(format!(
            "echo run >> {}; echo noise >&2; printf 'A=1\\nSECRET=sk-cmd-secret-99\\n'",
            counter.display()
        ));
        let env = proxy_env(&s, false).await;
        assert_eq!(env.lookup("SECRET"), Lookup::Set("sk-cmd-secret-99".into()));
        assert_eq!(env.lookup("noise"), Lookup::Unset);
        let _ = proxy_env(&s, false).await;
        assert_eq!(std::fs::read_to_string(&counter).unwrap().lines().count(), 1, "cached");
        let _ = proxy_env(&s, true).await;
        assert_eq!(std::fs::read_to_string(&counter).unwrap().lines().count(), 2, "fresh");
        let out = dir.path().join("out");
        std::fs::write(&out, "SECRET=sk-cmd-secret-99\n").unwrap();
        s.env_command = Some(format!("cat {}; exit 4", out.display()));
        let env = proxy_env(&s, true).await;
        let Lookup::Unknown(why) = env.lookup("SECRET") else { panic!("must be unknown") };
        assert!(why.contains("exit 4") && !why.contains("sk-cmd"), "{why}");
    }
}
