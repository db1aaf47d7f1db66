//! The LiteLLM proxy's own environment: where every `os.environ/NAME` in its
//! config is resolved.
//!
//! The proxy resolves those names in *its* process environment, which in
//! Docker, systemd or Kubernetes is not gatewatch's. A gateway can name the
//! proxy's environment (`env_file:` in docker compose `.env` / systemd
//! `EnvironmentFile` syntax, or `env_command:` printing `KEY=VALUE` lines such
//! as `docker exec litellm env`): it is then the proxy's *whole* environment,
//! and a name missing from it resolves as in the proxy, to no value. Without
//! one, gatewatch's own environment stands in, and a name missing there is
//! *unknown*: the proxy may well have it.
//!
//! Values are only ever hashed: nothing here has a `Display`, and `Debug`
//! shows names and counts only.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;

/// Where the proxy's environment comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvSource {
    /// Nothing configured: gatewatch's own process environment stands in.
    Own,
    /// `env_file:` (dotenv syntax).
    File(PathBuf),
    /// `env_command:` (`KEY=VALUE` lines, or NUL-separated as `env -0` prints).
    Command(String),
}

impl EnvSource {
    /// How the operator recognises it on screen.
    pub fn describe(&self) -> String {
        match self {
            Self::Own => "gatewatch's own environment".into(),
            Self::File(p) => format!("env_file {}", p.display()),
            Self::Command(c) => format!("env_command `{c}`"),
        }
    }
}

/// What a name resolves to in the proxy.
#[derive(Clone, PartialEq, Eq)]
pub enum Lookup {
    Set(String),
    /// Known to be absent: the proxy resolves it to `None`.
    Unset,
    /// Cannot be known from here, and why.
    Unknown(String),
}

impl fmt::Debug for Lookup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Set(v) => write!(f, "Set({})", crate::secret::Fingerprint::of(v)),
            Self::Unset => f.write_str("Unset"),
            Self::Unknown(why) => write!(f, "Unknown({why})"),
        }
    }
}

/// One variable as the source states it.
#[derive(Clone, PartialEq, Eq)]
enum Value {
    Plain(String),
    /// The source holds it in a form gatewatch cannot resolve for sure
    /// (`${OTHER}` interpolation, a stray quote): why.
    Unsure(String),
}

/// The proxy's environment as gatewatch knows it.
#[derive(Clone)]
pub struct ProxyEnv {
    source: EnvSource,
    /// `None`: gatewatch's own process environment (read on lookup).
    vars: Option<HashMap<String, Value>>,
    /// The source is configured but could not be read.
    error: Option<String>,
}

impl fmt::Debug for ProxyEnv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ProxyEnv({}, {} names{})",
            self.source.describe(),
            self.vars.as_ref().map_or(0, HashMap::len),
            self.error.as_ref().map(|e| format!(", error: {e}")).unwrap_or_default()
        )
    }
}

impl ProxyEnv {
    /// gatewatch's own environment.
    pub fn own() -> Self {
        Self { source: EnvSource::Own, vars: None, error: None }
    }

    /// A source that could not be read: every name is unknown.
    pub fn unreadable(source: EnvSource, error: impl Into<String>) -> Self {
        Self { source, vars: Some(HashMap::new()), error: Some(error.into()) }
    }

    /// The proxy's whole environment from `env_file` text.
    pub fn from_dotenv(source: EnvSource, text: &str) -> Self {
        Self { source, vars: Some(parse_dotenv(text).into_iter().collect()), error: None }
    }

    /// The proxy's whole environment from a command's output (`env`, `env -0`).
    pub fn from_env_output(source: EnvSource, text: &str) -> Self {
        Self { source, vars: Some(parse_env_output(text).into_iter().collect()), error: None }
    }

    /// For tests and the demo: these variables are the proxy's whole environment.
    pub fn whole(source: EnvSource, vars: &[(&str, &str)]) -> Self {
        let vars = vars.iter().map(|(k, v)| ((*k).to_owned(), Value::Plain((*v).to_owned()))).collect();
        Self { source, vars: Some(vars), error: None }
    }

    pub fn source(&self) -> &EnvSource {
        &self.source
    }

    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// A name missing from it is known to be missing in the proxy.
    pub fn is_whole(&self) -> bool {
        self.vars.is_some() && self.error.is_none()
    }

    /// What `name` resolves to in the proxy's process.
    pub fn lookup(&self, name: &str) -> Lookup {
        if let Some(e) = &self.error {
            return Lookup::Unknown(format!("{} cannot be read: {e}", self.source.describe()));
        }
        match &self.vars {
            None => std::env::var(name)
                .map_or_else(|_| Lookup::Unknown("not set in gatewatch's own environment".into()), Lookup::Set),
            Some(vars) => match vars.get(name) {
                Some(Value::Plain(v)) => Lookup::Set(v.clone()),
                Some(Value::Unsure(why)) => Lookup::Unknown(format!("{}: {why}", self.source.describe())),
                None => Lookup::Unset,
            },
        }
    }

