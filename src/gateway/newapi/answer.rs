//! Reading New API's answers: `success` is checked in every envelope, since
//! several auth failures come back as HTTP 200 with `success:false`
//! (`middleware/auth.go: authHelper`), and each auth failure becomes an error
//! that says which one happened and how to fix it.

use crate::gateway::GatewayError;
use crate::gateway::http::{self, RawResponse};

use super::api::Head;

/// What gatewatch sent, so that hints can name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// Environment variable the access token comes from.
    pub credential_env: String,
    /// An `Authorization` header was sent.
    pub token: bool,
    /// The `New-Api-User` value sent, if any.
    pub user: Option<String>,
    /// Where that value comes from ("user_id in the config", "$NEW_API_USER_ID").
    pub user_source: String,
}

/// The admin-auth failures of `authHelper`, in English and Chinese (the
/// language follows `Accept-Language`; older versions and One API answer in
/// Chinese only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    NoCredential,
    InvalidToken,
    UserHeaderMissing,
    UserHeaderFormat,
    UserMismatch,
    Banned,
    NotAdmin,
}

const PATTERNS: &[(AuthFailure, &[&str])] = &[
    (AuthFailure::NoCredential, &["no access token provided", "未提供 access token", "未登录且未提供"]),
    (AuthFailure::InvalidToken, &["invalid access token", "access token 无效"]),
    (AuthFailure::UserHeaderMissing, &["new-api-user header not provided", "未提供 new-api-user"]),
    (AuthFailure::UserHeaderFormat, &["new-api-user header format error", "new-api-user 格式错误"]),
    (AuthFailure::UserMismatch, &["new-api-user does not match", "new-api-user 与登录用户不匹配"]),
    (AuthFailure::Banned, &["user has been banned", "用户已被封禁"]),
    (AuthFailure::NotAdmin, &["insufficient privileges", "权限不足"]),
];

impl AuthFailure {
    pub fn recognise(message: &str) -> Option<Self> {
        let lower = message.to_lowercase();
        PATTERNS.iter().find(|(_, pats)| pats.iter().any(|p| lower.contains(p))).map(|(f, _)| *f)
    }
}

fn user_desc(sent: &Sent) -> String {
    match &sent.user {
        Some(u) => format!("New-Api-User: {u} (from {})", sent.user_source),
        None => "no New-Api-User header".to_owned(),
    }
}

/// The error for an auth failure the server reported.
pub fn auth_error(failure: AuthFailure, status: u16, server_message: &str, sent: &Sent) -> GatewayError {
    let env = &sent.credential_env;
    let auth = |what: String, hint: String| GatewayError::Auth {
        status,
        message: format!("{what} (server: {:?})", http::first_line(server_message)),
        hint,
    };
    match failure {
        AuthFailure::NoCredential if !sent.token => GatewayError::MissingCredential { env: env.clone() },
        AuthFailure::NoCredential => auth(
            "the server received no credential although gatewatch sent one".into(),
            "a reverse proxy in front of New API drops the Authorization header: let it pass through".into(),
        ),
        AuthFailure::InvalidToken => auth(
            format!("the access token in ${env} is not valid: no user has this token"),
            format!(
                "generate a system access token in the console (Personal settings → system access token) and put it in ${env}; \
                 an sk- relay token does not work here, and generating a new token replaces the old one"
            ),
        ),
        AuthFailure::UserHeaderMissing => auth(
            "the New-Api-User header is missing".into(),
            "set user_id: <id of the token's admin user> for this gateway in gatewatch's config, or export NEW_API_USER_ID; \
             the id is in the console (Personal settings) or GET /api/user/self → data.id"
                .into(),
        ),
        AuthFailure::UserHeaderFormat => auth(
            format!("the New-Api-User header is not an integer: gatewatch sent {}", user_desc(sent)),
            format!("set {} to the numeric id of the token's admin user", sent.user_source),
        ),
        AuthFailure::UserMismatch => auth(
            format!("New-Api-User does not match the token's user: gatewatch sent {}", user_desc(sent)),
            format!(
                "the token in ${env} belongs to another user: set {} to the id of the user who generated it \
                 (console → Personal settings, or GET /api/user/self → data.id)",
                sent.user_source
            ),
        ),
        AuthFailure::Banned => auth(
            "the user the access token belongs to is banned".into(),
            format!("a root user must unban that user in the console, or put another admin's access token in ${env}"),
        ),
        AuthFailure::NotAdmin => auth(
            format!("the token's user is not an admin ({})", user_desc(sent)),
            format!(
                "the channel API needs role admin (10) or root (100): promote that user in the console, \
                 or put an admin's access token in ${env}"
            ),
        ),
    }
}

