//! The middleware in front of the simulated routes, as new-api 9f8a4ec
//! stacks it: the request id and version headers on every answer; the
//! per-IP limits (`GlobalAPIRateLimit` on `/api`, `CriticalRateLimit` on
//! login and the key reveal, `GlobalWebRateLimit` on the console), each an
//! empty 429 past its limit; and `authHelper` (session cookie or access
//! token, then `New-Api-User`, banned, role), each failure with its real
//! HTTP status and message.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{NewApiState, Shared, reply};

/// Who the request authenticated as (put in the request's extensions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller {
    pub id: i64,
    pub role: i64,
    /// Through a session cookie (not an access token).
    pub session: bool,
}

/// The admin-auth failures, with the status `authHelper` answers them with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    NoToken,
    InvalidToken,
    UserMissing,
    UserFormat,
    UserMismatch,
    Banned,
    NotAdmin,
}

impl Refusal {
    fn status(self) -> StatusCode {
        match self {
            Self::InvalidToken | Self::Banned | Self::NotAdmin => StatusCode::OK,
            Self::NoToken | Self::UserMissing | Self::UserFormat | Self::UserMismatch => StatusCode::UNAUTHORIZED,
        }
    }

    /// `i18n/locales/{en,zh-CN}.yaml`.
    fn message(self, zh: bool) -> &'static str {
        match (self, zh) {
            (Self::NoToken, false) => "Unauthorized, not logged in and no access token provided",
            (Self::NoToken, true) => "无权进行此操作，未登录且未提供 access token",
            (Self::InvalidToken, false) => "Unauthorized, invalid access token",
            (Self::InvalidToken, true) => "无权进行此操作，access token 无效",
            (Self::UserMissing, false) => "Unauthorized, New-Api-User header not provided",
            (Self::UserMissing, true) => "无权进行此操作，未提供 New-Api-User",
            (Self::UserFormat, false) => "Unauthorized, New-Api-User header format error",
            (Self::UserFormat, true) => "无权进行此操作，New-Api-User 格式错误",
            (Self::UserMismatch, false) => "Unauthorized, New-Api-User does not match logged in user",
            (Self::UserMismatch, true) => "无权进行此操作，New-Api-User 与登录用户不匹配",
            (Self::Banned, false) => "User has been banned",
            (Self::Banned, true) => "用户已被封禁",
            (Self::NotAdmin, false) => "Unauthorized, insufficient privileges",
            (Self::NotAdmin, true) => "无权进行此操作，权限不足",
        }
    }
}

/// The `Accept-Language` asks for Chinese.
pub fn wants_chinese(headers: &HeaderMap) -> bool {
    headers
        .get("accept-language")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("zh"))
}