    /// Every value it holds, for the redactor (never shown).
    pub fn values(&self) -> Vec<crate::secret::Secret> {
        self.vars
            .iter()
            .flatten()
            .filter_map(|(_, v)| match v {
                Value::Plain(s) => Some(crate::secret::Secret::new(s.clone())),
                Value::Unsure(_) => None,
            })
            .collect()
    }
}

fn valid_name(k: &str) -> bool {
    !k.is_empty()
        && !k.starts_with(|c: char| c.is_ascii_digit())
        && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-')
}

/// `$NAME` or `${…}` in a value docker compose would interpolate (systemd would not).
fn interpolates(raw: &str) -> bool {
    let b = raw.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'$' if b.get(i + 1).is_some_and(|c| *c == b'{' || *c == b'_' || c.is_ascii_alphabetic()) => return true,
            _ => i += 1,
        }
    }
    false
}

const INTERPOLATION: &str = "uses $ interpolation, which docker compose expands and systemd does not";

/// dotenv as docker compose `.env` and systemd `EnvironmentFile` share it:
/// `KEY=VALUE`, an optional `export `, `#` and `;` comment lines, single
/// quotes (literal) and double quotes (`\n`, `\t`, `\"`, `\\`, `\$`), both
/// possibly spanning lines, and ` #` ending an unquoted value (compose). A
/// value using `$` interpolation, or a line gatewatch cannot read, makes that
/// variable unsure rather than guessed.
fn parse_dotenv(text: &str) -> Vec<(String, Value)> {
    let mut out: Vec<(String, Value)> = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let (line, after) = rest.split_once('\n').unwrap_or((rest, ""));
        rest = after;
        let t = line.trim_start();
        if t.is_empty() || t.starts_with('#') || t.starts_with(';') {
            continue;
        }
        let t = t.strip_prefix("export").filter(|r| r.starts_with([' ', '\t'])).map_or(t, str::trim_start);
        let Some((key, value)) = t.split_once('=') else {
            let name = t.trim();
            if valid_name(name) {
                out.push((
                    name.to_owned(),
                    Value::Unsure("listed without a value (compose takes it from the shell)".into()),
                ));
            }
            continue;
        };
        let key = key.trim();
        if !valid_name(key) {
            continue;
        }
        let value = value.trim_start_matches([' ', '\t']);
        let parsed = if let Some(q @ ('"' | '\'')) = value.chars().next() {
            quoted(q, &value[1..], &mut rest)
        } else {
            unquoted(value)
        };
        out.retain(|(k, _)| k != key);
        out.push((key.to_owned(), parsed));
    }
    out
}

/// A quoted value (after its opening quote), possibly closed on a later
/// line: `rest` advances past the lines it takes.
fn quoted(q: char, first: &str, rest: &mut &str) -> Value {
    let resume = *rest;
    let mut body = String::new();
    let mut chunk = first;
    let closed = loop {
        if let Some(end) = closing_quote(chunk, q) {
            body.push_str(&chunk[..end]);
            let trailing = chunk[end + 1..].trim();
            break Some(trailing.is_empty() || trailing.starts_with('#'));
        }
        body.push_str(chunk);
        if rest.is_empty() {
            break None;
        }
        body.push('\n');
        let (next, after) = rest.split_once('\n').unwrap_or((rest, ""));
        chunk = next;
        *rest = after;
    };
    match closed {
        None => {
            // Only this line is lost; the next ones are read as usual.
            *rest = resume;
            Value::Unsure("a quote is never closed".into())
        }
        Some(false) => Value::Unsure("text after the closing quote".into()),
        Some(true) if q == '"' && interpolates(&body) => Value::Unsure(INTERPOLATION.into()),
        Some(true) if q == '"' => Value::Plain(unescape(&body)),
        Some(true) => Value::Plain(body),
    }
}

/// An unquoted value: to the end of the line, ` #` starting a comment.
fn unquoted(value: &str) -> Value {
    let value = value.trim_end_matches('\r');
    let cut = value
        .char_indices()
        .find(|(i, c)| *c == '#' && *i > 0 && value[..*i].ends_with([' ', '\t']))
        .map_or(value, |(i, _)| &value[..i]);
    let v = cut.trim_end();
    if interpolates(v) { Value::Unsure(INTERPOLATION.into()) } else { Value::Plain(v.to_owned()) }
}

