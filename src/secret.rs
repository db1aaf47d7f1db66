//! Secrets and their fingerprints.
//!
//! A [`Secret`] holds a raw credential (an upstream API key, a master key, an
//! access token). It has no `Display`, its `Debug` shows only the fingerprint,
//! and the only way to get at the bytes is [`Secret::expose`], which callers use
//! solely to build an HTTP header. Everything that reaches a screen, a log or a
//! report is a [`Fingerprint`]: the first 8 hex characters of SHA-256 of the
//! value, which an operator can reproduce by hand with
//! `printf %s "$KEY" | sha256sum | cut -c1-8`.

pub mod harvest;
mod redact;

use sha2::{Digest, Sha256};
use std::fmt;

pub use redact::{Redactor, known, mask_key_like, scrub};

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
