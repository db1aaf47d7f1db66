//! Secrets and their fingerprints.
//!
//! A [`Secret`] holds a raw credential (an upstream API key, a master key, an
//! access token). It has no `Display`, its `Debug` shows only the fingerprint,
//! and the only way to get at the bytes is [`Secret::expose`], which callers use
//! solely to build an HTTP header. Everything that reaches a screen, a log or a
//! report is a [`Fingerprint`]: the first 8 hex characters of SHA-256 of the
//! value, which an operator can reproduce by hand with
//! `printf %s "$KEY" | sha256sum | cut -c1-8`.

use sha2::{Digest, Sha256};
use std::fmt;

/// A raw credential. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The raw value, for building a request header. Do not log the result.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint::of(&self.0)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({})", self.fingerprint())
    }
}

/// Short, non-reversible fingerprint of a value: `sha256:` and 8 hex chars.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Fingerprint([u8; 4]);

impl Fingerprint {
    pub fn of(value: &str) -> Self {
        let digest = Sha256::digest(value.as_bytes());
        Self([digest[0], digest[1], digest[2], digest[3]])
    }

    /// The 8 hex characters without the `sha256:` prefix.
    pub fn short_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", hex::encode(self.0))
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl From<Fingerprint> for String {
    fn from(fp: Fingerprint) -> Self {
        fp.to_string()
    }
}

impl TryFrom<String> for Fingerprint {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        let hex_part = s.strip_prefix("sha256:").unwrap_or(&s);
        let bytes = hex::decode(hex_part).map_err(|e| format!("bad fingerprint {s:?}: {e}"))?;
        let arr: [u8; 4] = bytes.try_into().map_err(|_| format!("bad fingerprint {s:?}: need 8 hex characters"))?;
        Ok(Self(arr))
    }
}

/// Shortened form of a long public identifier (deployment ids are SHA-256 hex):
/// the first 8 characters, enough to tell ids apart on screen.
pub fn short_id(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_matches_sha256sum_prefix() {
        // printf %s sk-upstream-OLD-1234567890abcd | sha256sum
        let fp = Fingerprint::of("abc");
        assert_eq!(fp.to_string(), "sha256:ba7816bf");
    }

    #[test]
    fn debug_of_secret_hides_value() {
        let s = Secret::new("sk-very-secret-value");
        let dbg = format!("{s:?}");
        assert!(!dbg.contains("very-secret"));
        assert!(dbg.starts_with("Secret(sha256:"));
    }

    #[test]
    fn fingerprint_round_trips_through_string() {
        let fp = Fingerprint::of("x");
        let s: String = fp.into();
        assert_eq!(Fingerprint::try_from(s).unwrap(), fp);
        assert!(Fingerprint::try_from("sha256:zz".to_owned()).is_err());
    }
}

/// Replaces known raw secrets in free text (command output, upstream error
/// messages) with their fingerprints before the text is shown or stored.
#[derive(Clone, Default)]
pub struct Redactor {
    secrets: Vec<Secret>,
}

impl Redactor {
    /// Secrets shorter than this are not redacted (they would match everywhere).
    const MIN_LEN: usize = 8;

    pub fn new(secrets: impl IntoIterator<Item = Secret>) -> Self {
        let mut secrets: Vec<Secret> = secrets.into_iter().filter(|s| s.expose().len() >= Self::MIN_LEN).collect();
        // Longest first, so a secret that contains another is replaced whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.expose().len()));
        secrets.dedup();
        Self { secrets }
    }

    pub fn add(&mut self, secret: Secret) {
        if secret.expose().len() >= Self::MIN_LEN && !self.secrets.contains(&secret) {
            self.secrets.push(secret);
            self.secrets.sort_by_key(|s| std::cmp::Reverse(s.expose().len()));
        }
    }

    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for s in &self.secrets {
            if out.contains(s.expose()) {
                out = out.replace(s.expose(), &format!("[redacted {}]", s.fingerprint()));
            }
        }
        out
    }

    pub fn len(&self) -> usize {
        self.secrets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }
}

/// Key-shaped tokens in text a gateway sends back (its error messages,
/// its error log): OpenAI-style `sk-…` keys, Google `AIza…` keys, and a
/// `key=` query value, which a Go HTTP error repeats with the whole URL.
static KEY_LIKE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r"\b(?:sk-[A-Za-z0-9_\-]{16,}|AIza[A-Za-z0-9_\-]{30,})|(?:[?&]key=)([^&\s\x22']{16,})")
        .expect("static regex")
});

/// Replace key-shaped tokens in gateway text with their fingerprints; the
/// [`Redactor`] covers the secrets gatewatch knows, this the ones it does not.
pub fn mask_key_like(text: &str) -> std::borrow::Cow<'_, str> {
    KEY_LIKE.replace_all(text, |c: &regex::Captures<'_>| match c.get(1) {
        Some(value) => {
            let whole = &c[0];
            format!("{}[key {}]", &whole[..whole.len() - value.as_str().len()], Fingerprint::of(value.as_str()))
        }
        None => format!("[key {}]", Fingerprint::of(&c[0])),
    })
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Redactor({} secrets)", self.secrets.len())
    }
}

#[cfg(test)]
mod redactor_tests {
    use super::*;

    #[test]
    fn redacts_longest_first() {
        let r = Redactor::new([Secret::new("sk-abc12345"), Secret::new("sk-abc12345-long-part")]);
        let out = r.redact("key=sk-abc12345-long-part and sk-abc12345");
        assert!(!out.contains("sk-abc"), "{out}");
        assert!(out.contains("[redacted sha256:"));
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
        assert!(out.contains(&format!("provided: [key {}].", Fingerprint::of(key))), "{out}");
        // Ordinary text, short ids and masked forms stay as they are.
        for plain in ["model_not_found: gpt-4o-mini", "sk-1234", "sk-proj-****abcd", "task-runner key=short"] {
            assert_eq!(mask_key_like(plain), plain);
        }
    }
}