/// The index of the quote that closes a quoted value (`\"` does not, in double quotes).
fn closing_quote(s: &str, q: char) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if q == '"' && escaped {
            escaped = false;
            continue;
        }
        if q == '"' && c == '\\' {
            escaped = true;
        } else if c == q {
            return Some(i);
        }
    }
    None
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some(o @ ('"' | '\\' | '$' | '\'')) => out.push(o),
            Some(o) => {
                out.push('\\');
                out.push(o);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// `env` output: `KEY=VALUE` records, one per line, or NUL-separated (`env
/// -0`, `/proc/PID/environ`). A line that is not `KEY=…` continues the value
/// before it (a multi-line value printed by `env`), which is therefore unsure.
fn parse_env_output(text: &str) -> Vec<(String, Value)> {
    let nul = text.contains('\0');
    let records: Vec<&str> = if nul { text.split('\0').collect() } else { text.lines().collect() };
    let mut out: Vec<(String, Value)> = Vec::new();
    for rec in records {
        match rec.split_once('=') {
            Some((k, v)) if valid_name(k) => {
                out.retain(|(n, _)| n != k);
                out.push((k.to_owned(), Value::Plain(v.to_owned())));
            }
            _ if rec.trim().is_empty() => {}
            _ => {
                if let Some(last) = out.last_mut().filter(|_| !nul) {
                    last.1 = Value::Unsure("its value spans several lines of env output (use env -0)".into());
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(env: &ProxyEnv, n: &str) -> Lookup {
        env.lookup(n)
    }

    #[test]
    fn dotenv_as_compose_and_systemd_write_it() {
        let text = "# comment\n; systemd comment\nexport A=plain\nB = 'single $NOT # kept'\nC=\"dq \\\"x\\\" \\n\\$y\"\nD=unquoted # comment\nE=\nF=a#b\nG=\"multi\nline\"\nH=${OTHER}\nI='never closed\n  \nJ=\"x\" trailing\nK=v1\nK=v2\n9BAD=x\nL\n";
        let env = ProxyEnv::from_dotenv(EnvSource::File("/x.env".into()), text);
        assert_eq!(get(&env, "A"), Lookup::Set("plain".into()));
        assert_eq!(get(&env, "B"), Lookup::Set("single $NOT # kept".into()));
        assert_eq!(get(&env, "C"), Lookup::Set("dq \"x\" \n$y".into()));
        assert_eq!(get(&env, "D"), Lookup::Set("unquoted".into()));
        assert_eq!(get(&env, "E"), Lookup::Set(String::new()));
        assert_eq!(get(&env, "F"), Lookup::Set("a#b".into()));
        assert_eq!(get(&env, "G"), Lookup::Set("multi\nline".into()));
        assert!(matches!(get(&env, "H"), Lookup::Unknown(w) if w.contains("interpolation")));
        assert!(matches!(get(&env, "I"), Lookup::Unknown(w) if w.contains("never closed")));
        assert!(matches!(get(&env, "J"), Lookup::Unknown(_)));
        assert_eq!(get(&env, "K"), Lookup::Set("v2".into()));
        assert_eq!(get(&env, "9BAD"), Lookup::Unset);
        assert!(matches!(get(&env, "L"), Lookup::Unknown(_)));
        assert_eq!(get(&env, "MISSING"), Lookup::Unset, "the proxy's whole environment: missing is unset");
        assert!(env.is_whole());
    }

    #[test]
    fn env_output_lines_and_nul_records() {
        let env = ProxyEnv::from_env_output(
            EnvSource::Command("docker exec litellm env".into()),
            "PATH=/usr/bin\nKEY=sk-a=b\nMULTI=one\ntwo\nLAST=x\n",
        );
        assert_eq!(get(&env, "KEY"), Lookup::Set("sk-a=b".into()));
        assert!(matches!(get(&env, "MULTI"), Lookup::Unknown(_)));
        assert_eq!(get(&env, "LAST"), Lookup::Set("x".into()));
        let env = ProxyEnv::from_env_output(EnvSource::Command("env -0".into()), "A=1\nstill a\0B='q'\0");
        assert_eq!(get(&env, "A"), Lookup::Set("1\nstill a".into()));
        assert_eq!(get(&env, "B"), Lookup::Set("'q'".into()));
    }

    #[test]
    fn own_environment_makes_a_missing_name_unknown_and_errors_make_all_unknown() {
        let own = ProxyEnv::own();
        assert!(!own.is_whole());
        assert!(
            matches!(own.lookup("GATEWATCH_SURELY_UNSET_4711"), Lookup::Unknown(w) if w.contains("own environment"))
        );
        let bad = ProxyEnv::unreadable(EnvSource::File("/nope".into()), "No such file");
        assert!(matches!(bad.lookup("A"), Lookup::Unknown(w) if w.contains("/nope") && w.contains("No such file")));
    }

    #[test]
    fn debug_never_shows_a_value() {
        let env = ProxyEnv::whole(EnvSource::Own, &[("K", "sk-secret-value-123")]);
        let dbg = format!("{env:?} {:?}", env.lookup("K"));
        assert!(!dbg.contains("sk-secret"), "{dbg}");
    }
}
