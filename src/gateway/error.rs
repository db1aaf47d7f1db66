//! Everything that can go wrong talking to a gateway, as data the UI can show.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GatewayError {
    #[error("connection refused ({url})")]
    Refused { url: String },
    #[error("no answer within {}", crate::config::duration::human(*after))]
    Timeout { after: Duration },
    #[error("cannot connect: {detail}")]
    Connect { detail: String },
    #[error("TLS failure: {detail}")]
    Tls { detail: String },
    #[error("credential not set: export {env}")]
    MissingCredential { env: String },
    #[error("auth failed (HTTP {status}): {message}")]
    Auth { status: u16, message: String, hint: String },
    #[error("{path} not available on this version (HTTP 404)")]
    NotFound { path: String },
    #[error("HTTP {status} HTML page from a proxy in front of the gateway: {title}")]
    Html { status: u16, title: String },
    #[error("HTTP {status}: {message}")]
    Http { status: u16, message: String },
    #[error("truncated JSON from {path}: {detail}")]
    Truncated { path: String, detail: String },
    #[error("not JSON from {path}: {detail}")]
    Garbage { path: String, detail: String },
    #[error("unexpected JSON shape from {path}: {detail}")]
    WrongShape { path: String, detail: String },
    #[error("response larger than {} MiB, refused", limit / (1024 * 1024))]
    TooLarge { limit: usize },
    #[error("rate limited (HTTP 429){}", retry_after.map(|d| format!(", retry in {}", crate::config::duration::human(d))).unwrap_or_default())]
    RateLimited { retry_after: Option<Duration> },
    #[error("{message}")]
    Rejected { message: String },
    #[error("{0}")]
    Unsupported(String),
}

impl GatewayError {
    /// Short label for narrow columns.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Refused { .. } => "refused",
            Self::Timeout { .. } => "timeout",
            Self::Connect { .. } => "unreachable",
            Self::Tls { .. } => "tls",
            Self::MissingCredential { .. } => "no credential",
            Self::Auth { .. } => "auth",
            Self::NotFound { .. } => "not on this version",
            Self::Html { .. } => "proxy error page",
            Self::Http { .. } => "http error",
            Self::Truncated { .. } => "truncated",
            Self::Garbage { .. } => "garbage",
            Self::WrongShape { .. } => "wrong shape",
            Self::TooLarge { .. } => "too large",
            Self::RateLimited { .. } => "rate limited",
            Self::Rejected { .. } => "rejected",
            Self::Unsupported(_) => "unsupported",
        }
    }

    /// Whether the gateway process itself could not be reached (vs. it answered badly).
    pub fn is_unreachable(&self) -> bool {
        matches!(self, Self::Refused { .. } | Self::Timeout { .. } | Self::Connect { .. } | Self::Tls { .. })
    }

    /// What the operator can do about it, when there is something to say.
    pub fn hint(&self) -> Option<String> {
        match self {
            Self::Auth { hint, .. } if !hint.is_empty() => Some(hint.clone()),
            Self::MissingCredential { env } => Some(format!(
                "set {env} in the environment gatewatch runs in (never on the command line)"
            )),
            Self::Html { status, .. } => Some(format!(
                "HTTP {status} came from a proxy (Nginx/Cloudflare) in front of the gateway: the gateway behind it is down or too slow"
            )),
            Self::Refused { .. } => Some("nothing listens on that address: is the gateway process running?".into()),
            Self::Timeout { .. } => Some("the gateway accepted the request but did not answer in time: overloaded, hung, or a firewall drops packets".into()),
            Self::NotFound { .. } => Some("this gateway version lacks that endpoint; the pane degrades".into()),
            Self::TooLarge { .. } => Some("raise max_body_mb for this gateway if the answer is legitimately that large".into()),
            Self::RateLimited { .. } => Some("gatewatch backs off; raise the refresh interval or the gateway's rate limit".into()),
            _ => None,
        }
    }
}
