//! Filling `{url}`, `{host}` and `{port}` into an operator's command safely.
//!
//! Replica URLs come from the config, `--gateway` flags or a discovery
//! command's output: data, not shell. Each value is substituted as one
//! shell word, quoted for where it lands in the template (outside quotes,
//! inside `'…'` or inside `"…"`), and only values that are plainly a URL, a
//! host name or address, and a port number are accepted at all — so a
//! command that hands its arguments to a second shell (`ssh {host} '…
//! {url}'`) or to a program's options (`-oProxyCommand=…` as a "host")
//! cannot be steered either.

use std::sync::LazyLock;

use regex::Regex;

/// The placeholders a per-replica command may use.
pub const PLACEHOLDERS: [&str; 3] = ["{url}", "{host}", "{port}"];

/// Does the command name a replica?
pub fn per_replica(cmd: &str) -> bool {
    PLACEHOLDERS.iter().any(|p| cmd.contains(p))
}

/// A host name (letters, digits, `-`, `_`, dots; not starting with `-`), an
/// IPv4 address, or a bracketed IPv6 address.
static HOST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9._-]{0,252}[A-Za-z0-9])?)$").expect("static regex")
});

/// Characters a shell, `ssh` or a URL parser treat as plain text.
fn plain_url_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '~' | ':' | '/' | '[' | ']' | '%' | '+' | '=' | ',' | '-')
}

/// The values of the placeholders for one replica URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaWords {
    pub url: String,
    pub host: String,
    pub port: String,
}

/// Split a replica URL into placeholder values, or say why it cannot go
/// into a command.
pub fn replica_words(url: &str) -> Result<ReplicaWords, String> {
    let shown = crate::sanitize::line(url);
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("{shown:?} is not a URL ({e})"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!("{shown:?} is not an http(s) URL"));
    }
    if let Some(bad) = url.chars().find(|c| !plain_url_char(*c)) {
        return Err(format!(
            "{shown:?} contains {:?}, which a shell or a remote command could interpret: refusing to put it in a command",
            crate::sanitize::line(&bad.to_string())
        ));
    }
    let host = parsed.host_str().unwrap_or_default().to_owned();
    if !HOST.is_match(&host) {
        return Err(format!(
            "{shown:?}: the host {:?} is not a plain host name or address",
            crate::sanitize::line(&host)
        ));
    }
    let port = parsed.port_or_known_default().map(|p| p.to_string()).unwrap_or_default();
    Ok(ReplicaWords { url: url.to_owned(), host, port })
}

/// A discovery line is a replica only if it is `http(s)://host[:port]` and
/// nothing else (no user, path, query or fragment, no stray characters).
pub fn discovered_url(line: &str) -> Result<String, String> {
    static STRICT: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"^https?://(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9._-]{0,252}[A-Za-z0-9])?)(?::[0-9]{1,5})?/?$",
        )
        .expect("static regex")
    });
    let trimmed = line.trim();
    if !STRICT.is_match(trimmed) {
        return Err(format!("{:?} is not http(s)://host:port", crate::sanitize::line(trimmed)));
    }
    let url = trimmed.trim_end_matches('/');
    replica_words(url)?;
    Ok(url.to_owned())
}

