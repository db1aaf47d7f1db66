//! The redactor: every secret gatewatch has read, and the shapes in which a
//! gateway echoes credentials back, replaced by fingerprints in free text.
//!
//! Clones of a [`Redactor`] share one set of secrets, so a key read after
//! start-up (a rotated key in the LiteLLM config, a channel key file) is
//! masked at once everywhere the redactor is used: the timeline, the
//! executor, the audit log, reports, `check`, logs and the screen.
//! [`known`] is the process-wide set the readers of secrets add to.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::{Arc, LazyLock, PoisonError, RwLock};

use regex::{Captures, Regex};

use super::{Fingerprint, Secret};

#[derive(Default)]
struct Known {
    /// Longest first, so a secret that contains another is replaced whole.
    secrets: Vec<Secret>,
    /// Environment variables that hold a secret: kept out of child commands.
    vars: BTreeSet<String>,
}

/// Replaces known raw secrets and echoed credentials in free text (command
/// output, gateway error messages, reports) before it is shown or stored.
#[derive(Clone, Default)]
pub struct Redactor {
    inner: Arc<RwLock<Known>>,
}

static KNOWN: LazyLock<Redactor> = LazyLock::new(Redactor::default);

/// The process-wide redactor: what gatewatch has read (credential variables,
/// literal keys in config files, key files) is added here as it is read.
pub fn known() -> Redactor {
    KNOWN.clone()
}

/// [`known`]`().redact(text)`: for text that came from a gateway or a command.
pub fn scrub(text: &str) -> String {
    KNOWN.redact(text)
}

impl Redactor {
    /// Secrets shorter than this are not redacted (they would match everywhere).
    const MIN_LEN: usize = 8;

    pub fn new(secrets: impl IntoIterator<Item = Secret>) -> Self {
        let r = Self::default();
        for s in secrets {
            r.add(s);
        }
        r
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Known> {
        self.inner.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Known> {
        self.inner.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Learn a secret (shared with every clone of this redactor).
    pub fn add(&self, secret: Secret) {
        let value = secret.expose();
        if value.len() < Self::MIN_LEN {
            return;
        }
        // A value with surrounding whitespace is also echoed trimmed.
        let trimmed = value.trim();
        let extra = (trimmed != value && trimmed.len() >= Self::MIN_LEN).then(|| Secret::new(trimmed));
        let mut k = self.write();
        for s in std::iter::once(secret).chain(extra) {
            if !k.secrets.contains(&s) {
                k.secrets.push(s);
            }
        }
        k.secrets.sort_by_key(|s| std::cmp::Reverse(s.expose().len()));
    }

    /// Learn that environment variable `name` holds a secret (its value, if
    /// set, is redacted; the variable is not passed to child commands).
    pub fn add_var(&self, name: &str, value: Option<&str>) {
        if let Some(v) = value {
            self.add(Secret::new(v));
        }
        if !name.is_empty() {
            self.write().vars.insert(name.to_owned());
        }
    }

    /// Learn everything `other` knows (a no-op when both are the same set).
    pub fn absorb(&self, other: &Redactor) {
        if Arc::ptr_eq(&self.inner, &other.inner) {
            return;
        }
        let (secrets, vars) = {
            let o = other.read();
            (o.secrets.clone(), o.vars.clone())
        };
        for s in secrets {
            self.add(s);
        }
        self.write().vars.extend(vars);
    }

    /// The environment variables known to hold secrets.
    pub fn vars(&self) -> Vec<String> {
        self.read().vars.iter().cloned().collect()
    }

    /// Replace every known secret with its fingerprint, then mask the
    /// credentials gateways echo back ([`mask_key_like`]).
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        {
            let k = self.read();
            for s in &k.secrets {
                if out.contains(s.expose()) {
                    out = out.replace(s.expose(), &format!("[redacted {}]", s.fingerprint()));
                }
            }
        }
        match mask_key_like(&out) {
            std::borrow::Cow::Borrowed(_) => out,
            std::borrow::Cow::Owned(o) => o,
        }
    }

    /// Byte ranges of `text` that hold a known secret (for masking text that
    /// is already laid out, such as a drawn screen, without moving it).
    pub fn known_ranges(&self, text: &str) -> Vec<std::ops::Range<usize>> {
        let k = self.read();
        let mut out = Vec::new();
        for s in &k.secrets {
            out.extend(text.match_indices(s.expose()).map(|(i, m)| i..i + m.len()));
        }
        out
    }

    pub fn len(&self) -> usize {
        self.read().secrets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.read().secrets.is_empty()
    }
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Redactor({} secrets)", self.len())
    }
}

/// Key-shaped tokens in text a gateway sends back (its error messages,
/// its error log): OpenAI-style `sk-…` keys, Google `AIza…` keys, JWTs, and
/// a `key=` query value, which a Go HTTP error repeats with the whole URL.
static KEY_LIKE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"\b(?:sk-[A-Za-z0-9_\-]{16,}|AIza[A-Za-z0-9_\-]{30,}",
        r"|eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,})",
        r"|(?:[?&]key=)([^&\s\x22']{16,})"
    ))
    .expect("static regex")
});

