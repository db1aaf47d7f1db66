//! Users, sessions and the first-start setup of the simulated server
//! (controller/setup.go, controller/user.go at new-api 9f8a4ec), shaped like
//! the real captures: a fresh database has no user and `setup: false`;
//! `POST /api/setup` (no authentication) creates root; login sets a
//! `session` cookie; `GET /api/user/token` (session + `New-Api-User`) mints
//! the user's one access token, replacing the last.

use axum::Extension;
use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::guard::Caller;
use super::{NewApiState, Shared, lock, reply};

/// One user (`model.User`, the fields the simulated routes use).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimUser {
    pub id: i64,
    pub username: String,
    pub password: String,
    pub display_name: String,
    /// 1 common, 10 admin, 100 root.
    pub role: i64,
    /// 1 enabled, 2 banned.
    pub status: i64,
    pub group: String,
    pub quota: i64,
    pub access_token: Option<String>,
    pub aff_code: String,
    pub setting: String,
    pub sidebar_modules: String,
}

impl SimUser {
    /// The root user `POST /api/setup` creates.
    pub fn root(id: i64, username: &str, password: &str) -> Self {
        Self {
            id,
            username: username.to_owned(),
            password: password.to_owned(),
            display_name: "Root User".to_owned(),
            role: 100,
            status: 1,
            group: "default".to_owned(),
            quota: 100_000_000,
            access_token: None,
            aff_code: String::new(),
            setting: String::new(),
            sidebar_modules: String::new(),
        }
    }

    /// A common user registered through the console.
    pub fn common(id: i64, username: &str, password: &str) -> Self {
        let sidebar = r#"{"chat":{"chat":true,"enabled":true,"playground":true},"console":{"detail":true,"enabled":true,"log":true,"midjourney":true,"task":true,"token":true},"personal":{"enabled":true,"personal":true,"topup":true}}"#;
        Self {
            display_name: username.to_owned(),
            role: 1,
            quota: 0,
            aff_code: format!("a{id:03}"),
            setting: json!({"gotify_priority": 0, "sidebar_modules": sidebar}).to_string(),
            sidebar_modules: sidebar.to_owned(),
            ..Self::root(id, username, password)
        }
    }
}

/// What a login stores in the session cookie (read back as it was then:
/// a user banned later keeps a working session, as on the real server).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub user_id: i64,
    pub role: i64,
    pub status: i64,
}

/// `GET /api/setup`.
pub async fn setup_get(State(state): State<Shared>) -> Response {
    let st = lock(&state);
    let data = if st.setup {
        json!({"status": true, "root_init": false, "database_type": ""})
    } else {
        json!({"status": false, "root_init": st.users.iter().any(|u| u.role >= 100), "database_type": "sqlite"})
    };
    // gin.H{"success", "data"} (no message), struct fields in order.
    reply::json(StatusCode::OK, &SetupAnswer { data: Ordered(data), success: true })
}

#[derive(Serialize)]
struct SetupAnswer {
    data: Ordered,
    success: bool,
}

/// `controller.Setup` keeps struct order: status, root_init, database_type.
struct Ordered(serde_json::Value);

impl Serialize for Ordered {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Setup", 3)?;
        st.serialize_field("status", &self.0["status"])?;
        st.serialize_field("root_init", &self.0["root_init"])?;
        st.serialize_field("database_type", &self.0["database_type"])?;
        st.end()
    }
}

#[derive(Deserialize)]
pub struct SetupRequest {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default, rename = "confirmPassword")]
    confirm_password: String,
}

/// `POST /api/setup`: no authentication; the first caller becomes root.
pub async fn setup_post(State(state): State<Shared>, body: axum::body::Bytes) -> Response {
    let mut st = lock(&state);
    if st.setup {
        return reply::msg(StatusCode::BAD_REQUEST, "系统已经初始化完成", false);
    }
    let Ok(req) = serde_json::from_slice::<SetupRequest>(&body) else {
        return reply::msg(StatusCode::BAD_REQUEST, "请求参数有误", false);
    };
    if !st.users.iter().any(|u| u.role >= 100) {
        if req.password != req.confirm_password {
            return reply::msg(StatusCode::BAD_REQUEST, "两次输入的密码不一致", false);
        }
        if req.password.chars().count() < 8 {
            return reply::msg(StatusCode::BAD_REQUEST, "密码长度至少为8个字符", false);
        }
        if req.username.is_empty() || req.username.chars().count() > 12 {
            return reply::msg(StatusCode::BAD_REQUEST, "用户名长度不能超过12个字符", false);
        }
        let id = st.users.iter().map(|u| u.id).max().unwrap_or(0) + 1;
        st.users.push(SimUser::root(id, &req.username, &req.password));
    }
    st.setup = true;
    reply::msg(StatusCode::OK, "系统初始化成功", true)
}