/// Go's `strconv.Atoi`: optional sign, ASCII digits, fits in 64 bits.
fn atoi(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// The `session` cookie's value, if sent.
fn session_id(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all("cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|kv| kv.trim().strip_prefix("session="))
}

fn authorize(st: &NewApiState, headers: &HeaderMap, min_role: i64) -> Result<Caller, Refusal> {
    // A session holds what was true at login.
    let (id, role, status, session) = if let Some(s) = session_id(headers).and_then(|s| st.sessions.get(s)) {
        (s.user_id, s.role, s.status, true)
    } else {
        let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("");
        if auth.is_empty() {
            return Err(Refusal::NoToken);
        }
        // model.ValidateAccessToken: strings.Replace(token, "Bearer ", "", 1).
        let token = auth.replacen("Bearer ", "", 1);
        let user = st
            .users
            .iter()
            .find(|u| !token.is_empty() && u.access_token.as_deref() == Some(token.as_str()))
            .ok_or(Refusal::InvalidToken)?;
        (user.id, user.role, user.status, false)
    };
    let header = headers.get("new-api-user").and_then(|v| v.to_str().ok()).unwrap_or("");
    if header.is_empty() {
        return Err(Refusal::UserMissing);
    }
    if atoi(header).ok_or(Refusal::UserFormat)? != id {
        return Err(Refusal::UserMismatch);
    }
    if status == 2 {
        return Err(Refusal::Banned);
    }
    if role < min_role {
        return Err(Refusal::NotAdmin);
    }
    Ok(Caller { id, role, session })
}

async fn auth(state: Shared, mut req: Request, next: Next, min_role: i64) -> Response {
    let result = {
        let st = state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        authorize(&st, req.headers(), min_role)
    };
    let caller = match result {
        Ok(c) => c,
        Err(r) => return reply::msg(r.status(), r.message(wants_chinese(req.headers())), false),
    };
    req.extensions_mut().insert(caller);
    let mut resp = next.run(req).await;
    resp.headers_mut().insert("auth-version", HeaderValue::from_static("864b7076dbcd0a3c01b5520316720ebf"));
    resp
}

/// `UserAuth`.
pub async fn user_auth(State(state): State<Shared>, req: Request, next: Next) -> Response {
    auth(state, req, next, 1).await
}

/// `AdminAuth`.
pub async fn admin_auth(State(state): State<Shared>, req: Request, next: Next) -> Response {
    auth(state, req, next, 10).await
}

/// `RootAuth`.
pub async fn root_auth(State(state): State<Shared>, req: Request, next: Next) -> Response {
    auth(state, req, next, 100).await
}

/// The in-memory limiter's rule (`common.InMemoryRateLimiter.Request`): let
/// through while fewer than `max` were let through for this key, or when the
/// oldest of them is at least `window` old; a refusal is not recorded.
fn allow(st: &mut NewApiState, key: String, limit: Option<(u32, Duration)>) -> bool {
    let Some((max, window)) = limit else { return true };
    let now = Instant::now();
    let q = st.hits.entry(key).or_default();
    if q.len() < max as usize {
        q.push_back(now);
        true
    } else if q.front().is_some_and(|t| now.duration_since(*t) >= window) {
        q.pop_front();
        q.push_back(now);
        true
    } else {
        false
    }
}

/// The routes behind `CriticalRateLimit` (20 per 20 min per IP by default).
fn critical(req: &Request) -> bool {
    let path = req.uri().path();
    path == "/api/user/login" || (req.method() == axum::http::Method::POST && path.ends_with("/key"))
}

/// Every limiter a request meets, in the real order.
pub async fn rate_limit(State(state): State<Shared>, req: Request, next: Next) -> Response {
    let ip = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "unknown".to_owned(), |c| c.0.ip().to_string());
    let api = req.uri().path().starts_with("/api/") || req.uri().path() == "/api";
    let allowed = {
        let mut st = state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        st.requests += 1;
        let allowed = if api {
            let global = st.rate_limit;
            let crit = st.critical_rate_limit;
            allow(&mut st, format!("GA{ip}"), global) && (!critical(&req) || allow(&mut st, format!("CT{ip}"), crit))
        } else {
            let web = st.web_rate_limit;
            allow(&mut st, format!("GW{ip}"), web)
        };
        if !allowed {
            st.rate_limited += 1;
        }
        allowed
    };
    if allowed { next.run(req).await } else { StatusCode::TOO_MANY_REQUESTS.into_response() }
}

static REQUEST_SEQ: AtomicU64 = AtomicU64::new(0);

/// `X-New-Api-Version` and `X-Oneapi-Request-Id` on every answer, 429s included.
pub async fn headers(State(state): State<Shared>, req: Request, next: Next) -> Response {
    let version = state.lock().unwrap_or_else(std::sync::PoisonError::into_inner).version.clone();
    let mut resp = next.run(req).await;
    let seq = REQUEST_SEQ.fetch_add(1, Ordering::Relaxed);
    let id = format!("{}{seq:09}sim", super::request_time());
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&version) {
        h.insert("x-new-api-version", v);
    }
    if let Ok(v) = HeaderValue::from_str(&id) {
        h.insert("x-oneapi-request-id", v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atoi_is_strict_like_go() {
        assert_eq!(atoi("17"), Some(17));
        assert_eq!(atoi("+17"), Some(17));
        assert_eq!(atoi("-1"), Some(-1));
        assert_eq!(atoi(" 1"), None);
        assert_eq!(atoi("1e3"), None);
        assert_eq!(atoi(""), None);
        assert_eq!(atoi("+"), None);
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert("cookie", HeaderValue::from_static("lang=en; session=abc123; x=y"));
        assert_eq!(session_id(&h), Some("abc123"));
        assert_eq!(session_id(&HeaderMap::new()), None);
    }
}