/// `value` as one shell word: unchanged when it holds only plain
/// characters (no glob, no `=`, no `~` that a shell would expand), else
/// single-quoted.
pub fn shell_quote(value: &str) -> String {
    if !value.is_empty() && value.chars().all(|c| plain_url_char(c) && !matches!(c, '[' | ']' | '=' | '~')) {
        value.to_owned()
    } else {
        format!("'{}'", value.replace('\'', r"'\''"))
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Ctx {
    Word,
    Single,
    Double,
}

/// Fill the placeholders of `template` for one replica, each value quoted
/// for the context it lands in.
pub fn expand(template: &str, url: &str) -> Result<String, String> {
    let words = replica_words(url)?;
    let mut out = String::with_capacity(template.len() + url.len() * 2);
    let mut ctx = Ctx::Word;
    let mut rest = template;
    while let Some(c) = rest.chars().next() {
        if let Some(p) = PLACEHOLDERS.iter().find(|p| rest.starts_with(**p)) {
            let value = match *p {
                "{url}" => &words.url,
                "{host}" => &words.host,
                _ => &words.port,
            };
            match ctx {
                Ctx::Word => out.push_str(&shell_quote(value)),
                Ctx::Single => out.push_str(&value.replace('\'', r"'\''")),
                Ctx::Double => {
                    for v in value.chars() {
                        if matches!(v, '$' | '`' | '"' | '\\') {
                            out.push('\\');
                        }
                        out.push(v);
                    }
                }
            }
            rest = &rest[p.len()..];
            continue;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
        match (ctx, c) {
            (Ctx::Word | Ctx::Double, '\\') => {
                // The next character is taken literally: copy it as is.
                if let Some(n) = rest.chars().next() {
                    out.push(n);
                    rest = &rest[n.len_utf8()..];
                }
            }
            (Ctx::Word, '\'') => ctx = Ctx::Single,
            (Ctx::Word, '"') => ctx = Ctx::Double,
            (Ctx::Single, '\'') | (Ctx::Double, '"') => ctx = Ctx::Word,
            _ => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Run `cmd` with `sh -c` and return what it printed.
    fn sh(cmd: &str) -> String {
        let out = std::process::Command::new("sh").arg("-c").arg(cmd).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    #[test]
    fn plain_replicas_expand_readably() {
        assert!(per_replica("ssh {host} systemctl restart litellm"));
        assert!(!per_replica("kubectl rollout restart deployment/litellm"));
        assert_eq!(
            expand("ssh {host} restart --port {port} # {url}", "http://10.0.0.5:4000").unwrap(),
            "ssh 10.0.0.5 restart --port 4000 # http://10.0.0.5:4000"
        );
        assert_eq!(expand("curl {url}/x", "https://llm.example.com").unwrap(), "curl https://llm.example.com/x");
        assert_eq!(expand("ping {host}", "http://[::1]:4000").unwrap(), "ping '[::1]'");
    }

    #[test]
    fn each_value_is_one_word_in_every_quoting_context() {
        // Plain values, but the template quotes them: the shell still sees the value.
        let url = "http://10.0.0.5:4000/a,b";
        for t in ["printf '%s|' {url}", "printf '%s|' '{url}'", "printf '%s|' \"{url}\"", "printf '%s|' \"x {url} y\""]
        {
            let line = expand(t, url).unwrap();
            assert!(sh(&line).contains("http://10.0.0.5:4000/a,b"), "{t} → {line} → {}", sh(&line));
        }
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote("~root"), "'~root'");
        assert_eq!(sh(&format!("printf %s {}", shell_quote("a b;$(x)'`"))), "a b;$(x)'`");
    }

    #[test]
    fn hostile_replica_urls_never_reach_a_command() {
        for url in [
            "http://127.0.0.1:41001/$(touch /tmp/x)",
            "http://127.0.0.1:41001/;touch /tmp/y;#",
            "http://127.0.0.1:41001/`touch /tmp/z`",
            "http://x$(whoami)y:4000",
            "http://-oProxyCommand=id:4000",
            "http://a'b:4000",
            "http://127.0.0.1:4000/?q=1&x=2",
            "ftp://127.0.0.1:4000",
        ] {
            let err = expand("echo restarting {url} {host} >> log", url).unwrap_err();
            assert!(!err.contains('\x1b'), "{err}");
        }
    }

    #[test]
    fn discovery_lines_are_urls_with_a_host_and_port_only() {
        for ok in [
            "http://10.0.0.11:4000",
            "https://10.0.0.12:4000/",
            "http://[fd00::1]:4000",
            "http://litellm-0.litellm:4000",
            "  http://pod-1:80  ",
        ] {
            assert!(discovered_url(ok).is_ok(), "{ok}");
        }
        assert_eq!(discovered_url("https://10.0.0.12:4000/").unwrap(), "https://10.0.0.12:4000");
        for bad in [
            "https://not a url at all; touch /tmp/pwned",
            "http://127.0.0.1:41001/$(touch /tmp/x)",
            "http://127.0.0.1:41001/;touch /tmp/y;#",
            "http://127.0.0.1:41001/`touch /tmp/z`",
            "http://user:pw@10.0.0.1:4000",
            "http://10.0.0.1:4000/path",
            "http://10.0.0.1:4000?x",
            "http://-evil:4000",
            "http://10.0.0.1:99999",
            "http://10.0.0.1:4000\x1b]0;t\x07",
            "# comment",
        ] {
            let err = discovered_url(bad).unwrap_err();
            assert!(!err.contains('\x1b'), "{err}");
        }
    }
}