#[derive(Deserialize)]
pub struct LoginRequest {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

#[derive(Serialize)]
struct LoginData<'a> {
    display_name: &'a str,
    group: &'a str,
    id: i64,
    role: i64,
    status: i64,
    username: &'a str,
}

/// `POST /api/user/login`: a wrong password and a banned user get the same
/// answer (HTTP 200, `success:false`).
pub async fn login(State(state): State<Shared>, body: axum::body::Bytes) -> Response {
    let Ok(req) = serde_json::from_slice::<LoginRequest>(&body) else {
        return reply::api_error("Invalid parameters");
    };
    if req.username.is_empty() || req.password.is_empty() {
        return reply::api_error("Invalid parameters");
    }
    let mut st = lock(&state);
    let Some(user) =
        st.users.iter().find(|u| u.username == req.username && u.password == req.password && u.status == 1).cloned()
    else {
        return reply::api_error("Username or password is incorrect, or user has been banned");
    };
    st.next_session += 1;
    let sid = format!("sim-session-{:06}", st.next_session);
    st.sessions.insert(sid.clone(), Session { user_id: user.id, role: user.role, status: user.status });
    let data = LoginData {
        display_name: &user.display_name,
        group: &user.group,
        id: user.id,
        role: user.role,
        status: user.status,
        username: &user.username,
    };
    let mut resp = reply::data(data);
    let cookie = format!(
        "session={sid}; Path=/; Expires={}; Max-Age=2592000; HttpOnly; SameSite=Strict",
        super::http_date(super::unix_now() + 2_592_000)
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().insert(SET_COOKIE, v);
    }
    resp
}

/// `GET /api/user/token`: a new 32-character access token for the caller.
pub async fn token(State(state): State<Shared>, Extension(caller): Extension<Caller>) -> Response {
    let mut st = lock(&state);
    st.next_session += 1;
    let token = format!("simtoken{:024}", st.next_session);
    let Some(user) = st.users.iter_mut().find(|u| u.id == caller.id) else {
        return reply::api_error("record not found");
    };
    user.access_token = Some(token.clone());
    reply::data(token)
}

/// `GET /api/user/self` (`calculateUserPermissions` by role).
pub async fn self_(State(state): State<Shared>, Extension(caller): Extension<Caller>) -> Response {
    let st = lock(&state);
    let Some(u) = st.users.iter().find(|u| u.id == caller.id) else {
        return reply::api_error("record not found");
    };
    let permissions = match caller.role {
        100.. => json!({"sidebar_modules": {}, "sidebar_settings": false}),
        10..=99 => json!({"sidebar_modules": {"admin": {"setting": false}}, "sidebar_settings": true}),
        _ => json!({"sidebar_modules": {"admin": false}, "sidebar_settings": true}),
    };
    // A Go map: keys sorted.
    let data = json!({
        "aff_code": u.aff_code, "aff_count": 0, "aff_history_quota": 0, "aff_quota": 0,
        "discord_id": "", "display_name": u.display_name, "email": "", "github_id": "",
        "group": u.group, "id": u.id, "inviter_id": 0, "linux_do_id": "", "oidc_id": "",
        "permissions": permissions, "quota": u.quota, "request_count": 0, "role": u.role,
        "setting": u.setting, "sidebar_modules": u.sidebar_modules, "status": u.status,
        "stripe_customer": "", "telegram_id": "", "used_quota": 0, "username": u.username, "wechat_id": ""
    });
    reply::data(data)
}

impl NewApiState {
    /// The user whose access token and id gatewatch uses (the demo's root).
    pub fn admin_mut(&mut self) -> Option<&mut SimUser> {
        let id = self.user_id;
        self.users.iter_mut().find(|u| u.id == id)
    }
}