/// Known Chinese messages, in English (the original kept for searching logs).
pub fn english(message: &str) -> String {
    const KNOWN: &[(&str, &str)] = &[
        ("测试已在运行中", "a test of all channels is already running"),
        ("尚未实现", "this provider type does not support balance queries"),
        ("多密钥渠道不支持余额查询", "multi-key channels do not support balance queries"),
        ("数据库连接失败", "the gateway cannot reach its database"),
        ("渠道不存在", "no channel with this id"),
        ("需要安全验证", "secure verification (2FA or passkey) required"),
    ];
    let m = message.trim();
    match KNOWN.iter().find(|(zh, _)| m.contains(zh)) {
        Some((zh, en)) if m == *zh => format!("{en} ({zh})"),
        Some((_, en)) => format!("{en} ({m})"),
        None if m == "record not found" => "no channel with this id (record not found)".into(),
        None if m.is_empty() => "the gateway refused without a message".into(),
        None => http::first_line(m),
    }
}

/// An answer whose envelope says `success:false`.
pub fn refusal(status: u16, message: &str, sent: &Sent) -> GatewayError {
    match AuthFailure::recognise(message) {
        Some(f) => auth_error(f, status, message, sent),
        None if status == 401 || status == 403 => GatewayError::Auth {
            status,
            message: english(message),
            hint: format!("check the access token in ${} and the New-Api-User id", sent.credential_env),
        },
        None => GatewayError::Rejected { message: english(message) },
    }
}

fn head(resp: &RawResponse) -> Result<Head, GatewayError> {
    resp.json::<Head>()
}