/// Where a gateway or a client library repeats the credential it was given:
/// LiteLLM's 401 (`Received API Key = …, Key Hash (Token) =…`, the second the
/// raw key when it does not start with `sk-`), `Bearer …`, an
/// `Authorization:` header, `api_key=…`, `"token": "…"`, a URL's password.
static ECHOED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i)(received api key\s*=\s*|key hash \(token\)\s*=\s*|\bbearer\s+",
        r"|\b(?:proxy-)?authorization\x22?\s*[:=]\s*\x22?(?:bearer\s+|basic\s+)?",
        r"|\b(?:x-api-key|x-goog-api-key|api[_-]?key|access[_-]?token|refresh[_-]?token|auth[_-]?token|token",
        r"|secret|client[_-]?secret|password|passwd|master[_-]?key)\x22?\s*[:=]\s*\x22?",
        r"|://[^/\s:@\x22']+:)",
        r"([^\s\x22'`,;&)\]}<>]{8,})"
    ))
    .expect("static regex")
});

/// A value that is already safe to show: a fingerprint, a masked form, or an
/// environment reference.
fn already_safe(v: &str) -> bool {
    v.starts_with("sha256:") || v.starts_with('[') || v.starts_with("os.environ/") || v.starts_with("***")
}

/// Replace echoed credentials and key-shaped tokens in text with their
/// fingerprints; the [`Redactor`] covers the secrets gatewatch knows, this
/// the ones it does not.
pub fn mask_key_like(text: &str) -> std::borrow::Cow<'_, str> {
    let echoed = ECHOED.replace_all(text, |c: &Captures<'_>| {
        let value = &c[2];
        if already_safe(value) {
            return c[0].to_owned();
        }
        // A URL password ends at the `@`; what follows is the host.
        let (secret, rest) = if c[1].starts_with("://") {
            value.split_once('@').map_or((value, ""), |(s, h)| (s, h))
        } else {
            (value, "")
        };
        if c[1].starts_with("://") && (rest.is_empty() || secret.contains('/')) {
            // `://host:port/path`: no password here.
            return c[0].to_owned();
        }
        let at = if rest.is_empty() { "" } else { "@" };
        format!("{}[key {}]{at}{rest}", &c[1], Fingerprint::of(secret))
    });
    match KEY_LIKE.replace_all(&echoed, |c: &Captures<'_>| match c.get(1) {
        Some(value) => {
            let whole = &c[0];
            format!("{}[key {}]", &whole[..whole.len() - value.as_str().len()], Fingerprint::of(value.as_str()))
        }
        None => format!("[key {}]", Fingerprint::of(&c[0])),
    }) {
        std::borrow::Cow::Borrowed(_) => echoed,
        std::borrow::Cow::Owned(o) => std::borrow::Cow::Owned(o),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_longest_first() {
        let r = Redactor::new([Secret::new("sk-abc12345"), Secret::new("sk-abc12345-long-part")]);
        let out = r.redact("key=sk-abc12345-long-part and sk-abc12345");
        assert!(!out.contains("sk-abc"), "{out}");
        assert!(out.contains("[redacted sha256:"));
    }

    #[test]
    fn clones_share_what_they_learn() {
        let a = Redactor::default();
        let b = a.clone();
        b.add(Secret::new("learned-later-0000"));
        b.add_var("SOME_TOKEN", Some("  padded-token-value  "));
        assert!(!a.redact("x learned-later-0000 y").contains("learned-later"));
        assert!(!a.redact("padded-token-value").contains("padded"), "trimmed form too");
        assert_eq!(a.vars(), ["SOME_TOKEN"]);
        // An independent redactor knows nothing of it.
        assert_eq!(Redactor::default().redact("learned-later-0000"), "learned-later-0000");
    }

    #[test]
    fn key_shaped_tokens_in_gateway_text_become_fingerprints() {
        let key = "sk-proj-AbCdEf0123456789xyz";
        let gkey = "AIzaSyA1234567890abcdefghijklmnopqrstu";
        let text = format!(
            "Post \"https://generativelanguage.googleapis.com/v1beta/models/x?alt=sse&key={gkey}\": dial tcp: timeout; Incorrect API key provided: {key}. {gkey}"
        );
        let out = mask_key_like(&text);
        assert!(!out.contains(key) && !out.contains(gkey), "{out}");
        assert!(out.contains(&format!("&key=[key {}]", Fingerprint::of(gkey))), "{out}");
        // Ordinary text, short ids and masked forms stay as they are.
        for plain in [
            "model_not_found: gpt-4o-mini",
            "sk-1234",
            "sk-proj-****abcd",
            "task-runner key=short",
            "api_key changed: file sha256:ca8e7112, the proxy still holds the previous one",
            "api_key: os.environ/OPENAI_API_KEY",
            "Ensure Key has `Bearer ` prefix.",
            "first token 1.2s, 12 chunks",
            "http://10.0.0.11:4000/health",
        ] {
            assert_eq!(mask_key_like(plain), plain);
        }
    }

    #[test]
    fn echoed_credentials_of_every_shape_are_masked() {
        let cases = [
            (
                "Authentication Error, Invalid proxy server token passed. Received API Key = sk-...wxyz, Key Hash (Token) =master-Not-sk-shaped-42. Unable to find token",
                "master-Not-sk-shaped-42",
            ),
            ("401: Bearer 0123456789abcdef0123456789abcdef rejected", "0123456789abcdef0123456789abcdef"),
            ("{\"authorization\": \"Bearer tok/with+base64==\"}", "tok/with+base64=="),
            ("Authorization: Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA=="),
            ("invalid api_key=AbCdEfGh12345678&x=1", "AbCdEfGh12345678"),
            ("{\"access_token\":\"f3a9c2e1-77b0-4c3e-9d2a-5b8e6f1a0c44\"}", "f3a9c2e1-77b0-4c3e-9d2a-5b8e6f1a0c44"),
            ("x-api-key: 9f86d081884c7d659a2feaa0c55ad015", "9f86d081884c7d659a2feaa0c55ad015"),
            ("redis://default:hunter2-redis-pw@10.0.0.5:6379 refused", "hunter2-redis-pw"),
            (
                "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
                "eyJzdWIiOiIxMjM0NTY3ODkwIn0",
            ),
        ];
        for (text, secret) in cases {
            let out = mask_key_like(text);
            assert!(!out.contains(secret), "{secret} survived in {out}");
            assert!(out.contains("[key sha256:"), "{out}");
        }
        // The host after a URL password stays readable.
        assert!(mask_key_like("redis://u:hunter2-redis-pw@10.0.0.5:6379").ends_with("@10.0.0.5:6379"));
    }
}
