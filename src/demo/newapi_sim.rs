//! A simulated New API server (axum) for `gatewatch demo` and the tests.
//!
//! It answers the routes gatewatch uses — and the ones a real server was
//! driven through when it was captured (tests/fixtures/newapi/real) — with
//! the JSON new-api 9f8a4ec produces: the same status, content type, field
//! names, key order and value types as the captures, which a test replays
//! one by one. Behind the same middleware: the per-IP limits (an empty 429),
//! and admin auth by session or access token with every failure's real
//! HTTP status (several are HTTP 200 with `success:false`). A fresh state
//! has no user and `setup: false`, as a fresh real database. Keys are never
//! returned. Channel tests are deterministic per channel and never change
//! a channel's status.
//!
//! Not simulated: multi-key management, relaying, 2FA, search's tag mode.

pub mod captured;
mod channels;
mod edit;
mod guard;
mod logs;
pub mod model;
mod reply;
pub mod scenario;
mod status;
pub mod users;
mod web;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use axum::Router;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post, put};
use tokio_util::sync::CancellationToken;

pub use logs::SimErrorLog;
pub use model::{SimBehaviour, SimChannel, SimChannelInfo};
pub use users::{Session, SimUser};

/// The fake credentials of the demo server (obviously not real).
pub const DEMO_ACCESS_TOKEN: &str = "demo-newapi-access-token-0000";
pub const DEMO_USER_ID: i64 = 1;

/// Everything the simulated server knows.
#[derive(Debug)]
pub struct NewApiState {
    pub channels: Vec<SimChannel>,
    pub users: Vec<SimUser>,
    /// Logged-in sessions by cookie value.
    pub sessions: HashMap<String, Session>,
    pub next_session: u64,
    /// `constant.Setup`: the root account exists (`/api/status` → `setup`).
    pub setup: bool,
    /// The id of the user gatewatch's token belongs to (see [`NewApiState::admin_mut`]).
    pub user_id: i64,
    /// `GLOBAL_API_RATE_LIMIT` per `GLOBAL_API_RATE_LIMIT_DURATION`, per IP; `None` = off.
    pub rate_limit: Option<(u32, Duration)>,
    /// `CRITICAL_RATE_LIMIT` (login, key reveal): 20 per 20 min by default.
    pub critical_rate_limit: Option<(u32, Duration)>,
    /// `GLOBAL_WEB_RATE_LIMIT` (the console): 60 per 180 s by default.
    pub web_rate_limit: Option<(u32, Duration)>,
    pub version: String,
    pub start_time: i64,
    /// `GET /api/status/test` answers 503 `数据库连接失败`.
    pub db_down: bool,
    /// The web console answers at `/` (the real binary embeds it).
    pub console: bool,
    /// `AutomaticDisableChannelEnabled` (default off, as upstream).
    pub auto_disable_enabled: bool,
    /// `AutomaticEnableChannelEnabled` (default off, as upstream).
    pub auto_enable_enabled: bool,
    /// How long a "test all" run counts as running.
    pub test_all_duration: Duration,
    /// Requests that reached the server (429s included).
    pub requests: u64,
    /// Requests answered 429.
    pub rate_limited: u64,
    /// The type-5 error log, newest first (empty = ERROR_LOG_ENABLED off).
    pub error_logs: Vec<SimErrorLog>,
    /// The consume log (type 2: requests that succeeded), newest first.
    pub consume_logs: Vec<SimErrorLog>,
    hits: HashMap<String, VecDeque<Instant>>,
    test_all_until: Option<Instant>,
}

impl NewApiState {
    /// A fresh database: no user, `setup: false`, no channel.
    pub fn fresh() -> Self {
        Self {
            channels: Vec::new(),
            users: Vec::new(),
            sessions: HashMap::new(),
            next_session: 0,
            setup: false,
            user_id: DEMO_USER_ID,
            rate_limit: Some((180, Duration::from_secs(180))),
            critical_rate_limit: Some((20, Duration::from_secs(20 * 60))),
            web_rate_limit: Some((60, Duration::from_secs(180))),
            version: "v0.9.0-sim".to_owned(),
            start_time: unix_now(),
            db_down: false,
            console: true,
            auto_disable_enabled: false,
            auto_enable_enabled: false,
            test_all_duration: Duration::from_secs(5),
            requests: 0,
            rate_limited: 0,
            error_logs: Vec::new(),
            consume_logs: Vec::new(),
            hits: HashMap::new(),
            test_all_until: None,
        }
    }