/// Accept only an answer whose envelope says `success:true`; classify every
/// other answer (HTML pages, 429, auth failures, refusals, wrong shapes).
pub fn check(resp: RawResponse, sent: &Sent) -> Result<RawResponse, GatewayError> {
    let status = resp.status.as_u16();
    if resp.is_html() {
        return Err(GatewayError::Html { status, title: resp.html_title() });
    }
    if status == 429 {
        return Err(http::status_error(&resp));
    }
    if !resp.status.is_success() {
        return Err(match head(&resp) {
            Ok(Head { success: Some(false), message: Some(m) }) => match refusal(status, &m, sent) {
                GatewayError::Rejected { message } if status >= 400 => GatewayError::Http { status, message },
                e => e,
            },
            _ if status == 401 || status == 403 => GatewayError::Auth {
                status,
                message: http::error_message(&resp),
                hint: format!("check the access token in ${}", sent.credential_env),
            },
            _ => http::status_error(&resp),
        });
    }
    match head(&resp)? {
        Head { success: Some(true), .. } => Ok(resp),
        Head { success: Some(false), message } => Err(refusal(status, message.as_deref().unwrap_or(""), sent)),
        Head { success: None, .. } => Err(GatewayError::WrongShape {
            path: resp.path.clone(),
            detail: "no `success` field: this is not New API's admin API".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::StatusCode;
    use reqwest::header::HeaderMap;
    use std::time::Duration;

    fn sent() -> Sent {
        Sent {
            credential_env: "NEW_API_ACCESS_TOKEN".into(),
            token: true,
            user: Some("1".into()),
            user_source: "user_id in the config".into(),
        }
    }

    fn resp(status: u16, body: &str) -> RawResponse {
        RawResponse {
            status: StatusCode::from_u16(status).unwrap(),
            headers: HeaderMap::new(),
            body: body.as_bytes().to_vec(),
            elapsed: Duration::ZERO,
            path: "/api/channel/".into(),
        }
    }

    /// Every failure of fixtures/unauthorized.json, in both languages.
    #[test]
    fn every_fixture_auth_failure_is_recognised() {
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/newapi/unauthorized.json"))
                .unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let expect = [
            ("no_session_no_token", AuthFailure::NoCredential),
            ("invalid_access_token", AuthFailure::InvalidToken),
            ("missing_new_api_user", AuthFailure::UserHeaderMissing),
            ("bad_new_api_user_format", AuthFailure::UserHeaderFormat),
            ("new_api_user_mismatch", AuthFailure::UserMismatch),
            ("user_banned", AuthFailure::Banned),
            ("not_admin", AuthFailure::NotAdmin),
        ];
        for (name, failure) in expect {
            for lang in ["body", "body_zh_CN"] {
                let m = v[name][lang]["message"].as_str().unwrap();
                assert_eq!(AuthFailure::recognise(m), Some(failure), "{name} {lang}");
                let status = u16::try_from(v[name]["http_status"].as_u64().unwrap()).unwrap();
                let body = serde_json::to_string(&v[name][lang]).unwrap();
                let e = check(resp(status, &body), &sent()).unwrap_err();
                assert!(matches!(e, GatewayError::Auth { status: s, .. } if s == status), "{name} {lang}: {e:?}");
            }
        }
    }

    #[test]
    fn no_credential_without_a_token_is_missing_credential() {
        let mut s = sent();
        s.token = false;
        let body = r#"{"message":"Unauthorized, not logged in and no access token provided","success":false}"#;
        let e = check(resp(401, body), &s).unwrap_err();
        assert_eq!(e, GatewayError::MissingCredential { env: "NEW_API_ACCESS_TOKEN".into() });
    }

    #[test]
    fn hints_name_the_fix() {
        let GatewayError::Auth { message, hint, .. } =
            auth_error(AuthFailure::InvalidToken, 200, "Unauthorized, invalid access token", &sent())
        else {
            panic!()
        };
        assert!(message.contains("not valid"));
        assert!(hint.contains("system access token") && hint.contains("sk-"));
        let GatewayError::Auth { hint, message, .. } = auth_error(AuthFailure::UserMismatch, 401, "x", &sent()) else {
            panic!()
        };
        assert!(message.contains("New-Api-User: 1"));
        assert!(hint.contains("user_id in the config"));
        let GatewayError::Auth { hint, .. } = auth_error(AuthFailure::NotAdmin, 200, "x", &sent()) else { panic!() };
        assert!(hint.contains("admin (10)"));
    }

    #[test]
    fn other_refusals_are_rejected_in_english() {
        let e = check(resp(200, r#"{"message":"尚未实现","success":false}"#), &sent()).unwrap_err();
        assert_eq!(
            e,
            GatewayError::Rejected {
                message: "this provider type does not support balance queries (尚未实现)".into()
            }
        );
        let e = check(resp(200, r#"{"success":false,"message":"测试已在运行中"}"#), &sent()).unwrap_err();
        assert!(e.to_string().starts_with("a test of all channels is already running"));
    }

    #[test]
    fn shapes_and_statuses() {
        assert!(check(resp(200, r#"{"success":true,"message":"","data":1}"#), &sent()).is_ok());
        assert!(matches!(check(resp(200, r#"{"data":1}"#), &sent()), Err(GatewayError::WrongShape { .. })));
        assert!(matches!(check(resp(200, "oops"), &sent()), Err(GatewayError::Garbage { .. })));
        assert!(matches!(check(resp(200, r#"{"success":tr"#), &sent()), Err(GatewayError::Truncated { .. })));
        assert!(matches!(check(resp(429, ""), &sent()), Err(GatewayError::RateLimited { .. })));
        assert!(matches!(check(resp(404, "404 page not found"), &sent()), Err(GatewayError::NotFound { .. })));
        let e = check(resp(503, r#"{"message":"数据库连接失败","success":false}"#), &sent()).unwrap_err();
        assert!(matches!(e, GatewayError::Http { status: 503, ref message } if message.contains("database")));
        let e = check(resp(401, r#"{"error":"nope"}"#), &sent()).unwrap_err();
        assert!(matches!(e, GatewayError::Auth { status: 401, .. }));
    }
}
