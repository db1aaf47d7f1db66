//! Running the operator's commands (restart, reload, discovery, validation):
//! `sh -c` in its own process group, stdin closed, output captured up to a
//! limit, and on timeout the whole group is killed so nothing lingers. The
//! child's environment has none of the variables that hold gatewatch's
//! credentials (the master key, access tokens, upstream keys it read),
//! except those the gateway's config lists in `pass_env:`. Replica values
//! are filled into commands by [`template`].

mod template;

pub use template::{PLACEHOLDERS, ReplicaWords, discovered_url, expand, per_replica, replica_words, shell_quote};

use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::AsyncReadExt;
use tokio::process::Command;

const OUTPUT_LIMIT: usize = 64 * 1024;

/// How a command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandEnd {
    Exited(i32),
    Signalled,
    TimedOut,
    /// It could not be started at all (no shell, …).
    NotStarted(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandOutcome {
    pub end: CommandEnd,
    pub output: String,
    pub elapsed: Duration,
}

impl CommandOutcome {
    pub fn success(&self) -> bool {
        self.end == CommandEnd::Exited(0)
    }

    /// One line for the screen.
    pub fn describe(&self) -> String {
        let how = match &self.end {
            CommandEnd::Exited(0) => "exited 0".to_owned(),
            CommandEnd::Exited(127) => "exit 127: command not found".to_owned(),
            CommandEnd::Exited(126) => "exit 126: not executable".to_owned(),
            CommandEnd::Exited(c) => format!("exit {c}"),
            CommandEnd::Signalled => "killed by a signal".to_owned(),
            CommandEnd::TimedOut => "timed out, process group killed".to_owned(),
            CommandEnd::NotStarted(e) => format!("could not start: {e}"),
        };
        format!("{how} after {}", crate::config::duration::human(self.elapsed))
    }

    /// The last non-empty lines of output.
    pub fn tail(&self, lines: usize) -> Vec<String> {
        let all: Vec<&str> = self.output.lines().filter(|l| !l.trim().is_empty()).collect();
        all[all.len().saturating_sub(lines)..].iter().map(|l| l.chars().take(200).collect()).collect()
    }
}

async fn read_limited<R: tokio::io::AsyncRead + Unpin>(mut r: R) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match r.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if out.len() < OUTPUT_LIMIT {
                    let take = n.min(OUTPUT_LIMIT - out.len());
                    out.extend_from_slice(&buf[..take]);
                }
            }
        }
    }
    out
}

/// The credential variables a child command does not get: every variable
/// gatewatch knows to hold a secret, minus the ones `pass_env` names.
pub fn withheld_vars(pass_env: &[String]) -> Vec<String> {
    crate::secret::known().vars().into_iter().filter(|v| !pass_env.contains(v)).collect()
}

/// Run `cmd` with `sh -c`, bounded by `timeout`, without gatewatch's
/// credential variables except those in `pass_env`.
pub async fn run(cmd: &str, timeout: Duration, pass_env: &[String]) -> CommandOutcome {
    let started = Instant::now();
    let mut command = Command::new("sh");
    for var in withheld_vars(pass_env) {
        command.env_remove(var);
    }
    command
        .arg("-c")
        .arg(cmd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let mut child = match command.spawn() {
        Ok(c) => c,
        Err(e) => {
            return CommandOutcome {
                end: CommandEnd::NotStarted(e.to_string()),
                output: String::new(),
                elapsed: started.elapsed(),
            };
        }
    };
    let pgid = child.id();
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let out_task = tokio::spawn(async move {
        match stdout {
            Some(s) => read_limited(s).await,
            None => Vec::new(),
        }
    });
    let err_task = tokio::spawn(async move {
        match stderr {
            Some(s) => read_limited(s).await,
            None => Vec::new(),
        }
    });
    let end = match tokio::time::timeout(timeout, child.wait()).await {
        Ok(Ok(status)) => status.code().map_or(CommandEnd::Signalled, CommandEnd::Exited),
        Ok(Err(e)) => CommandEnd::NotStarted(e.to_string()),
        Err(_) => {
            kill_group(pgid);
            let _ = tokio::time::timeout(Duration::from_secs(2), child.wait()).await;
            CommandEnd::TimedOut
        }
    };
    // A command that exits on its own may leave a daemon behind on purpose
    // (a restart script that starts the new gateway in the background): it is
    // not killed. Grandchildren holding the pipes open only cost the 2 s
    // below, never a stall.
    let collect = |t: tokio::task::JoinHandle<Vec<u8>>| async move {
        tokio::time::timeout(Duration::from_secs(2), t).await.ok().and_then(Result::ok).unwrap_or_default()
    };
    let mut output = String::from_utf8_lossy(&collect(out_task).await).into_owned();
    let err = collect(err_task).await;
    if !err.is_empty() {
        if !output.is_empty() && !output.ends_with('\n') {
            output.push('\n');
        }
        output.push_str(&String::from_utf8_lossy(&err));
    }
    CommandOutcome { end, output, elapsed: started.elapsed() }
}

fn kill_group(pgid: Option<u32>) {
    if let Some(pid) = pgid.and_then(|p| i32::try_from(p).ok()) {
        let _ = nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn captures_output_and_exit_code() {
        let o = run("echo hello; echo oops >&2; exit 3", Duration::from_secs(5), &[]).await;
        assert_eq!(o.end, CommandEnd::Exited(3));
        assert!(o.output.contains("hello") && o.output.contains("oops"));
    }

    #[tokio::test]
    async fn hanging_command_is_killed_with_its_children() {
        let o = run("sleep 30 & sleep 30; echo never", Duration::from_millis(300), &[]).await;
        assert_eq!(o.end, CommandEnd::TimedOut);
        assert!(o.elapsed < Duration::from_secs(5));
        assert!(!o.output.contains("never"));
    }

    #[tokio::test]
    async fn a_daemon_left_behind_on_purpose_survives() {
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("pid");
        let cmd = format!("sleep 30 >/dev/null 2>&1 & echo $! > {}; echo started", pidfile.display());
        let o = run(&cmd, Duration::from_secs(5), &[]).await;
        assert!(o.success(), "{o:?}");
        let pid: i32 = std::fs::read_to_string(&pidfile).unwrap().trim().parse().unwrap();
        let alive = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok();
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
        assert!(alive, "the background process was killed");
    }

    #[tokio::test]
    async fn credential_variables_stay_out_of_children_unless_passed() {
        // Setting variables needs `unsafe` in edition 2024: use two that cargo
        // sets for every test run, marked as holding secrets here (no other
        // test depends on them reaching a child).
        let (held, passed) = ("CARGO_PKG_NAME", "CARGO_PKG_VERSION");
        assert!(std::env::var(held).is_ok() && std::env::var(passed).is_ok(), "cargo test sets both");
        crate::secret::known().add_var(held, None);
        crate::secret::known().add_var(passed, None);
        let o = run("printenv", Duration::from_secs(5), &[passed.to_owned()]).await;
        assert!(o.success(), "{o:?}");
        assert!(!o.output.contains(&format!("{held}=")), "{held} reached the child");
        assert!(o.output.contains(&format!("{passed}=")), "{passed} was listed in pass_env");
        assert!(o.output.contains("PATH="), "the rest of the environment is kept");
    }

    #[tokio::test]
    async fn missing_command_is_reported() {
        let o = run("definitely-not-a-command-gatewatch", Duration::from_secs(5), &[]).await;
        assert_eq!(o.end, CommandEnd::Exited(127));
        assert!(o.describe().contains("not found"));
    }
}