    /// Set up, with root (id 1) holding the demo access token.
    fn base(channels: Vec<SimChannel>, start_time: i64) -> Self {
        let mut root = SimUser::root(DEMO_USER_ID, "root", "demo-root-password");
        root.access_token = Some(DEMO_ACCESS_TOKEN.to_owned());
        Self { channels, users: vec![root], setup: true, start_time, ..Self::fresh() }
    }

    /// The staged incident ([`scenario::demo`]), started three hours ago.
    pub fn demo() -> Self {
        let now = unix_now();
        let mut s = Self::base(scenario::demo(now), now - 3 * 3600);
        s.error_logs = scenario::error_logs(now);
        s.consume_logs = scenario::consume_logs(now);
        s
    }

    /// `n` deterministic channels for scale tests ([`scenario::many`]).
    pub fn with_channels(n: usize) -> Self {
        Self::base(scenario::many(n), 1_777_300_000)
    }

    pub fn channel(&self, id: i64) -> Option<&SimChannel> {
        self.channels.iter().find(|c| c.id == id)
    }
}

/// The state the handlers share. The lock is never held across an `.await`.
pub type Shared = Arc<Mutex<NewApiState>>;

fn lock(state: &Shared) -> MutexGuard<'_, NewApiState> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Go's `time.Now().Format` as the request id starts with it: `20261201100837`.
fn request_time() -> String {
    let now = time::OffsetDateTime::now_utc();
    let f = time::macros::format_description!("[year][month][day][hour][minute][second]");
    now.format(f).unwrap_or_default()
}

/// An HTTP date (`Thu, 31 Dec 2026 10:08:39 GMT`) for a unix time.
fn http_date(unix: i64) -> String {
    let f = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    time::OffsetDateTime::from_unix_timestamp(unix).ok().and_then(|t| t.format(f).ok()).unwrap_or_default()
}

/// The routes. Serve with `into_make_service_with_connect_info::<SocketAddr>`
/// for a per-client rate limit (without it every client shares one budget).
pub fn router(state: Shared) -> Router {
    let user = Router::new()
        .route("/api/user/self", get(users::self_))
        .route("/api/user/token", get(users::token))
        .route_layer(from_fn_with_state(state.clone(), guard::user_auth));
    let admin = Router::new()
        .route("/api/status/test", get(status::status_test))
        .route("/api/channel/", get(channels::list).put(channels::update).post(edit::add))
        .route("/api/channel/batch", post(edit::batch_delete))
        .route("/api/channel/search", get(channels::search))
        .route("/api/channel/test", get(channels::test_all))
        .route("/api/channel/test/{id}", get(channels::test_one))
        .route("/api/channel/update_balance", get(channels::update_all))
        .route("/api/channel/update_balance/{id}", get(channels::update_one))
        .route("/api/channel/{id}", get(channels::get_one))
        .route("/api/log/", get(logs::list))
        .route_layer(from_fn_with_state(state.clone(), guard::admin_auth));
    let root = Router::new()
        .route("/api/option/", put(edit::option))
        .route("/api/channel/{id}/key", post(edit::reveal_key))
        .route_layer(from_fn_with_state(state.clone(), guard::root_auth));
    Router::new()
        .route("/api/status", get(status::status))
        .route("/api/setup", get(users::setup_get).post(users::setup_post))
        .route("/api/user/login", post(users::login))
        .merge(user)
        .merge(admin)
        .merge(root)
        .fallback(web::fallback)
        .layer(from_fn_with_state(state.clone(), guard::rate_limit))
        .layer(from_fn_with_state(state.clone(), guard::headers))
        .with_state(state)
}

/// Serve on 127.0.0.1 (a free port) until `cancel` fires.
pub async fn serve(state: Shared, cancel: CancellationToken) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move {
        let result = axum::serve(listener, app).with_graceful_shutdown(cancel.cancelled_owned()).await;
        if let Err(e) = result {
            tracing::warn!(error = %e, "simulated New API server stopped");
        }
    });
    Ok(addr)
}
