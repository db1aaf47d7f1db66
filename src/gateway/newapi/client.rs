//! Requests to New API: the headers it wants, the pacer in front of every
//! request, bounded retries after a 429, and the envelope check behind.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use reqwest::Method;
use reqwest::header::{ACCEPT_LANGUAGE, AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};

use crate::gateway::GatewayError;
use crate::gateway::http::{self, HttpClient, RawResponse};
use crate::secret::Secret;

use super::answer::{self, Sent};
use super::pacer::{Class, Pacer, PacerConfig};

/// The header that names the admin user (`authHelper` compares it with the
/// token's user id).
pub const NEW_API_USER: HeaderName = HeaderName::from_static("new-api-user");

/// HTTP requests made by one poll or action (429 retries included).
#[derive(Debug, Default)]
pub struct Calls(AtomicU32);

impl Calls {
    pub fn count(&self) -> u32 {
        self.0.load(Ordering::Relaxed)
    }

    fn add(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// One request.
#[derive(Debug, Clone)]
pub struct Req<'a> {
    pub method: Method,
    pub path: &'a str,
    pub body: Option<serde_json::Value>,
    pub class: Class,
    /// Needs the access token (every route but `/api/status`).
    pub auth: bool,
    /// May run long (tests, update-all): uses the action timeout.
    pub slow: bool,
}

impl<'a> Req<'a> {
    pub fn get(path: &'a str, class: Class) -> Self {
        Self { method: Method::GET, path, body: None, class, auth: true, slow: false }
    }

    pub fn public(mut self) -> Self {
        self.auth = false;
        self
    }

    pub fn slow(mut self) -> Self {
        self.slow = true;
        self
    }
}

/// What talks to one New API gateway (all its replicas share the pacer).
pub struct Client {
    http: HttpClient,
    slow: HttpClient,
    /// For the web console at `/`: not paced (the web routes have their own
    /// limit, `GLOBAL_WEB_RATE_LIMIT`), no credentials, redirects reported.
    web: HttpClient,
    pacer: Pacer,
    token: Option<Secret>,
    sent: Sent,
}

impl Client {
    pub fn new(
        http: HttpClient,
        slow: HttpClient,
        pacer: PacerConfig,
        token: Option<Secret>,
        user: Option<String>,
        credential_env: String,
        user_source: String,
    ) -> Self {
        let sent = Sent { credential_env, token: token.is_some(), user, user_source };
        let web = HttpClient::without_redirects(http.timeout(), 256 * 1024);
        Self { http, slow, web, pacer: Pacer::new(pacer), token, sent }
    }

    pub fn pacer(&self) -> &Pacer {
        &self.pacer
    }

    pub fn sent(&self) -> &Sent {
        &self.sent
    }

    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    fn headers(&self, auth: bool) -> Result<HeaderMap, GatewayError> {
        let mut h = HeaderMap::new();
        h.insert(ACCEPT_LANGUAGE, HeaderValue::from_static("en"));
        if !auth {
            return Ok(h);
        }
        let token = self
            .token
            .as_ref()
            .ok_or_else(|| GatewayError::MissingCredential { env: self.sent.credential_env.clone() })?;
        let value = http::bearer(token).ok_or_else(|| GatewayError::Rejected {
            message: format!("the value of ${} cannot be sent as an HTTP header", self.sent.credential_env),
        })?;
        h.insert(AUTHORIZATION, value);
        if let Some(user) = &self.sent.user {
            let v = HeaderValue::from_str(user).map_err(|_| GatewayError::Rejected {
                message: format!(
                    "the New-Api-User value from {} cannot be sent as an HTTP header",
                    self.sent.user_source
                ),
            })?;
            h.insert(NEW_API_USER, v);
        }
        Ok(h)
    }

    /// Send without reading the envelope: paced; after a 429 retried a
    /// couple of times, then given up with a cool-down (see [`super::pacer`]).
    pub async fn send_raw(&self, calls: &Calls, base: &str, req: &Req<'_>) -> Result<RawResponse, GatewayError> {
        let headers = self.headers(req.auth)?;
        let client = if req.slow { &self.slow } else { &self.http };
        let cfg = *self.pacer.config();
        let mut attempt = 0;
        loop {
            self.pacer.acquire(req.class).await?;
            calls.add();
            let resp = client.send(req.method.clone(), base, req.path, headers.clone(), req.body.clone()).await?;
            if resp.status.as_u16() != 429 {
                self.pacer.accepted();
                return Ok(resp);
            }
            let asked = http::retry_after(&resp);
            let pause = asked.unwrap_or_else(|| cfg.backoff(attempt));
            tracing::info!(path = req.path, attempt, ?pause, "New API answered 429");
            if attempt >= cfg.max_retries || pause > cfg.max_wait {
                self.pacer.refused(Duration::ZERO);
                let cool = self.pacer.give_up(asked);
                return Err(GatewayError::RateLimited { retry_after: Some(cool) });
            }
            self.pacer.refused(pause);
            attempt += 1;
        }
    }

    /// `GET` a page of the web console: no credentials, not paced (New API
    /// counts web routes apart from `/api`), redirects not followed.
    pub async fn get_web(&self, calls: &Calls, base: &str, path: &str) -> Result<RawResponse, GatewayError> {
        calls.add();
        self.web.send(Method::GET, base, path, HeaderMap::new(), None).await
    }

    /// Send and accept only `success:true`.
    pub async fn call(&self, calls: &Calls, base: &str, req: &Req<'_>) -> Result<RawResponse, GatewayError> {
        let resp = self.send_raw(calls, base, req).await?;
        answer::check(resp, &self.sent)
    }
}

/// Percent-encode a query value (RFC 3986 unreserved characters pass).
pub fn encode_query(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(encode_query("gpt-4o-mini"), "gpt-4o-mini");
        assert_eq!(encode_query("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
    }
}
