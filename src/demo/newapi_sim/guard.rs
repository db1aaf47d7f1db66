//! The middleware in front of the simulated routes: `GlobalAPIRateLimit`
//! (empty 429 past the limit) and `authHelper` (admin auth, with each failure
//! answered with its real HTTP status and message).

use std::net::SocketAddr;
use std::time::Instant;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{Shared, reply};

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

fn check(state: &Shared, headers: &HeaderMap) -> Result<(), Refusal> {
    let st = state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("");
    if auth.is_empty() {
        return Err(Refusal::NoToken);
    }
    // model.ValidateAccessToken: strings.Replace(token, "Bearer ", "", 1).
    let token = auth.replacen("Bearer ", "", 1);
    if token.is_empty() || token != st.access_token {
        return Err(Refusal::InvalidToken);
    }
    let user = headers.get("new-api-user").and_then(|v| v.to_str().ok()).unwrap_or("");
    if user.is_empty() {
        return Err(Refusal::UserMissing);
    }
    let id = atoi(user).ok_or(Refusal::UserFormat)?;
    if id != st.user_id {
        return Err(Refusal::UserMismatch);
    }
    if st.banned {
        return Err(Refusal::Banned);
    }
    if st.role < 10 {
        return Err(Refusal::NotAdmin);
    }
    Ok(())
}

/// `AdminAuth`.
pub async fn admin_auth(State(state): State<Shared>, req: Request, next: Next) -> Response {
    if let Err(r) = check(&state, req.headers()) {
        return reply::msg(r.status(), r.message(wants_chinese(req.headers())), false);
    }
    let mut resp = next.run(req).await;
    resp.headers_mut().insert("auth-version", HeaderValue::from_static("864b7076dbcd0a3c01b5520316720ebf"));
    resp
}

/// `GlobalAPIRateLimit` with the in-memory limiter's rule: a request is let
/// through when fewer than `max` were let through for this IP, or when the
/// oldest of them is at least `window` old.
pub async fn rate_limit(State(state): State<Shared>, req: Request, next: Next) -> Response {
    let ip = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "unknown".to_owned(), |c| c.0.ip().to_string());
    let allowed = {
        let mut st = state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        st.requests += 1;
        let allowed = match st.rate_limit {
            None => true,
            Some((max, window)) => {
                let now = Instant::now();
                let q = st.hits.entry(ip).or_default();
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
        };
        if !allowed {
            st.rate_limited += 1;
        }
        allowed
    };
    if allowed { next.run(req).await } else { StatusCode::TOO_MANY_REQUESTS.into_response() }
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
}
